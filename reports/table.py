"""Plain-text summary table of a run, for the terminal."""


def _f(x, digits=2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def summary_table(summary: dict) -> str:
    """One row per policy: latencies (s), speedup vs sync with its CI, speculation, waste,
    and the share of turns whose answer cut the user off."""
    head = (f"{'policy':<12} {'turns':>6}  {'turn latency s':^20}  {'first token s':^20}  "
            f"{'speedup vs sync':^22}  {'spec hits':>9}  {'wasted tok':>10}  {'cut off':>7}")
    sub = (f"{'':<12} {'':>6}  {'mean':>6} {'p50':>6} {'p90':>6}  {'mean':>6} {'p50':>6} "
           f"{'p90':>6}  {'mean':>6} {'[95% CI]':>15}  {'rate':>9}  {'per turn':>10}  {'turns':>7}")
    lines = [head, sub]
    for policy, p in summary["policies"].items():
        tl, ft = p["turn_latency"], p["first_token_latency"]
        sp = p.get("speedup_vs_sync")
        speed = (f"{sp['mean']:>6.2f} [{sp['ci95'][0]:.2f}, {sp['ci95'][1]:.2f}]".ljust(22)
                 if sp else f"{'-':>6}".ljust(22))
        hit = p["speculation"]["hit_rate"]
        lines.append(
            f"{policy:<12} {p['turns']:>6}  {tl['mean']:>6.2f} {tl['p50']:>6.2f} "
            f"{tl['p90']:>6.2f}  {ft['mean']:>6.2f} {ft['p50']:>6.2f} {ft['p90']:>6.2f}  "
            f"{speed}  {_f(hit):>9}  {p['wasted_tokens_per_turn']:>10.1f}  "
            f"{p['cut_off_per_turn']:>7.1%}")
    return "\n".join(lines)


def load_table(server: dict) -> str:
    """One row per policy: how loaded the shared server was (means over replications)."""
    lines = [f"{'shared server':<14} {'requests/s':>10} {'in system':>9} {'time in s':>9} "
             f"{'busy':>6} {'batch':>6} {'tokens/s':>9} {'queue wait s':>12}"]
    for policy, p in server.items():
        lines.append(f"{policy:<14} {p['arrival_rate']:>10.2f} {p['mean_in_system']:>9.2f} "
                     f"{p['mean_time_in_system']:>9.3f} {p['utilization']:>6.0%} "
                     f"{p['mean_batch']:>6.1f} {p['tokens_per_s']:>9.0f} "
                     f"{p['mean_queue_wait']:>12.3f}")
    return "\n".join(lines)
