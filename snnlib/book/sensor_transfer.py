"""The transfer experiment of the sensor chapter: networks trained on simulated (or real)
recordings of the calibration images, tested on real recordings of other digits.

- :func:`training_conditions`: the frames of each simulated configuration
  (:func:`~snnlib.data.sensor_compare.simulated_frames`, one copy per sim seed), then the
  real recordings as the reference;
- :func:`train_conditions`: :func:`~snnlib.transfer.retrain_frames` on each condition
  with the same seeds (labels repeated once per simulated copy);
- :func:`real_accuracies`, :func:`accuracy_summaries`, :func:`paired_comparisons`: the
  accuracy on the real test set per seed, its mean and 95 % t interval, and the seed-paired
  differences of :data:`PAIRS` (with the number of seeds the first condition wins);
- :func:`accuracy_table`, :func:`pair_table`: those as tables, rounded to 3 decimals.

Example:
    >>> p = paired_comparisons({"a": [0.5, 0.7, 0.6], "b": [0.4, 0.7, 0.5]}, {"a - b": ("a", "b")})
    >>> round(p["a - b"]["diff"], 3), p["a - b"]["wins"], p["a - b"]["n"]
    (0.067, 2, 3)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from ..data import sensor_compare as sc
from ..nas.statistics import paired_by_seed, t_interval
from ..seed_runs import RetrainResult
from ..transfer import retrain_frames, set_accuracies

#: paired difference -> (condition, condition it is compared with), seed by seed
PAIRS = {
    "calibrated - default": ("simulated, calibrated", "simulated, default"),
    "calibrated - count-matched": ("simulated, calibrated", "simulated, count-matched"),
    "count-matched - default": ("simulated, count-matched", "simulated, default"),
    "calibrated - real": ("simulated, calibrated", "real (reference)"),
    "default - real": ("simulated, default", "real (reference)"),
}
REFERENCE = "real (reference)"


def training_conditions(
    images: np.ndarray,
    configs: Mapping,
    real_x: torch.Tensor,
    *,
    sim_seeds: Sequence[int],
    time_steps: int,
    image_size: int,
    **framing,
) -> dict[str, torch.Tensor]:
    """``condition -> training frames``: ``images`` simulated with each configuration of
    ``configs`` (framed as the real recordings are), then :data:`REFERENCE`: ``real_x``."""
    conditions = {
        name: sc.simulated_frames(
            images, c, sim_seeds=sim_seeds, time_steps=time_steps, image_size=image_size, **framing
        )
        for name, c in configs.items()
    }
    conditions[REFERENCE] = real_x
    return conditions


def train_conditions(
    conditions: Mapping[str, torch.Tensor],
    labels: torch.Tensor,
    tests: Mapping,
    seeds: Sequence[int],
    **train_args,
) -> dict[str, RetrainResult]:
    """``condition -> RetrainResult`` (one run per seed): each condition's frames with
    ``labels`` repeated once per copy of the images, trained at every seed and tested on
    ``tests`` (:func:`~snnlib.transfer.retrain_frames` with ``train_args``)."""
    runs = {}
    for name, x in conditions.items():
        if len(x) % len(labels):
            raise ValueError(f"condition {name!r}: {len(x)} frames for {len(labels)} labels")
        y = labels.repeat(len(x) // len(labels))
        runs[name] = retrain_frames(x, y, tests, seeds, **train_args)
    return runs


def real_accuracies(
    runs: Mapping[str, RetrainResult], test: str = "real"
) -> dict[str, list[float]]:
    """``condition -> [accuracy on the test set named test, per seed]``."""
    return {name: set_accuracies(result, test) for name, result in runs.items()}


def accuracy_summaries(acc: Mapping[str, Sequence[float]]) -> dict[str, tuple]:
    """``condition -> (mean, 95 % lo, 95 % hi)`` (Student t over the seeds)."""
    return {name: t_interval(a) for name, a in acc.items()}


def paired_comparisons(
    acc: Mapping[str, Sequence[float]], pairs: Mapping[str, tuple[str, str]] = PAIRS
) -> dict[str, dict]:
    """``label -> paired_by_seed(acc[a], acc[b])`` with ``wins``: the seeds where ``a`` is
    more accurate than ``b``."""
    paired = {}
    for label, (a, b) in pairs.items():
        paired[label] = paired_by_seed(acc[a], acc[b])
        paired[label]["wins"] = int(sum(x > y for x, y in zip(acc[a], acc[b])))
    return paired


def accuracy_table(acc: Mapping[str, Sequence[float]], summary: Mapping) -> pd.DataFrame:
    """One row per training condition: mean, 95 % interval and the per-seed accuracies."""
    table = pd.DataFrame(
        {
            name: {
                "mean": m,
                "95% lo": lo,
                "95% hi": hi,
                "per seed": ", ".join(f"{v:.3f}" for v in acc[name]),
            }
            for name, (m, lo, hi) in summary.items()
        }
    ).T
    table.index.name = "trained on"
    return table.round(3)


def pair_table(paired: Mapping[str, Mapping]) -> pd.DataFrame:
    """One row per paired difference: difference, 95 % interval, t-test p, wins, seeds."""
    table = pd.DataFrame(paired).T[["diff", "lo", "hi", "t_p", "wins", "n"]]
    table.index.name = "paired difference"
    return table.round(3)
