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
# # MA-DARTS retraining: derived cells against plain spiking DARTS and random cells
#
# The search notebook (`20_madarts_search`) derived a normal and a reduction cell. Here the
# discrete network of those cells is trained from scratch and compared, at the same training
# budget, seeds and data order, with
#
# - **plain spiking DARTS**: the cells found by the same search without attention (attention
#   `none`), trained without attention;
# - **random cells**: `n_random` genotypes drawn uniformly from the same discrete space
#   (per node two distinct inputs, operations other than `none`), trained with the same
#   attention as the derived network, so that only the cells differ.
#
# Test accuracy, the number of spikes per test image (NoS) and the energy estimate are
# reported for each, as means over `n_seeds` retrainings (seeds `seed`, `seed + 1`, ...: the
# initialisation and the data order change, the cells do not). On a test set of a few hundred
# images one retraining resolves differences of about a point, the size of the differences
# between cells; the spread over seeds is shown beside each mean.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "digits"  # digits | digits-dvs | cifar10 | cifar100 | cifar10-dvs | dvs-gesture
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway: hours to days
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
n_random = 5  # random cells in the baseline
n_seeds = 0  # retrainings per candidate, averaged (0: the scale's default: smoke 1, cpu 3, paper 1)
threads = 1  # CPU intra-op threads (0: torch's default); 1 is fastest for these small tensors

# %% tags=["hide-input"]
from dataclasses import replace

import matplotlib.pyplot as plt
from IPython.display import HTML
from myst_nb import glue

from snnlib.book.glue import glue_all
from snnlib.book.madarts_budgets import loader_sizes, retrain_budgets, retraining_seeds
from snnlib.book.madarts_candidates import plain_cells, retraining_candidates
from snnlib.book.madarts_figures import retrain_figure, seeds_figure
from snnlib.book.madarts_retraining import (
    comparison_table,
    retrain_candidates,
    retrain_comparisons,
    retrain_glue_values,
    without_predictions,
)
from snnlib.book.madarts_summaries import retrain_metrics
from snnlib.book.params import declared_params
from snnlib.book.results import load_result
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.tables import html_table, markdown_table
from snnlib.darts import DartsArchitecture, format_genotype
from snnlib.data import dataset_info, make_loaders
from snnlib.encoding import Encoder, default_encoding

params = declared_params("21_madarts_retrain", globals())
run, dev = start("21_madarts_retrain", params, threads=threads)

cfg = pick_scale(scale, retrain_budgets(), dataset)  # the same budget as the attention ablation
retrain_seeds = retraining_seeds(seed, n_seeds, default=cfg["n_seeds"])  # 0: the default
print(cfg, "| retraining seeds:", retrain_seeds)

# %% [markdown]
# ## The search's result

# %%
found = load_result("20_madarts_search", dataset, scale, seed)
arch = DartsArchitecture.from_dict(found["architecture"])  # the search's record, validated
# the fixed DARTS layout at retraining depth, or the searched stage depths (macro search)
network = arch.network_options(cfg["layers"])
plain_genotype, plain_note = plain_cells(arch)
print(f"MA-DARTS cells ({arch.attention}, gate {arch.gate}):\n{format_genotype(arch.genotype)}")
print(f"plain DARTS: {plain_note}\n{format_genotype(plain_genotype)}")
print("layout:", network["layout"])

# %%
info = dataset_info(dataset, image_size=cfg["image_size"])
loaders = make_loaders(
    dataset,
    batch_size=cfg["batch_size"],
    time_steps=arch.time_steps,
    limit=cfg["limit"],
    seed=seed,
    image_size=cfg["image_size"],
)
encoder = Encoder(default_encoding(info.kind), arch.time_steps)
sizes = loader_sizes(loaders)
print(info, sizes)
common = dict(
    in_channels=info.in_channels,
    num_classes=info.num_classes,
    loaders=loaders,
    encoder=encoder,
    train_cfg=cfg["train"],
    C=cfg["C"],
    device=dev,
    keep_predictions=True,  # the comparisons below are paired over test images
    **network,
)

# %% [markdown]
# ## Training every candidate at the same budget

# %%
candidates = retraining_candidates(arch, seed, n_random)
rows = retrain_candidates(candidates, retrain_seeds, **common)

# %%
metrics = retrain_metrics(rows, cfg["train"].epochs)
columns = [
    ("name", "network", "{}"),
    ("attention", "attention", "{}"),
    ("test_acc", "test acc (mean)", "{:.4f}"),
    ("test_acc_sd", "sd over seeds", "{:.4f}"),
    ("nos", "NoS / image", "{:.0f}"),
    ("sops", "SOPs / image", "{:.3g}"),
    ("energy_uj", "energy (uJ)", "{:.3f}"),
    ("params", "parameters", "{:d}"),
    ("seconds", "train s", "{:.1f}"),
]
glue("table_retrain", HTML(html_table(rows, columns)), display=False)
print(markdown_table(rows, columns))

# %%
fig = retrain_figure(rows, arch.attention, f"{dataset}, {scale}")
glue("fig_retrain", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Do the cells matter here?
# A one-way ANOVA over the candidates' per-seed accuracies asks whether the differences between
# cells are larger than the spread the seeds alone produce. With a large p the ranking of the
# candidates, including whether the derived cells beat the median random cell, is decided by
# noise at this budget and data set; the comparison needs more seeds or a harder task.

# %%
effect, random_effect = metrics["cell_effect"], metrics["cell_effect_random_only"]
print("all candidates:", effect)
print("random cells only:", random_effect)

# %% [markdown]
# ## Paired comparisons
# Every network is tested on the same test images, so two networks are compared image by
# image: the difference of their accuracies with a paired bootstrap interval over the test
# images (a network retrained at several seeds counts with its mean over seeds, so the
# interval covers the test set's sampling for these seeds). "random cells" is the average over
# the random cells: the interval is over test images for *these* cells, not over the space's
# distribution of cells; the derived cells' rank among them says the rest. With two or more
# seeds, MA-DARTS against plain DARTS is also paired by seed (Student t interval).

# %%
comparisons, paired = retrain_comparisons(rows, loaders["test"].dataset.targets, seed)
metrics.update(paired)  # with 2+ seeds also derived_minus_plain_by_seed (Student t)
comp_table = comparison_table(comparisons)
print(comp_table.to_string())
print(paired)
glue("comp_table", comp_table, display=False)

# per-seed points drawn with seaborn; black: mean and 95 % t interval over seeds (2+ seeds)
fig = seeds_figure(rows, f"{dataset}, {scale}")
glue("fig_seeds", fig, display=False)
plt.close(fig)

# %%
metrics["n_train"] = sizes["train"]  # the budget's images (62 places it)
glue_all(
    retrain_glue_values(
        metrics, rows, n_random=n_random, retrain_C=cfg["C"], plain_note=plain_note, sizes=sizes
    )
)
print(metrics)
retrained = replace(arch, layout=network["layout"])  # the search's record at retraining depth
path = run.write(
    metrics,
    architecture=retrained.to_dict(),
    artifacts={
        # predictions stay out of the file (10,000 per run on CIFAR-10); their comparisons are in
        "rows": without_predictions(rows),
        "plain_note": plain_note,
        "train_config": cfg["train"].to_dict(),
    },
)
print("wrote", path)
