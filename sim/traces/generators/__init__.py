"""Seeded generators of synthetic trace sets (docs/trace-format.md)."""
