# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # MA-DARTS search: spiking DARTS with multi-dimensional attention
#
# This notebook runs the differentiable search of MA-DARTS (Man et al., 2024) on one dataset:
# a spiking DARTS supernet whose cells end in a multi-dimensional (temporal, channel, spatial)
# attention module, trained by alternating weight steps on one half of the training split and
# architecture steps on the other half. It records, epoch by epoch, the architecture weights,
# the cell the weights point at, accuracy, and the number of spikes (NoS) of every cell on
# training and validation data. With `compare_plain = True` it also runs plain spiking DARTS
# (attention `none`) with the same seed and budget: its cells are the baseline of the
# retraining notebook, and the two runs give the cost of the attention per search step.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "digits"  # digits | digits-dvs | cifar10 | cifar100 | cifar10-dvs | dvs-gesture
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway: hours to days
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
attention = "tcsa"  # none | eca | cbam | tcsa
placement = "cell"  # cell | node: where the attention acts
gate = "scaled_sigmoid"  # scaled_sigmoid (2*sigmoid, 1 at init) | sigmoid (the original modules)
time_steps = 2  # T (the paper uses 2)
order = "first"  # first | second: DARTS approximation of the architecture gradient
macro = "none"  # none | depth: also search the number of cells per stage
compare_plain = True  # also search plain spiking DARTS (attention none), same seed and budget
threads = 1  # CPU intra-op threads (0: torch's default); 1 is fastest for these small tensors
resume = True  # continue this run's checkpoints if their settings match (False: start afresh)

# %% tags=["hide-input"]
from dataclasses import replace

import matplotlib.pyplot as plt
from myst_nb import glue

from snnlib.book.glue import glue_all
from snnlib.book.madarts_figures import (
    alphas_figure,
    cell_figures,
    nos_figure,
    search_accuracy_figure,
)
from snnlib.book.madarts_searches import (
    format_sharpness,
    run_searches,
    search_artifacts,
    search_glue_values,
)
from snnlib.book.madarts_summaries import search_metrics, sharpness_per_epoch
from snnlib.book.params import declared_params
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.darts import DartsArchitecture, SearchConfig, SupernetSpec, search_loaders
from snnlib.data import dataset_info, make_loaders
from snnlib.encoding import Encoder, default_encoding
from snnlib.models import count_parameters

params = declared_params("20_madarts_search", globals())
run, dev = start("20_madarts_search", params, threads=threads)

cfg = pick_scale(
    scale,
    {
        # seconds: a tiny supernet on a few batches, for tests
        "smoke": dict(
            image_size=8,
            C=2,
            layers=3,
            steps=4,
            batch_size=32,
            limit={"train": 128, "val": 64, "test": 64},
            search=SearchConfig(
                epochs=2,
                w_optimizer="adamw",
                w_lr=5e-3,
                w_lr_min=0.0,
                arch_lr=3e-3,
                max_batches=2,
                spike_batches=1,
                eval_batches=1,
            ),
        ),
        # a 2-core CPU in a few minutes: the native 8x8 digits, 4 initial channels, 5 cells
        # (reductions at 1/3 and 2/3), 4 nodes per cell, 12 epochs of 9 steps: 108 architecture
        # steps instead of DARTS' ~19,500 (50 epochs x 391 batches of 64 on 25,000 images). The
        # architecture learning rate keeps DARTS' total architecture movement, arch_lr x steps =
        # 3e-4 x 19,500 ~ 5.9, at 0.05 x 108 = 5.4 (with 6 epochs and 3e-3, a movement of 0.16,
        # the alphas never left uniform: the largest softmax weight per edge averaged 0.155
        # against 1/7 = 0.143, see alpha_sharpness below). AdamW for the weights, which moves a
        # spiking supernet much further than SGD at this budget.
        "cpu": dict(
            image_size=8,
            C=4,
            layers=5,
            steps=4,
            batch_size=64,
            limit=None,
            search=SearchConfig(
                epochs=12,
                w_optimizer="adamw",
                w_lr=5e-3,
                w_lr_min=0.0,
                arch_lr=0.05,
                spike_batches=2,
            ),
            # CIFAR-10 at 16x16 (area-resampled), a class-balanced 2,000 training images
            # (1,000 for the weights, 1,000 for the architecture), 5 epochs of 16 steps: about
            # 2.5 s per step on one core, 7 minutes for both searches. arch_lr x steps = 0.07 x
            # 80 = 5.6 keeps DARTS' total architecture movement, as for digits
            per_dataset={
                "cifar10": dict(
                    image_size=16,
                    limit={"train": 2000, "val": 500, "test": 500},
                    search=SearchConfig(
                        epochs=5,
                        w_optimizer="adamw",
                        w_lr=5e-3,
                        w_lr_min=0.0,
                        arch_lr=0.07,
                        spike_batches=2,
                    ),
                ),
            },
        ),
        # the papers' setting on a GPU: DARTS' search (8 cells, C = 16, 50 epochs, batch 64, SGD
        # 0.025 cosine, Adam 3e-4 for the architecture), full-size inputs
        "paper": dict(
            image_size=None,
            C=16,
            layers=8,
            steps=4,
            batch_size=64,
            limit=None,
            search=SearchConfig(epochs=50),
        ),
    },
    dataset,
)
cfg["search"] = replace(cfg["search"], order=order)  # the notebook's DARTS approximation
info = dataset_info(dataset, image_size=cfg["image_size"])
print(info)
print(cfg)

# %% [markdown]
# ## Data: the training split, halved
# The search never sees the test split. The training split is halved by a seeded permutation:
# weights are trained on one half, architecture parameters on the other. The validation split
# measures the supernet's accuracy and spikes after every epoch.

# %%
loaders = make_loaders(
    dataset,
    batch_size=cfg["batch_size"],
    time_steps=time_steps,
    limit=cfg["limit"],
    seed=seed,
    image_size=cfg["image_size"],
)
encoder = Encoder(default_encoding(info.kind), time_steps)
weight_loader, arch_loader = search_loaders(loaders["train"].dataset, cfg["batch_size"], seed=seed)
sizes = {
    "weights": len(weight_loader.dataset),
    "architecture": len(arch_loader.dataset),
    "validation": len(loaders["val"].dataset),
}
print("search data:", sizes, "| encoder:", encoder)


# %% [markdown]
# ## Search


# %%
spec = SupernetSpec(
    C=cfg["C"],
    layers=cfg["layers"],
    steps=cfg["steps"],
    time_steps=time_steps,
    attention=attention,
    placement=placement,
    gate=gate,
    macro=macro,
)
search_kw = dict(
    in_channels=info.in_channels,
    num_classes=info.num_classes,
    weight_loader=weight_loader,
    arch_loader=arch_loader,
    val_loader=loaders["val"],
    encoder=encoder,
    cfg=cfg["search"],
    seed=seed,
    device=dev,
)
# each checkpoint carries the record of every setting that determines it, and its name the
# record's hash: runs with other settings never share a file. A plain rerun resumes a
# compatible checkpoint (a finished one gives the same result at once); resume=False starts
# afresh and keeps the old file aside
identity = dict(
    scale=scale,
    device=dev.type,
    data=dict(
        dataset=dataset,
        image_size=cfg["image_size"],
        limit=cfg["limit"],
        batch_size=cfg["batch_size"],
        encoding=encoder.method,
        time_steps=time_steps,
    ),
)
search_kw["identity"] = identity
checkpoint_kw = dict(
    stem=f"20_madarts_search__{dataset}__{scale}",
    cfg=cfg["search"],
    seed=seed,
    in_channels=info.in_channels,
    num_classes=info.num_classes,
    identity=identity,
)
# the MA-DARTS search, then (compare_plain) plain spiking DARTS: same seed, budget and data
supernet, res, plain = run_searches(
    spec,
    compare_plain=compare_plain,
    resume=resume,
    checkpoint_kw=checkpoint_kw,
    label=dataset,
    **search_kw,
)
print(f"{attention}: {count_parameters(supernet)} supernet weights")

# %% [markdown]
# ## Architecture weights over the epochs
# Top: the softmax weight of every operation averaged over the 14 edges of a cell, epoch by
# epoch. Bottom: the final weights edge by edge; `(i, j)` is the edge from node `j` to node `i`
# (0 and 1 are the cell's inputs).

# %%
fig = alphas_figure(res.history, cfg["steps"])
glue("fig_alphas", fig, display=False)
plt.close(fig)

# %% [markdown]
# How decided the weights are: per epoch, the largest softmax weight per edge and the
# normalised entropy of the edge's weights, averaged over edges (uniform: 1/7 and 1; one-hot:
# 1 and 0). While they sit at uniform, the derived cells are decided by noise-sized differences.

# %%
sharpness = sharpness_per_epoch(res.history)
print(format_sharpness(sharpness))

# %% [markdown]
# ## The derived cells
# Per intermediate node, the two strongest incoming edges (ignoring `none`) and their
# strongest operation.

# %%
figs = cell_figures(res, f"MA-DARTS ({attention}), {dataset}", plain)
glue_all(figs)
plt.close("all")

# %% [markdown]
# ## Number of spikes per cell during the search
# NoS per image (all spiking layers of the cell, all T steps), on training data (first
# batches of the weight half) and on the validation split. Every candidate operation of the
# supernet spikes, whatever its weight.

# %%
fig = nos_figure(res, attention, plain)
glue("fig_nos", fig, display=False)
plt.close(fig)

# %%
fig = search_accuracy_figure(res, attention, plain)
glue("fig_search_acc", fig, display=False)
plt.close(fig)


# %% [markdown]
# ## Results


# %%
metrics = search_metrics(res, count_parameters(supernet), sharpness, plain)
glue_all(
    search_glue_values(
        metrics,
        res,
        plain,
        cfg=cfg,
        image_size=info.size[0],
        time_steps=time_steps,
        n_train=len(loaders["train"].dataset),
    )
)
print(metrics)

# the one record of the found architecture (and of the plain search's), read by 21 and 22
architecture = DartsArchitecture.from_search(spec, res, image_size=info.size[0], plain=plain)
artifacts = search_artifacts(
    res, plain, search_config=cfg["search"].to_dict(), split_sizes=sizes, sharpness=sharpness
)
path = run.write(metrics, architecture=architecture.to_dict(), artifacts=artifacts)
print("wrote", path)
