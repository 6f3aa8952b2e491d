"""Helpers shared by the `rtsim report` test modules: the CLI runner and error checks."""

from click.testing import CliRunner

from rtsim.cli import main

POLICY_NAMES = ("sync", "async", "speculative")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]
