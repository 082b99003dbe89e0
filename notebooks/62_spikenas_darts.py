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
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from myst_nb import glue
from tqdm.auto import tqdm

from snnlib.book.params import declared_params
from snnlib.book.results import load_result
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.tables import book_table
from snnlib.nas.identity import with_hash
from snnlib.nas.statistics import t_interval
from snnlib.paths import checkpoints_dir
from snnlib.spikenas import load_table
from snnlib.spikenas.curves import (
    benchmark_epochs,
    load_curves,
    rank_correlation_by_epoch,
    tau_at_budget,
)
from snnlib.spikenas.darts_data import load_darts_data
from snnlib.spikenas.darts_search import DartsConfig, run_darts_search
from snnlib.spikenas.darts_study import (
    anytime_by_epoch,
    comparison_table,
    darts_table,
    final_cells,
    paired_table,
)
from snnlib.validation import check_choice

check_choice("dataset", dataset, ("cifar10",))
params = declared_params("62_spikenas_darts", globals())
run, dev = start("62_spikenas_darts", params, threads=threads)

ATTENTIONS = ("none", "eca", "cbam", "tcsa")
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
# Each attention type with seeds `seed`, `seed + 1`, ...; a seed draws the supernet's initial
# weights and architecture weights and the order of the images, and the same seed gives the
# same search. `none` is plain spiking DARTS.

# %%
table = load_table()
base = cfg["darts"]
data = load_darts_data(base.n_weight, base.n_arch, seed=seed)
seeds = [seed + k for k in range(cfg["n_seeds"])]
runs = {}
for attention in tqdm(ATTENTIONS, desc="attention"):
    c = replace(base, attention=attention)
    runs[attention] = []
    for s in seeds:
        ckpt = with_hash(
            checkpoints_dir() / f"62_spikenas_darts__{scale}__{attention}__seed{s}.pt",
            {"config": c.record(), "seed": s, "data": data.identity()},
        )
        r = run_darts_search(c, s, data, table=table, checkpoint=ckpt if resume else None)
        runs[attention].append(r.to_dict())
label = {a: "spiking DARTS" if a == "none" else f"MA-DARTS, {a}" for a in ATTENTIONS}

# %% [markdown]
# ## The derived cell after every epoch
# Mean test accuracy (table) of the cell each search would derive if stopped after that
# epoch, over seeds with 95 % intervals; the dashed line is the space's median cell.

# %%
by_epoch = {a: anytime_by_epoch(rs, table) for a, rs in runs.items()}
fig, ax = plt.subplots(figsize=(7, 4))
for a, acc in by_epoch.items():
    ep = np.arange(1, acc.shape[1] + 1)
    lo, hi = np.array([t_interval(acc[:, j])[1:] for j in range(acc.shape[1])]).T
    ax.plot(ep, acc.mean(0), "o-", label=label[a])
    ax.fill_between(ep, lo, hi, alpha=0.12)
ax.axhline(np.median(table.test_acc), ls="--", color="grey", lw=0.8)
ax.set(xlabel="search epoch", ylabel="test accuracy of the derived cell (%)")
ax.legend(fontsize=8)
fig.tight_layout()
glue("fig_darts_anytime", fig, display=False)
plt.close(fig)

dtab = darts_table({label[a]: rs for a, rs in runs.items()}, table)
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
search = load_result("61_spikenas_search", dataset, scale, seed)
other = search["artifacts"]["runs"]
if [r["seed"] for r in next(iter(other.values()))] != seeds:
    raise ValueError("notebook 61 ran with other seeds; rerun it with this seed and scale")
finals = {name: np.asarray(table.test_acc)[final_cells(rs)] for name, rs in other.items()}
finals.update({label[a]: np.asarray(table.test_acc)[final_cells(rs)] for a, rs in runs.items()})
GPU_GUIDED = ("val. acc.", "10-epoch fitness")
seconds = {name: float(np.mean([r["seconds"] for r in rs])) for name, rs in other.items()}
seconds.update({label[a]: float(np.mean([r["seconds"] for r in rs])) for a, rs in runs.items()})
machines = {name: "benchmark GPU" if name.endswith(GPU_GUIDED) else "this CPU" for name in seconds}
ctab = comparison_table(finals, seconds, machines, table)
display(book_table(ctab.round(3)))
glue("comparison_table", book_table(ctab.round(3)), display=False)

best_free = ctab[(ctab["machine"] == "this CPU") & ~ctab.index.isin(list(label.values()))]
best_free = best_free[best_free.index != "random cell (no score)"].index[0]
PAIRS = [
    *[(label[a], "spiking DARTS") for a in ATTENTIONS if a != "none"],
    *[(label[a], "random cell (no score)") for a in ATTENTIONS],
    *[(label[a], best_free) for a in ATTENTIONS],
    *[(label[a], "regularised evolution, val. acc.") for a in ATTENTIONS],
]
ptab = paired_table(finals, PAIRS)
display(book_table(ptab.round(3)))
glue("darts_paired_table", book_table(ptab.round(3)), display=False)

fig, ax = plt.subplots(figsize=(7.5, 4.8))
for machine, marker in (("this CPU", "o"), ("benchmark GPU", "s")):
    t = ctab[ctab["machine"] == machine]
    ax.errorbar(
        t["seconds"].clip(lower=1e-3),
        t["test_acc"],
        yerr=[t["test_acc"] - t["lo"], t["hi"] - t["test_acc"]],
        fmt=marker,
        ms=4,
        capsize=2,
        label=f"{machine} seconds",
    )
    front = t[t["pareto"]].sort_values("seconds")
    ax.plot(front["seconds"].clip(lower=1e-3), front["test_acc"], "k-", lw=0.7)
for name, r in ctab.iterrows():
    ax.annotate(name, (max(r["seconds"], 1e-3), r["test_acc"]), fontsize=6)
ax.axhline(np.median(table.test_acc), ls="--", color="grey", lw=0.8)
ax.set_xscale("log")
ax.set(
    xlabel="seconds per search (log; 1e-3 stands for ~0)",
    ylabel="test accuracy of the returned cell (%)",
)
ax.legend(fontsize=8)
fig.tight_layout()
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
budgets = {
    "MSE-NAS retraining (11)": benchmark_epochs(mse["epochs"], mse["n_train"]),
    "MA-DARTS retraining (21)": benchmark_epochs(madarts["train_epochs"], madarts["n_train"]),
    "DARTS search weights (62)": benchmark_epochs(base.epochs, base.n_weight),
}
placed = {name: tau_at_budget(curve, e) for name, e in budgets.items()}
fig, ax = plt.subplots(figsize=(7, 3.8))
ax.plot(curve.index, curve["tau"], "-", color="black", lw=1, label="val. acc. after k epochs")
for (name, p), color in zip(placed.items(), ("tab:blue", "tab:orange", "tab:green")):
    ax.plot([max(p["epochs"], 1)], [p["tau"]], "v", color=color, ms=8, label=name)
ax.set_xscale("log")
ax.set(xlabel="epochs of full-data training (log)", ylabel="Kendall tau with final test acc.")
ax.legend(fontsize=8)
fig.tight_layout()
glue("fig_budget_curve", fig, display=False)
plt.close(fig)
print(
    {
        name: {k: round(v, 4) if isinstance(v, float) else v for k, v in p.items()}
        for name, p in placed.items()
    }
)

# %%
values = {
    "n_seeds": len(seeds),
    "epochs": base.epochs,
    "n_weight": base.n_weight,
    "n_arch": base.n_arch,
    "width_channels": round(128 * base.width),
    "time_steps": base.time_steps,
    "space_median": float(np.median(table.test_acc)),
    "n_methods": len(ctab),
    "best_free": best_free,
    "tau_epoch1": float(curve.loc[1, "tau"]),
    "tau_epoch10": float(curve.loc[10, "tau"]),
    "tau_epoch100": float(curve.loc[100, "tau"]),
}
for short, name in (("darts", "spiking DARTS"), *[(a, label[a]) for a in ATTENTIONS[1:]]):
    r = dtab.loc[name]
    values.update(
        {
            f"{short}_acc": r["test_acc"],
            f"{short}_lo": r["lo"],
            f"{short}_hi": r["hi"],
            f"{short}_pct": r["percentile (median)"],
            f"{short}_collapse": r["zero/identity share"],
            f"{short}_dead": int(r["dead cells"]),
            f"{short}_spread": r["alpha spread"],
            f"{short}_seconds": r["seconds"],
        }
    )
    for other_name, key in (
        ("random cell (no score)", "vs_rand"),
        (best_free, "vs_free"),
        ("regularised evolution, val. acc.", "vs_re"),
        ("spiking DARTS", "vs_darts"),
    ):
        row = f"{name} - {other_name}"
        if row in ptab.index:
            values.update(
                {
                    f"{short}_{key}": ptab.loc[row, "diff"],
                    f"{short}_{key}_lo": ptab.loc[row, "lo"],
                    f"{short}_{key}_hi": ptab.loc[row, "hi"],
                    f"{short}_{key}_p": ptab.loc[row, "t_p"],
                }
            )
for name, key in (
    ("MSE-NAS retraining (11)", "mse"),
    ("MA-DARTS retraining (21)", "madarts"),
    ("DARTS search weights (62)", "search"),
):
    values.update(
        {
            f"budget_{key}_epochs": placed[name]["epochs"],
            f"budget_{key}_tau": placed[name]["tau"],
            f"budget_{key}_bound": placed[name]["bound"],
        }
    )
values = {k: v.item() if isinstance(v, np.generic) else v for k, v in values.items()}
for key, value in values.items():
    glue(key, value, display=False)
path = run.write(
    values,
    artifacts={
        "runs": {label[a]: rs for a, rs in runs.items()},
        "comparison": ctab.reset_index().to_dict(orient="records"),
        "paired": ptab.reset_index().to_dict(orient="records"),
        "budgets": placed,
        "bench_table": table.provenance(),
    },
)
print(path)
