"""The validation rule that picks a chapter's recipe (snnlib.nas.selection)."""

from __future__ import annotations

import pytest

from snnlib.nas.selection import pick_by_validation
from snnlib.validation import ConfigError


def test_highest_mean_validation_accuracy_wins():
    name, rows = pick_by_validation(
        {"default": [(0.95, 0.2), (0.96, 0.2)], "tau 4": [(0.98, 0.3), (0.97, 0.3)]}
    )
    assert name == "tau 4"
    assert [r["chosen"] for r in rows] == [False, True]
    assert rows[1]["val_acc"] == pytest.approx(0.975) and rows[0]["tied_with_best"] is False


def test_a_tie_in_accuracy_goes_to_the_lower_validation_loss():
    scores = {"a": [(0.97, 0.30)] * 3, "b": [(0.968, 0.25)] * 3, "c": [(0.90, 0.10)] * 3}
    name, rows = pick_by_validation(scores)
    assert name == "b" and [r["tied_with_best"] for r in rows] == [True, True, False]
    assert pick_by_validation(scores, tie=0.001)[0] == "a"  # no tie: accuracy alone


def test_bad_scores_are_named():
    with pytest.raises(ConfigError, match="at least one"):
        pick_by_validation({})
    with pytest.raises(ConfigError, match="'x'"):
        pick_by_validation({"x": [(0.9, float("nan"))]})
    with pytest.raises(ConfigError, match="tie"):
        pick_by_validation({"x": [(0.9, 0.1)]}, tie=2)
