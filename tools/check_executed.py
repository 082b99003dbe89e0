"""Fail the book build when an executed notebook holds an error output.

Usage: python tools/check_executed.py NOTEBOOK.ipynb...

papermill stops at the first failing cell, but an executed notebook can still carry an error
output (a cell tagged ``raises-exception``, a notebook executed by other means, a stale file),
and ``jupyter-book build -W --keep-going`` renders it as a page. This guard lists every error
output (notebook, cell number, exception) on stderr and exits 1; cells tagged
``raises-exception`` are errors on purpose and are skipped. Standard library only.
"""

from __future__ import annotations

import json
import sys


def errors(path: str) -> list[str]:
    """``"<path>: cell <n>: <ename>: <evalue>"`` for every error output of a notebook."""
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
    except (OSError, ValueError) as exc:
        return [f"{path}: cannot be read as a notebook ({exc})"]
    out = []
    for n, cell in enumerate(nb.get("cells", [])):
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.append(f"{path}: cell {n}: {o.get('ename')}: {o.get('evalue')}")
    return out


def main(paths: list[str]) -> int:
    found = [e for p in paths for e in errors(p)]
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(
            f"check_executed: {len(found)} error output(s); the book is not built", file=sys.stderr
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
