"""Book glue of notebook 60 (the SpikeNAS-Bench ledger): which cells the chapter scores and
analyses, the second scoring at two widths, the figures, and the numbers the chapter glues.

A dry run (``max_steps``, :mod:`snnlib.dryrun`) scores only the first cells of each ledger; the
functions with a ``dry_run`` flag then keep the chapter's analysis running on those (on
meaningless numbers: a dry run writes no result). The glue keys of :func:`ledger_values` are
read by ``book/spikenas_bench.md`` and ``book/intro.md``.

Example:
    >>> import numpy as np
    >>> learning_cells(np.array([3, 5, 8]), np.array([0, 0, 0, 10.0, 0, 55.0, 0, 0, 90.0]))
    array([5, 8])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..nas.lsp import LSP_FITNESS
from ..nas.pareto import pareto_front
from ..paths import checkpoints_dir
from ..spikenas.curves import NoiseCeiling
from ..spikenas.ledger import (
    DEFAULT_RDM,
    Ledger,
    LedgerConfig,
    Probe,
    checkpoint_name,
    ledger_identity,
    run_ledger,
    stratified_sample,
)
from ..spikenas.space import N_ARCHS
from ..spikenas.study import median_seconds
from ..spikenas.table import BenchTable
from .figures import errorbars_by_machine

LEARNS_ABOVE = 10.0
"""A cell *learns* when its test accuracy is above chance (10 % on CIFAR-10's ten classes)."""

TABLE_COLUMNS = [
    "tau",
    "tau_lo",
    "tau_hi",
    "share_of_ceiling",
    "rho",
    "top5",
    "top1",
    "seconds",
    "machine",
]
"""The columns of the ledger tables the chapter shows."""

SPACE_COLUMNS = ["tau", "tau_lo", "tau_hi", "rho", "top5", "top1", "seconds"]
"""The columns of the early-stop table over the whole space."""

COST_MARKERS = {"this CPU": "o", "this CPU, full width": "^", "benchmark GPU": "s"}


def ledger_sample(test_acc: np.ndarray, n_cells: int, seed: int) -> np.ndarray:
    """The cells the ledger scores: a stratified sample of ``n_cells``
    (:func:`~snnlib.spikenas.ledger.stratified_sample`), or every cell of the space when
    ``n_cells`` is its size or more."""
    if n_cells < N_ARCHS:
        return stratified_sample(test_acc, n_cells, seed)
    return np.arange(N_ARCHS)


def scored_cells(ids: np.ndarray, ledger: Ledger, dry_run: bool) -> np.ndarray:
    """``ids``, or in a dry run those of them the ledger scored (in order)."""
    return ids[np.isin(ids, list(ledger.rows))] if dry_run else ids


def learning_cells(ids: np.ndarray, test_acc: np.ndarray, dry_run: bool = False) -> np.ndarray:
    """The cells of ``ids`` that learn (test accuracy above :data:`LEARNS_ABOVE`); a dry run
    with fewer than two of them keeps ``ids`` (any two stand in)."""
    learned = ids[np.asarray(test_acc)[ids] > LEARNS_ABOVE]
    return ids if dry_run and len(learned) < 2 else learned


def wide_cells(
    ids: np.ndarray, test_acc: np.ndarray, n_wide: int, seed: int, dry_run: bool = False
) -> np.ndarray:
    """The cells scored again at two widths: a stratified sample of ``n_wide`` of ``ids`` drawn
    with ``seed`` (a dry run: its first ``n_wide`` scored cells)."""
    if dry_run:
        return ids[np.arange(min(n_wide, len(ids)))]
    return ids[stratified_sample(np.asarray(test_acc)[ids], n_wide, seed)]


def cross_width_ledgers(
    wide_ids: np.ndarray,
    probe: Probe,
    narrow: LedgerConfig,
    wide_width: float,
    scale: str,
) -> dict[str, Ledger]:
    """The cells ``wide_ids`` scored on ``probe`` at ``wide_width`` (``"wide"``) and, for a
    like-for-like comparison, at ``narrow``'s width on the same probe (``"narrow"``), both with
    the gradient batch capped at the probe's size, each resuming its own checkpoint."""
    grad_batch = min(narrow.grad_batch, len(probe.y))
    configs = {
        "wide": LedgerConfig(
            width=wide_width,
            time_steps=narrow.time_steps,
            seed=narrow.seed,
            grad_batch=grad_batch,
            threads=narrow.threads,
        ),
        "narrow": LedgerConfig(**{**narrow.__dict__, "grad_batch": grad_batch}),
    }
    ledgers = {}
    for label, config in configs.items():
        path = checkpoints_dir() / checkpoint_name(
            f"spikenas_ledger_{label}__{scale}", ledger_identity(config, probe)
        )
        ledgers[label] = run_ledger(wide_ids, probe, config, checkpoint=path, chunk=2)
    return ledgers


def free_scores(tab: pd.DataFrame) -> pd.DataFrame:
    """The training-free rows of a ledger score table (seconds of this CPU), best first."""
    return tab[tab["machine"] == "this CPU"]


def full_width_rows(
    tab_learned: pd.DataFrame, wide: Ledger, wide_ids: np.ndarray, proxies: Sequence[str]
) -> pd.DataFrame:
    """The rows of ``proxies`` of the table over the cells that learn, with the median seconds
    the full-width ledger ``wide`` took per cell, on machine ``"this CPU, full width"``."""
    return tab_learned.loc[list(proxies)].assign(
        seconds=median_seconds(wide, wide_ids, proxies), machine="this CPU, full width"
    )


def scatter_scores(tab_learned: pd.DataFrame) -> list[str]:
    """The three scores of the scatter figure: the default RDM, the authors' scorer, and the
    best training-free score (the second best when the best is one of those two)."""
    free = free_scores(tab_learned)
    best = free.index[0]
    third = best if best not in (DEFAULT_RDM, LSP_FITNESS) else free.index[1]
    return [DEFAULT_RDM, LSP_FITNESS, third]


def width_channels(width: float) -> str:
    """The channels of the two cell positions at ``width`` (the benchmark's 128/256 at 1).

    >>> width_channels(1 / 16)
    '8/16'
    """
    return f"{max(1, round(128 * width))}/{max(1, round(256 * width))}"


def ledger_values(
    *,
    ids: np.ndarray,
    learned: np.ndarray,
    probe: Probe,
    width: float,
    wide_ids: np.ndarray,
    wide_probe: Probe,
    ledger: Ledger,
    wide: Ledger,
    tab_all: pd.DataFrame,
    tab_learned: pd.DataFrame,
    ceiling: NoiseCeiling,
    space_ceiling: NoiseCeiling,
    space_learned: np.ndarray,
    tab_space: pd.DataFrame,
    cross: pd.DataFrame,
    full_width: pd.DataFrame,
    proxies: Sequence[str],
) -> dict:
    """The numbers the chapter glues: the sample, probe and widths; the default RDM's, the
    authors' scorer's, SAHD's, the 10-epoch early stop's and the best training-free score's tau
    over the cells that learn (and over all cells); the noise ceilings; the seconds per cell at
    both widths; the taus between widths; the share of learning cells whose output is silent."""
    d_all, d_learned = tab_all.loc[DEFAULT_RDM], tab_learned.loc[DEFAULT_RDM]
    free = free_scores(tab_learned)
    best = free.index[0]
    free_all = free_scores(tab_all)
    return {
        "n_cells": len(ids),
        "n_learned": len(learned),
        "n_dead": int(len(ids) - len(learned)),
        "probe_images": len(probe.y),
        "probe_source": probe.source,
        "width_channels": width_channels(width),
        "n_wide": len(wide_ids),
        "wide_probe_images": len(wide_probe.y),
        "default_tau_all": d_all["tau"],
        "default_tau_all_lo": d_all["tau_lo"],
        "default_tau_all_hi": d_all["tau_hi"],
        "default_tau_learned": d_learned["tau"],
        "default_tau_learned_lo": d_learned["tau_lo"],
        "default_tau_learned_hi": d_learned["tau_hi"],
        "default_rho_learned": d_learned["rho"],
        "default_top5_learned": d_learned["top5"],
        "top5_chance": d_learned["top5_chance"],
        "lsp_tau_learned": tab_learned.loc[LSP_FITNESS, "tau"],
        "lsp_tau_learned_lo": tab_learned.loc[LSP_FITNESS, "tau_lo"],
        "lsp_tau_learned_hi": tab_learned.loc[LSP_FITNESS, "tau_hi"],
        "lsp_corrected_tau_learned": tab_learned.loc[f"{LSP_FITNESS}/corrected", "tau"],
        "params_tau_learned": tab_learned.loc["params", "tau"],
        "val10_tau_learned": tab_learned.loc["val_acc@10", "tau"],
        "val10_tau_learned_lo": tab_learned.loc["val_acc@10", "tau_lo"],
        "val10_tau_learned_hi": tab_learned.loc["val_acc@10", "tau_hi"],
        "val10_seconds": tab_learned.loc["val_acc@10", "seconds"],
        "ceiling_learned": ceiling.learning.tau,
        "ceiling_learned_lo": ceiling.learning.lo,
        "ceiling_learned_hi": ceiling.learning.hi,
        "best_free_share_of_ceiling": free.iloc[0]["share_of_ceiling"],
        "space_ceiling_learned": space_ceiling.learning.tau,
        "space_ceiling_learned_lo": space_ceiling.learning.lo,
        "space_ceiling_learned_hi": space_ceiling.learning.hi,
        "space_ceiling_all": space_ceiling.all_cells.tau,
        "space_n_learned": len(space_learned),
        "space_val10_tau": tab_space.loc["val_acc@10", "tau"],
        "space_val60_tau": tab_space.loc["val_acc@60", "tau"],
        "space_val1_tau": tab_space.loc["val_acc@1", "tau"],
        "sahd_tau_learned": tab_learned.loc["sahd", "tau"],
        "sahd_tau_learned_lo": tab_learned.loc["sahd", "tau_lo"],
        "sahd_tau_learned_hi": tab_learned.loc["sahd", "tau_hi"],
        "best_proxy_learned": best,
        "best_tau_learned": tab_learned.loc[best, "tau"],
        "best_tau_learned_lo": tab_learned.loc[best, "tau_lo"],
        "best_tau_learned_hi": tab_learned.loc[best, "tau_hi"],
        "best_proxy_all": free_all.index[0],
        "best_tau_all": free_all.iloc[0]["tau"],
        "default_rank_learned": int(list(free.index).index(DEFAULT_RDM) + 1),
        "n_proxies": len(proxies),
        "default_seconds": d_learned["seconds"],
        "wide_seconds": float(median_seconds(wide, wide_ids, [DEFAULT_RDM])[DEFAULT_RDM]),
        "wide_lsp_seconds": full_width.loc[LSP_FITNESS, "seconds"],
        "lsp_seconds": tab_learned.loc[LSP_FITNESS, "seconds"],
        "default_tau_widths": cross.loc[DEFAULT_RDM, "tau_widths"],
        "sahd_tau_widths": cross.loc["sahd", "tau_widths"],
        "output_silent_share": float(
            np.mean([ledger.rows[int(a)]["output_spikes"] == 0 for a in learned])
        ),
    }


def ledger_record(values: dict, **tables: pd.DataFrame) -> dict:
    """The result file's metrics: the glued ``values`` and each table of ``tables`` (keyword:
    the metric's name) as records, its index a column."""
    return {**values, **{k: t.reset_index().to_dict(orient="records") for k, t in tables.items()}}


def ledger_artifacts(ids, wide_ids, ledger: Ledger, table: BenchTable, curves, probe) -> dict:
    """The result file's artifacts: the scored cells (both sets), their ledger rows, and the
    provenance of the table, the curves and the probe."""
    return {
        "ids": np.asarray(ids).tolist(),
        "wide_ids": np.asarray(wide_ids).tolist(),
        "ledger": [ledger.rows[int(a)] for a in ids],
        "bench_table": table.provenance(),
        "bench_curves": curves.provenance(),
        "probe": probe.identity(),
    }


def plot_ledger_scatter(ledger: Ledger, ids: np.ndarray, table: BenchTable, tab_learned):
    """The scores of :func:`scatter_scores` against the table's test accuracy of ``ids``, each
    titled with its tau over the cells that learn."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
    for ax, name in zip(axes, scatter_scores(tab_learned)):
        ax.scatter(ledger.column(name, ids), table.test_acc[ids], s=6, alpha=0.6)
        ax.set_xlabel(name.removeprefix("rdm "))
        r = tab_learned.loc[name]
        ax.set_title(
            f"tau (learned) {r['tau']:.2f} [{r['tau_lo']:.2f}, {r['tau_hi']:.2f}]", fontsize=9
        )
    axes[0].set_ylabel("SpikeNAS-Bench test accuracy (%)")
    fig.tight_layout()
    return fig


def plot_ledger_taus(tab_all: pd.DataFrame, tab_learned: pd.DataFrame, ceiling: NoiseCeiling):
    """Every score's tau with its interval over all cells and over the cells that learn, in the
    order of the latter, and the noise ceiling."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 8))
    order = tab_learned.index[::-1]
    yy = np.arange(len(order))
    for off, tab, label in ((-0.18, tab_all, "all cells"), (0.18, tab_learned, "cells that learn")):
        t = tab.loc[order]
        ax.errorbar(
            t["tau"],
            yy + off,
            xerr=[t["tau"] - t["tau_lo"], t["tau_hi"] - t["tau"]],
            fmt="o",
            ms=4,
            capsize=2,
            label=label,
        )
    ax.axvline(0, color="grey", lw=0.8)
    ax.axvline(ceiling.learning.tau, color="black", ls="--", lw=1, label="noise ceiling (learn)")
    ax.set_yticks(yy, [o.removeprefix("rdm ") for o in order], fontsize=7)
    ax.set_xlabel("Kendall tau against test accuracy (95 % bootstrap interval)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_ledger_cost(tab_learned: pd.DataFrame, full_width: pd.DataFrame, ceiling: NoiseCeiling):
    """Each score's tau over the cells that learn against its seconds per cell, one marker per
    machine (:func:`~snnlib.book.figures.errorbars_by_machine`; the full-width seconds of
    ``full_width`` as a machine of their own), the Pareto front of the ledger-width and
    early-stop points, and the noise ceiling."""
    import matplotlib.pyplot as plt

    front = pareto_front(tab_learned["tau"], tab_learned["seconds"].clip(lower=1e-4))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    both = pd.concat([tab_learned, full_width])
    errorbars_by_machine(ax, both, "tau", "tau_lo", "tau_hi", markers=COST_MARKERS, floor=1e-4)
    f = tab_learned[front].sort_values("seconds")
    ax.plot(f["seconds"].clip(lower=1e-4), f["tau"], "k-", lw=0.8, label="Pareto front")
    for name, r in f.iterrows():
        ax.annotate(name.removeprefix("rdm "), (max(r["seconds"], 1e-4), r["tau"]), fontsize=7)
    ax.axhline(ceiling.learning.tau, color="black", ls="--", lw=1, label="noise ceiling")
    ax.set_xscale("log")
    ax.set_xlabel("seconds per cell (log; 1e-4 stands for ~0)")
    ax.set_ylabel("Kendall tau, cells that learn")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
