"""The substrate run's numbers: its metrics (the result file) and what its pages glue.

:func:`substrate_metrics` gathers what every later chapter compares with: test accuracy and
its 95 % Wilson interval over the test images (one training seed: the interval is the test
items'), the best validation accuracy, the spikes per image (NoS), the mean firing rate,
synaptic operations, MACs, the energy estimate, parameters, training time and time steps.
:func:`substrate_glue_values` turns them into the page's keys (accuracies in percent).

Example:
    >>> split_sizes({"train": [[0, 1], [2]], "test": [[3]]})
    {'train': 2, 'test': 1}
"""

from __future__ import annotations

from collections.abc import Mapping

from ..nas.statistics import wilson_interval


def split_sizes(loaders: Mapping) -> dict[str, int]:
    """``split -> number of items`` of a ``{split: DataLoader}`` (or of ``{split: dataset}``:
    anything with a ``dataset`` attribute is measured through it)."""
    return {k: len(getattr(v, "dataset", v)) for k, v in loaders.items()}


def substrate_metrics(test: Mapping, history, params: int, time_steps: int) -> dict:
    """The result file's metrics from :func:`~snnlib.train.evaluate`'s ``test`` (with
    ``spikes=True``), the training ``history`` (``best_val_acc`` is ``None`` without
    validation epochs), the parameter count and the time steps; ``test_acc_ci95`` is the
    95 % Wilson interval of ``test["acc"]`` over ``test["n"]`` images."""
    report = test["spikes"]
    n = test["n"]
    return {
        "test_acc": test["acc"],
        "best_val_acc": max(history.val_acc) if history.val_acc else None,
        "nos": report.nos,
        "mean_firing_rate": report.mean_firing_rate,
        "sops": report.sops,
        "macs": report.macs,
        "energy_uj": report.energy_uj,
        "params": params,
        "train_seconds": history.seconds,
        "time_steps": time_steps,
        "test_acc_ci95": list(wilson_interval(round(test["acc"] * n), n)),
    }


def substrate_glue_values(metrics: Mapping, n_test: int, n_train: int, epochs: int) -> dict:
    """The page's keys: accuracy and its interval in percent (``test_acc``, ``test_acc_lo``,
    ``test_acc_hi``), ``nos``, ``energy_uj``, ``mean_rate``, ``n_params``, ``train_seconds``,
    ``epochs``, ``time_steps``, ``n_test``, ``n_train``."""
    lo, hi = metrics["test_acc_ci95"]
    return {
        "test_acc": 100 * metrics["test_acc"],
        "nos": metrics["nos"],
        "energy_uj": metrics["energy_uj"],
        "mean_rate": metrics["mean_firing_rate"],
        "n_params": metrics["params"],
        "train_seconds": metrics["train_seconds"],
        "epochs": epochs,
        "time_steps": metrics["time_steps"],
        "test_acc_lo": 100 * lo,
        "test_acc_hi": 100 * hi,
        "n_test": int(n_test),
        "n_train": int(n_train),
    }
