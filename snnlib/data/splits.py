"""Deterministic, per-class (stratified) splitting and limiting of a labelled index set.

- :func:`carve_per_class` takes a fixed fraction of every class out of a set. It defines
  the val/test splits that datasets lack officially, with a fixed seed (0) so the split is
  part of the dataset definition and never moves with the experiment seed.
- :func:`stratified_limit` keeps at most ``n`` items, as balanced over classes as
  possible, chosen by the experiment seed (used for quick, small runs).

Both return *positions* into the given label list, sorted ascending so that the original
(reproducible) order of the items is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def carve_per_class(
    labels: Sequence[int], fraction: float, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split positions into ``(kept, carved)`` with ``round(fraction * n_c)`` carved per class.

    A class with at least two items always gives at least one item (so tiny datasets still
    get a non-empty split) and keeps at least one.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    carved = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        n = len(members)
        k = int(round(fraction * n))
        if n >= 2:
            k = min(max(k, 1), n - 1)
        carved.append(rng.permutation(members)[:k])
    carved = np.sort(np.concatenate(carved)) if carved else np.zeros(0, np.int64)
    kept = np.setdiff1d(np.arange(len(labels)), carved)
    return kept.astype(np.int64), carved.astype(np.int64)


def stratified_limit(labels: Sequence[int], limit: int, *, seed: int) -> np.ndarray:
    """Positions of at most ``limit`` items, drawn round-robin over classes.

    Within each class the order is a permutation seeded by ``seed``; classes take turns
    (ascending class id), so class counts differ by at most one while every class has items
    left.
    """
    labels = np.asarray(labels)
    if limit >= len(labels):
        return np.arange(len(labels), dtype=np.int64)
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    rank = np.empty(len(labels), dtype=np.int64)
    class_pos = np.searchsorted(classes, labels)
    for c in range(len(classes)):
        members = np.flatnonzero(class_pos == c)
        rank[rng.permutation(members)] = np.arange(len(members))
    turn = rank * len(classes) + class_pos
    chosen = np.argsort(turn, kind="stable")[:limit]
    return np.sort(chosen).astype(np.int64)


def class_balanced_positions(
    labels: Sequence[int], n_per_class: int, *, seed: int, classes: Sequence[int] | None = None
) -> np.ndarray:
    """Positions of ``n_per_class`` items of every class (``classes``, default every label
    present, ascending), drawn by ``seed`` without replacement, sorted within each class and
    ordered by class: the probe batch of a training-free score (ordered by class, an RDM shows
    the categorical block structure). A class with fewer items is an error naming it.

    >>> class_balanced_positions([0, 1, 0, 1, 0, 1], 2, seed=0).tolist()
    [2, 4, 1, 5]
    """
    from ..validation import ConfigError

    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    picked: list[int] = []
    for c in np.unique(labels) if classes is None else classes:
        pool = np.flatnonzero(labels == c)
        if len(pool) < n_per_class:
            raise ConfigError(
                f"class {c} has {len(pool)} items; the probe needs n_per_class={n_per_class}"
            )
        picked.extend(sorted(rng.choice(pool, n_per_class, replace=False).tolist()))
    return np.asarray(picked, dtype=np.int64)
