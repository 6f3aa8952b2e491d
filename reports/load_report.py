"""The load-curve sections of a sweep over `server.sessions` or `server.arrival_rate`."""

import textwrap
from pathlib import Path

import pandas as pd

from rtsim.reports.document import Figure, Section
from rtsim.reports.load_data import (
    LABEL_GAP,
    LOAD_KEYS,
    QUEUE_WAIT_SATURATED,
    THROUGHPUT_SATURATED,
    Markers,
    about,
    load_groups,
    markers,
    server_column,
)
from rtsim.reports.load_plots import load_figure
from rtsim.reports.style import save
from rtsim.reports.summary_tables import Table, fmt
from rtsim.reports.sweep_data import show_value, slug

MAX_FIGURES = 6  # load series drawn; further ones are in the tables only
READ_TEXT = (
    "Top left: mean (solid) and p90 (dashed) turn latency per policy as the load grows. Top "
    "right: speedup vs sync with its 95% interval (shaded); the dash-dot line marks where the "
    "interval first reaches 1, i.e. the policy is no longer measurably faster than sync. "
    "The four panels below: the shared server under each policy's load (each policy runs its own "
    "population): share of time busy, mean decode batch, mean wait for a batch slot, and "
    "tokens generated per second; the dotted line marks where it saturates. Markers of "
    f"several policies within {LABEL_GAP:.0%} of the load axis of each other share one "
    "dark-grey label naming them and the range.")
RULE_TEXT = (
    "Rules (docs/report.md): the advantage disappears at the first load where the lower end "
    "of the speedup's 95% interval is at or below 1; the server saturates at the first load "
    f"where the mean wait for a batch slot reaches {QUEUE_WAIT_SATURATED * 1000:g} ms or the "
    f"tokens/s per unit of load falls to {THROUGHPUT_SATURATED:g} of its lightest-load value, "
    "whichever comes first. Both are interpolated linearly between the two loads around the "
    "crossing (in log load on a log axis). Busy time is not a saturation test: with "
    "continuous batching a server busy all the time still takes more work into its batch.")


SERVER_TEXT = (
    "Measured on the shared server at each point and policy. Busy, mean batch and tokens/s "
    "are in steady state where the results have it (docs/server.md): over the window (s) "
    "from the MSER-5 truncation of the warm-up to the start of the drain, when the last "
    "episode starts; 'too short' marks a run without a steady state. Requests/s, in system "
    "and the queue wait are over the whole run.")


def load_sections(results: pd.DataFrame, keys: tuple[str, ...], key: str, policies: list[str],
                  out: Path, scenario: str) -> tuple[list[Section], list[Path], str]:
    """Sections (curves, markers, server table), written figures, and the headline."""
    groups = load_groups(results, keys, key)
    unit = LOAD_KEYS[key][1]
    figures, paths, headlines, rows = [], [], [], []
    for i, (label, part) in enumerate(groups):
        marks = markers(part, key, policies)
        line = headline(marks, policies, unit, max(part[key]), min(part[key]))
        line = line[0].upper() + line[1:]
        headlines.append(f"{label}: {line}" if label else line)
        rows += [(label, p, *_marker_cells(marks[p])) for p in policies]
        if i < MAX_FIGURES:
            name = f"load-{slug(key)}" + (f"-{i + 1}" if label else "")
            title = f"Load curves of {scenario}" + (f" ({label})" if label else "")
            heading = f"{title}\n{textwrap.fill(line, 110)}"
            paths += save(load_figure(part, key, policies, marks, heading), out, name)
            figures.append(Figure(name, f"Load curves against {key}" + (f", {label}"
                                                                         if label else "")))
    header = ("series", "policy", f"advantage disappears at ({unit})",
              f"server saturates at ({unit})", "saturation rule met first")
    table = Table(header if len(groups) > 1 else header[1:],
                  tuple(r if len(groups) > 1 else r[1:] for r in rows),
                  text_columns=2 if len(groups) > 1 else 1)
    more = (f" The first {MAX_FIGURES} of {len(groups)} series are drawn."
            if len(groups) > MAX_FIGURES else "")
    sections = [Section(f"Load curves: {key}", (*headlines, READ_TEXT + more, RULE_TEXT),
                        table, tuple(figures)),
                Section("Server load at each point", (SERVER_TEXT,), server_table(results, key))]
    return sections, paths, headlines[0]


def headline(marks: dict[str, Markers], policies: list[str], unit: str, top: float,
             bottom: float) -> str:
    """One sentence: where each policy's advantage disappears and the server saturates."""
    gains = []
    for p in sorted((p for p in policies if p != "sync"), key=lambda p: p != "speculative"):
        m = marks[p]
        if m.gain == "never":
            gains.append(f"{p} is not measurably faster than sync even at {about(bottom)} {unit}")
        elif m.gain == "lasts":
            gains.append(f"{p} stays faster than sync up to {about(top)} {unit}")
        elif m.gain == "ends":
            gains.append(f"{p} stops paying (no longer measurably faster than sync) at about "
                         f"{about(m.advantage)} {unit}" if not gains else
                         f"{p} at about {about(m.advantage)} {unit}")
    sat = sorted((marks[p].saturation.load, p) for p in policies
                 if marks[p].saturation.load is not None)
    calm = [p for p in policies if marks[p].saturation.load is None]
    server = []
    if sat:
        server.append("the server saturates at about " + _and(
            [f"{about(x)}{f' {unit}' if i == 0 else ''} under {p}"
             for i, (x, p) in enumerate(sat)]))
    if calm:
        server.append(f"the server does not saturate up to {about(top)} {unit} under "
                      f"{_and(calm)}")
    return "; ".join([", ".join(gains)] + server if gains else server) + "."


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _marker_cells(m: Markers) -> tuple[str, str, str]:
    gain = (f"~{about(m.advantage)}" if m.gain == "ends" else
            {"none": "-", "never": "never faster", "lasts": "beyond the range"}[m.gain])
    sat = m.saturation
    return gain, "beyond the range" if sat.load is None else f"~{about(sat.load)}", sat.rule or "-"


def server_table(results: pd.DataFrame, key: str) -> Table:
    """One row per point, trace set and policy of the shared server's figures."""
    busy_col, batch_col, tokens_col = (server_column(results, f) for f in
                                       ("utilization", "mean_batch", "tokens_per_s"))
    steady = busy_col.startswith("server_steady_")
    header = ("point", key, "traces", "policy", "requests/s", "in system", "busy",
              "mean batch", "tokens/s", "queue wait (s)") + (("steady window (s)",) * steady)
    rows = []
    for d in results.sort_values([key, "point"], kind="stable").to_dict("records"):
        busy = d[busy_col]
        row = (d["point"], show_value(d[key]), d["traces"], d["policy"],
               fmt(d["server_arrival_rate"], 1), fmt(d["server_mean_in_system"], 1),
               "-" if pd.isna(busy) else f"{busy:.0%}", fmt(d[batch_col], 1),
               fmt(d[tokens_col], 0), fmt(d["server_mean_queue_wait"], 3))
        rows.append(row + (_window(d),) if steady else row)
    return Table(header, tuple(rows), text_columns=4)


def _window(d: dict) -> str:
    if pd.isna(d["server_steady_from"]):
        return "-"
    window = f"{d['server_steady_from']:.0f}-{d['server_steady_to']:.0f}"
    return window + (" too short" if d["server_steady_too_short"] else "")
