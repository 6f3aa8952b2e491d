"""Traces: the episode schema, its reader and writer, built-in sets, statistics, when values
are spoken (known-at), token counts, importers of benchmark data and logs, generators.

May import: rtsim.errors, rtsim.files.
"""
