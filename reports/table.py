"""Plain-text summary table of a run, for the terminal."""


def _f(x, digits=2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


LATENCIES = (("turn_latency", "turn latency s"), ("first_audio_latency", "first audio s"))
STATS = ("mean", "p50", "p90")


def summary_table(summary: dict) -> str:
    """One row per policy: turns; turn and first-audio latency (s); speedup vs sync with its
    CI; speculation hit rate; wasted tokens per turn; the share of turns cut off; the share
    of turns that acted on no call with wrong arguments."""
    group = len(_figures(STATS, "s"))
    head = [" " * 17, *(f"{title:^{group}}" for _, title in LATENCIES),
            f"{'speedup vs sync':^17}", f"{'spec':>4}", f"{'wasted':>8}", f"{'cut':>5}",
            f"{'task':>6}"]
    sub = [f"{'policy':<11}{'turns':>6}", *(_figures(STATS, "s") for _ in LATENCIES),
           f"{'mean [95% CI]':<17}", f"{'hits':>4}", f"{'tok/turn':>8}", f"{'off':>5}",
           f"{'ok':>6}"]
    lines = ["  ".join(head).rstrip(), "  ".join(sub)]
    for policy, p in summary["policies"].items():
        sp = p.get("speedup_vs_sync")
        speed = f"{sp['mean']:.2f} [{sp['ci95'][0]:.2f}, {sp['ci95'][1]:.2f}]" if sp else "-"
        lines.append("  ".join([
            f"{policy:<11}{p['turns']:>6}",
            *(_figures([p[key][stat] for stat in STATS], ".2f") for key, _ in LATENCIES),
            f"{speed:<17}", f"{_f(p['speculation']['hit_rate']):>4}",
            f"{p['wasted_tokens_per_turn']:>8.1f}", f"{p['cut_off_per_turn']:>5.1%}",
            f"{p['task_success_per_turn']:>6.1%}"]))
    return "\n".join(lines)


def _figures(values, spec: str) -> str:
    return " ".join(f"{v:>5{spec}}" for v in values)


def load_table(server: dict) -> str:
    """How loaded the shared server was, one row per policy (means over replications): in
    steady state (MSER-5 window, 95% batch-means intervals), then over the whole run."""
    lines = ["shared server in steady state (MSER-5 truncation to the drain; \u00b1 95% "
             "batch-means interval):",
             f"{'policy':<14} {'window s':>15} {'batches':>7} {'busy':>10} {'batch':>6} "
             f"{'tokens/s':>11} {'turn latency s':>14}"]
    for policy, p in server.items():
        window = f"{p['steady_from']:.0f}-{p['steady_to']:.0f}"
        short = "  too short" if p["steady_too_short"] else ""
        lines.append(f"{policy:<14} {window:>15} {p['steady_batches']:>7.0f} "
                     f"{_pm(p, 'steady_utilization', '.0%'):>10} "
                     f"{p['steady_mean_batch']:>6.1f} {_pm(p, 'steady_tokens_per_s', '.0f'):>11} "
                     f"{_pm(p, 'steady_turn_latency_mean', '.2f', 'steady_turn_latency_ci'):>14}"
                     f"{short}")
    lines += ["", "shared server over the whole run (warm-up and drain included):",
              f"{'policy':<14} {'requests/s':>10} {'in system':>9} {'time in s':>9} "
              f"{'busy':>6} {'batch':>6} {'tokens/s':>9} {'queue wait s':>12}"]
    for policy, p in server.items():
        lines.append(f"{policy:<14} {p['arrival_rate']:>10.2f} {p['mean_in_system']:>9.2f} "
                     f"{p['mean_time_in_system']:>9.3f} {p['utilization']:>6.0%} "
                     f"{p['mean_batch']:>6.1f} {p['tokens_per_s']:>9.0f} "
                     f"{p['mean_queue_wait']:>12.3f}")
    return "\n".join(lines)


def _pm(p: dict, key: str, spec: str, ci: str = "") -> str:
    """'value \u00b1half-width' of a steady-state figure (the half-width in `key`_ci)."""
    half = p[ci or f"{key}_ci"]
    return f"{p[key]:{spec}} \u00b1{half:{spec}}"
