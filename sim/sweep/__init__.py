"""Sweeps: grid specifications, the resumable sweep folder, and where points run.

May import: the rooms below it (errors, files, policies, scenario, traces, engine, analysis).
"""
