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
# # MA-DARTS attention ablation
#
# Which attention helps a spiking network of the found cells, and what does it do to the
# number of spikes? The cells derived by the search notebook (`20_madarts_search`) are retrained
# with every attention type at the same budget, seed and data order:
#
# - `none`: no attention (plain spiking cells);
# - `eca`: ECA channel attention;
# - `cbam`: CBAM channel then spatial attention;
# - `tcsa`: temporal, then CBAM channel, then spatial attention (the three dimensions of MA-SNN);
# - `tcsa, sigmoid gate`: the same with the original modules' sigmoid gates instead of this
#   book's default 2-sigmoid gate (see the chapter for why the gate matters to spiking neurons).
#
# MA-DARTS' ablation compared ECA-based and CBAM-based attention against none on CIFAR.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "digits"  # digits | digits-dvs | cifar10 | cifar100 | cifar10-dvs | dvs-gesture
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway: hours to days
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
compare_gates = True  # add a tcsa row with the original sigmoid gates
threads = 1  # CPU intra-op threads (0: torch's default); 1 is fastest for these small tensors

# %% tags=["hide-input"]
from dataclasses import replace

import matplotlib.pyplot as plt
from IPython.display import HTML
from myst_nb import glue

from snnlib.book.glue import glue_all
from snnlib.book.madarts_budgets import retrain_budgets
from snnlib.book.madarts_candidates import attention_variants
from snnlib.book.madarts_figures import ablation_figure
from snnlib.book.madarts_retraining import (
    ablation_comparisons,
    ablation_percent_keys,
    comparison_table,
    retrain_variants,
    without_predictions,
)
from snnlib.book.madarts_summaries import ablation_metrics, add_ablation_deltas
from snnlib.book.params import declared_params
from snnlib.book.results import load_result
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.tables import html_table, markdown_table
from snnlib.darts import DartsArchitecture, format_genotype
from snnlib.data import dataset_info, make_loaders
from snnlib.encoding import Encoder, default_encoding

params = declared_params("22_madarts_attention", globals())
run, dev = start("22_madarts_attention", params, threads=threads)

cfg = pick_scale(scale, retrain_budgets(), dataset)  # the budget of the retraining notebook
print(cfg)

# %%
found = load_result("20_madarts_search", dataset, scale, seed)
arch = DartsArchitecture.from_dict(found["architecture"])  # the search's record, validated
network = arch.network_options(cfg["layers"])  # each variant below sets its own gate
print(f"cells searched with attention {arch.attention}:\n{format_genotype(arch.genotype)}")

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
common = dict(
    in_channels=info.in_channels,
    num_classes=info.num_classes,
    loaders=loaders,
    encoder=encoder,
    train_cfg=cfg["train"],
    C=cfg["C"],
    seed=seed,
    device=dev,
    keep_predictions=True,  # every variant is compared with `none` image by image
    **network,
)

# %% [markdown]
# ## One genotype, every attention type

# %%
variants = attention_variants(compare_gates)
rows = retrain_variants(arch.genotype, variants, **common)
add_ablation_deltas(rows)  # against the first row, attention none

columns = [
    ("name", "attention", "{}"),
    ("test_acc", "test acc", "{:.4f}"),
    ("delta_acc_pp", "vs none (pp)", "{:+.2f}"),
    ("nos", "NoS / image", "{:.0f}"),
    ("delta_nos_pct", "NoS vs none (%)", "{:+.1f}"),
    ("energy_uj", "energy (uJ)", "{:.3f}"),
    ("params", "parameters", "{:d}"),
    ("seconds", "train s", "{:.1f}"),
]
glue("table_ablation", HTML(html_table(rows, columns)), display=False)
print(markdown_table(rows, columns))

# %%
fig = ablation_figure(rows, f"{dataset}, {scale}")
glue("fig_ablation", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Paired over test images
# Each variant against `none`, image by image: the difference of test accuracy with a paired
# bootstrap interval over the test images and the exact McNemar test. One retraining per
# variant, all at the same seed and data order: the interval covers the test set's sampling,
# not the spread over seeds (see the retraining notebook's seeds for its size).

# %%
comparisons, paired = ablation_comparisons(rows, loaders["test"].dataset.targets, seed)
comp_table = comparison_table(comparisons)
print(comp_table.to_string())
glue("comp_table", comp_table, display=False)

# %%
metrics = ablation_metrics(rows, cfg["train"].epochs)
metrics.update(paired)
metrics["n_test"] = len(loaders["test"].dataset)
glue_all(metrics, percent=ablation_percent_keys(metrics))
print(metrics)
retrained = replace(arch, layout=network["layout"])  # the search's record at retraining depth
path = run.write(
    metrics,
    architecture=retrained.to_dict(),
    artifacts={
        "rows": without_predictions(rows),
        "train_config": cfg["train"].to_dict(),
    },
)
print("wrote", path)
