"""Every package the project imports is declared in pyproject.toml (dependencies or extras).

Read from the source with ``ast`` (nothing is imported): each top-level module name outside
the standard library is mapped to the distribution that provides it, which must be named in
``[project] dependencies`` or an optional-dependency group.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys

import pytest

from snnlib.paths import REPO_ROOT

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

SOURCES = ("snnlib", "notebooks", "benchmarks", "tests", "tools", "book/_ext")
FIRST_PARTY = {"snnlib", "benchmarks"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    """Distribution names in pyproject.toml; ``dask[distributed]`` declares both."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for group in project.get("optional-dependencies", {}).values():
        reqs += group
    out = set()
    for req in reqs:
        m = re.match(r"\s*([A-Za-z0-9_.-]+)(?:\[([^\]]*)\])?", req)
        out.add(_norm(m.group(1)))
        out |= {_norm(e) for e in (m.group(2) or "").split(",") if e.strip()}
    return out


def imported() -> dict[str, str]:
    """Top-level third-party module names, each with one file that imports it."""
    out = {}
    for root in SOURCES:
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in FIRST_PARTY | {
                        "__future__"
                    }:
                        out.setdefault(top, str(path.relative_to(REPO_ROOT)))
    return out


def test_every_imported_package_is_declared():
    providers = importlib.metadata.packages_distributions()
    names = declared()
    undeclared = []
    for module, where in sorted(imported().items()):
        dists = {_norm(d) for d in providers.get(module, [module])}
        if not dists & names:
            undeclared.append(f"{module} (imported in {where}; provided by {sorted(dists)})")
    assert undeclared == []


def test_the_check_sees_imports_and_declarations():
    assert {"torch", "pandas", "PIL"} <= set(imported())
    assert {"pandas", "dask", "distributed", "pillow"} <= declared()
