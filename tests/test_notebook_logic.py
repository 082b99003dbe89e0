"""tools/notebook_logic.py: the logic lines of a notebook, rule by rule, on tiny synthetic
notebooks with exact counts, and on the book's real notebooks."""

import importlib.util
import json
from textwrap import dedent

from snnlib.paths import REPO_ROOT

_spec = importlib.util.spec_from_file_location(
    "notebook_logic", REPO_ROOT / "tools" / "notebook_logic.py"
)
nl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nl)

# header, a markdown cell whose text reads like code, a parameters cell and a setup cell holding
# logic (comprehensions, conditionals) that the exclusions must hide: 0 logic lines
HEADER = """# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # A title
# for x in xs:
#     rows.append(x[0][1])

# %% tags=["parameters"]
scale = "cpu"
seeds = [k for k in range(3)] if scale else []
if seeds:
    n = seeds["a"]["b"]

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
from myst_nb import glue

from snnlib.book.scales import (
    pick_scale,
)

cfg = pick_scale(
    scale,
    {
        "smoke": dict(n=[k for k in range(2)]),
        "cpu": dict(n=2 if scale else 3, m=cfg["a"]["b"]),
    },
)

# %%
"""
FIRST = HEADER.count("\n") + 1  # the first line of a test's body


def measure(tmp_path, body, name="99_test.py"):
    path = tmp_path / name
    path.write_text(HEADER + dedent(body), encoding="utf-8")
    return nl.measure(path)


def test_parameters_imports_scale_table_and_markdown_are_not_counted(tmp_path):
    r = measure(tmp_path, "x = run(cfg)\nglue('x', x, display=False)\n")
    assert r["logic_lines"] == 0
    assert r["functions"] == 0 and r["defines"] == []


def test_cells_kinds():
    kinds = [k for k, _, _ in nl.cells(HEADER.splitlines())]
    assert kinds == ["header", "markdown", "parameters", "code", "code"]


def test_markdown_cell_after_code_is_ignored(tmp_path):
    body = """\
    x = 1

    # %% [markdown]
    # [a for a in b] and d["k"]["j"]
    xs = [a for a in b]  # not jupytext's form: text cells are comments; shows they are skipped
    """
    r = measure(tmp_path, body)
    assert r["logic_lines"] == 0


def test_a_loop_that_only_plots_or_glues_counts_zero(tmp_path):
    body = """\
    fig, ax = plt.subplots()
    for x, y in zip(xs, ys):
        ax.scatter(x, y, s=4)  # a comment
        axes[0].set_title("t")
        plt.axhline(0)
        seed_points(ax, df, "g", "acc", order)
        _ = ax.set(xlabel="x")
    for k, v in values.items():
        glue(k, v, display=False)
        print(k)
        display(v)
    for row in grid:
        for ax in row:
            ax.axis("off")
    """
    r = measure(tmp_path, "from snnlib.book.figures import seed_points\n\n" + dedent(body))
    assert r["logic_lines"] == 0


def test_a_loop_that_builds_rows_counts_header_and_body(tmp_path):
    body = """\
    rows = []
    for s in seeds:
        # a comment line is no code line

        r = train(s)
        rows.append(
            {"seed": s, **r}
        )
    table = make_table(rows)
    """
    r = measure(tmp_path, body)
    assert r["logic_lines"] == 5
    assert r["by_rule"]["loop"] == 5
    # the loop: its header and 4 body lines, not the comment and blank lines
    assert list(r["lines"]) == [FIRST + k for k in (1, 4, 5, 6, 7)]


def test_a_loop_mixing_glue_with_other_work_counts(tmp_path):
    r = measure(
        tmp_path, "for k in keys:\n    v = compute(k)\n    glue(k, v)\nwhile go():\n    pass\n"
    )
    assert r["logic_lines"] == 3
    assert r["by_rule"]["loop"] == 3  # `while go(): pass` only "shows": 0


def test_comprehensions_and_lambdas(tmp_path):
    body = """\
    xs = [
        f(a)
        for a in items
    ]
    total = sum(x for x in xs)
    d = {k: v for k, v in pairs}
    s = {x for x in xs}
    key = sorted(rows, key=lambda r: r[0])
    """
    r = measure(tmp_path, body)
    assert r["logic_lines"] == 8
    assert r["by_rule"]["comprehension"] == 8


def test_chained_subscripts_dict_digging_and_masks(tmp_path):
    body = """\
    v = d["a"]["b"]
    w = d["a"]
    z = arr[i].attr[j]
    n = r.history[-1]["val"]
    g = d.get("a", {}).get("b")
    h = d["a"].get("b")
    k = cfg.get("a")
    sub = df[df["c"] == 1]
    both = df[(df["c"] > 1) & (df["d"] < 2)]
    inv = df[~flags]
    part = df.loc[df["c"] > 1, "d"]
    """
    r = measure(tmp_path, body)
    assert r["logic_lines"] == 8
    assert set(r["lines"]) == {FIRST + k for k in (0, 3, 4, 5, 7, 8, 9, 10)}
    assert set(r["lines"].values()) == {"subscript"}


def test_wrangling_calls_and_indexer_assignments(tmp_path):
    body = """\
    t = df.groupby("a").mean()
    d = df.to_dict(orient="records")
    c = cfg.to_dict()
    df.loc[0, "a"] = 1
    df.iloc[0] += 1
    y = np.where(x > 0, 1, 0)
    m = pd.concat([a, b], axis=1)
    t = df.rename(
        columns={"a": "b"},
    )
    u = df.round(3)
    """
    r = measure(tmp_path, body)
    assert r["logic_lines"] == 9
    assert r["by_rule"]["wrangling"] == 9


def test_branches_but_not_with(tmp_path):
    body = """\
    if flag:
        a = 1
    elif other:
        a = 3
    else:
        a = 2
    b = 1 if flag else 2
    c = flag or default
    with open(p) as f:
        text = f.read()
    try:
        x = load(p)
    except OSError:
        x = None
    """
    r = measure(tmp_path, body)
    assert r["logic_lines"] == 11
    assert r["by_rule"]["branch"] == 11


def test_definitions_are_counted_and_reported(tmp_path):
    body = """\
    @decorate
    def f(x):
        \"\"\"Doc.\"\"\"
        return [y for y in x]


    class Point:
        x: int = 0
    """
    r = measure(tmp_path, body)
    assert r["logic_lines"] == 6
    assert r["functions"] == 2
    assert r["defines"] == [{"name": "f", "line": FIRST + 1}, {"name": "Point", "line": FIRST + 6}]
    assert r["by_rule"]["def"] == 6


def test_a_line_counts_once(tmp_path):
    body = """\
    for r in rows:
        out[r] = [x["a"]["b"] for x in r if x] if r else df.groupby("k")
    """
    r = measure(tmp_path, body)
    assert r["logic_lines"] == 2
    assert r["by_rule"] == {
        "def": 0,
        "loop": 2,
        "branch": 0,
        "comprehension": 0,
        "subscript": 0,
        "wrangling": 0,
    }


def test_cli_sorts_totals_and_fails_over_max_or_on_a_def(tmp_path, capsys):
    one = measure(tmp_path, "xs = [a for a in b]\n", "20_one.py")
    two = measure(tmp_path, "for s in seeds:\n    run(s)\n", "10_two.py")
    assert (one["logic_lines"], two["logic_lines"]) == (1, 2)

    assert nl.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "10_two: 2 logic lines, 0 functions",
        "20_one: 1 logic lines, 0 functions",
        "notebook logic: 3 lines in 2 notebooks (no limit)",
    ]

    assert nl.main([str(tmp_path), "--max", "3"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("(limit 3)")
    assert nl.main([str(tmp_path), "--max", "2"]) == 1
    assert "3 lines exceed the limit of 2" in capsys.readouterr().err

    measure(tmp_path, "def helper():\n    return 1\n", "30_def.py")
    assert nl.main([str(tmp_path), "--max", "100"]) == 1
    assert f"30_def defines helper (line {FIRST})" in capsys.readouterr().err

    assert nl.main([str(tmp_path / "10_two.py"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == 2 and data["limit"] is None
    assert data["notebooks"][0]["stem"] == "10_two"
    assert data["notebooks"][0]["lines"] == {str(FIRST): "loop", str(FIRST + 1): "loop"}


def test_real_notebooks(capsys):
    paths = nl.notebook_paths([])
    assert paths == sorted((REPO_ROOT / "notebooks").glob("[0-9]*.py")) and paths
    results, total = nl.report(paths)
    assert total > 0
    assert sorted(r["stem"] for r in results) == sorted(p.stem for p in paths)
    assert [r["logic_lines"] for r in results] == sorted(
        (r["logic_lines"] for r in results), reverse=True
    )
    assert nl.main([]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == f"notebook logic: {total} lines in {len(paths)} notebooks (no limit)"
