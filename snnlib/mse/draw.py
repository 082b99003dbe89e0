"""Pictures for the MSE-NAS chapter: a genome's architecture, RDMs, and search histories.

Every function draws with matplotlib onto a new figure (or a given axes) and returns the
figure, which the notebooks glue into the book.

Architecture diagram conventions: cells are boxes left to right (stem, searched cells with
the fixed reduction cells "R" between them, head); inside each box the cell's motif graph:
the two cell inputs (``in0`` previous cell, ``in1`` the mean of the other macro inputs) on the
left, nodes placed by depth; op edges red when excitatory, blue when inhibitory, thicker for
5x5 kernels; feedback edges (one step delayed) dashed; identity edges grey dotted. Above the
boxes, macro connections: grey arcs for the dense fan-in beyond the previous cell, purple
dashed arcs for long-range skips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from .decode import cell_inputs, reduction_positions
from .genome import Genome
from .motifs import Motif, get_motif

E_COLOR, I_COLOR, ID_COLOR, SKIP_COLOR, FANIN_COLOR = (
    "tab:red",
    "tab:blue",
    "0.55",
    "tab:purple",
    "0.6",
)


def _depths(m: Motif) -> list[int]:
    depth = [1] * m.n_nodes
    for _ in range(m.n_nodes):
        for e in m.edges:
            if not e.feedback and not isinstance(e.src, str):
                depth[e.dst] = max(depth[e.dst], depth[e.src] + 1)
    return depth


def _motif_positions(m: Motif, x0: float, y0: float, w: float, h: float) -> dict:
    depth = _depths(m)
    dmax = max(depth)
    pos = {"in0": (x0 + 0.18, y0 + 0.68 * h), "in1": (x0 + 0.18, y0 + 0.32 * h)}
    for d in range(1, dmax + 1):
        nodes = [i for i in range(m.n_nodes) if depth[i] == d]
        for k, i in enumerate(nodes):
            y = y0 + h * (len(nodes) - k) / (len(nodes) + 1)
            pos[i] = (x0 + 0.18 + (w - 0.36) * d / dmax, y)
    return pos


def draw_motif(
    ax,
    m: Motif,
    ops=None,
    x0: float = 0.0,
    y0: float = 0.0,
    w: float = 2.0,
    h: float = 1.4,
    node_r: float = 0.09,
) -> None:
    """Draw motif ``m`` in the box (x0, y0, w, h); ``ops`` (OpGenes) set edge signs/kernels."""
    pos = _motif_positions(m, x0, y0, w, h)
    depth = dict(enumerate(_depths(m)), in0=0, in1=0)
    for e in m.edges:
        slot = m.slot_of(e)
        (xa, ya), (xb, yb) = pos[e.src], pos[e.dst]
        if slot is None:
            color, lw, ls = ID_COLOR, 1.0, ":"
        else:
            sign = ops[slot].sign if ops is not None else e.sign
            kernel = ops[slot].kernel if ops is not None else 3
            color, lw, ls = (E_COLOR if sign > 0 else I_COLOR), (2.4 if kernel == 5 else 1.1), "-"
        if e.feedback:
            ls = "--"
        if e.feedback and e.src == e.dst:
            rad, (xb, yb) = 2.5, (xb + 0.01, yb)
        else:
            bow = (
                -0.3 if (ya + yb) / 2 >= y0 + h / 2 else 0.3
            )  # long edges bow away from the middle
            rad = 0.45 if e.feedback else (bow if depth[e.dst] - depth[e.src] > 1 else 0.0)
        ax.add_patch(
            FancyArrowPatch(
                (xa, ya),
                (xb, yb),
                connectionstyle=f"arc3,rad={rad}",
                arrowstyle="-|>",
                mutation_scale=7,
                color=color,
                lw=lw,
                linestyle=ls,
                shrinkA=node_r * 72,
                shrinkB=node_r * 72,
                zorder=2,
            )
        )
    for key, (x, y) in pos.items():
        is_input = isinstance(key, str)
        r = node_r * (1.3 if is_input else 1.0)
        ax.add_patch(
            Circle(
                (x, y),
                r,
                facecolor="white" if is_input else "0.85",
                edgecolor="0.3",
                lw=0.8,
                zorder=3,
            )
        )
        ax.text(
            x, y, key if is_input else f"n{key}", ha="center", va="center", fontsize=4.5, zorder=4
        )


def draw_genome(genome: Genome, n_reductions: int = 2, ax=None, title: str | None = None):
    """The architecture a genome encodes (see the module docstring for the conventions)."""
    n = len(genome.cells)
    red = set(reduction_positions(n, n_reductions)) if n_reductions else set()
    w, h, gap, rw = 2.0, 1.4, 0.35, 0.3
    xs, x = [], 1.0
    red_x = []
    for i in range(n):
        if i in red:
            red_x.append(x)
            x += rw + gap
        xs.append(x)
        x += w + gap
    total = x + 0.8
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(8.0, 1.25 * total), 3.6))
    else:
        fig = ax.figure
    # stem, reductions, head
    for bx, bw, label in [(0.0, 0.65, "stem"), *[(rx, rw, "R") for rx in red_x], (x, 0.65, "head")]:
        ax.add_patch(
            FancyBboxPatch((bx, 0.35), bw, h - 0.7, boxstyle="round,pad=0.02", fc="0.93", ec="0.5")
        )
        ax.text(
            bx + bw / 2,
            h / 2,
            label,
            ha="center",
            va="center",
            fontsize=7,
            rotation=90 if label == "R" else 0,
        )
    centers = {-1: 0.325, **{i: xs[i] + w / 2 for i in range(n)}}
    for i, c in enumerate(genome.cells):
        m = get_motif(c.motif)
        ax.add_patch(
            FancyBboxPatch((xs[i], 0.0), w, h, boxstyle="round,pad=0.02", fc="white", ec="0.3")
        )
        draw_motif(ax, m, c.ops, xs[i], 0.0, w, h)
        ax.text(xs[i] + w / 2, -0.12, f"{i}: {c.motif}", ha="center", va="top", fontsize=7)
        ax.text(
            xs[i] + w / 2,
            -0.36,
            f"thr {c.threshold:g}  tau {c.tau:g}  fan-in {c.fan_in}",
            ha="center",
            va="top",
            fontsize=6,
            color="0.35",
        )
        # macro arcs (in0 from the previous cell is implicit in the left-to-right order)
        _, rest = cell_inputs(i, c)
        for j in rest:
            skip = j in c.skips
            xa, xb = centers[j], centers[i]
            rad = -min(0.35, 1.6 / max(xb - xa, 1e-6))  # arcs at most ~0.8 high
            ax.add_patch(
                FancyArrowPatch(
                    (xa, h + 0.05),
                    (xb - 0.15, h + 0.05),
                    connectionstyle=f"arc3,rad={rad}",
                    arrowstyle="-|>",
                    mutation_scale=7,
                    lw=1.1 if skip else 0.8,
                    color=SKIP_COLOR if skip else FANIN_COLOR,
                    linestyle="--" if skip else "-",
                    alpha=0.9,
                )
            )
    for i in range(n - 1):
        ax.annotate(
            "",
            (xs[i + 1] - (rw + gap if i + 1 in red else 0.0), h / 2),
            (xs[i] + w, h / 2),
            arrowprops=dict(arrowstyle="-|>", color="0.3", lw=0.8),
        )
    ax.annotate(
        "",
        (xs[0], h / 2) if 0 not in red else (red_x[0], h / 2),
        (0.65, h / 2),
        arrowprops=dict(arrowstyle="-|>", color="0.3", lw=0.8),
    )
    ax.annotate(
        "", (x, h / 2), (xs[-1] + w, h / 2), arrowprops=dict(arrowstyle="-|>", color="0.3", lw=0.8)
    )
    for rx in red_x:
        ax.annotate(
            "",
            (rx, h / 2),
            (rx - gap, h / 2),
            arrowprops=dict(arrowstyle="-|>", color="0.3", lw=0.8),
        )
    legend = [
        Line2D([], [], color=E_COLOR, lw=1.2, label="excitatory op"),
        Line2D([], [], color=I_COLOR, lw=1.2, label="inhibitory op"),
        Line2D([], [], color="0.3", lw=2.4, label="5x5 kernel"),
        Line2D([], [], color="0.3", lw=1.2, ls="--", label="feedback (t-1)"),
        Line2D([], [], color=ID_COLOR, lw=1.0, ls=":", label="identity"),
        Line2D([], [], color=FANIN_COLOR, lw=0.8, label="macro fan-in"),
        Line2D([], [], color=SKIP_COLOR, lw=1.1, ls="--", label="long-range skip"),
    ]
    ax.legend(
        handles=legend,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08),
        ncol=7,
        fontsize=7,
        frameon=False,
    )
    ax.set_xlim(-0.2, total)
    ax.set_ylim(-0.55, h + 1.0)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def draw_motif_library(motifs: Mapping[str, Motif], ncols: int = 4):
    """All registered motifs with their default signs, one panel each."""
    names = list(motifs)
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.4 * ncols, 1.9 * nrows))
    for ax, name in zip(np.atleast_1d(axes).flat, names):
        draw_motif(ax, motifs[name], None, 0, 0, 2.0, 1.4)
        ax.set_xlim(-0.05, 2.05)
        ax.set_ylim(-0.05, 1.45)
        ax.set_aspect("equal")
        ax.set_title(name, fontsize=8)
    for ax in np.atleast_1d(axes).flat:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_history(history: Sequence[Mapping], title: str | None = None):
    """Best / mean fitness over generations (left) and population diversity (right)."""
    g = [h["generation"] for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    a.plot(g, [h["best"] for h in history], "o-", ms=3, label="best of generation")
    a.plot(g, [h["best_so_far"] for h in history], "-", color="k", lw=1, label="best so far")
    a.plot(g, [h["mean"] for h in history], "s-", ms=3, label="population mean")
    a.set_xlabel("generation")
    a.set_ylabel("fitness")
    a.legend(fontsize=8)
    b.plot(g, [h["diversity"] for h in history], "o-", ms=3, label="mean gene distance")
    b.plot(g, [h["unique_fraction"] for h in history], "s-", ms=3, label="unique fraction")
    b.set_xlabel("generation")
    b.set_ylabel("diversity")
    b.set_ylim(0, 1.05)
    b.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_rdms(rdms: Mapping[str, np.ndarray], labels: Sequence[int] | None = None):
    """RDM heatmaps side by side (titles are the keys); class boundaries drawn from ``labels``."""
    fig, axes = plt.subplots(1, len(rdms), figsize=(3.1 * len(rdms), 3.1))
    for ax, (name, D) in zip(np.atleast_1d(axes), rdms.items()):
        D = np.asarray(D)
        im = ax.imshow(D, cmap="viridis", interpolation="nearest")
        if labels is not None:
            lab = np.asarray(labels)
            for b in np.nonzero(np.diff(lab))[0]:
                ax.axhline(b + 0.5, color="w", lw=0.4)
                ax.axvline(b + 0.5, color="w", lw=0.4)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    fig.tight_layout()
    return fig


def strip_plot(
    groups: Mapping[str, Sequence[float]], ylabel: str = "test accuracy", ax=None, seed: int = 0
):
    """One column per group, every value a jittered dot, the median a bar."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(groups), 3.2))
    else:
        fig = ax.figure
    rng = np.random.default_rng(seed)
    for k, vals in enumerate(groups.values()):
        v = np.asarray(vals, dtype=float)
        ax.scatter(k + rng.uniform(-0.12, 0.12, len(v)), v, s=22, alpha=0.8, zorder=3)
        ax.hlines(np.median(v), k - 0.25, k + 0.25, color="k", lw=1.5, zorder=4)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(list(groups), fontsize=8)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
