"""Training the N-MNIST chapter's variants, and the logistic-regression bar they face.

:func:`logistic_bars` fits :func:`~snnlib.linear_probe.logistic_baseline` on the frames of
each image size; :func:`train_variants` retrains the fixed network
(:class:`~snnlib.nas.reference.ReferenceCNN`) for each variant of
:mod:`snnlib.book.nmnist_variants`, on loaders framed as the variant says, keeping every
run's test predictions; :func:`correct_items` turns those into ``[seeds, items]`` hit
matrices for paired item tests, cut to the items every run predicted (a dry run predicts
only its capped test batches).

Example:
    >>> import numpy as np
    >>> preds = {"a": [[1, 0, 2]], "b": [[1, 1]]}  # "b": a dry run's first batch only
    >>> c, bar = correct_items(preds, np.array([1, 1, 2]), np.ones(3, bool))
    >>> c["a"].tolist(), c["b"].tolist(), bar.tolist()
    ([[True, False]], [[True, True]], [True, True])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..data import make_loaders
from ..linear_probe import LinearBaseline, logistic_baseline
from ..nas.reference import ReferenceCNN
from ..nas.retrain import RetrainBudget, RetrainResult, retrain
from ..neurons import NeuronConfig
from ..train import TrainConfig
from .nmnist_variants import framing_of

SPLITS = ("train", "val", "test")


@dataclass
class LogisticBars:
    """The logistic regressions of the chapter: ``by_size`` (image size -> baseline),
    ``network`` (on the frames the network is fed) and ``sensor_grid`` (on the sensor's
    grid)."""

    by_size: dict[int, LinearBaseline]
    network: LinearBaseline
    sensor_grid: LinearBaseline


def logistic_bars(dataset: str, network: Mapping, sensor: Mapping, **loader_args) -> LogisticBars:
    """Logistic regression on the frames of the ``network`` recipe's ``image_size`` and of
    the ``sensor`` recipe's (each size once, in increasing order): fitted on train, chosen
    on val, measured on test; each printed."""
    by_size = {}
    for size in sorted({network["image_size"], sensor["image_size"]}):
        loaders = make_loaders(dataset, **loader_args, image_size=size)
        by_size[size] = logistic_baseline(*(loaders[s].dataset for s in SPLITS))
        print(f"{size} px:", by_size[size].to_dict())
    return LogisticBars(by_size, by_size[network["image_size"]], by_size[sensor["image_size"]])


def train_variants(
    dataset: str,
    variants: Mapping[str, Mapping],
    default_loaders: Mapping,
    encoder,
    loader_args: Mapping,
    *,
    width: int,
    max_batches: int | None,
    seed: int,
    device,
) -> dict[str, RetrainResult]:
    """``variant -> RetrainResult``: each variant retrained at seeds ``seed, seed + 1, ...``
    (its ``seeds``) with its ``epochs``, ``lr`` (one warm-up epoch), neuron ``tau``
    (default 2.0) and framing; ``"default"`` uses ``default_loaders``, every other variant
    loaders made with ``loader_args`` (``make_loaders`` arguments besides the framing) and
    its framing. Test predictions are kept."""
    results = {}
    for name, v in variants.items():
        loaders = (
            default_loaders
            if name == "default"
            else make_loaders(dataset, **loader_args, **framing_of(v))
        )
        info = loaders["test"].dataset.info
        train = TrainConfig(
            epochs=v["epochs"], lr=v["lr"], warmup_epochs=1, max_batches=max_batches
        )
        budget = RetrainBudget(
            train,
            loaders,
            encoder,
            info.in_channels,
            info.num_classes,
            device=device,
            keep_predictions=True,
        )
        net = ReferenceCNN(width, NeuronConfig(tau=v.get("tau", 2.0)))
        results[name] = retrain(net, budget, seeds=range(seed, seed + v["seeds"]), desc=name)
    return results


def correct_items(
    predictions: Mapping[str, list], targets: np.ndarray, bar_correct: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``(variant -> [seeds, items] hits, the bar's [items] hits)`` from each variant's
    per-seed test predictions (``predictions[name][seed]``, item order), all cut to the
    items every run predicted."""
    correct = {
        name: np.array([np.asarray(p) == targets[: len(p)] for p in runs])
        for name, runs in predictions.items()
    }
    n = min(c.shape[1] for c in correct.values())
    return {k: c[:, :n] for k, c in correct.items()}, bar_correct[:n]


def run_predictions(results: Mapping[str, RetrainResult]) -> dict[str, list]:
    """``variant -> [test predictions of each seed]`` of retrainings that kept them."""
    return {name: [r.predictions for r in res.runs] for name, res in results.items()}
