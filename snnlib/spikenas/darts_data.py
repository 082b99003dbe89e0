"""The data of a DARTS search over SpikeNAS-Bench: the benchmark's own halves of the CIFAR-10
training set, a class-balanced subset of each, in memory.

The benchmark trained every cell on the first 25,000 of the 50,000 CIFAR-10 training images
(``indices[:25000]`` in torchvision's order) and validated on the other 25,000; the test set
gave the table's ``test_acc``. A search keeps to that split: the supernet's weights learn on a
subset of the benchmark's training half, its architecture parameters on a subset of the
validation half, and the test images, which judge the derived cell through the table, are
never seen.

The project's CIFAR-10 comes as two splits (``load_dataset("cifar10", "train")`` holds 90 %
of every class, ``"val"`` the other 10 %); :func:`training_set` puts the 50,000 images back in
their source order. torchvision's files are in the benchmark's order and the halves are
exact. The embedded JPEG copy (:mod:`snnlib.data.cifar_embedded`) is ordered by class, where
the first 25,000 would be five classes only: there each class's first half of its images
(in file order) stands for the training half, its second half for the validation half
(:func:`benchmark_halves`; the rule used is recorded). The subsets are class-balanced, drawn
by a seed (:func:`snnlib.data.splits.class_balanced_positions`), and normalised with the
benchmark's mean and standard deviation (:func:`snnlib.spikenas.ledger.make_probe`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nas.seeding import derive_seed
from ..validation import ConfigError, check_range
from .ledger import Probe, make_probe

TRAIN_IMAGES = 50_000
RULE_INDEX = "benchmark: training half indices[:25000], validation half indices[25000:]"
RULE_PER_CLASS = (
    "per class: the first half of each class's images (source order) for training, the second "
    "half for validation (the copy is ordered by class)"
)


def training_set(root=None) -> tuple[np.ndarray, np.ndarray, str]:
    """The 50,000 CIFAR-10 training images uint8 ``[N, 32, 32, 3]`` and labels, in their
    source order (the project's ``train`` and ``val`` splits put back together), and the source
    (``"torchvision"`` or ``"embedded-jpeg"``)."""
    from ..data import load_dataset

    parts = [load_dataset("cifar10", split, root=root) for split in ("train", "val")]
    index = np.concatenate([p.indices for p in parts])
    order = np.argsort(index, kind="stable")
    if not np.array_equal(index[order], np.arange(len(index))):
        raise ConfigError(
            f"the CIFAR-10 train and val splits do not make up the training set "
            f"({len(index)} items, source indices not 0..{len(index) - 1})"
        )
    images = np.concatenate([p.images_uint8() for p in parts])[order]
    labels = np.concatenate([np.asarray(p.targets, dtype=np.int64) for p in parts])[order]
    return images, labels, parts[0].source


def benchmark_halves(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Positions of the training half and the validation half of a training set in source
    order, and the rule used: the first and second half of the positions (the benchmark's
    split) when each half holds every class, else each class's first and second half.

    >>> a, b, rule = benchmark_halves(np.array([0, 1, 0, 1, 1, 0, 1, 0]))
    >>> a.tolist(), b.tolist(), rule == RULE_INDEX
    ([0, 1, 2, 3], [4, 5, 6, 7], True)
    >>> a, b, rule = benchmark_halves(np.array([0, 0, 0, 0, 1, 1, 1, 1]))
    >>> a.tolist(), b.tolist(), rule == RULE_PER_CLASS
    ([0, 1, 4, 5], [2, 3, 6, 7], True)
    """
    labels = np.asarray(labels)
    n, classes = len(labels), np.unique(labels)
    half = n // 2
    if all(np.array_equal(np.unique(part), classes) for part in (labels[:half], labels[half:])):
        return np.arange(half), np.arange(half, n), RULE_INDEX
    first = np.zeros(n, dtype=bool)
    for c in classes:
        members = np.flatnonzero(labels == c)
        first[members[: len(members) // 2]] = True
    return np.flatnonzero(first), np.flatnonzero(~first), RULE_PER_CLASS


@dataclass(frozen=True)
class DartsData:
    """The images of a search, normalised as the benchmark, on the CPU: ``weight`` (for the
    weight steps, from the training half) and ``arch`` (for the architecture steps, from the
    validation half), each a :class:`~snnlib.spikenas.ledger.Probe` (``x`` ``[N, 3, 32, 32]``,
    ``y`` ``[N]``); ``split`` says how the halves were made, ``seed`` drew the subsets."""

    weight: Probe
    arch: Probe
    split: str = "custom"
    seed: int | None = None

    def identity(self) -> dict:
        """What identifies the data (sizes, labels, pixel checksums, split rule, seed): part of
        a search's checkpoint identity."""
        return {
            "split": self.split,
            "seed": self.seed,
            "weight": self.weight.identity(),
            "arch": self.arch.identity(),
        }


def load_darts_data(n_weight: int, n_arch: int, seed: int = 0, root=None) -> DartsData:
    """``n_weight`` images of the benchmark's training half and ``n_arch`` of its validation
    half (each a multiple of 10: class-balanced), drawn by ``seed`` (see the module docstring)."""
    for name, n in (("n_weight", n_weight), ("n_arch", n_arch)):
        check_range(name, n, 20, TRAIN_IMAGES // 2, integer=True)
        if n % 10:
            raise ConfigError(f"{name}={n} must be a multiple of 10 (as many images per class)")
    images, labels, source = training_set(root)
    first, second, rule = benchmark_halves(labels)
    picks = []
    for name, positions, n in (("weight", first, n_weight), ("arch", second, n_arch)):
        picks.append(
            make_probe(
                images[positions],
                labels[positions],
                n // 10,
                derive_seed(seed, f"spikenas-darts/{name}-images"),
                source=source,
            )
        )
    return DartsData(picks[0], picks[1], split=rule, seed=seed)
