"""Amounts of money in tokens: "$25", "twenty-five dollars", "25 USD", "€3.50"."""

from decimal import Decimal

from rtsim.traces.spoken.numbers import Number

CURRENCIES = ("usd", "eur", "gbp")
_CENTS = ("cent", "cents", "pence", "p")


def read_amounts(toks: tuple[str, ...],
                 numbers: dict[int, list[Number]]) -> dict[int, tuple[int, Decimal, str]]:
    """(end, value, currency) of the amount read from each token where one starts."""
    out = {}
    for p, word in enumerate(toks):
        if word in CURRENCIES and (value := _value(numbers, p + 1)):
            out[p] = (value[0], value[1], word)
        elif (value := _value(numbers, p)) and value[0] < len(toks) \
                and toks[value[0]] in CURRENCIES:
            end, amount = value[0] + 1, value[1]
            cents = _value(numbers, end + 1) if end < len(toks) and toks[end] == "and" else None
            if cents and cents[0] < len(toks) and toks[cents[0]] in _CENTS and cents[1] < 100:
                end, amount = cents[0] + 1, amount + cents[1] / 100
            out[p] = (end, amount, toks[value[0]])
    return out


def _value(numbers, p: int) -> tuple[int, Decimal] | None:
    for n in numbers.get(p, ()):
        if n.value is not None and not n.ordinal:
            return n.end, n.value
    return None
