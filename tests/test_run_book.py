"""tools/run_book.py: the book's runs start in BOOK_RUNS priority, JOBS at a time, after their
dependencies; a failure stops new starts."""

import importlib.util
import subprocess

import pytest

from snnlib.paths import REPO_ROOT

_spec = importlib.util.spec_from_file_location("run_book", REPO_ROOT / "tools" / "run_book.py")
run_book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_book)


class FakeProc:
    """A run that 'takes' ``ticks`` polls and exits with ``rc``."""

    def __init__(self, log, run, ticks, rc):
        self.log, self.run, self.ticks, self.rc = log, run, ticks, rc
        log.append(("start", run))

    def poll(self):
        self.ticks -= 1
        if self.ticks > 0:
            return None
        if self.ticks == 0:
            self.log.append(("end", self.run))
        return self.rc


def _run(graph, ticks, jobs=2, fail=()):
    log = []
    failed = run_book.run_all(
        graph,
        jobs,
        lambda r: FakeProc(log, r, ticks[r], 1 if r in fail else 0),
        poll_seconds=0.0,
    )
    return log, failed


def test_a_retraining_starts_as_soon_as_its_search_ends_not_after_the_short_runs():
    graph = {"search": [], "retrain": ["search"], "a": [], "b": [], "c": []}
    log, failed = _run(graph, {"search": 2, "retrain": 5, "a": 3, "b": 3, "c": 3})
    assert failed == []
    starts = [r for kind, r in log if kind == "start"]
    # search and a first; when search ends, retrain (first ready in order) before b and c
    assert starts[:3] == ["search", "a", "retrain"]
    assert log.index(("start", "retrain")) > log.index(("end", "search"))


def test_never_more_than_jobs_at_once_and_every_run_once():
    graph = {f"r{i}": [] for i in range(7)}
    log, failed = _run(graph, {r: 1 + i % 3 for i, r in enumerate(graph)}, jobs=2)
    running, peak = 0, 0
    for kind, _ in log:
        running += 1 if kind == "start" else -1
        peak = max(peak, running)
    assert peak == 2 and failed == []
    assert sorted(r for k, r in log if k == "start") == sorted(graph)


def test_a_failure_stops_new_starts_and_is_reported():
    graph = {"search": [], "retrain": ["search"], "a": [], "b": []}
    log, failed = _run(graph, {"search": 1, "retrain": 1, "a": 4, "b": 1}, fail={"search"})
    assert failed == ["search"]
    started = {r for k, r in log if k == "start"}
    assert "retrain" not in started and "b" not in started
    assert ("end", "a") in log  # the running run finished


def test_jobs_must_be_positive():
    with pytest.raises(SystemExit, match="JOBS=0"):
        run_book.run_all({"a": []}, 0, lambda r: None)


def test_the_makefile_graph_is_read_and_every_run_is_a_make_target():
    from benchmarks.b5_book import book_graph

    graph = book_graph(REPO_ROOT / "Makefile")
    assert list(graph)[0] == "20_madarts_search__cifar10"  # the longest chain first
    assert graph["21_madarts_retrain__cifar10"] == ["20_madarts_search__cifar10"]
    out = subprocess.run(
        ["make", "-n", "--no-print-directory", f"build/executed-cpu/{list(graph)[0]}.ipynb"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
