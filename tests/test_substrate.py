import json

import pytest
import torch

from snnlib.book.results import ResultRun, read_result, result_path
from snnlib.book.scales import pick_scale
from snnlib.encoding import Encoder
from snnlib.models import SpikingCNN, count_parameters
from snnlib.runtime import resolve_device, seed_everything
from snnlib.spikes import E_AC_PJ, E_MAC_PJ, SpikeMonitor
from snnlib.train import TrainConfig, fit
from snnlib.validation import ConfigError


def test_encoders_shapes_and_values():
    x = torch.rand(5, 1, 6, 6)
    d = Encoder("direct", 3)(x)
    assert d.shape == (3, 5, 1, 6, 6) and torch.equal(d[2], x)
    p = Encoder("poisson", 50, torch.Generator().manual_seed(0))(x)
    assert set(p.unique().tolist()) <= {0.0, 1.0}
    # a pixel at the image maximum fires always, at the minimum never
    flat = x.flatten(1)
    assert p.mean(0).flatten(1).gather(1, flat.argmax(1, keepdim=True)).eq(1).all()
    assert p.mean(0).flatten(1).gather(1, flat.argmin(1, keepdim=True)).eq(0).all()
    ev = torch.rand(5, 4, 2, 6, 6)
    assert torch.equal(Encoder("events", 4)(ev)[1], ev[:, 1])
    with pytest.raises(ConfigError, match="encoding"):
        Encoder("latency", 3)


def test_spike_monitor_counts_nos_sops_and_energy_exactly():
    # one LIF feeding one linear layer; input currents chosen so the spikes are known
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            from snnlib.neurons import LIF, NeuronConfig

            self.lif = LIF(NeuronConfig(beta=0.0, threshold=0.5))
            self.fc = torch.nn.Linear(4, 3)

        def forward(self, x):
            return self.fc(self.lif(x)).mean(0)

    net = Net()
    x = torch.tensor([[[1.0, 0.0, 1.0, 0.0]], [[1.0, 1.0, 0.0, 0.0]]])  # T=2, B=1, N=4
    x = x.repeat(1, 2, 1)  # B=2
    with SpikeMonitor(net) as mon:
        net(x)
    r = mon.report()
    assert r.images == 2
    assert r.nos == pytest.approx(4.0)  # 2 + 2 spikes per image over T
    assert r.mean_firing_rate == pytest.approx(4 / 8)
    # SOPs: dense MACs per image = T * 3 * 4 = 24, input density 0.5 -> 12 accumulates
    assert r.sops == pytest.approx(12.0) and r.macs == 0
    assert r.energy_uj == pytest.approx(12 * E_AC_PJ * 1e-6)
    # after the context the recorder is detached: no further counting
    net(x)
    assert mon.report().nos == pytest.approx(4.0)


def test_first_layer_with_analog_input_counts_macs():
    m = SpikingCNN(1, 10, width=4)
    with SpikeMonitor(m) as mon:
        m(Encoder("direct", 2)(torch.rand(3, 1, 8, 8)))
    r = mon.report()
    stem_macs = 2 * 4 * 8 * 8 * 9  # T * C_out * H * W * k*k*C_in (analog image in)
    head_macs = 2 * 10 * 16  # T * classes * C: pooled rates are not binary spikes
    assert r.macs == pytest.approx(stem_macs + head_macs)
    assert r.energy_uj == pytest.approx((E_AC_PJ * r.sops + E_MAC_PJ * r.macs) * 1e-6)
    assert len(r.spikes_per_layer) == 5  # four SpikingConv LIFs + head LIF


def test_training_loss_falls_and_is_reproducible():
    def run():
        seed_everything(0)
        g = torch.Generator().manual_seed(0)
        x = torch.randn(96, 1, 8, 8, generator=g)
        y = (x[:, 0, :4].mean((1, 2)) > x[:, 0, 4:].mean((1, 2))).long()  # learnable rule
        dl = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(x, y),
            batch_size=32,
            shuffle=True,
            generator=torch.Generator().manual_seed(0),
        )
        model = SpikingCNN(1, 2, width=4)
        return fit(
            model, dl, dl, Encoder("direct", 2), TrainConfig(epochs=8, lr=1e-2), progress=False
        )

    h1, h2 = run(), run()
    assert h1.train_loss[-1] < 0.8 * h1.train_loss[0]
    assert h1.val_acc[-1] > 0.75
    assert h1.train_loss == h2.train_loss


def test_result_file_contract(tmp_path):
    params = dict(scale="smoke", dataset="digits", seed=3, device="cpu")
    run = ResultRun("00_substrate", params, device_name="cpu")
    path = run.write(
        {"test_acc": 0.5, "curve": torch.tensor([1.0, float("nan")])}, architecture={"a": 1}
    )
    assert path == result_path("00_substrate", "digits", "smoke", 3)
    assert path.name == "00_substrate__digits__smoke__seed3.json"
    data = read_result(path)
    assert data["params"] == params
    assert data["metrics"]["curve"] == [1.0, None]
    prov = data["provenance"]
    for key in (
        "git_commit",
        "snnlib",
        "torch",
        "snntorch",
        "tonic",
        "device",
        "start_utc",
        "end_utc",
        "wall_seconds",
    ):
        assert key in prov
    assert data["identity"]["record"] == params and len(data["identity"]["hash"]) == 8
    assert not list(path.parent.glob("*.tmp"))
    # a parameter the notebook does not declare has no default: the name gains its hash
    other = ResultRun("00_substrate", {**params, "extra": 1}).path.name
    assert other.startswith("00_substrate__digits__smoke__seed3__") and len(other) == 49
    with pytest.raises(ConfigError, match="seed"):
        ResultRun("x", dict(scale="smoke", dataset="digits", device="cpu"))
    json.loads(path.read_text())


def test_scale_and_device_validation():
    assert pick_scale("cpu", {"smoke": 1, "cpu": 2, "paper": 3}) == 2
    with pytest.raises(ConfigError, match="scale='big'.*smoke"):
        pick_scale("big", {"smoke": 1, "cpu": 2, "paper": 3})
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ConfigError, match="device"):
        resolve_device("tpu")


def test_count_parameters():
    assert count_parameters(torch.nn.Linear(3, 2)) == 8
