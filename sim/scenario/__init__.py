"""Scenarios: the schema of a scenario file, its distributions, `--set` overrides, loading.

May import: rtsim.errors, rtsim.files.
"""
