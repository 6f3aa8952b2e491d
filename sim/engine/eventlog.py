"""The event table both drivers write: one row per fact, stamped by the driver's clock.

Columns (COLUMNS): `t` seconds since the episode began; `turn`; `event`; `gen` (model
request id); `call` and `attempt`; `tokens`, `seconds`, `label` whose meaning depends on
the event (docs/events.md lists them).
"""

COLUMNS = ("t", "turn", "event", "gen", "call", "attempt", "tokens", "seconds", "label")


class Recorder:
    """Collects event rows in the order they happen."""

    __slots__ = ("rows",)

    def __init__(self):
        self.rows: list[tuple] = []

    def add(self, t: float, turn: int, event: str, gen: int = 0, call: str = "",
            attempt: int = 0, tokens: int = 0, seconds: float = 0.0, label: str = "") -> None:
        self.rows.append((t, turn, event, gen, call, attempt, tokens, seconds, label))
