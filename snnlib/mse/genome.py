r"""The multi-scale genome: readable, typed, immutable.

A genome lists one :class:`CellGene` per searched cell. Each cell carries genes of the
three scales of MSE-NAS:

- **micro** (neurons and their operations): per op slot of the cell's motif a kernel size
  :math:`k \in \{3, 5\}` and an E/I sign :math:`s \in \{+1, -1\}` (excitatory ops keep the
  positive part of their current, inhibitory ops the negative part); per cell the LIF
  threshold :math:`\vartheta` and time constant :math:`\tau` of all its neurons;
- **meso** (circuits): the cell's motif, a name from :data:`snnlib.mse.motifs.MOTIFS`;
- **macro** (global wiring): the cell's *fan-in* :math:`f \in \{2, 3, 4\}` (it reads the
  outputs of the previous :math:`f` cells, the stem standing in for cells before the first)
  and a set of long-range *skips*: indices :math:`j < i - f` of earlier cells whose outputs
  are added as well.

The authors' code encodes the same information as a flat integer vector; a structured genome
prints, diffs and serialises, and :meth:`Genome.validate` can name the gene that is wrong.
A :class:`SearchSpace` says which scales are searched; unsearched genes are held at fixed
defaults (kernel 3, the motif's default signs, :math:`\vartheta = 0.5`, :math:`\tau = 2`,
the default motif, fan-in 2, no skips), which is how the "micro only / micro + meso / all
three" ablation is run.

Variation operators (:func:`mutate`, :func:`crossover`) take a ``numpy.random.Generator``
and always return valid genomes; :meth:`Genome.hash` (sha1 of canonical JSON) identifies
equal genomes for de-duplication and fitness caching.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..validation import ConfigError
from .motifs import MOTIFS, get_motif

KERNELS = (3, 5)
SIGNS = (1, -1)
THRESHOLDS = (0.25, 0.5, 1.0)
TAUS = (1.5, 2.0, 4.0)
FAN_INS = (2, 3, 4)

DEFAULT_KERNEL = 3
DEFAULT_THRESHOLD = 0.5
DEFAULT_TAU = 2.0
DEFAULT_FAN_IN = 2
DEFAULT_MOTIF = "chain"

FORMAT = "mse-genome/1"


@dataclass(frozen=True)
class OpGene:
    """Micro genes of one op slot: kernel size and E/I sign."""

    kernel: int = DEFAULT_KERNEL
    sign: int = 1


@dataclass(frozen=True)
class CellGene:
    """All genes of one searched cell (micro neuron genes, meso motif, macro wiring)."""

    motif: str
    ops: tuple[OpGene, ...]
    threshold: float = DEFAULT_THRESHOLD
    tau: float = DEFAULT_TAU
    fan_in: int = DEFAULT_FAN_IN
    skips: tuple[int, ...] = ()


@dataclass(frozen=True)
class SearchSpace:
    """Which scales are searched, over how many cells, with which choices.

    ``motifs`` restricts the meso choices; ``max_skips`` caps long-range skips per cell and
    ``skip_prob`` is the chance of each eligible skip in a random genome.
    """

    n_cells: int = 6
    micro: bool = True
    meso: bool = True
    macro: bool = True
    motifs: tuple[str, ...] = tuple(MOTIFS)
    default_motif: str = DEFAULT_MOTIF
    max_skips: int = 2
    skip_prob: float = 0.15

    def __post_init__(self):
        if not isinstance(self.n_cells, int) or not 1 <= self.n_cells <= 32:
            raise ConfigError(f"space.n_cells={self.n_cells!r} must be an integer in 1..32")
        object.__setattr__(self, "motifs", tuple(self.motifs))
        if not self.motifs:
            raise ConfigError("space.motifs must name at least one motif")
        for m in (*self.motifs, self.default_motif):
            get_motif(m)
        if not isinstance(self.max_skips, int) or self.max_skips < 0:
            raise ConfigError(f"space.max_skips={self.max_skips!r} must be a non-negative integer")
        if not 0.0 <= self.skip_prob <= 1.0:
            raise ConfigError(f"space.skip_prob={self.skip_prob!r} must be in [0, 1]")

    @property
    def scales(self) -> str:
        """A short label: e.g. ``"micro+meso"``."""
        names = [
            n for n, on in (("micro", self.micro), ("meso", self.meso), ("macro", self.macro)) if on
        ]
        return "+".join(names) or "none"


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Genome:
    """An architecture: one :class:`CellGene` per searched cell (immutable, hashable)."""

    cells: tuple[CellGene, ...]
    _hash: str = field(default="", init=False, repr=False, compare=False)

    # -- checks --------------------------------------------------------------------------
    def validate(self, space: SearchSpace | None = None) -> Genome:
        """Raise :class:`ConfigError` naming the first bad gene; return ``self`` if valid.

        With ``space`` also check the number of cells, the allowed motifs and that the
        scales the space does not search hold their defaults.
        """
        if not isinstance(self.cells, tuple) or not self.cells:
            raise ConfigError("cells must be a non-empty tuple of CellGene")
        if space is not None and len(self.cells) != space.n_cells:
            raise ConfigError(
                f"cells has {len(self.cells)} cells; the search space has n_cells={space.n_cells}"
            )
        for i, c in enumerate(self.cells):
            w = f"cells[{i}]"
            if not isinstance(c, CellGene):
                raise ConfigError(f"{w} is not a CellGene")
            if c.motif not in MOTIFS:
                raise ConfigError(
                    f"{w}.motif={c.motif!r} is not registered; choose one of {sorted(MOTIFS)}"
                )
            m = MOTIFS[c.motif]
            if not isinstance(c.ops, tuple) or len(c.ops) != m.n_ops:
                n = len(c.ops) if isinstance(c.ops, (tuple, list)) else c.ops
                raise ConfigError(
                    f"{w}.ops has {n} entries; motif {c.motif!r} has {m.n_ops} op slots"
                )
            for k, op in enumerate(c.ops):
                if not isinstance(op, OpGene):
                    raise ConfigError(f"{w}.ops[{k}] is not an OpGene")
                if op.kernel not in KERNELS or isinstance(op.kernel, bool):
                    raise ConfigError(f"{w}.ops[{k}].kernel={op.kernel!r} not in {KERNELS}")
                if op.sign not in SIGNS or isinstance(op.sign, bool):
                    raise ConfigError(f"{w}.ops[{k}].sign={op.sign!r} not in {SIGNS}")
            if c.threshold not in THRESHOLDS or isinstance(c.threshold, bool):
                raise ConfigError(f"{w}.threshold={c.threshold!r} not in {THRESHOLDS}")
            if c.tau not in TAUS or isinstance(c.tau, bool):
                raise ConfigError(f"{w}.tau={c.tau!r} not in {TAUS}")
            if c.fan_in not in FAN_INS or isinstance(c.fan_in, bool):
                raise ConfigError(f"{w}.fan_in={c.fan_in!r} not in {FAN_INS}")
            if not isinstance(c.skips, tuple):
                raise ConfigError(f"{w}.skips must be a tuple of earlier cell indices")
            for j in c.skips:
                if not isinstance(j, int) or isinstance(j, bool) or not 0 <= j < i - c.fan_in:
                    raise ConfigError(
                        f"{w}.skips contains {j!r}: a skip must be an earlier cell index j with "
                        f"0 <= j < {i} - fan_in={c.fan_in} "
                        "(cells inside the fan-in are already inputs)"
                    )
            if list(c.skips) != sorted(set(c.skips)):
                raise ConfigError(f"{w}.skips={c.skips!r} must be sorted and without repeats")
            if space is not None:
                self._check_space(i, c, m, space)
        return self

    @staticmethod
    def _check_space(i: int, c: CellGene, m, space: SearchSpace) -> None:
        w = f"cells[{i}]"
        if c.motif not in space.motifs:
            raise ConfigError(
                f"{w}.motif={c.motif!r} is not in the search space's motifs {list(space.motifs)}"
            )
        if space.max_skips is not None and len(c.skips) > space.max_skips:
            raise ConfigError(
                f"{w}.skips has {len(c.skips)} entries; space.max_skips={space.max_skips}"
            )
        if not space.meso and c.motif != space.default_motif:
            raise ConfigError(
                f"{w}.motif={c.motif!r}: meso is not searched, "
                f"so it must be {space.default_motif!r}"
            )
        if not space.micro:
            if c.ops != default_ops(m):
                raise ConfigError(
                    f"{w}.ops: micro is not searched, so ops must be the motif's defaults"
                )
            if (c.threshold, c.tau) != (DEFAULT_THRESHOLD, DEFAULT_TAU):
                raise ConfigError(
                    f"{w}.threshold/tau: micro is not searched, so they must be "
                    f"{DEFAULT_THRESHOLD}/{DEFAULT_TAU}"
                )
        if not space.macro and (c.fan_in != DEFAULT_FAN_IN or c.skips):
            raise ConfigError(
                f"{w}.fan_in/skips: macro is not searched, so fan_in={DEFAULT_FAN_IN} and no skips"
            )

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain JSON-able dict (the ``architecture`` of a result file)."""
        return {
            "format": FORMAT,
            "cells": [
                {
                    "motif": c.motif,
                    "ops": [{"kernel": o.kernel, "sign": o.sign} for o in c.ops],
                    "threshold": float(c.threshold),
                    "tau": float(c.tau),
                    "fan_in": c.fan_in,
                    "skips": list(c.skips),
                }
                for c in self.cells
            ],
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def hash(self) -> str:
        """sha1 of the canonical JSON: equal genomes, equal hashes, in every process."""
        if not self._hash:
            object.__setattr__(
                self, "_hash", hashlib.sha1(_canonical(self.to_dict()).encode()).hexdigest()
            )
        return self._hash

    @property
    def short(self) -> str:
        return self.hash()[:10]

    def summary(self) -> str:
        """One line per cell, for logs and the book."""
        lines = []
        for i, c in enumerate(self.cells):
            ops = " ".join(f"{o.kernel}{'E' if o.sign > 0 else 'I'}" for o in c.ops)
            sk = f" skips={list(c.skips)}" if c.skips else ""
            lines.append(
                f"cell {i}: {c.motif:<19} ops[{ops}] thr={c.threshold} tau={c.tau} "
                f"fan_in={c.fan_in}{sk}"
            )
        return "\n".join(lines)


def default_ops(m) -> tuple[OpGene, ...]:
    """Kernel 3 and the motif's default E/I signs: the micro genes when micro is not searched."""
    return tuple(OpGene(DEFAULT_KERNEL, s) for s in m.default_signs)


def default_genome(space: SearchSpace) -> Genome:
    """Every gene at its default: the fixed network that the ablations start from."""
    m = get_motif(space.default_motif)
    return Genome(tuple(CellGene(m.name, default_ops(m)) for _ in range(space.n_cells)))


# -- JSON parsing with errors that name the field -----------------------------------------
_CELL_FIELDS = ("motif", "ops", "threshold", "tau", "fan_in", "skips")
_OP_FIELDS = ("kernel", "sign")


def _field(d: dict, key: str, where: str):
    if key not in d:
        raise ConfigError(f"{where}.{key}: missing")
    return d[key]


def _int(v, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(f"{where}={v!r} must be an integer")
    return v


def _num(v, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(f"{where}={v!r} must be a number")
    return float(v)


def _unknown(d: dict, allowed, where: str) -> None:
    extra = sorted(set(d) - set(allowed))
    if extra:
        raise ConfigError(f"{where}: unknown field(s) {extra}; allowed {list(allowed)}")


def from_dict(data: Any) -> Genome:
    """Parse :meth:`Genome.to_dict` output; any malformed field raises a :class:`ConfigError`
    that names it (e.g. ``cells[2].ops[1].kernel=7 not in (3, 5)``)."""
    if not isinstance(data, dict):
        raise ConfigError(f"genome must be a JSON object, got {type(data).__name__}")
    _unknown(data, ("format", "cells"), "genome")
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        raise ConfigError(f"genome.format={fmt!r}; this version reads {FORMAT!r}")
    cells_raw = _field(data, "cells", "genome")
    if not isinstance(cells_raw, list) or not cells_raw:
        raise ConfigError("genome.cells must be a non-empty list")
    cells = []
    for i, c in enumerate(cells_raw):
        w = f"cells[{i}]"
        if not isinstance(c, dict):
            raise ConfigError(f"{w} must be an object with fields {list(_CELL_FIELDS)}")
        _unknown(c, _CELL_FIELDS, w)
        name = _field(c, "motif", w)
        if not isinstance(name, str) or name not in MOTIFS:
            raise ConfigError(
                f"{w}.motif={name!r} is not registered; choose one of {sorted(MOTIFS)}"
            )
        ops_raw = _field(c, "ops", w)
        if not isinstance(ops_raw, list):
            raise ConfigError(f"{w}.ops must be a list of {{kernel, sign}} objects")
        ops = []
        for k, o in enumerate(ops_raw):
            ow = f"{w}.ops[{k}]"
            if not isinstance(o, dict):
                raise ConfigError(f"{ow} must be an object with fields {list(_OP_FIELDS)}")
            _unknown(o, _OP_FIELDS, ow)
            ops.append(
                OpGene(
                    _int(_field(o, "kernel", ow), f"{ow}.kernel"),
                    _int(_field(o, "sign", ow), f"{ow}.sign"),
                )
            )
        skips = _field(c, "skips", w)
        if not isinstance(skips, list):
            raise ConfigError(f"{w}.skips must be a list of earlier cell indices")
        cells.append(
            CellGene(
                motif=name,
                ops=tuple(ops),
                threshold=_num(_field(c, "threshold", w), f"{w}.threshold"),
                tau=_num(_field(c, "tau", w), f"{w}.tau"),
                fan_in=_int(_field(c, "fan_in", w), f"{w}.fan_in"),
                skips=tuple(_int(j, f"{w}.skips[{n}]") for n, j in enumerate(skips)),
            )
        )
    return Genome(tuple(cells)).validate()


def from_json(text: str | bytes | dict) -> Genome:
    """Parse a genome from JSON text (or an already-decoded dict)."""
    if isinstance(text, dict):
        return from_dict(text)
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"genome JSON is not valid JSON: {exc}") from None
    return from_dict(data)


# -- random genomes and variation ---------------------------------------------------------
def _choice(rng: np.random.Generator, options, exclude=None):
    opts = (
        [o for o in options if o != exclude]
        if exclude is not None and len(options) > 1
        else list(options)
    )
    return opts[int(rng.integers(len(opts)))]


def _random_ops(rng, m, space: SearchSpace) -> tuple[OpGene, ...]:
    if not space.micro:
        return default_ops(m)
    return tuple(OpGene(_choice(rng, KERNELS), _choice(rng, SIGNS)) for _ in range(m.n_ops))


def _eligible_skips(i: int, fan_in: int) -> list[int]:
    return list(range(0, max(0, i - fan_in)))


def random_cell(rng: np.random.Generator, i: int, space: SearchSpace) -> CellGene:
    """A random cell at position ``i``; unsearched scales at their defaults."""
    name = _choice(rng, space.motifs) if space.meso else space.default_motif
    m = get_motif(name)
    ops = _random_ops(rng, m, space)
    thr = _choice(rng, THRESHOLDS) if space.micro else DEFAULT_THRESHOLD
    tau = _choice(rng, TAUS) if space.micro else DEFAULT_TAU
    fan_in = _choice(rng, FAN_INS) if space.macro else DEFAULT_FAN_IN
    skips: tuple[int, ...] = ()
    if space.macro:
        chosen = [j for j in _eligible_skips(i, fan_in) if rng.random() < space.skip_prob]
        skips = tuple(chosen[: space.max_skips])
    return CellGene(name, ops, thr, tau, fan_in, skips)


def random_genome(rng: np.random.Generator, space: SearchSpace) -> Genome:
    """A uniformly drawn genome of ``space`` (valid by construction)."""
    return Genome(tuple(random_cell(rng, i, space) for i in range(space.n_cells))).validate(space)


def _repair_skips(i: int, fan_in: int, skips, max_skips: int) -> tuple[int, ...]:
    ok = sorted(set(j for j in skips if 0 <= j < i - fan_in))
    return tuple(ok[:max_skips])


def mutate(genome: Genome, rng: np.random.Generator, rate: float, space: SearchSpace) -> Genome:
    """Resample each searched gene with probability ``rate``.

    A motif change keeps the op genes of the slots both motifs have and draws the others; a
    fan-in change drops skips that fall inside the new fan-in window; a skip mutation toggles
    one eligible earlier cell (removing one when the cap is reached).
    """
    if not 0.0 <= rate <= 1.0:
        raise ConfigError(f"mutation rate={rate!r} must be in [0, 1]")
    cells = []
    for i, c in enumerate(genome.cells):
        name, ops, thr, tau, fan_in, skips = c.motif, c.ops, c.threshold, c.tau, c.fan_in, c.skips
        if space.meso and len(space.motifs) > 1 and rng.random() < rate:
            name = _choice(rng, space.motifs, exclude=name)
            m = get_motif(name)
            fresh = _random_ops(rng, m, space)
            ops = tuple(
                ops[k] if k < len(ops) and space.micro else fresh[k] for k in range(m.n_ops)
            )
        if space.micro:
            new_ops = []
            for o in ops:
                k = _choice(rng, KERNELS, exclude=o.kernel) if rng.random() < rate else o.kernel
                s = -o.sign if rng.random() < rate else o.sign
                new_ops.append(OpGene(k, s))
            ops = tuple(new_ops)
            if rng.random() < rate:
                thr = _choice(rng, THRESHOLDS, exclude=thr)
            if rng.random() < rate:
                tau = _choice(rng, TAUS, exclude=tau)
        if space.macro:
            if rng.random() < rate:
                fan_in = _choice(rng, FAN_INS, exclude=fan_in)
            skips = _repair_skips(i, fan_in, skips, space.max_skips)
            eligible = _eligible_skips(i, fan_in)
            if eligible and rng.random() < rate:
                j = eligible[int(rng.integers(len(eligible)))]
                s = set(skips)
                if j in s:
                    s.remove(j)
                elif len(s) < space.max_skips:
                    s.add(j)
                elif s:
                    s.remove(sorted(s)[int(rng.integers(len(s)))])
                skips = tuple(sorted(s))
        cells.append(CellGene(name, tuple(ops), thr, tau, fan_in, skips))
    return Genome(tuple(cells)).validate(space)


def crossover(
    a: Genome, b: Genome, rng: np.random.Generator, space: SearchSpace, mode: str = "gene"
) -> Genome:
    """Recombine two parents into one child.

    ``mode="cell"``: each cell is copied whole from a or b (uniform, cell-wise).
    ``mode="gene"``: each gene group is drawn from a or b independently: the motif together
    with its op genes (op genes are mixed slot-wise when both parents share the motif), the
    threshold, tau, fan-in and skips; skips are then repaired against the chosen fan-in.
    """
    if mode not in ("cell", "gene"):
        raise ConfigError(f"crossover mode={mode!r} not in ('cell', 'gene')")
    if len(a.cells) != len(b.cells):
        raise ConfigError(f"crossover parents have {len(a.cells)} and {len(b.cells)} cells")
    cells = []
    for i, (ca, cb) in enumerate(zip(a.cells, b.cells)):
        if mode == "cell":
            cells.append(ca if rng.random() < 0.5 else cb)
            continue
        pick = lambda x, y: x if rng.random() < 0.5 else y  # noqa: E731
        if ca.motif == cb.motif:
            name = ca.motif
            ops = tuple(pick(oa, ob) for oa, ob in zip(ca.ops, cb.ops))
        else:
            src = pick(ca, cb)
            name, ops = src.motif, src.ops
        thr, tau = pick(ca.threshold, cb.threshold), pick(ca.tau, cb.tau)
        fan_in = pick(ca.fan_in, cb.fan_in)
        skips = _repair_skips(i, fan_in, pick(ca.skips, cb.skips), space.max_skips)
        cells.append(CellGene(name, ops, thr, tau, fan_in, skips))
    return Genome(tuple(cells)).validate(space)


def gene_distance(a: Genome, b: Genome) -> float:
    """Fraction of differing genes (motif, each op's kernel and sign, threshold, tau, fan-in,
    skips); op genes of cells with different motifs all count as different."""
    diff = total = 0
    for ca, cb in zip(a.cells, b.cells):
        n_ops = max(len(ca.ops), len(cb.ops))
        total += 5 + 2 * n_ops
        diff += (ca.motif != cb.motif) + (ca.threshold != cb.threshold) + (ca.tau != cb.tau)
        diff += (ca.fan_in != cb.fan_in) + (ca.skips != cb.skips)
        if ca.motif == cb.motif:
            diff += sum(
                (oa.kernel != ob.kernel) + (oa.sign != ob.sign) for oa, ob in zip(ca.ops, cb.ops)
            )
        else:
            diff += 2 * n_ops
    return diff / max(total, 1)


def with_cell(genome: Genome, i: int, **changes) -> Genome:
    """A copy of ``genome`` with some genes of cell ``i`` changed (validated)."""
    cells = list(genome.cells)
    cells[i] = replace(cells[i], **changes)
    return Genome(tuple(cells)).validate()
