"""Importers: turn benchmark data and agent logs into trace episodes (docs/importers.md)."""
