"""Whether a tool only reads: the name-based rule shared by the importers.

The first word of the tool's name that is a known verb decides: a read verb (get, list,
search, ...) makes it read-only ("safe" to run speculatively), a write verb (set, add,
send, ...) makes it state-changing. A name with no known verb is read-only only when it is
a unit conversion (`gallon_to_liter`) or a stateless math tool (BFCL's MathAPI); any other
counts as state-changing, logins and `cd` included, because running a write early is the
costly mistake. A scenario's `tools.NAME.safe` overrides the rule.
"""

import re

READ_WORDS = frozenset({
    "get", "list", "search", "view", "display", "check", "find", "estimate", "compute", "retrieve",
    "filter", "fetch", "calculate", "think", "lookup", "read", "query", "count", "ls", "cat",
    "pwd", "du", "wc", "grep", "diff", "tail", "sort"
})
WRITE_WORDS = frozenset({
    "set", "add", "remove", "delete", "update", "create", "edit", "post", "send", "cancel", "book",
    "write", "clear", "replace", "append", "login", "logout", "authenticate", "register"
})
PURE_TOOLS = frozenset({
    "absolute_value", "add", "divide", "imperial_si_conversion", "logarithm", "max_value", "mean",
    "min_value", "multiply", "percentage", "power", "round_number", "si_unit_conversion",
    "square_root", "standard_deviation", "subtract", "sum_values"
})
_CONVERSION = re.compile(r"^[a-z]+_to_[a-z]+$")


def name_words(name: str) -> list[str]:
    """Lowercase words of a snake_case or camelCase tool name."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def is_read_only(name: str) -> bool:
    """True when the tool named `name` only reads (see the module docstring)."""
    if name in PURE_TOOLS:
        return True
    for word in name_words(name):
        if word in READ_WORDS:
            return True
        if word in WRITE_WORDS:
            return False
    return bool(_CONVERSION.match(name))
