"""B1: spiking forward + backward. snnlib's multi-step ``SpikingCNN`` against a naive snnTorch
step loop of the same architecture with the same weights.

The naive model is what one writes with snnTorch by hand::

    for t in range(T):
        cur = bn0(conv0(x[t]))
        for conv, bn, leaky in blocks:
            spk, mem = leaky(cur, mem)        # snntorch.Leaky, same beta/threshold/reset/surrogate
            cur = bn(conv(spk))
        spk, mem = head_leaky(cur, mem)
        out += fc(spk.mean((-2, -1)))

built by deep-copying the snnlib model's convolutions, batch norms and classifier and giving
every ``snntorch.Leaky`` the snnlib neuron's beta, threshold, reset and surrogate function
(snnTorch has no piecewise-linear surrogate; ``Leaky`` accepts any callable).

**BatchNorm.** In train mode snnlib normalises over ``T * B`` samples and the naive loop over
``B`` per step, so the two differ by design. The *equality checks* therefore run in eval mode
(running statistics, identical in both after a few shared train-mode passes): logits
allclose, identical spike counts per layer, parameter gradients allclose. The *timings* run
in train mode (what training does); both compute batch statistics, only over different slices.

Candidates (one model copy each, same weights): ``snnlib`` (the default LIF backend,
``fused``), ``snnlib_stepwise`` (the per-step autograd graph: snnlib before the fused
kernel), ``snnlib_compiled`` (``torch.compile``-d LIF kernels; compile time reported apart)
and the baseline ``naive_snntorch``.
"""

from __future__ import annotations

import copy
import time

import torch
import torch.nn.functional as F
from torch import nn

from snnlib.encoding import Encoder
from snnlib.models import SpikingCNN
from snnlib.neurons import LIF

from .harness import (
    BenchConfig,
    SavedTensorBytes,
    measure,
    paired_ratio,
    profile_breakdown,
    summary,
)

NAME = "b1_forward"
DATASET = "digits"
DESCRIPTION = "SpikingCNN forward+backward, snnlib multi-step vs naive snnTorch step loop"
GOAL = {"candidate": "snnlib", "time_steps": 4, "min_speedup": 1.5}
BASELINE = "naive_snntorch"

SIZES = {
    "quick": dict(time_steps=(2,), batch=4, width=4),
    "full": dict(time_steps=(2, 4, 8), batch=64, width=16),
}


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


def digits_batch(batch: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` test images of the digits set (1 x 16 x 16, normalised) and their labels."""
    from snnlib.data import load_dataset

    ds = load_dataset("digits", "test", limit=min(batch, 300), seed=seed)
    idx = [i % len(ds) for i in range(batch)]
    xs, ys = zip(*(ds[i] for i in idx))
    return torch.stack(xs), torch.tensor(ys)


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


def spike_counts(model: nn.Module, x: torch.Tensor, naive: bool) -> list[int]:
    """Total spikes per spiking layer (network order) for one forward pass."""
    import snntorch as snn

    layers = _lif_modules(model, snn.Leaky if naive else LIF)
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
    model: SpikingCNN, naive: NaiveSnnTorchCNN, x: torch.Tensor, y: torch.Tensor
) -> dict:
    """Eval-mode comparison: logits, spike counts per layer, parameter gradients."""
    model.eval(), naive.eval()
    try:
        for m in (model, naive):
            m.zero_grad(set_to_none=True)
        a, b = model(x), naive(x)
        F.cross_entropy(a, y).backward()
        F.cross_entropy(b, y).backward()
        grad_diff, grads_ok = 0.0, True
        for p in model.parameters():
            q = naive.copy_of(p)
            if p.grad is None and q.grad is None:
                continue
            grad_diff = max(grad_diff, float((p.grad - q.grad).abs().max()))
            grads_ok &= bool(torch.allclose(p.grad, q.grad, rtol=1e-3, atol=1e-5))
        ca, cb = spike_counts(model, x, naive=False), spike_counts(naive, x, naive=True)
        return {
            "logits_allclose": bool(torch.allclose(a, b, rtol=1e-4, atol=1e-5)),
            "max_abs_logit_diff": float((a - b).detach().abs().max()),
            "spike_counts_equal": ca == cb,
            "spike_counts_snnlib": ca,
            "spike_counts_naive": cb,
            "grads_allclose": grads_ok,
            "max_abs_grad_diff": grad_diff,
        }
    finally:
        model.train(), naive.train()


def _with_backend(model: SpikingCNN, backend: str) -> SpikingCNN:
    m = copy.deepcopy(model)
    for lif in _lif_modules(m, LIF):
        lif.backend = backend
    return m


def _step(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    def fn():
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()

    return fn


def run(cfg: BenchConfig) -> dict:
    size = SIZES["quick" if cfg.quick else "full"]
    dev = cfg.torch_device
    images, labels = digits_batch(size["batch"], cfg.seed)
    per_t, checks, compile_seconds = {}, {}, {}
    for T in size["time_steps"]:
        torch.manual_seed(cfg.seed)
        model = SpikingCNN(1, 10, width=size["width"]).to(dev).train()
        x = Encoder("direct", T)(images).to(dev)
        y = labels.to(dev)
        calibrate_batch_norm(model, x)  # eval-mode checks with the batch's own statistics
        naive = NaiveSnnTorchCNN(model).to(dev).train()
        checks[str(T)] = check_equal(model, naive, x, y)

        models = {
            "snnlib": model,
            "snnlib_stepwise": _with_backend(model, "stepwise"),
            BASELINE: naive,
        }
        if cfg.compile:
            compiled = _with_backend(model, "compiled")
            t0 = time.perf_counter()
            _step(compiled, x, y)()  # first call compiles (cached on disk afterwards)
            compile_seconds[str(T)] = time.perf_counter() - t0
            models["snnlib_compiled"] = compiled
        fns = {name: _step(m, x, y) for name, m in models.items()}
        samples = measure(fns, cfg.n_repeats(15), cfg.n_warmup(2), device=dev)
        saved = {}
        for name in fns:
            with SavedTensorBytes() as s:
                models[name].zero_grad(set_to_none=True)
                loss = F.cross_entropy(models[name](x), y)
            loss.backward()
            saved[name] = s.bytes / 2**20
        profile = None
        if T == GOAL["time_steps"] or cfg.quick:  # where the time goes, at the goal's T
            profile = {
                name: profile_breakdown(fn, steps=1 if cfg.quick else 3) for name, fn in fns.items()
            }
        per_t[str(T)] = {
            "seconds": {name: summary(s) for name, s in samples.items()},
            "speedup_vs_naive": {
                name: paired_ratio(samples[BASELINE], s)
                for name, s in samples.items()
                if name != BASELINE
            },
            "fused_vs_stepwise": paired_ratio(samples["snnlib_stepwise"], samples["snnlib"]),
            "saved_for_backward_mib": saved,
            "profile": profile,
            "samples": samples,
        }

    names = [n for n in per_t[str(size["time_steps"][0])]["speedup_vs_naive"]]
    speedup = {n: {T: per_t[T]["speedup_vs_naive"][n]["median"] for T in per_t} for n in names}
    goal_t = str(GOAL["time_steps"])
    value = speedup[GOAL["candidate"]].get(goal_t)
    best = (
        max((speedup[n].get(goal_t) or 0.0, n) for n in names) if goal_t in per_t else (None, None)
    )
    all_checks = all(
        c["logits_allclose"] and c["spike_counts_equal"] and c["grads_allclose"]
        for c in checks.values()
    )
    metrics = {
        "time_steps": list(size["time_steps"]),
        "batch": size["batch"],
        "width": size["width"],
        "input_shape": [None, size["batch"], 1, 16, 16],
        "speedup_vs_naive": speedup,  # median of paired ratios, by candidate and T
        "fused_vs_stepwise": {T: per_t[T]["fused_vs_stepwise"]["median"] for T in per_t},
        "median_seconds": {
            n: {T: per_t[T]["seconds"][n]["median"] for T in per_t}
            for n in per_t[str(size["time_steps"][0])]["seconds"]
        },
        "per_T": {T: {k: v for k, v in d.items() if k != "samples"} for T, d in per_t.items()},
        "compile_seconds": compile_seconds,
        "checks": {
            "all_passed": all_checks,
            "mode": "eval (BatchNorm running statistics)",
            "per_T": checks,
        },
        "goal": {
            **GOAL,
            "value": value,
            "met": None if value is None else value >= GOAL["min_speedup"],
            "best_candidate": best[1],
            "best_value": best[0],
        },
    }
    return {
        "metrics": metrics,
        "params": {"sizes": size, "repeats": cfg.n_repeats(15), "warmup": cfg.n_warmup(2)},
        "artifacts": {"samples_seconds": {T: d["samples"] for T, d in per_t.items()}},
    }


def headline(m: dict) -> str:
    s = m["speedup_vs_naive"]
    parts = [f"{n}: " + "/".join(f"{v:.2f}x" for v in s[n].values()) for n in s]
    Ts = "/".join(str(t) for t in m["time_steps"])
    return (
        f"speed-up vs naive snnTorch at T={Ts}: "
        + "; ".join(parts)
        + f" | checks {'ok' if m['checks']['all_passed'] else 'FAILED'}"
        + f" | goal {m['goal']['min_speedup']}x at T={m['goal']['time_steps']}: {m['goal']['met']}"
    )
