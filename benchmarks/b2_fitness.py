"""B2: fitness cost per candidate. The training-free RDM fitness of MSE-NAS against the
accuracy fitness (train the candidate one epoch, then score validation accuracy).

Both are the search's real evaluators (:class:`snnlib.mse.RDMEvaluator`,
:class:`snnlib.mse.AccuracyEvaluator`) called as the search calls them, ``fitness(genome,
seed)``, on random genomes of the search space at cpu-scale decoder settings, on the digits
data set: the RDM fitness on a class-balanced probe of ``n_per_class * 10`` training images,
the accuracy fitness on the whole training split (one epoch) and the validation split. For
every genome the evaluators run interleaved (:func:`snnlib.mse.cost.time_fitnesses`, which the
ablation notebook times with too), and the ratio ``accuracy / RDM`` is paired per genome and
repeat. Two more training-free fitnesses are timed beside them: SNASNet's SAHD
score (:class:`snnlib.mse.baselines.SAHDEvaluator`, two mini-batches of ``sahd_batch`` training
images, as in the proxy study) and a Hamming-distance RDM (binary spike patterns over time).

Goal: the RDM fitness is at least 100x cheaper per candidate than the accuracy fitness.
The accuracy fitness costs one training pass over the training split, the RDM fitness one
forward pass over the probe (plus the RDMs), so the ratio grows with the training split:
on digits (1079 training images against a 100-image probe) it is bounded by roughly
``3 * 1079 / 100``. The metrics give the training-split size at which the measured costs
would reach the goal's ratio.

The same two evaluators are then timed once more at the **CIFAR-10 shape**, the data the
paper searches on: 3 x 32 x 32 inputs, 45,000 training and 5,000 validation images (the
sizes of :mod:`snnlib.data`'s cifar10 splits), the cpu-scale decoder. No CIFAR files exist on
this machine, so the images are seeded Gaussian noise: the cost of a dense spiking forward
or training pass does not depend on pixel values (every convolution and membrane update
runs whatever the spikes are), only on shapes and counts. One full training epoch is timed
(minutes, so once), the RDM fitness with the usual repeats. The fitness *values* there are
meaningless and not reported; only seconds are.

**SpikeNAS-Bench proxies** (``metrics["spikenas"]``): the cost per candidate of the proxy
ledger (:func:`snnlib.spikenas.ledger.score_cell`, which scores one cell with every proxy
and records the seconds of each, the shared forward pass charged to every proxy that uses
it) at the two widths notebook 60 scores at cpu scale: the narrow ledger (width 1/16: 8/16
channels, a probe of 5 CIFAR-10 training images per class, grad-norm on 10 of them) and the
benchmark's full width (1.0: 128/256 channels, 2 images per class, as the notebook's
cross-width check), T = 5, on the real (embedded) CIFAR-10 probe. Cells are drawn by the
seed from the whole space; every cell is timed once per repeat (the full width costs tens of
seconds per cell).
"""

from __future__ import annotations

import gc
import time

import numpy as np
import torch

from .harness import BenchConfig, measure, paired_ratio, summary

NAME = "b2_fitness"
DATASET = "digits"
DESCRIPTION = "seconds per candidate: RDM fitness vs one-epoch accuracy fitness (MSE-NAS)"
GOAL = {"min_ratio": 100.0, "ratio": "accuracy_1epoch / rdm"}

SIZES = {
    "quick": dict(
        genomes=1,
        n_cells=3,
        width=4,
        stem_stride=2,
        time_steps=2,
        n_per_class=2,
        train_limit=40,
        val_limit=20,
        batch_size=20,
        sahd_batch=4,
    ),
    "full": dict(
        genomes=3,
        n_cells=6,
        width=8,
        stem_stride=2,
        time_steps=4,
        n_per_class=10,
        train_limit=None,
        val_limit=None,
        batch_size=64,
        sahd_batch=32,
    ),
}
# CIFAR-10-shaped timing (synthetic pixels): the cifar10 split sizes, the cpu-scale decoder
CIFAR_SHAPE = {
    "quick": dict(
        n_train=40,
        n_val=20,
        channels=3,
        image=32,
        classes=10,
        width=4,
        stem_stride=2,
        time_steps=2,
        n_per_class=2,
        batch_size=20,
    ),
    "full": dict(
        n_train=45000,
        n_val=5000,
        channels=3,
        image=32,
        classes=10,
        width=8,
        stem_stride=2,
        time_steps=4,
        n_per_class=10,
        batch_size=64,
    ),
}


def _tensors(split: str, limit: int | None, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    from snnlib.data import load_dataset

    ds = load_dataset("digits", split, limit=limit, seed=seed)
    xs, ys = zip(*(ds[i] for i in range(len(ds))))
    return torch.stack(xs), torch.tensor(ys)


def build_evaluators(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    val_x: torch.Tensor,
    val_y: torch.Tensor,
    data,
    net,
    *,
    n_per_class: int,
    probe_classes: int | None,
    batch_size: int,
    seed: int,
    sahd_batch: int | None = None,
    device: str = "cpu",
) -> dict:
    """The search's fitness evaluators on these tensors (``data``: a
    :class:`snnlib.mse.DataSpec`, ``net``: a :class:`snnlib.mse.NetConfig`).

    ``rdm``: the RDM fitness on a class-balanced probe of ``n_per_class`` training images per
    class (``probe_classes``: the number of classes, None: those present); with
    ``sahd_batch``, also ``sahd`` (SAHD on two mini-batches of ``sahd_batch`` training images)
    and ``rdm_hamming`` (the Hamming-distance RDM on the same probe); ``accuracy_1epoch``: one
    training epoch on the training tensors in batches of ``batch_size``, then validation
    accuracy. Keys in that order.
    """
    from snnlib.mse import AccuracyEvaluator, RDMConfig, RDMEvaluator, class_balanced
    from snnlib.mse.baselines import SAHDEvaluator
    from snnlib.train import TrainConfig

    px, py = class_balanced(train_x, train_y, n_per_class, seed=seed, num_classes=probe_classes)
    evs = {
        "rdm": RDMEvaluator(px, py, data, RDMConfig(n_per_class=n_per_class), net, device=device)
    }
    if sahd_batch is not None:
        hamming = RDMEvaluator(
            px,
            py,
            data,
            RDMConfig(metric="hamming", comparison="kendall", n_per_class=n_per_class),
            net,
            device=device,
        )
        evs["sahd"] = SAHDEvaluator(
            train_x[: 2 * sahd_batch], data, net=net, n_batches=2, device=device
        )
        evs["rdm_hamming"] = hamming
    evs["accuracy_1epoch"] = AccuracyEvaluator(
        train_x,
        train_y,
        val_x,
        val_y,
        data,
        TrainConfig(epochs=1),
        batch_size=batch_size,
        net=net,
        device=device,
    )
    return evs


def evaluators(size: dict, seed: int, device: str = "cpu"):
    """The RDM, SAHD, Hamming-RDM and accuracy evaluators of a benchmark size, and the space."""
    from snnlib.mse import DataSpec, NetConfig, SearchSpace

    train_x, train_y = _tensors("train", size["train_limit"], seed)
    val_x, val_y = _tensors("val", size["val_limit"], seed)
    n = size["n_per_class"]
    limited = size["train_limit"] is not None
    if limited:  # tiny splits: fewer classes may be present
        counts = torch.bincount(train_y, minlength=10)
        n = max(2, min(n, int(counts[counts > 0].min())))
    evs = build_evaluators(
        train_x,
        train_y,
        val_x,
        val_y,
        DataSpec(1, 10, "direct", size["time_steps"]),
        NetConfig(width=size["width"], stem_stride=size["stem_stride"]),
        n_per_class=n,
        probe_classes=None if limited else 10,
        batch_size=size["batch_size"],
        seed=seed,
        sahd_batch=size["sahd_batch"],
        device=device,
    )
    return evs, SearchSpace(n_cells=size["n_cells"])


def cifar_shape_costs(
    size: dict, genome, seed: int, repeats: int, warmup: int, device: str = "cpu"
) -> dict:
    """Seconds per candidate of the RDM and the one-epoch accuracy fitness at CIFAR-10 shape.

    Synthetic Gaussian images with balanced labels (timing only); one genome (one that is not
    silent on digits, so that the RDM side does all its work); the accuracy fitness is timed
    once (one epoch over ``n_train`` images is minutes on a CPU).
    """
    from snnlib.mse import DataSpec, NetConfig

    gen = torch.Generator().manual_seed(seed)
    shape = (size["channels"], size["image"], size["image"])
    n = size["n_train"] + size["n_val"]
    x = torch.randn((n, *shape), generator=gen)
    y = torch.arange(n) % size["classes"]
    evs = build_evaluators(
        x[: size["n_train"]],
        y[: size["n_train"]],
        x[size["n_train"] :],
        y[size["n_train"] :],
        DataSpec(size["channels"], size["classes"], "direct", size["time_steps"]),
        NetConfig(width=size["width"], stem_stride=size["stem_stride"]),
        n_per_class=size["n_per_class"],
        probe_classes=size["classes"],
        batch_size=size["batch_size"],
        seed=seed,
        device=device,
    )
    rdm, acc = evs["rdm"], evs["accuracy_1epoch"]
    rdm_s = measure({"rdm": lambda: rdm(genome, seed)}, repeats, warmup, device=device)["rdm"]
    acc_s = measure({"accuracy_1epoch": lambda: acc(genome, seed)}, 1, 0, device=device)[
        "accuracy_1epoch"
    ]
    ratio = summary(acc_s)["median"] / summary(rdm_s)["median"]
    return {
        "seconds_per_candidate": {"rdm": summary(rdm_s), "accuracy_1epoch": summary(acc_s)},
        "ratio": ratio,
        "train_images": size["n_train"],
        "val_images": size["n_val"],
        "probe_images": int(rdm.x.shape[0]),
        "input_shape": list(shape),
        "genome": genome.hash()[:10],
        "data": "synthetic Gaussian pixels (timing only; fitness values not meaningful)",
        "goal": {**GOAL, "value": ratio, "met": ratio >= GOAL["min_ratio"]},
    }


# notebook 60's cpu-scale ledger widths (narrow ledger, full-width cross-check)
SPIKENAS_SIZES = {
    "quick": {
        "narrow": dict(width=1 / 32, time_steps=2, n_per_class=2, grad_batch=4, cells=1),
        "wide": dict(width=1 / 8, time_steps=2, n_per_class=2, grad_batch=4, cells=1),
    },
    "full": {
        "narrow": dict(width=1 / 16, time_steps=5, n_per_class=5, grad_batch=10, cells=5),
        "wide": dict(width=1.0, time_steps=5, n_per_class=2, grad_batch=10, cells=2),
    },
}


def spikenas_costs(sizes: dict, seed: int, repeats: int, threads: int | None = 1) -> dict:
    """Seconds per candidate of the SpikeNAS-Bench proxy ledger at each width of ``sizes``:
    the whole :func:`~snnlib.spikenas.ledger.score_cell` call (every proxy of one cell) and
    each proxy's own seconds as the ledger records them, medians over cells and repeats."""
    from snnlib.spikenas.ledger import LedgerConfig, cifar_probe, score_cell
    from snnlib.spikenas.space import N_ARCHS

    out = {}
    for label, sz in sizes.items():
        probe = cifar_probe(sz["n_per_class"], seed)
        lc = LedgerConfig(
            width=sz["width"],
            time_steps=sz["time_steps"],
            seed=seed,
            grad_batch=min(sz["grad_batch"], len(probe.y)),
            threads=threads,
        )
        rng = np.random.default_rng(seed)
        ids = [int(a) for a in rng.choice(N_ARCHS, sz["cells"], replace=False)]
        walls, per_proxy = [], {}
        for _ in range(repeats):
            for a in ids:
                gc.collect()
                t0 = time.perf_counter()
                row = score_cell(a, probe, lc)
                walls.append(time.perf_counter() - t0)
                for k, v in row["seconds"].items():
                    per_proxy.setdefault(k, []).append(v)
        out[label] = {
            "width": sz["width"],
            "channels": [max(1, round(128 * sz["width"])), max(1, round(256 * sz["width"]))],
            "time_steps": sz["time_steps"],
            "probe_images": len(probe.y),
            "grad_batch": lc.grad_batch,
            "arch_ids": ids,
            "seconds_per_candidate": summary(walls),
            "proxy_seconds": {k: summary(v)["median"] for k, v in per_proxy.items()},
        }
    return out


def rdm_breakdown(ev, genome, seed: int, repeats: int, device: str = "cpu") -> dict:
    """Median milliseconds of the three parts of one RDM fitness call: building the network
    (module construction and initialisation), the probe forward pass with spike recording,
    and the RDMs and their comparison with the target (one per spiking layer)."""
    from snnlib.nas.rdm import aggregate, record_responses

    model = ev.build(genome, seed)
    x = ev.data.encoder()(ev.x).to(device)
    responses = record_responses(model, x, ev.cfg.temporal, ev.cfg.batch_stats)
    target = ev.target()
    parts = {
        "build": lambda: ev.build(genome, seed),
        "forward": lambda: record_responses(model, x, ev.cfg.temporal, ev.cfg.batch_stats),
        "rdms_and_comparison": lambda: aggregate(responses, target, ev.cfg),
    }
    samples = measure(parts, repeats, 1, device=device)
    return {
        "ms": {k: 1e3 * summary(v)["median"] for k, v in samples.items()},
        "layers": len(responses),
    }


def run(cfg: BenchConfig) -> dict:
    from snnlib.mse import sample_genomes
    from snnlib.mse.cost import time_fitnesses

    size = SIZES["quick" if cfg.quick else "full"]
    dev = str(cfg.torch_device)
    evs, space = evaluators(size, cfg.seed, dev)
    rng = np.random.default_rng(cfg.seed)
    genomes = sample_genomes(rng, space, size["genomes"], distinct=False)
    repeats, warmup = cfg.n_repeats(2), cfg.n_warmup(1)
    costs = time_fitnesses(evs, genomes, cfg.seed, repeats=repeats, warmup=warmup, device=dev)
    samples, fitness = costs.seconds, costs.values
    ratio = paired_ratio(samples["accuracy_1epoch"], samples["rdm"])
    n_train = int(evs["accuracy_1epoch"].train_x.shape[0])
    ratio_h = paired_ratio(samples["accuracy_1epoch"], samples["rdm_hamming"])
    ratio_s = paired_ratio(samples["accuracy_1epoch"], samples["sahd"])
    metrics = {
        "seconds_per_candidate": {k: summary(v) for k, v in samples.items()},
        "median_seconds": {k: summary(v)["median"] for k, v in samples.items()},
        "ratio_accuracy_over_rdm": ratio,
        "ratio_accuracy_over_rdm_hamming": ratio_h,
        "ratio": ratio["median"],
        "ratio_hamming": ratio_h["median"],
        "ratio_accuracy_over_sahd": ratio_s,
        "ratio_sahd": ratio_s["median"],
        "fitness_values": fitness,
        "genomes": [g.hash()[:10] for g in genomes],
        "probe_images": int(evs["rdm"].x.shape[0]),
        "train_images": n_train,
        "val_images": int(evs["accuracy_1epoch"].val_x.shape[0]),
        # the accuracy fitness grows with the training split, the RDM fitness with the probe:
        # the training-set size at which the measured costs would give the goal's ratio
        "accuracy_seconds_per_train_image": summary(samples["accuracy_1epoch"])["median"] / n_train,
        "train_images_for_goal_ratio": GOAL["min_ratio"]
        * summary(samples["rdm"])["median"]
        / (summary(samples["accuracy_1epoch"])["median"] / n_train),
        "checks": {
            "all_passed": all(np.isfinite(v).all() for v in fitness.values()),
            "fitness_finite": {k: bool(np.isfinite(v).all()) for k, v in fitness.items()},
        },
        "goal": {**GOAL, "value": ratio["median"], "met": ratio["median"] >= GOAL["min_ratio"]},
    }
    # a genome whose output layer spikes (a silent one skips the RDMs and scores 0)
    working = next((g for g, f in zip(genomes, fitness["rdm"]) if f != 0), genomes[0])
    metrics["rdm_breakdown"] = rdm_breakdown(evs["rdm"], working, cfg.seed, cfg.n_repeats(10), dev)
    cifar_size = CIFAR_SHAPE["quick" if cfg.quick else "full"]
    metrics["cifar10_shape"] = cifar_shape_costs(
        cifar_size, working, cfg.seed, cfg.n_repeats(5), warmup, dev
    )
    sn_sizes = SPIKENAS_SIZES["quick" if cfg.quick else "full"]
    metrics["spikenas"] = spikenas_costs(sn_sizes, cfg.seed, cfg.n_repeats(1), threads=cfg.threads)
    return {
        "metrics": metrics,
        "params": {
            "sizes": size,
            "cifar10_shape_sizes": cifar_size,
            "spikenas_sizes": sn_sizes,
            "repeats": repeats,
            "warmup": warmup,
        },
        "artifacts": {"samples_seconds": samples},
    }


def headline(m: dict) -> str:
    med = m["median_seconds"]
    c = m["cifar10_shape"]
    return (
        f"RDM {med['rdm'] * 1e3:.0f} ms, SAHD {med['sahd'] * 1e3:.0f} ms, "
        f"Hamming RDM {med['rdm_hamming'] * 1e3:.0f} ms, "
        f"1-epoch accuracy {med['accuracy_1epoch']:.2f} s per candidate: ratio {m['ratio']:.0f}x "
        f"(goal >= {m['goal']['min_ratio']:.0f}x: {m['goal']['met']}); at CIFAR-10 shape "
        f"RDM {c['seconds_per_candidate']['rdm']['median']:.3f} s, 1-epoch accuracy "
        f"{c['seconds_per_candidate']['accuracy_1epoch']['median']:.0f} s: {c['ratio']:.0f}x "
        f"(goal: {c['goal']['met']}); SpikeNAS-Bench proxies per cell: "
        + ", ".join(
            f"width {v['width']:g} {v['seconds_per_candidate']['median']:.2f} s"
            for v in m.get("spikenas", {}).values()
        )
    )
