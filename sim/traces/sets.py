"""Built-in trace sets (scenarios/traces/*.jsonl) and resolving a name or a path."""

import dataclasses
import os
from importlib import resources
from pathlib import Path

from rtsim.errors import InputError
from rtsim.files.inputs import is_file
from rtsim.traces.schema import Episode, load_traces


def builtin_trace_sets() -> dict[str, Path]:
    """Names of the built-in trace sets and their files."""
    folder = resources.files("rtsim.scenarios") / "traces"
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir()
            if p.name.endswith(".jsonl")}


def resolve_traces(name_or_path: str) -> Path:
    """The file of a built-in trace set name, or the given path if it exists."""
    builtins = builtin_trace_sets()
    if name_or_path in builtins:
        return builtins[name_or_path]
    path = Path(name_or_path)
    if not is_file(path):
        raise InputError(f"traces {name_or_path!r}: no such built-in trace set or file "
                         f"(built-in: {', '.join(sorted(builtins)) or 'none'})")
    return path


def pin_traces(scenario):
    """The scenario with its trace file as an absolute path (a built-in set keeps its name),
    so that its resolved YAML (a run's config.yaml) plays the same traces from any folder."""
    if scenario.traces in builtin_trace_sets():
        return scenario
    return dataclasses.replace(scenario, traces=os.path.abspath(resolve_traces(scenario.traces)))


def load_trace_set(name_or_path: str) -> list[Episode]:
    """Load a built-in trace set by name, or a trace file by path."""
    return load_traces(resolve_traces(name_or_path))
