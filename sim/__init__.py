"""rtsim: simulate and measure how much asynchronous I/O and speculative tool calling speed
up real-time voice agents.

    import rtsim
    scenario = rtsim.load_scenario("edge-3b", ["tools.default.latency=2.0"], seeds=5)
    result = rtsim.simulate(scenario, policies=["sync", "speculative"])
    result.speedups()            # mean turn latency and speedup vs sync, with its interval
    result.turns                 # one row per turn x policy x replication (docs/metrics.md)

The names below are loaded on first use, so `import rtsim` stays light. docs/api.md.
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "InputError": "rtsim.errors",
    "Result": "rtsim.api",
    "load_scenario": "rtsim.api",
    "load_traces": "rtsim.api",
    "import_traces": "rtsim.api",
    "simulate": "rtsim.api",
    "sweep": "rtsim.api",
    "validate": "rtsim.api",
    "report": "rtsim.api",
    "POLICIES": "rtsim.policies",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rtsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
