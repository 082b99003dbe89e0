"""MSE-NAS experiment helpers: noise models of the robustness study, tensor data, training."""

import numpy as np
import pytest
import torch

from snnlib.encoding import Encoder
from snnlib.models import SpikingCNN
from snnlib.mse.decode import NetConfig
from snnlib.mse.experiment import (
    NoisyEncoder,
    TensorData,
    _shift,
    corrupt,
    retrain_on,
    robustness,
    train_and_measure,
    train_genome,
    train_once,
)
from snnlib.mse.fitness import DataSpec
from snnlib.mse.genome import SearchSpace, random_genome
from snnlib.nas.reference import ReferenceCNN
from snnlib.nas.retrain import RetrainResult
from snnlib.train import TrainConfig
from snnlib.validation import ConfigError


def test_gaussian_noise_level_and_reproducibility():
    x = torch.zeros(200, 1, 8, 8)
    y = corrupt(x, "gaussian", 0.5, torch.Generator().manual_seed(0))
    assert y.std().item() == pytest.approx(0.5, rel=0.05)
    assert torch.equal(y, corrupt(x, "gaussian", 0.5, torch.Generator().manual_seed(0)))
    assert corrupt(x, "gaussian", 0.0, torch.Generator()) is x


def test_event_drop_thins_counts():
    x = torch.full((20, 4, 2, 8, 8), 3.0)
    g = torch.Generator().manual_seed(1)
    assert corrupt(x, "drop", 1.0, g).sum() == 0
    half = corrupt(x, "drop", 0.5, g)
    assert half.sum().item() == pytest.approx(0.5 * x.sum().item(), rel=0.05)
    assert (half <= x).all() and (half == half.round()).all()
    with pytest.raises(ConfigError, match="event frames"):
        corrupt(torch.zeros(2, 1, 8, 8), "drop", 0.5, g)
    with pytest.raises(ConfigError, match="noise"):
        corrupt(x, "blur", 0.5, g)


def test_jitter_shifts_frames():
    f = torch.zeros(2, 5, 5)
    f[:, 2, 2] = 1
    assert _shift(f, 1, -2)[:, 3, 0].tolist() == [1.0, 1.0]
    assert _shift(f, -3, 0).sum() == 0  # moved out of the frame
    x = torch.zeros(3, 4, 2, 8, 8)
    x[..., 3:5, 3:5] = 1
    j = corrupt(x, "jitter", 1, torch.Generator().manual_seed(0))
    assert j.shape == x.shape
    assert j.sum() == x.sum()  # a shift of at most 1 keeps the centred blob inside
    assert not torch.equal(j, x)


def test_noisy_encoder_and_training_helpers():
    y = torch.arange(4).repeat_interleave(6)
    x = torch.randn(len(y), 1, 16, 16) + y[:, None, None, None]
    data = TensorData("toy", DataSpec(1, 4, "direct", 2), (x, y), (x, y), (x, y))
    enc = NoisyEncoder(Encoder("direct", 2), "gaussian", 0.3, seed=0)
    assert enc(x).shape == (2, len(y), 1, 16, 16)
    g = random_genome(np.random.default_rng(0), SearchSpace(n_cells=3))
    out, model = train_genome(
        g,
        data,
        NetConfig(width=4, stem_stride=2),
        TrainConfig(epochs=1, max_batches=2),
        batch_size=8,
        seed=0,
        progress=False,
        return_model=True,
    )
    assert 0 <= out.test_acc <= 1 and out.nos > 0 and out.params > 0
    again = train_genome(
        g,
        data,
        NetConfig(width=4, stem_stride=2),
        TrainConfig(epochs=1, max_batches=2),
        batch_size=8,
        seed=0,
        progress=False,
    )
    assert again.test_acc == out.test_acc and again.nos == out.nos
    accs = robustness(model, data, "gaussian", [0.0, 5.0], seed=0)
    assert len(accs) == 2 and accs == robustness(model, data, "gaussian", [0.0, 5.0], seed=0)


def test_cnn_baseline_over_seeds_is_the_notebooks_cnn_run():
    """ReferenceCNN retrained over seeds gives, run by run, what the notebooks computed before
    (``torch.manual_seed(s)``, a SpikingCNN, :func:`train_and_measure` at seed ``s``)."""
    y = torch.arange(4).repeat_interleave(6)
    x = torch.randn(len(y), 1, 16, 16, generator=torch.Generator().manual_seed(1))
    data = TensorData(
        "toy", DataSpec(1, 4, "direct", 2), (x + y[:, None, None, None], y), (x, y), (x, y)
    )
    cfg = TrainConfig(epochs=1, max_batches=2)
    result = retrain_on(ReferenceCNN(4), data, [0, 1], cfg, batch_size=8, progress=False)
    assert isinstance(result, RetrainResult) and result.seeds == [0, 1]
    assert result.architecture == "reference-cnn-w4"
    for s, run in zip([0, 1], result.runs):
        torch.manual_seed(s)
        old = train_and_measure(SpikingCNN(1, 4, width=4), data, cfg, 8, s, progress=False)
        assert (run.test_acc, run.nos, run.energy_uj, run.params) == (
            old.test_acc,
            old.nos,
            old.energy_uj,
            old.params,
        )
        assert run.history["val_acc"] == old.history["val_acc"]
    run, model = train_once(ReferenceCNN(4), data, cfg, 8, 0, progress=False)
    assert run.test_acc == result.runs[0].test_acc and isinstance(model, SpikingCNN)
    with pytest.raises(ConfigError):
        retrain_on(ReferenceCNN(4), data, [0, 0], cfg, batch_size=8, progress=False)
