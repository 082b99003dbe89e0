r"""The cell space of SpikeNAS-Bench (Sun et al., IEEE Trans. Artificial Intelligence, 2025).

A cell is a directed acyclic graph of four nodes: the cell input :math:`x_0` and

.. math::

    x_1 = o_{01}(x_0), \qquad x_2 = o_{02}(x_0) + o_{12}(x_1), \qquad
    x_3 = o_{03}(x_0) + o_{13}(x_1) + o_{23}(x_2),

with output :math:`x_3`. Each of the six edges carries one of five operations (codes as in
the benchmark's table): 0 ``zero`` (output 0), 1 ``identity``, and 2, 3, 4 a spiking
convolution LIF -> conv 3x3 -> BN whose LIF fires at threshold 0.5, 1.0, 1.5. That gives
:math:`5^6 = 15\,625` cells. The benchmark numbers a cell by its edges read as a base-5 number,
least significant digit first, in the order ``e01, e02, e03, e12, e13, e23``.

A cell whose output node cannot be reached from its input through non-zero edges passes no
signal: the benchmark's 341 such cells all score 10 % (chance).

>>> edges_of(12617)
(2, 3, 4, 0, 0, 4)
>>> arch_id_of(edges_of(12617))
12617
>>> output_reachable((0, 0, 0, 0, 0, 0)), output_reachable((1, 0, 0, 0, 1, 0))
(False, True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..validation import ConfigError

EDGES = ("e01", "e02", "e03", "e12", "e13", "e23")
"""The six edges, in the order of the base-5 digits of an architecture id."""
OPS = ("zero", "identity", "lif_conv_th0.5", "lif_conv_th1.0", "lif_conv_th1.5")
"""Operation names by code."""
CONV_THRESHOLDS = {2: 0.5, 3: 1.0, 4: 1.5}
"""LIF firing threshold of each spiking-convolution code."""
N_OPS = len(OPS)
N_ARCHS = N_OPS ** len(EDGES)


def check_arch_id(arch_id) -> int:
    """``arch_id`` as an int in ``[0, 15624]``, or a :class:`ConfigError` naming it."""
    if isinstance(arch_id, bool) or not isinstance(arch_id, (int, np.integer)):
        raise ConfigError(f"arch_id={arch_id!r} must be an integer in [0, {N_ARCHS - 1}]")
    if not 0 <= int(arch_id) < N_ARCHS:
        raise ConfigError(f"arch_id={arch_id!r} is out of range [0, {N_ARCHS - 1}]")
    return int(arch_id)


def check_edges(edges: Sequence[int]) -> tuple[int, ...]:
    """Six operation codes in ``0..4``, or a :class:`ConfigError` naming the edge."""
    if isinstance(edges, (str, bytes)) or len(edges) != len(EDGES):
        raise ConfigError(
            f"edges={edges!r} must be {len(EDGES)} operation codes ({', '.join(EDGES)})"
        )
    out = []
    for name, op in zip(EDGES, edges):
        if isinstance(op, bool) or not isinstance(op, (int, np.integer)) or not 0 <= op < N_OPS:
            raise ConfigError(
                f"edge {name}={op!r} is not an operation code; choose one of 0..4 {OPS}"
            )
        out.append(int(op))
    return tuple(out)


def edges_of(arch_id: int) -> tuple[int, ...]:
    """The six operation codes of an architecture id (base 5, least significant digit first)."""
    a = check_arch_id(arch_id)
    return tuple((a // N_OPS**i) % N_OPS for i in range(len(EDGES)))


def arch_id_of(edges: Sequence[int]) -> int:
    """The architecture id of six operation codes (inverse of :func:`edges_of`)."""
    return sum(op * N_OPS**i for i, op in enumerate(check_edges(edges)))


def all_edges() -> np.ndarray:
    """``[15625, 6]`` operation codes of every architecture; row ``i`` is ``edges_of(i)``."""
    ids = np.arange(N_ARCHS)
    return np.stack([(ids // N_OPS**i) % N_OPS for i in range(len(EDGES))], axis=1)


def output_reachable(edges: Sequence[int]) -> bool:
    """Does any path of non-zero edges lead from the cell input to its output node?"""
    e01, e02, e03, e12, e13, e23 = check_edges(edges)
    x1 = e01 != 0
    x2 = e02 != 0 or (x1 and e12 != 0)
    return e03 != 0 or (x1 and e13 != 0) or (x2 and e23 != 0)


def n_convs(edges: Sequence[int]) -> int:
    """How many edges carry a spiking convolution (codes 2, 3, 4)."""
    return sum(op in CONV_THRESHOLDS for op in check_edges(edges))


def describe(edges: Sequence[int]) -> str:
    """``e01=lif_conv_th0.5 e02=zero ...``: a cell as one readable line."""
    return " ".join(f"{n}={OPS[o]}" for n, o in zip(EDGES, check_edges(edges)))


class CellSpace:
    """The SpikeNAS-Bench cell space as a :class:`snnlib.nas.spaces.SearchSpace`: an
    architecture is its id (an int), a move changes edge operations, a child takes each edge
    from either parent.

    >>> space = CellSpace()
    >>> rng = np.random.default_rng(0)
    >>> a = space.sample_distinct(rng, 1)[0]
    >>> sum(x != y for x, y in zip(edges_of(a), edges_of(space.mutate(a, rng))))
    1
    >>> space.from_dict(space.to_dict(12617)) == 12617
    True
    """

    size = N_ARCHS

    def sample_distinct(self, rng: np.random.Generator, n: int) -> list[int]:
        return [int(a) for a in rng.choice(N_ARCHS, n, replace=False)]

    def mutate(self, arch: int, rng: np.random.Generator, rate: float | None = None) -> int:
        """With ``rate=None`` one random edge changes to another operation; otherwise each
        edge changes with probability ``rate`` (at least one does)."""
        child = np.array(edges_of(arch))
        if rate is None:
            flips = [int(rng.integers(len(EDGES)))]
        else:
            mask = rng.random(len(EDGES)) < rate
            if not mask.any():
                mask[rng.integers(len(EDGES))] = True
            flips = np.flatnonzero(mask)
        for i in flips:
            child[i] = (child[i] + rng.integers(1, N_OPS)) % N_OPS
        return arch_id_of(child.tolist())

    def crossover(self, a: int, b: int, rng: np.random.Generator) -> int:
        """Each edge from ``a`` or ``b`` with probability 1/2 (uniform crossover)."""
        child = np.where(rng.random(len(EDGES)) < 0.5, edges_of(a), edges_of(b))
        return arch_id_of(child.tolist())

    def key(self, arch: int) -> str:
        return str(check_arch_id(arch))

    def to_dict(self, arch: int) -> dict:
        a = check_arch_id(arch)
        return {"arch_id": a, "edges": list(edges_of(a))}

    def from_dict(self, data: dict) -> int:
        if not isinstance(data, dict) or "arch_id" not in data:
            raise ConfigError(f"a SpikeNAS-Bench cell is {{'arch_id': int, ...}}, got {data!r}")
        a = check_arch_id(data["arch_id"])
        if "edges" in data and tuple(data["edges"]) != edges_of(a):
            raise ConfigError(f"cell {a}: edges {data['edges']} are not those of its id")
        return a
