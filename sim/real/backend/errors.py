"""The one exception type for a failing backend."""


class BackendError(RuntimeError):
    """A backend request failed; the message is one line saying what and why (no secrets)."""
