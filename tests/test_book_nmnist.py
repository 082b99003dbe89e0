"""The N-MNIST chapter's book glue: variants, logistic bars, hit matrices, the selection and
ablation tables, metrics and the page's keys."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest

from snnlib.book import nmnist_training
from snnlib.book.glue import glue_all
from snnlib.book.nmnist_summary import (
    ablation_figure,
    ablation_table,
    accuracy_interval,
    nmnist_artifacts,
    nmnist_glue_values,
    nmnist_metrics,
    selection_table,
    variant_key,
)
from snnlib.book.nmnist_training import LogisticBars, correct_items, logistic_bars, run_predictions
from snnlib.book.nmnist_variants import (
    adopted_phrase,
    build_variants,
    candidates,
    framing_of,
    variant_changes,
    variants_frame,
)
from snnlib.nas.retrain import RetrainResult, RetrainRun
from snnlib.nas.statistics import paired_items, t_interval, wilson_interval
from snnlib.validation import ConfigError

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BOOK = Path(__file__).resolve().parent.parent / "book"
OLD = dict(image_size=34, epochs=12, lr=5e-3)
NEW = dict(image_size=17, epochs=30, lr=2e-2)


def page_keys(stem: str) -> set[str]:
    """Every glue key the book's pages read from the executed notebooks of ``stem``."""
    pattern = re.compile(rf"executed/{stem}__[A-Za-z0-9-]+\.ipynb::([A-Za-z0-9_]+)")
    return {m for page in BOOK.glob("*.md") for m in pattern.findall(page.read_text())}


def _run(seed, acc, val_acc, val_loss, predictions=None):
    return RetrainRun(
        seed, acc, 0.3, val_acc, val_acc, 100.0, 0.1, 1e4, 0.0, 0.01, 10, 2.0, 0.1,
        {"val_loss": [1.0, val_loss]}, predictions=predictions,
    )  # fmt: skip


def _result(name, *runs):
    return RetrainResult(name, list(runs))


def test_build_variants_cumulative_steps_and_side_changes():
    v = build_variants(
        OLD, NEW, steps=("17 px", "30 epochs"), side=("tau 4", "span binning"), seeds=3
    )
    assert list(v) == [
        "substrate recipe",
        "+ 17 px",
        "+ 30 epochs",
        "default",
        "default, tau 4",
        "default, span binning",
    ]
    assert v["substrate recipe"] == dict(OLD, seeds=1)
    assert v["+ 30 epochs"] == dict(image_size=17, epochs=30, lr=5e-3, seeds=1)  # keeps 17 px
    assert v["default"] == dict(NEW, seeds=3)
    assert v["default, span binning"] == dict(NEW, binning="span", seeds=3)
    assert "binning" not in v["default, tau 4"]  # one change away from the default only
    assert variant_changes(dict(NEW, epochs=1))["30 epochs"] == {"epochs": 1}


def test_build_variants_unknown_change_names_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"'48 px' is unknown; allowed: \['17 px'"):
        build_variants(OLD, NEW, steps=("48 px",), side=(), seeds=1)


def test_candidates_framing_table_and_phrase():
    assert candidates(("tau 4", "log1p counts")) == [
        "default",
        "default, tau 4",
        "default, log1p counts",
    ]
    assert framing_of(dict(NEW, counts="log1p", tau=4.0)) == {"image_size": 17, "counts": "log1p"}
    v = build_variants(OLD, NEW, steps=(), side=("tau 4",), seeds=2)
    frame = variants_frame(v)
    assert frame.loc["default", "tau"] == "" and frame.loc["default, tau 4", "tau"] == 4.0
    assert adopted_phrase("default") == "the default"
    assert adopted_phrase("default, log1p counts") == "the default with log1p counts"


def test_logistic_bars_fits_each_size_once_in_order(monkeypatch, capsys):
    calls = []

    def fake_loaders(dataset, image_size, **kw):
        calls.append((dataset, image_size, kw))
        return {s: SimpleNamespace(dataset=f"{s}{image_size}") for s in ("train", "val", "test")}

    def fake_baseline(train, val, test):
        return SimpleNamespace(split=(train, val, test), to_dict=lambda: {"C": 1.0})

    monkeypatch.setattr(nmnist_training, "make_loaders", fake_loaders)
    monkeypatch.setattr(nmnist_training, "logistic_baseline", fake_baseline)
    bars = logistic_bars("nmnist", NEW, OLD, seed=3)
    assert [c[1] for c in calls] == [17, 34] and calls[0][2] == {"seed": 3}
    assert bars.network.split == ("train17", "val17", "test17")
    assert bars.sensor_grid.split == ("train34", "val34", "test34")
    assert list(bars.by_size) == [17, 34]
    assert capsys.readouterr().out.splitlines() == ["17 px: {'C': 1.0}", "34 px: {'C': 1.0}"]
    logistic_bars("nmnist", NEW, NEW)
    assert [c[1] for c in calls[2:]] == [17]  # the same size is fitted once


def test_train_variants_frames_each_variant_and_seeds_from_seed(monkeypatch):
    info = SimpleNamespace(in_channels=2, num_classes=10)
    made, trained = [], []

    def fake_loaders(dataset, **kw):
        made.append(kw)
        return {"test": SimpleNamespace(dataset=SimpleNamespace(info=info))}

    def fake_retrain(net, budget, seeds, desc):
        trained.append((desc, list(seeds), budget.train, net))
        return desc

    monkeypatch.setattr(nmnist_training, "make_loaders", fake_loaders)
    monkeypatch.setattr(nmnist_training, "RetrainBudget", lambda *a, **kw: SimpleNamespace(
        train=a[0], loaders=a[1], keep_predictions=kw["keep_predictions"]))  # fmt: skip
    monkeypatch.setattr(nmnist_training, "retrain", fake_retrain)
    variants = build_variants(OLD, NEW, steps=("17 px",), side=("tau 4", "log1p counts"), seeds=2)
    default = fake_loaders("nmnist", image_size=17)
    made.clear()
    out = nmnist_training.train_variants(
        "nmnist", variants, default, "enc", {"seed": 5, "batch_size": 8},
        width=4, max_batches=2, seed=5, device="cpu",
    )  # fmt: skip
    assert list(out) == list(variants)
    # the default reuses its loaders; every other variant is framed as it says
    assert made == [
        {"seed": 5, "batch_size": 8, "image_size": 34},
        {"seed": 5, "batch_size": 8, "image_size": 17},
        {"seed": 5, "batch_size": 8, "image_size": 17},
        {"seed": 5, "batch_size": 8, "image_size": 17, "counts": "log1p"},
    ]
    by_name = {t[0]: t for t in trained}
    assert by_name["substrate recipe"][1] == [5] and by_name["default, tau 4"][1] == [5, 6]
    train = by_name["+ 17 px"][2]
    assert (train.epochs, train.lr, train.warmup_epochs, train.max_batches) == (12, 5e-3, 1, 2)
    assert by_name["default, tau 4"][3].neuron.tau == 4.0
    assert by_name["default"][3].neuron.tau == 2.0


def test_correct_items_cuts_to_the_items_every_run_predicted():
    targets = np.array([0, 1, 2, 3])
    results = {
        "default": _result(
            "d", _run(0, 0.5, 0.5, 1.0, [0, 1, 0, 0]), _run(1, 0.5, 0.5, 1.0, [0, 0, 2, 3])
        ),
        "other": _result("o", _run(0, 0.5, 0.5, 1.0, [0, 1, 2])),
    }
    preds = run_predictions(results)
    assert preds["other"] == [[0, 1, 2]]
    correct, bar = correct_items(preds, targets, np.array([True, False, True, False]))
    assert correct["default"].tolist() == [[True, True, False], [True, False, True]]
    assert correct["other"].tolist() == [[True, True, True]]
    assert bar.tolist() == [True, False, True]


def _results():
    return {
        "substrate recipe": _result("s", _run(0, 0.6, 0.55, 0.9)),
        "default": _result("d", _run(0, 0.8, 0.80, 0.5), _run(1, 0.7, 0.70, 0.6)),
        "default, tau 4": _result("t", _run(0, 0.9, 0.752, 0.4), _run(1, 0.8, 0.75, 0.4)),
    }


def test_selection_table_picks_on_validation_with_ties_to_the_lowest_loss():
    adopted, table = selection_table(_results(), ["default", "default, tau 4"])
    # means 0.75 and 0.751: tied within half a point; the lower mean loss (0.4) wins
    assert adopted == "default, tau 4"
    assert table.loc["default", "val acc %"] == 75.0
    assert table.loc["default, tau 4", "val acc %"] == 75.1
    assert table.loc["default", "val loss"] == 0.55
    assert table["chosen"].tolist() == [False, True]


def test_accuracy_interval_one_seed_is_wilson_over_items():
    one = _result("s", _run(0, 0.6, 0.5, 1.0))
    first = np.array([[True] * 6 + [False] * 4])
    assert accuracy_interval(one, first, 10)[1:] == wilson_interval(6, 10)
    two = _result("d", _run(0, 0.8, 0.5, 1.0), _run(1, 0.6, 0.5, 1.0))
    assert accuracy_interval(two, first, 10) == t_interval([0.8, 0.6])


def _correct():
    rng = np.random.default_rng(0)
    return {
        "substrate recipe": rng.random((1, 10)) < 0.6,
        "default": rng.random((2, 10)) < 0.8,
        "default, tau 4": rng.random((2, 10)) < 0.85,
    }


def test_ablation_table_rows_and_points():
    results, correct, bar = _results(), _correct(), np.arange(10) < 7
    table, points = ablation_table(results, correct, bar, 10)
    assert list(table.index) == list(results)
    row = table.loc["default"]
    m, lo, hi = t_interval([0.8, 0.7])
    assert row["seeds"] == 2 and row["test acc %"] == round(100 * m, 1)
    assert row["CI low"] == round(100 * lo, 1) and row["CI high"] == round(100 * hi, 1)
    assert row["minus default (seed 0)"] == 0.0
    diff = paired_items(correct["default, tau 4"], bar)["diff"]
    assert table.loc["default, tau 4", "minus logistic"] == round(100 * diff, 1)
    assert table.loc["substrate recipe", "train s"] == 2.0
    assert len(points) == 5 and points["acc"].max() == 90.0
    fig = ablation_figure(table, points, 0.7, bar, 10)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(results)
    plt.close(fig)


def test_metrics_glue_values_and_artifacts():
    results, correct, bar_correct = _results(), _correct(), np.arange(10) < 7
    adopted, selection = selection_table(results, ["default", "default, tau 4"])
    table, _ = ablation_table(results, correct, bar_correct, 10)
    network = SimpleNamespace(test_acc=0.7, to_dict=lambda: {"C": 0.1})
    grid = SimpleNamespace(test_acc=0.65, to_dict=lambda: {"C": 1.0})
    bars = LogisticBars({17: network, 34: grid}, network, grid)
    m = nmnist_metrics(results, adopted, correct, bars, bar_correct, selection, 10)
    versus = paired_items(correct[adopted], bar_correct)
    assert m["test_acc"] == pytest.approx(0.85) and m["test_accs"] == [0.9, 0.8]
    assert m["logistic_acc"] == 0.7 and m["logistic_acc_sensor_grid"] == 0.65
    assert m["logistic_acc_ci95"] == list(wilson_interval(7, 10))
    assert m["snn_minus_logistic"] == versus["diff"]
    assert m["mcnemar_p_seed0"] == versus["mcnemar"]["p"]
    assert m["substrate_recipe_acc"] == 0.6 and m["default_acc"] == pytest.approx(0.75)
    assert m["selection"][1]["candidate"] == "default, tau 4" and m["n_test"] == 10
    assert m["variants"]["default"] == [0.8, 0.7]

    values = nmnist_glue_values(
        m, table, n_seeds=2, n_train=900, data_source="embedded", recipe=NEW, n_candidates=2
    )
    assert values["snn_acc"] == pytest.approx(85.0) and values["lr34_acc"] == 65.0
    assert values["lr_hi"] == 100 * wilson_interval(7, 10)[1]
    assert values["acc_default_tau_4"] == table.loc["default, tau 4", "test acc %"]
    assert values["adopted"] == "the default with tau 4" and values["epochs"] == 30
    glued = glue_all(values)
    figures_and_tables = {"frames_fig", "ablation_fig", "ablation_table", "selection_table"}
    shown_variants = {k for k in page_keys("01_nmnist_pipeline") if k.startswith("acc_")}
    wanted = page_keys("01_nmnist_pipeline") - figures_and_tables - shown_variants
    assert wanted and wanted <= set(glued)
    assert {variant_key(n) for n in ("+ 17 px", "+ 30 epochs", "default, tau 4")} <= shown_variants

    art = nmnist_artifacts({"source": "x"}, {"default": dict(NEW, seeds=2)}, results, bars, table)
    assert art["logistic"] == {"17": {"C": 0.1}, "34": {"C": 1.0}}
    assert art["table"][0]["variant"] == "substrate recipe"
    json.dumps(art)  # a result file holds it
    assert not math.isnan(m["snn_minus_logistic_p_boot"])


def test_variant_key_follows_the_pages():
    assert variant_key("substrate recipe") == "acc_substrate_recipe"
    assert variant_key("default, merged polarity") == "acc_default_merged_polarity"
