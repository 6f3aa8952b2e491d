"""The built wheel installs one top-level package, `rtsim`, with every subpackage, the built-in
data and the `rtsim` command; the installed package imports and runs.

The wheel is built once per module, the way pip builds it for a user: `pip wheel --no-deps` with
build isolation, which fetches the build backend from the package registry. Only when pip cannot
reach that backend is the wheel test skipped; any other build failure fails it.

The build runs on a copy of the source tree, so that it writes no `build/` or `*.egg-info` into
the repository, and so that a stale `build/lib` left by an earlier in-tree build (setuptools ships
what it finds there, including modules since deleted) cannot hide or add files.
"""

import ast
import configparser
import importlib
import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Repository folder -> the package it installs as (pyproject.toml's [tool.setuptools.package-dir]).
PACKAGE_DIRS = {
    "sim": "rtsim",
    "policies": "rtsim.policies",
    "reports": "rtsim.reports",
    "scenarios": "rtsim.scenarios",
}

# Top-level entries of the repository that are not source: never copied for the build.
_NOT_SOURCE = {".git", ".venv", "venv", "build", "dist", ".hypothesis", ".ruff_cache",
               ".pytest_cache", "runs", "traces"}

# What pip prints when it could not install the build backend because no index offered it.
_BACKEND_UNREACHABLE = "install build dependencies did not run successfully"
_NO_VERSIONS = "(from versions: none)"


def _ignore_non_source(folder, names):
    """shutil.copytree's ignore: caches, build output, virtualenvs and run output."""
    ignored = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    ignored |= {n for n in names if (Path(folder, n) / "pyvenv.cfg").exists()}
    if Path(folder).resolve() == ROOT:
        ignored |= _NOT_SOURCE & set(names)
    return ignored


def _repo_packages():
    """rtsim.* names of every folder under the package folders that holds a .py file."""
    packages = set()
    for folder, package in PACKAGE_DIRS.items():
        base = ROOT / folder
        for module in base.rglob("*.py"):
            if "__pycache__" in module.parts:
                continue
            relative = module.parent.relative_to(base).parts
            packages.add(".".join((package, *relative)))
    return packages


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The repository's wheel, built once for this module, opened for reading."""
    tmp = tmp_path_factory.mktemp("wheel")
    source, out = tmp / "source", tmp / "dist"
    shutil.copytree(ROOT, source, ignore=_ignore_non_source)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(source)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=tmp)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        if _BACKEND_UNREACHABLE in log and _NO_VERSIONS in log:
            errors = "; ".join(line.strip() for line in log.splitlines() if "ERROR:" in line)
            pytest.skip(f"pip could not reach a build backend ([build-system] requires): {errors}")
        pytest.fail(f"pip wheel failed (exit {proc.returncode}):\n{log}")
    wheels = sorted(out.glob("rtsim-*.whl"))
    assert len(wheels) == 1, f"expected one rtsim wheel in {out}, found {wheels}\n{log}"
    with zipfile.ZipFile(wheels[0]) as opened:
        yield opened


def test_wheel_installs_only_rtsim(wheel):
    top = {PurePosixPath(name).parts[0] for name in wheel.namelist()}
    dist_info = {name for name in top if name.startswith("rtsim-") and name.endswith(".dist-info")}
    assert len(dist_info) == 1, f"expected one rtsim-*.dist-info, top-level entries: {top}"
    assert top - dist_info == {"rtsim"}, f"top-level entries besides rtsim's dist-info: {top}"


def test_wheel_has_every_package(wheel):
    in_wheel = {name for name in wheel.namelist() if name.endswith("/__init__.py")}
    expected = _repo_packages()
    assert {"rtsim", "rtsim.cli", "rtsim.policies"} <= expected  # the walk found the packages
    missing = sorted(p for p in expected if p.replace(".", "/") + "/__init__.py" not in in_wheel)
    assert not missing, ("packages missing from the wheel (list them in [tool.setuptools] "
                         f"packages in pyproject.toml, each with an __init__.py): {missing}")


def test_wheel_has_builtin_data(wheel):
    names = set(wheel.namelist())
    for pattern in ("*.yaml", "traces/*.jsonl"):
        in_repo = sorted(p.relative_to(ROOT / "scenarios").as_posix()
                         for p in (ROOT / "scenarios").glob(pattern))
        assert in_repo, f"no scenarios/{pattern} in the repository"
        missing = [p for p in in_repo if f"rtsim/scenarios/{p}" not in names]
        assert not missing, f"built-in data missing from the wheel (package-data): {missing}"


def test_wheel_entry_point(wheel):
    found = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert len(found) == 1, f"expected one entry_points.txt, found {found}"
    text = wheel.read(found[0]).decode()
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.optionxform = str  # entry point names are case-sensitive
    parser.read_string(text)
    assert parser.has_section("console_scripts"), text
    assert parser["console_scripts"].get("rtsim") == "rtsim.cli:main", text


def _run_python(*args, cwd):
    """Run the current interpreter outside the repository; its stdout, after it succeeded."""
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)
    assert proc.returncode == 0, f"python {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}"
    return proc.stdout.strip()


def test_python_m_rtsim_version(tmp_path):
    version = _run_python("-m", "rtsim", "--version", cwd=tmp_path)
    assert "rtsim" in version and importlib.metadata.version("rtsim") in version, version


def test_import_rtsim_all(tmp_path):
    exported = ast.literal_eval(_run_python("-c", "import rtsim; print(rtsim.__all__)",
                                            cwd=tmp_path))
    assert isinstance(exported, list) and exported, f"rtsim.__all__ = {exported!r}"
    assert all(isinstance(name, str) for name in exported), f"rtsim.__all__ = {exported!r}"
    rtsim = importlib.import_module("rtsim")
    missing = [name for name in exported if not hasattr(rtsim, name)]
    assert not missing, f"names in rtsim.__all__ that rtsim does not have: {missing}"
