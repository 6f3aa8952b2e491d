"""Scenarios: the schema (`schema`: frozen dataclasses parsed from YAML, every value's range
checked), latency distributions (`distributions`), `--set` overrides (`overrides`), and
loading built-in or file scenarios and writing them back resolved (`load`).

May import: rtsim.errors, rtsim.files.
"""
