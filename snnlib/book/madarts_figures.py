"""The figures of the MA-DARTS notebooks: the architecture weights over a search, the derived
cells, spikes and accuracy during the search, the retraining comparison and the attention
ablation. Each function returns a matplotlib figure (the notebook glues and closes it).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..darts import PRIMITIVES, cell_edges, plot_cell
from .figures import seed_points

CELLS = ("normal", "reduce")


def alphas_figure(history: list[dict], steps: int):
    """Top: per cell kind, the softmax weight of every operation averaged over the cell's edges,
    epoch by epoch. Bottom: the final weights edge by edge (``(i, j)``: from node ``j`` to node
    ``i``) of a cell of ``steps`` nodes."""
    epochs = np.array([h["epoch"] for h in history])
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), gridspec_kw={"height_ratios": [1, 1.6]})
    edges = cell_edges(steps)
    for col, cell in enumerate(CELLS):
        per_epoch = np.array([np.mean(h[f"alphas_{cell}"], axis=0) for h in history])
        ax = axes[0, col]
        im = ax.imshow(
            per_epoch.T,
            aspect="auto",
            cmap="viridis",
            extent=(epochs[0] - 0.5, epochs[-1] + 0.5, len(PRIMITIVES) - 0.5, -0.5),
        )
        ax.set_yticks(range(len(PRIMITIVES)))
        ax.set_yticklabels(PRIMITIVES)
        ax.set(xlabel="epoch", title=f"{cell} cell: mean softmax weight per operation")
        fig.colorbar(im, ax=ax)
        ax = axes[1, col]
        im = ax.imshow(np.array(history[-1][f"alphas_{cell}"]), aspect="auto", cmap="magma")
        ax.set_xticks(range(len(PRIMITIVES)))
        ax.set_xticklabels(PRIMITIVES, rotation=40, ha="right")
        ax.set_yticks(range(len(edges)))
        ax.set_yticklabels([f"({i}, {j})" for i, j in edges])
        ax.set(title=f"{cell} cell: final weights per edge")
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    return fig


def cell_figures(result, title: str, plain=None) -> dict:
    """The derived cells of a search result by glue key: ``fig_normal_cell`` and
    ``fig_reduce_cell`` (:func:`~snnlib.darts.plot_cell`, titled ``"<kind> cell, <title>"``)
    and, with the plain DARTS search's result ``plain``, its two cells in one figure
    (``fig_plain_cells``)."""
    figs = {}
    for cell in CELLS:
        figs[f"fig_{cell}_cell"] = plot_cell(result.genotype, cell, title=f"{cell} cell, {title}")
        figs[f"fig_{cell}_cell"].tight_layout()
    if plain is not None:
        fig, axes = plt.subplots(1, 2, figsize=(15, 3.6))
        for ax, cell in zip(axes, CELLS):
            plot_cell(plain.genotype, cell, ax=ax, title=f"{cell} cell, plain spiking DARTS (none)")
        fig.tight_layout()
        figs["fig_plain_cells"] = fig
    return figs


def _curve(history: list[dict], key: str) -> list:
    return [h[key] for h in history]


def _runs(result, attention: str, plain) -> list:
    """``(history, name, line style)`` of the search and (dashed) of the plain search."""
    runs = [(result.history, attention, "-")]
    if plain is not None:
        runs.append((plain.history, "none", "--"))
    return runs


def nos_figure(result, attention: str, plain=None):
    """NoS per image during a search (a :class:`~snnlib.darts.bilevel.BilevelResult`): per
    cell on training and on validation data, and of the whole supernet (dashed: the plain
    search's, ``plain``)."""
    history = result.history
    epochs = _curve(history, "epoch")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    for ax, tag, title in (
        (axes[0], "train", "training data"),
        (axes[1], "val", "validation data"),
    ):
        for c in history[0]["nos_per_cell_val"]:
            ax.plot(epochs, [h[f"nos_per_cell_{tag}"][c] for h in history], "o-", label=c)
        ax.set(xlabel="epoch", ylabel="spikes per image", title=f"NoS per cell, {title}")
    axes[1].legend(fontsize=7, ncol=2)
    for hist, name, style in _runs(result, attention, plain):
        axes[2].plot(epochs, _curve(hist, "nos_train"), "o" + style, label=f"{name}, train")
        axes[2].plot(epochs, _curve(hist, "nos_val"), "s" + style, label=f"{name}, val")
    axes[2].set(xlabel="epoch", ylabel="spikes per image", title="NoS, whole supernet")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return fig


def search_accuracy_figure(result, attention: str, plain=None):
    """The supernet's accuracy on the weight half and on validation data, epoch by epoch
    (dashed: the plain search's, ``plain``)."""
    epochs = _curve(result.history, "epoch")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for hist, name, style in _runs(result, attention, plain):
        ax.plot(
            epochs, _curve(hist, "train_acc"), "o" + style, label=f"{name}: weight half (train)"
        )
        ax.plot(epochs, _curve(hist, "val_acc"), "s" + style, label=f"{name}: validation")
    ax.set(
        xlabel="epoch",
        ylabel="accuracy",
        ylim=(0, 1.02),
        title="Supernet accuracy during the search",
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def retrain_figure(rows: list[dict], attention: str, title: str):
    """Left: test accuracy (mean, sd over seeds) of the random cells, their median, plain
    DARTS and MA-DARTS (``rows``: derived first, plain second, then the random cells). Right:
    accuracy against spikes per test image."""
    derived, plain, randoms = rows[0], rows[1], rows[2:]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
    accs = [100 * r["test_acc"] for r in randoms]
    a1.errorbar(
        np.linspace(-0.12, 0.12, len(randoms)),
        accs,
        yerr=[100 * r["test_acc_sd"] for r in randoms],
        fmt="o",
        color="0.55",
        label="random cells (mean, sd over seeds)",
    )
    if randoms:
        a1.hlines(np.median(accs), -0.3, 0.3, color="0.3", ls="--", label="median of random cells")
    for x, r, fmt, color, size, label in (
        (1, plain, "s", "tab:blue", None, "plain spiking DARTS"),
        (2, derived, "*", "tab:red", 14, f"MA-DARTS ({attention})"),
    ):
        a1.errorbar(
            [x],
            [100 * r["test_acc"]],
            yerr=[100 * r["test_acc_sd"]],
            fmt=fmt,
            color=color,
            markersize=size,
            label=label,
        )
    a1.set_xticks([0, 1, 2])
    a1.set_xticklabels(["random", "plain DARTS", "MA-DARTS"])
    a1.set(ylabel="test accuracy (%)", title=f"Retrained at the same budget ({title})")
    a1.legend(fontsize=7, loc="lower right")
    points = [(r, "0.55", "o", 40) for r in randoms]
    points += [(plain, "tab:blue", "s", 40), (derived, "tab:red", "*", 90)]
    for r, color, marker, size in points:
        a2.scatter(r["nos"], 100 * r["test_acc"], color=color, marker=marker, s=size)
    a2.set(
        xlabel="spikes per test image (NoS)",
        ylabel="test accuracy (%)",
        title="Accuracy against spikes",
    )
    fig.tight_layout()
    return fig


def seed_frame(rows: list[dict]) -> pd.DataFrame:
    """One row per retraining: ``group`` (``random cells`` for every random candidate, else
    the candidate's name) and its ``test accuracy`` in percent."""
    return pd.DataFrame(
        [
            {
                "group": "random cells" if r["name"].startswith("random") else r["name"],
                "test accuracy": 100 * acc,
            }
            for r in rows
            for acc in r["test_accs"]
        ]
    )


def seeds_figure(rows: list[dict], title: str):
    """Every retraining's test accuracy per group (random cells, plain DARTS, MA-DARTS), with
    mean and 95 % t interval over seeds (:func:`~snnlib.book.figures.seed_points`)."""
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    order = ["random cells", "plain DARTS", "MA-DARTS"]
    seed_points(ax, seed_frame(rows), "group", "test accuracy", order)
    ax.set(xlabel="", ylabel="test accuracy (%)", title=f"Every retraining ({title})")
    fig.tight_layout()
    return fig


ABLATION_COLORS = ("0.6", "tab:green", "tab:orange", "tab:red", "tab:purple")


def ablation_figure(rows: list[dict], title: str):
    """Test accuracy and spikes per test image of every ablation row (the first: ``none``)."""
    names = [r["name"] for r in rows]
    colors = list(ABLATION_COLORS[: len(rows)])
    accs = [100 * r["test_acc"] for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.6))
    a1.bar(range(len(rows)), accs, color=colors)
    a1.set(
        ylim=(max(0, min(accs) - 5), 100),
        ylabel="test accuracy (%)",
        title=f"Attention ablation ({title})",
    )
    a2.bar(range(len(rows)), [r["nos"] for r in rows], color=colors)
    a2.set(ylabel="spikes per test image (NoS)", title="Number of spikes")
    for ax in (a1, a2):
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(names, rotation=20, ha="right")
    fig.tight_layout()
    return fig
