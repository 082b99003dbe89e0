r"""Number of spikes (NoS) per cell: the DARTS networks' grouping of a spike report.

NoS (AutoSNN, MA-DARTS) is the sum of output spikes of all spiking layers over all T time
steps, per image, averaged over the images seen:

.. math::

    \mathrm{NoS} = \frac{1}{N} \sum_{n=1}^{N} \sum_{\ell \in \text{LIF}} \sum_{t=1}^{T}
    \lVert s^{\ell}_{n}[t] \rVert_1 .

Per cell it is the same sum restricted to the LIF layers inside cell ``k`` (module names
``cells.k.*``, summed with :func:`snnlib.spikes.group_by_prefix`); the head's neurons are
reported as ``head``. Measuring (accuracy, NoS, SOPs, energy, with batch-norm running or
batch statistics) is the substrate's :func:`snnlib.train.spike_summary`; pass
``per_cell=nos_per_cell`` to add the per-cell numbers.

In the supernet every candidate operation spikes, whatever its weight: supernet NoS is
the activity of the whole search space, which is what MA-DARTS plots during the search.
"""

from __future__ import annotations

from ..spikes import SpikeReport, group_by_prefix


def cell_key(name: str) -> str:
    """``cells.3.ops.0...`` -> ``cell3``; ``head.lif`` -> ``head``; anything else by its first part.

    Example:
        >>> cell_key("cells.3.ops.0.lif"), cell_key("head.lif"), cell_key("stem.body")
        ('cell3', 'head', 'stem')
    """
    parts = name.split(".")
    if parts[0] == "cells" and len(parts) > 1:
        return f"cell{parts[1]}"
    return parts[0]


def nos_per_cell(report: SpikeReport) -> dict[str, float]:
    """Spikes per image of every cell (and the head), from a spike report; cells in order,
    the head last."""
    grouped = group_by_prefix(report.spikes_per_layer, depth=2)
    out: dict[str, float] = {}
    for name, v in grouped.items():
        key = cell_key(name)
        out[key] = out.get(key, 0.0) + v
    return dict(sorted(out.items(), key=lambda kv: (kv[0] == "head", len(kv[0]), kv[0])))
