"""The event log both drivers write: one typed row per fact, stamped by the driver's clock.

Fields of an `EventRow`: `t` seconds since the episode began; `turn`; `event`; `gen` (model
request id); `call` and `attempt`; `tokens`, `seconds`, `label`, whose meaning depends on
the event (docs/events.md lists them).
"""

from typing import NamedTuple


class EventRow(NamedTuple):
    """One fact of an episode run."""

    t: float
    turn: int
    event: str
    gen: int = 0
    call: str = ""
    attempt: int = 0
    tokens: int = 0
    seconds: float = 0.0
    label: str = ""


COLUMNS = EventRow._fields
_new = tuple.__new__  # builds an EventRow without its keyword-parsing constructor


class EventLog:
    """Collects an episode run's event rows in the order they happen."""

    __slots__ = ("rows",)

    def __init__(self):
        self.rows: list[EventRow] = []

    def add(self, t: float, turn: int, event: str, *, gen: int = 0, call: str = "",
            attempt: int = 0, tokens: int = 0, seconds: float = 0.0, label: str = "") -> None:
        self.rows.append(_new(EventRow, (t, turn, event, gen, call, attempt, tokens, seconds,
                                         label)))

    def put(self, t: float, turn: int, event: str, gen: int, call: str, attempt: int,
            tokens: int, seconds: float, label: str) -> None:
        """`add` with every field given, in column order (the drivers' busiest rows)."""
        self.rows.append(_new(EventRow, (t, turn, event, gen, call, attempt, tokens, seconds,
                                         label)))
