"""Drawing one turn of one episode as stacked swimlane panels, one panel per policy.

Time runs from the moment the user starts speaking, so the panels line up on the same
utterance and the overlap of listening, thinking, tool calls and speaking is visible.
"""

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from rtsim.reports.style import figure
from rtsim.reports.timeline_data import Timeline

PURPOSE_COLORS = {"input": "#9ecae1", "result": "#9467bd", "call": "#ff7f0e",
                  "answer": "#2ca02c"}
PURPOSE_NAMES = {"input": "model: user's words", "result": "model: tool results",
                 "call": "model: tool call", "answer": "model: answer"}
KIND_COLORS = {"speech": "#7f7f7f", "overhead": "#d9d9d9", "tool": "#8c6d31",
               "playback": "#17becf"}
WASTED = "#d62728"
MARKERS = {  # turn-taking instants: marker style and legend label
    "resume": ({"marker": ">", "markersize": 9, "color": WASTED}, "user speaks on"),
    "cut_off": ({"marker": "*", "markersize": 13, "color": WASTED}, "user cut off"),
    "barge_in": ({"marker": "^", "markersize": 9, "color": "#7570b3"}, "user barges in"),
    "backchannel": ({"marker": "o", "markersize": 8, "markerfacecolor": "none",
                     "color": "#7570b3"}, "backchannel (agent pauses)"),
}
MIN_WIDTH = 0.004  # share of the time axis: shorter bars are widened to stay visible
LANE_HEIGHT = 0.34  # inches per lane


def timeline_figure(timelines: dict[str, Timeline], latencies: dict[str, tuple], turn: int,
                    episode: str, heading: str = "per policy", note: str = ""):
    """A figure with one panel per timeline (named by its key: a policy, or 'policy,
    measured') for one turn; `latencies`: (turn, first audio) s per panel; `note`: a second
    title line."""
    span = max(t.end - t.start for t in timelines.values()) * 1.02
    heights = [len(t.lanes) for t in timelines.values()]
    fig, axes = figure(12, LANE_HEIGHT * sum(heights) + 1.0 * len(heights) + 1.6,
                       nrows=len(heights), sharex=True,
                       gridspec_kw={"height_ratios": heights})
    axes = axes if len(heights) > 1 else [axes]
    for ax, (name, tl) in zip(axes, timelines.items(), strict=True):
        _panel(ax, tl, span)
        turn_s, audio_s = latencies[name]
        ax.set_title(f"{name}: answer complete {turn_s:.2f} s, first audio {audio_s:.2f} s "
                     f"after the user stopped speaking", loc="left")
    axes[-1].set_xlim(0, span)
    axes[-1].set_xlabel(f"seconds since the user started speaking (turn {turn + 1})")
    fig.suptitle(f"Episode {episode}, turn {turn + 1}: what runs when, {heading}"
                 + (f"\n{note}" if note else ""))
    fig.legend(handles=_legend(), loc="outside lower center", ncol=4, frameon=False)
    return fig


def _panel(ax, tl: Timeline, span: float) -> None:
    y = {lane: i for i, lane in enumerate(tl.lanes)}
    for s in tl.segments:
        width = max(s.end - s.start, MIN_WIDTH * span)
        color = KIND_COLORS.get(s.kind) or PURPOSE_COLORS.get(s.label, "#bbbbbb")
        hatch = ("xx" if s.wasted else "") + (".." if s.speculative else "")
        ax.barh(y[s.lane], width, left=s.start - tl.start, height=0.62, color=color,
                hatch=hatch or None, edgecolor=WASTED if s.wasted else "#333333",
                linewidth=1.2 if s.wasted else 0.4)
        if s.stopped:
            ax.plot(s.end - tl.start, y[s.lane], marker="|", markersize=16, color="black",
                    markeredgewidth=2.5)
    for m in tl.marks:
        x = m.t - tl.start
        if m.kind == "transcript":
            ax.plot(x, y[m.lane] - 0.42, marker="v", markersize=5, color="black")
        elif m.kind == "discard":
            ax.plot(x, y[m.lane], marker="X", markersize=9, color=WASTED,
                    markeredgecolor="white")
        elif m.kind == "endpoint":
            ax.axvline(x, color="black", linestyle=":", linewidth=1.4)
        elif m.kind == "false_endpoint":
            ax.axvline(x, color=WASTED, linestyle=":", linewidth=1.4)
        elif m.kind in MARKERS:
            ax.plot(x, y[m.lane], linestyle="none", **MARKERS[m.kind][0])
        elif m.kind == "answer_done":
            ax.axvline(x, color=PURPOSE_COLORS["answer"], linestyle="--", linewidth=1.4)
    ax.set_yticks(range(len(tl.lanes)), tl.lanes)
    ax.set_ylim(len(tl.lanes) - 0.5, -0.7)
    ax.grid(axis="y", visible=False)


def _legend() -> list:
    patches = [Patch(facecolor=KIND_COLORS["speech"], label="user speaking"),
               Patch(facecolor=KIND_COLORS["overhead"], label="network + request overhead")]
    patches += [Patch(facecolor=c, label=PURPOSE_NAMES[p]) for p, c in PURPOSE_COLORS.items()]
    patches += [
        Patch(facecolor=KIND_COLORS["tool"], label="tool running"),
        Patch(facecolor=KIND_COLORS["tool"], hatch="..", edgecolor="#333333",
              label="speculative tool call"),
        Patch(facecolor="white", hatch="xx", edgecolor=WASTED, label="wasted (discarded)"),
        Patch(facecolor=KIND_COLORS["playback"], label="agent speaking"),
        Line2D([], [], marker="v", color="black", linestyle="none",
               label="partial transcript"),
        Line2D([], [], color="black", linestyle=":", label="endpoint (turn over)"),
        Line2D([], [], color=WASTED, linestyle=":", label="false endpoint"),
        Line2D([], [], color=PURPOSE_COLORS["answer"], linestyle="--",
               label="answer text complete"),
        Line2D([], [], marker="|", markersize=12, markeredgewidth=2.5, color="black",
               linestyle="none", label="stopped / cancelled"),
        Line2D([], [], marker="X", color=WASTED, linestyle="none", label="result discarded"),
    ]
    patches += [Line2D([], [], linestyle="none", label=label, **style)
                for style, label in MARKERS.values()]
    return patches
