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
import matplotlib.pyplot as plt
import numpy as np
from myst_nb import glue

from snnlib.book.madarts_summaries import search_metrics, sharpness_per_epoch
from snnlib.book.params import declared_params
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.darts import (
    PRIMITIVES,
    SearchConfig,
    SupernetSpec,
    cell_edges,
    format_genotype,
    genotype_to_dict,
    layout_to_dict,
    plot_cell,
    search_loaders,
    seeded_search,
    seeded_search_checkpoint,
)
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
if order != cfg["search"].order:
    cfg["search"] = SearchConfig(**{**cfg["search"].to_dict(), "order": order})
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
search_kw["resume"] = "auto" if resume else False
search_kw["identity"] = identity
checkpoint_kw = dict(
    stem=f"20_madarts_search__{dataset}__{scale}",
    cfg=cfg["search"],
    seed=seed,
    in_channels=info.in_channels,
    num_classes=info.num_classes,
    identity=identity,
)

supernet, res = seeded_search(
    spec,
    checkpoint=seeded_search_checkpoint(spec, **checkpoint_kw),
    desc=f"search {attention} {dataset}",
    **search_kw,
)
last = res.history[-1]
print(
    f"{attention}: {res.seconds:.1f} s, {res.step_seconds:.3f} s per step, "
    f"{count_parameters(supernet)} weights; final supernet val acc {last['val_acc']:.3f}, "
    f"NoS {last['nos_val']:.0f}"
)
print(format_genotype(res.genotype))
if macro == "depth":
    print("searched layout:", res.layout)

plain = None
if compare_plain and attention != "none":
    plain_net, plain = seeded_search(
        spec.with_attention("none"),
        checkpoint=seeded_search_checkpoint(spec.with_attention("none"), **checkpoint_kw),
        desc=f"search none {dataset}",
        **search_kw,
    )
    print(
        f"none: {plain.seconds:.1f} s, {plain.step_seconds:.3f} s per step; final supernet val acc "
        f"{plain.history[-1]['val_acc']:.3f}"
    )
    print(format_genotype(plain.genotype))

# %% [markdown]
# ## Architecture weights over the epochs
# Top: the softmax weight of every operation averaged over the 14 edges of a cell, epoch by
# epoch. Bottom: the final weights edge by edge; `(i, j)` is the edge from node `j` to node `i`
# (0 and 1 are the cell's inputs).

# %%
epochs = np.array([h["epoch"] for h in res.history])
fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), gridspec_kw={"height_ratios": [1, 1.6]})
for col, cell in enumerate(("normal", "reduce")):
    per_epoch = np.array(
        [np.mean(h[f"alphas_{cell}"], axis=0) for h in res.history]
    )  # [epochs, ops]
    ax = axes[0, col]
    im = ax.imshow(
        per_epoch.T,
        aspect="auto",
        cmap="viridis",
        extent=(epochs[0] - 0.5, epochs[-1] + 0.5, len(PRIMITIVES) - 0.5, -0.5),
    )
    ax.set_yticks(range(len(PRIMITIVES)))
    _ = ax.set_yticklabels(PRIMITIVES)
    _ = ax.set(xlabel="epoch", title=f"{cell} cell: mean softmax weight per operation")
    fig.colorbar(im, ax=ax)
    final = np.array(res.history[-1][f"alphas_{cell}"])
    ax = axes[1, col]
    im = ax.imshow(final, aspect="auto", cmap="magma")
    ax.set_xticks(range(len(PRIMITIVES)))
    _ = ax.set_xticklabels(PRIMITIVES, rotation=40, ha="right")
    edges = cell_edges(cfg["steps"])
    ax.set_yticks(range(len(edges)))
    _ = ax.set_yticklabels([f"({i}, {j})" for i, j in edges])
    _ = ax.set(title=f"{cell} cell: final weights per edge")
    fig.colorbar(im, ax=ax)
fig.tight_layout()
glue("fig_alphas", fig, display=False)
plt.close(fig)

# %% [markdown]
# How decided the weights are: per epoch, the largest softmax weight per edge and the
# normalised entropy of the edge's weights, averaged over edges (uniform: 1/7 and 1; one-hot:
# 1 and 0). While they sit at uniform, the derived cells are decided by noise-sized differences.

# %%
sharpness = sharpness_per_epoch(res.history)
for cell, per_epoch in sharpness.items():
    print(cell, " ".join(f"{e['max_weight']:.3f}/{e['entropy']:.3f}" for e in per_epoch))

# %% [markdown]
# ## The derived cells
# Per intermediate node, the two strongest incoming edges (ignoring `none`) and their
# strongest operation.

# %%
figs = {}
for cell in ("normal", "reduce"):
    fig = plot_cell(res.genotype, cell, title=f"{cell} cell, MA-DARTS ({attention}), {dataset}")
    fig.tight_layout()
    figs[cell] = fig
    glue(f"fig_{cell}_cell", fig, display=False)
    plt.close(fig)
if plain is not None:
    fig, axes = plt.subplots(1, 2, figsize=(15, 3.6))
    for ax, cell in zip(axes, ("normal", "reduce")):
        plot_cell(plain.genotype, cell, ax=ax, title=f"{cell} cell, plain spiking DARTS (none)")
    fig.tight_layout()
    glue("fig_plain_cells", fig, display=False)
    plt.close(fig)

# %% [markdown]
# ## Number of spikes per cell during the search
# NoS per image (all spiking layers of the cell, all T steps), on training data (first
# batches of the weight half) and on the validation split. Every candidate operation of the
# supernet spikes, whatever its weight.

# %%
cells = list(res.history[0]["nos_per_cell_val"])
fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
for ax, tag, title in ((axes[0], "train", "training data"), (axes[1], "val", "validation data")):
    for c in cells:
        ax.plot(epochs, [h[f"nos_per_cell_{tag}"][c] for h in res.history], "o-", label=c)
    _ = ax.set(xlabel="epoch", ylabel="spikes per image", title=f"NoS per cell, {title}")
axes[1].legend(fontsize=7, ncol=2)
axes[2].plot(epochs, [h["nos_train"] for h in res.history], "o-", label=f"{attention}, train")
axes[2].plot(epochs, [h["nos_val"] for h in res.history], "s-", label=f"{attention}, val")
if plain is not None:
    axes[2].plot(epochs, [h["nos_train"] for h in plain.history], "o--", label="none, train")
    axes[2].plot(epochs, [h["nos_val"] for h in plain.history], "s--", label="none, val")
_ = axes[2].set(xlabel="epoch", ylabel="spikes per image", title="NoS, whole supernet")
axes[2].legend(fontsize=7)
fig.tight_layout()
glue("fig_nos", fig, display=False)
plt.close(fig)

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
for r, name, style in ((res, attention, "-"), (plain, "none", "--")):
    if r is None:
        continue
    ax.plot(
        epochs,
        [h["train_acc"] for h in r.history],
        "o" + style,
        label=f"{name}: weight half (train)",
    )
    ax.plot(epochs, [h["val_acc"] for h in r.history], "s" + style, label=f"{name}: validation")
_ = ax.set(
    xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title="Supernet accuracy during the search"
)
ax.legend(fontsize=7)
fig.tight_layout()
glue("fig_search_acc", fig, display=False)
plt.close(fig)


# %% [markdown]
# ## Results


# %%
metrics = search_metrics(res, count_parameters(supernet), sharpness, plain)
for key in (
    "search_seconds",
    "step_seconds",
    "final_val_acc",
    "nos_val",
    "nos_train",
    "reduce_pool_share",
    "reduce_maxpool_share",
    "normal_conv_share",
    "normal_skip_share",
    "energy_uj_val",
    "alpha_max_weight_normal",
    "alpha_max_weight_reduce",
    "alpha_entropy_normal",
    "alpha_entropy_reduce",
    "alpha_uniform_weight",
):
    glue(key, metrics[key], display=False)
glue("search_minutes", metrics["search_seconds"] / 60, display=False)
glue("final_val_acc_pct", 100 * metrics["final_val_acc"], display=False)
glue("epochs", metrics["epochs"], display=False)
glue("genotype_text", format_genotype(res.genotype), display=False)
glue("C", cfg["C"], display=False)
glue("layers", cfg["layers"], display=False)
glue("image_size", info.size[0], display=False)
glue("time_steps", time_steps, display=False)
glue("arch_steps", res.arch_steps, display=False)
glue("arch_lr", float(cfg["search"].arch_lr), display=False)
# DARTS' total architecture movement, learning rate x steps, which the cpu rates keep
glue("arch_movement", float(cfg["search"].arch_lr * res.arch_steps), display=False)
glue("n_search_train", len(loaders["train"].dataset), display=False)
if plain is not None:
    for key in ("plain_search_seconds", "plain_step_seconds", "step_time_ratio"):
        glue(key, metrics[key], display=False)
    glue("plain_final_val_acc_pct", 100 * metrics["plain_final_val_acc"], display=False)
    glue("plain_nos_val", metrics["plain_nos_val"], display=False)
    glue("plain_genotype_text", format_genotype(plain.genotype), display=False)
print({k: v for k, v in metrics.items() if not isinstance(v, dict)})

architecture = {
    "genotype": genotype_to_dict(res.genotype),
    "layout": layout_to_dict(res.layout),
    "attention": attention,
    "placement": placement,
    "gate": gate,
    "steps": cfg["steps"],
    "search_C": cfg["C"],
    "search_image_size": info.size[0],
    "time_steps": time_steps,
}
if plain is not None:
    architecture["plain_darts"] = {
        "genotype": genotype_to_dict(plain.genotype),
        "layout": layout_to_dict(plain.layout),
        "attention": "none",
    }
artifacts = {
    "history": res.history,
    "search_config": cfg["search"].to_dict(),
    "split_sizes": sizes,
    "alpha_sharpness": sharpness,
}
if plain is not None:
    artifacts["history_plain"] = plain.history
path = run.write(metrics, architecture=architecture, artifacts=artifacts)
print("wrote", path)
