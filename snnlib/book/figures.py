"""Figures the notebooks share: every retraining as a point, with its group's interval.

A comparison of architectures shows the seeds, not only the means: one point per retraining
(seaborn's strip plot, jittered), and beside each group of two or more points its mean and
95 % Student t interval (:func:`snnlib.nas.statistics.t_interval`) in black.
"""

from __future__ import annotations

from collections.abc import Sequence

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
