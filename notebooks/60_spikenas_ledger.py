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
# # SpikeNAS-Bench ledger: training-free scores against 15,625 trained SNNs
#
# SpikeNAS-Bench (Sun et al., 2025) trained every cell of its spiking search space for 100
# epochs on CIFAR-10. Here every proxy of the book scores a stratified sample of those cells on
# real CIFAR-10 probe images, and the benchmark's test accuracy says how well each ranks them.
# The table only judges: no score sees it.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "cifar10"  # cifar10, the data of the benchmark
seed = 0
device = "auto"  # auto | cpu, the ledger runs on the CPU
overwrite = False  # replace a result file written with other parameters
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
n_boot = 1000  # bootstrap resamples for the intervals
threads = 1  # CPU intra-op threads per process

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from myst_nb import glue

from snnlib.book.params import declared_params
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.tables import book_table
from snnlib.nas.lsp import LSP_FITNESS
from snnlib.nas.pareto import pareto_front
from snnlib.paths import checkpoints_dir
from snnlib.spikenas import N_ARCHS, load_table
from snnlib.spikenas.curves import load_curves, noise_ceiling, rank_correlation_by_epoch
from snnlib.spikenas.ledger import (
    DEFAULT_RDM,
    LedgerConfig,
    checkpoint_name,
    cifar_probe,
    ledger_identity,
    run_ledger,
    stratified_sample,
)
from snnlib.spikenas.study import (
    cross_width_table,
    early_stop_table,
    ledger_score_table,
    median_seconds,
)
from snnlib.validation import check_choice

check_choice("dataset", dataset, ("cifar10",))
params = declared_params("60_spikenas_ledger", globals())
run, dev = start("60_spikenas_ledger", params, threads=threads)

cfg = pick_scale(
    scale,
    {
        # seconds: a handful of cells on a tiny network
        "smoke": dict(
            n_cells=16,
            width=1 / 32,
            time_steps=2,
            n_per_class=2,
            grad_batch=4,
            n_wide=4,
            wide_width=1 / 8,
            wide_n_per_class=2,
            n_boot=min(n_boot, 200),
        ),
        # 2 cores: 500 cells at 1/16 width (8/16 channels, about 0.4 s per cell), 12 cells at
        # the benchmark's full width (128/256 channels) on a smaller probe (about 30 s per cell)
        "cpu": dict(
            n_cells=500,
            width=1 / 16,
            time_steps=5,
            n_per_class=5,
            grad_batch=10,
            n_wide=12,
            wide_width=1.0,
            wide_n_per_class=2,
            n_boot=n_boot,
        ),
        # a GPU: every cell of the space at full width
        "paper": dict(
            n_cells=N_ARCHS,
            width=1.0,
            time_steps=5,
            n_per_class=10,
            grad_batch=32,
            n_wide=200,
            wide_width=1.0,
            wide_n_per_class=10,
            n_boot=n_boot,
        ),
    },
)
print(cfg)

# %% [markdown]
# ## The sample, the probe and the network
# Cells are drawn in proportion to ten test-accuracy quantile bins of the space, the dead
# cells (unreachable output, 10 %) being a bin of their own, so the sample has the space's
# spread. The probe is a class-balanced set of CIFAR-10 *training* images (never test images),
# normalised as the benchmark. Each cell's network is the benchmark's (`SpikeNASNet`: stem,
# the cell at two widths, its down-sampling block and grouped classifier, LIF with
# $\tau = 4/3$, $T = 5$), at a reduced width, untrained, weights seeded by the cell's id.

# %%
table = load_table()
ids = (
    stratified_sample(table.test_acc, cfg["n_cells"], seed)
    if cfg["n_cells"] < N_ARCHS
    else np.arange(N_ARCHS)
)
probe = cifar_probe(cfg["n_per_class"], seed)
ledger_cfg = LedgerConfig(
    width=cfg["width"],
    time_steps=cfg["time_steps"],
    seed=seed,
    grad_batch=cfg["grad_batch"],
    threads=threads or None,
)
ckpt = checkpoints_dir() / checkpoint_name(
    f"spikenas_ledger__{scale}", ledger_identity(ledger_cfg, probe)
)
print(f"{len(ids)} cells, probe {len(probe.y)} images from {probe.source}; checkpoint {ckpt}")
ledger = run_ledger(ids, probe, ledger_cfg, checkpoint=ckpt)
if max_steps:  # a dry run scored only its first cells: the chapter's analysis runs on those
    ids = ids[np.isin(ids, list(ledger.rows))]

# %% [markdown]
# ## How well does each score rank the cells?
# Kendall's $\tau_b$ and Spearman's $\rho$ against the table's test accuracy, with 95 %
# bootstrap intervals over the sampled cells; the top-5 % and top-1 % hit rates are the
# fractions of the truly best 5 % and 1 % of the sample that a score puts in its own best
# 5 % and 1 %. First over all sampled cells, then over the cells that learn (above 10 %): the
# dead cells reward any score that detects silence. Every training-free score of the ledger
# (the registry's names in `ledger_cfg.proxies`) stands beside the benchmark's early-stop
# scores of the same cells, read from its learning curves: the validation accuracy after
# $k$ epochs (`val_acc@k`; 10 epochs is the fitness BrainCog's MSE-NAS script runs) and the
# negated sum of the first $k$ training losses. `share_of_ceiling` divides each $\tau$ by the
# noise ceiling: how well the final validation accuracy ranks the test accuracy.

# %%
curves = load_curves()
learned = ids[table.test_acc[ids] > 10.0]
if max_steps and len(learned) < 2:  # a dry run's few cells: any two stand in
    learned = ids
PROXIES = list(ledger_cfg.proxies)
stats = dict(table=table, curves=curves, proxies=PROXIES, n_boot=cfg["n_boot"], seed=seed)
tab_all, ceiling = ledger_score_table(ledger, ids, **stats)
tab_learned, _ = ledger_score_table(ledger, learned, **stats)
cols = ["tau", "tau_lo", "tau_hi", "share_of_ceiling", "rho", "top5", "top1", "seconds", "machine"]
display(book_table(tab_learned[cols].round(3)))
glue("ledger_table_all", book_table(tab_all[cols].round(3)), display=False)
glue("ledger_table_learned", book_table(tab_learned[cols].round(3)), display=False)

# %% [markdown]
# The early-stop scores and the ceiling need no ledger: over all 15,625 cells of the space.

# %%
space_ids = np.arange(N_ARCHS)
space_learned = space_ids[table.test_acc > 10.0]
tab_space = early_stop_table(curves, table, space_learned, n_boot=cfg["n_boot"], seed=seed)
space_ceiling = noise_ceiling(table, curves, n_boot=cfg["n_boot"], seed=seed)
by_epoch = rank_correlation_by_epoch(table, curves)
space_cols = ["tau", "tau_lo", "tau_hi", "rho", "top5", "top1", "seconds"]
glue("early_stop_space_table", book_table(tab_space[space_cols].round(3)), display=False)
display(book_table(tab_space[space_cols].round(3)))

# %%
# %%
free = tab_learned[tab_learned["machine"] == "this CPU"]
best = free.index[0]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
for ax, name in zip(
    axes,
    [DEFAULT_RDM, LSP_FITNESS, best if best not in (DEFAULT_RDM, LSP_FITNESS) else free.index[1]],
):
    x = ledger.column(name, ids)
    ax.scatter(x, table.test_acc[ids], s=6, alpha=0.6)
    ax.set_xlabel(name.removeprefix("rdm "))
    r = tab_learned.loc[name]
    ax.set_title(f"tau (learned) {r['tau']:.2f} [{r['tau_lo']:.2f}, {r['tau_hi']:.2f}]", fontsize=9)
axes[0].set_ylabel("SpikeNAS-Bench test accuracy (%)")
fig.tight_layout()
glue("fig_ledger_scatter", fig, display=False)
plt.close(fig)

fig, ax = plt.subplots(figsize=(7, 8))
order = tab_learned.index[::-1]
yy = np.arange(len(order))
for off, tab, label in ((-0.18, tab_all, "all cells"), (0.18, tab_learned, "cells that learn")):
    t = tab.loc[order]
    ax.errorbar(
        t["tau"],
        yy + off,
        xerr=[t["tau"] - t["tau_lo"], t["tau_hi"] - t["tau"]],
        fmt="o",
        ms=4,
        capsize=2,
        label=label,
    )
ax.axvline(0, color="grey", lw=0.8)
ax.axvline(ceiling.learning.tau, color="black", ls="--", lw=1, label="noise ceiling (learn)")
ax.set_yticks(yy, [o.removeprefix("rdm ") for o in order], fontsize=7)
ax.set_xlabel("Kendall tau against test accuracy (95 % bootstrap interval)")
ax.legend(fontsize=8)
fig.tight_layout()
glue("fig_ledger_taus", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Is the narrow network a faithful stand-in for the benchmark's?
# A subset of the sample is scored again at the benchmark's full width (and, for a like-for-like
# comparison, at the narrow width on the same smaller probe). The Kendall tau between the two
# widths' scores says whether the cheap proxy of the proxy ranks cells as the real one would.

# %%
pos = (
    np.arange(min(cfg["n_wide"], len(ids)))  # a dry run: its few scored cells
    if max_steps
    else stratified_sample(table.test_acc[ids], cfg["n_wide"], seed + 1)
)
wide_ids = ids[pos]
wide_probe = cifar_probe(cfg["wide_n_per_class"], seed)
wide_cfg = LedgerConfig(
    width=cfg["wide_width"],
    time_steps=cfg["time_steps"],
    seed=seed,
    grad_batch=min(cfg["grad_batch"], len(wide_probe.y)),
    threads=threads or None,
)
narrow_cfg = LedgerConfig(**{**ledger_cfg.__dict__, "grad_batch": wide_cfg.grad_batch})
ledgers = {}
for label, c in (("wide", wide_cfg), ("narrow", narrow_cfg)):
    path = checkpoints_dir() / checkpoint_name(
        f"spikenas_ledger_{label}__{scale}", ledger_identity(c, wide_probe)
    )
    ledgers[label] = run_ledger(wide_ids, wide_probe, c, checkpoint=path, chunk=2)
cross = cross_width_table(
    ledgers["narrow"],
    ledgers["wide"],
    wide_ids,
    table.test_acc,
    PROXIES,
    n_boot=cfg["n_boot"],
    seed=seed,
)
display(book_table(cross.round(3)))
glue("cross_width_table", book_table(cross.round(3)), display=False)
wide_seconds = float(
    np.median([ledgers["wide"].rows[int(a)]["seconds"][DEFAULT_RDM] for a in wide_ids])
)

# %% [markdown]
# ## Cost against quality
# Each score at its seconds per cell against its $\tau$ over the cells that learn: the
# training-free scores at this machine's CPU seconds (one thread) at the ledger's width and, for
# the cells scored again above, at the benchmark's full width (on that section's smaller probe:
# a full-width score on the ledger's probe costs about its ratio of images more); the
# early-stop scores at the benchmark's recorded GPU seconds for $k$ epochs (another machine: the
# axes do not share a clock). The line is the Pareto front (higher $\tau$, lower cost) of the
# ledger-width and early-stop points.

# %%
front = pareto_front(tab_learned["tau"], tab_learned["seconds"].clip(lower=1e-4))
full_width = tab_learned.loc[PROXIES].assign(
    seconds=median_seconds(ledgers["wide"], wide_ids, PROXIES), machine="this CPU, full width"
)
fig, ax = plt.subplots(figsize=(7, 4.5))
for machine, marker in (("this CPU", "o"), ("this CPU, full width", "^"), ("benchmark GPU", "s")):
    t = pd.concat([tab_learned, full_width]).query("machine == @machine")
    ax.errorbar(
        t["seconds"].clip(lower=1e-4),
        t["tau"],
        yerr=[t["tau"] - t["tau_lo"], t["tau_hi"] - t["tau"]],
        fmt=marker,
        ms=4,
        capsize=2,
        label=f"{machine} seconds",
    )
f = tab_learned[front].sort_values("seconds")
ax.plot(f["seconds"].clip(lower=1e-4), f["tau"], "k-", lw=0.8, label="Pareto front")
for name, r in f.iterrows():
    ax.annotate(name.removeprefix("rdm "), (max(r["seconds"], 1e-4), r["tau"]), fontsize=7)
ax.axhline(ceiling.learning.tau, color="black", ls="--", lw=1, label="noise ceiling")
ax.set_xscale("log")
ax.set_xlabel("seconds per cell (log; 1e-4 stands for ~0)")
ax.set_ylabel("Kendall tau, cells that learn")
ax.legend(fontsize=8)
fig.tight_layout()
glue("fig_ledger_cost", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Numbers for the chapter

# %%
d_all, d_learned = tab_all.loc[DEFAULT_RDM], tab_learned.loc[DEFAULT_RDM]
values = {
    "n_cells": len(ids),
    "n_learned": len(learned),
    "n_dead": int(len(ids) - len(learned)),
    "probe_images": len(probe.y),
    "probe_source": probe.source,
    "width_channels": f"{max(1, round(128 * cfg['width']))}/{max(1, round(256 * cfg['width']))}",
    "n_wide": len(wide_ids),
    "wide_probe_images": len(wide_probe.y),
    "default_tau_all": d_all["tau"],
    "default_tau_all_lo": d_all["tau_lo"],
    "default_tau_all_hi": d_all["tau_hi"],
    "default_tau_learned": d_learned["tau"],
    "default_tau_learned_lo": d_learned["tau_lo"],
    "default_tau_learned_hi": d_learned["tau_hi"],
    "default_rho_learned": d_learned["rho"],
    "default_top5_learned": d_learned["top5"],
    "top5_chance": d_learned["top5_chance"],
    "lsp_tau_learned": tab_learned.loc[LSP_FITNESS, "tau"],
    "lsp_tau_learned_lo": tab_learned.loc[LSP_FITNESS, "tau_lo"],
    "lsp_tau_learned_hi": tab_learned.loc[LSP_FITNESS, "tau_hi"],
    "lsp_corrected_tau_learned": tab_learned.loc[f"{LSP_FITNESS}/corrected", "tau"],
    "params_tau_learned": tab_learned.loc["params", "tau"],
    "val10_tau_learned": tab_learned.loc["val_acc@10", "tau"],
    "val10_tau_learned_lo": tab_learned.loc["val_acc@10", "tau_lo"],
    "val10_tau_learned_hi": tab_learned.loc["val_acc@10", "tau_hi"],
    "val10_seconds": tab_learned.loc["val_acc@10", "seconds"],
    "ceiling_learned": ceiling.learning.tau,
    "ceiling_learned_lo": ceiling.learning.lo,
    "ceiling_learned_hi": ceiling.learning.hi,
    "best_free_share_of_ceiling": free.iloc[0]["share_of_ceiling"],
    "space_ceiling_learned": space_ceiling.learning.tau,
    "space_ceiling_learned_lo": space_ceiling.learning.lo,
    "space_ceiling_learned_hi": space_ceiling.learning.hi,
    "space_ceiling_all": space_ceiling.all_cells.tau,
    "space_n_learned": len(space_learned),
    "space_val10_tau": tab_space.loc["val_acc@10", "tau"],
    "space_val60_tau": tab_space.loc["val_acc@60", "tau"],
    "space_val1_tau": tab_space.loc["val_acc@1", "tau"],
    "sahd_tau_learned": tab_learned.loc["sahd", "tau"],
    "sahd_tau_learned_lo": tab_learned.loc["sahd", "tau_lo"],
    "sahd_tau_learned_hi": tab_learned.loc["sahd", "tau_hi"],
    "best_proxy_learned": best,
    "best_tau_learned": tab_learned.loc[best, "tau"],
    "best_tau_learned_lo": tab_learned.loc[best, "tau_lo"],
    "best_tau_learned_hi": tab_learned.loc[best, "tau_hi"],
    "best_proxy_all": tab_all[tab_all["machine"] == "this CPU"].index[0],
    "best_tau_all": tab_all[tab_all["machine"] == "this CPU"].iloc[0]["tau"],
    "default_rank_learned": int(list(free.index).index(DEFAULT_RDM) + 1),
    "n_proxies": len(PROXIES),
    "default_seconds": d_learned["seconds"],
    "wide_seconds": wide_seconds,
    "wide_lsp_seconds": full_width.loc[LSP_FITNESS, "seconds"],
    "lsp_seconds": tab_learned.loc[LSP_FITNESS, "seconds"],
    "default_tau_widths": cross.loc[DEFAULT_RDM, "tau_widths"],
    "sahd_tau_widths": cross.loc["sahd", "tau_widths"],
    "output_silent_share": float(
        np.mean([ledger.rows[int(a)]["output_spikes"] == 0 for a in learned])
    ),
}
values = {k: v.item() if isinstance(v, np.generic) else v for k, v in values.items()}
for k, v in values.items():
    glue(k, v, display=False)
print(values)

# %%
metrics = {
    **{k: v for k, v in values.items()},
    "table_learned": tab_learned.reset_index().to_dict(orient="records"),
    "table_all": tab_all.reset_index().to_dict(orient="records"),
    "cross_width": cross.reset_index().to_dict(orient="records"),
    "early_stop_space": tab_space.reset_index().to_dict(orient="records"),
    "tau_by_epoch": by_epoch.reset_index().to_dict(orient="records"),
}
path = run.write(
    metrics,
    artifacts={
        "ids": ids.tolist(),
        "wide_ids": wide_ids.tolist(),
        "ledger": [ledger.rows[int(a)] for a in ids],
        "bench_table": table.provenance(),
        "bench_curves": curves.provenance(),
        "probe": probe.identity(),
    },
)
print(path)
