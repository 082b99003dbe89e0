"""B5: the book's cost. Wall seconds of every notebook run at ``cpu`` scale, read from the
result files' provenance (``data/results/<notebook>__<dataset>__cpu__seed<seed>.json``,
``provenance.wall_seconds``), and their total.

The expected runs are the Makefile's ``BOOK_RUNS``; runs without a result file are listed as
missing (their time is unknown, so the total is a lower bound until none is missing). Result
files of runs not in ``BOOK_RUNS`` are reported too. Nothing is timed here: the notebooks
time themselves (``ResultRun`` measures from the parameters cell to ``run.write``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from snnlib.paths import REPO_ROOT, results_dir

from .harness import BenchConfig

NAME = "b5_book"
DATASET = "all"
DESCRIPTION = "wall seconds per notebook run of the book at cpu scale (from result provenance)"
BOOK_SCALE = "cpu"


def book_runs(makefile: str | Path = REPO_ROOT / "Makefile") -> list[str]:
    """``<notebook>__<dataset>`` of every book run, from the Makefile's ``BOOK_RUNS``."""
    try:
        text = Path(makefile).read_text()
    except OSError:
        return []
    m = re.search(r"^BOOK_RUNS\s*:?=\s*((?:.*\\\n)*.*)$", text, flags=re.M)
    if not m:
        return []
    return [tok for tok in m.group(1).replace("\\\n", " ").split() if "__" in tok]


def collect(
    root: str | Path | None = None,
    scale: str = BOOK_SCALE,
    seed: int = 0,
    expected: list[str] | None = None,
) -> dict:
    """Wall seconds per run found under ``root`` and the list of expected runs without a file."""
    root = Path(root or results_dir())
    expected = book_runs() if expected is None else expected
    found: dict[str, dict] = {}
    suffix = f"__{scale}__seed{seed}.json"
    for path in sorted(root.glob(f"*{suffix}")) if root.exists() else []:
        if path.name.startswith("bench__"):
            continue
        run = path.name[: -len(suffix)]
        try:
            data = json.loads(path.read_text())
            prov = data.get("provenance", {})
            found[run] = {
                "wall_seconds": prov.get("wall_seconds"),
                "device": prov.get("device"),
                "end_utc": prov.get("end_utc"),
                "git_commit": prov.get("git_commit"),
                "file": path.name,
            }
        except (OSError, ValueError) as exc:
            found[run] = {
                "wall_seconds": None,
                "error": f"{type(exc).__name__}: {exc}",
                "file": path.name,
            }
    missing = [r for r in expected if r not in found]
    walls = [
        v["wall_seconds"] for v in found.values() if isinstance(v.get("wall_seconds"), (int, float))
    ]
    return {
        "scale": scale,
        "runs": found,
        "wall_seconds": {r: v["wall_seconds"] for r, v in found.items()},
        "total_wall_seconds": float(sum(walls)),
        "n_found": len(found),
        "expected": expected,
        "missing": missing,
        "not_in_book_runs": [r for r in found if expected and r not in expected],
        "total_is_complete": not missing,
    }


def run(cfg: BenchConfig) -> dict:
    metrics = collect(
        results_dir(), seed=cfg.seed
    )  # the experiments' results, wherever bench files go
    return {"metrics": metrics, "params": {"book_scale": BOOK_SCALE}}


def headline(m: dict) -> str:
    miss = f"; missing: {', '.join(m['missing'])}" if m["missing"] else ""
    return f"{m['n_found']} runs at scale={m['scale']}, total {m['total_wall_seconds']:.1f} s{miss}"
