"""B5's schedule of the book: the dependency graph read from the Makefile, the critical path
and the list-scheduled makespan with parallel jobs."""

import re
import shutil
import subprocess
import sys

import pytest

from snnlib.paths import REPO_ROOT

if str(REPO_ROOT) not in sys.path:  # benchmarks/ is a top-level package, not installed
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.b5_book import (  # noqa: E402
    book_graph,
    book_runs,
    critical_path,
    makespan,
    schedule_metrics,
)

# A(3) and B(2) are independent, C(4) waits for A, D(1) for B, E(2) for C and D.
GRAPH = {"A": [], "B": [], "C": ["A"], "D": ["B"], "E": ["C", "D"]}
SECONDS = {"A": 3.0, "B": 2.0, "C": 4.0, "D": 1.0, "E": 2.0}


def test_critical_path_and_makespan_of_a_tiny_graph():
    # by hand: A -> C -> E is 3 + 4 + 2 = 9 s, the longest chain (B -> D -> E is 5 s)
    assert critical_path(GRAPH, SECONDS) == (9.0, ["A", "C", "E"])
    # two jobs: A 0-3 and B 0-2; at 2 D (C still waits for A) 2-3; at 3 C 3-7; E 7-9
    two = makespan(GRAPH, SECONDS, jobs=2)
    assert two["seconds"] == 9.0
    assert two["schedule"] == {
        "A": (0.0, 3.0, 0),
        "B": (0.0, 2.0, 1),
        "D": (2.0, 3.0, 1),
        "C": (3.0, 7.0, 0),
        "E": (7.0, 9.0, 0),
    }
    assert makespan(GRAPH, SECONDS, jobs=1)["seconds"] == 12.0  # the sum
    assert makespan(GRAPH, SECONDS, jobs=5)["seconds"] == 9.0  # never below the critical path
    # a run without a measured time counts 0 s: A 0-3, B 0-2, D 2-3, C 3-3, E 3-5
    assert makespan(GRAPH, {**SECONDS, "C": None}, jobs=2)["seconds"] == 5.0
    with pytest.raises(ValueError, match="cycle"):
        critical_path({"A": ["B"], "B": ["A"]}, SECONDS)
    with pytest.raises(ValueError, match="cycle"):
        makespan({"A": ["B"], "B": ["A"]}, SECONDS)


def _makefile(tmp_path, extra=""):
    text = (
        "BOOK_RUNS := a__x b__x \\\n\tc__y 50_p__x\n"
        "$(foreach d,x,$(eval $(EXEC_DIR)/b__$(d).ipynb: $(EXEC_DIR)/a__$(d).ipynb))\n"
        "$(EXEC_DIR)/%.ipynb: build/src/%.ipynb\n"
        "$(EXEC_DIR)/50_p__x.ipynb: $(wildcard benchmarks/*.py) "
        "$(filter-out $(EXEC_DIR)/50_%,"
        "$(addprefix $(EXEC_DIR)/,$(addsuffix .ipynb,$(BOOK_RUNS))))\n" + extra
    )
    path = tmp_path / "Makefile"
    path.write_text(text)
    return path


def test_book_graph_reads_foreach_explicit_and_all_but_lines(tmp_path):
    path = _makefile(tmp_path, "$(EXEC_DIR)/c__y.ipynb: $(EXEC_DIR)/b__x.ipynb data/x.json\n")
    assert book_runs(path) == ["a__x", "b__x", "c__y", "50_p__x"]
    assert book_graph(path) == {
        "a__x": [],
        "b__x": ["a__x"],
        "c__y": ["b__x"],
        "50_p__x": ["a__x", "b__x", "c__y"],
    }
    with pytest.raises(ValueError, match="cannot read"):
        book_graph(_makefile(tmp_path, "$(EXEC_DIR)/$(OTHER): $(EXEC_DIR)/a__x.ipynb\n"))
    with pytest.raises(ValueError, match="not in BOOK_RUNS"):
        book_graph(_makefile(tmp_path, "$(EXEC_DIR)/z__q.ipynb: $(EXEC_DIR)/a__x.ipynb\n"))


def _make_database_graph(tmp_path) -> dict[str, list[str]]:
    """GNU make's own reading of the Makefile (``make -pq`` in a scratch copy: nothing is
    built, nothing is installed): the run prerequisites of every run."""
    work = tmp_path / "mk"
    work.mkdir()
    shutil.copy(REPO_ROOT / "Makefile", work / "Makefile")
    out = subprocess.run(
        ["make", "-pq", "help"], cwd=work, capture_output=True, text=True, timeout=120
    ).stdout
    graph = {}
    for line in out.splitlines():
        m = re.match(r"^build/executed-cpu/([^%/:]+)\.ipynb:(.*)$", line)
        if m:
            deps = re.findall(r"build/executed-cpu/([^ %]+)\.ipynb", m.group(2))
            graph.setdefault(m.group(1), set()).update(deps)
    return {k: sorted(v) for k, v in graph.items()}


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
def test_parsed_graph_is_what_make_reads(tmp_path):
    ours = book_graph()
    theirs = _make_database_graph(tmp_path)
    assert set(ours) == set(book_runs()) and len(ours) > 10
    assert {k: sorted(v) for k, v in ours.items()} == {r: theirs.get(r, []) for r in ours}
    assert ours["11_mse_retrain__cifar10"] == ["10_mse_search__cifar10"]
    # the performance page runs after every run but the reproduction report, which runs last
    assert len(ours["50_performance__digits"]) == len(ours) - 2
    assert "52_reproduction__digits" not in ours["50_performance__digits"]
    assert len(ours["52_reproduction__digits"]) == len(ours) - 1


def test_schedule_metrics_of_the_book():
    walls = {r: 10.0 for r in book_runs()}
    m = schedule_metrics(walls, jobs=2)
    assert m["total_seconds"] == 10.0 * len(walls)
    assert m["critical_path"][-2:] == ["50_performance__digits", "52_reproduction__digits"]
    assert m["critical_path_seconds"] == 50.0  # substrate -> search -> retrain -> 50 -> 52
    assert m["critical_path_seconds"] <= m["makespan_seconds"] <= m["total_seconds"]
    assert m["missing_counted_as_zero"] == []
