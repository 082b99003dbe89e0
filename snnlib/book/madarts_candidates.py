"""What the retraining notebooks retrain: the searched cells (and the plain DARTS cells) read
back from a search result, random cells from the same discrete space, and the attention
variants of the ablation.

Example:
    >>> [name for name, _, _ in random_candidates(0, 2, steps=2, attention="tcsa")]
    ['random 0', 'random 1']
    >>> [name for name, _, _ in attention_variants(compare_gates=True)][-1]
    'tcsa, sigmoid gate'
"""

from __future__ import annotations

from dataclasses import dataclass

from ..darts.genotype import Genotype, genotype_from_dict, random_genotype
from ..darts.layout import Layout, darts_layout, layout_from_dict

#: Random cell ``k`` of experiment seed ``s`` is ``random_genotype(RANDOM_CELL_SEED + s + k)``:
#: a fixed stream per experiment seed, apart from the seeds of the retrainings themselves.
RANDOM_CELL_SEED = 1000

PLAIN_NOTE = "cells of a plain spiking DARTS search (attention none, same seed and budget)"
NO_PLAIN_NOTE = (
    "no plain search in the search result: the MA-DARTS cells are retrained without "
    "attention instead"
)


@dataclass(frozen=True)
class SearchedArchitecture:
    """The ``architecture`` entry of a search result, as objects.

    ``layout`` is the retraining layout: the searched stage depths of a macro search (a
    layout whose reductions read a single input), else the fixed DARTS layout of
    ``layers`` cells. ``plain_genotype`` is the plain DARTS search's cells, or the MA-DARTS
    cells when the search ran without a plain comparison (``plain_note`` says which).
    """

    genotype: Genotype
    layout: Layout
    searched_layout: Layout
    attention: str
    placement: str
    gate: str
    time_steps: int
    steps: int
    plain_genotype: Genotype
    plain_note: str


def searched_architecture(arch: dict, layers: int) -> SearchedArchitecture:
    """Read ``arch`` (the search notebook's ``architecture`` dict) for retraining at
    ``layers`` cells. A result without ``gate`` predates the scaled gate: ``sigmoid``."""
    genotype = genotype_from_dict(arch["genotype"])
    searched = layout_from_dict(arch["layout"])
    layout = searched if searched.reduce_inputs == "single" else darts_layout(layers)
    if "plain_darts" in arch:
        plain, note = genotype_from_dict(arch["plain_darts"]["genotype"]), PLAIN_NOTE
    else:
        plain, note = genotype, NO_PLAIN_NOTE
    return SearchedArchitecture(
        genotype=genotype,
        layout=layout,
        searched_layout=searched,
        attention=arch["attention"],
        placement=arch["placement"],
        gate=arch.get("gate", "sigmoid"),
        time_steps=arch["time_steps"],
        steps=arch["steps"],
        plain_genotype=plain,
        plain_note=note,
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
