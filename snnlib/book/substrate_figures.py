"""The substrate chapter's figures: one sample as the network sees it, the learning curves,
and the firing rate of each spiking layer.

An event sample is ``[T, 2, H, W]`` (OFF, ON counts per time bin): each bin is drawn as ON
minus OFF on a symmetric red/blue scale (at least +-1, so an empty bin stays white). A static
sample is ``[C, H, W]``: its first channel in grey. The N-MNIST chapter draws its recordings
with the same :func:`event_frames_figure`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def event_frames_figure(x, titles: Sequence[str], suptitle: str):
    """One panel per time bin of the event sample ``x`` (``[T, 2, H, W]``), titled
    ``titles[t]``: ON minus OFF counts, red ON, blue OFF."""
    import matplotlib.pyplot as plt

    steps = x.shape[0]
    if len(titles) != steps:
        raise ValueError(f"event_frames_figure: {len(titles)} titles for {steps} time bins")
    fig, axes = plt.subplots(1, steps, figsize=(2.2 * steps, 2.4))
    for t, ax in enumerate(np.atleast_1d(axes)):
        frame = (x[t, 1] - x[t, 0]).numpy()  # ON minus OFF events in this time bin
        lim = max(abs(frame).max(), 1)
        ax.imshow(frame, cmap="coolwarm", vmin=-lim, vmax=lim)
        ax.set_title(titles[t])
        ax.axis("off")
    fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def bin_titles(steps: int, bin_ms: float | None = None) -> list[str]:
    """Panel titles of ``steps`` time bins: ``t = 0, 1, ...``, or with ``bin_ms`` each bin's
    span (``0-75 ms``, ``75-150 ms``, ...).

    >>> bin_titles(2), bin_titles(2, 75)
    (['t = 0', 't = 1'], ['0-75 ms', '75-150 ms'])
    """
    if bin_ms is None:
        return [f"t = {t}" for t in range(steps)]
    return [f"{bin_ms * t}-{bin_ms * (t + 1)} ms" for t in range(steps)]


def sample_figure(x, label, dataset: str, kind: str):
    """One test sample of ``dataset``: its event frames (``kind == "events"``, titled
    ``t = 0, 1, ...``) or its image (``kind == "static"``)."""
    import matplotlib.pyplot as plt

    if kind == "events":
        suptitle = f"{dataset}: events of one test sample (label {label}); red ON, blue OFF"
        return event_frames_figure(x, bin_titles(x.shape[0]), suptitle)
    if kind != "static":
        raise ValueError(f"sample_figure: kind={kind!r}; allowed: 'events', 'static'")
    fig, ax = plt.subplots(figsize=(2.6, 2.6))
    ax.imshow(x[0].numpy(), cmap="gray")
    ax.set_title(f"{dataset}: one test sample (label {label})")
    ax.axis("off")
    fig.tight_layout()
    return fig


def curves_figure(history):
    """Loss and accuracy per epoch, train and validation, of a
    :class:`~snnlib.train.History`."""
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history.train_loss) + 1)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 3))
    a1.plot(epochs, history.train_loss, "o-", label="train")
    a1.plot(epochs, history.val_loss, "s-", label="validation")
    a1.set(xlabel="epoch", ylabel="loss", title="Loss")
    a1.legend()
    a2.plot(epochs, history.train_acc, "o-", label="train")
    a2.plot(epochs, history.val_acc, "s-", label="validation")
    a2.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0, 1.02))
    a2.legend()
    fig.tight_layout()
    return fig


def layer_names(rates: Mapping[str, float]) -> list[str]:
    """The layers of a firing-rate report as a reader names them (``conv1.lif`` ->
    ``conv1``)."""
    return [name.replace(".lif", "") for name in rates]


def rates_figure(rates: Mapping[str, float], dataset: str):
    """A bar per spiking layer: its firing rate (``SpikeReport.firing_rates``)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.8))
    ax.bar(range(len(rates)), list(rates.values()), color="tab:purple")
    ax.set_xticks(range(len(rates)))
    ax.set_xticklabels(layer_names(rates), rotation=30, ha="right")
    ax.set(ylabel="firing rate", title=f"Firing rate per spiking layer ({dataset})")
    fig.tight_layout()
    return fig
