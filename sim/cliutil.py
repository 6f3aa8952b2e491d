"""Shared CLI plumbing: user errors become one line on stderr and exit code 2."""

import contextlib

import click

from sim.errors import InputError


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
