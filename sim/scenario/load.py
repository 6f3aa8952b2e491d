"""Loading scenarios: built-in names or YAML files, with overrides, and the resolved YAML."""

import dataclasses
from importlib import resources
from pathlib import Path

import yaml

from rtsim.errors import InputError
from rtsim.files.inputs import is_file, read_yaml
from rtsim.scenario.overrides import apply_overrides, blame_override
from rtsim.scenario.schema import Scenario, parse_scenario


def builtin_scenarios() -> dict[str, Path]:
    """Built-in scenario names and their files."""
    folder = resources.files("rtsim.scenarios")
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir()
            if p.name.endswith(".yaml") and not p.name.endswith(".targets.yaml")}


def read_scenario_yaml(name_or_path: str) -> tuple[dict, str]:
    """The raw mapping of a built-in scenario name or a YAML path, and its label for errors."""
    builtins = builtin_scenarios()
    path = builtins.get(name_or_path) or Path(name_or_path)
    if not is_file(path):
        raise InputError(f"scenario {name_or_path!r}: no such built-in scenario or file "
                         f"(built-in: {', '.join(sorted(builtins))})")
    raw = read_yaml(path)
    if raw is not None and not isinstance(raw, dict):
        raise InputError(f"{path}: a scenario must be a YAML mapping")
    return raw or {}, str(path)


def load_scenario(name_or_path: str, overrides: list[str] = ()) -> Scenario:
    """Load a built-in or file scenario and apply `--set` overrides."""
    raw, label = read_scenario_yaml(name_or_path)
    try:
        return parse_scenario(apply_overrides(raw, list(overrides)), label)
    except InputError as exc:
        raise blame_override(exc, label, overrides) from None


def scenario_to_dict(scenario) -> dict:
    """The fully resolved scenario as plain YAML-ready data (round-trips through the loader)."""
    if hasattr(scenario, "to_yaml"):
        return scenario.to_yaml()
    if dataclasses.is_dataclass(scenario):
        return {f.name: scenario_to_dict(getattr(scenario, f.name))
                for f in dataclasses.fields(scenario)}
    if isinstance(scenario, dict):
        return {k: scenario_to_dict(v) for k, v in scenario.items()}
    return scenario


def scenario_yaml(scenario: Scenario) -> str:
    """YAML text of the resolved scenario."""
    return yaml.safe_dump(scenario_to_dict(scenario), sort_keys=False)


def dotted_lines(scenario: Scenario) -> list[str]:
    """The resolved scenario as `dotted.key: value` lines, one per value: the keys that
    `--set` and sweep grids take."""
    return [f"{key}: {_flow(value)}" for key, value in _leaves(scenario_to_dict(scenario))]


def _leaves(node, prefix: str = ""):
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}{key}.")
    else:
        yield prefix[:-1], node


def _flow(value) -> str:
    """A value as one line of YAML."""
    text = yaml.safe_dump(value, default_flow_style=True, width=float("inf"))
    return text.removesuffix("...\n").strip()
