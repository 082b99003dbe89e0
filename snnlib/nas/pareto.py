"""The accuracy-cost Pareto front of a set of architectures."""

from __future__ import annotations

import numpy as np


def pareto_front(acc, cost) -> np.ndarray:
    """Boolean mask of the points not dominated when maximising ``acc`` and minimising ``cost``
    (a point is dominated if another is at least as good in both and better in one).

    >>> pareto_front([0.9, 0.8, 0.85], [2.0, 1.0, 3.0]).tolist()  # the third is dominated
    [True, True, False]
    """
    a = np.asarray(acc, dtype=np.float64)
    c = np.asarray(cost, dtype=np.float64)
    ge = (a[None, :] >= a[:, None]) & (c[None, :] <= c[:, None])
    gt = (a[None, :] > a[:, None]) | (c[None, :] < c[:, None])
    return ~(ge & gt).any(1)
