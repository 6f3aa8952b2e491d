"""Regenerate the figures the docs quote, by the commands the docs name next to them.

Run from the repository: python docs/figures.py [SECTION ...] [--images] [--data DIR]
Sections (default: all): importers (docs/importers.md, README's trace table), load (README's
load study, docs/report.md), sweep (README's worked sweep), timeline (README's timeline,
docs/report.md's example), tradeoff (README's turn-taking example), targets
(docs/targets.md's example). Each runs its commands in
a scratch folder with the default token estimate (RTSIM_TOKENIZER=estimate, as the docs'
figures are) and prints the figures with where they are quoted. `--images` also copies the
README's plots into docs/images. The trace sets need bfcl-eval (and mpmath for --execute)
and the reference data of ../shared/data (see its README); sets whose data is missing are
skipped with a note. All sections take about 5 minutes on 2 cores.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "RTSIM_TOKENIZER": "estimate"}
BFCL = ("multi_turn_base", "multi_turn_long_context", "multi_turn_miss_param",
        "multi_turn_miss_func")


def rtsim(*args: str, cwd: Path, check: bool = True) -> str:
    """Run `rtsim ARGS` in `cwd`; its stdout. The command is echoed as the docs quote it."""
    print(f"$ rtsim {' '.join(args)}", file=sys.stderr)
    done = subprocess.run([sys.executable, "-m", "rtsim", *args], cwd=cwd, env=ENV, text=True,
                          capture_output=True)
    if check and done.returncode != 0:
        raise SystemExit(f"rtsim {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def trace_sets(data: Path) -> list[tuple[str, list[str], str]]:
    """(label, import command, trace file) of each measured set whose source is here."""
    sets = []
    if _has_bfcl():
        for category in BFCL:
            short = category.removeprefix("multi_turn_")
            sets.append((f"BFCL {category}", ["traces", "import", "bfcl", "--category",
                                              category], f"traces/bfcl-{category}.jsonl"))
            sets.append((f"BFCL {category} `--execute`",
                         ["traces", "import", "bfcl", "--category", category, "--execute",
                          "--out", f"traces/bfcl-{short}-exec.jsonl"],
                         f"traces/bfcl-{short}-exec.jsonl"))
    else:
        print("note: bfcl-eval is not installed (pip install --no-deps bfcl-eval): no BFCL sets")
    for label, source, kind, out in (
            ("tau-bench airline (GPT-4o)", "tau-bench/gpt-4o-airline.json", "openai-messages",
             "traces/gpt-4o-airline.jsonl"),
            ("HotpotQA comparison", "llmcompiler/hotpotqa_comparison.json", "questions",
             "traces/questions-hotpotqa_comparison.jsonl"),
            ("ParallelQA", "llmcompiler/parallelqa_dataset.json", "questions",
             "traces/questions-parallelqa_dataset.jsonl")):
        if (data / source).is_file():
            sets.append((label, ["traces", "import", kind, str(data / source)], out))
        else:
            print(f"note: {data / source} is missing: no {label}")
    return sets


def _has_bfcl() -> bool:
    import importlib.util

    return importlib.util.find_spec("bfcl_eval") is not None


def output_tokens(path: Path) -> str:
    """'median / mean' output tokens per call of a trace file."""
    from rtsim.traces.schema import load_traces

    tokens = [c.output_tokens for e in load_traces(path) for t in e.turns for c in t.calls]
    return f"{statistics.median(tokens):g} / {statistics.fmean(tokens):.0f}"


def _tau_turns(source: Path) -> str:
    """User messages of the tau-bench log, those without a reply, turns ending on a result."""
    users = unanswered = on_result = 0
    for episode in json.loads(source.read_text()):
        messages = [m for m in episode["traj"] if m["role"] != "system"]
        starts = [i for i, m in enumerate(messages) if m["role"] == "user"]
        for i, end in zip(starts, starts[1:] + [len(messages)], strict=True):
            users += 1
            unanswered += end == i + 1
            on_result += end > i + 1 and messages[end - 1]["role"] == "tool"
    return (f"{users:,} user messages, {unanswered} without a reply (dropped), {on_result} "
            "turns end on a tool result")


def _composed(path: Path) -> str:
    """Calls known only at the end that carry text the model composes."""
    from rtsim.traces.schema import load_traces

    late = [c.name for e in load_traces(path) for t in e.turns for c in t.calls
            if c.known_at is None]
    composed = sum(name in ("think", "calculate", "transfer_to_human_agents") for name in late)
    return f"of the {len(late)} known only at the end, {composed} are think/calculate/transfer"


def importers(scratch: Path, data: Path) -> None:
    """docs/importers.md's table and calls-per-turn lines; README's trace table."""
    print("\ndocs/importers.md, Measured sets (`rtsim traces stats PATH --format json`):")
    print("| set | episodes | turns | calls | words/utterance mean / median | known before end "
          "| known only at end | unsafe | dependent | output tokens median / mean |")
    readme = [("built-in `assistant`", None, "assistant")]
    for label, command, path in trace_sets(data):
        rtsim(*command, cwd=scratch)
        s = json.loads(rtsim("traces", "stats", path, "--format", "json", cwd=scratch))
        words = s["words_per_utterance"]
        print(f"| {label} | {s['episodes']:,} | {s['turns']:,} | {s['calls']:,} | "
              f"{words['mean']:.1f} / {words['median']:g} | {percent(s['known_before_end'])} | "
              f"{percent(s['unknown_until_end'])} | {percent(s['unsafe'])} | "
              f"{percent(s['dependent'])} | {output_tokens(scratch / path)} |")
        print(f"  calls per turn: {s['calls_per_turn']}; steps {s['steps']}; known only at "
              f"end: {round(s['unknown_until_end'] * s['calls'])} calls")
        if "openai-messages" in command:
            print(f"  {_tau_turns(Path(command[-1]))}; {_composed(scratch / path)}")
        if "--execute" not in command and "long_context" not in path and "miss" not in path:
            readme.append((label, s, path))
    print("\nREADME, Traces (`rtsim traces stats PATH`; `rtsim run -t PATH --seeds 3`):")
    heard = []
    for label, s, path in readme:
        out, seeds = f"runs/{Path(path).stem}", "10" if path == "assistant" else "3"
        s = s or json.loads(rtsim("traces", "stats", path, "--format", "json", cwd=scratch))
        rtsim("run", "-t", path, "--seeds", seeds, "-o", out, cwd=scratch)
        speed = json.loads((scratch / out / "summary.json").read_text())["policies"]
        cells = [_speedup(speed[p]["speedup_vs_sync"]) for p in ("async", "speculative")]
        print(f"| {label} | {s['episodes']:,} | {s['turns']:,} | {s['calls']:,} | "
              f"{s['known_before_end']:.0%} | {s['unsafe']:.0%} | {cells[0]} | {cells[1]} |")
        heard.append(f"| {label} | {percent(s['unknown_until_end'])} | {cells[1]} |")
    print("\nREADME and docs/importers.md, values as heard (not in the words; speculative):")
    print("\n".join(heard))


def _speedup(entry: dict) -> str:
    return f"{entry['mean']:.2f} [{entry['ci95'][0]:.2f}, {entry['ci95'][1]:.2f}]"


def load(scratch: Path, images: bool) -> None:
    """README's load study and docs/report.md's load-curve example."""
    start = time.perf_counter()
    rtsim("sweep", "-s", "selfhosted-8b", "-g", "server.sessions=16,64,128,256,384,512",
          "--set", "server.episodes=1024", "--seeds", "1", "--out", "runs/load", "-q",
          cwd=scratch)
    took = time.perf_counter() - start
    rtsim("report", "runs/load", cwd=scratch)
    md = (scratch / "runs/load/report/report.md").read_text()
    print(f"\nREADME, Many conversations on one server (the sweep took {took:.0f} s):")
    print(re.search(r"^Load curves over .*$", md, re.M).group(0))
    results = pd.read_parquet(scratch / "runs/load/results.parquet")
    columns = ["server.sessions", "policy", "speedup", "speedup_lo", "speedup_hi",
               "wasted_tokens_per_turn", "server_mean_queue_wait", "server_utilization",
               "server_steady_utilization", "server_mean_batch", "server_steady_mean_batch",
               "server_tokens_per_s", "server_steady_tokens_per_s", "server_steady_from",
               "server_steady_to", "server_steady_too_short"]
    print("(server_X: over the whole run; server_steady_X: in steady state, docs/server.md)")
    print(results[columns].round(3).to_string(index=False))
    if images:
        _copy(scratch / "runs/load/report/load-server.sessions.png", "load-curves.png")


def sweep(scratch: Path, images: bool) -> None:
    """README's worked sweep: the heatmap's and the accuracy plot's ranges."""
    start = time.perf_counter()
    rtsim("sweep", "-g", "tools.default.latency=0.25,0.5,1,2,4", "-g",
          "turn_detection.silence=0.2:0.8:0.2", "-g", "speculation.accuracy=0.7,0.9,1.0",
          "--seeds", "3", "--out", "runs/sweep", "-q", cwd=scratch)
    took = time.perf_counter() - start
    rtsim("report", "runs/sweep", cwd=scratch)
    r = pd.read_parquet(scratch / "runs/sweep/results.parquet")
    print(f"\nREADME, Sweeps and reports (60 points, the sweep took {took:.0f} s):")
    cells = r.groupby(["policy", "tools.default.latency", "turn_detection.silence"]
                      ).speedup.mean()
    for policy in ("async", "speculative"):
        print(f"  heatmap {policy}: speedup {cells[policy].min():.2f}-{cells[policy].max():.2f}"
              f" over the cells; by tool latency (mean over the rest): "
              f"{_by(r[r.policy == policy], 'tools.default.latency')}")
    spec = r[r.policy == "speculative"]
    for accuracy in (0.7, 1.0):
        means = spec[spec["speculation.accuracy"] == accuracy].groupby(
            "tools.default.latency").speedup.mean()
        print(f"  accuracy {accuracy:g}: speculative {means.min():.2f}-{means.max():.2f} over "
              "the tool latencies (mean over silence)")
    if images:
        _copy(scratch / "runs/sweep/report/"
              "heatmap-tools.default.latency-turn_detection.silence.png", "sweep-heatmap.png")
        _copy(scratch / "runs/sweep/report/sweep-speculation.accuracy.png", "sweep-accuracy.png")


def _by(rows: pd.DataFrame, key: str) -> str:
    means = rows.groupby(key).speedup.mean()
    return ", ".join(f"{k:g}: {v:.2f}" for k, v in means.items())


def timeline(scratch: Path, images: bool) -> None:
    """README's timeline and docs/report.md's 'Turn N comes first' example."""
    rtsim("run", "--seeds", "3", cwd=scratch)
    rtsim("report", "runs/latest", cwd=scratch)
    md = (scratch / "runs/latest/report/report.md").read_text()
    lead = re.search(r"^Turn \d+ comes first: .*$", md, re.M).group(0)
    times = dict(re.findall(r"(sync|async|speculative) ([0-9.]+) s", lead))
    print("\nREADME, the timeline; docs/report.md, Which turn comes first:")
    print(f"  {re.search(r'^Episode `[^`]+`', md, re.M).group(0)}: {lead}")
    print(f"  speculative completes the answer "
          f"{float(times['sync']) - float(times['speculative']):.1f} s sooner than sync")
    if images:
        figure = re.search(r"\((timeline-turn\d+)\.png\)", md).group(1)
        _copy(scratch / f"runs/latest/report/{figure}.png", "timeline.png")


def tradeoff(scratch: Path, images: bool) -> None:
    """README's turn-taking example: latency against cut-offs along the detector's delay."""
    start = time.perf_counter()
    rtsim("sweep", "-g", "turn_detection.silence=0.2:1.2:0.1", "--common-seeds", "-o",
          "runs/tradeoff", "-q", cwd=scratch)
    took = time.perf_counter() - start
    rtsim("report", "runs/tradeoff", cwd=scratch)
    md = (scratch / "runs/tradeoff/report/report.md").read_text()
    print(f"\nREADME, Turn-taking (the sweep took {took:.0f} s):")
    print("  " + re.search(r"^Shortest .*$", md, re.M).group(0))
    if images:
        _copy(scratch / "runs/tradeoff/report/tradeoff.png", "tradeoff.png")


def targets(scratch: Path) -> None:
    """docs/targets.md's example table (tests/test_docs_figures.py checks it too)."""
    print("\ndocs/targets.md, Output:")
    print(rtsim("validate", "-p", "speculative", "--target", "speedup_vs_sync >= 1.35",
                "--target", "p90(first_audio_latency) < 4.35",
                "--target", "wasted_tokens_per_turn <= 200", cwd=scratch, check=False))


def _copy(source: Path, name: str) -> None:
    shutil.copyfile(source, ROOT / "docs" / "images" / name)
    print(f"  wrote docs/images/{name}")


SECTIONS = {
    "importers": lambda scratch, args: importers(scratch, args.data),
    "load": lambda scratch, args: load(scratch, args.images),
    "sweep": lambda scratch, args: sweep(scratch, args.images),
    "timeline": lambda scratch, args: timeline(scratch, args.images),
    "tradeoff": lambda scratch, args: tradeoff(scratch, args.images),
    "targets": lambda scratch, args: targets(scratch),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", metavar="SECTION",
                        help=f"any of {', '.join(SECTIONS)} [default: all]")
    parser.add_argument("--images", action="store_true", help="copy the plots to docs/images")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                        help="the reference data folder [default: ../shared/data]")
    args = parser.parse_args()
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {unknown[0]!r} (choose from {', '.join(SECTIONS)})")
    with tempfile.TemporaryDirectory(prefix="rtsim-figures-") as tmp:
        for section in args.sections or list(SECTIONS):
            SECTIONS[section](Path(tmp), args)


if __name__ == "__main__":
    main()
