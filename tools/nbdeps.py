"""Write make dependencies: each notebook depends on the snnlib modules it imports, transitively.

Usage: python tools/nbdeps.py notebooks/*.py > build/nbdeps.mk

A change to ``snnlib/darts/`` then re-executes only the notebooks that import it, so a second
``make book`` after an unrelated edit runs nothing it need not run. Imports are read
statically (``ast``), which is enough for a package that imports plainly.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = "snnlib"


def module_file(name: str) -> Path | None:
    """Path of an snnlib module or package ``__init__``, or None if it is not one."""
    parts = name.split(".")
    if parts[0] != PKG:
        return None
    base = ROOT.joinpath(*parts)
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.exists():
            return cand
    return None


def imported_modules(path: Path, package: str | None) -> set[str]:
    """Absolute names of snnlib modules imported by one file (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level and package:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names.add(mod)
            names.update(f"{mod}.{a.name}" for a in node.names)
    out = set()
    for n in names:
        parts = n.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c imports a and a.b too
            if module_file(".".join(parts[:i])):
                out.add(".".join(parts[:i]))
    return out


def closure(start: Path) -> set[Path]:
    seen: set[str] = set()
    todo = list(imported_modules(start, None))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        f = module_file(name)
        pkg = name if f.name == "__init__.py" else name.rpartition(".")[0]
        todo.extend(imported_modules(f, pkg) - seen)
    return {module_file(n) for n in seen}


def main(paths: list[str]) -> None:
    for p in map(Path, paths):
        deps = sorted(str(f.relative_to(ROOT)) for f in closure(p))
        print(f"NBDEPS_{p.stem} := {' '.join(deps)}")


if __name__ == "__main__":
    main(sys.argv[1:])
