"""Files: atomic writes, reading YAML and JSON inputs with one-line errors, result tables.

May import: rtsim.errors only.
"""
