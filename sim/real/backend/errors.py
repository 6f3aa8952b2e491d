"""The one exception type for a failing backend."""

from rtsim.errors import OptionMessage


class BackendError(OptionMessage, RuntimeError):
    """A backend request failed; the message is one line saying what and why (no secrets)."""
