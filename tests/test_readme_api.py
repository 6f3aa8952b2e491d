"""The README's Python API example runs as written, and docs/api.md shows the same code."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _api_example(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(import rtsim\n.*?)```", text, re.S)
    assert blocks, f"{path.name}: no example starting with `import rtsim`"
    return blocks[0]


def test_the_readme_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(_api_example(ROOT / "README.md"), "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "speculative" in printed and printed.strip().splitlines()[-1] in ("pass", "fail")
    assert (tmp_path / "runs/notebook/summary.json").is_file()
    assert (tmp_path / "runs/notebook/report/report.html").is_file()


def test_docs_api_shows_the_same_example():
    assert _api_example(ROOT / "docs/api.md") == _api_example(ROOT / "README.md")
