"""Paired comparisons of architectures over test items (snnlib.nas.comparisons)."""

import numpy as np
import pytest

from snnlib.nas.comparisons import compare, comparison_metrics, comparison_rows, correct_matrix
from snnlib.nas.statistics import paired_items


def test_correct_matrix_compares_each_run_with_the_labels_and_checks_lengths():
    y = np.array([2, 0, 1])
    m = correct_matrix([[2, 0, 0], [1, 0, 1]], y)
    assert m.dtype == bool and m.tolist() == [[True, True, False], [False, True, True]]
    with pytest.raises(ValueError, match=r"runs \[1\]"):
        correct_matrix([[2, 0, 1], [2, 0]], y)
    with pytest.raises(ValueError, match="no runs"):
        correct_matrix([], y)


def test_compare_is_paired_items_and_rows_and_metrics_carry_its_numbers():
    rng = np.random.default_rng(3)
    a = rng.random((2, 500)) < 0.6  # two seeds near 60 %
    b = rng.random((1, 500)) < 0.5
    c = compare({"a - b": (a, b)}, seed=4, n_boot=2000)["a - b"]
    ref = paired_items(a, b, seed=4, n_boot=2000)
    assert c == ref
    assert c["diff"] == pytest.approx(a.mean() - b.mean())
    assert c["lo"] < c["diff"] < c["hi"]
    (row,) = comparison_rows({"a - b": c})
    assert row["difference (points)"] == pytest.approx(100 * c["diff"])
    assert row["test items"] == 500 and isinstance(row["test items"], int)
    assert row["runs"] == "2 vs 1"
    m = comparison_metrics({"a - b": c}, {"a - b": "a_minus_b"})
    assert m == {
        "a_minus_b": c["diff"],
        "a_minus_b_lo": c["lo"],
        "a_minus_b_hi": c["hi"],
        "a_minus_b_p_boot": c["p_boot"],
    }
    assert all(type(v) is float for v in m.values())
