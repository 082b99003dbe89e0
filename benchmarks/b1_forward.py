"""B1: spiking forward + backward (one training step's gradient). snnlib's multi-step
``SpikingCNN`` against the two things a user would write instead, with the same weights, at
two input shapes (digits 1 x 16 x 16 and CIFAR-10 3 x 32 x 32), T in {2, 4}, batch 64:

- ``naive_snntorch``: a per-step snnTorch loop of the same layers::

    for t in range(T):
        cur = bn0(conv0(x[t]))
        for conv, bn, leaky in blocks:
            spk, mem = leaky(cur, mem)        # snntorch.Leaky, same beta/threshold/reset/surrogate
            cur = bn(conv(spk))
        spk, mem = head_leaky(cur, mem)
        out += fc(spk.mean((-2, -1)))

  built by deep-copying the snnlib model's convolutions, batch norms and classifier and giving
  every ``snntorch.Leaky`` the snnlib neuron's beta, threshold, reset and surrogate function
  (snnTorch has no piecewise-linear surrogate; ``Leaky`` accepts any callable);
- ``spikingjelly``: SpikingJelly's (2.0) multi-step network of the same layers
  (``layer.SeqToANNContainer(conv, bn)`` folds T into the batch like snnlib, and
  ``neuron.LIFNode(step_mode="m", decay_input=False, detach_reset=True)`` with
  ``surrogate.PiecewiseQuadratic(alpha / 2)``, the same triangle surrogate, runs its own
  multi-step CPU kernel), again with copied weights. SpikingJelly is a benchmark-only
  dependency (``pip install .[bench]``); without it the candidate is skipped and the result
  file says so.

**BatchNorm.** In train mode snnlib and SpikingJelly normalise over ``T * B`` samples and the
naive loop over ``B`` per step, so they differ by design. The *equality checks* therefore run
in eval mode (running statistics, identical in all after a shared calibration pass): logits
allclose, identical spike counts per layer, parameter gradients allclose. The *timings* run
in train mode (what training does).

snnlib candidates (one model copy each, same weights): ``snnlib`` (the defaults: the native
C LIF kernel and channels-last convolutions), ``snnlib_nchw`` (native kernel, NCHW layout),
``snnlib_fused`` (the eager fused LIF backend in NCHW: snnlib's default before issue 13),
optionally ``snnlib_stepwise`` (the per-step autograd graph) and ``snnlib_compiled``
(``torch.compile``-d LIF kernels; compile time reported apart).

**Peak memory** of one training step (forward, backward) of every candidate, at every shape
and T, three ways: ``peak_tensor_mib``, the peak of live tensor bytes during the step above
those live at its start, from ``torch.profiler(profile_memory=True)``'s allocation and free
events (:func:`benchmarks.harness.profiled_peak_bytes`: exact for memory that goes through
torch's CPU allocator, which ``tracemalloc`` does not see; the method is written to the
file as ``peak_memory_method``); ``saved_for_backward_mib``, the bytes autograd keeps for
the backward pass; and ``peak_mib``, the resident set sampled every 0.5 ms above the start (a
lower bound: the C allocator reuses freed memory without the RSS moving). Each is measured
once per candidate, outside the timed rounds (the profiler slows the step).
"""

from __future__ import annotations

import contextlib
import copy
import time

import torch
import torch.nn.functional as F
from torch import nn

from snnlib.encoding import Encoder
from snnlib.layers import channels_last
from snnlib.models import SpikingCNN
from snnlib.neurons import LIF

from .harness import (
    PROFILER_PEAK_METHOD,
    BenchConfig,
    measure,
    paired_ratio,
    peak_memory,
    profile_breakdown,
    profiled_peak_bytes,
    summary,
)

NAME = "b1_forward"
DATASET = "digits+cifar10"
DESCRIPTION = (
    "SpikingCNN forward+backward at digits and CIFAR-10 shape: snnlib vs naive snnTorch loop "
    "vs SpikingJelly multi-step"
)
GOAL = {
    "candidate": "snnlib",
    "shape": "cifar10",
    "time_steps": 4,
    "min_speedup": 1.5,
    "baselines": ["naive_snntorch", "spikingjelly"],
}
BASELINE = "naive_snntorch"
SJ = "spikingjelly"
SHAPES = {"digits": (1, 16), "cifar10": (3, 32)}  # input channels, image side

SIZES = {
    "quick": dict(time_steps=(2,), batch=4, width=4, shapes=("digits", "cifar10")),
    "full": dict(time_steps=(2, 4), batch=64, width=16, shapes=("digits", "cifar10")),
}
SJ_MISSING = "spikingjelly is not installed (pip install -c constraints.txt -e '.[bench]')"


def spikingjelly_available() -> bool:
    try:
        import spikingjelly.activation_based  # noqa: F401
    except ImportError:
        return False
    return True


class NaiveSnnTorchCNN(nn.Module):
    """``SpikingCNN`` as a per-step snnTorch loop, with deep copies of the given model's weights."""

    def __init__(self, model: SpikingCNN):
        super().__init__()
        import snntorch as snn

        def leaky(lif: LIF) -> nn.Module:
            return snn.Leaky(
                beta=lif.config.decay,
                threshold=lif.threshold,
                spike_grad=lif.spike_fn,
                reset_mechanism=lif.reset,
                learn_beta=lif.config.learn_beta,
            )

        self.memo: dict[int, object] = {}
        m = copy.deepcopy(model, self.memo)
        self.stem = m.stem.body.module  # Conv2d, BatchNorm2d
        self.blocks = nn.ModuleList(
            nn.Sequential(b.body.module[0], b.body.module[1], b.sign) for b in m.features
        )
        self.leakies = nn.ModuleList([leaky(b.lif) for b in m.features] + [leaky(m.head.lif)])
        self.fc = m.head.fc

    def copy_of(self, p: torch.Tensor) -> torch.Tensor:
        """The naive model's copy of a parameter of the original model."""
        return self.memo[id(p)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mems: list[torch.Tensor | None] = [None] * len(self.leakies)
        outs = []
        for t in range(x.shape[0]):
            cur = self.stem(x[t])
            for i, block in enumerate(self.blocks):
                mem = mems[i] if mems[i] is not None else torch.zeros_like(cur)
                spk, mems[i] = self.leakies[i](cur, mem)
                cur = block(spk)
            mem = mems[-1] if mems[-1] is not None else torch.zeros_like(cur)
            spk, mems[-1] = self.leakies[-1](cur, mem)
            outs.append(self.fc(spk.mean(dim=(-2, -1))))
        return torch.stack(outs).mean(0)


class SpikingJellyCNN(nn.Module):
    """``SpikingCNN`` as SpikingJelly's multi-step network, with deep copies of the weights.

    Every ``SpikingConv`` becomes ``LIFNode -> SeqToANNContainer(conv, bn)`` and the head
    ``LIFNode -> mean over H, W -> linear -> mean over T``. The LIF is SpikingJelly's with
    ``decay_input=False`` (H = V - V / tau + I, the same update as beta = 1 - 1/tau), hard
    reset to 0 (snnlib ``reset="zero"``) or soft reset (``"subtract"``), the reset spike
    detached (as in snnlib and snnTorch) and ``PiecewiseQuadratic(alpha / 2)``, whose
    derivative ``max(0, a' - a'^2 |x|)`` is snnlib's triangle with ``alpha = 2 a'``.
    The states are reset after every forward pass (snnlib starts every forward from rest).
    """

    def __init__(self, model: SpikingCNN):
        super().__init__()
        from spikingjelly.activation_based import layer, neuron, surrogate

        def lif(l: LIF) -> nn.Module:
            c = l.config
            if c.reset not in ("zero", "subtract") or c.surrogate != "triangle":
                raise ValueError(f"no SpikingJelly equivalent of {c}")
            if c.learn_beta:
                raise ValueError("SpikingJelly's LIFNode has a fixed tau")
            alpha = float(l.spike_fn.triangle_alpha)
            return neuron.LIFNode(
                tau=1.0 / (1.0 - c.decay),
                decay_input=False,
                v_threshold=l.threshold,
                v_reset=0.0 if c.reset == "zero" else None,
                surrogate_function=surrogate.PiecewiseQuadratic(alpha=alpha / 2),
                detach_reset=True,
                step_mode="m",
            )

        self.memo: dict[int, object] = {}
        m = copy.deepcopy(model, self.memo)
        self.stem = layer.SeqToANNContainer(*m.stem.body.module)
        self.blocks = nn.Sequential(
            *(
                nn.Sequential(lif(b.lif), layer.SeqToANNContainer(*b.body.module), b.sign)
                for b in m.features
            )
        )
        self.head_lif = lif(m.head.lif)
        self.fc = m.head.fc

    def copy_of(self, p: torch.Tensor) -> torch.Tensor:
        return self.memo[id(p)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from spikingjelly.activation_based import functional

        try:
            s = self.head_lif(self.blocks(self.stem(x))).mean(dim=(-2, -1))
            return self.fc(s).mean(0)
        finally:
            functional.reset_net(self)


def digits_batch(batch: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` test images of the digits set (1 x 16 x 16, normalised) and their labels."""
    return _batch("digits", batch, seed)


def _batch(name: str, batch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    from snnlib.data import load_dataset

    ds = load_dataset(name, "test", limit=min(batch, 300), seed=seed)
    idx = [i % len(ds) for i in range(batch)]
    xs, ys = zip(*(ds[i] for i in idx))
    return torch.stack(xs), torch.tensor(ys)


def image_batch(shape: str, batch: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A test batch of the data set of ``shape`` (``digits`` or ``cifar10``: the embedded
    CIFAR-10 test images, normalised); seeded Gaussian pixels if the set cannot be loaded
    (a dense spiking pass costs the same whatever the pixel values)."""
    try:
        return _batch(shape, batch, seed)
    except Exception:  # noqa: BLE001 - timing needs the shape, not the pixels
        c, side = SHAPES[shape]
        g = torch.Generator().manual_seed(seed)
        return torch.randn(batch, c, side, side, generator=g), torch.arange(batch) % 10


def calibrate_batch_norm(model: nn.Module, x: torch.Tensor) -> None:
    """Set every batch norm's running statistics to those of one train-mode pass over ``x``.

    Eval mode then normalises (almost) as training does, so spikes reach the deepest layers
    and the eval-mode comparison is not vacuous (fresh running statistics silence them).
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average: after one pass, the batch's statistics
    was_training = model.training
    model.train()
    with torch.no_grad():
        model(x)
    for bn, m in zip(bns, momenta):
        bn.momentum = m
    model.train(was_training)


def _lif_modules(model: nn.Module, cls) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, cls)]


def _neuron_class(kind: str):
    if kind == "naive":
        import snntorch as snn

        return snn.Leaky
    if kind == "sj":
        from spikingjelly.activation_based import neuron

        return neuron.LIFNode
    return LIF


def spike_counts(model: nn.Module, x: torch.Tensor, naive: bool | str) -> list[int]:
    """Total spikes per spiking layer (network order) for one forward pass; ``naive`` is
    True / ``"naive"`` (snnTorch), ``"sj"`` (SpikingJelly) or False (snnlib)."""
    kind = "naive" if naive is True else ("snnlib" if naive is False else naive)
    layers = _lif_modules(model, _neuron_class(kind))
    counts = [0.0] * len(layers)
    hooks = []
    for i, m in enumerate(layers):

        def hook(mod, args, out, i=i):
            spk = out[0] if isinstance(out, tuple) else out
            counts[i] += float(spk.detach().sum())

        hooks.append(m.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return [int(round(c)) for c in counts]


def check_equal(
    model: SpikingCNN, other: nn.Module, x: torch.Tensor, y: torch.Tensor, kind: str = "naive"
) -> dict:
    """Eval-mode comparison of snnlib's model with a baseline built from its weights (which
    has ``copy_of(p)``): logits, spike counts per layer, parameter gradients."""
    model.eval(), other.eval()
    try:
        for m in (model, other):
            m.zero_grad(set_to_none=True)
        a, b = model(x), other(x)
        F.cross_entropy(a, y).backward()
        F.cross_entropy(b, y).backward()
        grad_diff, grads_ok = 0.0, True
        for p in model.parameters():
            q = other.copy_of(p)
            if p.grad is None and q.grad is None:
                continue
            grad_diff = max(grad_diff, float((p.grad - q.grad).abs().max()))
            grads_ok &= bool(torch.allclose(p.grad, q.grad, rtol=1e-3, atol=1e-5))
        ca, cb = spike_counts(model, x, naive=False), spike_counts(other, x, naive=kind)
        return {
            "logits_allclose": bool(torch.allclose(a, b, rtol=1e-4, atol=1e-5)),
            "max_abs_logit_diff": float((a - b).detach().abs().max()),
            "spike_counts_equal": ca == cb,
            "spike_counts_snnlib": ca,
            "spike_counts_naive" if kind == "naive" else f"spike_counts_{kind}": cb,
            "grads_allclose": grads_ok,
            "max_abs_grad_diff": grad_diff,
        }
    finally:
        model.train(), other.train()


def _passed(c: dict) -> bool:
    return bool(c["logits_allclose"] and c["spike_counts_equal"] and c["grads_allclose"])


def _with_backend(model: SpikingCNN, backend: str) -> SpikingCNN:
    m = copy.deepcopy(model)
    for lif in _lif_modules(m, LIF):
        lif.backend = backend
    return m


def _step(model: nn.Module, x: torch.Tensor, y: torch.Tensor, nchw: bool = False):
    """One forward + backward with cross-entropy; ``nchw``: with channels-last off."""

    def fn():
        with channels_last(False) if nchw else contextlib.nullcontext():
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()

    return fn


def run_shape(cfg: BenchConfig, shape: str, size: dict) -> dict:
    """Every candidate at one input shape and every T: timings, ratios, checks, memory."""
    dev = cfg.torch_device
    c_in, _ = SHAPES[shape]
    images, labels = image_batch(shape, size["batch"], cfg.seed)
    have_sj = spikingjelly_available()
    per_t, checks, compile_seconds = {}, {}, {}
    for T in size["time_steps"]:
        torch.manual_seed(cfg.seed)
        model = SpikingCNN(c_in, 10, width=size["width"]).to(dev).train()
        x = Encoder("direct", T)(images).to(dev)
        y = labels.to(dev)
        calibrate_batch_norm(model, x)  # eval-mode checks with the batch's own statistics
        naive = NaiveSnnTorchCNN(model).to(dev).train()
        checks[str(T)] = {"naive_snntorch": check_equal(model, naive, x, y, "naive")}
        models = {"snnlib": model, BASELINE: naive}
        steps = {"snnlib": _step(model, x, y), BASELINE: _step(naive, x, y)}
        if have_sj:
            sj = SpikingJellyCNN(model).to(dev).train()
            checks[str(T)][SJ] = check_equal(model, sj, x, y, "sj")
            models[SJ], steps[SJ] = sj, _step(sj, x, y)
        nchw = _with_backend(model, "native")
        models["snnlib_nchw"], steps["snnlib_nchw"] = nchw, _step(nchw, x, y, nchw=True)
        fused = _with_backend(model, "fused")
        models["snnlib_fused"], steps["snnlib_fused"] = fused, _step(fused, x, y, nchw=True)
        if size.get("stepwise"):
            sw = _with_backend(model, "stepwise")
            models["snnlib_stepwise"], steps["snnlib_stepwise"] = sw, _step(sw, x, y, nchw=True)
        if cfg.compile and size.get("compiled", True):
            compiled = _with_backend(model, "compiled")
            t0 = time.perf_counter()
            _step(compiled, x, y)()  # first call compiles (cached on disk afterwards)
            compile_seconds[str(T)] = time.perf_counter() - t0
            models["snnlib_compiled"], steps["snnlib_compiled"] = compiled, _step(compiled, x, y)
        samples = measure(steps, cfg.n_repeats(15), cfg.n_warmup(2), device=dev)
        memory = {}
        for name, fn in steps.items():
            memory[name] = peak_memory(fn, dev)
            if dev.type == "cpu":
                memory[name]["peak_tensor_mib"] = profiled_peak_bytes(fn)["peak_mib"]
            else:  # CUDA: the allocator's own peak is exact
                memory[name]["peak_tensor_mib"] = memory[name]["peak_mib"]
        profile = None
        if T == GOAL["time_steps"] or cfg.quick:  # where the time goes, at the goal's T
            profile = {
                name: profile_breakdown(fn, steps=1 if cfg.quick else 3)
                for name, fn in steps.items()
                if name in ("snnlib", BASELINE, SJ, "snnlib_fused")
            }
        ratios = {
            base: {
                name: paired_ratio(samples[base], s) for name, s in samples.items() if name != base
            }
            for base in (BASELINE, SJ)
            if base in samples
        }
        per_t[str(T)] = {
            "seconds": {name: summary(s) for name, s in samples.items()},
            "speedup_vs_naive": ratios[BASELINE],
            "speedup_vs_spikingjelly": ratios.get(SJ, {}),
            "saved_for_backward_mib": {n: m["saved_for_backward_mib"] for n, m in memory.items()},
            "peak_mib": {n: m["peak_mib"] for n, m in memory.items()},
            "peak_tensor_mib": {n: m["peak_tensor_mib"] for n, m in memory.items()},
            "profile": profile,
            "samples": samples,
        }
        del models
    first = str(size["time_steps"][0])
    names = list(per_t[first]["seconds"])
    return {
        "input_shape": [None, size["batch"], *((c_in,) + (SHAPES[shape][1],) * 2)],
        "speedup_vs_naive": {
            n: {T: per_t[T]["speedup_vs_naive"][n]["median"] for T in per_t}
            for n in names
            if n != BASELINE
        },
        "speedup_vs_spikingjelly": {
            n: {T: per_t[T]["speedup_vs_spikingjelly"][n]["median"] for T in per_t}
            for n in names
            if n != SJ and have_sj
        },
        "median_seconds": {n: {T: per_t[T]["seconds"][n]["median"] for T in per_t} for n in names},
        "peak_mib": {n: {T: per_t[T]["peak_mib"][n] for T in per_t} for n in names},
        "peak_tensor_mib": {n: {T: per_t[T]["peak_tensor_mib"][n] for T in per_t} for n in names},
        "peak_memory_method": PROFILER_PEAK_METHOD
        if dev.type == "cpu"
        else "cuda_max_memory_allocated",
        "saved_for_backward_mib": {
            n: {T: per_t[T]["saved_for_backward_mib"][n] for T in per_t} for n in names
        },
        "per_T": {T: {k: v for k, v in d.items() if k != "samples"} for T, d in per_t.items()},
        "compile_seconds": compile_seconds,
        "checks": {
            "all_passed": all(_passed(c) for per in checks.values() for c in per.values()),
            "mode": "eval (BatchNorm running statistics)",
            "per_T": checks,
        },
        "spikingjelly": "measured" if have_sj else SJ_MISSING,
        "samples": {T: d["samples"] for T, d in per_t.items()},
    }


def run(cfg: BenchConfig) -> dict:
    size = SIZES["quick" if cfg.quick else "full"]
    shapes = {}
    for shape in size["shapes"]:
        extra = {"stepwise": shape == "digits", "compiled": shape == "digits"}
        shapes[shape] = run_shape(cfg, shape, {**size, **extra})
    if not spikingjelly_available():
        print(f"B1: {SJ_MISSING}; SpikingJelly skipped")
    g_shape, g_t = GOAL["shape"], str(GOAL["time_steps"])
    gs = shapes.get(g_shape, {})
    vs_naive = lookup_ratio(gs, "speedup_vs_naive", g_t)
    vs_sj = lookup_ratio(gs, "speedup_vs_spikingjelly", g_t)
    values = [v for v in (vs_naive, vs_sj) if v is not None]
    met = None
    if vs_naive is not None:
        met = all(v >= GOAL["min_speedup"] for v in values) and vs_sj is not None
    digits = shapes.get("digits", {})
    metrics = {
        "time_steps": list(size["time_steps"]),
        "batch": size["batch"],
        "width": size["width"],
        "shapes": {
            k: {kk: vv for kk, vv in v.items() if kk != "samples"} for k, v in shapes.items()
        },
        # the digits shape at top level, as before (older readers of the file)
        "input_shape": digits.get("input_shape"),
        "speedup_vs_naive": digits.get("speedup_vs_naive", {}),
        "median_seconds": digits.get("median_seconds", {}),
        "per_T": digits.get("per_T", {}),
        "compile_seconds": digits.get("compile_seconds", {}),
        "checks": {
            "all_passed": all(v["checks"]["all_passed"] for v in shapes.values()),
            "mode": "eval (BatchNorm running statistics)",
            "per_T": digits.get("checks", {}).get("per_T", {}),
            "per_shape": {k: v["checks"] for k, v in shapes.items()},
        },
        "spikingjelly": "measured" if spikingjelly_available() else SJ_MISSING,
        "peak_memory_method": next(iter(shapes.values()), {}).get("peak_memory_method"),
        "goal": {
            **GOAL,
            "value": vs_naive,
            "value_vs_naive": vs_naive,
            "value_vs_spikingjelly": vs_sj,
            "met": met,
        },
    }
    return {
        "metrics": metrics,
        "params": {"sizes": size, "repeats": cfg.n_repeats(15), "warmup": cfg.n_warmup(2)},
        "artifacts": {"samples_seconds": {k: v["samples"] for k, v in shapes.items()}},
    }


def lookup_ratio(shape: dict, key: str, T: str, name: str = "snnlib") -> float | None:
    return shape.get(key, {}).get(name, {}).get(T)


def headline(m: dict) -> str:
    parts = []
    for shape, d in m["shapes"].items():
        for base in ("speedup_vs_naive", "speedup_vs_spikingjelly"):
            r = d.get(base, {}).get("snnlib", {})
            if r:
                parts.append(
                    f"{shape} {base.split('_vs_')[1]}: "
                    + "/".join(f"T{t} {v:.2f}x" for t, v in r.items())
                )
    return (
        "snnlib "
        + "; ".join(parts)
        + f" | checks {'ok' if m['checks']['all_passed'] else 'FAILED'}"
        + f" | goal {m['goal']['min_speedup']}x at {m['goal']['shape']} T={m['goal']['time_steps']}"
        + f": {m['goal']['met']}"
    )
