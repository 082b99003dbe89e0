r"""Choosing among training recipes on the validation split, never on the test items.

A chapter that tries several recipes (framings, neuron constants, ...) and then reports one
of them against a baseline must choose it on data the report does not use, or the reported
test accuracy is the maximum of several noisy ones and biased upwards. The rule here, fixed
before any run: every candidate is trained with the same seeds; the one with the highest
mean final **validation accuracy** over seeds wins; candidates whose mean accuracy is within
``tie`` of the best are tied, and among them the lowest mean final validation **loss**
(cross-entropy, a proper score that still separates recipes when accuracy saturates on a
small validation split) wins.

>>> pick_by_validation({"a": [(0.96, 0.30), (0.98, 0.28)], "b": [(0.97, 0.25), (0.97, 0.26)]})[0]
'b'
>>> pick_by_validation({"a": [(0.99, 0.30)], "b": [(0.97, 0.20)]}, tie=0.01)[0]
'a'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..validation import ConfigError


def pick_by_validation(
    scores: Mapping[str, Sequence[tuple[float, float]]], tie: float = 0.005
) -> tuple[str, list[dict]]:
    """The winning candidate and one row per candidate (mean validation accuracy and loss,
    seeds, whether tied with the best, whether chosen), in the order given.

    ``scores[name]``: ``(val_acc, val_loss)`` of each seed's final epoch. ``tie``: accuracy
    difference (fraction) below which two means count as equal (half a point by default:
    one of 100 validation items is one point)."""
    if not scores:
        raise ConfigError("pick_by_validation needs at least one candidate")
    if not 0 <= tie < 1:
        raise ConfigError(f"tie={tie!r} must be a fraction in [0, 1)")
    rows = []
    for name, pairs in scores.items():
        a = np.asarray(pairs, dtype=float)
        if a.ndim != 2 or a.shape[1] != 2 or len(a) == 0 or not np.isfinite(a).all():
            raise ConfigError(f"candidate {name!r}: expected finite (val_acc, val_loss) pairs")
        rows.append(
            {
                "candidate": name,
                "seeds": len(a),
                "val_acc": a[:, 0].mean(),
                "val_loss": a[:, 1].mean(),
            }
        )
    best = max(r["val_acc"] for r in rows)
    for r in rows:
        r["tied_with_best"] = bool(best - r["val_acc"] < tie)
    winner = min((r for r in rows if r["tied_with_best"]), key=lambda r: r["val_loss"])
    for r in rows:
        r["chosen"] = r is winner
    return winner["candidate"], rows
