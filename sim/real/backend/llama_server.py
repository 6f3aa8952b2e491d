"""`python -m rtsim.real.backend.llama_server ARGS`: llama-cpp-python's server (same ARGS) with
llama.cpp's extra weight buffer types (AMX, repacked weights) turned off.

A llama-cpp-python built on a CPU that reports AMX (GGML_NATIVE, the default) puts the
weights in AMX buffers, and its batched matrix kernels crash the process (SIGSEGV) on the
first prompt longer than one token on this project's machines. Plain CPU buffers work
everywhere.
"""

import runpy

import llama_cpp.llama_cpp as lib

_default_params = lib.llama_model_default_params


def _model_params():
    """llama.cpp's default model parameters without extra buffer types."""
    params = _default_params()
    if hasattr(params, "use_extra_bufts"):
        params.use_extra_bufts = False
    return params


if __name__ == "__main__":
    lib.llama_model_default_params = _model_params
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
