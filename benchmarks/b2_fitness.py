"""B2: fitness cost per candidate. The training-free RDM fitness of MSE-NAS against the
accuracy fitness (train the candidate one epoch, then score validation accuracy).

Both are the search's real evaluators (:class:`snnlib.mse.RDMEvaluator`,
:class:`snnlib.mse.AccuracyEvaluator`) called as the search calls them, ``fitness(genome,
seed)``, on random genomes of the search space at cpu-scale decoder settings, on the digits
data set: the RDM fitness on a class-balanced probe of ``n_per_class * 10`` training images,
the accuracy fitness on the whole training split (one epoch) and the validation split. For
every genome the evaluators run interleaved, and the ratio ``accuracy / RDM`` is paired per
genome and repeat. A Hamming-distance RDM (binary spike patterns over time, the closest
relative of a SAHD score in ``snnlib.mse``) is timed as a second training-free fitness.

Goal: the RDM fitness is at least 100x cheaper per candidate than the accuracy fitness.
The accuracy fitness costs one training pass over the training split, the RDM fitness one
forward pass over the probe (plus the RDMs), so the ratio grows with the training split:
on digits (1079 training images against a 100-image probe) it is bounded by roughly
``3 * 1079 / 100``. The metrics give the training-split size at which the measured costs
would reach the goal's ratio.
"""

from __future__ import annotations

import numpy as np
import torch

from .harness import BenchConfig, measure, paired_ratio, summary

NAME = "b2_fitness"
DATASET = "digits"
DESCRIPTION = "seconds per candidate: RDM fitness vs one-epoch accuracy fitness (MSE-NAS)"
GOAL = {"min_ratio": 100.0, "ratio": "accuracy_1epoch / rdm"}

SIZES = {
    "quick": dict(genomes=1, n_cells=3, width=4, stem_stride=2, time_steps=2, n_per_class=2,
                  train_limit=40, val_limit=20, batch_size=20),
    "full": dict(genomes=3, n_cells=6, width=8, stem_stride=2, time_steps=4, n_per_class=10,
                 train_limit=None, val_limit=None, batch_size=64),
}


def _tensors(split: str, limit: int | None, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    from snnlib.data import load_dataset

    ds = load_dataset("digits", split, limit=limit, seed=seed)
    xs, ys = zip(*(ds[i] for i in range(len(ds))))
    return torch.stack(xs), torch.tensor(ys)


def evaluators(size: dict, seed: int, device: str = "cpu"):
    """The RDM, Hamming-RDM and accuracy evaluators of a benchmark size, and the search space."""
    from snnlib.mse import (AccuracyEvaluator, DataSpec, NetConfig, RDMEvaluator, RDMFitness, SearchSpace,
                            class_balanced)
    from snnlib.train import TrainConfig

    train_x, train_y = _tensors("train", size["train_limit"], seed)
    val_x, val_y = _tensors("val", size["val_limit"], seed)
    data = DataSpec(1, 10, "direct", size["time_steps"])
    net = NetConfig(width=size["width"], stem_stride=size["stem_stride"])
    n = size["n_per_class"]
    if size["train_limit"] is not None:       # tiny splits: fewer classes may be present
        counts = torch.bincount(train_y, minlength=10)
        n = max(2, min(n, int(counts[counts > 0].min())))
    px, py = class_balanced(train_x, train_y, n, seed=seed,
                            num_classes=None if size["train_limit"] is not None else 10)
    rdm = RDMEvaluator(px, py, data, RDMFitness(n_per_class=n), net, device=device)
    hamming = RDMEvaluator(px, py, data, RDMFitness(metric="hamming", comparison="kendall", n_per_class=n), net,
                           device=device)
    acc = AccuracyEvaluator(train_x, train_y, val_x, val_y, data, TrainConfig(epochs=1),
                            batch_size=size["batch_size"], net=net, device=device)
    return {"rdm": rdm, "rdm_hamming": hamming, "accuracy_1epoch": acc}, SearchSpace(n_cells=size["n_cells"])


def run(cfg: BenchConfig) -> dict:
    from snnlib.mse import random_genome

    size = SIZES["quick" if cfg.quick else "full"]
    dev = str(cfg.torch_device)
    evs, space = evaluators(size, cfg.seed, dev)
    rng = np.random.default_rng(cfg.seed)
    genomes = [random_genome(rng, space) for _ in range(size["genomes"])]
    repeats, warmup = cfg.n_repeats(2), cfg.n_warmup(1)
    samples: dict[str, list[float]] = {k: [] for k in evs}
    fitness: dict[str, list[float]] = {k: [] for k in evs}
    for g in genomes:
        vals = {}

        def call(name, g=g):
            def fn():
                vals[name] = evs[name](g, cfg.seed)
            return fn

        s = measure({k: call(k) for k in evs}, repeats, warmup if g is genomes[0] else 0, device=dev)
        for k in evs:
            samples[k] += s[k]
            fitness[k].append(vals[k])
    ratio = paired_ratio(samples["accuracy_1epoch"], samples["rdm"])
    n_train = int(evs["accuracy_1epoch"].train_x.shape[0])
    ratio_h = paired_ratio(samples["accuracy_1epoch"], samples["rdm_hamming"])
    metrics = {
        "seconds_per_candidate": {k: summary(v) for k, v in samples.items()},
        "median_seconds": {k: summary(v)["median"] for k, v in samples.items()},
        "ratio_accuracy_over_rdm": ratio,
        "ratio_accuracy_over_rdm_hamming": ratio_h,
        "ratio": ratio["median"],
        "ratio_hamming": ratio_h["median"],
        "fitness_values": fitness,
        "genomes": [g.hash()[:10] for g in genomes],
        "probe_images": int(evs["rdm"].x.shape[0]),
        "train_images": n_train,
        "val_images": int(evs["accuracy_1epoch"].val_x.shape[0]),
        # the accuracy fitness grows with the training split, the RDM fitness with the probe:
        # the training-set size at which the measured costs would give the goal's ratio
        "accuracy_seconds_per_train_image": summary(samples["accuracy_1epoch"])["median"] / n_train,
        "train_images_for_goal_ratio": GOAL["min_ratio"] * summary(samples["rdm"])["median"]
        / (summary(samples["accuracy_1epoch"])["median"] / n_train),
        "sahd": "not in snnlib.mse (no SAHD score found); rdm_hamming is timed instead",
        "checks": {"all_passed": all(np.isfinite(v).all() for v in fitness.values()),
                   "fitness_finite": {k: bool(np.isfinite(v).all()) for k, v in fitness.items()}},
        "goal": {**GOAL, "value": ratio["median"], "met": ratio["median"] >= GOAL["min_ratio"]},
    }
    return {"metrics": metrics,
            "params": {"sizes": size, "repeats": repeats, "warmup": warmup},
            "artifacts": {"samples_seconds": samples}}


def headline(m: dict) -> str:
    med = m["median_seconds"]
    return (f"RDM {med['rdm'] * 1e3:.0f} ms, Hamming RDM {med['rdm_hamming'] * 1e3:.0f} ms, "
            f"1-epoch accuracy {med['accuracy_1epoch']:.2f} s per candidate: ratio {m['ratio']:.0f}x "
            f"(goal >= {m['goal']['min_ratio']:.0f}x: {m['goal']['met']})")
