"""The sections of a sweep's report: a summary, per-key plots, heatmap, speedup per point,
then the tables."""

import math
from pathlib import Path

from rtsim.reports.document import Figure, Section
from rtsim.reports.inputs import SweepInput
from rtsim.reports.load_data import load_key
from rtsim.reports.load_report import load_sections
from rtsim.reports.style import save
from rtsim.reports.summary_tables import sweep_table
from rtsim.reports.sweep_data import policy_order, slug, speedup_summary
from rtsim.reports.sweep_plots import (
    MAX_ROWS,
    facet_key,
    heatmap_figure,
    key_figure,
    points_figure,
)
from rtsim.reports.tradeoff import tradeoff_sections
from rtsim.text import count

POINTS_TEXT = ("Each dot is a policy's speedup vs sync at one grid point (mean sync turn "
               "latency / mean policy turn latency), with its 95% bootstrap interval. Right of "
               "the dashed line at 1 the policy is faster than sync. Beyond "
               f"{MAX_ROWS} points the chart shows the {MAX_ROWS // 2} where the last policy "
               f"gains most and the {MAX_ROWS // 2} where it gains least, ranked.")
KEY_TEXT = ("Top: speedup vs sync; bottom: the 90th-percentile turn latency (end of the user's "
            "speech to complete answer). One line per policy.")
HEAT_TEXT = ("Colour and number: speedup vs sync in each cell of the first two swept keys. "
             "Blue is faster than sync, red slower, white equal.")


def sweep_document(sweep: SweepInput, out: Path):
    """Title, intro lines, sections and written figure paths of a sweep's report: a summary,
    the plots, then the tables."""
    results, keys, spec = sweep.results, sweep.keys, sweep.spec
    policies = policy_order(results, spec)
    scenario = str(spec.get("scenario", "?"))
    has_speedup = results.loc[results.policy != "sync", "speedup"].notna().any()
    sections, tables, paths = [], [], []
    load, headline = load_key(keys), None
    if load is not None:
        (curves, server), figure_paths, headline = load_sections(results, keys, load, policies,
                                                                 out, scenario)
        sections.append(curves)
        tables.append(server)
        paths += figure_paths
    more, figure_paths, tradeoff = tradeoff_sections(results, keys, policies, out)
    sections += more
    paths += figure_paths
    for key in (k for k in keys if k != load):
        name = f"sweep-{slug(key)}"
        paths += save(key_figure(results, keys, key, policies), out, name)
        facet = facet_key(results, keys, key)
        averaged = [k for k in keys if k not in (key, facet)]
        how = ((f"One column of panels per value of {facet}. " if facet else "")
               + (f"Averaged over {', '.join(averaged)}: the lines are means over their "
                  "values, without intervals." if averaged else
                  "Error bars: 95% interval of the speedup."))
        sections.append(Section(f"Against {key}", (KEY_TEXT, how),
                                figures=(Figure(name, f"Speedup and p90 latency vs {key}"),)))
    if len(keys) >= 2 and has_speedup:
        name = f"heatmap-{slug(keys[0])}-{slug(keys[1])}"
        paths += save(heatmap_figure(results, keys, policies), out, name)
        sections.append(Section(f"Heatmap: {keys[0]} x {keys[1]}", (HEAT_TEXT,),
                                figures=(Figure(name, "Speedup over two swept keys"),)))
    if has_speedup:
        paths += save(points_figure(results, keys, policies), out, "speedup-points")
        sections.append(Section("Speedup vs sync at every point", (POINTS_TEXT,),
                                figures=(Figure("speedup-points", "Speedup per point"),)))
    tables.append(Section("Results", ("One row per grid point, trace set and policy; latencies "
                                      "in seconds.",), sweep_table(results, keys)))
    title = f"rtsim report: sweep of {scenario}"
    grid = "; ".join(f"`{k}` = {', '.join(str(v) for v in spec['grid'][k])}" for k in keys)
    intro = (f"Scenario `{scenario}`; grid {grid}; traces "
             f"{', '.join(dict.fromkeys(results.traces))}; policies {', '.join(policies)}; "
             f"seeds {spec.get('seeds', '?')}, root seed {spec.get('seed', '?')}; "
             f"{_points(results, keys, spec)}. Source: `{sweep.folder}`.",)
    if headline:
        intro += (f"Load curves over `{load}`. {headline}",)
    elif has_speedup:
        intro += (speedup_summary(results, keys, policies),)
    if tradeoff:
        intro += (tradeoff,)
    return title, intro, sections + tables, paths


def _points(results, keys: tuple[str, ...], spec: dict) -> str:
    """'60 points', or '10 of 30 points' for a sweep not (yet) finished."""
    done = len(results.drop_duplicates(list(keys)))
    total = math.prod(len(spec["grid"][k]) for k in keys)
    return count(total, "point") if done == total else f"{done} of {count(total, 'point')}"
