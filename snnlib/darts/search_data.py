"""The data of a bilevel search: the training set halved into a weight half and an
architecture half, each shuffled in an order that depends on ``(seed, epoch)`` only.

The search never sees the test split; the halves are a seeded, deterministic partition of
the training split (:func:`split_weight_arch_indices`), and the per-epoch order is what
makes a resumed search see exactly the batches an uninterrupted one would
(:class:`EpochShuffle`).

Example:
    >>> w, a = split_weight_arch_indices(10, seed=0)
    >>> len(w), len(a), sorted(w + a) == list(range(10))
    (5, 5, True)
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset, Sampler, Subset

from .. import dryrun
from ..validation import ConfigError, check_range

#: The epoch order of :class:`EpochShuffle` is seeded with ``seed * EPOCH_SEED_STRIDE +
#: epoch``: a prime far above any epoch count, so two (seed, epoch) pairs never share a seed.
EPOCH_SEED_STRIDE = 1_000_003


def split_weight_arch_indices(
    n: int, seed: int = 0, fraction: float = 0.5
) -> tuple[list[int], list[int]]:
    """Partition ``range(n)`` (the training set) into weight and architecture indices by a
    seeded permutation; ``fraction`` of the items go to the weight half."""
    check_range("fraction", fraction, 0.0, 1.0)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    k = int(round(n * fraction))
    if k == 0 or k == n:
        raise ConfigError(f"splitting {n} items with fraction={fraction} leaves one half empty")
    return sorted(perm[:k]), sorted(perm[k:])


class EpochShuffle(Sampler[int]):
    """A shuffling sampler whose order is a function of ``(seed, epoch)`` only, so that a
    resumed search sees exactly the batches an uninterrupted one would. Call
    :meth:`set_epoch` before each epoch (the search loop does)."""

    def __init__(self, n: int, seed: int = 0):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed * EPOCH_SEED_STRIDE + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())


def search_loaders(
    train_set: Dataset, batch_size: int, seed: int = 0, fraction: float = 0.5, num_workers: int = 0
) -> tuple[DataLoader, DataLoader]:
    """Halve a training set into a weight loader and an architecture loader (shuffled per epoch)."""
    w_idx, a_idx = split_weight_arch_indices(len(train_set), seed, fraction)
    batch_size = dryrun.batch_size(batch_size)  # a dry run may measure a smaller batch
    loaders = []
    for k, idx in enumerate((w_idx, a_idx)):
        subset = Subset(train_set, idx)
        loaders.append(
            DataLoader(
                subset,
                batch_size=batch_size,
                sampler=EpochShuffle(len(idx), seed + k),
                num_workers=num_workers,
                drop_last=len(idx) % batch_size == 1,
            )
        )
    return loaders[0], loaders[1]
