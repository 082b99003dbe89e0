"""Copy an executed notebook into the book: a title that names the run, one parameters cell.

Usage: python tools/book_copy.py SRC.ipynb DST.ipynb DATASET SCALE

- The same notebook runs on several datasets; without a suffix every run page in the book's
  navigation would carry the same title. The first level-1 heading gets " (<dataset>, <scale>)".
- papermill leaves two parameter cells: the notebook's declared ``parameters`` cell (its
  defaults, with comments listing the choices) and the ``injected-parameters`` cell (the values
  of this run). A page shows one: the injected cell, holding the declared cell's lines with the
  injected values put in (so every parameter is there, with its comment), collapsed
  (``hide-cell``); the declared cell is removed from the page (``remove-cell``).

Standard library only: the Makefile runs this with the system Python.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

MERGED_HEADER = "# Parameters of this run (the notebook's defaults, papermill's values put in)\n"


def retitle(nb: dict, suffix: str) -> dict:
    """Append `` (<suffix>)`` to the first level-1 Markdown heading."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        lines = "".join(cell["source"]).splitlines(keepends=True)
        for i, line in enumerate(lines):
            if line.startswith("# "):
                lines[i] = (
                    line.rstrip("\n") + f" ({suffix})" + ("\n" if line.endswith("\n") else "")
                )
                cell["source"] = "".join(lines)
                return nb
    return nb


def _assignments(source: str) -> dict[str, ast.Assign]:
    """Top-level ``name = value`` statements of a cell, by name."""
    out = {}
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            out[node.targets[0].id] = node
    return out


def merge_parameters(declared: str, injected: str) -> str:
    """The declared parameters cell with each injected value put in place of its default.

    A one-line declaration keeps its trailing comment; parameters that papermill injected but
    the notebook does not declare are appended. Lines that assign nothing are kept as they are.
    """
    given = {
        name: ast.get_source_segment(injected, node.value)
        for name, node in _assignments(injected).items()
    }
    lines = declared.splitlines(keepends=True)
    replaced: dict[int, tuple[int, str]] = {}  # first line -> (last line, new text)
    for name, node in _assignments(declared).items():
        if name not in given:
            continue
        first, last = node.lineno - 1, node.end_lineno - 1
        text = lines[last]
        tail = text[node.value.end_col_offset :] if first == last else "\n"
        if not tail.endswith("\n"):
            tail += "\n"
        prefix = lines[first][: node.col_offset]
        replaced[first] = (last, f"{prefix}{name} = {given[name]}{tail}")
    out, i = [], 0
    while i < len(lines):
        if i in replaced:
            last, text = replaced[i]
            out.append(text)
            i = last + 1
        else:
            out.append(lines[i])
            i += 1
    if out and not out[-1].endswith("\n"):
        out[-1] += "\n"
    declared_names = set(_assignments(declared))
    out += [f"{n} = {v}\n" for n, v in given.items() if n not in declared_names]
    return "".join(out).rstrip("\n")


def _tags(cell: dict) -> list[str]:
    return cell.setdefault("metadata", {}).setdefault("tags", [])


def _add_tag(cell: dict, tag: str) -> None:
    tags = _tags(cell)
    if tag not in tags:
        tags.append(tag)


def tidy_parameters(nb: dict) -> dict:
    """One collapsed parameters cell per page (see the module docstring)."""
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    declared = next(
        (c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])), None
    )
    injected = next(
        (c for c in code if "injected-parameters" in c.get("metadata", {}).get("tags", [])), None
    )
    if declared is not None and injected is not None:
        merged = merge_parameters("".join(declared["source"]), "".join(injected["source"]))
        injected["source"] = MERGED_HEADER + merged
        _add_tag(declared, "remove-cell")
        _add_tag(injected, "hide-cell")
    elif declared is not None or injected is not None:
        _add_tag(declared if declared is not None else injected, "hide-cell")
    return nb


def book_page(nb: dict, dataset: str, scale: str) -> dict:
    """An executed notebook as the book shows it."""
    return tidy_parameters(retitle(nb, f"{dataset}, {scale}"))


def main(src: str, dst: str, dataset: str, scale: str) -> None:
    nb = json.loads(Path(src).read_text())
    Path(dst).write_text(json.dumps(book_page(nb, dataset, scale), indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:5])
