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
# # DARTS and MA-DARTS in the SpikeNAS-Bench space, and every method on one judge
#
# A differentiable search over the benchmark's own cell space: every edge of the cell a
# softmax mixture of its five operations, one set of architecture weights for both cell
# positions, the benchmark's network, LIF neuron and split (weights on images of its training
# half, architecture weights on images of its validation half), optionally MA-DARTS' attention
# after each cell. The derived cell (the strongest operation per edge, NAS-Bench-201's rule) is
# judged by the table's test accuracy after every search epoch. Then every search of the book
# in this space, the training-free and early-stop searches of notebook 61 and these, stands in
# one table: test accuracy of the returned cell, paired tests by seed, and cost.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "cifar10"  # cifar10, the data of the benchmark
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace a result file written with other parameters
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
threads = 1  # CPU intra-op threads
resume = True  # continue each search's checkpoint if its settings match

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
from IPython.display import display
from myst_nb import glue

from snnlib.book.glue import glue_all
from snnlib.book.params import declared_params
from snnlib.book.results import load_result
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.spikenas_darts import (
    best_free_search,
    darts_artifacts,
    darts_pairs,
    darts_values,
    load_search_runs,
    place_budgets,
    plot_budget_curve,
    plot_comparison_cost,
    plot_darts_anytime,
    run_darts_variants,
    training_budgets,
)
from snnlib.book.spikenas_search import search_seeds
from snnlib.book.tables import book_table
from snnlib.spikenas import load_table
from snnlib.spikenas.curves import load_curves, rank_correlation_by_epoch
from snnlib.spikenas.darts_data import load_darts_data
from snnlib.spikenas.darts_search import DartsConfig
from snnlib.spikenas.darts_study import compare_searches, darts_table, paired_table
from snnlib.validation import check_choice

check_choice("dataset", dataset, ("cifar10",))
params = declared_params("62_spikenas_darts", globals())
run, dev = start("62_spikenas_darts", params, threads=threads)

cfg = pick_scale(
    scale,
    {
        "smoke": dict(
            n_seeds=3,  # as notebook 61's smoke scale: the comparison pairs by seed
            darts=DartsConfig(
                width=1 / 32, time_steps=2, epochs=2, batch_size=20, n_weight=40, n_arch=40
            ),
        ),
        # 2 cores: 10 seeds of each of 4 variants, about 20 s each (the book's time budget):
        # a narrow supernet (1/32 width, T = 2) for 2 epochs of 600 + 600 images, 24 steps.
        # DARTS' SGD (lr 0.025) and architecture lr (3e-4) leave the loss at ln 10 and alpha
        # uniform in so few steps (measured), so the weights train with AdamW (lr 3e-3) and
        # alpha with Adam at lr 3e-3, without the benchmark's dropout; the paper scale keeps
        # DARTS' settings
        "cpu": dict(
            n_seeds=10,
            darts=DartsConfig(
                width=1 / 32,
                time_steps=2,
                epochs=2,
                batch_size=50,
                n_weight=600,
                n_arch=600,
                dropout=0.0,
                w_optimizer="adamw",
                w_lr=3e-3,
                w_lr_min=3e-4,
                w_weight_decay=1e-2,
                arch_lr=3e-3,
            ),
        ),
        # a GPU: the benchmark's network, T and split, DARTS' 50 epochs and optimizers
        "paper": dict(
            n_seeds=10,
            darts=DartsConfig(
                width=1.0,
                time_steps=5,
                epochs=50,
                batch_size=64,
                n_weight=25_000,
                n_arch=25_000,
            ),
        ),
    },
)
print(cfg)

# %% [markdown]
# ## The searches
# Each attention type (`none`, `eca`, `cbam`, `tcsa`: `snnlib.book.spikenas_darts.ATTENTIONS`)
# with seeds `seed`, `seed + 1`, ...; a seed draws the supernet's initial weights and
# architecture weights and the order of the images, and the same seed gives the same search.
# `none` is plain spiking DARTS.

# %%
table = load_table()
base = cfg["darts"]
data = load_darts_data(base.n_weight, base.n_arch, seed=seed)
seeds = search_seeds(seed, cfg["n_seeds"])
runs = run_darts_variants(base, seeds, data, table, scale, resume=resume)

# %% [markdown]
# ## The derived cell after every epoch
# Mean test accuracy (table) of the cell each search would derive if stopped after that
# epoch, over seeds with 95 % intervals; the dashed line is the space's median cell.

# %%
fig = plot_darts_anytime(runs, table)
glue("fig_darts_anytime", fig, display=False)
plt.close(fig)

dtab = darts_table(runs, table)
display(book_table(dtab.round(3)))
glue("darts_table", book_table(dtab.round(3)), display=False)

# %% [markdown]
# ## Every method on one judge
# The searches of notebook 61 (read from its result file: the cell each returned after its
# budget, per seed, and the seconds it was charged) beside these. Seconds: this machine's CPU
# for what runs here (a training-free score per cell, a DARTS search), the benchmark's recorded
# GPU seconds for what the table supplies (validation accuracy after 100 or 10 epochs):
# another machine, so the Pareto front is drawn within each machine's points only.

# %%
search = load_search_runs(dataset, scale, seed, seeds)
ctab, finals = compare_searches({**search, **runs}, table)
display(book_table(ctab.round(3)))
glue("comparison_table", book_table(ctab.round(3)), display=False)

best_free = best_free_search(ctab, exclude=list(runs))
ptab = paired_table(finals, darts_pairs(list(runs), best_free))
display(book_table(ptab.round(3)))
glue("darts_paired_table", book_table(ptab.round(3)), display=False)

fig = plot_comparison_cost(ctab, table)
glue("fig_comparison_cost", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## What the book's training budgets can resolve
# On the benchmark's learning curves: how well the validation accuracy after $k$ epochs of
# full-data training ranks the cells' final test accuracy (Kendall $\tau$, the 100-epoch runs
# that learn), and where each chapter's CIFAR-10 retraining budget at this scale sits on that
# curve, counted in benchmark epochs (images seen / 25,000). A budget below one epoch reads
# the first point, an upper bound.

# %%
curve = rank_correlation_by_epoch(table, load_curves())
mse = load_result("11_mse_retrain", dataset, scale, seed)["metrics"]
madarts = load_result("21_madarts_retrain", dataset, scale, seed)["metrics"]
placed = place_budgets(curve, training_budgets(mse, madarts, base))
fig = plot_budget_curve(curve, placed)
glue("fig_budget_curve", fig, display=False)
plt.close(fig)
print(placed)

# %%
values = darts_values(base, seeds, table, ctab, dtab, ptab, best_free, curve, placed)
values = glue_all(values)
path = run.write(values, artifacts=darts_artifacts(runs, ctab, ptab, placed, table))
print(path)
