"""The one exception type for bad user input (scenario, trace, CLI value)."""


class InputError(ValueError):
    """A user-supplied input is invalid; the message names the file, key or value."""
