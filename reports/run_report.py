"""The sections of a run's report: summary table, latency CDF, speedups, episode timeline."""

from dataclasses import replace
from pathlib import Path

from rtsim.reports.document import Figure, Section
from rtsim.reports.episode import chosen_episode, episode_events, spread, telling_turn
from rtsim.reports.inputs import RunInput
from rtsim.reports.run_plots import latency_cdf, speedup_chart
from rtsim.reports.style import save
from rtsim.reports.summary_tables import run_table
from rtsim.reports.timeline_section import remove_stale, timeline_figures
from rtsim.text import count

CDF_TEXT = ("Each curve is the share of turns (all episodes and seeds) answered within the "
            "time on the x axis, counted from the end of the user's speech to the complete "
            "answer text. Further left is faster; the circle marks the median (p50), the "
            "triangle the 90th percentile (p90).")
SPEEDUP_TEXT = ("Mean sync turn latency divided by the policy's mean turn latency over the same "
                "turns and seeds; the bars are 95% intervals from a paired bootstrap over "
                "episodes. Right of the dashed line at 1 the policy is faster than sync.")
TIMELINE_TEXT = (
    "One panel per policy, the same turn of the same episode with the same random draws; time "
    "runs from the moment the user starts speaking, so the panels line up. Lanes: the user "
    "speaking (triangles: partial transcripts the agent receives; dotted line: the endpoint, "
    "when the turn counts as over), the model's request set-up (network round trip and "
    "request overhead), reading (prefill) and writing (decode) coloured by what the request "
    "is for, one lane per tool call attempt, and the agent speaking the answer. Dotted tool "
    "bars are speculative calls started before the endpoint; red cross-hatched bars are "
    "wasted work (a discarded guess); a black tick ends work that was stopped or cancelled; a "
    "red X marks when a result was discarded. Very short bars are widened to stay visible.")


def run_document(run: RunInput, out: Path, episode: str | None, replication: int):
    """Title, intro lines, sections and written figure paths of a run's report."""
    summary, turns = run.summary, run.turns
    policies = [p for p in summary["policies"] if p in set(turns.policy)]
    chosen = chosen_episode(turns, episode, replication)
    rows, note = episode_events(run, chosen, replication)  # fails before anything is written
    paths = save(latency_cdf(turns, policies), out, "latency-cdf")
    sections = [Section("Summary", ("Latencies in seconds from the end of the user's speech; "
                                    "first audio adds the text-to-speech delay.",),
                        run_table(summary)),
                Section("Turn-latency distribution", (CDF_TEXT,),
                        figures=(Figure("latency-cdf", "Turn-latency CDF per policy"),))]
    speedups = [(p, e["speedup_vs_sync"]["mean"], *e["speedup_vs_sync"]["ci95"])
                for p, e in summary["policies"].items() if e.get("speedup_vs_sync")]
    if speedups:
        paths += save(speedup_chart(speedups, policies), out, "speedup")
        sections.append(Section("Speedup vs sync", (SPEEDUP_TEXT,),
                                figures=(Figure("speedup", "Speedup vs sync, 95% CI"),)))
    why = ("chosen as the multi-call episode whose speedup is closest to the run's "
           "(`--episode ID` picks another)" if episode is None else "given by --episode")
    if rows is None:
        remove_stale(out)
        sections.append(Section("Episode timeline", (f"Left out: {note}.",),
                                skipped=f"left out the episode timeline: {note}"))
    else:
        timeline, figure_paths = _timeline_section(rows, out, chosen,
                                                   f"replication {replication}: {why}; {note}")
        sections.append(timeline)
        paths += figure_paths
    title = f"rtsim report: run of {summary.get('scenario', '?')} on {summary.get('traces', '?')}"
    intro = (f"Scenario `{summary.get('scenario', '?')}`, traces `{summary.get('traces', '?')}` "
             f"({count(summary.get('episodes', '?'), 'episode')}), "
             f"seeds {summary.get('seeds', '?')}, root seed {summary.get('seed', '?')}; "
             f"policies {', '.join(policies)}. "
             f"Source: `{run.folder}`.",)
    return title, intro, sections, paths


def _timeline_section(rows: dict, out: Path, episode: str,
                      source: str) -> tuple[Section, list[Path]]:
    turn, latencies = telling_turn(rows)
    figures, paths = timeline_figures(rows, out, episode, "per policy", first=turn)
    if round(spread(latencies.values()), 2) > 0:
        figures = (replace(figures[0], caption=f"{figures[0].caption}: the turn where the "
                           "policies differ most"), *figures[1:])
    text = (f"Episode `{episode}`, {source}.", lead_text(turn, latencies, len(figures)),
            TIMELINE_TEXT)
    return Section(f"Episode timeline: {episode}", text, figures=figures), paths


def lead_text(turn: int, latencies: dict[str, float], turns: int) -> str:
    """Why the timeline starts with `turn` (0-based): its turn latency per policy."""
    gap = spread(latencies.values())
    if round(gap, 2) == 0:
        return ("The policies' turn latencies agree to 0.01 s on every turn of this episode; "
                "the turns are in order.")
    each = ", ".join(f"{p} {s:.2f} s" for p, s in latencies.items())
    rest = "; the other turns follow in order" if turns > 1 else ""
    return (f"Turn {turn + 1} comes first: there the policies differ most (turn latency "
            f"{each}; {gap:.2f} s between the slowest and the fastest){rest}.")
