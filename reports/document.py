"""The report documents: Markdown linking the figure files, and self-contained HTML with the
PNGs embedded as base64 (no external assets)."""

import base64
import html
from dataclasses import dataclass
from pathlib import Path

from rtsim.reports.summary_tables import Table, html_table, markdown

CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif;
       max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ddd; }
.table { overflow: auto; max-height: 36em; margin: 1em 0; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; white-space: nowrap; }
th { background: #f3f3f3; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5em 0; } img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
.note { color: #555; }
"""


@dataclass(frozen=True)
class Figure:
    """A saved figure: file stem in the report folder, and its caption."""

    name: str
    caption: str


@dataclass(frozen=True)
class Section:
    """A report section: heading, paragraphs of text, an optional table, figures; a section
    whose content had to be left out says why in `skipped` (one line, for the terminal)."""

    title: str
    text: tuple[str, ...] = ()
    table: Table | None = None
    figures: tuple[Figure, ...] = ()
    skipped: str | None = None


def render_markdown(title: str, intro: tuple[str, ...], sections: list[Section]) -> str:
    """The report as Markdown; figures are linked PNGs with a link to the SVG."""
    parts = [f"# {title}", *intro]
    for s in sections:
        parts.append(f"## {s.title}")
        parts += list(s.text)
        if s.table is not None:
            parts.append(markdown(s.table))
        for f in s.figures:
            parts.append(f"![{f.caption}]({f.name}.png)\n\n*{f.caption}* ([SVG]({f.name}.svg))")
    return "\n\n".join(parts) + "\n"


def render_html(title: str, intro: tuple[str, ...], sections: list[Section],
                folder: Path) -> str:
    """The report as one HTML page with every PNG from `folder` embedded."""
    body = [f"<h1>{html.escape(title)}</h1>"]
    body += [f"<p>{_inline(p)}</p>" for p in intro]
    for s in sections:
        body.append(f"<h2>{html.escape(s.title)}</h2>")
        body += [f"<p class=note>{_inline(p)}</p>" for p in s.text]
        if s.table is not None:
            body.append(html_table(s.table))
        for f in s.figures:
            data = base64.b64encode((folder / f"{f.name}.png").read_bytes()).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(f.caption)}" '
                        f'src="data:image/png;base64,{data}">'
                        f"<figcaption>{html.escape(f.caption)}</figcaption></figure>")
    return (f"<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def _inline(text: str) -> str:
    """Escape text and turn `code` spans into <code> elements."""
    pieces = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))
