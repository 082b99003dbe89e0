r"""What the ledger and the searches say: rank statistics against the benchmark, anytime curves.

- :func:`proxy_table`: per proxy, Kendall's :math:`\tau_b` and Spearman's :math:`\rho` against
  the table's test accuracy with 95 % bootstrap intervals (architectures resampled), the top-5 %
  and top-1 % hit rates (the fraction of the truly best 5 % / 1 % of the sampled cells among
  the proxy's best 5 % / 1 %), and the median seconds per candidate.
- :func:`cross_width_table`: per proxy, the rank correlation between its scores at two widths
  of the same cells (is the cheap network a faithful stand-in for the benchmark's?).
- :func:`early_stop_table` and :func:`ledger_score_table`: the same statistics for the
  benchmark's early-stop scores (validation accuracy after k epochs, from its learning
  curves) beside the training-free ones, each tau also as a share of the noise ceiling.
- :func:`anytime_table`: the searches' returned test accuracy after ``k`` evaluations, mean
  and 95 % t interval over seeds (paired comparisons of two methods run with the same seeds:
  :func:`snnlib.nas.statistics.paired_by_seed`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..nas.ranking import (
    bootstrap,
    finite_floor,
    kendall_tau,
    percentile_ci,
    study_table,
    top_hit_rate,
)
from ..nas.statistics import t_interval
from .curves import (
    EARLY_STOP_EPOCHS,
    Curves,
    NoiseCeiling,
    early_stop_scores,
    early_stop_seconds,
    noise_ceiling,
)
from .ledger import Ledger
from .table import BenchTable


def proxy_scores(
    ledger: Ledger, ids: Sequence[int], proxies: Sequence[str]
) -> dict[str, np.ndarray]:
    """Each proxy's scores of ``ids`` (non-finite scores mapped below the finite ones)."""
    return {p: finite_floor(ledger.column(p, ids)) for p in proxies}


def proxy_table(
    ledger: Ledger,
    ids: Sequence[int],
    test_acc: np.ndarray,
    proxies: Sequence[str],
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per proxy, sorted by tau: ``tau [lo, hi]``, ``rho [lo, hi]``, ``top5``,
    ``top5_chance``, ``top1``, ``top1_chance``, ``seconds`` (median per candidate), ``n``."""
    ids = np.asarray(ids)
    df = score_statistics(
        proxy_scores(ledger, ids, proxies), np.asarray(test_acc)[ids], n_boot, seed
    )
    df["seconds"] = median_seconds(ledger, ids, df.index)
    return df


def median_seconds(ledger: Ledger, ids: Sequence[int], proxies: Sequence[str]) -> pd.Series:
    """Each proxy's median seconds per cell over ``ids`` (its own time plus the shared work it
    needs: :func:`snnlib.nas.proxies.score_proxies`)."""
    return pd.Series(
        {p: float(np.median([ledger.rows[int(a)]["seconds"][p] for a in ids])) for p in proxies},
        name="seconds",
    )


def score_statistics(
    scores: dict[str, np.ndarray], acc: np.ndarray, n_boot: int, seed: int
) -> pd.DataFrame:
    """One row per score, sorted by tau: ``tau [lo, hi]``, ``rho [lo, hi]``, the top-5 % and
    top-1 % hit rates and their chance levels, ``n`` (the columns every score table shares)."""
    df = study_table(scores, acc, n_boot=n_boot, seed=seed, top=0.05)
    df = df.rename(columns={"hit_rate": "top5", "chance": "top5_chance"})
    df["top1"] = [top_hit_rate(scores[p], acc, 0.01) for p in df.index]
    df["top1_chance"] = max(1, int(np.ceil(0.01 * len(acc) - 1e-9))) / len(acc)
    return df.drop(columns=["constant"])


def cross_width_table(
    narrow: Ledger,
    wide: Ledger,
    ids: Sequence[int],
    test_acc: np.ndarray,
    proxies: Sequence[str],
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per proxy on the cells both ledgers scored: Kendall tau between the two widths' scores
    (with a bootstrap interval), and each width's tau against the test accuracy."""
    ids = np.asarray(ids)
    acc = np.asarray(test_acc)[ids]
    rows = {}
    for p in proxies:
        a, b = finite_floor(narrow.column(p, ids)), finite_floor(wide.column(p, ids))
        tau = kendall_tau(a, b)
        lo, hi = (
            percentile_ci(bootstrap(kendall_tau, a, b, n_boot, seed))
            if np.isfinite(tau)
            else (np.nan, np.nan)
        )
        rows[p] = {
            "tau_widths": tau,
            "tau_widths_lo": lo,
            "tau_widths_hi": hi,
            "tau_narrow": kendall_tau(a, acc),
            "tau_wide": kendall_tau(b, acc),
            "n": len(ids),
        }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "score"
    return df


def anytime_table(curves: dict[str, np.ndarray], at: Sequence[int]) -> pd.DataFrame:
    """Mean returned test accuracy and its 95 % interval after each ``k`` in ``at``
    evaluations (``curves[name]`` is ``[seeds, budget]``)."""
    rows = {}
    for name, c in curves.items():
        row = {}
        for k in at:
            m, lo, hi = t_interval(c[:, k - 1])
            row[f"acc@{k}"], row[f"lo@{k}"], row[f"hi@{k}"] = m, lo, hi
        row["seeds"] = c.shape[0]
        rows[name] = row
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "method"
    return df


def early_stop_table(
    curves: Curves,
    table: BenchTable,
    ids: Sequence[int],
    n_boot: int = 1000,
    seed: int = 0,
    epochs: Sequence[int] = EARLY_STOP_EPOCHS,
) -> pd.DataFrame:
    """:func:`proxy_table`'s columns for the early-stop scores of ``ids``
    (:func:`~snnlib.spikenas.curves.early_stop_scores`), with ``seconds`` the median of the
    benchmark's recorded GPU seconds that the early stop costs (another machine: ``machine``)."""
    ids = np.asarray(ids)
    scores = {k: v[ids] for k, v in early_stop_scores(curves, epochs).items()}
    df = score_statistics(scores, table.test_acc[ids], n_boot, seed)
    df["seconds"] = [
        float(np.median(early_stop_seconds(curves, table, int(p.split("@")[1]))[ids]))
        for p in df.index
    ]
    df["machine"] = "benchmark GPU"
    return df


def ledger_score_table(
    ledger: Ledger,
    ids: Sequence[int],
    table: BenchTable,
    curves: Curves,
    proxies: Sequence[str],
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[pd.DataFrame, NoiseCeiling]:
    """Every training-free score of the ledger and every early-stop score on the same cells,
    sorted by tau, with ``share_of_ceiling`` = tau / the noise ceiling's tau on those cells
    (:func:`~snnlib.spikenas.curves.noise_ceiling`: how well the final validation accuracy
    ranks the test accuracy), and that ceiling."""
    ids = np.asarray(ids)
    free = proxy_table(ledger, ids, table.test_acc, proxies, n_boot=n_boot, seed=seed)
    free["machine"] = "this CPU"
    early = early_stop_table(curves, table, ids, n_boot=n_boot, seed=seed)
    mask = np.zeros(len(table.test_acc), bool)
    mask[ids] = True
    ceiling = noise_ceiling(table, curves, mask=mask, n_boot=n_boot, seed=seed)
    ref = ceiling.all_cells if (table.test_acc[ids] <= 10.0).any() else ceiling.learning
    df = pd.concat([free, early]).sort_values("tau", ascending=False)
    df["share_of_ceiling"] = df["tau"] / ref.tau
    df.index.name = "score"
    return df, ceiling
