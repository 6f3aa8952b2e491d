"""Analysis of results: summaries with paired speedups, latency targets and their verdicts,
and measured-against-simulated fidelity.

May import: rtsim.errors, rtsim.files, rtsim.engine (metric definitions), and what it does.
"""
