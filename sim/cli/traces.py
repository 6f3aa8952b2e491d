"""`rtsim traces`: import benchmark data and agent logs, list, show and summarise trace sets."""

import json
from pathlib import Path

import click

from rtsim.cli.common import BadInput, user_errors
from rtsim.errors import InputError
from rtsim.text import count
from rtsim.traces import sets as tracesets
from rtsim.traces.generators.assistant import generate as generate_assistant
from rtsim.traces.importers.bfcl import CATEGORIES, import_bfcl
from rtsim.traces.importers.openai_messages import import_openai_messages
from rtsim.traces.importers.otel import import_otel
from rtsim.traces.importers.otel_sources import SOURCES
from rtsim.traces.importers.questions import import_questions
from rtsim.traces.importers.skips import refuse, summary
from rtsim.traces.schema import Episode, parse_episode, write_traces
from rtsim.traces.stats import format_stats, trace_stats


@click.group("traces")
def traces_group():
    """Import, list, show and summarise trace sets (JSON Lines, docs/trace-format.md).

    \b
    Examples:
      rtsim traces import bfcl --category multi_turn_base
      rtsim traces import openai-messages logs.json --out traces/mine.jsonl
      rtsim traces stats traces/bfcl-multi_turn_base.jsonl --format json
    """


@traces_group.group("import")
def import_group():
    """Convert benchmark data or agent logs into a trace file (rules: docs/importers.md)."""


def _out(default: str):
    """`--out FILE`, whose default the command derives from its inputs (`default` says how)."""
    return click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
                        help=f"Trace file to write [default: {default}].")


_LIMIT = click.option("--limit", type=click.IntRange(min=1), help="Import only the first N.")
_STRICT = click.option("--strict", is_flag=True,
                       help="Fail (exit 2) on the first record that would be skipped.")


@import_group.command("bfcl")
@click.option("--category", type=click.Choice(CATEGORIES), default="multi_turn_base",
              show_default=True, help="BFCL multi-turn category.")
@_LIMIT
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder laid out like bfcl_eval/data (default: the installed bfcl-eval).")
@click.option("--execute", is_flag=True,
              help="Run the ground truth in BFCL's simulators for real tool outputs "
                   "(MathAPI also needs mpmath); default: estimated sizes.")
@_STRICT
@_out("traces/bfcl-CATEGORY.jsonl")
def import_bfcl_command(category, limit, data_dir, execute, strict, out):
    """BFCL multi-turn ground truth (needs: pip install --no-deps bfcl-eval).

    Example: rtsim traces import bfcl --category multi_turn_miss_param --limit 20
    """
    with user_errors():
        imported = import_bfcl(category, limit, data_dir, execute)
        if strict and imported.skipped:
            raise InputError(imported.skipped[0])
    write_checked(imported.episodes, out or Path("traces") / f"bfcl-{category}.jsonl")
    if imported.skipped:
        click.echo(imported.skipped_summary())


@import_group.command("openai-messages")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_STRICT
@_out("traces/NAME.jsonl, NAME the input file's name without its extension")
def import_openai_command(path, strict, out):
    """Conversations in OpenAI chat format (JSON array, object or JSON Lines).

    A conversation that cannot be used is skipped and counted (--strict: an error).

    Example: rtsim traces import openai-messages gpt-4o-airline.json
    """
    skipped = None if strict else []
    with user_errors():
        rows = import_openai_messages(path, skipped)
        refuse(skipped or [], len(rows), strict=False)
    write_checked(rows, out or Path("traces") / f"{path.stem}.jsonl")
    if skipped:
        click.echo(summary(skipped, len(rows) + len(skipped), "conversation"))


@import_group.command("questions")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_LIMIT
@_STRICT
@_out("traces/questions-NAME.jsonl, NAME the input file's name without its extension")
def import_questions_command(path, limit, strict, out):
    """A question set ({id, question, answer} list): one turn of parallel searches each.

    A row that cannot be used is skipped and counted (--strict: an error).

    Example: rtsim traces import questions hotpotqa_comparison.json --limit 100
    """
    skipped = None if strict else []
    with user_errors():
        rows = import_questions(path, limit, skipped)
        refuse(skipped or [], len(rows), strict=False)
    write_checked(rows, out or Path("traces") / f"questions-{path.stem}.jsonl")
    if skipped:
        click.echo(summary(skipped, len(rows) + len(skipped), "question"))


@import_group.command("otel")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", type=click.Choice(SOURCES),
              help="Span conventions [default: detected from the spans].")
@_STRICT
@_out("traces/otel-NAME.jsonl, NAME the first input file's name without its extension")
def import_otel_command(paths, source, strict, out):
    """OpenTelemetry spans (OTLP JSON) with their measured tool latencies.

    Reads the collector's file exporter output (one JSON object a line) or one OTLP JSON
    document; GenAI semantic conventions, LiveKit Agents or Pipecat spans.

    \b
    Examples:
      rtsim traces import otel spans.jsonl
      rtsim traces import otel day1.json day2.json --source livekit --out traces/prod.jsonl
      rtsim run -t traces/prod.jsonl
    """
    with user_errors():
        imported = import_otel(list(paths), source)
        refuse(imported.skipped, len(imported.episodes), strict)
    write_checked(imported.episodes, out or Path("traces") / f"otel-{paths[0].stem}.jsonl")
    click.echo(f"read {count(imported.spans, 'span')} as {imported.source} spans")
    for line in otel_summaries(imported):
        click.echo(line)
    if imported.unmapped:
        click.echo("not mapped: " + ", ".join(
            f"{n:,} {what}" for what, n in sorted(imported.unmapped.items())))


def otel_summaries(imported) -> list[str]:
    """One line each for the spans and the conversations an otel import skipped."""
    spans = [s for s in imported.skipped if s.reason == "malformed span"]
    convs = [s for s in imported.skipped if s.reason == "with no answered user turn"]
    lines = [s for s in imported.skipped if s not in spans and s not in convs]
    out = []
    for skips, total, unit in ((lines, None, "line"), (spans, imported.spans + len(spans), "span"),
                               (convs, imported.conversations, "conversation")):
        if skips:
            out.append(summary(skips, total if total is not None else len(skips), unit))
    return out


@traces_group.command("generate")
@click.argument("generator", type=click.Choice(["assistant"]))
@click.option("--episodes", type=click.IntRange(min=1), default=36, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@_out("traces/GENERATOR-EPISODES-seedSEED.jsonl, e.g. traces/assistant-36-seed0.jsonl")
def generate_command(generator, episodes, seed, out):
    """Write a synthetic trace set: multi-step personal-assistant conversations.

    Calendar, contacts, mail, maps, reminders, weather, restaurants and smart home, with
    dependent steps and safe and unsafe tools; the same seed gives the same file (the
    built-in `assistant` set is `--episodes 36 --seed 0`).

    Example: rtsim traces generate assistant --episodes 200 --seed 3 --out traces/big.jsonl
    """
    rows = generate_assistant(episodes, seed)
    write_checked(rows, out or Path("traces") / f"{generator}-{episodes}-seed{seed}.jsonl")


def write_checked(rows: list[dict], out: Path) -> None:
    """Validate every episode, then write the file atomically and report the counts."""
    with user_errors():
        episodes = [parse_episode(row, f"episode {row.get('id')!r}") for row in rows]
        if not episodes:
            raise InputError("nothing to import: no episodes")
        write_traces(rows, out)
    stats = trace_stats(episodes)
    click.echo(f"wrote {out}: {sizes(stats)}")


def sizes(stats: dict) -> str:
    """'36 episodes, 120 turns, 176 calls' of a trace set's stats."""
    return ", ".join(count(stats[k], k[:-1]) for k in ("episodes", "turns", "calls"))


def load(name_or_path: str) -> list[Episode]:
    """A built-in trace set by name, or a trace file by path; errors as BadInput."""
    with user_errors():
        return tracesets.load_trace_set(name_or_path)


@traces_group.command("list")
def list_command():
    """Built-in trace sets, with their sizes."""
    sets = tracesets.builtin_trace_sets()
    if not sets:
        click.echo("no built-in trace sets")
        return
    width = max(len(name) for name in sets)
    for name, path in sorted(sets.items()):
        stats = trace_stats(load(str(path)))
        click.echo(f"{name:<{width}}  {sizes(stats)}")


@traces_group.command("show")
@click.argument("name_or_path")
@click.option("--episode", "episode_id", help="Show this episode in full.")
def show_command(name_or_path, episode_id):
    """An overview of a trace set, or one episode turn by turn.

    Example: rtsim traces show traces/bfcl-multi_turn_base.jsonl --episode multi_turn_base_0
    """
    episodes = load(name_or_path)
    if episode_id is None:
        click.echo("\n".join(overview_lines(episodes)))
        return
    chosen = [e for e in episodes if e.id == episode_id]
    if not chosen:
        raise BadInput(f"{name_or_path}: no episode {episode_id!r} (it has "
                       f"{count(len(episodes), 'episode')}; list them with `traces show`)")
    click.echo("\n".join(episode_lines(chosen[0])))


def overview_lines(episodes: list[Episode]) -> list[str]:
    """One line per episode: id, source, turns, calls."""
    width = max(len(e.id) for e in episodes)
    lines = [f"{'id':<{width}}  turns  calls  source"]
    for e in episodes:
        calls = sum(len(t.calls) for t in e.turns)
        lines.append(f"{e.id:<{width}}  {len(e.turns):>5}  {calls:>5}  {e.source}")
    return lines


def episode_lines(episode: Episode) -> list[str]:
    """An episode turn by turn: utterance, steps with their calls, answer size."""
    system = "scenario default" if episode.system_tokens is None else episode.system_tokens
    date = f", date {episode.date}" if episode.date else ""
    lines = [f"episode {episode.id} ({episode.source or 'no source'}), system tokens: "
             f"{system}{date}"]
    for t, turn in enumerate(episode.turns, start=1):
        lines.append(f"turn {t}: {turn.user!r} ({count(len(turn.words), 'word')})")
        for call in turn.calls:
            known = "end" if call.known_at is None else f"word {call.known_at}"
            deps = f" after {', '.join(call.depends_on)}" if call.depends_on else ""
            lines.append(f"  step {call.step + 1}  {call.id} {call.name}"
                         f"({json.dumps(call.arguments, ensure_ascii=False)}) "
                         f"{'safe' if call.safe else 'unsafe'}, known at {known}, "
                         f"{count(call.output_tokens, 'output token')}{deps}")
        lines.append(f"  answer: {count(turn.answer_tokens, 'token')}")
    return lines


@traces_group.command("stats")
@click.argument("name_or_path")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def stats_command(name_or_path, fmt):
    """Episodes, turns, calls per turn, words per utterance, known-early and safe shares.

    Example: rtsim traces stats traces/bfcl-multi_turn_base.jsonl --format json
    """
    stats = trace_stats(load(name_or_path))
    click.echo(json.dumps(stats, indent=2) if fmt == "json" else format_stats(stats))
