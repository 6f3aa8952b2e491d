"""The tables of a check's report, from check.json."""

from rtsim.reports.summary_tables import Table, fmt


def pct(value, signed: bool = False) -> str:
    """A share as a percentage with one decimal ('-' for None)."""
    if value is None:
        return "-"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


def fidelity_table(f: dict) -> Table:
    """The two fidelity criteria: worst value, tolerance, met or not."""
    def met(worst, tolerance):
        return "-" if worst is None else "yes" if worst <= tolerance else "no"
    return Table(("criterion", "worst over policies", "tolerance", "met"), (
        ("|simulated - measured| / measured speedup vs sync", pct(f["speedup_error_max"]),
         pct(f["speedup_tolerance"]), met(f["speedup_error_max"], f["speedup_tolerance"])),
        ("per-turn latency MAPE", pct(f["mape_max"]), pct(f["mape_tolerance"]),
         met(f["mape_max"], f["mape_tolerance"]))))


def latency_table(policies: dict) -> Table:
    """Per policy: measured and simulated mean/p50/p90 turn latency, errors, MAPE, first audio."""
    header = ("policy", "turns", "measured mean (s)", "p50", "p90", "simulated mean (s)", "p50",
              "p90", "error mean", "p50", "p90", "MAPE", "first audio measured (s)",
              "simulated (s)")
    rows = []
    for name, p in policies.items():
        m, s, e = p["measured"], p["simulated"], p["relative_error"]
        audio = p.get("first_audio_mean") or {}
        rows.append((name, str(p["turns"]), *(fmt(m[k]) for k in ("mean", "p50", "p90")),
                     *(fmt(s[k]) for k in ("mean", "p50", "p90")),
                     *(pct(e[k], signed=True) for k in ("mean", "p50", "p90")), pct(p["mape"]),
                     fmt(audio.get("measured")), fmt(audio.get("simulated"))))
    return Table(header, tuple(rows))


def speedup_table(policies: dict, tolerance: float) -> Table:
    """Per non-sync policy with speedups: measured, simulated, error, within tolerance."""
    rows = []
    for name, p in policies.items():
        sp = p.get("speedup_vs_sync")
        if name == "sync" or not sp:
            continue
        within = "yes" if abs(sp["relative_error"]) <= tolerance else "no"
        rows.append((name, fmt(sp["measured"]), fmt(sp["simulated"]),
                     pct(sp["relative_error"], signed=True), within))
    return Table(("policy", "measured speedup", "simulated speedup", "error",
                  f"within \u00b1{tolerance:.0%}"), tuple(rows))


def failures_table(failures: list[dict]) -> Table:
    """One row per failed measured run."""
    return Table(("policy", "episode", "error"),
                 tuple((str(f["policy"]), str(f["episode"]), str(f["error"])) for f in failures),
                 text_columns=3)
