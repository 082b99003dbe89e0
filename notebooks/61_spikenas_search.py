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
import numpy as np
import pandas as pd
from IPython.display import display
from myst_nb import glue
from tqdm.auto import tqdm

from snnlib.book.params import declared_params
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.tables import book_table
from snnlib.nas.statistics import paired_by_seed, t_interval
from snnlib.paths import checkpoints_dir
from snnlib.spikenas import N_ARCHS, load_table
from snnlib.spikenas.guides import Guides
from snnlib.spikenas.ledger import LedgerConfig, checkpoint_name, cifar_probe, ledger_identity
from snnlib.spikenas.search import BOOK_METHODS, anytime, run_search, scored_cells_bound
from snnlib.spikenas.study import anytime_table
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
# Every method runs with seeds `seed`, `seed + 1`, ...; the random searches of one seed draw the
# same cells, so they differ only in the score that picks among them (a paired design). Scores
# are cached by cell across methods and seeds (a cell's score does not depend on who asks), and
# each run is charged the measured seconds of every cell it evaluated.

# %%
table = load_table()
probe = cifar_probe(cfg["n_per_class"], seed)
score_cfg = LedgerConfig(
    width=cfg["width"], time_steps=cfg["time_steps"], seed=seed, threads=threads or None
)
ckpt = checkpoints_dir() / checkpoint_name(
    f"spikenas_guides__{scale}", ledger_identity(Guides.guide_config(score_cfg), probe)
)
seeds = [seed + k for k in range(cfg["n_seeds"])]
guides = Guides(
    probe, score_cfg, table, checkpoint=ckpt, planned=scored_cells_bound(seeds, cfg["budget"])
)
runs = {label: [] for label in BOOK_METHODS}
for s in tqdm(seeds, desc="seeds"):
    for label, (method, guide) in BOOK_METHODS.items():
        runs[label].append(run_search(method, guides.score(guide), cfg["budget"], s, guide))
    guides.save()
print(f"{len(guides.rows)} distinct cells scored by a training-free guide")

# %% [markdown]
# ## Anytime curves
# The mean test accuracy of the returned cell over seeds, with its 95 % interval, against the
# evaluations spent; the dashed line is the space's median cell.

# %%
budget = cfg["budget"]
curves = {label: anytime(r, table.test_acc, budget) for label, r in runs.items()}
fig, ax = plt.subplots(figsize=(7.5, 4.2))
k = np.arange(1, budget + 1)
for label, c in curves.items():
    mean = c.mean(0)
    lo, hi = np.array([t_interval(c[:, j])[1:] for j in range(budget)]).T
    ax.plot(k, mean, label=label)
    ax.fill_between(k, lo, hi, alpha=0.15)
ax.axhline(np.median(table.test_acc), ls="--", color="grey", lw=0.8)
ax.set_xlabel("evaluations")
ax.set_ylabel("test accuracy of the returned cell (%)")
ax.set_ylim(max(80.0, ax.get_ylim()[0]), None)
ax.legend(fontsize=7)
fig.tight_layout()
glue("fig_anytime", fig, display=False)
plt.close(fig)

tab = anytime_table(curves, cfg["at"])
pct = {label: np.array([table.percentile(a) for a in c[:, -1]]) for label, c in curves.items()}
tab["percentile (median)"] = [float(np.median(pct[label])) for label in tab.index]
tab["seconds per run"] = [float(np.mean([r.seconds for r in runs[label]])) for label in tab.index]
display(book_table(tab.round(2)))
glue("anytime_table", book_table(tab.round(2)), display=False)

# %% [markdown]
# ## Paired comparisons at the full budget
# Differences of the returned cell's test accuracy between two methods run with the same seeds:
# mean, 95 % t interval, paired t-test and Wilcoxon signed-rank test.

# %%
final = {label: c[:, -1] for label, c in curves.items()}
PAIRS = [
    ("MSE-NAS evolution, RDM", "random cell (no score)"),
    ("MSE-NAS evolution, authors' scorer", "random cell (no score)"),
    ("MSE-NAS evolution, authors' scorer", "MSE-NAS evolution, RDM"),
    ("MSE-NAS evolution, 10-epoch fitness", "MSE-NAS evolution, authors' scorer"),
    ("MSE-NAS evolution, 10-epoch fitness", "random cell (no score)"),
    ("MSE-NAS evolution, RDM", "random search, RDM"),
    ("random search, RDM", "random cell (no score)"),
    ("SNASNet: random search, SAHD", "random cell (no score)"),
    ("random search, NASWOT", "random cell (no score)"),
    ("random search, RDM", "SNASNet: random search, SAHD"),
    ("regularised evolution, val. acc.", "MSE-NAS evolution, RDM"),
    ("random search, val. acc.", "random search, RDM"),
]
pairs = {f"{a} - {b}": paired_by_seed(final[a], final[b]) for a, b in PAIRS}
ptab = pd.DataFrame.from_dict(pairs, orient="index")
ptab.index.name = "difference"
display(book_table(ptab.round(3)))
glue("paired_table", book_table(ptab.round(3)), display=False)

# %%
def_key = "MSE-NAS evolution, RDM"
values = {
    "budget": budget,
    "n_seeds": len(seeds),
    "n_methods": len(BOOK_METHODS),
    "n_scored": len(guides.rows),
    "probe_images": len(probe.y),
    "probe_source": probe.source,
    "space_median": float(np.median(table.test_acc)),
    "space_best": float(table.test_acc.max()),
}
for short, label in (
    ("evo_rdm", def_key),
    ("evo_lsp", "MSE-NAS evolution, authors' scorer"),
    ("evo_val10", "MSE-NAS evolution, 10-epoch fitness"),
    ("rs_rdm", "random search, RDM"),
    ("rs_sahd", "SNASNet: random search, SAHD"),
    ("rs_naswot", "random search, NASWOT"),
    ("re_val", "regularised evolution, val. acc."),
    ("rs_val", "random search, val. acc."),
    ("rand", "random cell (no score)"),
):
    m, lo, hi = t_interval(final[label])
    values.update(
        {
            f"{short}_acc": m,
            f"{short}_lo": lo,
            f"{short}_hi": hi,
            f"{short}_pct": float(np.median(pct[label])),
            f"{short}_seconds": float(np.mean([r.seconds for r in runs[label]])),
        }
    )
for name, key in (
    ("evo_vs_rand", f"{def_key} - random cell (no score)"),
    ("evo_vs_rsrdm", f"{def_key} - random search, RDM"),
    ("rsrdm_vs_rand", "random search, RDM - random cell (no score)"),
    ("re_vs_evo", f"regularised evolution, val. acc. - {def_key}"),
    ("lsp_vs_rand", "MSE-NAS evolution, authors' scorer - random cell (no score)"),
    ("lsp_vs_rdm", f"MSE-NAS evolution, authors' scorer - {def_key}"),
    ("val10_vs_lsp", "MSE-NAS evolution, 10-epoch fitness - MSE-NAS evolution, authors' scorer"),
):
    for f in ("diff", "lo", "hi", "t_p"):
        values[f"{name}_{f}"] = pairs[key][f]
values = {k: v.item() if isinstance(v, np.generic) else v for k, v in values.items()}
for k, v in values.items():
    glue(k, v, display=False)
print(values)

# %%
path = run.write(
    {
        **values,
        "anytime": tab.reset_index().to_dict(orient="records"),
        "paired": ptab.reset_index().to_dict(orient="records"),
    },
    artifacts={
        "runs": {label: [r.to_dict() for r in rs] for label, rs in runs.items()},
        "bench_table": table.provenance(),
        "probe": probe.identity(),
        "space_size": N_ARCHS,
    },
)
print(path)
