"""Performance benchmarks of snnlib, each against a baseline measured in the same process.

Run ``python -m benchmarks [names...] [--quick]`` (``make bench``). Each benchmark is one
module with ``NAME``, ``DATASET``, ``DESCRIPTION`` and ``run(cfg) -> dict``; the shared
harness (:mod:`benchmarks.harness`) times candidates interleaved with their baseline,
reports medians and spreads (IQR, min/max) and paired ratios, and writes
``data/results/bench__<name>.json`` with the same top-level keys as every experiment result
(``params``, ``provenance``, ``metrics``, optional ``artifacts``).
"""

from __future__ import annotations

import importlib

BENCHMARKS = (
    "b1_forward",
    "b2_fitness",
    "b3_population",
    "b4_search_step",
    "b6_throughput",
    "b7_ledger",
    "b5_book",
)


def resolve(name: str) -> str:
    """``b1`` / ``b1_forward`` / ``bench__b1_forward`` -> ``b1_forward``."""
    key = name.removeprefix("bench__").removesuffix(".py")
    for full in BENCHMARKS:
        if key == full or full.split("_")[0] == key:
            return full
    raise SystemExit(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")


def load(name: str):
    """The module of a benchmark."""
    return importlib.import_module(f"benchmarks.{resolve(name)}")
