"""The substrate chapter's book glue: split sizes, metrics, the page's keys and figures."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import pytest
import torch

from snnlib.book.glue import glue_all
from snnlib.book.substrate import split_sizes, substrate_glue_values, substrate_metrics
from snnlib.book.substrate_figures import (
    bin_titles,
    curves_figure,
    event_frames_figure,
    layer_names,
    rates_figure,
    sample_figure,
)
from snnlib.nas.statistics import wilson_interval
from snnlib.train import History

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BOOK = Path(__file__).resolve().parent.parent / "book"


def page_keys(stem: str) -> set[str]:
    """Every glue key the book's pages read from the executed notebooks of ``stem``."""
    pattern = re.compile(rf"executed/{stem}__[A-Za-z0-9-]+\.ipynb::([A-Za-z0-9_]+)")
    return {m for page in BOOK.glob("*.md") for m in pattern.findall(page.read_text())}


def _test_result(acc=0.75, n=200):
    report = SimpleNamespace(
        nos=1234.5, mean_firing_rate=0.12, sops=1e6, macs=2e6, energy_uj=0.5, firing_rates={}
    )
    return {"acc": acc, "n": n, "spikes": report}


def test_split_sizes_counts_the_dataset_behind_each_loader():
    loaders = {"train": SimpleNamespace(dataset=[0] * 7), "test": SimpleNamespace(dataset=[1, 2])}
    assert split_sizes(loaders) == {"train": 7, "test": 2}


def test_substrate_metrics_numbers_and_wilson_interval():
    hist = History(val_acc=[0.5, 0.8, 0.7], seconds=12.5)
    m = substrate_metrics(_test_result(), hist, params=321, time_steps=4)
    assert m["test_acc"] == 0.75 and m["best_val_acc"] == 0.8
    assert m["nos"] == 1234.5 and m["energy_uj"] == 0.5 and m["params"] == 321
    assert m["train_seconds"] == 12.5 and m["time_steps"] == 4
    assert m["test_acc_ci95"] == list(wilson_interval(150, 200))
    lo, hi = m["test_acc_ci95"]
    assert 0.68 < lo < 0.75 < hi < 0.81
    assert list(m)[-1] == "test_acc_ci95"  # the result file's key order is kept


def test_substrate_metrics_without_validation_has_no_best_val_acc():
    m = substrate_metrics(_test_result(), History(), params=1, time_steps=2)
    assert m["best_val_acc"] is None


def test_substrate_glue_values_in_percent_and_cover_the_pages():
    m = substrate_metrics(_test_result(acc=0.5, n=100), History(val_acc=[0.4]), 10, 4)
    values = substrate_glue_values(m, n_test=100, n_train=900, epochs=12)
    lo, hi = wilson_interval(50, 100)
    assert values["test_acc"] == 50.0
    assert values["test_acc_lo"] == 100 * lo and values["test_acc_hi"] == 100 * hi
    assert values["mean_rate"] == 0.12 and values["n_params"] == 10
    assert (values["epochs"], values["n_test"], values["n_train"]) == (12, 100, 900)
    glued = glue_all(values)
    figures = {"sample_fig", "curves_fig", "rates_fig"}
    assert page_keys("00_substrate") - figures <= set(glued)
    assert page_keys("00_substrate") >= {"test_acc", "nos", "n_train"}  # the pages were read


def test_bin_titles():
    assert bin_titles(3) == ["t = 0", "t = 1", "t = 2"]
    assert bin_titles(2, 75) == ["0-75 ms", "75-150 ms"]


def test_event_frames_figure_draws_on_minus_off_per_bin():
    x = torch.zeros(3, 2, 5, 5)
    x[1, 1, 2, 2] = 4.0  # an ON event in bin 1
    x[2, 0, 0, 0] = 2.0  # an OFF event in bin 2
    fig = event_frames_figure(x, ["a", "b", "c"], "title")
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["a", "b", "c"]
    shown = [ax.images[0].get_array() for ax in axes]
    assert shown[1][2, 2] == 4.0 and shown[2][0, 0] == -2.0
    assert axes[0].images[0].get_clim() == (-1, 1)  # an empty bin: the scale stays +-1
    plt.close(fig)
    with pytest.raises(ValueError, match="2 titles for 3 time bins"):
        event_frames_figure(x, ["a", "b"], "title")


def test_sample_figure_events_and_static():
    fig = sample_figure(torch.ones(2, 2, 4, 4), 7, "digits-dvs", "events")
    assert len(fig.axes) == 2 and "label 7" in fig._suptitle.get_text()
    plt.close(fig)
    fig = sample_figure(torch.ones(1, 8, 8), 3, "digits", "static")
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "digits: one test sample (label 3)"
    plt.close(fig)
    with pytest.raises(ValueError, match="kind='video'"):
        sample_figure(torch.ones(1, 8, 8), 3, "digits", "video")


def test_curves_and_rates_figures():
    hist = History(
        train_loss=[1.0, 0.5], val_loss=[1.1, 0.7], train_acc=[0.3, 0.6], val_acc=[0.2, 0.5]
    )
    fig = curves_figure(hist)
    loss_ax, acc_ax = fig.axes
    assert list(loss_ax.lines[1].get_ydata()) == [1.1, 0.7]
    assert list(acc_ax.lines[0].get_xdata()) == [1, 2]
    plt.close(fig)
    rates = {"conv1.lif": 0.1, "fc.lif": 0.3}
    assert layer_names(rates) == ["conv1", "fc"]
    fig = rates_figure(rates, "digits")
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == [0.1, 0.3]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["conv1", "fc"]
    plt.close(fig)
