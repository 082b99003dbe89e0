"""The book's API reference (book/api.md, book/api/*.md) names real modules and misses no core one.

The pages are built by Sphinx autodoc from ``.. automodule::`` directives; a misspelt or
removed module would only fail the (hour-long) book build, and a new module of the NAS core
or of SpikeNAS-Bench would silently have no reference entry. Both are checked here from the
page sources, without building the book.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "book" / "api.md", *sorted((ROOT / "book" / "api").glob("*.md"))]
# ``.. automodule:: snnlib.x`` inside an {eval-rst} block, or a MyST ```{automodule} snnlib.x
DIRECTIVE = re.compile(r"^\s*(?:\.\. automodule::|```\{automodule\})\s+(\S+)\s*$", re.M)
# every public module of these packages must have an entry
COVERED_PACKAGES = ("snnlib.nas", "snnlib.spikenas")


def documented_modules() -> list[str]:
    """Every module an API page documents, in page order (repeats kept)."""
    return [m for page in PAGES for m in DIRECTIVE.findall(page.read_text())]


def test_the_pages_exist_and_document_modules():
    assert all(page.is_file() for page in PAGES), PAGES
    assert len(documented_modules()) > 20


@pytest.mark.parametrize("module", sorted(set(documented_modules())))
def test_every_documented_module_imports(module):
    importlib.import_module(module)


def test_no_module_is_documented_twice():
    # a second automodule would describe every member twice (a Sphinx warning, -W fails)
    mods = documented_modules()
    assert sorted({m for m in mods if mods.count(m) > 1}) == []


@pytest.mark.parametrize("package", COVERED_PACKAGES)
def test_every_public_module_has_a_reference_entry(package):
    pkg = importlib.import_module(package)
    public = {
        f"{package}.{info.name}"
        for info in pkgutil.iter_modules(pkg.__path__)
        if not info.name.startswith("_")
    }
    assert public, package
    missing = sorted(public - set(documented_modules()))
    assert missing == [], f"add these modules to a page under book/api/: {missing}"


def test_the_pages_are_in_the_toc_and_autodoc_is_on():
    def files(node):
        if isinstance(node, dict):
            if "file" in node:
                yield node["file"]
            for value in node.values():
                yield from files(value)
        elif isinstance(node, list):
            for item in node:
                yield from files(item)

    toc = set(files(yaml.safe_load((ROOT / "_toc.yml").read_text())))
    pages = {page.relative_to(ROOT).with_suffix("").as_posix() for page in PAGES}
    assert pages <= toc, sorted(pages - toc)
    extensions = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["extra_extensions"]
    assert {"sphinx.ext.autodoc", "sphinx.ext.napoleon"} <= set(extensions)
