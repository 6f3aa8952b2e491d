"""Child processes that cannot outlive rtsim: the embedded model server and pool workers."""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """In a child process: get SIGTERM when the parent dies (Linux; elsewhere nothing).

    With the parent's pid, a child whose parent died before this call exits at once (the
    signal is only armed for a parent still alive)."""
    if sys.platform != "linux":
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent is not None and os.getppid() != parent:
        os._exit(1)
