"""The native (C) LIF kernel equals the fused backend bit for bit; the fixed SNN's
channels-last layout equals NCHW to rounding and stays deterministic.

Why channels-last is the fixed SNN's alone: with torch 2.14.1 on one thread, ::

    conv = torch.nn.Conv2d(4, 2, 1, 2, bias=False)      # 1 x 1, stride 2, few channels
    x = torch.rand(3, 4, 16, 16).contiguous(memory_format=torch.channels_last)
    conv(x.requires_grad_()).sum().backward()           # "corrupted size vs. prev_size"

aborts the process (oneDNN's backward), and DARTS's FactorizedReduce is such a convolution.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from snnlib import native
from snnlib.kernels import get_lif_backend, lif_backend, memory_order
from snnlib.layers import channels_last
from snnlib.models import SpikingCNN
from snnlib.neurons import LIF, NeuronConfig

needs_native = pytest.mark.skipif(not native.available(), reason="no C compiler here")


def test_default_backend_is_native():
    assert get_lif_backend() == "native"


def _run(backend, cfg, x, w):
    lif = LIF(cfg)
    xi = x.detach().clone().requires_grad_()
    with lif_backend(backend):
        s = lif(xi)
    (s * w).sum().backward()
    return s.detach(), xi.grad, lif.beta.grad


@needs_native
@pytest.mark.parametrize("reset", ["zero", "subtract", "none"])
@pytest.mark.parametrize("learn_beta", [False, True])
@pytest.mark.parametrize("T", [1, 2, 6])
def test_native_equals_fused_bit_for_bit(reset, learn_beta, T):
    torch.manual_seed(0)
    x = torch.randn(T, 3, 4, 5, 7) * 1.2
    w = torch.randn_like(x)
    cfg = NeuronConfig(beta=0.7, threshold=0.6, reset=reset, learn_beta=learn_beta)
    (s1, g1, b1), (s2, g2, b2) = _run("native", cfg, x, w), _run("fused", cfg, x, w)
    assert torch.equal(s1, s2) and torch.equal(g1, g2)
    if T > 1:
        assert 0 < float(s1.mean()) < 1 and g1.abs().sum() > 0
    if learn_beta:
        assert torch.equal(b1, b2)


@needs_native
def test_native_keeps_channels_last_layout_and_values():
    torch.manual_seed(1)
    x = torch.randn(4, 3, 5, 6, 7)
    xc = x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)  # channels-last strides
    assert memory_order(xc) == [0, 1, 3, 4, 2]
    w = torch.randn_like(x)
    cfg = NeuronConfig()
    (s1, g1, _), (s2, g2, _) = _run("native", cfg, xc, w), _run("fused", cfg, x, w)
    assert torch.equal(s1, s2) and torch.equal(g1, g2)
    assert s1.stride() == xc.stride()


@needs_native
def test_native_threads_split_neurons_alike(monkeypatch):
    """Chunks over threads change nothing: the kernel does no reduction."""
    torch.manual_seed(2)
    x, w = torch.randn(5, 300_000), torch.randn(5, 300_000)
    one = _run("native", NeuronConfig(), x, w)
    monkeypatch.setattr(native, "MIN_CHUNK", 1000)
    threads = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        three = _run("native", NeuronConfig(), x, w)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one[0], three[0]) and torch.equal(one[1], three[1])


def test_native_falls_back_silently(tmp_path):
    """Without a compiler the native backend is the fused one, with no warning."""
    code = (
        "import warnings, torch; warnings.simplefilter('error');"
        "from snnlib import native; from snnlib.neurons import LIF;"
        "x = torch.rand(3, 2, 5, requires_grad=True); LIF()(x).sum().backward();"
        "print(native.available())"
    )
    env = {"SNNLIB_KERNEL_CACHE": str(tmp_path), "CC": "no-such-compiler", "PATH": "/usr/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "False" and not list(tmp_path.iterdir())


def test_float64_and_other_surrogates_use_the_eager_path():
    x = torch.rand(4, 2, 3, dtype=torch.float64) * 1.5
    assert LIF()(x).dtype == torch.float64
    x32 = (torch.rand(4, 2, 3) * 1.5).requires_grad_()
    s = LIF(NeuronConfig(surrogate="atan"))(x32)
    s.sum().backward()
    assert x32.grad is not None


def _train_step(seed: int, cl: bool):
    torch.manual_seed(seed)
    net = SpikingCNN(3, 10, width=8)
    x = torch.randn(4, 8, 3, 16, 16) * 2
    y = torch.arange(8) % 10
    with channels_last(cl):
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
    return loss.detach(), [p.grad.clone() for p in net.parameters()]


def test_spiking_cnn_runs_channels_last_and_searched_networks_stay_nchw():
    from snnlib.layers import to_channels_last

    x = torch.rand(2, 3, 3, 8, 8)
    assert to_channels_last(x).flatten(0, 1).is_contiguous(memory_format=torch.channels_last)
    with channels_last(False):
        assert to_channels_last(x) is x
    seen = []
    net = SpikingCNN(3, 10, width=4)
    net.features[0].body.register_forward_hook(lambda m, a, o: seen.append(a[0]))
    net(x)
    assert seen[0].flatten(0, 1).is_contiguous(memory_format=torch.channels_last)


def test_channels_last_matches_nchw_to_rounding_and_is_deterministic():
    l1, g1 = _train_step(0, True)
    l1b, g1b = _train_step(0, True)
    l2, g2 = _train_step(0, False)
    assert torch.equal(l1, l1b) and all(torch.equal(a, b) for a, b in zip(g1, g1b))
    assert torch.allclose(l1, l2, rtol=1e-5, atol=1e-6)
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-5)
