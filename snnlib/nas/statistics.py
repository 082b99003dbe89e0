"""Statistics of retraining experiments: is an architecture effect larger than seed noise?"""

from __future__ import annotations

import numpy as np
from scipy.stats import f as f_dist


def cell_effect(per_seed: list[list[float]]) -> dict:
    r"""Does the cell explain test accuracy beyond seed noise? A one-way ANOVA over candidates.

    ``per_seed[k]`` are candidate ``k``'s accuracies over retraining seeds. With :math:`K`
    candidates of :math:`n_k` seeds, :math:`N = \sum n_k`, group means :math:`\bar a_k` and
    grand mean :math:`\bar a`:

    .. math::

        F = \frac{\sum_k n_k (\bar a_k - \bar a)^2 / (K - 1)}
                 {\sum_k \sum_i (a_{ki} - \bar a_k)^2 / (N - K)}

    and ``p`` is the upper tail of :math:`F(K - 1, N - K)`. A large ``p`` says the differences
    between candidates are of the size the seeds alone produce: "derived beats the median
    random cell" is then decided by noise. Also returns the spread of the candidate means
    (``sd_between``) and the one it would have from seed noise alone
    (``sd_within / sqrt(mean n_k)``). ``F`` and ``p`` are ``None`` with fewer than two
    candidates or without two seeds somewhere (no within-candidate variance to compare with).

    >>> r = cell_effect([[0.90, 0.91, 0.92], [0.95, 0.96, 0.97]])  # 5 points apart, sd 1 point
    >>> round(r["F"], 1), r["p"] < 0.01, r["n_runs"]
    (37.5, True, 6)
    >>> cell_effect([[0.9, 0.91]])["F"] is None  # one candidate: nothing to compare
    True
    """
    groups = [np.asarray(g, dtype=np.float64) for g in per_seed if len(g)]
    k, n = len(groups), sum(len(g) for g in groups)
    out = {
        "F": None,
        "p": None,
        "n_candidates": k,
        "n_runs": n,
        "sd_between": None,
        "sd_within": None,
        "sd_between_from_noise": None,
    }
    if k < 2 or n - k < 1:
        return out
    grand = np.concatenate(groups).mean()
    means = np.array([g.mean() for g in groups])
    ss_between = float(sum(len(g) * (m - grand) ** 2 for g, m in zip(groups, means)))
    ss_within = float(sum(((g - g.mean()) ** 2).sum() for g in groups))
    ms_within = ss_within / (n - k)
    out.update(
        sd_between=float(means.std(ddof=1)),
        sd_within=ms_within**0.5,
        sd_between_from_noise=(ms_within / (n / k)) ** 0.5,
    )
    if ms_within > 0:
        F = (ss_between / (k - 1)) / ms_within
        out.update(F=F, p=float(f_dist.sf(F, k - 1, n - k)))
    return out
