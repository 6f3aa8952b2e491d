"""The turn detector's trade-off in a sweep: answer latency against the cut-off rate, one
curve per policy along the swept detector delay."""

import pandas as pd

from rtsim.reports.document import Figure, Section
from rtsim.reports.style import figure, policy_color, save
from rtsim.reports.sweep_data import show_value

DELAY_KEYS = ("turn_detection.silence", "endpointing.silence", "turn_detection.min_delay",
              "turn_detection.max_delay")
CUT_OFF_BUDGET = 0.02  # the share of turns a voice team accepts to cut off
LATENCY = "first_audio_latency"
TEXT = ("Each curve is a policy; each point one value of `{key}` (labelled), averaged over "
        "the other swept keys. Left: median, right: 90th percentile of the voice-to-voice "
        "latency (end of the user's speech to the answer's first audio); across: the share "
        "of turns whose answer audio began before the user had finished. Left of the "
        "dashed line at {budget:.0%} is within the cut-off budget.")


def tradeoff_key(keys: tuple[str, ...]) -> str | None:
    """The swept detector delay, if any."""
    return next((k for k in DELAY_KEYS if k in keys), None)


def tradeoff_rows(results: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per policy and delay: the cut-off rate and the latency p50 and p90, averaged over
    the other keys and the trace sets."""
    columns = ["cut_off_per_turn", f"{LATENCY}_p50", f"{LATENCY}_p90"]
    return (results.groupby(["policy", key], sort=False)[columns].mean().reset_index()
            .sort_values(["policy", key], kind="stable"))


def shortest_safe(rows: pd.DataFrame, key: str, policy: str) -> pd.Series | None:
    """The policy's row with the shortest delay within the cut-off budget."""
    mine = rows[(rows.policy == policy) & (rows.cut_off_per_turn <= CUT_OFF_BUDGET)]
    return None if mine.empty else mine.sort_values(key, kind="stable").iloc[0]


def verdict(rows: pd.DataFrame, key: str, policies: list[str]) -> str:
    """One sentence per policy: the shortest delay within budget and what it gives."""
    parts = []
    for policy in policies:
        best = shortest_safe(rows, key, policy)
        if best is None:
            parts.append(f"{policy}: no delay swept keeps it")
        else:
            parts.append(f"{policy} {show_value(best[key])} s (first audio p50 "
                         f"{best[f'{LATENCY}_p50']:.2f} s, p90 {best[f'{LATENCY}_p90']:.2f} s, "
                         f"{best.cut_off_per_turn:.1%} cut off)")
    return (f"Shortest `{key}` with at most {CUT_OFF_BUDGET:.0%} of turns cut off: "
            + "; ".join(parts) + ".")


def tradeoff_figure(rows: pd.DataFrame, key: str, policies: list[str]):
    """Two panels, p50 and p90 latency against the cut-off rate; delays labelled."""
    fig, axes = figure(12.0, 5.6, ncols=2, sharey=False)
    for ax, stat in zip(axes, ("p50", "p90"), strict=True):
        for policy in policies:
            mine = rows[rows.policy == policy]
            x, y = mine.cut_off_per_turn * 100, mine[f"{LATENCY}_{stat}"]
            ax.plot(x, y, marker="o", color=policy_color(policy, policies), label=policy)
            for delay, xi, yi in zip(mine[key], x, y, strict=True):
                ax.annotate(show_value(delay), (xi, yi), textcoords="offset points",
                            xytext=(4, 4), fontsize=8, color=policy_color(policy, policies))
        ax.axvline(CUT_OFF_BUDGET * 100, color="black", linestyle="--", linewidth=1)
        ax.set_xlabel("turns cut off, %")
        ax.set_ylabel(f"first audio {stat}, s")
        ax.set_title(f"{stat} voice-to-voice latency vs cut-offs")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(policies),
               title=f"policy; points labelled with {key}, s")
    return fig


def tradeoff_sections(results: pd.DataFrame, keys: tuple[str, ...], policies: list[str],
                      out) -> tuple[list[Section], list, str | None]:
    """The trade-off section, its figure paths and its one-sentence verdict (nothing
    when no detector delay was swept or the table predates the cut-off column)."""
    key = tradeoff_key(keys)
    if key is None or "cut_off_per_turn" not in results:
        return [], [], None
    rows = tradeoff_rows(results, key)
    paths = save(tradeoff_figure(rows, key, policies), out, "tradeoff")
    line = verdict(rows, key, policies)
    section = Section("Latency against cut-offs", (TEXT.format(key=key, budget=CUT_OFF_BUDGET),
                                                     line),
                      figures=(Figure("tradeoff", f"Latency vs cut-off rate along {key}"),))
    return [section], paths, line
