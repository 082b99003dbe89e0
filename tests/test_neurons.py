import pytest
import snntorch as snn
import torch

from snnlib.kernels import lif_backend
from snnlib.layers import SignFilter, SpikingConv, TimeDistributed
from snnlib.neurons import (
    LIF,
    NEURON_MODELS,
    SURROGATES,
    CustomNeuronConfig,
    NeuronConfig,
    make_neuron,
    register_neuron,
)
from snnlib.spikes import SpikeMonitor, SpikeRecorder
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


# -- neuron models: the extension point --------------------------------------------------------


class AdaptiveLIF(LIF):
    """A LIF with an adaptive threshold: it rises by ``jump`` after every spike and decays back
    by a factor ``rho`` per step (hard reset of the membrane)."""

    model_params = {"jump": 0.4, "rho": 0.7}

    def initial_state(self, current):
        zero = torch.zeros_like(current)
        return zero, zero, zero

    def _advance(self, current, state, beta):
        h_prev, s_prev, a_prev = state
        a = self.rho * a_prev + self.jump * s_prev
        h = beta * h_prev * (1.0 - s_prev) + current
        s = self.spike_fn(h - (self.threshold + a))
        return s, (h, s.detach(), a)


@pytest.fixture
def adaptive():
    """``AdaptiveLIF`` registered as ``"adaptive_test"`` for one test."""
    register_neuron("adaptive_test", AdaptiveLIF)
    yield "adaptive_test"
    NEURON_MODELS.pop("adaptive_test", None)


def _step_loop(neuron, x):
    state, out = None, []
    for t in range(x.shape[0]):
        s, state = neuron.step(x[t], state)
        out.append(s)
    return torch.stack(out)


def _spikes_and_grads(neuron, x, run):
    """Spikes of ``run(neuron, x)`` and the gradients of a weighted spike sum w.r.t. the
    input and beta (the surrogate's derivative is what reaches them)."""
    neuron.zero_grad()
    xi = x.clone().requires_grad_()
    spikes = run(neuron, xi)
    (spikes * torch.linspace(0.5, 1.5, spikes.shape[-1])).sum().backward()
    return spikes.detach(), xi.grad, neuron.beta.grad.clone()


@pytest.mark.parametrize("backend", ["native", "fused", "stepwise"])
@pytest.mark.parametrize("surrogate", ["triangle", "atan"])
def test_custom_model_forward_equals_its_step_loop(backend, surrogate):
    """A subclass with its own dynamics: forward is its step loop (spikes and surrogate
    gradients), whatever the backend, and differs from the built-in LIF on the same input (so
    this fails if forward ran the built-in kernel)."""
    cfg = NeuronConfig(beta=0.8, threshold=0.6, surrogate=surrogate, learn_beta=True)
    torch.manual_seed(0)
    x = torch.rand(8, 3, 20) * 0.9
    alif = AdaptiveLIF(cfg)
    with lif_backend(backend):
        s_f, gx_f, gb_f = _spikes_and_grads(alif, x, lambda n, xi: n(xi))
        s_s, gx_s, gb_s = _spikes_and_grads(alif, x, _step_loop)
        s_lif, gx_lif, _ = _spikes_and_grads(LIF(cfg), x, lambda n, xi: n(xi))
    assert 0 < float(s_f.mean()) < 1
    assert torch.equal(s_f, s_s)
    assert torch.equal(gx_f, gx_s) and gx_f.abs().sum() > 0
    assert torch.allclose(gb_f, gb_s, rtol=1e-5, atol=1e-7) and gb_f.abs() > 0
    assert not torch.equal(s_f, s_lif)  # the threshold adapts: fewer spikes than the LIF's
    assert s_f.sum() < s_lif.sum() and not torch.allclose(gx_f, gx_lif)
    with torch.no_grad():
        assert torch.equal(alif(x), s_f)


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
def test_builtin_forward_equals_its_step_loop_with_gradients(reset):
    cfg = NeuronConfig(beta=0.8, threshold=0.6, reset=reset, learn_beta=True)
    torch.manual_seed(2)
    x = torch.rand(6, 2, 15) * 0.9
    lif = LIF(cfg)
    assert LIF.builtin_kernels
    s_f, gx_f, gb_f = _spikes_and_grads(lif, x, lambda n, xi: n(xi))
    s_s, gx_s, gb_s = _spikes_and_grads(lif, x, _step_loop)
    assert 0 < float(s_f.mean()) < 1
    assert torch.equal(s_f, s_s)
    assert torch.allclose(gx_f, gx_s, rtol=1e-5, atol=1e-7) and gx_f.abs().sum() > 0
    assert torch.allclose(gb_f, gb_s, rtol=1e-5, atol=1e-6)


def test_builtin_kernels_only_for_the_builtin_dynamics(monkeypatch):
    from snnlib import neurons

    class Renamed(LIF):  # same dynamics: keeps the kernels
        pass

    class Claims(AdaptiveLIF):  # own dynamics (inherited): claiming the kernels does not help
        builtin_kernels = True

    class OwnRest(LIF):  # only the rest state differs: no kernels either
        def initial_state(self, current):
            return torch.full_like(current, 0.3), torch.zeros_like(current)

    assert Renamed.builtin_kernels and not AdaptiveLIF.builtin_kernels
    assert not Claims.builtin_kernels and not OwnRest.builtin_kernels
    calls = []
    real = neurons.MultiStepLIF.apply
    monkeypatch.setattr(
        neurons.MultiStepLIF, "apply", lambda *a: calls.append(1) or real(*a), raising=True
    )
    x = torch.rand(4, 2, 5)
    Renamed()(x)
    assert calls == [1]
    for cls in (AdaptiveLIF, Claims, OwnRest):
        neuron = cls(NeuronConfig(threshold=0.4))
        assert torch.equal(neuron(x), _step_loop(neuron, x))
    assert calls == [1]
    assert not torch.equal(
        OwnRest(NeuronConfig(threshold=0.4))(x), LIF(NeuronConfig(threshold=0.4))(x)
    )


def test_step_and_forward_are_final():
    with pytest.raises(TypeError, match="overrides _advance"):

        class BadStep(LIF):
            def step(self, current, state=None):
                return super().step(current, state)

    with pytest.raises(TypeError, match="overrides _advance"):

        class BadForward(LIF):
            def forward(self, x):
                return super().forward(x)

    with pytest.raises(TypeError, match="threshold"):

        class Clash(LIF):
            model_params = {"threshold": 2.0}


def test_make_neuron_builds_the_configured_model(adaptive):
    default = make_neuron(None)
    assert type(default) is LIF and default.config == NeuronConfig()
    cfg = NeuronConfig(threshold=0.6).with_(model=adaptive, model_kwargs={"jump": 0.25})
    assert isinstance(cfg, CustomNeuronConfig) and cfg.model == adaptive
    neuron = make_neuron(cfg)
    assert type(neuron) is AdaptiveLIF and (neuron.jump, neuron.rho) == (0.25, 0.7)
    assert neuron.threshold == 0.6 and "jump=0.25, rho=0.7" in repr(neuron)
    # direct construction reads the same configuration; keywords override it
    assert AdaptiveLIF(cfg).jump == 0.25 and AdaptiveLIF(cfg, rho=0.5).rho == 0.5
    # a config change keeps the model
    assert cfg.with_(threshold=1.0).model == adaptive
    assert cfg.with_(threshold=1.0).model_kwargs == {"jump": 0.25}
    # back to the built-in model: a plain NeuronConfig again
    back = cfg.with_(model="lif", model_kwargs={})
    assert type(back) is NeuronConfig and back == NeuronConfig(threshold=0.6)


def test_layers_build_the_configured_model_and_recorders_see_it(adaptive):
    cfg = NeuronConfig(threshold=0.4).with_(model=adaptive)
    torch.manual_seed(0)
    plain = SpikingConv(2, 3, 3, neuron=NeuronConfig(threshold=0.4))
    torch.manual_seed(0)
    custom = SpikingConv(2, 3, 3, neuron=cfg)
    assert type(plain.lif) is LIF and type(custom.lif) is AdaptiveLIF
    assert list(plain.state_dict()) == list(custom.state_dict())
    x = torch.rand(5, 2, 2, 6, 6) * 1.5
    with SpikeMonitor(custom) as monitor:
        y = custom(x)
    report = monitor.report()
    assert set(report.spikes_per_layer) == {"lif"} and report.spikes_per_layer["lif"] > 0
    assert not torch.equal(y, plain(x))
    with SpikeRecorder(custom.lif) as rec:  # single steps are recorded too
        _step_loop(custom.lif, x)
    assert torch.equal(next(iter(rec.spikes.values())), custom.lif(x).flatten(2))


def test_model_names_only_reach_records_of_other_models(adaptive):
    """A NeuronConfig's records are those of every config written before neuron models
    existed (to_dict and dataclasses.asdict, also nested), so stored identities still match;
    a custom model's records name it."""
    import dataclasses

    from snnlib.mse.decode import NetConfig

    keys = ["tau", "beta", "threshold", "reset", "surrogate", "surrogate_kwargs", "learn_beta"]
    assert list(NeuronConfig().to_dict()) == keys
    assert list(dataclasses.asdict(NetConfig())["neuron"]) == keys
    assert NeuronConfig().model == "lif" and dict(NeuronConfig().model_kwargs) == {}
    custom = NeuronConfig().with_(model=adaptive)
    assert custom.to_dict() == {**NeuronConfig().to_dict(), "model": adaptive, "model_kwargs": {}}
    assert dataclasses.asdict(NetConfig(neuron=custom))["neuron"]["model"] == adaptive


def test_neuron_model_errors_are_named(adaptive):
    with pytest.raises(ConfigError, match="neuron.model='nope'"):
        NeuronConfig().with_(model="nope")
    with pytest.raises(ConfigError, match="built-in model"):
        CustomNeuronConfig(model="lif")
    with pytest.raises(ConfigError, match="make_neuron"):
        LIF(NeuronConfig().with_(model=adaptive))  # the built-in class cannot take it
    with pytest.raises(ConfigError, match="no parameter"):
        make_neuron(NeuronConfig().with_(model=adaptive, model_kwargs={"jmup": 1.0}))
    with pytest.raises(ConfigError, match="no parameter"):
        LIF(NeuronConfig(), rho=0.5)
    with pytest.raises(ConfigError, match="already registered"):
        register_neuron(adaptive, type("Other", (LIF,), {}))
    assert register_neuron(adaptive, AdaptiveLIF) is AdaptiveLIF  # the same class: a no-op
    with pytest.raises(ConfigError, match="built-in"):
        register_neuron("lif", AdaptiveLIF)
    with pytest.raises(TypeError, match="subclass of LIF"):
        register_neuron("not_a_neuron", torch.nn.Identity)
