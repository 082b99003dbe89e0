import pytest
import snntorch as snn
import torch

from snnlib.layers import SignFilter, SpikingConv, TimeDistributed
from snnlib.neurons import LIF, SURROGATES, NeuronConfig
from snnlib.validation import ConfigError


def test_constant_input_below_threshold_never_spikes():
    lif = LIF(NeuronConfig(beta=0.5, threshold=1.0, reset="subtract"))
    # steady state of H = 0.5 H + 0.4 is 0.8 < 1: no spike ever
    assert lif(torch.full((20, 2, 3), 0.4)).sum() == 0


def test_spike_exactly_when_membrane_crosses_threshold():
    lif = LIF(NeuronConfig(beta=0.5, threshold=1.0, reset="subtract"))
    s = lif(torch.full((4, 1, 1), 0.9))[:, 0, 0].tolist()
    # H: 0.9, 1.35 (spike), 0.5*1.35+0.9-1 = 0.575, 0.2875+0.9 = 1.1875 (spike)
    assert s == [0.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "reset,expected",
    [
        ("zero", [1.0, 0.0, 1.0, 0.0]),  # H: 1.2 (spike), 0 + 0.6=0.6, 0.3+0.6... see below
        ("none", [1.0, 1.0, 1.0, 1.0]),
    ],
)
def test_reset_modes(reset, expected):
    lif = LIF(NeuronConfig(beta=1.0, threshold=1.0, reset=reset))
    x = torch.tensor([1.2, 0.6, 0.6, 0.3]).view(4, 1, 1)
    # zero: H=1.2 spike -> reset; H=0.6; H=1.2 spike; H=0.3
    # none: H=1.2, 1.8, 2.4, 2.7: always above threshold
    assert lif(x)[:, 0, 0].tolist() == expected


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
def test_matches_snntorch_leaky_stepwise(reset):
    torch.manual_seed(0)
    x = torch.randn(8, 5, 7) * 1.5
    ours = LIF(NeuronConfig(beta=0.7, threshold=1.0, reset=reset, surrogate="atan"))(x)
    leaky = snn.Leaky(
        beta=0.7, threshold=1.0, reset_mechanism=reset, spike_grad=snn.surrogate.atan()
    )
    mem = torch.zeros(5, 7)
    ref = []
    for t in range(8):
        s, mem = leaky(x[t], mem)
        ref.append(s)
    assert torch.equal(ours, torch.stack(ref))
    assert 0 < ours.mean() < 1


@pytest.mark.parametrize("surrogate", sorted(SURROGATES))
def test_surrogate_gradient_is_nonzero(surrogate):
    lif = LIF(NeuronConfig(surrogate=surrogate, threshold=0.5))
    x = (torch.rand(4, 3, 10) * 0.8).requires_grad_()
    lif(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_triangle_surrogate_shape():
    x = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0], requires_grad=True)
    y = SURROGATES["triangle"](alpha=2.0)(x)
    y.sum().backward()
    assert y.tolist() == [0, 0, 0, 1, 1]
    assert x.grad.tolist() == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0])


def test_state_is_reset_at_every_forward():
    lif = LIF(NeuronConfig(beta=0.9, threshold=1.0))
    x = torch.full((3, 1, 4), 0.6)
    assert torch.equal(lif(x), lif(x))


def test_step_agrees_with_forward():
    torch.manual_seed(1)
    lif = LIF(NeuronConfig(beta=0.8, threshold=0.7, reset="subtract"))
    x = torch.randn(6, 2, 3)
    state, steps = None, []
    for t in range(6):
        s, state = lif.step(x[t], state)
        steps.append(s)
    assert torch.equal(torch.stack(steps), lif(x))


def test_tau_sets_decay_and_bad_values_are_named():
    assert NeuronConfig(tau=2.0).decay == 0.5
    assert NeuronConfig(tau=4.0, beta=0.2).decay == 0.2
    with pytest.raises(ConfigError, match="neuron.reset"):
        NeuronConfig(reset="soft")
    with pytest.raises(ConfigError, match="neuron.surrogate"):
        NeuronConfig(surrogate="magic")
    with pytest.raises(ConfigError, match="time-major"):
        LIF()(torch.ones(3))


def test_sign_filters_and_time_distributed():
    x = torch.tensor([-2.0, -0.5, 0.0, 1.5])
    assert SignFilter(1)(x).tolist() == [0, 0, 0, 1.5]
    assert SignFilter(-1)(x).tolist() == [-2.0, -0.5, 0, 0]
    conv = torch.nn.Conv2d(2, 3, 3, padding=1)
    xs = torch.randn(4, 5, 2, 8, 8)
    out = TimeDistributed(conv)(xs)
    assert out.shape == (4, 5, 3, 8, 8)
    assert torch.allclose(out[2], conv(xs[2]), atol=1e-6)


def test_spiking_conv_inhibitory_output_is_nonpositive():
    op = SpikingConv(2, 4, 3, stride=2, sign=-1)
    out = op(torch.rand(3, 2, 2, 8, 8) * 3)
    assert out.shape == (3, 2, 4, 4, 4)
    assert (out <= 0).all() and (out < 0).any()


def test_compiled_backend_matches_fused():
    """The ``torch.compile``-d kernels give the fused backend's spikes and gradients (hard
    reset, the default: its backward carries the ``1 - S`` factor; one compile, tiny input)."""
    import warnings

    from snnlib import kernels

    if not hasattr(torch, "compile"):
        pytest.skip("torch.compile is not available in this torch")
    cfg = NeuronConfig(beta=0.6, threshold=0.5, reset="zero", learn_beta=True)
    torch.manual_seed(0)
    x = torch.rand(5, 2, 3) * 1.2
    results = {}
    for backend in ("fused", "compiled"):
        lif = LIF(cfg)
        lif.backend = backend
        xi = x.clone().requires_grad_()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            spikes = lif(xi)
            (spikes * torch.arange(1.0, 4.0)).sum().backward()
        unavailable = [w for w in caught if "'compiled' unavailable" in str(w.message)]
        if backend == "compiled" and (unavailable or kernels._compile_failed):
            why = unavailable[0].message if unavailable else "an earlier compile failed"
            pytest.skip(f"torch.compile cannot compile here: {why}")
        results[backend] = (spikes.detach(), xi.grad, lif.beta.grad)
    assert set(kernels._compiled_fns) == {"forward", "backward"}  # the compiled path ran
    (s_f, gx_f, gb_f), (s_c, gx_c, gb_c) = results["fused"], results["compiled"]
    assert 0 < float(s_f.mean()) < 1  # some, not all, neurons fire: the comparison means something
    assert torch.equal(s_c, s_f)
    assert torch.allclose(gx_c, gx_f, rtol=1e-6, atol=1e-7) and gx_f.abs().sum() > 0
    assert torch.allclose(gb_c, gb_f, rtol=1e-5, atol=1e-7) and gb_f.abs() > 0


@pytest.mark.parametrize("surrogate", ["atan", "fast_sigmoid", "sigmoid", "straight_through"])
def test_spikes_without_autograd_equal_spikes_with_it(surrogate):
    """Under torch.no_grad the LIF computes the step in the fused loop whatever the surrogate;
    the spikes (and their dtype) are those of the surrogate's own forward."""
    torch.manual_seed(0)
    lif = LIF(NeuronConfig(tau=4 / 3, threshold=1.0, surrogate=surrogate))
    x = torch.randn(6, 4, 50) * 2
    with_grad = lif(x.clone().requires_grad_(True))
    with torch.no_grad():
        without = lif(x)
    assert with_grad.sum() > 0
    assert torch.equal(with_grad.detach(), without) and without.dtype == with_grad.dtype
