"""Reaching a model: a server started here (the embedded one, or the batching one with N
slots), or an OpenAI-compatible URL, and the model to call on it. `calibrate`, `check` and
`probe` all go through `run_against`."""

import asyncio
import contextlib
import importlib.util
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from rtsim.errors import InputError, option
from rtsim.real.backend.urls import url_problem, without_credentials
from rtsim.text import install_hint

T = TypeVar("T")
BATCHING, DEFAULT_SLOTS = "batching", 2


def batching_slots(backend: str) -> int | None:
    """N of a "batching" (2) or "batching:N" backend, None for any other; InputError for a
    bad N."""
    name, colon, slots = backend.partition(":")
    if name != BATCHING:
        return None
    if not colon:
        return DEFAULT_SLOTS
    if not slots.isdigit() or int(slots) < 1:
        raise InputError(f"{option('backend')} {backend!r}: expected batching:N with N, the "
                         "number of slots, a whole number of 1 or more")
    return int(slots)


@dataclass(frozen=True)
class Target:
    """Which backend: "embedded" (SmolLM2 served here, one request at a time), "batching[:N]"
    (the same model on llama.cpp's llama-server with N slots batched together, 2 by
    default) or a base URL, and how to call it."""

    backend: str = "embedded"
    model: str | None = None
    api_key_env: str | None = None
    threads: int | None = None

    @property
    def embedded(self) -> bool:
        return self.backend == "embedded"

    @property
    def slots(self) -> int | None:
        """The batching server's slots; None for another backend."""
        return batching_slots(self.backend)

    @property
    def local(self) -> bool:
        """Whether the server is started here (embedded or batching)."""
        return self.embedded or self.slots is not None


def check_target(target: Target) -> None:
    """InputError unless the backend is 'embedded', 'batching[:N]' or a valid http(s) base
    URL."""
    if target.local:
        return
    problem = (url_problem(target.backend) if target.backend.startswith(("http://", "https://"))
               else "expected 'embedded', 'batching[:N]' or an http(s):// URL of an "
                    "OpenAI-compatible server")
    if problem:
        raise InputError(f"{option('backend')} {without_credentials(target.backend)!r}: "
                         f"{problem}")


def require_real_extra() -> None:
    """InputError unless the `real` extra's HTTP client is installed."""
    missing = [m for m in ("httpx", "httpx_sse") if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(f"real backends need the real extra ({install_hint('real')}): "
                         f"{', '.join(missing)} not installed")


def local_server(target: Target):
    """The server a local target names, not started."""
    if target.embedded:
        from rtsim.real.backend.embedded import EmbeddedServer
        return EmbeddedServer(threads=target.threads)
    from rtsim.real.backend.batching_server import BatchingServer
    return BatchingServer(parallel=target.slots, threads=target.threads)


@contextlib.contextmanager
def serving(target: Target, echo=print):
    """(base URL, model it serves or None, how it takes a forced tool): a server started
    here, or the URL."""
    if not target.local:
        yield target.backend, None, "named"
        return
    server = local_server(target)
    echo(f"starting {server.name}")
    with server:
        yield server.base_url, server.model, server.force_tool


def run_against(target: Target, work: Callable[..., Awaitable[T]], echo=print) -> T:
    """`await work(backend)` on a connected Backend whose model is picked (the one given,
    else the one served, else the first the server lists)."""
    from rtsim.real.backend.client import Backend

    with serving(target, echo) as (url, served, force_tool):
        async def connected():
            async with Backend(url, target.model or served or "", target.api_key_env,
                               retries=2, force_tool=force_tool) as backend:
                await backend.pick_model()
                return await work(backend)

        return asyncio.run(connected())
