"""Sweeps: grid specifications, the resumable sweep folder, where points run, the results
table.

May import: the rooms below it (errors, files, policies, scenario, traces, engine, analysis).
"""
