"""B6: training throughput of the book's CIFAR-10 retraining recipe, and how close its
convolutions come to the machine's peak convolution rate, measured in the same run.

**The recipe** is notebook 11's cpu-scale cifar10 retraining (and notebook 00's cifar10
substrate run, the same network and settings): T = 2, direct encoding, batch 64, AdamW at
lr 5e-3 with cosine schedule and one warm-up epoch, label smoothing 0.1, gradient clipping,
on the embedded CIFAR-10 training images (:func:`snnlib.mse.experiment.load_tensors`, the
loader of :class:`~snnlib.mse.experiment.TensorData` shuffled by the seed). Two networks:

- ``spiking_cnn``: ``SpikingCNN(3, 10, width=16)`` (notebook 11's ``cnn_width``, notebook 00's
  ``width``), the default backend;
- ``found``: the genome the CIFAR-10 MSE-NAS search found (``data/results/10_mse_search__
  cifar10__cpu__seed0.json``), decoded with ``NetConfig(width=8, stem_stride=2)`` as notebook
  11 retrains it; a seeded random genome of the 6-cell space when that file is missing (the
  file says which).

Each timed round runs :func:`snnlib.train.train_epoch`, the loop every retraining uses, over
``steps`` batches (``TrainConfig.max_batches``); images per second = ``steps * batch`` / wall
seconds. The convolution FLOPs of one training step (forward and backward) are counted with
``torch.utils.flop_counter.FlopCounterMode`` (aten convolution and convolution_backward; the
LIF kernels, batch norm and optimizer are not FLOP-counted work) and divided by the measured
step time: the recipe's **conv FLOP/s**.

**The peak** is a well-shaped convolution timed interleaved with the recipe, on **one
thread**: ``conv2d`` 64 -> 64 channels, 3 x 3, padding 1, on 32 x 32 inputs, batch 64,
float32, forward and backward (input and weight gradients), in NCHW and in channels-last;
the faster layout is the peak (its FLOPs counted the same way). ``fraction_of_peak`` = the
recipe's conv FLOP/s / (peak one-thread FLOP/s x the recipe's torch threads): how close the
recipe is to what the core's vector units deliver on convolutions.
"""

from __future__ import annotations

import json

import torch
import torch.nn.functional as F
from torch import nn

from .harness import BenchConfig, measure, paired_ratio, summary

NAME = "b6_throughput"
DATASET = "cifar10"
DESCRIPTION = (
    "images/s of the book's CIFAR-10 retraining recipe, its conv FLOP/s and the fraction of "
    "the one-thread peak conv FLOP/s measured in the same run"
)
SEARCH_RESULT = "10_mse_search__cifar10__cpu__seed0.json"

SIZES = {
    "quick": dict(
        time_steps=2,
        batch=8,
        steps=2,
        cnn_width=4,
        net_width=4,
        stem_stride=2,
        n_cells=3,
        peak=dict(channels=16, side=16, batch=4, iters=1),
    ),
    "full": dict(
        time_steps=2,
        batch=64,
        steps=20,
        cnn_width=16,
        net_width=8,
        stem_stride=2,
        n_cells=6,
        peak=dict(channels=64, side=32, batch=64, iters=3),
    ),
}
RECIPE = dict(epochs=8, lr=5e-3, warmup_epochs=1)  # notebook 11, cpu, cifar10


def conv_flops(fn) -> dict:
    """FLOPs of one call of ``fn`` by ``FlopCounterMode``: convolutions (forward and backward)
    and everything it counts."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    per_op = {str(k): int(v) for k, v in counter.get_flop_counts()["Global"].items()}
    conv = sum(v for k, v in per_op.items() if "convolution" in k)
    return {"conv": conv, "total": int(counter.get_total_flops()), "per_op": per_op}


def found_genome(size: dict, seed: int):
    """The CIFAR-10 search's genome from its result file, else a seeded random one."""
    import numpy as np

    from snnlib.mse import SearchSpace, from_dict, sample_genomes
    from snnlib.paths import results_dir

    path = results_dir() / SEARCH_RESULT
    if not size.get("random_genome"):
        try:
            return from_dict(json.loads(path.read_text())["architecture"]), path.name
        except (OSError, ValueError, KeyError):
            pass
    rng = np.random.default_rng(seed)
    genome = sample_genomes(rng, SearchSpace(n_cells=size["n_cells"]), 1)[0]
    return genome, f"random genome (no {path.name})"


def recipe_models(size: dict, seed: int, quick: bool) -> tuple[dict[str, nn.Module], str]:
    """The two networks of the recipe, seeded."""
    from snnlib.models import SpikingCNN
    from snnlib.mse import NetConfig, RetrainableGenome

    torch.manual_seed(seed)
    cnn = SpikingCNN(3, 10, width=size["cnn_width"])
    genome, source = found_genome({**size, "random_genome": quick}, seed)
    torch.manual_seed(seed)
    net = RetrainableGenome(
        genome, NetConfig(width=size["net_width"], stem_stride=size["stem_stride"])
    ).build(3, 10)
    return {"spiking_cnn": cnn, "found": net}, source


def recipe_round(model: nn.Module, data, size: dict, seed: int, device):
    """A callable that trains ``model`` for ``steps`` batches exactly as the recipe does."""
    from snnlib.train import TrainConfig, cosine_with_warmup, make_optimizer, train_epoch

    cfg = TrainConfig(**RECIPE, max_batches=size["steps"])
    loader = data.loader("train", size["batch"], seed)
    optimizer = make_optimizer(model.parameters(), cfg)
    per_epoch = min(len(loader), size["steps"])
    scheduler = cosine_with_warmup(optimizer, per_epoch * cfg.epochs, per_epoch * cfg.warmup_epochs)
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    encoder = data.spec.encoder()
    model.to(device)

    def call():
        train_epoch(model, loader, encoder, optimizer, scheduler, criterion, device, cfg)

    def one_step():  # one batch's forward + backward, for the FLOP count
        x, y = next(iter(loader))
        model.zero_grad(set_to_none=True)
        criterion(model(encoder(x.to(device))), y.to(device)).backward()

    return call, one_step


def peak_conv(channels: int, side: int, batch: int, iters: int, channels_last: bool, seed: int):
    """``iters`` forward + backward passes of one 3 x 3 conv2d (one thread); and one pass."""
    from snnlib.runtime import torch_threads

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, channels, side, side, generator=g)
    w = torch.randn(channels, channels, 3, 3, generator=g) * 0.05
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = x.contiguous(memory_format=fmt).requires_grad_(True)
    w = w.contiguous(memory_format=fmt).requires_grad_(True)

    def one():
        x.grad = w.grad = None
        F.conv2d(x, w, padding=1).sum().backward()

    def call():
        with torch_threads(1):
            for _ in range(iters):
                one()

    return call, one


def run(cfg: BenchConfig) -> dict:
    from snnlib.mse.experiment import load_tensors

    size = SIZES["quick" if cfg.quick else "full"]
    dev = cfg.torch_device
    n_train = size["steps"] * size["batch"]
    data = load_tensors(
        "cifar10",
        size["time_steps"],
        seed=cfg.seed,
        limit={"train": max(n_train, 20), "val": 20, "test": 20},
    )
    models, genome_source = recipe_models(size, cfg.seed, cfg.quick)
    calls, flops = {}, {}
    for name, model in models.items():
        calls[name], one_step = recipe_round(model, data, size, cfg.seed, dev)
        flops[name] = conv_flops(one_step)
    p = size["peak"]
    for layout in ("nchw", "channels_last"):
        call, one = peak_conv(
            p["channels"], p["side"], p["batch"], p["iters"], layout == "channels_last", cfg.seed
        )
        calls[f"peak_conv_{layout}"] = call
        flops[f"peak_conv_{layout}"] = conv_flops(one)
    samples = measure(calls, cfg.n_repeats(5), cfg.n_warmup(1), device=dev)

    peak = {}
    for layout in ("nchw", "channels_last"):
        name = f"peak_conv_{layout}"
        per_s = [p["iters"] * flops[name]["conv"] / s for s in samples[name]]
        peak[layout] = {"gflops_per_s": summary([v / 1e9 for v in per_s])}
    best_layout = max(peak, key=lambda k: peak[k]["gflops_per_s"]["median"])
    peak_gflops = peak[best_layout]["gflops_per_s"]["median"]
    threads = torch.get_num_threads()
    recipes = {}
    for name in models:
        images = [size["steps"] * size["batch"] / s for s in samples[name]]
        gflops = [size["steps"] * flops[name]["conv"] / s / 1e9 for s in samples[name]]
        # paired per round with the best layout's peak of the same round
        peak_round = [
            p["iters"] * flops[f"peak_conv_{best_layout}"]["conv"] / s / 1e9
            for s in samples[f"peak_conv_{best_layout}"]
        ]
        fractions = [r / (q * threads) for r, q in zip(gflops, peak_round)]
        recipes[name] = {
            "images_per_second": summary(images),
            "conv_gflops_per_step": flops[name]["conv"] / 1e9,
            "conv_gflop_per_image": flops[name]["conv"] / size["batch"] / 1e9,
            "counted_gflops_per_step": flops[name]["total"] / 1e9,
            "conv_gflops_per_s": summary(gflops),
            "fraction_of_peak": summary(fractions),
        }
    metrics = {
        "recipe": {
            **RECIPE,
            "time_steps": size["time_steps"],
            "batch": size["batch"],
            "steps_per_round": size["steps"],
            "data": f"cifar10 ({data.name}, {len(data.train[1])} training images)",
            "found_genome": genome_source,
        },
        "networks": recipes,
        "images_per_second": {k: v["images_per_second"]["median"] for k, v in recipes.items()},
        "fraction_of_peak": {k: v["fraction_of_peak"]["median"] for k, v in recipes.items()},
        "peak_conv": {
            "shape": dict(p, kernel=3, dtype="float32", threads=1),
            "per_layout": peak,
            "best_layout": best_layout,
            "gflops_per_s": peak_gflops,
            "gflops_per_pass": flops[f"peak_conv_{best_layout}"]["conv"] / 1e9,
            "channels_last_over_nchw": paired_ratio(
                samples["peak_conv_nchw"], samples["peak_conv_channels_last"]
            ),
        },
        "recipe_threads": threads,
        "flop_counter": "torch.utils.flop_counter.FlopCounterMode (aten convolution ops)",
    }
    return {
        "metrics": metrics,
        "params": {"sizes": size, "repeats": cfg.n_repeats(5), "warmup": cfg.n_warmup(1)},
        "artifacts": {"samples_seconds": samples},
    }


def headline(m: dict) -> str:
    parts = [
        f"{k} {v['images_per_second']['median']:.0f} img/s, "
        f"{v['conv_gflops_per_s']['median']:.1f} GFLOP/s conv "
        f"({100 * v['fraction_of_peak']['median']:.0f}% of peak)"
        for k, v in m["networks"].items()
    ]
    pk = m["peak_conv"]
    return "; ".join(parts) + (
        f" | peak conv {pk['gflops_per_s']:.1f} GFLOP/s on 1 thread ({pk['best_layout']})"
    )
