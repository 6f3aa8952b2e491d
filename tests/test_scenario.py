"""Scenario loading: built-ins, round trip, unknown keys, ranges, --set overrides."""

import numpy as np
import pytest
import yaml

from rtsim.errors import InputError
from rtsim.scenario.distributions import LogNormal, Normal, parse_dist
from rtsim.scenario.load import builtin_scenarios, load_scenario, scenario_to_dict
from rtsim.scenario.overrides import apply_overrides
from rtsim.scenario.schema import parse_scenario


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_builtin_scenarios_round_trip_through_yaml(name):
    sc = load_scenario(name)
    again = parse_scenario(yaml.safe_load(yaml.safe_dump(scenario_to_dict(sc))), "again")
    assert again == sc


def test_builtins_include_cloud_and_edge():
    assert {"cloud-realtime", "edge-3b"} <= set(builtin_scenarios())


@pytest.mark.parametrize("raw,message", [
    ({"model": {"decode_rat": 5}}, "f.yaml: model.decode_rat: unknown key"),
    ({"modle": {}}, "f.yaml: modle: unknown key"),
    ({"model": {"decode_rate": 0}}, "f.yaml: model.decode_rate: must be positive"),
    ({"speculation": {"accuracy": 1.5}}, "f.yaml: speculation.accuracy: must be within [0, 1]"),
    ({"tools": {"x": {"latency": {"dist": "gamma"}}}}, "f.yaml: tools.x.latency.dist: must be"),
    ({"tools": {"x": {"latency": {"dist": "uniform", "low": 2, "high": 1}}}},
     "f.yaml: tools.x.latency.high: must be >= low"),
    ({"endpointing": {"silence": {"dist": "normal", "mean": 0.5, "sd": 0.1}}},
     "f.yaml: turn_detection.silence: must be non-negative"),
    ({"seeds": 0}, "f.yaml: seeds: must be positive"),
    ({"model": {"prompt_cache": "yes"}}, "f.yaml: model.prompt_cache: must be true or false"),
])
def test_bad_values_name_file_and_key(raw, message):
    with pytest.raises(InputError) as err:
        parse_scenario(raw, "f.yaml")
    assert str(err.value).startswith(message)


def test_overrides_set_any_dotted_key():
    raw = apply_overrides({"model": {"decode_rate": 50, "prefill_rate": 100}},
                          ["model.decode_rate={dist: uniform, low: 40, high: 60}",
                           "model.prefill_rate.value=900", "tools.search.latency=2.5"])
    sc = parse_scenario(raw, "x")
    assert sc.model.decode_rate.mean == 50
    assert sc.model.prefill_rate.mean == 900
    assert sc.tool("search").latency.mean == 2.5
    assert sc.tool("other") == sc.tools["default"]


def test_override_errors():
    with pytest.raises(InputError, match="expected dotted.key=value"):
        apply_overrides({}, ["model.decode_rate"])
    with pytest.raises(InputError, match="cannot set a key inside"):
        apply_overrides({"name": "x"}, ["name.sub=1"])


def test_unknown_scenario_lists_builtins():
    with pytest.raises(InputError, match="cloud-realtime"):
        load_scenario("no-such-scenario")


def test_distribution_means_match_samples():
    rng = np.random.default_rng(1)
    for dist in (Normal(1.0, 0.5, 0.5, 1.2), LogNormal(0.6, 0.7),
                 parse_dist({"dist": "lognormal", "median": 0.6, "p95": 2.0}, "x")):
        assert dist.sample(rng, 200_000).mean() == pytest.approx(dist.mean, rel=0.01)
    lognormal = parse_dist({"dist": "lognormal", "median": 0.6, "p95": 2.0}, "x")
    assert np.percentile(lognormal.sample(rng, 200_000), 95) == pytest.approx(2.0, rel=0.02)


@pytest.mark.parametrize("raw, message", [
    ({"sigma": 100}, r"^x.sigma: must be in \[0, 5.0\], got 100.0$"),
    ({"p95": 1e9}, r"^x.p95: at most 3,7\d\d x the median \(0.6\), got 1000000000.0$")])
def test_a_lognormal_too_wide_for_its_mean_is_one_line(raw, message):
    with pytest.raises(InputError, match=message):
        parse_dist({"dist": "lognormal", "median": 0.6, **raw}, "x")


def test_errors_in_overridden_keys_name_set():
    from rtsim.scenario.load import load_scenario

    # the library names its parameter, the command line its flag
    with pytest.raises(InputError, match=r"^set endpointing.silense: unknown key") as caught:
        load_scenario("cloud-realtime", ["endpointing.silense=0.3"])
    assert caught.value.cli_message().startswith("--set endpointing.silense: unknown key")
    with pytest.raises(InputError, match=r"^set model.decode_rate: must be positive") as caught:
        load_scenario("cloud-realtime", ["model.decode_rate.low=-3"])
    assert caught.value.cli_message().startswith("--set model.decode_rate: must be positive")
