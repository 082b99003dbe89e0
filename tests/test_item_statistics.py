"""Intervals and paired tests on the items of one test set, the linear baseline, and the
reference network retrained through the common path (checked against scipy / scikit-learn)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from torch.utils.data import DataLoader, TensorDataset

from snnlib.encoding import Encoder
from snnlib.linear_probe import logistic_baseline
from snnlib.models import SpikingCNN
from snnlib.nas.reference import ReferenceCNN
from snnlib.nas.retrain import RetrainBudget, _example_budget, retrain
from snnlib.nas.statistics import (
    mcnemar_exact,
    paired_by_seed,
    paired_items,
    t_interval,
    wilson_interval,
)
from snnlib.train import TrainConfig, evaluate
from snnlib.validation import ConfigError


@pytest.mark.parametrize(("k", "n"), [(93, 100), (50, 100), (100, 100), (3, 17)])
def test_wilson_interval_equals_scipys(k, n):
    ref = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert wilson_interval(k, n) == pytest.approx((ref.low, ref.high), abs=1e-12)


def test_t_interval_equals_scipys():
    x = [0.91, 0.93, 0.95, 0.90]
    m, lo, hi = t_interval(x)
    ref = stats.t.interval(0.95, 3, loc=np.mean(x), scale=stats.sem(x))
    assert (lo, hi) == pytest.approx(ref) and m == pytest.approx(0.9225)
    d = paired_by_seed([0.93, 0.95, 0.94], [0.90, 0.91, 0.93])
    assert d["diff"] == pytest.approx(0.08 / 3)
    assert d["t_p"] == pytest.approx(stats.ttest_rel([0.93, 0.95, 0.94], [0.90, 0.91, 0.93]).pvalue)


def test_mcnemar_counts_only_disagreements():
    a = np.array([1] * 10 + [0] * 2 + [1] * 80 + [0] * 8, bool)
    b = np.array([0] * 10 + [1] * 2 + [1] * 80 + [0] * 8, bool)
    r = mcnemar_exact(a, b)
    assert (r["a_only"], r["b_only"]) == (10, 2)
    assert r["p"] == pytest.approx(stats.binomtest(10, 12, 0.5).pvalue)
    assert mcnemar_exact(b, a)["p"] == pytest.approx(r["p"])
    assert mcnemar_exact(a, a) == {"a_only": 0, "b_only": 0, "p": 1.0}


def test_paired_items_interval_reflects_the_difference():
    rng = np.random.default_rng(0)
    base = rng.random(200) < 0.8
    same = paired_items(base, base)
    assert same["diff"] == 0 and same["lo"] == 0 and same["hi"] == 0 and same["p_boot"] == 1
    better = base.copy()
    better[np.flatnonzero(~base)[:30]] = True  # 30 more items right, none lost
    r = paired_items(np.stack([better, better]), base)
    assert r["diff"] == pytest.approx(0.15) and 0.09 < r["lo"] < 0.15 < r["hi"] < 0.21
    assert r["p_boot"] < 0.001 and r["mcnemar"]["a_only"] == 30 and r["n_seeds"] == (2, 1)
    with pytest.raises(ValueError, match="items differ"):
        paired_items(base, base[:10])


def _toy(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = torch.randn(n, 1, 4, 4, generator=g) * 0.5 + y.view(-1, 1, 1, 1).float()
    return TensorDataset(x, y)


def test_logistic_baseline_is_sklearns_fit_at_the_chosen_setting():
    from sklearn.linear_model import LogisticRegression

    tr, va, te = _toy(60, 0), _toy(30, 1), _toy(30, 2)
    b = logistic_baseline(tr, va, te, Cs=(0.001, 1.0), standardize=(False,))
    assert b.C in (0.001, 1.0) and not b.standardize and b.features == 16
    ref = LogisticRegression(C=b.C, max_iter=3000).fit(
        tr.tensors[0].flatten(1).double(), tr.tensors[1]
    )
    pred = ref.predict(te.tensors[0].flatten(1).double())
    assert np.array_equal(b.test_predictions, pred)
    assert b.test_acc == pytest.approx((pred == te.tensors[1].numpy()).mean())
    with pytest.raises(ConfigError, match="Cs"):
        logistic_baseline(tr, va, te, Cs=(0.0,))


def test_evaluate_returns_the_predictions_behind_its_accuracy():
    torch.manual_seed(0)
    loader = DataLoader(_toy(20), batch_size=8)
    ev = evaluate(SpikingCNN(1, 3, width=4), loader, Encoder("direct", 2), predictions=True)
    y = torch.cat([b[1] for b in loader]).numpy()
    assert len(ev["predictions"]) == 20
    assert ev["acc"] == pytest.approx((ev["predictions"] == y).mean())
    assert "predictions" not in evaluate(SpikingCNN(1, 3, width=4), loader, Encoder("direct", 2))


def test_reference_cnn_retrains_reproducibly_and_keeps_predictions_on_request():
    budget = _example_budget()
    a = retrain(ReferenceCNN(width=2), budget, seeds=[0, 1])
    b = retrain(ReferenceCNN(width=2), budget, seeds=[0, 1])
    assert a.test_accs == b.test_accs and a.architecture == "reference-cnn-w2"
    assert "predictions" not in a.runs[0].to_dict()  # result files stay as they were
    keep = RetrainBudget(
        TrainConfig(epochs=1),
        budget.loaders,
        budget.encoder,
        budget.in_channels,
        budget.num_classes,
        progress=False,
        keep_predictions=True,
    )
    run = retrain(ReferenceCNN(width=2), keep, seeds=[0]).runs[0]
    assert len(run.predictions) == 16 and run.test_acc == a.runs[0].test_acc


def test_paired_items_chunked_bootstrap_equals_one_draw():
    """Large test sets are resampled in chunks; the interval must be that of one big draw."""
    rng = np.random.default_rng(3)
    n, n_boot = 5_000, 1_000  # chunks of 800 resamples
    a = rng.random(n) < 0.6
    b = rng.random(n) < 0.55
    r = paired_items(a, b, n_boot=n_boot, seed=11)
    per_item = a.astype(float) - b.astype(float)
    boots = per_item[np.random.default_rng(11).integers(0, n, size=(n_boot, n))].mean(1)
    lo, hi = np.quantile(boots, [0.025, 0.975])
    assert r["lo"] == pytest.approx(lo, abs=1e-12)
    assert r["hi"] == pytest.approx(hi, abs=1e-12)
    assert r["diff"] == pytest.approx(per_item.mean())
