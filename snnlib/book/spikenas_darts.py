"""Book glue of notebook 62 (DARTS and MA-DARTS in the SpikeNAS-Bench space, and every method
on one judge): run the DARTS variants for each seed, set them beside notebook 61's searches,
choose the paired comparisons, place the book's training budgets on the benchmark's
learning curves, draw the figures, and collect the numbers the chapter glues.

The glue keys (``darts_acc``, ``eca_vs_darts_lo``, ``budget_mse_tau``, ...) are fixed here
(:func:`variant_key`, :data:`VERSUS_KEYS`, :data:`BUDGET_KEYS`): ``book/comparison.md`` and
``book/intro.md`` read them.

Example:
    >>> [variant_label(a) for a in ATTENTIONS]
    ['spiking DARTS', 'MA-DARTS, eca', 'MA-DARTS, cbam', 'MA-DARTS, tcsa']
    >>> [variant_key(a) for a in ATTENTIONS]
    ['darts', 'eca', 'cbam', 'tcsa']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from ..nas.identity import with_hash
from ..nas.statistics import t_interval
from ..paths import checkpoints_dir
from ..spikenas.curves import benchmark_epochs, tau_at_budget
from ..spikenas.darts_search import DartsConfig, run_darts_search
from ..spikenas.darts_study import anytime_by_epoch
from ..spikenas.table import BenchTable
from ..validation import ConfigError
from .figures import errorbars_by_machine
from .results import load_result

ATTENTIONS = ("none", "eca", "cbam", "tcsa")
"""The DARTS variants: MA-DARTS' attention after each cell (``none``: plain spiking DARTS)."""

RANDOM_CELL = "random cell (no score)"
VAL_ACC_SEARCH = "regularised evolution, val. acc."

VERSUS_KEYS = {
    RANDOM_CELL: "vs_rand",
    "best free": "vs_free",
    VAL_ACC_SEARCH: "vs_re",
    "spiking DARTS": "vs_darts",
}
"""The reference of each paired difference -> its glue-key part (``<variant>_<part>``, ``_lo``,
``_hi``, ``_p``); ``"best free"`` stands for the best training-free search of the comparison."""

BUDGET_KEYS = {
    "MSE-NAS retraining (11)": "mse",
    "MA-DARTS retraining (21)": "madarts",
    "DARTS search weights (62)": "search",
}
"""Each training budget placed on the learning curves -> its glue-key part (``budget_<part>_*``)."""

BUDGET_COLORS = ("tab:blue", "tab:orange", "tab:green")


def variant_label(attention: str) -> str:
    """The label of a DARTS variant in the book's tables: ``"spiking DARTS"`` for ``none``,
    else ``"MA-DARTS, <attention>"``."""
    return "spiking DARTS" if attention == "none" else f"MA-DARTS, {attention}"


def variant_key(attention: str) -> str:
    """The glue-key prefix of a DARTS variant: ``darts`` for ``none``, else the attention."""
    return "darts" if attention == "none" else attention


def checkpoint_path(scale: str, attention: str, seed: int, config: DartsConfig, data):
    """The checkpoint of one search: named by scale, attention and seed, hashed by the
    search's settings and data (a checkpoint of other settings is never resumed)."""
    return with_hash(
        checkpoints_dir() / f"62_spikenas_darts__{scale}__{attention}__seed{seed}.pt",
        {"config": config.record(), "seed": seed, "data": data.identity()},
    )


def run_darts_variants(
    base: DartsConfig,
    seeds: Sequence[int],
    data,
    table: BenchTable,
    scale: str,
    resume: bool = True,
    attentions: Sequence[str] = ATTENTIONS,
    progress: bool = True,
) -> dict[str, list[dict]]:
    """Each variant of ``attentions`` (``base`` with that attention) with each seed, as run
    records (:meth:`DartsRun.to_dict <snnlib.spikenas.darts_search.DartsRun.to_dict>`) by
    :func:`variant_label`; with ``resume`` each search continues its checkpoint
    (:func:`checkpoint_path`)."""
    from tqdm.auto import tqdm

    runs: dict[str, list[dict]] = {}
    for attention in tqdm(attentions, desc="attention", disable=not progress):
        config = replace(base, attention=attention)
        runs[variant_label(attention)] = [
            run_darts_search(
                config,
                s,
                data,
                table=table,
                checkpoint=checkpoint_path(scale, attention, s, config, data) if resume else None,
            ).to_dict()
            for s in seeds
        ]
    return runs


def check_seeds(search_runs: Mapping[str, Sequence[Mapping]], seeds: Sequence[int]) -> None:
    """Refuse notebook 61's searches unless every one ran with ``seeds`` (in order): the
    comparison pairs methods by seed."""
    for name, rs in search_runs.items():
        if [r["seed"] for r in rs] != list(seeds):
            raise ConfigError(
                f"notebook 61's search {name!r} ran with seeds {[r['seed'] for r in rs]}, "
                f"this notebook with {list(seeds)}; rerun notebook 61 with this seed and scale"
            )


def load_search_runs(dataset: str, scale: str, seed: int, seeds: Sequence[int]) -> dict:
    """Notebook 61's searches of this ``dataset``, ``scale`` and ``seed`` (its result file's run
    records by label, :func:`snnlib.book.results.load_result`), checked to have run with
    ``seeds`` (:func:`check_seeds`)."""
    runs = load_result("61_spikenas_search", dataset, scale, seed)["artifacts"]["runs"]
    check_seeds(runs, seeds)
    return runs


def best_free_search(ctab: pd.DataFrame, exclude: Sequence[str]) -> str:
    """The most accurate search of the comparison (``ctab`` sorted by accuracy) whose seconds
    are this CPU's, other than those of ``exclude`` (the DARTS variants) and the random cell:
    the best training-free search."""
    free = ctab[(ctab["machine"] == "this CPU") & ~ctab.index.isin(list(exclude))]
    free = free[free.index != RANDOM_CELL]
    if free.empty:
        raise ConfigError("the comparison has no training-free search on this CPU")
    return str(free.index[0])


def darts_pairs(labels: Sequence[str], best_free: str) -> list[tuple[str, str]]:
    """The paired comparisons of the chapter: every variant other than plain DARTS against plain
    DARTS, then every variant against the random cell, against ``best_free`` and against the
    validation-accuracy search."""
    return [
        *[(name, "spiking DARTS") for name in labels if name != "spiking DARTS"],
        *[(name, RANDOM_CELL) for name in labels],
        *[(name, best_free) for name in labels],
        *[(name, VAL_ACC_SEARCH) for name in labels],
    ]


def training_budgets(mse: Mapping, madarts: Mapping, darts: DartsConfig) -> dict[str, float]:
    """The book's CIFAR-10 training budgets in benchmark epochs
    (:func:`~snnlib.spikenas.curves.benchmark_epochs`): MSE-NAS's retraining (notebook 11's
    metrics ``epochs``, ``n_train``), MA-DARTS' (notebook 21's ``train_epochs``, ``n_train``) and
    the DARTS search's weights here."""
    return {
        "MSE-NAS retraining (11)": benchmark_epochs(mse["epochs"], mse["n_train"]),
        "MA-DARTS retraining (21)": benchmark_epochs(madarts["train_epochs"], madarts["n_train"]),
        "DARTS search weights (62)": benchmark_epochs(darts.epochs, darts.n_weight),
    }


def place_budgets(curve: pd.DataFrame, budgets: Mapping[str, float]) -> dict[str, dict]:
    """Where each budget sits on the rank-correlation curve
    (:func:`~snnlib.spikenas.curves.tau_at_budget`)."""
    return {name: tau_at_budget(curve, e) for name, e in budgets.items()}


def darts_values(
    base: DartsConfig,
    seeds: Sequence[int],
    table: BenchTable,
    ctab: pd.DataFrame,
    dtab: pd.DataFrame,
    ptab: pd.DataFrame,
    best_free: str,
    curve: pd.DataFrame,
    placed: Mapping[str, Mapping],
    attentions: Sequence[str] = ATTENTIONS,
) -> dict:
    """The numbers the chapter glues: the setting; per variant its row of the DARTS table
    (``<key>_acc``, ``_lo``, ``_hi``, ``_pct``, ``_collapse``, ``_dead``, ``_spread``,
    ``_seconds``) and its paired differences of :data:`VERSUS_KEYS` that the paired table holds;
    the rank correlation after 1, 10 and 100 epochs; each budget of :data:`BUDGET_KEYS`."""
    values = {
        "n_seeds": len(seeds),
        "epochs": base.epochs,
        "n_weight": base.n_weight,
        "n_arch": base.n_arch,
        "width_channels": round(128 * base.width),
        "time_steps": base.time_steps,
        "space_median": float(np.median(table.test_acc)),
        "n_methods": len(ctab),
        "best_free": best_free,
        "tau_epoch1": float(curve.loc[1, "tau"]),
        "tau_epoch10": float(curve.loc[10, "tau"]),
        "tau_epoch100": float(curve.loc[100, "tau"]),
    }
    for attention in attentions:
        short, name = variant_key(attention), variant_label(attention)
        r = dtab.loc[name]
        values.update(
            {
                f"{short}_acc": r["test_acc"],
                f"{short}_lo": r["lo"],
                f"{short}_hi": r["hi"],
                f"{short}_pct": r["percentile (median)"],
                f"{short}_collapse": r["zero/identity share"],
                f"{short}_dead": int(r["dead cells"]),
                f"{short}_spread": r["alpha spread"],
                f"{short}_seconds": r["seconds"],
            }
        )
        for other, key in VERSUS_KEYS.items():
            row = f"{name} - {best_free if other == 'best free' else other}"
            if row in ptab.index:
                values.update(
                    {
                        f"{short}_{key}": ptab.loc[row, "diff"],
                        f"{short}_{key}_lo": ptab.loc[row, "lo"],
                        f"{short}_{key}_hi": ptab.loc[row, "hi"],
                        f"{short}_{key}_p": ptab.loc[row, "t_p"],
                    }
                )
    for name, key in BUDGET_KEYS.items():
        values.update(
            {
                f"budget_{key}_epochs": placed[name]["epochs"],
                f"budget_{key}_tau": placed[name]["tau"],
                f"budget_{key}_bound": placed[name]["bound"],
            }
        )
    return values


def darts_artifacts(
    runs: Mapping, ctab: pd.DataFrame, ptab: pd.DataFrame, placed: Mapping, table: BenchTable
) -> dict:
    """The result file's artifacts: the DARTS runs by label, the comparison and paired tables
    as records, the placed budgets and the table's provenance."""
    return {
        "runs": dict(runs),
        "comparison": ctab.reset_index().to_dict(orient="records"),
        "paired": ptab.reset_index().to_dict(orient="records"),
        "budgets": dict(placed),
        "bench_table": table.provenance(),
    }


def plot_darts_anytime(runs: Mapping[str, Sequence[Mapping]], table: BenchTable):
    """Each variant's mean test accuracy of the cell it derives after every search epoch, with
    its 95 % t interval (:func:`~snnlib.spikenas.darts_study.anytime_by_epoch`); the space's
    median cell dashed."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, rs in runs.items():
        acc = anytime_by_epoch(rs, table)
        ep = np.arange(1, acc.shape[1] + 1)
        lo, hi = np.array([t_interval(acc[:, j])[1:] for j in range(acc.shape[1])]).T
        ax.plot(ep, acc.mean(0), "o-", label=name)
        ax.fill_between(ep, lo, hi, alpha=0.12)
    ax.axhline(np.median(table.test_acc), ls="--", color="grey", lw=0.8)
    ax.set(xlabel="search epoch", ylabel="test accuracy of the derived cell (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_comparison_cost(ctab: pd.DataFrame, table: BenchTable):
    """Every search's returned test accuracy (95 % interval) against its seconds per search,
    one marker and one Pareto front per machine (:func:`~snnlib.book.figures.errorbars_by_machine`),
    each point named; the space's median cell dashed."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    errorbars_by_machine(ax, ctab, "test_acc", "lo", "hi", floor=1e-3, fronts=True)
    for name, r in ctab.iterrows():
        ax.annotate(name, (max(r["seconds"], 1e-3), r["test_acc"]), fontsize=6)
    ax.axhline(np.median(table.test_acc), ls="--", color="grey", lw=0.8)
    ax.set_xscale("log")
    ax.set(
        xlabel="seconds per search (log; 1e-3 stands for ~0)",
        ylabel="test accuracy of the returned cell (%)",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_budget_curve(curve: pd.DataFrame, placed: Mapping[str, Mapping]):
    """The rank correlation of ``val_acc@k`` with the final test accuracy against ``k``, and
    each placed budget as a marker on it (a budget below one epoch at epoch 1)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.plot(curve.index, curve["tau"], "-", color="black", lw=1, label="val. acc. after k epochs")
    for (name, p), color in zip(placed.items(), BUDGET_COLORS):
        ax.plot([max(p["epochs"], 1)], [p["tau"]], "v", color=color, ms=8, label=name)
    ax.set_xscale("log")
    ax.set(xlabel="epochs of full-data training (log)", ylabel="Kendall tau with final test acc.")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
