"""The `server.batch_steps` table: a measured step of n = 1, 2, ... sequences over a step of
one, parsed and checked with the entry at fault named."""

import math

from rtsim.errors import InputError

MAX_STEPS = 4096
MAX_FACTOR = 1e6


def parse_steps(raw, where: str) -> tuple[float, ...] | None:
    """The table as a tuple of floats, or None for null."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_STEPS:
        raise InputError(f"{where}: must be a list of 1 to {MAX_STEPS} factors (the step of "
                         f"n sequences over a step of one), got {raw!r:.80}")
    steps = []
    for i, value in enumerate(raw):
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or not 1 <= value <= MAX_FACTOR):
            raise InputError(f"{where}[{i}]: must be a number within [1, {MAX_FACTOR:g}], "
                             f"got {value!r}")
        if i and value < steps[-1]:
            raise InputError(f"{where}[{i}]: must not be below the entry before "
                             f"({steps[-1]:g}), got {value!r}")
        steps.append(float(value))
    if steps[0] != 1:
        raise InputError(f"{where}[0]: must be 1 (a step of one sequence over itself), got "
                         f"{raw[0]!r}")
    return tuple(steps)
