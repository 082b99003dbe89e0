"""B4: one MA-DARTS search step (architecture step + weight step, as in
:func:`snnlib.darts.search`): time and peak memory with attention ``tcsa`` against ``none``,
and against T in {2, 4, 8}.

The supernet is :class:`snnlib.darts.SearchNetwork` (digits input ``[T, B, 1, 16, 16]``,
first-order architecture gradients, the search's own optimizers from
``make_search_optimizers``); ``tcsa`` and ``none`` networks start from the same seed, and
their steps run interleaved, so the ratio ``tcsa / none`` is paired per round.

Memory per step, the larger of its two phases (architecture step, weight step; their graphs
never coexist): the bytes autograd saves for the backward pass (deterministic; what grows
with T and attention) and the peak above the phase's start (``torch.cuda.max_memory_allocated``
on CUDA; on the CPU the sampled peak resident set size, a lower bound, see
:func:`benchmarks.harness.peak_memory`).

Goal: ``tcsa`` costs at most 30% more time per search step than ``none`` (ratio <= 1.3).
"""

from __future__ import annotations

import torch
from torch import nn

from .harness import BenchConfig, measure, paired_ratio, peak_memory, summary

NAME = "b4_search_step"
DATASET = "digits"
DESCRIPTION = "MA-DARTS search step: time and memory, attention tcsa vs none, T in {2,4,8}"
GOAL = {"max_ratio": 1.3, "ratio": "tcsa / none seconds per step"}
ATTENTIONS = ("none", "tcsa")

SIZES = {
    "quick": dict(time_steps=(2,), batch=4, C=4, layers=3, steps=2, multiplier=2),
    "full": dict(time_steps=(2, 4, 8), batch=32, C=8, layers=3, steps=4, multiplier=4),
}


def make_step(attention: str, T: int, size: dict, seed: int, device: torch.device, x, y):
    """A supernet with its optimizers, and a closure running one search step on ``(x, y)``."""
    from snnlib.darts import SearchConfig, SearchNetwork, arch_step, weight_step
    from snnlib.darts.bilevel import make_search_optimizers

    torch.manual_seed(seed)
    model = (
        SearchNetwork(
            1,
            10,
            C=size["C"],
            layers=size["layers"],
            steps=size["steps"],
            multiplier=size["multiplier"],
            time_steps=T,
            attention=attention,
        )
        .to(device)
        .train()
    )
    cfg = SearchConfig()
    w_opt, _, a_opt = make_search_optimizers(model, cfg)
    crit = nn.CrossEntropyLoss()

    def arch():
        return float(arch_step(model, a_opt, crit, x, y, order="first")[0])

    def weights():
        return float(weight_step(model, w_opt, crit, x, y, cfg.grad_clip)[0])

    def step():
        return arch(), weights()

    step.phases = {"arch_step": arch, "weight_step": weights}
    n_params = sum(p.numel() for p in model.weight_parameters())
    return model, step, n_params


def step_memory(step, device) -> dict:
    """Memory of the two phases of a step, measured apart (their graphs never coexist); the
    step's memory is the larger of the two."""
    phases = {name: peak_memory(fn, device) for name, fn in step.phases.items()}
    peaks = [m["peak_mib"] for m in phases.values() if m["peak_mib"] is not None]
    return {
        "saved_for_backward_mib": max(m["saved_for_backward_mib"] for m in phases.values()),
        "peak_mib": max(peaks) if peaks else None,
        "peak_method": next(iter(phases.values()))["peak_method"],
        "phases": phases,
    }


def run(cfg: BenchConfig) -> dict:
    from snnlib.encoding import Encoder

    from .b1_forward import digits_batch

    size = SIZES["quick" if cfg.quick else "full"]
    dev = cfg.torch_device
    images, labels = digits_batch(size["batch"], cfg.seed)
    repeats, warmup = cfg.n_repeats(5), cfg.n_warmup(1)
    per_t, losses_finite, params = {}, True, {}
    for T in size["time_steps"]:
        x, y = Encoder("direct", T)(images).to(dev), labels.to(dev)
        steps, models = {}, {}
        for att in ATTENTIONS:
            models[att], steps[att], params[att] = make_step(att, T, size, cfg.seed, dev, x, y)
        samples = measure({a: steps[a] for a in ATTENTIONS}, repeats, warmup, device=dev)
        mem = {a: step_memory(steps[a], dev) for a in ATTENTIONS}
        losses = {a: steps[a]() for a in ATTENTIONS}
        losses_finite &= all(torch.isfinite(torch.tensor(v)).all() for v in losses.values())
        per_t[str(T)] = {
            "seconds": {a: summary(s) for a, s in samples.items()},
            "ratio_tcsa_over_none": paired_ratio(samples["tcsa"], samples["none"]),
            "memory": mem,
            "samples": samples,
        }
    ratios = {T: d["ratio_tcsa_over_none"]["median"] for T, d in per_t.items()}
    metrics = {
        "time_steps": list(size["time_steps"]),
        "batch": size["batch"],
        "supernet": {k: size[k] for k in ("C", "layers", "steps", "multiplier")},
        "weight_parameters": params,
        "median_seconds": {
            a: {T: d["seconds"][a]["median"] for T, d in per_t.items()} for a in ATTENTIONS
        },
        "ratio_tcsa_over_none": ratios,
        "saved_for_backward_mib": {
            a: {T: d["memory"][a]["saved_for_backward_mib"] for T, d in per_t.items()}
            for a in ATTENTIONS
        },
        "peak_mib": {
            a: {T: d["memory"][a]["peak_mib"] for T, d in per_t.items()} for a in ATTENTIONS
        },
        "peak_method": next(iter(per_t.values()))["memory"]["none"]["peak_method"],
        "per_T": {T: {k: v for k, v in d.items() if k != "samples"} for T, d in per_t.items()},
        "checks": {"all_passed": bool(losses_finite), "losses_finite": bool(losses_finite)},
        "goal": {
            **GOAL,
            "value": ratios,
            "met": all(r <= GOAL["max_ratio"] for r in ratios.values()),
            "met_per_T": {T: r <= GOAL["max_ratio"] for T, r in ratios.items()},
        },
    }
    return {
        "metrics": metrics,
        "params": {"sizes": size, "repeats": repeats, "warmup": warmup},
        "artifacts": {"samples_seconds": {T: d["samples"] for T, d in per_t.items()}},
    }


def headline(m: dict) -> str:
    r = "/".join(f"{v:.2f}" for v in m["ratio_tcsa_over_none"].values())
    Ts = "/".join(str(t) for t in m["time_steps"])
    return (
        f"tcsa/none seconds per step at T={Ts}: {r} "
        f"(goal <= {m['goal']['max_ratio']}: {m['goal']['met']}); "
        f"none {'/'.join(f'{v:.2f}' for v in m['median_seconds']['none'].values())} s"
    )
