"""Figures the docs quote that are quick to reproduce are checked here against the command
next to them; docs/figures.py regenerates the rest (slow sweeps, imported trace sets)."""

import re
from pathlib import Path

from click.testing import CliRunner

from rtsim.cli import main

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_validate_example_is_what_the_command_prints():
    text = (DOCS / "targets.md").read_text(encoding="utf-8")
    command = re.search(r"printed by `rtsim (validate [^`]+)`", text.replace("\n", " "))
    quoted = re.search(r"```\n(validate speculative \|.*?)```", text, re.S).group(1)
    args = [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', command.group(1))]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and result.stdout == quoted
