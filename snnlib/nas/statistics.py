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


def t_interval(x, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval of the mean of ``x`` (``nan`` bounds for one value).

    >>> [round(v, 3) for v in t_interval([0.90, 0.92, 0.94])]
    [0.92, 0.87, 0.97]
    """
    from scipy import stats

    x = np.asarray(x, dtype=float)
    m = float(x.mean())
    if len(x) < 2 or np.all(x == x[0]):
        return m, (m if len(x) >= 2 else np.nan), (m if len(x) >= 2 else np.nan)
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return m, float(m - half), float(m + half)


def paired_by_seed(a, b) -> dict:
    """``a`` minus ``b``, paired by seed (two methods or architectures run with the same
    seeds): mean difference, 95 % t interval, paired t-test and Wilcoxon signed-rank
    p-values (``nan`` where undefined)."""
    from scipy import stats

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    m, lo, hi = t_interval(d)
    nonzero = d[d != 0]
    t_p = float(stats.ttest_rel(a, b).pvalue) if np.any(d != d[0]) else float("nan")
    w_p = float(stats.wilcoxon(nonzero).pvalue) if len(nonzero) >= 2 else float("nan")
    return {"diff": m, "lo": lo, "hi": hi, "t_p": t_p, "wilcoxon_p": w_p, "n": len(d)}


def wilson_interval(correct: int, n: int, level: float = 0.95) -> tuple[float, float]:
    r"""Wilson score interval of an accuracy of ``correct`` out of ``n`` test items: the
    uncertainty that a finite test set alone leaves (on 100 items about :math:`\pm` 5 points
    near 90 %).

    >>> [round(v, 3) for v in wilson_interval(90, 100)]
    [0.826, 0.945]
    """
    from scipy import stats

    if n <= 0:
        raise ValueError("wilson_interval needs n > 0 items")
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def mcnemar_exact(correct_a, correct_b) -> dict:
    """Exact McNemar test of two classifiers on the same items: ``b`` items only ``a`` got
    right, ``c`` only ``b``; ``p`` is the two-sided binomial test of ``b`` against
    ``Bin(b + c, 1/2)`` (1.0 when they never disagree).

    >>> mcnemar_exact([1, 1, 1, 0], [1, 0, 0, 0])
    {'a_only': 2, 'b_only': 0, 'p': 0.5}
    """
    from scipy import stats

    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if a.shape != b.shape:
        raise ValueError(f"mcnemar_exact: {a.shape} and {b.shape} items differ")
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    n = only_a + only_b
    p = float(stats.binomtest(only_a, n, 0.5).pvalue) if n else 1.0
    return {"a_only": only_a, "b_only": only_b, "p": p}


def paired_items(
    correct_a, correct_b, n_boot: int = 10_000, seed: int = 0, level: float = 0.95
) -> dict:
    """Accuracy of ``a`` minus that of ``b`` on the same test items, with a paired bootstrap
    interval over items (both resampled together).

    ``correct_a`` / ``correct_b`` are ``[n_items]`` or ``[n_seeds, n_items]`` booleans (a
    network retrained at several seeds: its accuracy is the mean over seeds, so the interval
    covers the test items' sampling for these seeds). Also returns the exact McNemar test
    of the first seed of each (:func:`mcnemar_exact`) and a two-sided bootstrap p-value
    (twice the smaller tail of the resampled differences around 0).

    >>> r = paired_items([[1, 1, 1, 1, 0]], [1, 0, 1, 0, 0], n_boot=2000)
    >>> round(r["diff"], 2), r["n_items"]
    (0.4, 5)
    """
    a = np.atleast_2d(np.asarray(correct_a, dtype=float))
    b = np.atleast_2d(np.asarray(correct_b, dtype=float))
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"paired_items: {a.shape[1]} and {b.shape[1]} test items differ")
    per_item = a.mean(0) - b.mean(0)
    n = len(per_item)
    rng = np.random.default_rng(seed)
    # resampled in chunks of at most ~4M indices (10,000 x 10,000 at once would be 800 MB);
    # successive draws of one generator give the same indices as a single draw
    chunk = max(1, 4_000_000 // n)
    boots = np.concatenate(
        [
            per_item[rng.integers(0, n, size=(min(chunk, n_boot - i), n))].mean(1)
            for i in range(0, n_boot, chunk)
        ]
    )
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boots, [alpha, 1 - alpha])
    p = min(1.0, 2 * min((boots <= 0).mean(), (boots >= 0).mean()))
    return {
        "diff": float(per_item.mean()),
        "lo": float(lo),
        "hi": float(hi),
        "p_boot": float(p),
        "mcnemar": mcnemar_exact(a[0] > 0.5, b[0] > 0.5),
        "n_items": n,
        "n_seeds": (a.shape[0], b.shape[0]),
    }
