"""Architectures compared on the same test items: correctness matrices, a table of paired
differences and their flat metrics for result files.

Every retrained network is tested on the same test items in the same order, so two networks
are compared item by item (:func:`snnlib.nas.statistics.paired_items`): the difference of
their accuracies with a paired bootstrap interval over the items. This module turns test
predictions into the ``[runs, items]`` booleans that function takes and its answers into
table rows and result-file metrics, so that every notebook reports a comparison the same way.

Example:
    >>> import numpy as np
    >>> y = np.array([0, 1, 1, 0])
    >>> a = correct_matrix([[0, 1, 1, 0], [0, 1, 0, 0]], y)   # two seeds
    >>> b = correct_matrix([[1, 1, 0, 0]], y)
    >>> a.astype(int).tolist(), b.astype(int).tolist()
    ([[1, 1, 1, 1], [1, 1, 0, 1]], [[0, 1, 0, 1]])
    >>> c = compare({"a - b": (a, b)}, n_boot=200)
    >>> round(c["a - b"]["diff"], 3), c["a - b"]["n_items"]
    (0.375, 4)
    >>> sorted(comparison_metrics(c, {"a - b": "a_minus_b"}))
    ['a_minus_b', 'a_minus_b_hi', 'a_minus_b_lo', 'a_minus_b_p_boot']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import dryrun
from .statistics import paired_items


def correct_matrix(predictions: Sequence[Sequence[int]], targets) -> np.ndarray:
    """``[runs, items]`` booleans: run ``r`` predicted item ``i`` right. ``predictions`` is one
    list of predicted classes per run (seeds of one network, or several networks pooled), in
    the test set's order; every run must cover all ``targets`` (in a dry run,
    :mod:`snnlib.dryrun`, the first items that every run covers)."""
    y = np.asarray(targets)
    rows = [np.asarray(p) for p in predictions]
    if not rows:
        raise ValueError("correct_matrix: no runs given")
    if dryrun.active() and len({p.shape for p in rows}) == 1 and 0 < len(rows[0]) < len(y):
        y = y[: len(rows[0])]  # a dry run evaluated the first batches of the test set only
    bad = [k for k, p in enumerate(rows) if p.shape != y.shape]
    if bad:
        raise ValueError(
            f"correct_matrix: runs {bad} have {[rows[k].shape for k in bad]} predictions, "
            f"the test set has {y.shape}"
        )
    return np.stack([p == y for p in rows])


def compare(
    pairs: Mapping[str, tuple[np.ndarray, np.ndarray]], *, seed: int = 0, n_boot: int = 10_000
) -> dict[str, dict]:
    """``name -> paired_items(a, b)`` for every ``name -> (correct_a, correct_b)``; one
    bootstrap seed for all, so a rerun gives the same intervals."""
    return {name: paired_items(a, b, n_boot=n_boot, seed=seed) for name, (a, b) in pairs.items()}


def comparison_rows(comparisons: Mapping[str, dict]) -> list[dict]:
    """One table row per comparison: the difference and its interval in points, the bootstrap
    and first-seed McNemar p-values, the number of test items (an int) and of runs per side."""
    return [
        {
            "comparison": name,
            "difference (points)": 100 * c["diff"],
            "95% lo": 100 * c["lo"],
            "95% hi": 100 * c["hi"],
            "bootstrap p": c["p_boot"],
            "McNemar p (first run)": c["mcnemar"]["p"],
            "test items": int(c["n_items"]),
            "runs": f"{c['n_seeds'][0]} vs {c['n_seeds'][1]}",
        }
        for name, c in comparisons.items()
    ]


def comparison_metrics(comparisons: Mapping[str, dict], keys: Mapping[str, str]) -> dict:
    """Flat metrics ``key``, ``key_lo``, ``key_hi``, ``key_p_boot`` (fractions, not points)
    for the comparisons named in ``keys`` (``name -> metric key``)."""
    out: dict[str, float] = {}
    for name, key in keys.items():
        c = comparisons[name]
        out[key] = float(c["diff"])
        out[key + "_lo"] = float(c["lo"])
        out[key + "_hi"] = float(c["hi"])
        out[key + "_p_boot"] = float(c["p_boot"])
    return out
