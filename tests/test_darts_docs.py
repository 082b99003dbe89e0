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
    "budgets",
    "candidates",
    "summaries",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        module = importlib.import_module(f"snnlib.darts.{name}")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    finally:
        torch.set_num_threads(previous)
    assert result.attempted > 0 and result.failed == 0
