"""Counted nouns in what rtsim prints: '1 episode', '2 episodes'."""


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and `noun`, in the plural (`plural`, default noun + 's') unless `n` is 1."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
