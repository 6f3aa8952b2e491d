"""Wording shared by what rtsim prints: counted nouns ('1 episode', '2 episodes') and how
to install an optional extra."""


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and `noun`, in the plural (`plural`, default noun + 's') unless `n` is 1."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def install_hint(extra: str, *packages: str) -> str:
    """The commands that install rtsim's optional `extra` (then `packages`, without their
    dependencies). rtsim is not on PyPI, so they run in its checkout."""
    commands = [f"pip install -e '.[{extra}]'", *(f"pip install --no-deps {p}" for p in packages)]
    return f"in the rtsim checkout: {' && '.join(commands)}"
