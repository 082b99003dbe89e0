"""What the retraining notebooks retrain: the searched cells (and the plain DARTS cells) of a
search record (:class:`~snnlib.darts.architecture.DartsArchitecture`), random cells from the
same discrete space, and the attention variants of the ablation.

Example:
    >>> [name for name, _, _ in random_candidates(0, 2, steps=2, attention="tcsa")]
    ['random 0', 'random 1']
    >>> [name for name, _, _ in attention_variants(compare_gates=True)][-1]
    'tcsa, sigmoid gate'
"""

from __future__ import annotations

from ..darts.architecture import DartsArchitecture
from ..darts.genotype import Genotype, random_genotype

#: Random cell ``k`` of experiment seed ``s`` is ``random_genotype(RANDOM_CELL_SEED + s + k)``:
#: a fixed stream per experiment seed, apart from the seeds of the retrainings themselves.
RANDOM_CELL_SEED = 1000

PLAIN_NOTE = "cells of a plain spiking DARTS search (attention none, same seed and budget)"
NO_PLAIN_NOTE = (
    "no plain search in the search result: the MA-DARTS cells are retrained without "
    "attention instead"
)


def plain_cells(arch: DartsArchitecture) -> tuple[Genotype, str]:
    """The baseline cells of a retraining and what they are: the plain DARTS search's cells
    of the search record ``arch``, or the MA-DARTS cells when the search ran without a plain
    comparison (then retrained without attention)."""
    plain = arch.plain()
    if plain is None:
        return arch.genotype, NO_PLAIN_NOTE
    return plain.genotype, PLAIN_NOTE


def retraining_candidates(arch: DartsArchitecture, seed: int, n_random: int) -> list:
    """The retraining's candidates ``(name, genotype, attention)``: the MA-DARTS cells with
    their attention, the plain DARTS cells (:func:`plain_cells`) without attention, then
    ``n_random`` random cells (:func:`random_candidates`) with the MA-DARTS attention."""
    candidates = [
        ("MA-DARTS", arch.genotype, arch.attention),
        ("plain DARTS", plain_cells(arch)[0], "none"),
    ]
    return candidates + random_candidates(
        seed, n_random, steps=arch.steps, attention=arch.attention
    )


def random_candidates(
    seed: int, n: int, *, steps: int, attention: str
) -> list[tuple[str, Genotype, str]]:
    """``n`` random cells ``(name, genotype, attention)`` from the discrete space of ``steps``
    nodes (per node two distinct inputs, operations other than ``none``), drawn from the
    fixed stream of experiment ``seed`` (:data:`RANDOM_CELL_SEED`)."""
    first = RANDOM_CELL_SEED + seed
    return [
        (f"random {k}", random_genotype(first + k, steps=steps, multiplier=steps), attention)
        for k in range(n)
    ]


def attention_variants(compare_gates: bool = True) -> list[tuple[str, str, str]]:
    """The ablation's ``(name, attention, gate)`` rows: every built-in attention type with
    the default scaled gate, then (``compare_gates``) ``tcsa`` with the original sigmoid."""
    variants = [(att, att, "scaled_sigmoid") for att in ("none", "eca", "cbam", "tcsa")]
    if compare_gates:
        variants.append(("tcsa, sigmoid gate", "tcsa", "sigmoid"))
    return variants
