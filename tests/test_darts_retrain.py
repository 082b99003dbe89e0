"""Seed-averaged retraining: aggregation rules, and that one seed is exactly train_genotype."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from snnlib.darts import random_genotype, train_genotype, train_genotype_seeds
from snnlib.darts.retrain import seed_averaged
from snnlib.encoding import Encoder
from snnlib.nas.retrain import SEED_AVERAGED, RetrainResult, RetrainRun
from snnlib.nas.statistics import cell_effect
from snnlib.train import TrainConfig


def _fake_run(seed):
    acc = {0: 0.90, 1: 0.94, 2: 0.92}[seed]
    return RetrainRun(
        seed=seed,
        test_acc=acc,
        test_loss=1.0 - acc,
        val_acc=acc,
        best_val_acc=acc,
        nos=100.0 * (seed + 1),
        firing_rate=0.1,
        sops=10.0,
        macs=5.0,
        energy_uj=0.5 + seed,
        params=123,
        seconds=2.0,
        test_seconds=0.1,
        history={"seed": seed},
        spike_groups={"cell0": float(seed), "head": 1.0},
    )


def test_seed_average_aggregates_each_field():
    r = seed_averaged(RetrainResult("toy", [_fake_run(s) for s in (0, 1, 2)]))
    tail = ["nos_per_cell", "test_acc_sd", "params", "seconds", "seeds", "test_accs", "history"]
    assert list(r) == [*SEED_AVERAGED, *tail]  # the keys (and order) notebook 21 writes
    assert r["test_acc"] == pytest.approx(0.92)
    assert r["test_acc_sd"] == pytest.approx(0.02)  # sample sd of 0.90, 0.94, 0.92
    assert r["test_accs"] == [0.90, 0.94, 0.92] and r["seeds"] == [0, 1, 2]
    assert r["nos"] == pytest.approx(200.0) and r["energy_uj"] == pytest.approx(1.5)
    assert r["nos_per_cell"] == {"cell0": pytest.approx(1.0), "head": pytest.approx(1.0)}
    assert r["seconds"] == pytest.approx(6.0) and r["params"] == 123
    assert r["history"] == {"seed": 0}
    one = seed_averaged(RetrainResult("toy", [_fake_run(1)]))
    assert one["test_acc"] == 0.94 and one["test_acc_sd"] == 0.0
    with pytest.raises(ValueError, match="seeds"):
        train_genotype_seeds(random_genotype(0), [])


def _tiny_retraining(n: int, classes: int, seed: int, val: bool) -> tuple[dict, torch.Tensor]:
    """The keywords of train_genotype for a tiny 8x8 task of ``n`` images, and its labels."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 8, 8, generator=g)
    y = torch.arange(n) % classes
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    loaders = (
        {"train": loader, "val": loader, "test": loader}
        if val
        else {"train": loader, "test": loader}
    )
    kw = dict(
        in_channels=1,
        num_classes=classes,
        loaders=loaders,
        encoder=Encoder("direct", 2),
        train_cfg=TrainConfig(epochs=1, lr=5e-3),
        C=2,
        layers=3,
        time_steps=2,
        attention="none",
        progress=False,
    )
    return kw, y


def test_one_seed_is_exactly_train_genotype():
    kw, _ = _tiny_retraining(n=48, classes=3, seed=0, val=True)
    geno = random_genotype(1)
    single = train_genotype(geno, seed=5, **kw)
    averaged = train_genotype_seeds(geno, [5], **kw)
    assert averaged["test_acc"] == single["test_acc"] and averaged["nos"] == pytest.approx(
        single["nos"]
    )
    assert "predictions" not in single and "predictions" not in averaged


def test_kept_predictions_give_the_test_accuracy_of_every_seed():
    """keep_predictions: per seed, the test predictions in loader order; their agreement with
    the labels is the reported test accuracy (what the paired comparisons rely on)."""
    kw, y = _tiny_retraining(n=40, classes=4, seed=1, val=False)
    kw["keep_predictions"] = True
    r = train_genotype_seeds(random_genotype(2), [0, 1], **kw)
    assert len(r["predictions"]) == 2 and all(len(p) == 40 for p in r["predictions"])
    for preds, acc in zip(r["predictions"], r["test_accs"]):
        assert np.mean(np.asarray(preds) == y.numpy()) == pytest.approx(acc)
    single = train_genotype(random_genotype(2), seed=1, **kw)
    assert single["predictions"] == r["predictions"][1]  # the same seed, the same run


def test_cell_effect_matches_scipy_anova_and_separates_real_differences():
    from scipy.stats import f_oneway

    rng = np.random.default_rng(0)
    same = [list(0.95 + 0.01 * rng.standard_normal(3)) for _ in range(7)]  # seed noise only
    apart = [list(0.90 + 0.02 * k + 0.005 * rng.standard_normal(3)) for k in range(5)]
    for groups in (same, apart):
        r = cell_effect(groups)
        ref = f_oneway(*groups)
        assert r["F"] == pytest.approx(ref.statistic) and r["p"] == pytest.approx(ref.pvalue)
        assert r["n_candidates"] == len(groups) and r["n_runs"] == 3 * len(groups)
    assert cell_effect(same)["p"] > 0.05 and cell_effect(apart)["p"] < 1e-6
    # the spread of candidate means expected from seed noise alone: sd_within / sqrt(seeds)
    r = cell_effect(apart)
    assert r["sd_between_from_noise"] == pytest.approx(r["sd_within"] / np.sqrt(3))
    assert r["sd_between"] > 5 * r["sd_between_from_noise"]


def test_cell_effect_needs_two_candidates_and_repeated_seeds():
    assert cell_effect([[0.9, 0.91]])["F"] is None  # one candidate
    assert cell_effect([[0.9], [0.92]])["F"] is None  # no within-candidate variance
    assert cell_effect([[0.9, 0.9], [0.92, 0.92]])["p"] is None  # zero seed noise: F undefined


def test_retrain_genotype_is_the_cores_result_and_the_dicts_are_its_views():
    """retrain_genotype returns the core's RetrainResult; train_genotype_seeds is its
    seed_averaged view and train_genotype the view of its one run (run_dict)."""
    from snnlib.darts.retrain import retrain_genotype, run_dict

    kw, _ = _tiny_retraining(n=32, classes=2, seed=2, val=False)
    geno = random_genotype(3)
    result = retrain_genotype(geno, [0, 1], **kw)
    assert isinstance(result, RetrainResult) and result.seeds == [0, 1]
    averaged = train_genotype_seeds(geno, [0, 1], **kw)
    assert averaged["test_accs"] == result.test_accs
    assert averaged["test_acc"] == pytest.approx(result.test_acc)
    assert averaged["nos"] == pytest.approx(result.nos)
    single = train_genotype(geno, seed=1, **kw)
    one = run_dict(result.runs[1])
    assert single["test_acc"] == one["test_acc"] and single["nos_per_cell"] == one["nos_per_cell"]
    assert set(single) == set(one)
