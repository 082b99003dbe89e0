"""The transfer experiment (snnlib.transfer) as one RetrainResult over seeds: the same numbers
as the training it replaced, every test set's accuracy per run, and the earlier interface as a
view of the same runs."""

import math

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from snnlib.encoding import Encoder
from snnlib.models import SpikingCNN
from snnlib.runtime import seed_everything
from snnlib.seed_runs import RetrainResult, RetrainRun
from snnlib.train import TrainConfig, evaluate, fit
from snnlib.transfer import (
    frames_record,
    frames_run,
    retrain_frames,
    set_accuracies,
)
from snnlib.validation import ConfigError

CFG = TrainConfig(epochs=2, lr=1e-2)


def _frames():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(40) % 2
    x = torch.rand(40, 2, 2, 8, 8, generator=g)
    x[y == 1, :, 1] += 2.0  # class 1: many ON events
    return x, y, {"same": (x, y), "flipped": (x.flip(2), y)}


def _old_train_on_frames(x, y, tests, seed, width=4, batch_size=8):
    """``train_on_frames`` as it was before the RetrainResult: seed, build, fit, evaluate."""
    seed_everything(seed)
    model = SpikingCNN(int(x.shape[2]), 2, width=width)
    encoder = Encoder("events", int(x.shape[1]))
    loader = DataLoader(
        TensorDataset(x.float(), y.long()),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    hist = fit(model, loader, None, encoder, CFG, progress=False)
    accs = {}
    for name, (tx, ty) in tests.items():
        test_loader = DataLoader(TensorDataset(tx.float(), ty.long()), batch_size=256)
        accs[name] = float(evaluate(model, test_loader, encoder)["acc"])
    return accs, float(hist.train_acc[-1])


def test_frames_runs_reproduce_the_earlier_training_bit_for_bit():
    x, y, tests = _frames()
    result = retrain_frames(x, y, tests, [3, 4], width=4, train=CFG, batch_size=8)
    assert isinstance(result, RetrainResult) and result.seeds == [3, 4]
    for seed, run in zip([3, 4], result.runs):
        accs, train_acc = _old_train_on_frames(x, y, tests, seed)
        assert run.extra["test_accs"] == accs and run.extra["train_acc"] == train_acc
        assert run.test_acc == accs["same"]  # the run is measured on the first test set
        assert run.nos > 0 and run.params > 0
    assert set_accuracies(result, "flipped") == [
        r.extra["test_accs"]["flipped"] for r in result.runs
    ]
    assert result.values("train_acc") == [r.extra["train_acc"] for r in result.runs]
    assert set_accuracies(result, "same")[0] > 0.9
    with pytest.raises(ConfigError, match="no test set 'real'"):
        set_accuracies(result, "real")


def test_a_run_as_the_result_file_keeps_it():
    x, y, tests = _frames()
    run = frames_run(x, y, tests, seed=3, width=4, train=CFG, batch_size=8)
    rec = frames_record(run)
    assert rec == {
        "seed": 3,
        "test_acc": run.extra["test_accs"],
        "train_acc": run.extra["train_acc"],
        "seconds": run.history["seconds"],
    }
    assert set(rec["test_acc"]) == {"same", "flipped"}


def test_bad_input_is_refused_naming_it():
    x, y, tests = _frames()
    with pytest.raises(ConfigError, match="frames"):
        frames_run(x[:, 0], y, tests, seed=0)
    with pytest.raises(ConfigError, match="test set"):
        frames_run(x, y, {}, seed=0)
    with pytest.raises(ConfigError, match="seeds"):
        retrain_frames(x, y, tests, [])
    with pytest.raises(ConfigError, match="seeds"):
        retrain_frames(x, y, tests, "01")


def test_retrain_run_extra_measures():
    run = RetrainRun(0, 0.5, 0.3, None, None, 1.0, 0.1, 2.0, 0.0, 0.01, 10, 1.0, 0.5, {})
    assert "extra" not in run.to_dict() and run.total_seconds == 1.5
    run.extra["train_acc"] = 0.75
    assert run.measure("train_acc") == 0.75 and run.to_dict()["extra"] == {"train_acc": 0.75}
    assert run.measure("nos") == 1.0
    with pytest.raises(ConfigError, match="no measure 'top5'"):
        run.measure("top5")
    with pytest.raises(ConfigError):
        run.measure("extra")
    result = RetrainResult("toy", [run])
    assert result.values("train_acc") == [0.75] and result.mean("test_acc") == 0.5
    assert math.isclose(result.mean("train_acc"), 0.75)
