"""What the tests against a model server started here share: a skip marker, a runner and a
forced call."""

import asyncio
import importlib.util

import pytest

from rtsim.traces.tokens import MODEL_PACKAGE

WEATHER = {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "day": {"type": "string"}},
    "required": ["city", "day"]}}


def needs(server: str, hint: str, *modules: str, missing: list[str] | None = None):
    """A skip marker unless `modules`, the client's and the model's are installed (`missing`:
    more that are not), with the reason and the `hint` that installs them."""
    gone = (missing or []) + [m for m in (*modules, "httpx", "httpx_sse", MODEL_PACKAGE)
                              if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(bool(gone), reason=f"{server} not installed (missing "
                                                 f"{', '.join(gone)}): {hint}")


def call(server, work):
    """Run `work(backend)` against the started `server` (forcing tools its way)."""
    from rtsim.real.backend.client import Backend

    async def main():
        async with Backend(server.base_url, server.model, force_tool=server.force_tool) as b:
            return await work(b)
    return asyncio.run(main())


def forced_weather_call(server):
    """The result of a forced get_weather call on a question that answers both arguments."""
    async def work(backend):
        messages = [{"role": "user", "content": "What is the weather in Paris tomorrow?"}]
        return await backend.generate(messages, 60, tool=WEATHER)
    return call(server, work)
