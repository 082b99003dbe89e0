"""The retraining budget of MA-DARTS' discrete networks, per scale: one table, shared by the
retraining notebook (derived cells vs plain DARTS vs random cells) and the attention
ablation, so that both train every network at the same width, depth and epochs.

Example:
    >>> budgets = retrain_budgets()
    >>> sorted(budgets), budgets["cpu"]["C"], budgets["cpu"]["train"].epochs
    (['cpu', 'paper', 'smoke'], 8, 4)
    >>> retraining_seeds(10, 0, default=3)
    [10, 11, 12]
"""

from __future__ import annotations

from ..train import TrainConfig
from ..validation import check_range


def retrain_budgets() -> dict[str, dict]:
    """``scale -> budget`` for ``smoke``, ``cpu`` and ``paper``: input ``image_size`` (None:
    the dataset's own), width ``C``, ``layers``, ``batch_size``, split ``limit``, default
    number of retraining seeds ``n_seeds``, and the :class:`~snnlib.train.TrainConfig`
    ``train``. A fresh dict on every call (callers may change their copy)."""
    return {
        "smoke": dict(
            image_size=8,
            C=2,
            layers=3,
            batch_size=32,
            limit={"train": 128, "val": 64, "test": 64},
            n_seeds=1,
            train=TrainConfig(epochs=1, lr=5e-3, max_batches=2),
        ),
        # 2-core CPU: the native 8x8 digits, twice the search's width (C = 8), the search's 5
        # cells, 4 epochs of AdamW (about 10 s per network), 3 seeds per candidate: one
        # retraining resolves about the binomial standard error of the test set, the size of
        # the differences measured
        "cpu": dict(
            image_size=8,
            C=8,
            layers=5,
            batch_size=64,
            limit=None,
            n_seeds=3,
            train=TrainConfig(epochs=4, lr=5e-3),
            # CIFAR-10 at the search's 16x16: a class-balanced 2,000 training images, 3 epochs
            # (about a minute per network on one core), 2 seeds, and a class-balanced 5,000 of
            # the test images, over which the networks are compared image by image (the
            # interval of a paired difference stays under 1 point)
            per_dataset={
                "cifar10": dict(
                    image_size=16,
                    limit={"train": 2_000, "val": 500, "test": 5_000},
                    n_seeds=2,
                    train=TrainConfig(epochs=3, lr=5e-3, warmup_epochs=1),
                ),
            },
        ),
        # the paper's retraining width (C = 64, T from the search); depth and epochs as DARTS'
        # CIFAR recipe, which MA-DARTS does not state: 8 cells, 300 epochs of AdamW with warm-up
        "paper": dict(
            image_size=None,
            C=64,
            layers=8,
            batch_size=128,
            limit=None,
            n_seeds=1,
            train=TrainConfig(epochs=300, lr=5e-3 * 128 / 1024, warmup_epochs=5),
        ),
    }


def retraining_seeds(seed: int, n_seeds: int, default: int) -> list[int]:
    """The retraining seeds ``seed, seed + 1, ...``: ``n_seeds`` of them, or ``default``
    when ``n_seeds`` is 0 (the scale's default)."""
    check_range("n_seeds", n_seeds, 0, None, integer=True)
    return [seed + k for k in range(n_seeds or default)]


def loader_sizes(loaders: dict) -> dict[str, int]:
    """``split -> number of items`` of a budget's loaders (``train``, ``val``, ``test``).

    >>> loader_sizes({"test": type("L", (), {"dataset": [0, 1, 2]})()})
    {'test': 3}
    """
    return {name: len(loader.dataset) for name, loader in loaders.items()}
