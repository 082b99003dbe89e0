"""The house plan, enforced: four layers, imports only downwards, no method imports another.

substrate (snnlib top level, snnlib.data) <- NAS core (snnlib.nas) <- methods (snnlib.mse,
snnlib.darts, snnlib.spikenas) <- book glue (snnlib.book). Read from the source with ``ast``
(nothing is imported), so a lazy import inside a function counts as much as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SNNLIB = Path(__file__).resolve().parent.parent / "snnlib"
SUBSTRATE_PACKAGES = {"data"}  # subpackages of the substrate layer
# every other subpackage of snnlib but the core and the book glue is a method: a new method
# package is checked without editing this test
METHODS = tuple(
    sorted(
        d.name
        for d in SNNLIB.iterdir()
        if (d / "__init__.py").exists() and d.name not in {"nas", "book", *SUBSTRATE_PACKAGES}
    )
)
RANK = {"substrate": 0, "nas": 1, "method": 2, "book": 3}


def layer_of(module: str) -> tuple[str, str | None]:
    """``snnlib.mse.genome`` -> ``("method", "mse")``; ``snnlib.train`` -> substrate."""
    parts = module.split(".")
    sub = parts[1] if len(parts) > 1 else None
    if sub == "nas":
        return "nas", None
    if sub in METHODS:
        return "method", sub
    if sub == "book":
        return "book", None
    return "substrate", None


def module_name(path: Path) -> str:
    rel = path.relative_to(SNNLIB.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Absolute names of every snnlib module ``path`` imports, with line numbers."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if node.module is None:  # "from . import x": each name is a module
                out += [(node.lineno, f"{name}.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, name))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return [(ln, n) for ln, n in out if n == "snnlib" or n.startswith("snnlib.")]


def violations() -> list[str]:
    bad = []
    for path in sorted(SNNLIB.rglob("*.py")):
        me = module_name(path)
        my_layer, my_method = layer_of(me)
        for line, target in imported_modules(path):
            layer, method = layer_of(target)
            where = f"{path.relative_to(SNNLIB.parent)}:{line} imports {target}"
            if RANK[layer] > RANK[my_layer]:
                bad.append(f"{where}: {my_layer} may not import the {layer} layer")
            elif layer == "method" and my_layer == "method" and method != my_method:
                bad.append(f"{where}: method {my_method} may not import method {method}")
    return bad


def test_imports_only_go_down_the_layers():
    assert violations() == []


@pytest.mark.parametrize(
    "module, expected",
    [
        ("snnlib.train", ("substrate", None)),
        ("snnlib.data.cifar", ("substrate", None)),
        ("snnlib.nas.proxies", ("nas", None)),
        ("snnlib.mse.genome", ("method", "mse")),
        ("snnlib.darts", ("method", "darts")),
        ("snnlib.book.results", ("book", None)),
    ],
)
def test_layer_of(module, expected):
    assert layer_of(module) == expected


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """A substrate module that imports a method, and a method that imports another, are caught."""
    fake = tmp_path / "snnlib"
    (fake / "mse").mkdir(parents=True)
    (fake / "darts").mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "train.py").write_text("from .mse import genome\n")
    (fake / "mse" / "__init__.py").write_text("")
    (fake / "darts" / "__init__.py").write_text("def f():\n    from ..mse import x\n")
    monkeypatch.setitem(globals(), "SNNLIB", fake)
    found = violations()
    assert len(found) == 2
    assert any(
        "train.py:1 imports snnlib.mse: substrate may not import the method layer" in v
        for v in found
    )
    assert any(
        "darts/__init__.py:2 imports snnlib.mse: method darts may not import method mse" in v
        for v in found
    )


def test_method_packages_are_found_from_the_tree():
    assert {"mse", "darts", "spikenas"} <= set(METHODS)
    assert all(layer_of(f"snnlib.{m}.x") == ("method", m) for m in METHODS)
