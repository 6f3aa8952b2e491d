"""The README's first command prints the table the README shows (default token estimate)."""

from pathlib import Path

from click.testing import CliRunner

from rtsim.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _printed_block() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("`rtsim run` prints:\n\n```\n") + len("`rtsim run` prints:\n\n```\n")
    return text[start:text.index("```", start)]


def test_rtsim_run_prints_the_readme_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout == _printed_block()
    assert max(len(line) for line in result.stdout.splitlines()[2:-2]) <= 110
