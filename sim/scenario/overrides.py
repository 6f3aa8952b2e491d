"""`--set` overrides: dotted keys set on a raw scenario mapping, and errors that name them."""

from rtsim.errors import InputError, option
from rtsim.files.inputs import parse_yaml
from rtsim.scenario.schema import RENAMED


def run_overrides(traces: str | None = None, seeds: int | None = None,
                  seed: int | None = None) -> list[str]:
    """The trace set, replications and root seed of a run as overrides (None: the
    scenario's own)."""
    return ([f"traces={traces}"] * bool(traces) + [f"seeds={seeds}"] * (seeds is not None)
            + [f"seed={seed}"] * (seed is not None))


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply `dotted.key=value` overrides (value read as YAML) to a raw scenario mapping."""
    raw = _deep_copy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{option('set')} {item!r}: expected dotted.key=value")
        value = parse_yaml(text, f"{option('set')} {item!r}: value")
        set_dotted(raw, key.strip(), value, f"{option('set')} {key.strip()}")
    return raw


def set_dotted(raw: dict, key: str, value, label: str) -> None:
    """Set `a.b.c` in nested mappings, creating levels; a scalar in the way is an error."""
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            child = node[part] = _expand_scalar(child, label)
        node = child
    node[parts[-1]] = value


def _expand_scalar(value, label: str) -> dict:
    """A fixed number in the way of a dotted key becomes `{dist: fixed, value: ...}`."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"dist": "fixed", "value": value}
    raise InputError(f"{label}: cannot set a key inside {value!r}")


def _deep_copy(raw):
    if isinstance(raw, dict):
        return {k: _deep_copy(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_deep_copy(v) for v in raw]
    return raw


def blame_override(exc: InputError, label: str, overrides) -> InputError:
    """Name `--set` rather than the scenario file when an override's key is at fault."""
    keys = {item.partition("=")[0].strip(): option("set") for item in overrides}
    return blame_keys(exc, label, keys)


def canonical_key(key: str) -> str:
    """A dotted key under the name the schema reports it by (an old section renamed)."""
    section, dot, rest = key.partition(".")
    return RENAMED.get(section, section) + dot + rest


def blame_keys(exc: InputError, label: str, sources: dict[str, str]) -> InputError:
    """Name where a key was set (`sources`: key -> e.g. `--set`) rather than the scenario
    `label` when that key, or one inside it, is at fault."""
    rest = exc.template.removeprefix(f"{label}: ")
    failing = rest.partition(":")[0]
    for given, source in sources.items():
        for key in dict.fromkeys((given, canonical_key(given))):
            if f"{key}.".startswith(f"{failing}.") or failing.startswith(f"{key}."):
                return InputError(f"{source} {given}{rest.removeprefix(key)}"
                                  if rest.startswith(key) else f"{source} {rest}")
    return exc
