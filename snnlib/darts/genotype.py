r"""Genotypes: a found cell as small immutable data, derived from architecture weights.

A cell has two input nodes (index 0: the output of the cell two back, :math:`c_{k-2}`;
index 1: the previous cell, :math:`c_{k-1}`) and ``steps`` intermediate nodes (indices
2, 3, ...). Intermediate node ``i`` reads every earlier node ``j < i`` through a mixed
operation on edge ``(i, j)`` during the search; a discrete cell keeps two edges per node.

A :data:`Genotype` is DARTS' named tuple: ``normal`` is a tuple of ``(op, input_index)``
pairs, two per intermediate node in node order, ``normal_concat`` the node indices whose
outputs are concatenated into the cell output; the same for the reduction cell.

Derivation (DARTS): with :math:`p^{(i,j)} = \mathrm{softmax}(\alpha^{(i,j)})` on every edge,
node ``i`` keeps the two inputs ``j`` with the largest :math:`\max_{o \ne \text{none}} p^{(i,j)}_o`
and, on each, the operation :math:`\arg\max_{o \ne \text{none}} p^{(i,j)}_o`. Ties go to
the lower index (input or operation), so derivation is a pure function of the weights.

Example:
    >>> g = random_genotype(0)
    >>> genotype_from_json(genotype_to_json(g)) == g
    True
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from typing import NamedTuple

import torch

from ..validation import ConfigError
from .operations import OPS, PRIMITIVES, check_primitives


class Genotype(NamedTuple):
    """A discrete normal and reduction cell (DARTS' format, with tuples: immutable, hashable)."""

    normal: tuple[tuple[str, int], ...]
    normal_concat: tuple[int, ...]
    reduce: tuple[tuple[str, int], ...]
    reduce_concat: tuple[int, ...]


def cell_edges(steps: int) -> list[tuple[int, int]]:
    """The edges ``(node, input)`` of a search cell in their canonical order.

    Row ``k`` of an architecture-weight matrix belongs to ``cell_edges(steps)[k]``; there are
    ``steps * (steps + 3) / 2`` edges (14 for 4 steps).
    """
    return [(node, j) for node in range(2, steps + 2) for j in range(node)]


def _derive_cell(
    weights: torch.Tensor, steps: int, primitives: Sequence[str]
) -> tuple[tuple[str, int], ...]:
    edges = cell_edges(steps)
    if tuple(weights.shape) != (len(edges), len(primitives)):
        raise ConfigError(
            f"architecture weights of shape {tuple(weights.shape)} do not fit {steps} steps "
            f"x {len(primitives)} primitives; expected {(len(edges), len(primitives))}"
        )
    usable = [k for k, name in enumerate(primitives) if name != "none"]
    w = weights.detach().double().cpu()
    rows = {e: k for k, e in enumerate(edges)}
    chosen: list[tuple[str, int]] = []
    for node in range(2, steps + 2):
        strength = {j: float(w[rows[(node, j)], usable].max()) for j in range(node)}
        inputs = sorted(range(node), key=lambda j: -strength[j])[:2]  # stable: ties -> lower j
        for j in inputs:
            row = w[rows[(node, j)], usable]
            best = usable[int(torch.argmax(row))]  # argmax returns the first maximum
            chosen.append((primitives[best], j))
    return tuple(chosen)


def derive_genotype(
    alphas_normal: torch.Tensor,
    alphas_reduce: torch.Tensor,
    steps: int = 4,
    multiplier: int = 4,
    primitives: Sequence[str] = PRIMITIVES,
) -> Genotype:
    """Discretise architecture parameters (raw ``alpha``; softmax is taken per edge)."""
    primitives = check_primitives(primitives)
    concat = tuple(range(2 + steps - multiplier, steps + 2))
    return Genotype(
        normal=_derive_cell(torch.softmax(alphas_normal.detach(), dim=-1), steps, primitives),
        normal_concat=concat,
        reduce=_derive_cell(torch.softmax(alphas_reduce.detach(), dim=-1), steps, primitives),
        reduce_concat=concat,
    )


def alpha_sharpness(weights) -> dict:
    r"""How decided the architecture weights are: for softmax weights ``[edges, ops]`` (rows sum
    to 1), the largest weight per edge and the normalised entropy
    :math:`-\sum_o w_o \log w_o / \log |O|`, both averaged over edges.

    Uniform weights give ``max_weight = 1/|O|`` and ``entropy = 1``: the derived cell is then
    decided by noise-sized differences, whatever the search has seen. One-hot weights give 1
    and 0. Also returns ``uniform = 1/|O|`` for reference.
    """
    w = torch.as_tensor(weights, dtype=torch.float64)
    if w.dim() != 2 or w.shape[1] < 2:
        raise ConfigError(
            f"architecture weights must be [edges, ops] with >= 2 ops, got {tuple(w.shape)}"
        )
    ent = -(w * torch.log(w.clamp_min(1e-300))).sum(1) / math.log(w.shape[1])
    return {
        "max_weight": float(w.max(1).values.mean()),
        "entropy": float(ent.mean()),
        "uniform": 1.0 / w.shape[1],
    }


def random_genotype(
    rng: random.Random | int,
    steps: int = 4,
    multiplier: int = 4,
    primitives: Sequence[str] = PRIMITIVES,
) -> Genotype:
    """A cell drawn uniformly from the discrete space: per node two distinct inputs and, on
    each, an operation other than ``none`` (the random-cells baseline)."""
    rng = random.Random(rng) if isinstance(rng, int) else rng
    ops = [p for p in check_primitives(primitives) if p != "none"]

    def cell() -> tuple[tuple[str, int], ...]:
        out = []
        for node in range(2, steps + 2):
            for j in sorted(rng.sample(range(node), 2)):
                out.append((rng.choice(ops), j))
        return tuple(out)

    concat = tuple(range(2 + steps - multiplier, steps + 2))
    return Genotype(normal=cell(), normal_concat=concat, reduce=cell(), reduce_concat=concat)


# -- validation and serialisation -------------------------------------------------------------


def _check_cell(field: str, edges, concat) -> tuple[tuple[tuple[str, int], ...], tuple[int, ...]]:
    if not isinstance(edges, (list, tuple)) or not edges or len(edges) % 2:
        raise ConfigError(
            f"genotype.{field} must be a non-empty list of [op, input] pairs, two per node; "
            f"got {edges!r}"
        )
    pairs = []
    for k, item in enumerate(edges):
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ConfigError(f"genotype.{field}[{k}] must be an [op, input] pair, got {item!r}")
        op, j = item
        if not isinstance(op, str) or op not in OPS or op == "none":
            raise ConfigError(
                f"genotype.{field}[{k}]: operation {op!r} is not allowed; "
                f"choose one of {[o for o in OPS if o != 'none']}"
            )
        node = 2 + k // 2
        if isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < node:
            raise ConfigError(
                f"genotype.{field}[{k}]: input {j!r} of node {node} must be an integer in "
                f"[0, {node - 1}]"
            )
        pairs.append((str(op), int(j)))
    n_nodes = len(pairs) // 2
    if not isinstance(concat, (list, tuple)) or not concat:
        raise ConfigError(
            f"genotype.{field}_concat must be a non-empty list of node indices, got {concat!r}"
        )
    for c in concat:
        if isinstance(c, bool) or not isinstance(c, int) or not 2 <= c < 2 + n_nodes:
            raise ConfigError(
                f"genotype.{field}_concat: {c!r} is not an intermediate node (2..{1 + n_nodes})"
            )
    return tuple(pairs), tuple(int(c) for c in concat)


def validate_genotype(g) -> Genotype:
    """Return ``g`` as a :class:`Genotype` of tuples, or raise :class:`ConfigError`."""
    if not isinstance(g, (list, tuple)) or len(g) != len(Genotype._fields):
        raise ConfigError(
            f"a genotype must have the {len(Genotype._fields)} parts {list(Genotype._fields)}, "
            f"got {g!r}"
        )
    normal, normal_concat = _check_cell("normal", g[0], g[1])
    reduce, reduce_concat = _check_cell("reduce", g[2], g[3])
    if len(normal) != len(reduce):
        raise ConfigError(
            f"normal and reduction cells must have the same number of nodes "
            f"({len(normal) // 2} vs {len(reduce) // 2})"
        )
    return Genotype(normal, normal_concat, reduce, reduce_concat)


def genotype_to_dict(g: Genotype) -> dict:
    """Plain JSON-ready dict (lists)."""
    return {
        "normal": [list(e) for e in g.normal],
        "normal_concat": list(g.normal_concat),
        "reduce": [list(e) for e in g.reduce],
        "reduce_concat": list(g.reduce_concat),
    }


def genotype_from_dict(d: dict) -> Genotype:
    """Inverse of :func:`genotype_to_dict`, validated."""
    if not isinstance(d, dict):
        raise ConfigError(f"a genotype must be a JSON object, got {type(d).__name__}")
    missing = [k for k in Genotype._fields if k not in d]
    extra = [k for k in d if k not in Genotype._fields]
    if missing or extra:
        raise ConfigError(
            f"genotype keys must be {list(Genotype._fields)}; missing {missing}, unexpected {extra}"
        )
    return validate_genotype(tuple(d[k] for k in Genotype._fields))


def genotype_to_json(g: Genotype) -> str:
    return json.dumps(genotype_to_dict(g))


def genotype_from_json(text: str) -> Genotype:
    """Parse a genotype; malformed text or content raises :class:`ConfigError`."""
    try:
        data = json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"genotype is not valid JSON: {exc}") from exc
    return genotype_from_dict(data)


def format_genotype(g: Genotype) -> str:
    """One line per cell, node by node: ``n2 <- op(0) + op(1)``."""
    lines = []
    for name, edges, concat in (
        ("normal", g.normal, g.normal_concat),
        ("reduce", g.reduce, g.reduce_concat),
    ):
        nodes = [
            f"n{2 + k // 2}<-{edges[k][0]}({edges[k][1]})+{edges[k + 1][0]}({edges[k + 1][1]})"
            for k in range(0, len(edges), 2)
        ]
        lines.append(f"{name}: " + "; ".join(nodes) + f"; out=concat{list(concat)}")
    return "\n".join(lines)


# -- drawing ---------------------------------------------------------------------------------


def plot_cell(g: Genotype, cell: str = "normal", ax=None, title: str | None = None):
    """Draw one cell of a genotype with matplotlib: input nodes ``c_{k-2}, c_{k-1}`` on the
    left, intermediate nodes in the middle (zig-zag, so that no edge runs through a node),
    the concatenated output on the right; every edge is an arrow labelled with its operation
    along the arrow, concatenation edges are dashed. Returns the figure."""
    import math

    import matplotlib.pyplot as plt

    if cell not in ("normal", "reduce"):
        raise ConfigError(f"cell={cell!r} is not allowed; choose 'normal' or 'reduce'")
    edges = g.normal if cell == "normal" else g.reduce
    concat = g.normal_concat if cell == "normal" else g.reduce_concat
    steps = len(edges) // 2
    if ax is None:
        fig, ax = plt.subplots(figsize=(2.4 * (steps + 2), 4.2))
    else:
        fig = ax.figure
    out = steps + 2
    pos = {0: (0.0, 1.6), 1: (0.0, -1.6), out: (steps + 1.0, 0.0)}
    for i in range(steps):
        pos[2 + i] = (1.0 + i, 0.8 if i % 2 == 0 else -0.8)
    ax.set_xlim(-0.5, steps + 1.5)
    ax.set_ylim(-2.2, 2.2)
    ax.set_axis_off()
    names = {0: "c$_{k-2}$", 1: "c$_{k-1}$", out: "c$_{k}$"}
    colors = {0: "#cde3f7", 1: "#cde3f7", out: "#f7e3cd"}

    def angle(p0, p1) -> float:
        (u0, v0), (u1, v1) = ax.transData.transform(p0), ax.transData.transform(p1)
        a = math.degrees(math.atan2(v1 - v0, u1 - u0))
        return a - 180 if a > 90 else a + 180 if a < -90 else a

    for c in concat:
        ax.annotate(
            "",
            xy=pos[out],
            xytext=pos[c],
            arrowprops=dict(arrowstyle="-|>", color="0.65", ls="--", shrinkA=13, shrinkB=13),
        )
    for k, (op, j) in enumerate(edges):
        node = 2 + k // 2
        p0, p1 = pos[j], pos[node]
        ax.annotate(
            "",
            xy=p1,
            xytext=p0,
            arrowprops=dict(arrowstyle="-|>", color="0.25", shrinkA=13, shrinkB=13),
        )
        t = 0.5 if node - j > 1 else 0.45
        ax.text(
            p0[0] + t * (p1[0] - p0[0]),
            p0[1] + t * (p1[1] - p0[1]),
            op,
            fontsize=7,
            ha="center",
            va="center",
            rotation=angle(p0, p1),
            rotation_mode="anchor",
            bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.9),
        )
    for n, (x, y) in pos.items():
        ax.text(
            x,
            y,
            names.get(n, str(n - 2)),
            ha="center",
            va="center",
            fontsize=10,
            bbox=dict(boxstyle="circle,pad=0.35", fc=colors.get(n, "#e3f7cd"), ec="0.3"),
        )
    ax.set_title(title or f"{cell} cell")
    return fig
