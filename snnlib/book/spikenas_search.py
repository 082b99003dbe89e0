"""Book glue of notebook 61 (SpikeNAS-Bench searches): run every search of the book for each
seed, its anytime figure and tables, and the numbers the chapter glues.

The searches are :func:`snnlib.spikenas.search.book_methods` (the committed
:data:`~snnlib.spikenas.search.BOOK_METHODS`, then any searcher registered with
``space="any"``), so a newly registered searcher reaches the anytime table, the result file
and, through it, notebook 62's comparison of every method without a notebook edit.
The glue keys of the chapter (``evo_rdm_acc``, ``lsp_vs_rand_diff``, ...) are fixed here, in
:data:`METHOD_KEYS` and :data:`PAIR_KEYS`: ``book/spikenas_bench.md`` and
``book/comparison.md`` read them.

Example:
    >>> list(search_seeds(3, 2))
    [3, 4]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..nas.searchers import Run
from ..nas.statistics import paired_by_seed, t_interval
from ..spikenas.search import anytime, book_methods, run_search
from ..spikenas.space import N_ARCHS
from ..spikenas.study import anytime_table
from ..spikenas.table import BenchTable

DEFAULT_SEARCH = "MSE-NAS evolution, RDM"
"""The book's default search: MSE-NAS evolution guided by the label-target RDM fitness."""

PAIRS = (
    (DEFAULT_SEARCH, "random cell (no score)"),
    ("MSE-NAS evolution, authors' scorer", "random cell (no score)"),
    ("MSE-NAS evolution, authors' scorer", DEFAULT_SEARCH),
    ("MSE-NAS evolution, 10-epoch fitness", "MSE-NAS evolution, authors' scorer"),
    ("MSE-NAS evolution, 10-epoch fitness", "random cell (no score)"),
    (DEFAULT_SEARCH, "random search, RDM"),
    ("random search, RDM", "random cell (no score)"),
    ("SNASNet: random search, SAHD", "random cell (no score)"),
    ("random search, NASWOT", "random cell (no score)"),
    ("random search, RDM", "SNASNet: random search, SAHD"),
    ("regularised evolution, val. acc.", DEFAULT_SEARCH),
    ("random search, val. acc.", "random search, RDM"),
)
"""The paired comparisons of the chapter (``a - b``, paired by seed)."""

METHOD_KEYS = {
    "evo_rdm": DEFAULT_SEARCH,
    "evo_lsp": "MSE-NAS evolution, authors' scorer",
    "evo_val10": "MSE-NAS evolution, 10-epoch fitness",
    "rs_rdm": "random search, RDM",
    "rs_sahd": "SNASNet: random search, SAHD",
    "rs_naswot": "random search, NASWOT",
    "re_val": "regularised evolution, val. acc.",
    "rs_val": "random search, val. acc.",
    "rand": "random cell (no score)",
}
"""Glue-key prefix -> search label: ``<prefix>_acc``, ``_lo``, ``_hi``, ``_pct``, ``_seconds``."""

PAIR_KEYS = {
    "evo_vs_rand": f"{DEFAULT_SEARCH} - random cell (no score)",
    "evo_vs_rsrdm": f"{DEFAULT_SEARCH} - random search, RDM",
    "rsrdm_vs_rand": "random search, RDM - random cell (no score)",
    "re_vs_evo": f"regularised evolution, val. acc. - {DEFAULT_SEARCH}",
    "lsp_vs_rand": "MSE-NAS evolution, authors' scorer - random cell (no score)",
    "lsp_vs_rdm": f"MSE-NAS evolution, authors' scorer - {DEFAULT_SEARCH}",
    "val10_vs_lsp": "MSE-NAS evolution, 10-epoch fitness - MSE-NAS evolution, authors' scorer",
}
"""Glue-key prefix -> paired difference: ``<prefix>_diff``, ``_lo``, ``_hi``, ``_t_p``."""

PAIR_FIELDS = ("diff", "lo", "hi", "t_p")


def search_seeds(seed: int, n_seeds: int) -> range:
    """The seeds every method runs with: ``seed, seed + 1, ..., seed + n_seeds - 1``."""
    return range(seed, seed + n_seeds)


def run_book_searches(
    guides, budget: int, seeds: Sequence[int], progress: bool = True
) -> dict[str, list[Run]]:
    """Every search of :func:`~snnlib.spikenas.search.book_methods` with each seed (seeds in the
    outer loop, the scored cells saved to the guides' checkpoint after each seed), by label.
    ``guides`` is a :class:`~snnlib.spikenas.guides.Guides` (``score(guide)``, ``save()``)."""
    from tqdm.auto import tqdm

    methods = book_methods()
    runs: dict[str, list[Run]] = {label: [] for label in methods}
    for s in tqdm(list(seeds), desc="seeds", disable=not progress):
        for label, (method, guide) in methods.items():
            runs[label].append(run_search(method, guides.score(guide), budget, s, guide))
        guides.save()
    return runs


def anytime_curves(
    runs: Mapping[str, Sequence[Run]], table: BenchTable, budget: int
) -> dict[str, np.ndarray]:
    """Each search's ``[seeds, budget]`` test accuracy of the returned cell after every
    evaluation (:func:`~snnlib.spikenas.search.anytime`)."""
    return {label: anytime(r, table.test_acc, budget) for label, r in runs.items()}


def final_percentiles(curves: Mapping[str, np.ndarray], table: BenchTable) -> dict:
    """Each search's percentiles in the space of the cells it returned at the full budget."""
    return {label: np.array([table.percentile(a) for a in c[:, -1]]) for label, c in curves.items()}


def mean_seconds(runs: Sequence[Run]) -> float:
    """The mean fitness seconds a search was charged per run."""
    return float(np.mean([r.seconds for r in runs]))


def search_table(
    curves: Mapping[str, np.ndarray],
    runs: Mapping[str, Sequence[Run]],
    table: BenchTable,
    at: Sequence[int],
) -> pd.DataFrame:
    """:func:`~snnlib.spikenas.study.anytime_table` after ``at`` evaluations, with the median
    percentile of the returned cells and the mean seconds per run."""
    tab = anytime_table(dict(curves), at)
    pct = final_percentiles(curves, table)
    tab["percentile (median)"] = [float(np.median(pct[label])) for label in tab.index]
    tab["seconds per run"] = [mean_seconds(runs[label]) for label in tab.index]
    return tab


def paired_finals(
    curves: Mapping[str, np.ndarray], pairs: Sequence[tuple[str, str]] = PAIRS
) -> pd.DataFrame:
    """``a - b`` of the returned cells' test accuracy at the full budget, paired by seed
    (:func:`snnlib.nas.statistics.paired_by_seed`), one row per pair named ``"a - b"``."""
    rows = {f"{a} - {b}": paired_by_seed(curves[a][:, -1], curves[b][:, -1]) for a, b in pairs}
    ptab = pd.DataFrame.from_dict(rows, orient="index")
    ptab.index.name = "difference"
    return ptab


def search_values(
    runs: Mapping[str, Sequence[Run]],
    curves: Mapping[str, np.ndarray],
    ptab: pd.DataFrame,
    table: BenchTable,
    *,
    budget: int,
    n_scored: int,
    probe,
) -> dict:
    """The numbers the chapter glues: the setting, each search of :data:`METHOD_KEYS` at the
    full budget (mean test accuracy, 95 % t interval, median percentile, seconds per run) and
    each difference of :data:`PAIR_KEYS` (mean, interval, paired t-test p)."""
    pct = final_percentiles(curves, table)
    values = {
        "budget": budget,
        "n_seeds": len(next(iter(runs.values()))),
        "n_methods": len(runs),
        "n_scored": n_scored,
        "probe_images": len(probe.y),
        "probe_source": probe.source,
        "space_median": float(np.median(table.test_acc)),
        "space_best": float(table.test_acc.max()),
    }
    for short, label in METHOD_KEYS.items():
        m, lo, hi = t_interval(curves[label][:, -1])
        values.update(
            {
                f"{short}_acc": m,
                f"{short}_lo": lo,
                f"{short}_hi": hi,
                f"{short}_pct": float(np.median(pct[label])),
                f"{short}_seconds": mean_seconds(runs[label]),
            }
        )
    for short, row in PAIR_KEYS.items():
        for field in PAIR_FIELDS:
            values[f"{short}_{field}"] = ptab.loc[row, field]
    return values


def search_metrics(values: Mapping, tab: pd.DataFrame, ptab: pd.DataFrame) -> dict:
    """The result file's metrics: the glued values, the anytime and paired tables as records."""
    return {
        **values,
        "anytime": tab.reset_index().to_dict(orient="records"),
        "paired": ptab.reset_index().to_dict(orient="records"),
    }


def search_artifacts(runs: Mapping[str, Sequence[Run]], table: BenchTable, probe) -> dict:
    """The result file's artifacts: every run as a plain record by label (what notebook 62's
    comparison reads), the provenance of the table and the probe, the size of the space."""
    return {
        "runs": {label: [r.to_dict() for r in rs] for label, rs in runs.items()},
        "bench_table": table.provenance(),
        "probe": probe.identity(),
        "space_size": N_ARCHS,
    }


def plot_anytime(curves: Mapping[str, np.ndarray], table: BenchTable):
    """The anytime figure: each search's mean returned test accuracy with its 95 % t interval
    against the evaluations spent, the space's median cell dashed."""
    import matplotlib.pyplot as plt

    budget = next(iter(curves.values())).shape[1]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    k = np.arange(1, budget + 1)
    for label, c in curves.items():
        lo, hi = np.array([t_interval(c[:, j])[1:] for j in range(budget)]).T
        ax.plot(k, c.mean(0), label=label)
        ax.fill_between(k, lo, hi, alpha=0.15)
    ax.axhline(np.median(table.test_acc), ls="--", color="grey", lw=0.8)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("test accuracy of the returned cell (%)")
    ax.set_ylim(max(80.0, ax.get_ylim()[0]), None)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
