"""The trade-off of a detector-delay sweep: latency against cut-offs, and common seeds."""

import pandas as pd
import yaml

from rtsim.reports.tradeoff import tradeoff_rows, verdict
from rtsim.sweeps.spec import resolve
from tests.report_helpers import invoke

KEY = "turn_detection.silence"


def _results(rates):
    """Results rows: per policy, cut-off rate falling and latency rising with the delay."""
    rows = []
    for policy, by_delay in rates.items():
        for delay, cut in by_delay.items():
            rows.append({"policy": policy, KEY: delay, "traces": "assistant",
                         "cut_off_per_turn": cut, "first_audio_latency_p50": 2 + delay,
                         "first_audio_latency_p90": 4 + delay})
    return pd.DataFrame(rows)


def test_the_verdict_names_the_shortest_delay_within_two_percent():
    results = _results({"sync": {0.2: 0.05, 0.4: 0.02, 0.6: 0.01},
                        "speculative": {0.2: 0.03, 0.4: 0.03, 0.6: 0.03}})
    line = verdict(tradeoff_rows(results, KEY), KEY, ["sync", "speculative"])
    assert line == ("Shortest `turn_detection.silence` with at most 2% of turns cut off: "
                    "sync 0.4 s (first audio p50 2.40 s, p90 4.40 s, 2.0% cut off); "
                    "speculative: no delay swept keeps it.")


def test_common_seeds_give_every_point_the_root_seed_and_are_recorded():
    grid = [(KEY, (0.2, 0.4))]
    common = resolve("cloud-realtime", [], grid, ["sync"], [], 1, 7, common_seeds=True)
    assert [p.scenario.seed for p in common.points] == [7, 7]
    assert common.record()["common_seeds"] is True
    own = resolve("cloud-realtime", [], grid, ["sync"], [], 1, 7)
    assert len({p.scenario.seed for p in own.points}) == 2 and "common_seeds" not in own.record()


def test_a_delay_sweep_report_draws_the_tradeoff(tmp_path):
    traces = tmp_path / "t.jsonl"
    traces.write_text(
        '{"id": "e", "turns": [{"user": "book a table, for two at eight tonight please", '
        '"answer_tokens": 20, "steps": [{"calls": [{"id": "c", "name": "book", '
        '"output_tokens": 5, "tokens": 12}]}]}]}\n')
    out = tmp_path / "s"
    result = invoke("sweep", "-q", "-g", f"{KEY}=0.3,0.9", "--common-seeds", "--seeds", "5",
                    "-t", traces, "-o", out, "--set", "speech.hesitation.rate=0.5")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((out / "sweep.yaml").read_text())["common_seeds"] is True
    assert invoke("report", out).exit_code == 0
    assert (out / "report" / "tradeoff.png").is_file()
    md = (out / "report" / "report.md").read_text()
    assert "## Latency against cut-offs" in md
    assert f"Shortest `{KEY}` with at most 2% of turns cut off: sync " in md
