"""The sections of a check's report: the verdict, measured vs simulated tables and plots,
failures, and one episode's timeline measured and simulated."""

from pathlib import Path

from rtsim.analysis.fidelity import paired
from rtsim.errors import InputError, option
from rtsim.reports.check_inputs import CheckInput
from rtsim.reports.check_plots import cdf_figure, scatter_figure, speedup_figure
from rtsim.reports.check_tables import failures_table, fidelity_table, latency_table, speedup_table
from rtsim.reports.document import Figure, Section
from rtsim.reports.episode import default_episode, events_from_table
from rtsim.reports.style import save
from rtsim.reports.timeline_section import timeline_figures
from rtsim.text import count

SCATTER_TEXT = ("One dot per turn: measured latency (end of the user's speech to complete "
                "answer) across, simulated up. On the diagonal the simulation is exact; the "
                "green band is the per-turn tolerance of the check ({band:.0%}). Above the "
                "diagonal the simulation is too slow, below it too fast.")
CDF_TEXT = ("Share of turns answered within x seconds, per policy: measured solid, simulated "
            "dashed. Curves that lie on each other mean the simulation gets the whole "
            "distribution right, not only the mean.")
SPEEDUP_TEXT = ("Speedup vs sync (sum of sync turn latencies / sum of the policy's, over the "
                "same turns): measured solid, simulated hatched. The bracket is the measured "
                "speedup \u00b1{tol:.0%}: the check passes on speedup when every hatched bar ends "
                "inside its bracket.")
TIMELINE_TEXT = ("Two panels per policy, the same turn of the same episode: measured (the real "
                 "driver's events) and simulated (the calibrated profile, same draws). Lanes "
                 "and marks as in a run report (docs/report.md); differences show which step "
                 "the simulation gets wrong. The real driver times a request only from its "
                 "start to its last token (its rows give 0 s for set-up and prefill), so a "
                 "measured panel has one model lane, 'model: request (measured)', with one bar "
                 "per request coloured by what it is for, where the simulated panel splits it "
                 "into set-up, reading and writing. A lane that is empty in both panels of a "
                 "policy is left out.")


def check_document(check: CheckInput, out: Path, episode: str | None):
    """Title, intro lines, sections and written figure paths of a check's report."""
    data = check.check
    policies = [p for p in data["policies"]
                if p in set(check.real_turns.policy) and p in set(check.sim_turns.policy)]
    both = paired(check.real_turns, check.sim_turns, policies)
    if both.empty:
        raise InputError(f"{check.folder}: no episode has measured and simulated turns under "
                         "every policy")
    chosen = _episode(both, check, episode)
    panels = check_panels(check, chosen, policies) if chosen else None  # fails before writing
    fidelity = data["fidelity"]
    band, tol = fidelity["mape_tolerance"], fidelity["speedup_tolerance"]
    paths = save(scatter_figure(both, policies, band), out, "check-scatter")
    paths += save(cdf_figure(both, policies), out, "check-cdf")
    sections = [
        Section("Fidelity verdict", (_verdict(data),), fidelity_table(fidelity)),
        Section("Turn latency: measured vs simulated",
                ("Seconds; error = (simulated - measured) / measured; MAPE: mean over turns "
                 "of |error|.",), latency_table(data["policies"])),
        Section("Per-turn scatter", (SCATTER_TEXT.format(band=band),),
                figures=(Figure("check-scatter", "Simulated vs measured, per turn"),)),
        Section("Turn-latency distributions", (CDF_TEXT,),
                figures=(Figure("check-cdf", "CDF, measured vs simulated"),))]
    speed = speedup_table(data["policies"], tol)
    if speed.rows:
        paths += save(speedup_figure(data["policies"], policies, tol), out, "check-speedup")
        sections.append(Section("Speedup vs sync", (SPEEDUP_TEXT.format(tol=tol),), speed,
                                (Figure("check-speedup", "Speedup, measured vs simulated"),)))
    failures = data.get("failures") or []
    sections.append(Section("Failures", (f"{count(len(failures), 'measured run')} failed; their "
                                         "episodes are left out of every comparison."
                                         if failures else "None: every measured run finished.",),
                            failures_table(failures) if failures else None))
    if panels is None:
        sections.append(Section("Episode timeline", ("No timeline: the folder has no "
                                                     "real_events.csv and sim_events.csv.",)))
    else:
        pairs = {f"{p}, measured": f"{p}, simulated" for p in policies
                 if f"{p}, measured" in panels}
        figures, more = timeline_figures(panels, out, chosen, "measured vs simulated", pairs)
        paths += more
        how = ("given by --episode" if episode else "the compared multi-call episode whose "
               "measured speedup is closest to the check's; `--episode ID` picks another")
        sections.append(Section(f"Episode timeline: {chosen}",
                                (f"Episode `{chosen}` ({how}).", TIMELINE_TEXT), figures=figures))
    return _title(data), _intro(data, check.folder, both, policies), sections, paths


def _episode(both, check: CheckInput, episode: str | None) -> str | None:
    """The episode to draw (None without event tables), validated against the compared ones."""
    compared = list(dict.fromkeys(both.episode))
    if episode is not None and episode not in compared:
        raise InputError(f"{option('episode')} {episode}: not among the compared episodes "
                         f"({', '.join(compared[:5])}{', ...' if len(compared) > 5 else ''})")
    if check.real_events is None:
        return None
    real = check.real_turns[check.real_turns.episode.isin(compared)]
    return episode or default_episode(real)


def check_panels(check: CheckInput, episode: str, policies: list[str]) -> dict[str, list]:
    """Timeline panels of one episode: measured and simulated event rows per policy."""
    real = events_from_table(check.real_events, episode, 0, policies)
    sim = events_from_table(check.sim_events, episode, 0, policies)
    panels = {}
    for p in policies:
        if real[p] and sim[p]:
            panels[f"{p}, measured"], panels[f"{p}, simulated"] = real[p], sim[p]
    return panels


def _verdict(data: dict) -> str:
    f = data["fidelity"]
    state = "PASSED" if f["passed"] else "FAILED"
    done = ("complete: every measured run finished" if data.get("complete", True) else
            "INCOMPLETE: some measured runs failed (see Failures)")
    return (f"Verdict: {state}. The simulated speedups vs sync must be within "
            f"{f['speedup_tolerance']:.0%} of the measured ones and the per-turn latency "
            f"error (MAPE) at most {f['mape_tolerance']:.0%} for every policy; {done}.")


def _title(data: dict) -> str:
    return f"rtsim report: check of {data.get('scenario', '?')} against {data.get('model', '?')}"


def _intro(data: dict, folder: Path, both, policies: list[str]) -> tuple[str, ...]:
    measured = data.get("episodes") or []
    return (f"Scenario `{data.get('scenario', '?')}` (calibrated profile `profile.yaml`), "
            f"traces `{data.get('traces', '?')}`, backend `{data.get('backend', '?')}`, model "
            f"`{data.get('model', '?')}`; policies {', '.join(policies)}; "
            f"{count(len(measured), 'episode')} measured, {both.episode.nunique()} compared "
            f"({count(len(both), 'turn pair')}). "
            f"Source: `{folder}`.",)
