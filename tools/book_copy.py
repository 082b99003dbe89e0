"""Copy an executed notebook into the book, naming its run in the page title.

Usage: python tools/book_copy.py SRC.ipynb DST.ipynb DATASET SCALE

The same notebook runs on several datasets; without this every run page in the book's
navigation would carry the same title. The first level-1 heading gets " (<dataset>, <scale>)".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def retitle(nb: dict, suffix: str) -> dict:
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


def main(src: str, dst: str, dataset: str, scale: str) -> None:
    nb = json.loads(Path(src).read_text())
    Path(dst).write_text(json.dumps(retitle(nb, f"{dataset}, {scale}"), indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:5])
