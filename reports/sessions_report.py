"""The report of a load check (`rtsim check --sessions`): measured and simulated load curves
over the number of conversations N, and the table of check.json."""

from pathlib import Path

from rtsim.errors import InputError
from rtsim.reports.check_tables import pct
from rtsim.reports.document import Figure, Section
from rtsim.reports.style import figure, policy_color, save
from rtsim.reports.summary_tables import Table, fmt

CURVES_TEXT = ("Turn latency (mean, left; p90, middle) and the server's tokens per second "
               "(right) against the number of conversations sharing the server: measured solid "
               "with dots, simulated dashed with crosses, one colour per policy.")
PANELS = (("mean_latency", "mean turn latency (s)"), ("p90_latency", "p90 turn latency (s)"),
          ("tokens_per_s", "server tokens/s"))


def is_sessions_check(check: dict) -> bool:
    return isinstance(check, dict) and "sessions" in check and "load" in check


def _curve(load: dict, policy: str, key: str, side: str) -> tuple[list[int], list[float]]:
    points = [(int(n), at[policy][key][side]) for n, at in load.items() if policy in at]
    return [n for n, _ in points], [v for _, v in points]


def curves_figure(load: dict, policies: list[str]):
    """Three panels over N: mean and p90 turn latency, tokens/s; measured and simulated."""
    fig, axes = figure(14, 4.8, ncols=len(PANELS))
    sessions = sorted({int(n) for n in load})
    for ax, (key, label) in zip(axes, PANELS, strict=True):
        for policy in policies:
            color = policy_color(policy, policies)
            for side, style, mark in (("measured", "-", "o"), ("simulated", "--", "x")):
                xs, ys = _curve(load, policy, key, side)
                ax.plot(xs, ys, style, marker=mark, color=color, label=f"{policy}, {side}")
        ax.set(xlabel="conversations at once (N)", ylabel=label, xticks=sessions)
        ax.set_ylim(bottom=0)
    axes[0].legend(loc="upper left", fontsize=8)
    fig.suptitle("Load curves: measured (solid) and simulated (dashed)")
    return fig


def load_table(load: dict) -> Table:
    """Per N and policy: measured, simulated and error of each figure."""
    keys = ("mean_latency", "p90_latency", "speedup_vs_sync", "tokens_per_s", "mean_batch")
    header = ("N", "policy", "turns", *(f"{k.replace('_', ' ')} {s}" for k in keys
                                        for s in ("measured", "simulated", "error")))
    rows = []
    for n, at in load.items():
        for policy, p in at.items():
            cells = []
            for k in keys:
                v = p.get(k)
                cells += (["-"] * 3 if v is None else
                          [fmt(v["measured"]), fmt(v["simulated"]),
                           pct(v["relative_error"], signed=True)])
            rows.append((n, policy, str(p["turns"]), *cells))
    return Table(header, tuple(rows))


def sessions_document(check: dict, folder: Path, out: Path):
    """Title, intro, sections and written figure paths of a load check's report."""
    load = check["load"]
    if not isinstance(load, dict) or not load:
        raise InputError(f"{folder / 'check.json'}: key load holds no measured N")
    policies = list(check.get("policies") or next(iter(load.values())))
    paths = save(curves_figure(load, policies), out, "check-load")
    f = check["fidelity"]
    verdict = (f"Verdict: {'PASSED' if f['passed'] else 'FAILED'}. Targets: mean turn-latency "
               f"errors at most {f['mean_tolerance']:.0%} and speedup errors within "
               f"{f['speedup_tolerance']:.0%} for every policy and N; worst "
               f"{pct(f['mean_error_max'])} and {pct(f['speedup_error_max'])}.")
    failures = check.get("failures") or []
    sections = [Section("Verdict", (verdict,)),
                Section("Load curves", (CURVES_TEXT,),
                        figures=(Figure("check-load", "Measured and simulated, over N"),)),
                Section("Measured vs simulated, per N", ("error = (simulated - measured) / "
                                                         "measured",), load_table(load)),
                Section("Failures", (f"{len(failures)} episodes failed and are left out."
                                     if failures else "None: every episode finished.",))]
    intro = (f"Load check of {check.get('backend')} (model {check.get('model')}), scenario "
             f"{check.get('scenario')}: N = {', '.join(map(str, check['sessions']))} "
             f"conversations at once, {check.get('episodes_per_session')} episodes each.",)
    return "Load check: measured vs simulated", intro, sections, paths
