"""The package's rooms: imports run one way (CLI on top), policies import nothing of the
simulator, and no module imports itself through a cycle. docs/architecture.md."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"sim": "rtsim", "policies": "rtsim.policies", "reports": "rtsim.reports",
           "scenarios": "rtsim.scenarios"}
# Lowest first: a room may import rooms of lower layers and its own room, nothing else.
LAYERS = (
    ("errors", "processes", "text", "scenarios"),
    ("files",),
    ("policies",),
    ("scenario",),
    ("traces",),
    ("engine",),
    ("analysis",),
    ("sweeps", "real"),
    ("reports",),
    ("cli",),
    ("api", "__init__", "__main__"),
)
LAYER = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    found = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The package modules `path` imports, anywhere in it (functions included)."""
    out = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith("rtsim"):
                out.add(target)
    out.discard(name)
    return out


def room(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


GRAPH = {name: imports(path, name, set(modules())) for name, path in modules().items()}


def test_every_module_belongs_to_a_room():
    assert {room(m) for m in GRAPH} <= set(LAYER)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_run_downwards(module):
    mine = room(module)
    upward = sorted(t for t in GRAPH[module]
                    if room(t) != mine and LAYER[room(t)] >= LAYER[mine])
    assert not upward, f"{module} imports {upward} (room {mine} is below or beside them)"


def test_policies_import_nothing_outside_their_package():
    for module, targets in GRAPH.items():
        if room(module) == "policies":
            assert {room(t) for t in targets} <= {"policies"}, module


def test_no_import_cycles():
    # rtsim/__init__ re-exports lazily (nothing imports it), so a cycle is a real one
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(GRAPH.get(node, ())):
            if target == "rtsim":
                continue
            if state.get(target) == 1:
                cycle = trail[trail.index(target):] + [target]
                raise AssertionError(" -> ".join(cycle))
            if target not in state:
                visit(target, trail + [target])
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
