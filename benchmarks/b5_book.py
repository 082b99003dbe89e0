"""B5: the book's cost. Wall seconds of every notebook run at ``cpu`` scale, read from the
result files' provenance (``data/results/<notebook>__<dataset>__cpu__seed<seed>.json``,
``provenance.wall_seconds``), and their total.

The expected runs are the Makefile's ``BOOK_RUNS``; runs without a result file are listed as
missing (their time is unknown, so the total is a lower bound until none is missing). Result
files of runs not in ``BOOK_RUNS`` are reported too. Nothing is timed here: the notebooks
time themselves (``ResultRun`` measures from the parameters cell to ``run.write``).

**Schedule.** ``make book`` runs notebooks ``JOBS = 2`` at a time, each waiting for the runs
it depends on. :func:`book_graph` reads those dependencies from the Makefile itself (the
explicit ``$(EXEC_DIR)/<run>.ipynb: ...`` lines and the ``$(foreach ...,$(eval ...))`` lines;
any other line that names a run as a target is an error, so the parse cannot silently drift
from the Makefile: ``tests/test_b5_schedule.py`` checks it against the file's text).
:func:`critical_path` is the longest chain of dependent runs (the wall time no number of jobs
can beat), :func:`makespan` a list-scheduling simulation of ``jobs`` parallel jobs: whenever a
job slot is free it starts the first run, in ``BOOK_RUNS`` order, whose dependencies have all
finished: the policy ``make book`` follows (``tools/run_book.py``; GNU make's own ``-j`` would
start a skipped run only after every later one). Each run takes its measured wall seconds; a
run without a result file counts 0 s (listed as missing). The measured seconds are the runs'
own wall times; in ``make book`` two notebooks share two cores, one thread each, so each is
measured with the other running.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container, Mapping, Sequence
from pathlib import Path

from snnlib.paths import REPO_ROOT, results_dir

from .harness import BenchConfig

NAME = "b5_book"
DATASET = "all"
DESCRIPTION = "wall seconds per notebook run of the book at cpu scale (from result provenance)"
BOOK_SCALE = "cpu"
JOBS = 2  # the Makefile's default ``make book -j$(JOBS)``


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


def _split_top(text: str) -> list[str]:
    """Whitespace-separated tokens of make text, keeping ``$(...)`` groups whole."""
    tokens, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch.isspace() and depth == 0:
            if cur:
                tokens.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        tokens.append(cur)
    return tokens


_RUN = re.compile(r"^\$\(EXEC_DIR\)/([A-Za-z0-9_.+-]+__[A-Za-z0-9_.+-]+)\.ipynb$")
_ALL_BUT = re.compile(
    r"^\$\(filter-out \$\(EXEC_DIR\)/([^,]*),"
    r"\$\(addprefix \$\(EXEC_DIR\)/,\$\(addsuffix \.ipynb,\$\(BOOK_RUNS\)\)\)\)$"
)
_FOREACH = re.compile(r"^\$\(foreach (\w+),([^,]*),\$\(eval (.*)\)\)\s*$")


def _runs_of(token: str, runs: Sequence[str]) -> list[str] | None:
    """The book runs a prerequisite token names (None: not a run, e.g. source files)."""
    m = _RUN.match(token)
    if m:
        return [m.group(1)]
    m = _ALL_BUT.match(token)
    if m:
        pattern = re.compile("^" + re.escape(m.group(1)).replace("%", ".*") + "$")
        return [r for r in runs if not pattern.match(f"{r}.ipynb")]
    return None


def _rule(line: str, runs: Sequence[str], graph: dict[str, set[str]]) -> None:
    targets, _, prereqs = line.partition(":")
    names = []
    for tok in _split_top(targets):
        m = _RUN.match(tok)
        if not m:
            raise ValueError(f"Makefile: cannot read the dependency line {line!r}")
        names.append(m.group(1))
    deps = [r for tok in _split_top(prereqs) for r in (_runs_of(tok, runs) or [])]
    for name in names:
        if name not in graph:
            raise ValueError(f"Makefile: {name} has dependencies but is not in BOOK_RUNS")
        graph[name].update(d for d in deps if d != name)


def book_graph(makefile: str | Path = REPO_ROOT / "Makefile") -> dict[str, list[str]]:
    """``{run: [runs it waits for]}`` for every book run, in ``BOOK_RUNS`` order, from the
    Makefile's explicit and ``$(foreach ...)`` dependency lines (see the module docstring).
    Raises ``ValueError`` on a dependency line it cannot read."""
    text = Path(makefile).read_text().replace("\\\n", " ")
    runs = book_runs(makefile)
    graph: dict[str, set[str]] = {r: set() for r in runs}
    for line in text.splitlines():
        line = line.strip()
        m = _FOREACH.match(line)
        if m:
            var, values, body = m.groups()
            for value in values.split():
                _rule(body.replace(f"$({var})", value), runs, graph)
        elif line.startswith("$(EXEC_DIR)/") and not line.startswith("$(EXEC_DIR)/%"):
            _rule(line, runs, graph)
    return {r: [d for d in runs if d in graph[r]] for r in runs}


def critical_path(
    graph: Mapping[str, Sequence[str]], seconds: Mapping[str, float]
) -> tuple[float, list[str]]:
    """The longest chain of dependent runs: its seconds and its runs, first to last."""
    finish: dict[str, tuple[float, list[str]]] = {}

    def visit(run: str, stack: tuple[str, ...] = ()) -> tuple[float, list[str]]:
        if run in stack:
            raise ValueError(f"dependency cycle through {run}")
        if run not in finish:
            best = max(
                (visit(d, stack + (run,)) for d in graph.get(run, ())),
                key=lambda v: v[0],
                default=(0.0, []),
            )
            finish[run] = (best[0] + float(seconds.get(run) or 0.0), [*best[1], run])
        return finish[run]

    return max((visit(r) for r in graph), key=lambda v: v[0], default=(0.0, []))


def next_run(
    order: Sequence[str],
    graph: Mapping[str, Sequence[str]],
    done: Container[str],
    started: Container[str],
) -> str | None:
    """The first run of ``order`` not started whose dependencies are all ``done``: the choice
    of the list scheduling, in :func:`makespan` and in ``tools/run_book.py`` (``make book``).

    >>> g = {"search": [], "retrain": ["search"], "other": []}
    >>> next_run(list(g), g, set(), set())
    'search'
    >>> next_run(list(g), g, set(), {"search"})       # retrain waits: the next ready run
    'other'
    >>> next_run(list(g), g, {"search"}, {"search", "other"})
    'retrain'
    """
    for run in order:
        if run not in started and all(d in done for d in graph.get(run, ())):
            return run
    return None


def makespan(
    graph: Mapping[str, Sequence[str]], seconds: Mapping[str, float], jobs: int = 2
) -> dict:
    """List-scheduling simulation of ``jobs`` parallel jobs (see the module docstring).

    Returns the makespan in seconds and every run's ``(start, end, slot)``.
    """
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    order = list(graph)
    done: dict[str, float] = {}
    running: list[tuple[float, str, int]] = []  # (end, run, slot)
    schedule: dict[str, tuple[float, float, int]] = {}
    free = list(range(jobs))
    now = 0.0
    while len(schedule) < len(order) or running:
        while free and (run := next_run(order, graph, done, schedule)) is not None:
            slot = free.pop(0)
            end = now + float(seconds.get(run) or 0.0)
            schedule[run] = (now, end, slot)
            running.append((end, run, slot))
        if not running:
            todo = [r for r in order if r not in schedule]
            raise ValueError(f"dependency cycle or unknown run among {todo}")
        running.sort()
        end, run, slot = running.pop(0)
        now = end
        done[run] = end
        free.append(slot)
        free.sort()
    return {"seconds": max(done.values(), default=0.0), "jobs": jobs, "schedule": schedule}


def schedule_metrics(
    wall_seconds: Mapping[str, float | None],
    makefile: str | Path = REPO_ROOT / "Makefile",
    jobs: int = 2,
) -> dict:
    """Critical path and makespan with ``jobs`` jobs of the book's runs at these wall seconds."""
    graph = book_graph(makefile)
    secs = {r: float(wall_seconds.get(r) or 0.0) for r in graph}
    cp_seconds, cp_runs = critical_path(graph, secs)
    span = makespan(graph, secs, jobs)
    total = sum(secs.values())
    return {
        "graph": graph,
        "total_seconds": total,
        "critical_path_seconds": cp_seconds,
        "critical_path": cp_runs,
        "jobs": jobs,
        "makespan_seconds": span["seconds"],
        "speedup_over_one_job": total / span["seconds"] if span["seconds"] else None,
        "schedule": {r: list(v) for r, v in span["schedule"].items()},
        "missing_counted_as_zero": [r for r in graph if wall_seconds.get(r) is None],
        "method": "list scheduling in BOOK_RUNS order, measured single-job wall seconds",
    }


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
    metrics["schedule"] = schedule_metrics(metrics["wall_seconds"], jobs=JOBS)
    return {"metrics": metrics, "params": {"book_scale": BOOK_SCALE}}


def headline(m: dict) -> str:
    miss = f"; missing: {', '.join(m['missing'])}" if m["missing"] else ""
    sch = m.get("schedule", {})
    return (
        f"{m['n_found']} runs at scale={m['scale']}, total {m['total_wall_seconds']:.1f} s; "
        f"critical path {sch.get('critical_path_seconds', 0):.1f} s, makespan with "
        f"{sch.get('jobs')} jobs {sch.get('makespan_seconds', 0):.1f} s{miss}"
    )
