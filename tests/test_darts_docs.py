"""The examples in the docstrings of snnlib.darts run and print what they claim."""

import doctest
import importlib

import pytest
import torch

MODULES = [
    "operations",
    "attention",
    "layout",
    "genotype",
    "network",
    "supernet",
    "search_data",
    "architecture",
]
BOOK_MODULES = [
    "madarts_budgets",
    "madarts_candidates",
    "madarts_summaries",
    "madarts_searches",
    "madarts_retraining",
]


@pytest.mark.parametrize(
    "name", [f"snnlib.darts.{m}" for m in MODULES] + [f"snnlib.book.{m}" for m in BOOK_MODULES]
)
def test_docstring_examples(name):
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        module = importlib.import_module(name)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    finally:
        torch.set_num_threads(previous)
    assert result.attempted > 0 and result.failed == 0
