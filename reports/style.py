"""Matplotlib set-up shared by every report plot: backend, fonts, colours, saving.

Figures are saved as PNG and SVG with fixed metadata and SVG hash salt, so the same
input gives byte-identical files.
"""

import contextlib
import io
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from rtsim.files.atomic import write_atomic  # noqa: E402

RC = {
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "figure.titlesize": 14,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.hashsalt": "rtsim-report",
    "svg.fonttype": "path",
    "path.simplify": False,
}
DPI = 120
POLICY_COLORS = {"sync": "#555555", "preemptive": "#7570b3", "async": "#1f77b4",
                 "speculative": "#d95f02"}
_EXTRA = ("#1b9e77", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
PNG_META = {"Software": None}
SVG_META = {"Date": None, "Creator": None}
_ON_SAVE: ContextVar[Callable[[str], None] | None] = ContextVar("on_save", default=None)


def policy_color(policy: str, order: list[str]) -> str:
    """The fixed colour of a known policy, else one from a spare palette by position."""
    if policy in POLICY_COLORS:
        return POLICY_COLORS[policy]
    others = [p for p in order if p not in POLICY_COLORS]
    return _EXTRA[others.index(policy) % len(_EXTRA)] if policy in others else _EXTRA[0]


def policy_line(policy: str, order: list[str]) -> dict:
    """How a policy's curve is drawn: its colour; sync thick, dashed and underneath (it often
    has async's values, which then draw over its middle and leave its edges showing), the
    others solid, later policies on top."""
    color = policy_color(policy, order)
    if policy == "sync":
        return {"color": color, "linestyle": "--", "linewidth": 3.5, "zorder": 2}
    return {"color": color, "linestyle": "-", "linewidth": 2,
            "zorder": 3 + (order.index(policy) if policy in order else 0)}


@contextlib.contextmanager
def styled(on_save: Callable[[str], None] | None = None):
    """Context in which report figures are built and saved (fonts, grid, SVG salt);
    `on_save(name)` is called as each figure is written."""
    token = _ON_SAVE.set(on_save)
    try:
        with plt.rc_context(RC):
            yield
    finally:
        _ON_SAVE.reset(token)


def figure(width: float, height: float, **kw):
    """A new figure and its axes (as plt.subplots), laid out without overlaps."""
    return plt.subplots(figsize=(width, height), layout="constrained", **kw)


def save(fig, folder: Path, name: str) -> list[Path]:
    """Write `fig` as folder/name.png and folder/name.svg; close it; return the paths."""
    paths = []
    for fmt, meta in (("png", PNG_META), ("svg", SVG_META)):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=DPI, metadata=meta)
        path = folder / f"{name}.{fmt}"
        write_atomic(path, buf.getvalue())
        paths.append(path)
    plt.close(fig)
    if (on_save := _ON_SAVE.get()) is not None:
        on_save(name)
    return paths
