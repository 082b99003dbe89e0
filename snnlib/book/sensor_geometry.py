"""Geometry and noise read off the real recordings, as the sensor chapter reports them.

:func:`noise_config` puts the measured background noise (rounded to 3 decimals) into a
configuration; :func:`geometry_report` is the printed summary of the path estimate
(:class:`~snnlib.data.sensor_compare.PathEstimate`) and the noise estimate;
:func:`path_figure` draws the measured digit offsets per window against the fitted path.

Example:
    >>> from snnlib.data.dvs_sim import DVSConfig
    >>> c = noise_config(DVSConfig.for_size(34), {"noise_rate": 0.12345, "noise_on_fraction": 0.5})
    >>> c.noise_rate, c.noise_on_fraction
    (0.123, 0.5)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from ..data.dvs_sim import DVSConfig, path_weights


def noise_config(config: DVSConfig, noise: Mapping[str, float]) -> DVSConfig:
    """``config`` with the estimated ``noise_rate`` and ``noise_on_fraction`` (3 decimals)."""
    return replace(
        config,
        noise_rate=round(noise["noise_rate"], 3),
        noise_on_fraction=round(noise["noise_on_fraction"], 3),
    )


def geometry_report(path, noise: Mapping[str, float]) -> str:
    """Four lines: the digit-size scores, the profile residuals (px), the corners with the
    saccade windows (ms), and the noise estimate."""
    windows = [(a / 1e3, b / 1e3) for a, b in path.saccade_windows]
    return "\n".join(
        [
            f"digit size scores: { {k: round(v) for k, v in path.size_scores.items()} }",
            f"profile residuals (px): { {k: round(v, 3) for k, v in path.rms.items()} }",
            f"corners: {path.vertices} | windows (ms): {windows}",
            f"noise: { {k: round(v, 3) for k, v in noise.items()} }",
        ]
    )


def path_figure(path):
    """The digit's measured offset (dx, dy) per window, dot size by the window's events,
    the fitted path as lines and the saccade windows shaded."""
    import matplotlib.pyplot as plt

    fit = path_weights(path.window_t, path.saccade_windows, path.profile) @ np.array(path.vertices)
    fig, ax = plt.subplots(figsize=(7, 3))
    ms = path.window_t / 1e3
    for k, (name, color) in enumerate((("dx", "tab:blue"), ("dy", "tab:orange"))):
        ax.scatter(
            ms,
            path.positions[:, k],
            s=6 + 40 * path.weights / path.weights.max(),
            color=color,
            label=f"{name} measured",
        )
        ax.plot(ms, fit[:, k], color=color, lw=1.5, label=f"{name} fitted path")
    for a, b in path.saccade_windows:
        ax.axvspan(a / 1e3, b / 1e3, color="0.92", zorder=0)
    ax.set(
        xlabel="time (ms)",
        ylabel="digit offset (px)",
        title="Where the real recordings put the digit",
    )
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig
