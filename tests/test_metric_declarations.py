"""Per-turn metrics are declared once: the turns table, docs/metrics.md, summaries, the sweep
results and the target language all follow rtsim.engine.metrics.METRICS."""

import re
from pathlib import Path

from rtsim.analysis.summary import summarize
from rtsim.analysis.targets import METRICS as TARGET_METRICS
from rtsim.analysis.targets import SCALARS
from rtsim.engine.metrics import METRICS, TURN_COLUMNS
from rtsim.engine.runner import simulate
from rtsim.sweeps.results import PER_TURN_COLUMNS, RESULT_COLUMNS
from tests import helpers as h

DOC = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"
KIND = {"headline": "headline", "latency": "latency", "per_turn": "per turn",
        "speculation": "speculation", "": ""}


def test_every_metric_has_its_row_in_the_docs():
    rows = dict(re.findall(r"^\| `(\w+)` \|([\w ]*)\|", DOC.read_text(encoding="utf-8"),
                           re.M))
    assert {name: kind.strip() for name, kind in rows.items()} == {
        m.name: KIND[m.summary] for m in METRICS}


def test_summary_sweep_and_targets_follow_the_declarations():
    ep = h.episode([[h.call("a", 4, known_at=1)]])
    turns = simulate(h.scenario(), [ep], ["sync", "speculative"]).turns
    assert tuple(turns.columns[3:]) == TURN_COLUMNS
    entry = summarize(turns, 0)["speculative"]
    for m in METRICS:
        if m.summary in ("headline", "latency"):
            assert list(entry[m.name]) == list(m.stats)
        elif m.summary == "per_turn":
            assert f"{m.name}_per_turn" in entry and f"{m.name}_per_turn" in SCALARS
        elif m.summary == "speculation":
            assert m.name.removeprefix("spec_") in entry["speculation"]
    assert set(PER_TURN_COLUMNS) <= set(RESULT_COLUMNS)
    assert set(TARGET_METRICS) == set(TURN_COLUMNS) - {"turn", "speech_start", "speech_end"}
