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
# # SpikeNAS-Bench searches: what does a training-free search return?
#
# Searches over the whole SpikeNAS-Bench space (15,625 cells), each allowed the same number of
# evaluations. Training-free ones are guided by the MSE-NAS authors' scorer, our label-target
# RDM fitness, SNASNet's SAHD score or NASWOT's score of the untrained network on CIFAR-10
# probe images; two references are guided by the table's
# validation accuracy (a trained network's score: the upper bound a training-free score
# competes with) and one by no information at all. The table's *test* accuracy of the cell a
# search returns judges it, after every evaluation.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "cifar10"  # cifar10, the data of the benchmark
seed = 0
device = "auto"  # auto | cpu, the scores run on the CPU
overwrite = False  # replace a result file written with other parameters
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
threads = 1  # CPU intra-op threads

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
from IPython.display import display
from myst_nb import glue

from snnlib.book.glue import glue_all
from snnlib.book.params import declared_params
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.spikenas_search import (
    PAIRS,
    anytime_curves,
    paired_finals,
    plot_anytime,
    run_book_searches,
    search_artifacts,
    search_metrics,
    search_seeds,
    search_table,
    search_values,
)
from snnlib.book.tables import book_table
from snnlib.paths import checkpoints_dir
from snnlib.spikenas import load_table
from snnlib.spikenas.guides import Guides
from snnlib.spikenas.ledger import LedgerConfig, checkpoint_name, cifar_probe, ledger_identity
from snnlib.spikenas.search import scored_cells_bound
from snnlib.validation import check_choice

check_choice("dataset", dataset, ("cifar10",))
params = declared_params("61_spikenas_search", globals())
run, dev = start("61_spikenas_search", params, threads=threads)

cfg = pick_scale(
    scale,
    {
        "smoke": dict(budget=8, n_seeds=3, width=1 / 32, time_steps=2, n_per_class=2, at=(4, 8)),
        # 2 cores: 50 evaluations per search, 10 seeds per method (the floor the ground-truth
        # issue set); the proxies of the ledger chapter's narrow network (1/16 width, 5 probe
        # images per class), cached by cell
        "cpu": dict(
            budget=50, n_seeds=10, width=1 / 16, time_steps=5, n_per_class=5, at=(10, 25, 50)
        ),
        # a GPU: the benchmark's width, 200 evaluations, 20 seeds
        "paper": dict(
            budget=200, n_seeds=20, width=1.0, time_steps=5, n_per_class=10, at=(25, 50, 100, 200)
        ),
    },
)
print(cfg)

# %% [markdown]
# ## The searches
# The book's searches (`snnlib.spikenas.search.book_methods()`: the committed list, then any
# searcher registered for every space, guided by the RDM fitness). Every method runs with
# seeds `seed`, `seed + 1`, ...; the random searches of one seed draw the same cells, so they
# differ only in the score that picks among them (a paired design). Scores are cached by cell
# across methods and seeds (a cell's score does not depend on who asks), and each run is
# charged the measured seconds of every cell it evaluated.

# %%
table = load_table()
probe = cifar_probe(cfg["n_per_class"], seed)
score_cfg = LedgerConfig(
    width=cfg["width"], time_steps=cfg["time_steps"], seed=seed, threads=threads or None
)
ckpt = checkpoints_dir() / checkpoint_name(
    f"spikenas_guides__{scale}", ledger_identity(Guides.guide_config(score_cfg), probe)
)
seeds = search_seeds(seed, cfg["n_seeds"])
guides = Guides(
    probe, score_cfg, table, checkpoint=ckpt, planned=scored_cells_bound(seeds, cfg["budget"])
)
runs = run_book_searches(guides, cfg["budget"], seeds)
print(f"{len(guides.rows)} distinct cells scored by a training-free guide")

# %% [markdown]
# ## Anytime curves
# The mean test accuracy of the returned cell over seeds, with its 95 % interval, against the
# evaluations spent; the dashed line is the space's median cell.

# %%
curves = anytime_curves(runs, table, cfg["budget"])
fig = plot_anytime(curves, table)
glue("fig_anytime", fig, display=False)
plt.close(fig)

tab = search_table(curves, runs, table, cfg["at"])
display(book_table(tab.round(2)))
glue("anytime_table", book_table(tab.round(2)), display=False)

# %% [markdown]
# ## Paired comparisons at the full budget
# Differences of the returned cell's test accuracy between two methods run with the same seeds
# (the chapter's pairs: `snnlib.book.spikenas_search.PAIRS`): mean, 95 % t interval, paired
# t-test and Wilcoxon signed-rank test.

# %%
ptab = paired_finals(curves, PAIRS)
display(book_table(ptab.round(3)))
glue("paired_table", book_table(ptab.round(3)), display=False)

# %%
values = search_values(
    runs, curves, ptab, table, budget=cfg["budget"], n_scored=len(guides.rows), probe=probe
)
values = glue_all(values)
print(values)

# %%
path = run.write(search_metrics(values, tab, ptab), artifacts=search_artifacts(runs, table, probe))
print(path)
