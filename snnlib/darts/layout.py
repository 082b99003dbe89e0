r"""The layer (macro) level: which cells are normal, which reduce, and how they are wired.

A :data:`Layout` lists the kind of every cell (``"normal"`` keeps resolution and width,
``"reduce"`` halves the resolution and doubles the width) and how a reduction cell reads
its two inputs:

- ``reduce_inputs="pair"`` (DARTS): every cell ``k`` reads :math:`(c_{k-2}, c_{k-1})`.
- ``reduce_inputs="single"``: a reduction cell reads :math:`(c_{k-1}, c_{k-1})`, like the
  first cell after the stem. The network is then a chain of *stages* separated by
  reductions, each stage seen from outside as one tensor. This is the wiring of the
  searchable macro level (:class:`snnlib.darts.supernet.SearchNetwork` with
  ``macro="depth"``), where a stage's output is a mixture over candidate depths.

The default layout is DARTS': ``layers`` cells with reductions at ``layers // 3`` and
``2 * layers // 3``.

Example:
    >>> darts_layout(5).cells
    ('normal', 'reduce', 'normal', 'reduce', 'normal')
    >>> stage_layout((2, 1, 1)).cells
    ('normal', 'normal', 'reduce', 'normal', 'reduce', 'normal')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..validation import ConfigError, check_choice, check_range

CELL_KINDS = ("normal", "reduce")
REDUCE_INPUTS = ("pair", "single")


class Layout(NamedTuple):
    """Cell kinds in order, and the wiring of reduction cells."""

    cells: tuple[str, ...]
    reduce_inputs: str = "pair"


def validate_layout(layout) -> Layout:
    cells, reduce_inputs = layout
    if not isinstance(cells, (list, tuple)) or not cells:
        raise ConfigError(
            f"layout.cells must be a non-empty list of {list(CELL_KINDS)}, got {cells!r}"
        )
    for k, c in enumerate(cells):
        check_choice(f"layout.cells[{k}]", c, CELL_KINDS)
    check_choice("layout.reduce_inputs", reduce_inputs, REDUCE_INPUTS)
    return Layout(tuple(cells), reduce_inputs)


def darts_layout(layers: int, reductions: Sequence[int] | None = None) -> Layout:
    """``layers`` cells; reductions at ``reductions`` (default ``layers//3`` and
    ``2*layers//3``)."""
    check_range("layers", layers, 1, None, integer=True)
    if reductions is None:
        if layers < 3:
            raise ConfigError(
                f"layers={layers}: the default layout needs at least 3 cells "
                "(reductions at 1/3 and 2/3 depth); pass reductions= explicitly"
            )
        reductions = (layers // 3, 2 * layers // 3)
    for r in reductions:
        check_range("reduction position", r, 0, layers - 1, integer=True)
    return Layout(
        tuple("reduce" if k in set(reductions) else "normal" for k in range(layers)), "pair"
    )


def stage_layout(depths: Sequence[int]) -> Layout:
    """Stages of ``depths[s]`` normal cells separated by single-input reduction cells."""
    depths = tuple(int(d) for d in depths)
    if not depths:
        raise ConfigError("stage_layout needs at least one stage depth")
    cells: list[str] = []
    for s, d in enumerate(depths):
        check_range(f"stage {s} depth", d, 1, None, integer=True)
        if s:
            cells.append("reduce")
        cells += ["normal"] * d
    return Layout(tuple(cells), "single")


def layout_to_dict(layout: Layout) -> dict:
    return {"cells": list(layout.cells), "reduce_inputs": layout.reduce_inputs}


def layout_from_dict(d: dict) -> Layout:
    if not isinstance(d, dict) or set(d) != {"cells", "reduce_inputs"}:
        raise ConfigError(
            f"a layout must be an object with keys ['cells', 'reduce_inputs'], got {d!r}"
        )
    return validate_layout((d["cells"], d["reduce_inputs"]))
