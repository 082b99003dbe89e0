"""Run the book's notebook runs ``JOBS`` at a time, always starting the first ready run of
``BOOK_RUNS`` (the Makefile's order: the longest search -> retraining chains first).

Usage: python tools/run_book.py JOBS EXEC_DIR [MAKE_ARG ...]

``make -j2`` alone does not keep that order: GNU make walks its goals once, starts every run
whose prerequisites are done and skips the others, and comes back to a skipped run (a
retraining waiting for its search) only after it has started every later run of the list:
the longest chain then ends the book alone on one core. This driver is the list scheduling
that ``benchmarks/b5_book.py`` simulates: whenever fewer than ``JOBS`` runs are running, it
starts the first run, in ``BOOK_RUNS`` order, whose dependencies (read from the Makefile by
:func:`benchmarks.b5_book.book_graph`) have all finished, as ``make <EXEC_DIR>/<run>.ipynb``:
make still decides whether the run is out of date (an unchanged book runs nothing) and how to
run it. A failed run stops the start of new runs; the running ones finish; the exit status is
then 1 and the failed runs are named.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.b5_book import book_graph, next_run  # noqa: E402


def run_all(
    graph: Mapping[str, Sequence[str]],
    jobs: int,
    start: Callable[[str], subprocess.Popen],
    poll_seconds: float = 0.5,
) -> list[str]:
    """Run every run of ``graph`` (in its order of priority), ``jobs`` at a time; ``start(run)``
    launches one. Returns the runs that failed (empty: all succeeded)."""
    if jobs < 1:
        raise SystemExit(f"run_book: JOBS={jobs} must be at least 1")
    order = list(graph)
    done: set[str] = set()
    started: set[str] = set()
    failed: list[str] = []
    running: dict[str, subprocess.Popen] = {}
    while True:
        while not failed and len(running) < jobs:
            run = next_run(order, graph, done, started)
            if run is None:
                break
            started.add(run)
            running[run] = start(run)
        if not running:
            break
        time.sleep(poll_seconds)
        for run, proc in list(running.items()):
            rc = proc.poll()
            if rc is None:
                continue
            del running[run]
            if rc == 0:
                done.add(run)
            else:
                failed.append(run)
    not_run = [r for r in order if r not in started]
    if not failed and not_run:  # a dependency that names no run: a Makefile error
        raise SystemExit(f"run_book: runs never ready (dependency cycle?): {not_run}")
    return failed


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        raise SystemExit(__doc__.split("\n\n")[1])
    if not argv or not argv[0].isdigit():
        raise SystemExit(
            f"run_book: JOBS={argv[0] if argv else ''!r} must be a positive integer "
            "(make book JOBS=2: two notebooks at a time)"
        )
    jobs, exec_dir, make_args = int(argv[0]), argv[1], argv[2:]
    graph = book_graph(ROOT / "Makefile")

    def start(run: str) -> subprocess.Popen:
        cmd = ["make", "--no-print-directory", f"{exec_dir}/{run}.ipynb", *make_args]
        return subprocess.Popen(cmd, cwd=ROOT)

    failed = run_all(graph, jobs, start)
    if failed:
        print(f"run_book: failed: {' '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
