"""The sensor chapter's figures: the real recordings against the default and the calibrated
simulator (counts and timing, where events fall, intervals and events per pixel), and the
transfer accuracies.

Every set keeps one colour (:data:`COLORS`); the statistics figures show the sets of
:data:`SHOWN` (the count-matched control only in the tables).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

COLORS = {
    "real": "black",
    "simulated, default": "tab:red",
    "simulated, count-matched": "tab:orange",
    "simulated, calibrated": "tab:blue",
    "real (reference)": "black",
}
#: the sets the statistics figures draw
SHOWN = ("real", "simulated, default", "simulated, calibrated")


def shown_sets(stats: Mapping) -> dict:
    """The sets of :data:`SHOWN` of ``stats`` (``name -> RecordingStats``), in that order;
    ``KeyError`` naming a missing one."""
    missing = [k for k in SHOWN if k not in stats]
    if missing:
        raise KeyError(f"the statistics figures need the sets {missing}; given {list(stats)}")
    return {k: stats[k] for k in SHOWN}


def bin_centres(edges: np.ndarray) -> np.ndarray:
    """Arithmetic centres of histogram bins.

    >>> bin_centres(np.array([0.0, 2.0, 6.0])).tolist()
    [1.0, 4.0]
    """
    return 0.5 * (edges[1:] + edges[:-1])


def log_bin_centres(edges: np.ndarray) -> np.ndarray:
    """Geometric centres of logarithmic bins (edges below 1 taken as 1).

    >>> log_bin_centres(np.array([0.0, 1.0, 100.0])).tolist()
    [1.0, 10.0]
    """
    return np.sqrt(np.maximum(edges[1:], 1) * np.maximum(edges[:-1], 1))


def counts_time_figure(stats: Mapping):
    """Events per recording (histogram), events per recording and 5 ms over time, and the
    ON fraction over time, of the :data:`SHOWN` sets."""
    import matplotlib.pyplot as plt

    shown = shown_sets(stats)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3))
    bins = np.linspace(0, max(s.counts.max() for s in shown.values()), 30)
    for name, s in shown.items():
        axes[0].hist(s.counts, bins=bins, histtype="step", lw=1.5, color=COLORS[name], label=name)
        centres = bin_centres(s.temporal_edges) / 1e3
        axes[1].plot(centres, s.temporal, color=COLORS[name], lw=1.3)
        axes[2].plot(centres, s.temporal_on, color=COLORS[name], lw=1.0)
    axes[0].set(xlabel="events per recording", ylabel="recordings", title="Events per recording")
    axes[0].legend(fontsize=7)
    axes[1].set(
        xlabel="time (ms)", ylabel="events per recording and 5 ms", title="When events happen"
    )
    axes[2].set(
        xlabel="time (ms)", ylabel="ON fraction", title="ON fraction over time", ylim=(0.3, 1.0)
    )
    fig.tight_layout()
    return fig


def spatial_figure(stats: Mapping):
    """The mean events per pixel and recording of each :data:`SHOWN` set, on one scale."""
    import matplotlib.pyplot as plt

    shown = shown_sets(stats)
    fig, axes = plt.subplots(1, len(shown), figsize=(10, 3.3))
    vmax = max(s.spatial.max() for s in shown.values())
    for ax, (name, s) in zip(axes, shown.items()):
        im = ax.imshow(s.spatial, cmap="magma", vmin=0, vmax=vmax)
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.colorbar(im, ax=axes, shrink=0.8, label="events per pixel and recording")
    return fig


def intervals_figure(stats: Mapping):
    """The per-pixel inter-event interval distribution (log axis; the first bin, intervals
    below 1 us, left out) and the events-per-active-pixel distribution of the :data:`SHOWN`
    sets."""
    import matplotlib.pyplot as plt

    shown = shown_sets(stats)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    for name, s in shown.items():
        centres = log_bin_centres(s.isi_edges)
        axes[0].plot(centres[1:], (s.isi / s.isi.sum())[1:], color=COLORS[name], lw=1.3, label=name)
        k = np.arange(1, len(s.pixel_counts) + 1)
        axes[1].plot(k, s.pixel_counts / s.pixel_counts.sum(), color=COLORS[name], lw=1.3)
    axes[0].set_xscale("log")
    axes[0].set(
        xlabel="interval between two events of a pixel (us)",
        ylabel="fraction",
        title="Per-pixel inter-event intervals",
    )
    axes[0].legend(fontsize=7)
    axes[1].set(
        xlabel="events of one pixel in one recording",
        ylabel="fraction of active pixels",
        title="Events per active pixel",
    )
    fig.tight_layout()
    return fig


def transfer_figure(
    acc: Mapping[str, Sequence[float]], summary: Mapping[str, tuple[float, float, float]]
):
    """Accuracy on the real recordings per training condition: the seeds (grey dots) and
    the mean with its 95 % interval (no bar where the interval is undefined, one seed);
    chance (0.1) dashed."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    for k, (name, (m, lo, hi)) in enumerate(summary.items()):
        ax.scatter([k] * len(acc[name]), acc[name], color="0.6", s=12, zorder=2)
        err = None if np.isnan(lo) else [[m - lo], [hi - m]]
        ax.errorbar([k], [m], yerr=err, fmt="o", color=COLORS[name], capsize=4, zorder=3)
    ax.axhline(0.1, color="0.8", ls="--", lw=1)
    ax.set_xticks(range(len(summary)))
    ax.set_xticklabels(list(summary), fontsize=8)
    ax.set(
        ylabel="accuracy on real recordings",
        title="Transfer to the real sensor (mean, 95% interval)",
        ylim=(0, 1),
    )
    fig.tight_layout()
    return fig
