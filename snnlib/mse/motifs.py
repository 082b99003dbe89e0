r"""Circuit motifs: the meso scale of MSE-NAS's search space.

A motif is a small, hand-designed circuit of 1-5 *nodes* wired to the two *cell inputs*
(``in0`` = the previous cell's output, ``in1`` = the mean of the cell's other macro inputs,
see :mod:`snnlib.mse.decode`). Every node sums the currents that reach it:

.. math::

    n_i[t] = \sum_{(s \to i) \in E_\mathrm{ff}} o_{s,i}\big(x_s[t]\big)
           + \sum_{(j \to i) \in E_\mathrm{fb}} o_{j,i}\big(n_j[t-1]\big),
    \qquad o(x) = \sigma_{\pm}\big(\mathrm{BN}(\mathrm{Conv}_{k}(\mathrm{LIF}(x)))\big)

where :math:`x_s` is a cell input or an earlier node, :math:`\sigma_{+}` keeps the
positive part of the current (excitatory op), :math:`\sigma_{-}` the negative part
(inhibitory op), and an *identity* edge adds :math:`x_s[t]` unchanged. Feed-forward edges
go from a cell input or an earlier node to a later node; *feedback* edges go from a node to
itself or an earlier one and are delayed by one time step, so a motif with feedback is a
recurrent loop across time (its source is at rest, :math:`n_j[-1] = 0`, before the first step).

Every op edge owns one *op slot*, numbered in the order the edges are listed; the micro
genes of a cell (kernel size, E/I sign) are indexed by these slots. A motif also fixes a
default sign per slot, used when the micro scale is not searched (e.g. the lateral edges of
the lateral-inhibition motif are inhibitory by default).

Adding a motif is one entry in :data:`MOTIFS`; :func:`motif` validates it on registration.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..validation import ConfigError

INPUTS = ("in0", "in1")


@dataclass(frozen=True)
class Edge:
    """One connection ``src -> dst``; ``src`` is ``"in0"``, ``"in1"`` or a node index.

    ``op`` is ``"op"`` (a searched spiking conv, owns an op slot) or ``"identity"``.
    ``feedback=True`` delays the edge by one time step (src's output at t-1 reaches dst at t).
    ``sign`` is the default E/I sign of an op edge (+1 excitatory, -1 inhibitory).
    """

    src: str | int
    dst: int
    op: str = "op"
    feedback: bool = False
    sign: int = 1


@dataclass(frozen=True)
class Motif:
    """A circuit of ``n_nodes`` nodes; the cell output concatenates all nodes' outputs."""

    name: str
    n_nodes: int
    edges: tuple[Edge, ...]
    description: str = ""

    @property
    def op_edges(self) -> tuple[Edge, ...]:
        """The edges that carry a searched op, in slot order."""
        return tuple(e for e in self.edges if e.op == "op")

    @property
    def n_ops(self) -> int:
        return len(self.op_edges)

    @property
    def default_signs(self) -> tuple[int, ...]:
        return tuple(e.sign for e in self.op_edges)

    @property
    def has_feedback(self) -> bool:
        return any(e.feedback for e in self.edges)

    def slot_of(self, edge: Edge) -> int | None:
        """The op slot of an edge (``None`` for identity edges)."""
        if edge.op != "op":
            return None
        return self.op_edges.index(edge)

    def validate(self) -> Motif:
        where = f"motif {self.name!r}"
        if not 1 <= self.n_nodes <= 5:
            raise ConfigError(f"{where}: n_nodes={self.n_nodes} not in 1..5")
        if len(set(self.edges)) != len(self.edges):
            raise ConfigError(f"{where}: duplicate edges")
        reached = set()
        for k, e in enumerate(self.edges):
            ewhere = f"{where}.edges[{k}]"
            if e.op not in ("op", "identity"):
                raise ConfigError(f"{ewhere}.op={e.op!r} not in ('op', 'identity')")
            if e.sign not in (1, -1):
                raise ConfigError(f"{ewhere}.sign={e.sign!r} not in (1, -1)")
            if not (isinstance(e.dst, int) and 0 <= e.dst < self.n_nodes):
                raise ConfigError(
                    f"{ewhere}.dst={e.dst!r} is not a node index 0..{self.n_nodes - 1}"
                )
            if isinstance(e.src, str):
                if e.src not in INPUTS:
                    raise ConfigError(f"{ewhere}.src={e.src!r} not in {INPUTS} or a node index")
                if e.feedback:
                    raise ConfigError(
                        f"{ewhere}: a feedback edge must start at a node, not {e.src!r}"
                    )
            elif not (isinstance(e.src, int) and 0 <= e.src < self.n_nodes):
                raise ConfigError(
                    f"{ewhere}.src={e.src!r} is not a node index 0..{self.n_nodes - 1}"
                )
            elif e.feedback and e.src < e.dst:
                raise ConfigError(
                    f"{ewhere}: feedback edge {e.src}->{e.dst} "
                    "must go to the same or an earlier node"
                )
            elif not e.feedback and e.src >= e.dst:
                raise ConfigError(
                    f"{ewhere}: feed-forward edge {e.src}->{e.dst} must go to a later node "
                    "(mark it feedback=True for a loop across time)"
                )
            if e.feedback and e.op != "op":
                raise ConfigError(f"{ewhere}: feedback edges must carry an op")
            if not e.feedback:
                reached.add(e.dst)
        missing = [i for i in range(self.n_nodes) if i not in reached]
        if missing:
            raise ConfigError(f"{where}: nodes {missing} have no feed-forward input")
        if self.n_ops == 0:
            raise ConfigError(f"{where}: a motif needs at least one op edge")
        return self


def motif(name: str, n_nodes: int, edges, description: str = "") -> Motif:
    """Build and validate a motif from ``(src, dst)`` pairs or :class:`Edge` objects."""
    es = tuple(e if isinstance(e, Edge) else Edge(*e) for e in edges)
    return Motif(name, n_nodes, es, description).validate()


_E, _I = 1, -1

#: The motif library. Node indices are 0-based; ``in0``/``in1`` are the cell inputs.
MOTIFS: dict[str, Motif] = {
    m.name: m
    for m in (
        motif(
            "chain",
            3,
            [
                Edge("in0", 0),
                Edge("in1", 0),
                Edge(0, 1),
                Edge(1, 2),
            ],
            "feed-forward chain: both inputs converge on n0, then n0 -> n1 -> n2",
        ),
        motif(
            "convergent",
            3,
            [
                Edge("in0", 0),
                Edge("in1", 1),
                Edge(0, 2),
                Edge(1, 2),
            ],
            "two parallel pathways (one per input) converge on n2",
        ),
        motif(
            "divergent",
            3,
            [
                Edge("in0", 0),
                Edge("in1", 0),
                Edge(0, 1),
                Edge(0, 2),
            ],
            "one hub n0 fans out to two parallel targets n1 and n2",
        ),
        motif(
            "lateral_inhibition",
            3,
            [
                Edge("in0", 0),
                Edge("in1", 0),
                Edge("in0", 1),
                Edge(0, 1, sign=_I),
                Edge("in1", 2),
                Edge(0, 2, sign=_I),
            ],
            "n0 is driven by both inputs and inhibits its neighbours n1 and n2 (winner-take-more)",
        ),
        motif(
            "residual",
            2,
            [
                Edge("in0", 0),
                Edge("in1", 0),
                Edge(0, 1),
                Edge("in0", 1, op="identity"),
            ],
            "a two-op pathway with an identity shortcut from in0 to n1",
        ),
        motif(
            "recurrent_loop",
            2,
            [
                Edge("in0", 0),
                Edge("in1", 0),
                Edge(0, 1),
                Edge(1, 0, feedback=True),
            ],
            "excitatory loop: n1's output at t-1 re-enters n0 at t (reverberation)",
        ),
        motif(
            "feedback_inhibition",
            3,
            [
                Edge("in0", 0),
                Edge("in1", 0),
                Edge(0, 1),
                Edge(1, 2),
                Edge(2, 0, feedback=True, sign=_I),
            ],
            "a chain whose last node inhibits its first at the next step (gain control)",
        ),
        motif(
            "mutual_inhibition",
            2,
            [
                Edge("in0", 0),
                Edge("in1", 1),
                Edge(0, 1, sign=_I),
                Edge(1, 0, feedback=True, sign=_I),
            ],
            "two competing nodes: n0 inhibits n1 at once, n1 inhibits n0 at the next step",
        ),
    )
}


def get_motif(name: str) -> Motif:
    """The registered motif ``name``, with a clear error for an unknown name."""
    try:
        return MOTIFS[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"motif {name!r} is not registered; choose one of {sorted(MOTIFS)}"
        ) from None
