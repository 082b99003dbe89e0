"""Figures the notebooks share.

- :func:`seed_points`: every retraining as a point, with its group's interval. A comparison of
  architectures shows the seeds, not only the means: one point per retraining (seaborn's strip
  plot, jittered), and beside each group of two or more points its mean and 95 % Student t
  interval (:func:`snnlib.nas.statistics.t_interval`) in black.
- :func:`errorbars_by_machine`: quality against cost, one marker per machine. Seconds measured
  on different machines (this CPU, the benchmark's GPU) do not share a clock, so each machine's
  points get their own marker and legend entry (and, on request, their own Pareto front);
  notebooks 60 (a score's tau against its seconds per cell) and 62 (a search's returned
  accuracy against its seconds) draw their cost figures with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..nas.statistics import t_interval


def seed_points(ax, data: pd.DataFrame, x: str, y: str, order: Sequence[str]):
    """Draw ``data[y]`` per group ``data[x]`` (groups in ``order``) on ``ax``: the points and,
    for groups of two or more, the mean with its 95 % t interval to the right of the points."""
    import seaborn as sns

    sns.stripplot(data=data, x=x, y=y, order=order, hue=x, ax=ax, size=6, jitter=0.15)
    for i, group in enumerate(order):
        values = data.loc[data[x] == group, y].to_numpy()
        if len(values) > 1:
            m, lo, hi = t_interval(values)
            ax.errorbar(i + 0.3, m, yerr=[[m - lo], [hi - m]], fmt="s", color="k", capsize=3)
    return ax


MACHINE_MARKERS = {"this CPU": "o", "benchmark GPU": "s"}
"""The marker of each machine whose seconds a cost figure shows."""


def errorbars_by_machine(
    ax,
    data: pd.DataFrame,
    y: str,
    lo: str,
    hi: str,
    markers: Mapping[str, str] = MACHINE_MARKERS,
    floor: float = 1e-3,
    fronts: bool = False,
):
    """On ``ax``: for each machine of ``markers`` (in its order), the rows of ``data`` whose
    ``machine`` column names it, at ``seconds`` (clipped below at ``floor``, so that a cost of
    ~0 stays on a log axis) against ``y`` with the error bar ``lo``..``hi``, labelled
    ``"<machine> seconds"``. With ``fronts`` each machine's rows with ``pareto`` true are joined
    by a thin black line in order of seconds (the front within that machine). A machine without
    rows draws nothing. Returns ``ax``."""
    missing = {"seconds", "machine", y, lo, hi, *(("pareto",) if fronts else ())} - set(data)
    if missing:
        raise KeyError(f"errorbars_by_machine: data lacks the columns {sorted(missing)}")
    for machine, marker in markers.items():
        t = data[data["machine"] == machine]
        if t.empty:
            continue
        ax.errorbar(
            t["seconds"].clip(lower=floor),
            t[y],
            yerr=[t[y] - t[lo], t[hi] - t[y]],
            fmt=marker,
            ms=4,
            capsize=2,
            label=f"{machine} seconds",
        )
        if fronts:
            front = t[t["pareto"].astype(bool)].sort_values("seconds")
            ax.plot(front["seconds"].clip(lower=floor), front[y], "k-", lw=0.7)
    return ax
