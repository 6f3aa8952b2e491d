"""`rtsim check`: run episodes for real and in simulation; compare latencies and speedups."""

import asyncio
import contextlib
import json
from pathlib import Path

import click

from rtsim.analysis.fidelity import call_arguments, check_table, compare, paired, verdict
from rtsim.cli.common import BadInput, check_backend, require_real_extra, split_names, user_errors
from rtsim.engine.runner import check_policies, simulate_runs
from rtsim.errors import InputError
from rtsim.files.atomic import write_atomic
from rtsim.files.results import table_bytes
from rtsim.real import calibrate as measure
from rtsim.real import profile as profiles
from rtsim.real.backend.errors import BackendError
from rtsim.real.check_folder import load_runs, record_measured, save_run, tables
from rtsim.real.episodes import run_episodes
from rtsim.scenario.schema import load_scenario, read_scenario_yaml
from rtsim.traces.sets import load_trace_set

NO_PLAYBACK = ["tts.words_per_minute=1000000", "user.think_time=0"]


class Incomplete(click.ClickException):
    """Some episodes failed: the results are written but incomplete (exit 1)."""

    exit_code = 1


def _prepare_out(out: Path, resume: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file")
    if resume and not (out / "profile.yaml").is_file():
        raise InputError(f"--resume: {out} holds no earlier check (no profile.yaml)")
    if not resume and out.exists() and any(out.iterdir()):
        raise InputError(f"--out {out}: holds an earlier check; pass --resume to continue "
                         "it, or choose another --out")


async def _calibrated(backend, out: Path, base: str, quick: bool, echo) -> Path:
    raw, label = read_scenario_yaml(base)
    cal = await measure.calibrate(backend, measure.QUICK if quick else measure.CHECK, echo)
    path = out / "profile.yaml"
    write_atomic(path, profiles.profile_yaml(cal, raw, label, f"{raw.get('name', base)}-check"))
    for line in profiles.fit_lines(cal):
        echo(f"  {line}")
    return path


async def _measure(url, model, api_key_env, opts, echo):
    from rtsim.real.backend.client import Backend

    async with Backend(url, model or "", api_key_env, retries=2) as backend:
        await backend.pick_model()
        out = opts["out"]
        profile = opts["profile"] or (out / "profile.yaml" if opts["resume"] else None)
        if profile is None:
            echo(f"calibrating {backend.base_url} (model {backend.model})")
            profile = await _calibrated(backend, out, opts["base"], opts["quick"], echo)
        scenario = load_scenario(str(profile), opts["overrides"])
        episodes = load_trace_set(scenario.traces)[:opts["episodes"]]
        earlier = [r for r in load_runs(out) if r.rows is not None]
        skip = frozenset((r.policy, r.episode) for r in earlier)

        def done(run):
            save_run(out, run)
            state = f"FAILED: {run.error}" if run.error else \
                f"{sum(1 for r in run.rows if r.event == 'turn_end')} turns"
            echo(f"  {run.episode:<24} {run.policy:<12} {run.seconds:6.1f} s  {state}")

        echo(f"measuring {len(episodes)} episodes x {len(opts['policies'])} policies "
             f"for real" + (f" ({len(skip)} runs done already)" if skip else ""))
        runs = earlier + await run_episodes(scenario, list(enumerate(episodes)),
                                            opts["policies"], backend, done, skip,
                                            forced_calls=opts["calls"] == "forced")
        return scenario, episodes, runs, backend.base_url, backend.model


def _report(out, scenario, episodes, runs, policies, url, model) -> dict:
    ok = [(r.policy, r.episode, r.rows) for r in runs if r.rows is not None]
    failed = [{"policy": r.policy, "episode": r.episode, "error": r.error}
              for r in runs if r.rows is None]
    real_turns, real_events = tables(ok)
    sim_runs = simulate_runs(scenario, list(enumerate(episodes)), policies)
    sim_turns, sim_events = tables(sim_runs)
    for name, df in (("real_turns", real_turns), ("real_events", real_events),
                     ("sim_turns", sim_turns), ("sim_events", sim_events)):
        write_atomic(out / f"{name}.csv", table_bytes(df, "csv"))
    record_measured(out / "measured.jsonl", scenario, episodes, runs)
    both = paired(real_turns, sim_turns, policies)
    result = compare(both, policies)
    report = {"backend": url, "model": model, "scenario": scenario.name,
              "traces": scenario.traces, "episodes": [e.id for e in episodes],
              "compared_episodes": sorted(set(both.episode)), "policies": result,
              "call_arguments": call_arguments(real_events),
              "fidelity": verdict(result), "failures": failed, "complete": not failed}
    write_atomic(out / "check.json", json.dumps(report, indent=2) + "\n")
    return report


@click.command("check")
@click.option("--backend", "-b", default="embedded", show_default=True,
              help="'embedded' (SmolLM2-135M, started here) or an OpenAI-compatible base URL.")
@click.option("--model", "-m", default=None, help="Model name [default: the server's first].")
@click.option("--api-key-env", default=None, metavar="VAR",
              help="Environment variable holding the API key (never written anywhere).")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Embedded server threads [default: all cores but one].")
@click.option("--scenario", "-s", "base", default="edge-3b", show_default=True,
              help="Scenario to calibrate from (speech, tools, TTS come from it).")
@click.option("--profile", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A profile from `rtsim calibrate` instead of calibrating now.")
@click.option("--traces", "-t", default=None, help="Trace set [default: the scenario's].")
@click.option("--policies", "-p", default="sync,async,speculative", show_default=True,
              help="Comma-separated policies.")
@click.option("--episodes", "-n", type=click.IntRange(min=1), default=3, show_default=True,
              help="How many episodes of the trace set (from the first).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a scenario value for both runs (repeatable).")
@click.option("--keep-playback", is_flag=True,
              help="Wait out speech output and think time between turns (slower).")
@click.option("--quick-calibration", is_flag=True,
              help="Calibrate with the fewest points, one repeat (a smoke test).")
@click.option("--calls", type=click.Choice(["exact", "forced"]), default="exact",
              show_default=True,
              help="exact: calls are free text of the trace's length; forced: a request "
                   "writing one call forces it to the tool's schema and records whether "
                   "the arguments match the trace's.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              default=Path("runs/check"), show_default=True, help="Folder for the results.")
@click.option("--resume", is_flag=True, help="Continue the check in --out.")
def check_command(backend, model, api_key_env, threads, base, profile, traces, policies, episodes,
          overrides, keep_playback, quick_calibration, calls, out, resume):
    """Run episodes on a real model and in simulation; compare latencies and speedups.

    Calibrates the backend (or takes --profile), plays the first episodes of the trace
    set for real under each policy (speech, transcripts, tools and speech output emulated
    in real time from the same draws the simulator uses; the model called for real),
    simulates the same episodes with the calibrated profile, and writes check.json with
    measured and simulated latencies, their errors and the speedups vs sync.

    \b
    Examples:
      rtsim check                                  # the embedded model, about 5 minutes
      rtsim check -b http://127.0.0.1:8000/v1 -n 10 --out runs/vllm-check
      rtsim report runs/check
    """
    echo = click.echo
    with user_errors():
        names = check_policies(split_names(policies))
        check_backend(backend)
        _prepare_out(out, resume)
        require_real_extra()
        extra = ([] if keep_playback else NO_PLAYBACK) + [f"traces={traces}"] * bool(traces)
        opts = {"out": out, "profile": profile, "resume": resume, "base": base,
                "quick": quick_calibration, "overrides": extra + list(overrides),
                "episodes": episodes, "policies": names, "calls": calls}
        load_scenario(str(profile) if profile else base, opts["overrides"])
    try:
        with _server(backend, threads) as (url, server_model):
            scenario, eps, runs, url, model = asyncio.run(
                _measure(url, model or server_model, api_key_env, opts, echo))
    except BackendError as exc:
        raise click.ClickException(str(exc)) from None
    except InputError as exc:
        raise BadInput(str(exc)) from None
    report = _report(out, scenario, eps, runs, names, url, model)
    echo("")
    echo(check_table(report["policies"]))
    fid = report["fidelity"]
    if fid["speedup_error_max"] is not None:
        echo(f"\nworst speedup error {fid['speedup_error_max']:.1%} (target 10%), worst MAPE "
             f"{fid['mape_max']:.1%} (target 15%): "
             f"{'within' if fid['passed'] else 'OUTSIDE'} the fidelity targets")
    for policy, c in report["call_arguments"].items():
        echo(f"{policy}: {c['match']} of {c['forced']} forced calls wrote the trace's arguments")
    echo(f"wrote {out / 'check.json'}")
    if not report["complete"]:
        raise Incomplete(f"{len(report['failures'])} runs failed (see check.json); "
                         "rerun with --resume to measure them again")


@contextlib.contextmanager
def _server(backend: str, threads: int | None):
    """(base URL, model name or None): the embedded server started here, or the given URL."""
    if backend != "embedded":
        yield backend, None
        return
    from rtsim.real.backend.embedded import EmbeddedServer

    click.echo("starting the embedded model server")
    with EmbeddedServer(threads=threads) as server:
        yield server.base_url, server.model
