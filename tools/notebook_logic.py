"""Measure how much *logic* the book's notebooks hold (issue "notebooks that only call", item 4).

Usage: python tools/notebook_logic.py [notebooks/*.py ...] [--max N] [--json] [--show]

Each notebook (a jupytext percent ``.py`` file; default: every ``notebooks/[0-9]*.py`` of the
repository) is parsed with :mod:`ast` and :mod:`tokenize`, and its *logic lines* are counted.
One line per notebook is printed, most logic first (``<stem>: <n> logic lines, <k> functions``),
then ``notebook logic: <total> lines in <n> notebooks (limit N)``. ``--json`` prints the same as
JSON, with the counted line numbers, the rule that claimed each line and a count per rule;
``--show`` lists every counted line under its notebook. With ``--max N`` the script exits 1 when
the total exceeds ``N`` or any notebook defines a function or class, and says why.

What counts
-----------
A *code line* is a physical line holding a Python token other than a comment (blank lines and
comment lines never count; a line holding only a closing bracket does; every line of a
multi-line string does). A code line is a *logic line* when it lies in the span (first to last
line, decorators included) of one of these, each rule a set of names below so it can be tuned:

``def``
    a function or class definition (``DEFINITION_NODES``): every line of it. By the project's
    conventions a notebook defines no function, so the definitions are also reported on their
    own (``functions``) and fail ``--max``.
``loop``
    a ``for``/``while`` statement (``LOOP_NODES``): header, body and ``else``; *except* a loop
    whose body holds only presentation: calls of ``PRESENTATION_FUNCTIONS`` (``glue``,
    ``display``, ``print``), calls on a plotting module or a name imported from one
    (``PLOT_MODULES``, ``PLOT_NAMES``: ``plt.*``, ``sns.*``, ``seed_points(...)``), calls of a
    plotting method (``PLOT_METHODS``: ``ax.scatter``, ``fig.tight_layout``, ...), such a call
    assigned to ``_``, ``pass``, and loops of the same kind. Such a loop counts 0 (its lines may
    still be claimed by another rule, e.g. a chained subscript in an argument).
``branch``
    an ``if``/``elif``/``else``, ``try``/``except``/``finally`` or ``match`` statement and a
    conditional expression ``a if c else b`` (``BRANCH_NODES``): every line. A ``with`` block is
    not logic; its body is judged statement by statement.
``comprehension``
    a list/set/dict comprehension, a generator expression or a ``lambda``
    (``COMPREHENSION_NODES``): every line.
``subscript``
    a chained subscript (``a[b][c]``, ``x["k"]["j"]``: a subscript of a subscript), dict digging
    (``.get(...)`` called on a subscript or on another ``.get(...)``), and a mask filter (a
    subscript whose index, or an element of whose index tuple, is a comparison or a ``&``,
    ``|``, ``^``, ``~`` combination: ``df[df["c"] == v]``): the lines of that expression.
``wrangling``
    a call of a data-wrangling function or method (``WRANGLING_CALLS``: pandas ``groupby``,
    ``merge``, ``pivot``, ``apply``, ``reset_index``, ``to_dict``, ..., numpy ``where``,
    ``isin``, ...; matched on the called name, ``x.name(...)`` or ``name(...)``; the names of
    ``WRANGLING_WITH_ARGUMENTS`` only when called with arguments, so that pandas'
    ``df.to_dict(orient="records")`` counts and a library object's ``cfg.to_dict()`` not), and an
    assignment through a pandas indexer (``INDEXER_ATTRS``: ``df.loc[...] = ...``): the lines of
    the call or of the assignment statement.

Never counted (``excluded`` lines win over every rule): markdown and raw cells, the parameters
cell (``# %% tags=["parameters"]``), import statements, and the scale table (the span of a call
of ``SCALE_TABLE_CALLS``, ``pick_scale(...)`` with all its argument lines). Plain calls and
assignments of library results, plotting calls, ``glue`` calls, boolean operators
(``x = a or b``), comparisons and arithmetic outside the forms above are not logic.

Each physical line counts at most once; when several rules claim it, the first of ``RULES``
names it. The count is a *measure*, not a proof: a clever one-liner may count 1 and a plain
20-line dictionary of results 0. It tells where notebook code drifts towards logic that
belongs in ``snnlib`` (``notebooks/CONVENTIONS.md``, rule 5) and whether the total goes down.
Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import re
import sys
import tokenize
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GLOB = "notebooks/[0-9]*.py"

# --- the rules, as data -----------------------------------------------------------------------

# the rules in the order that names a line claimed by several
RULES = ("def", "loop", "branch", "comprehension", "subscript", "wrangling")

DEFINITION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
LOOP_NODES = (ast.For, ast.AsyncFor, ast.While)
BRANCH_NODES = tuple(
    getattr(ast, name) for name in ("If", "IfExp", "Try", "TryStar", "Match") if hasattr(ast, name)
)
COMPREHENSION_NODES = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)

# calls that only show something: a loop of nothing else counts 0
PRESENTATION_FUNCTIONS = {"glue", "display", "print"}
# modules whose aliases (``import matplotlib.pyplot as plt``) and imported names
# (``from snnlib.book.figures import seed_points``) are plotting calls; submodules included
PLOT_MODULES = {"matplotlib", "seaborn", "snnlib.book.figures"}
# plotting names even when not imported in the notebook itself
PLOT_NAMES = {"plt", "sns", "mpl"}
# methods of matplotlib axes and figures (``ax.scatter(...)``, ``axes[0].set_ylabel(...)``)
PLOT_METHODS = {
    "add_patch",
    "annotate",
    "axhline",
    "axhspan",
    "axis",
    "axvline",
    "axvspan",
    "bar",
    "barh",
    "boxplot",
    "colorbar",
    "contour",
    "contourf",
    "errorbar",
    "fill_between",
    "fill_betweenx",
    "grid",
    "hist",
    "hlines",
    "imshow",
    "invert_xaxis",
    "invert_yaxis",
    "label_outer",
    "legend",
    "loglog",
    "margins",
    "matshow",
    "pcolormesh",
    "plot",
    "savefig",
    "scatter",
    "semilogx",
    "semilogy",
    "set",
    "set_aspect",
    "set_axis_off",
    "set_title",
    "set_xlabel",
    "set_xlim",
    "set_xscale",
    "set_xticklabels",
    "set_xticks",
    "set_ylabel",
    "set_ylim",
    "set_yscale",
    "set_yticklabels",
    "set_yticks",
    "step",
    "subplots_adjust",
    "suptitle",
    "supxlabel",
    "supylabel",
    "text",
    "tick_params",
    "tight_layout",
    "violinplot",
    "vlines",
}
# data-wrangling functions and methods (pandas, numpy), matched on the called name
WRANGLING_CALLS = {
    "agg",
    "aggregate",
    "apply",
    "applymap",
    "assign",
    "concat",
    "crosstab",
    "drop_duplicates",
    "dropna",
    "explode",
    "fillna",
    "groupby",
    "isin",
    "melt",
    "merge",
    "pivot",
    "pivot_table",
    "query",
    "rename",
    "reset_index",
    "select",
    "set_index",
    "sort_index",
    "sort_values",
    "stack",
    "to_dict",
    "to_records",
    "transform",
    "unstack",
    "where",
}
# of those, the ones that count only with arguments: pandas' ``df.to_dict(orient="records")``,
# not a library object's ``cfg.to_dict()`` (serialisation)
WRANGLING_WITH_ARGUMENTS = {"to_dict"}
# pandas indexers: an assignment through one (``df.loc[i, "c"] = v``) is wrangling
INDEXER_ATTRS = {"loc", "iloc", "at", "iat"}
# the scale table: the call and all its argument lines are not counted
SCALE_TABLE_CALLS = {"pick_scale"}
# cells that are not code
TEXT_CELL_KINDS = {"markdown", "md", "raw"}

# --- cells ------------------------------------------------------------------------------------

_MARKER = re.compile(r"^# %%(?!%)(?P<rest>.*)$")
_KIND = re.compile(r"^\s*\[(?P<kind>\w+)\]")
_TAGS = re.compile(r"tags\s*=\s*\[(?P<tags>[^\]]*)\]")


def cells(lines: list[str]) -> list[tuple[str, int, int]]:
    """``(kind, first, last)`` of every cell, 1-based inclusive line numbers; ``kind`` is
    ``"header"`` (before the first marker), ``"parameters"``, ``"code"`` or the bracketed kind
    of a text cell (``"markdown"``, ``"raw"``)."""
    out: list[tuple[str, int, int]] = []
    kind, first = "header", 1
    for n, line in enumerate(lines, start=1):
        m = _MARKER.match(line)
        if not m:
            continue
        if n > first:
            out.append((kind, first, n - 1))
        rest = m.group("rest")
        k, tags = _KIND.match(rest), _TAGS.search(rest)
        if k:
            kind = k.group("kind").lower()
        elif tags and re.search(r"""["']parameters["']""", tags.group("tags")):
            kind = "parameters"
        else:
            kind = "code"
        first = n
    if len(lines) >= first:
        out.append((kind, first, len(lines)))
    return out


# --- lines ------------------------------------------------------------------------------------

_NOT_CODE = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
}


def code_lines(source: str) -> set[int]:
    """The physical lines holding a token other than a comment."""
    rows: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in _NOT_CODE:
            rows.update(range(tok.start[0], tok.end[0] + 1))
    return rows


def span(node: ast.AST) -> range:
    """The lines of a node, decorators included."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return range(first, node.end_lineno + 1)


# --- rules ------------------------------------------------------------------------------------


def _root(node: ast.AST) -> ast.AST:
    """``plt`` of ``plt.gca().set_title``, ``axes`` of ``axes[0].plot``."""
    while True:
        if isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return node


def plot_names(tree: ast.AST) -> set[str]:
    """``PLOT_NAMES`` and the names the notebook binds to plotting modules or their members."""
    names = set(PLOT_NAMES)

    def plotting(module: str | None) -> bool:
        return bool(module) and any(module == m or module.startswith(m + ".") for m in PLOT_MODULES)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if plotting(a.name):
                    names.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and plotting(node.module):
            names.update(a.asname or a.name for a in node.names)
    return names


def presentation_call(node: ast.AST, plotting: set[str]) -> bool:
    """A call of ``glue``/``display``/``print``, of a plotting name or of a plotting method."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in PRESENTATION_FUNCTIONS or func.id in plotting
    if isinstance(func, ast.Attribute):
        root = _root(func)
        return func.attr in PLOT_METHODS or (isinstance(root, ast.Name) and root.id in plotting)
    return False


def presentation_only(stmts: list[ast.stmt], plotting: set[str]) -> bool:
    """Statements that only show: presentation calls (bare or assigned to ``_``), ``pass`` and
    loops of the same."""
    for s in stmts:
        if isinstance(s, ast.Pass):
            continue
        if isinstance(s, ast.Expr) and presentation_call(s.value, plotting):
            continue
        if (
            isinstance(s, ast.Assign)
            and len(s.targets) == 1
            and isinstance(s.targets[0], ast.Name)
            and s.targets[0].id == "_"
            and presentation_call(s.value, plotting)
        ):
            continue
        if isinstance(s, LOOP_NODES) and presentation_only(s.body + s.orelse, plotting):
            continue
        return False
    return True


def _is_mask(index: ast.AST) -> bool:
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return any(
        isinstance(p, ast.Compare)
        or (isinstance(p, ast.BinOp) and isinstance(p.op, ast.BitAnd | ast.BitOr | ast.BitXor))
        or (isinstance(p, ast.UnaryOp) and isinstance(p.op, ast.Invert))
        for p in parts
    )


def _is_get(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
    )


def _called_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _indexer_target(t: ast.AST) -> bool:
    return (
        isinstance(t, ast.Subscript)
        and isinstance(t.value, ast.Attribute)
        and t.value.attr in INDEXER_ATTRS
    )


def claims(tree: ast.AST) -> dict[str, set[int]]:
    """The lines each rule claims (before code lines and exclusions are applied)."""
    plotting = plot_names(tree)
    out: dict[str, set[int]] = {r: set() for r in RULES}
    for node in ast.walk(tree):
        if isinstance(node, DEFINITION_NODES):
            out["def"].update(span(node))
        elif isinstance(node, LOOP_NODES):
            if not presentation_only(node.body + node.orelse, plotting):
                out["loop"].update(span(node))
        elif isinstance(node, BRANCH_NODES):
            out["branch"].update(span(node))
        elif isinstance(node, COMPREHENSION_NODES):
            out["comprehension"].update(span(node))
        elif isinstance(node, ast.Subscript):
            if isinstance(node.value, ast.Subscript) or _is_mask(node.slice):
                out["subscript"].update(span(node))
        elif isinstance(node, ast.Call):
            if _is_get(node) and (
                isinstance(node.func.value, ast.Subscript) or _is_get(node.func.value)
            ):
                out["subscript"].update(span(node))
            name = _called_name(node)
            if name in WRANGLING_CALLS and (
                name not in WRANGLING_WITH_ARGUMENTS or node.args or node.keywords
            ):
                out["wrangling"].update(span(node))
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_indexer_target(t) for t in targets):
                out["wrangling"].update(span(node))
    return out


def excluded_lines(tree: ast.AST, lines: list[str]) -> set[int]:
    """Text cells, the parameters cell, imports and the scale table."""
    out: set[int] = set()
    for kind, first, last in cells(lines):
        if kind == "parameters" or kind in TEXT_CELL_KINDS:
            out.update(range(first, last + 1))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.update(span(node))
        elif isinstance(node, ast.Call) and _called_name(node) in SCALE_TABLE_CALLS:
            out.update(span(node))
    return out


# --- measuring --------------------------------------------------------------------------------


def measure_source(source: str, stem: str = "<source>") -> dict:
    """The logic of one notebook's source: ``stem``, ``logic_lines``, ``functions`` (the number
    of definitions), ``defines`` (``[{"name", "line"}]``), ``by_rule`` (lines per rule) and
    ``lines`` (``{line: rule}``)."""
    tree = ast.parse(source, filename=stem)
    lines = source.splitlines()
    code = code_lines(source)
    excluded = excluded_lines(tree, lines)
    named: dict[int, str] = {}
    for rule, rows in claims(tree).items():
        for row in sorted((rows & code) - excluded):
            named.setdefault(row, rule)
    defines = [
        {"name": n.name, "line": n.lineno}
        for n in ast.walk(tree)
        if isinstance(n, DEFINITION_NODES) and n.lineno not in excluded
    ]
    defines.sort(key=lambda d: d["line"])
    return {
        "stem": stem,
        "logic_lines": len(named),
        "functions": len(defines),
        "defines": defines,
        "by_rule": {r: sum(v == r for v in named.values()) for r in RULES},
        "lines": dict(sorted(named.items())),
    }


def measure(path: str | Path) -> dict:
    """:func:`measure_source` of a notebook file, with its ``path``."""
    path = Path(path)
    result = measure_source(path.read_text(encoding="utf-8"), path.stem)
    result["path"] = str(path)
    return result


def notebook_paths(args: list[str]) -> list[Path]:
    """The given files (a folder: its ``[0-9]*.py``), or every notebook of the repository."""
    if not args:
        return sorted(REPO_ROOT.glob(DEFAULT_GLOB))
    out: list[Path] = []
    for a in args:
        p = Path(a)
        out.extend(sorted(p.glob("[0-9]*.py")) if p.is_dir() else [p])
    return out


def report(paths: list[Path]) -> tuple[list[dict], int]:
    """The measures, most logic first (then by stem), and their total."""
    results = sorted((measure(p) for p in paths), key=lambda r: (-r["logic_lines"], r["stem"]))
    return results, sum(r["logic_lines"] for r in results)


def problems(results: list[dict], total: int, limit: int | None) -> list[str]:
    """Why ``--max`` fails: the total over the limit, and every definition."""
    if limit is None:
        return []
    out = [f"notebook logic: {total} lines exceed the limit of {limit}"] if total > limit else []
    for r in results:
        for d in r["defines"]:
            out.append(f"notebook logic: {r['stem']} defines {d['name']} (line {d['line']})")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", help=f"notebooks (default: {DEFAULT_GLOB})")
    ap.add_argument("--max", type=int, default=None, help="fail above this total, or on a def")
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--show", action="store_true", help="list the counted lines")
    args = ap.parse_args(argv)

    paths = notebook_paths(args.paths)
    try:
        results, total = report(paths)
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        print(f"notebook logic: cannot measure: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"total": total, "limit": args.max, "notebooks": results}, indent=1))
    else:
        limit = "no limit" if args.max is None else f"limit {args.max}"
        for r in results:
            print(f"{r['stem']}: {r['logic_lines']} logic lines, {r['functions']} functions")
            if args.show:
                src = Path(r["path"]).read_text(encoding="utf-8").splitlines()
                for row, rule in r["lines"].items():
                    print(f"  {row:5d} {rule:<13} {src[row - 1].strip()}")
        print(f"notebook logic: {total} lines in {len(results)} notebooks ({limit})")
    why = problems(results, total, args.max)
    for line in why:
        print(line, file=sys.stderr)
    return 1 if why else 0


if __name__ == "__main__":
    sys.exit(main())
