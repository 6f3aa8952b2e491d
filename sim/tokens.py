"""Token count estimates from text, with a pluggable real tokenizer."""

import math
from collections.abc import Callable

CHARS_PER_TOKEN = 4
CALL_FRAMING_TOKENS = 4

_counter: Callable[[str], int] | None = None


def set_tokenizer(counter: Callable[[str], int] | None) -> None:
    """Use `counter(text) -> int` for every later estimate (None restores the default)."""
    global _counter
    _counter = counter


def count_tokens(text: str) -> int:
    """Tokens in `text`: the plugged tokenizer, else ceil(chars / 4), at least 1 if non-empty."""
    if not text:
        return 0
    if _counter is not None:
        return max(1, int(_counter(text)))
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))
