"""Event logs and turn tables stay byte-identical: every policy on the built-in scenarios and
on a shared server under two schedulers, against the digests of the last accepted change.

Speed work must not move a single byte. A change meant to alter results (a model change)
updates the digest it alters, printed by the failing test, and says why in its commit. Each
run is a fresh `rtsim run` process with the estimate tokenizer, so the installed extras and
the test order do not matter.
"""

import hashlib
import os
import subprocess
import sys

import pytest

SHARED = ["-s", "selfhosted-8b", "--seeds", "1", "--set", "server.sessions=16",
          "--set", "server.episodes=48"]
RUNS = {
    "cloud-realtime": (["-s", "cloud-realtime", "--seeds", "2"],
                       "8e8829d4869892c38c279d2aaf025ec5b7a2e63b70e469588651eb69260d441b",
                       "160d097d26fd24e64c96d5288e673f82a72ab86f92518b87217a7af24c647d61"),
    "edge-3b": (["-s", "edge-3b", "--seeds", "2"],
                "fa3d580e2876ab16cf75bf70bd2d820c64da39e313f9f55557c28295fde81316",
                "0337a63f15bb19d6d247c5a47660d5ba3df700c876224d80264dc60566958b5e"),
    "selfhosted-8b": (["-s", "selfhosted-8b", "--seeds", "2"],
                      "d2b0ae22a4032c857208c5d96e11d135899e77a083e10a68eaf96023b6fdcb63",
                      "a25a20577ce6d5d1764e3cb16c6087d87307b679761702f54fee8ac7c4e5901d"),
    "shared-prefill-first": ([*SHARED, "--set", "server.scheduler=prefill-first"],
                             "bbd3b37651919825822f3e45ea8966eef5e6cea0eb4c1f832cc65ebc732e3137",
                             "c6107f222333badd1c57f0799b2567a26785ede6e93490872aff639e6af52bc8"),
    "shared-llama-cpp": ([*SHARED, "--set", "server.scheduler=llama-cpp"],
                         "a74664aea6728d67a89896d3c6fa95fbfe2a903cdd22dba9237a6f45c411ebdd",
                         "0c6a039d5cb2b53b4197f2d495a8a15d8c982729830eed243b1db152156a3221"),
}


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(RUNS))
def test_every_policys_events_and_turns_are_unchanged(name, tmp_path):
    args, events, turns = RUNS[name]
    env = {**os.environ, "RTSIM_TOKENIZER": "estimate"}
    subprocess.run([sys.executable, "-m", "rtsim", "run", *args, "--events", "-o",
                    str(tmp_path)], env=env, check=True, capture_output=True)
    got = (_digest(tmp_path / "events.csv"), _digest(tmp_path / "turns.csv"))
    assert got == (events, turns), f"{name}: events.csv and turns.csv now hash to {got}"
