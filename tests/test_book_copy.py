"""tools/book_copy.py: the run in the title, one collapsed parameters cell per page."""

import importlib.util
import json

from snnlib.paths import REPO_ROOT

_spec = importlib.util.spec_from_file_location("book_copy", REPO_ROOT / "tools" / "book_copy.py")
book_copy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(book_copy)

DECLARED = (
    'scale = "cpu"  # smoke | cpu | paper\n'
    'dataset = "digits"  # digits | digits-dvs\n'
    "n_random = 5  # random cells in the baseline\n"
    "threads = 1"
)
INJECTED = '# Parameters\nscale = "smoke"\ndataset = "digits-dvs"\nthreads = 2\nextra = [1, 2]\n'


def _cell(kind, source, tags=()):
    cell = {"cell_type": kind, "metadata": {"tags": list(tags)}, "source": source}
    if kind == "code":
        cell["outputs"] = []
    return cell


def tiny_notebook():
    return {
        "cells": [
            _cell("markdown", "# Substrate run\nSome text."),
            _cell("code", DECLARED, ["parameters"]),
            _cell("code", INJECTED, ["injected-parameters"]),
            _cell("code", "import numpy as np", ["hide-input"]),
            _cell("markdown", "# Another heading"),
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_merge_puts_injected_values_in_and_keeps_comments():
    merged = book_copy.merge_parameters(DECLARED, INJECTED)
    assert merged.splitlines() == [
        'scale = "smoke"  # smoke | cpu | paper',
        'dataset = "digits-dvs"  # digits | digits-dvs',
        "n_random = 5  # random cells in the baseline",
        "threads = 2",
        "extra = [1, 2]",
    ]


def test_merge_replaces_a_multiline_default_whole():
    declared = "sizes = [\n    1,\n    2,\n]\nseed = 0  # any int\n"
    merged = book_copy.merge_parameters(declared, "sizes = [3]\n")
    assert merged == "sizes = [3]\nseed = 0  # any int"


def test_page_has_one_collapsed_parameters_cell_and_the_run_in_its_title():
    page = book_copy.book_page(tiny_notebook(), "digits-dvs", "smoke")
    cells = page["cells"]
    assert cells[0]["source"].splitlines()[0] == "# Substrate run (digits-dvs, smoke)"
    assert cells[4]["source"] == "# Another heading"  # only the first heading is retitled
    declared, injected, setup = cells[1], cells[2], cells[3]
    assert declared["metadata"]["tags"] == ["parameters", "remove-cell"]
    assert injected["metadata"]["tags"] == ["injected-parameters", "hide-cell"]
    assert injected["source"].startswith(book_copy.MERGED_HEADER)
    assert 'scale = "smoke"  # smoke | cpu | paper' in injected["source"]
    assert "n_random = 5" in injected["source"]  # a default papermill was not given
    assert setup["metadata"]["tags"] == ["hide-input"]  # other tags are left alone
    # the merged cell runs and gives the values of the run
    ns = {}
    exec(injected["source"], ns)
    assert (ns["scale"], ns["dataset"], ns["n_random"], ns["threads"]) == (
        "smoke",
        "digits-dvs",
        5,
        2,
    )


def test_without_papermill_the_declared_cell_is_collapsed_not_removed():
    nb = tiny_notebook()
    del nb["cells"][2]
    page = book_copy.tidy_parameters(nb)
    assert page["cells"][1]["metadata"]["tags"] == ["parameters", "hide-cell"]
    assert page["cells"][1]["source"] == DECLARED


def test_main_writes_the_page(tmp_path):
    src, dst = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    src.write_text(json.dumps(tiny_notebook()))
    book_copy.main(str(src), str(dst), "digits", "cpu")
    page = json.loads(dst.read_text())
    assert page["cells"][0]["source"].startswith("# Substrate run (digits, cpu)")
    assert "remove-cell" in page["cells"][1]["metadata"]["tags"]
