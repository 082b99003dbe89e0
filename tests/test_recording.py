"""Every spike tap (SpikeRecorder, SpikeMonitor, ResponseRecorder) sees the same spikes,
refuses to nest, and leaves the model untapped afterwards (also after an error)."""

import pytest
import torch

from snnlib.models import SpikingCNN
from snnlib.neurons import LIF
from snnlib.spikes import ResponseRecorder, SpikeMonitor, SpikeRecorder
from snnlib.validation import ConfigError


def _model_and_input():
    torch.manual_seed(0)
    model = SpikingCNN(1, 10, width=4)
    x = torch.rand(3, 5, 1, 8, 8) * 4
    return model, x


def test_all_taps_count_the_same_spikes():
    model, x = _model_and_input()
    with torch.no_grad():
        with SpikeRecorder(model) as rec:
            model(x)
        with SpikeMonitor(model) as mon:
            model(x)
        with ResponseRecorder(model) as resp:
            model(x)
    total = sum(float(s.sum()) for s in rec.spikes.values())
    assert total > 0
    assert sum(float(c.sum()) for c in resp.counts().values()) == total
    assert mon.report().nos * x.shape[1] == pytest.approx(total)
    assert list(rec.spikes) == list(resp.counts())


def test_taps_refuse_to_nest_and_always_detach():
    model, x = _model_and_input()
    lifs = [m for m in model.modules() if isinstance(m, LIF)]
    with SpikeRecorder(model):
        with pytest.raises(ConfigError, match="already has a recorder"):
            SpikeMonitor(model).__enter__()
    assert all(m.recorder is None for m in lifs)
    with pytest.raises(RuntimeError):
        with ResponseRecorder(model):
            raise RuntimeError("boom")
    assert all(m.recorder is None for m in lifs)
