r"""How well does a training-free score rank architectures by trained accuracy?

For :math:`n` architectures with scores :math:`s_i` and trained accuracies :math:`a_i`:

- **Kendall's** :math:`\tau_b` (scipy's default, which corrects for ties)

  .. math:: \tau_b = \frac{\sum_{i<j} \mathrm{sgn}(s_i - s_j)\,\mathrm{sgn}(a_i - a_j)}
                           {\sqrt{(n_0 - n_s)(n_0 - n_a)}},

  with :math:`n_0 = n(n-1)/2` and :math:`n_s`, :math:`n_a` the pairs tied in :math:`s`, in
  :math:`a`.
- **Spearman's** :math:`\rho`: the Pearson correlation of the average ranks (ties get the
  mean of their ranks).
- **95 % bootstrap confidence intervals**: ``n_boot`` resamples of the *architectures* with
  replacement (seeded), the statistic recomputed on each, the 2.5 and 97.5 percentiles
  (percentile method). Resamples on which the statistic is undefined are dropped.
- **Top-10 % hit rate**: with :math:`k = \lceil 0.1\,n \rceil`, the fraction of the true
  top-:math:`k` architectures (by accuracy) among the score's top-:math:`k`. Ties: an
  architecture counts as truly top-:math:`k` if its accuracy is at least the :math:`k`-th
  best (tied accuracies are equally good); the score's top-:math:`k` is taken with random
  tie-breaking, in expectation (members tied at the boundary count fractionally). A constant
  score therefore hits at the chance rate; chance is :math:`k/n` for distinct accuracies.

A constant score (or constant accuracies) has no defined rank correlation: :math:`\tau`
and :math:`\rho` are NaN and are reported as such, never as 0.

Everything is vectorised over bootstrap resamples (``[n_boot, n]`` arrays, processed in
chunks to bound memory).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ..validation import ConfigError


def _pair(score, acc) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(score, dtype=np.float64)
    a = np.asarray(acc, dtype=np.float64)
    if s.shape != a.shape:
        raise ConfigError(f"score and accuracy differ in shape: {s.shape} vs {a.shape}")
    if s.shape[-1] < 2:
        raise ConfigError("rank statistics need at least 2 architectures")
    if not (np.isfinite(s).all() and np.isfinite(a).all()):
        raise ConfigError(
            "scores and accuracies must be finite (map -inf scores to a finite floor first)"
        )
    return s, a


PAIRWISE_MAX_N = 200
"""Up to this many architectures Kendall's tau is computed from all pairs at once (batched over
bootstrap resamples); above it, by scipy's O(n log n) algorithm one row at a time (the same
tau_b, to rounding), so that a ledger of hundreds of architectures bootstraps in seconds."""


def _kendall_tau_sorted(s: np.ndarray, a: np.ndarray) -> np.ndarray | float:
    from scipy.stats import kendalltau

    flat_s, flat_a = s.reshape(-1, s.shape[-1]), a.reshape(-1, a.shape[-1])
    out = np.array([kendalltau(x, y).statistic for x, y in zip(flat_s, flat_a)], dtype=float)
    out = out.reshape(s.shape[:-1])
    return float(out) if out.ndim == 0 else out


def kendall_tau(score, acc) -> np.ndarray | float:
    r"""Kendall's :math:`\tau_b` along the last axis (batched); NaN where either side is
    constant.

    >>> round(kendall_tau([1, 2, 3, 4], [0.1, 0.3, 0.2, 0.4]), 4)  # one discordant pair of 6
    0.6667
    """
    s, a = _pair(score, acc)
    if s.shape[-1] > PAIRWISE_MAX_N:
        return _kendall_tau_sorted(s, a)
    ds = np.sign(s[..., :, None] - s[..., None, :])
    da = np.sign(a[..., :, None] - a[..., None, :])
    num = (ds * da).sum((-1, -2))
    den = np.sqrt((ds != 0).sum((-1, -2)).astype(np.float64) * (da != 0).sum((-1, -2)))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


def spearman_rho(score, acc) -> np.ndarray | float:
    r"""Spearman's :math:`\rho` (average ranks) along the last axis; NaN where either side is
    constant.

    >>> round(spearman_rho([1, 2, 3, 4], [0.1, 0.3, 0.2, 0.4]), 4)
    0.8
    """
    s, a = _pair(score, acc)
    rs = rankdata(s, axis=-1)
    ra = rankdata(a, axis=-1)
    rs = rs - rs.mean(-1, keepdims=True)
    ra = ra - ra.mean(-1, keepdims=True)
    den = np.sqrt((rs * rs).sum(-1) * (ra * ra).sum(-1))
    num = (rs * ra).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return float(out) if out.ndim == 0 else np.clip(out, -1.0, 1.0)


def _top_membership(v: np.ndarray, k: int) -> np.ndarray:
    """Expected membership of each item in the top-``k`` of ``v`` under random tie-breaking."""
    kth = np.sort(v)[::-1][k - 1]
    above = v > kth
    tied = v == kth
    need = k - above.sum()
    return above + tied * (need / tied.sum())


def top_hit_rate(score, acc, fraction: float = 0.1) -> float:
    """Fraction of the true top-``fraction`` architectures (by accuracy) that the score's
    top-``fraction`` contains (ties: see the module docstring).

    >>> top_hit_rate([1, 2, 3, 4], [0.1, 0.3, 0.2, 0.4], fraction=0.25)  # both pick the 4th
    1.0
    """
    s, a = _pair(score, acc)
    if s.ndim != 1:
        raise ConfigError("top_hit_rate takes 1-D arrays")
    if not 0.0 < fraction <= 1.0:
        raise ConfigError(f"fraction={fraction} must be in (0, 1]")
    k = max(1, math.ceil(fraction * len(s) - 1e-9))
    p = _top_membership(s, k)
    truly = a >= np.sort(a)[::-1][k - 1]
    return float((p * truly).sum() / k)


def bootstrap(stat, score, acc, n_boot: int = 2000, seed: int = 0, chunk: int = 250) -> np.ndarray:
    """``stat`` (a batched function like :func:`kendall_tau`) on ``n_boot`` resamples of the
    architectures with replacement, drawn by ``numpy.random.default_rng(seed)``."""
    s, a = _pair(score, acc)
    if not isinstance(n_boot, int) or n_boot < 1:
        raise ConfigError(f"n_boot={n_boot!r} must be a positive integer")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(s), size=(n_boot, len(s)))
    out = [
        np.atleast_1d(stat(s[idx[i : i + chunk]], a[idx[i : i + chunk]]))
        for i in range(0, n_boot, chunk)
    ]
    return np.concatenate(out)


def percentile_ci(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the finite bootstrap samples; (NaN, NaN) if there are none."""
    v = np.asarray(samples, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(v, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lo), float(hi)


def rank_study(
    score, acc, n_boot: int = 2000, seed: int = 0, level: float = 0.95, top: float = 0.1
) -> dict:
    """All statistics of one score: ``tau``, ``tau_lo``, ``tau_hi``, ``rho``, ``rho_lo``,
    ``rho_hi``, ``hit_rate``, ``chance`` (k/n), ``n``, ``constant`` (the score is constant)."""
    s, a = _pair(score, acc)
    tau, rho = kendall_tau(s, a), spearman_rho(s, a)
    tau_lo, tau_hi = percentile_ci(bootstrap(kendall_tau, s, a, n_boot, seed), level)
    rho_lo, rho_hi = percentile_ci(bootstrap(spearman_rho, s, a, n_boot, seed), level)
    if not math.isfinite(tau):
        tau_lo = tau_hi = math.nan
    if not math.isfinite(rho):
        rho_lo = rho_hi = math.nan
    k = max(1, math.ceil(top * len(s) - 1e-9))
    return {
        "tau": tau,
        "tau_lo": tau_lo,
        "tau_hi": tau_hi,
        "rho": rho,
        "rho_lo": rho_lo,
        "rho_hi": rho_hi,
        "hit_rate": top_hit_rate(s, a, top),
        "chance": k / len(s),
        "n": int(len(s)),
        "constant": bool(np.all(s == s[0])),
    }


def study_table(
    scores: dict[str, np.ndarray | list],
    acc,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    top: float = 0.1,
) -> pd.DataFrame:
    """One row per score (index: its name), columns of :func:`rank_study`, sorted by ``tau``
    (NaN last). Every score uses the same bootstrap resamples (same ``seed``)."""
    rows = {name: rank_study(v, acc, n_boot, seed, level, top) for name, v in scores.items()}
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "score"
    return df.sort_values("tau", ascending=False, na_position="last", kind="stable")


def finite_floor(values) -> np.ndarray:
    """Replace non-finite scores (e.g. SAHD's log 0 = -inf) by a value below every finite one,
    so that they rank last (ties among themselves)."""
    v = np.asarray(values, dtype=np.float64).copy()
    bad = ~np.isfinite(v)
    if bad.any():
        fin = v[~bad]
        v[bad] = (fin.min() - 1.0 - abs(fin.min())) if fin.size else 0.0
    return v


def paired_difference(
    stat, score_a, score_b, acc, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> dict:
    """``stat(a) - stat(b)`` (e.g. Kendall tau of two scores against the same accuracies) with a
    *paired* percentile bootstrap interval: both scores are evaluated on the same resamples,
    so the interval of the difference is much narrower than the two separate intervals suggest.
    Returns ``diff``, ``lo``, ``hi`` (NaN where a statistic is undefined)."""
    a, acc_ = _pair(score_a, acc)
    b, _ = _pair(score_b, acc)
    diff = stat(a, acc_) - stat(b, acc_)
    boots = bootstrap(stat, a, acc_, n_boot, seed) - bootstrap(stat, b, acc_, n_boot, seed)
    lo, hi = percentile_ci(boots, level)
    if not math.isfinite(diff):
        lo = hi = math.nan
    return {"diff": float(diff), "lo": lo, "hi": hi}
