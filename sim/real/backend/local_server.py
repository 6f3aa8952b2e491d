"""A model server run here as a child process on a free 127.0.0.1 port, as a context manager.

Subclasses give its name, its command line and the path that answers 200 once it is ready.
The process is stopped on exit of the block, at interpreter exit, and (on Linux) when the
thread that started it ends: start it from the main thread, not from a pool's worker. Its
output goes to a temporary log (`log_text()`), deleted on stop.
"""

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from rtsim.processes import die_with_parent
from rtsim.real.backend.errors import BackendError

LOG_TAIL = 3  # lines of the server's output an error quotes


def available_cores() -> int:
    """CPU cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def default_threads() -> int:
    """All cores but one: the spare core serves the HTTP thread and the client.

    With every core computing, llama.cpp's threads wait for each other whenever the
    server's HTTP thread or the client runs; on this project's 2-core machines decode then
    flips between 11 and 30 ms a token from one request to the next. One thread decodes
    at a steady 19-20 ms a token there.
    """
    return max(1, available_cores() - 1)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalServer:
    """A server process on a free loopback port; `command` and `ready_path` in subclasses."""

    name = "the model server"  # in error messages
    ready_path = "/v1/models"  # answers 200 once the model is loaded
    force_tool = "named"  # the client's `force_tool` for this server (see client.Backend)

    def __init__(self, model_path: str | Path | None, threads: int | None,
                 startup_timeout: float):
        self.model_path = model_path
        self.threads = threads or default_threads()
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (…/v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def model_file(self) -> Path:
        """The model file to serve; raises BackendError if it or the server is missing."""
        raise NotImplementedError

    def command(self, model: Path) -> list[str]:
        """The server's command line."""
        raise NotImplementedError

    def start(self):
        """Start the server and wait until it answers; raises BackendError if it cannot."""
        model = self.model_file()
        self.port = free_port()
        fd, name = tempfile.mkstemp(prefix="rtsim-llama-", suffix=".log")
        self.log_path = Path(name)
        with os.fdopen(fd, "wb") as log:
            try:
                self.process = subprocess.Popen(
                    self.command(model), stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                    preexec_fn=die_with_parent if sys.platform == "linux" else None)
            except OSError as exc:
                self.stop()
                raise BackendError(f"{self.name} cannot start: {exc.strerror or exc}") from None
        atexit.register(self.stop)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        url = f"http://127.0.0.1:{self.port}{self.ready_path}"
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.process.poll() is not None:
                raise BackendError(f"{self.name} exited with code {self.process.returncode}: "
                                   f"{self._log_tail()}")
            try:
                with opener.open(url, timeout=1.0) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise BackendError(f"{self.name} did not answer within "
                                   f"{self.startup_timeout:g} s: {self._log_tail()}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and remove its log."""
        atexit.unregister(self.stop)
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None

    def log_text(self) -> str:
        """Everything the running server has printed."""
        if self.log_path is None:
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def _log_tail(self) -> str:
        """The server's last few output lines, joined into one line."""
        lines = [ln.strip() for ln in self.log_text().splitlines() if ln.strip()]
        return " | ".join(ln[:200] for ln in lines[-LOG_TAIL:]) or "no output"
