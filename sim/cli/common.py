"""Shared CLI plumbing: user errors become one line on stderr and exit code 2."""

import contextlib
import importlib.util

import click

from rtsim.errors import InputError


class BadInput(click.ClickException):
    """A bad file, key or value given by the user: one line, exit code 2."""

    exit_code = 2


@contextlib.contextmanager
def user_errors():
    """Turn InputError raised inside the block into BadInput."""
    try:
        yield
    except InputError as exc:
        raise BadInput(str(exc)) from None


def split_names(text: str | None) -> list[str]:
    """The names of a comma-separated option value, blanks dropped."""
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def check_backend(backend: str) -> None:
    """`--backend` must be 'embedded' or an http(s) URL."""
    if backend != "embedded" and not backend.startswith(("http://", "https://")):
        raise InputError(f"--backend {backend!r}: expected 'embedded' or an http(s):// URL "
                         "of an OpenAI-compatible server")


def require_real_extra() -> None:
    """InputError unless the `real` extra's HTTP client is installed."""
    missing = [m for m in ("httpx", "httpx_sse") if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(f"real backends need the real extra (pip install 'rtsim[real]'): "
                         f"{', '.join(missing)} not installed")
