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
from IPython.display import display
from myst_nb import glue

from snnlib.book.glue import glue_all
from snnlib.book.params import declared_params
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.spikenas_ledger import (
    SPACE_COLUMNS,
    TABLE_COLUMNS,
    cross_width_ledgers,
    full_width_rows,
    learning_cells,
    ledger_artifacts,
    ledger_record,
    ledger_sample,
    ledger_values,
    plot_ledger_cost,
    plot_ledger_scatter,
    plot_ledger_taus,
    scored_cells,
    wide_cells,
)
from snnlib.book.tables import book_table
from snnlib.paths import checkpoints_dir
from snnlib.spikenas import N_ARCHS, load_table
from snnlib.spikenas.curves import load_curves, noise_ceiling, rank_correlation_by_epoch
from snnlib.spikenas.ledger import (
    LedgerConfig,
    checkpoint_name,
    cifar_probe,
    ledger_identity,
    run_ledger,
)
from snnlib.spikenas.study import cross_width_table, early_stop_table, ledger_score_table
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
ids = ledger_sample(table.test_acc, cfg["n_cells"], seed)
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
# a dry run (max_steps) scored only its first cells: the chapter's analysis runs on those
ids = scored_cells(ids, ledger, dry_run=bool(max_steps))

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
learned = learning_cells(ids, table.test_acc, dry_run=bool(max_steps))
PROXIES = list(ledger_cfg.proxies)
stats = dict(table=table, curves=curves, proxies=PROXIES, n_boot=cfg["n_boot"], seed=seed)
tab_all, ceiling = ledger_score_table(ledger, ids, **stats)
tab_learned, _ = ledger_score_table(ledger, learned, **stats)
display(book_table(tab_learned[TABLE_COLUMNS].round(3)))
glue("ledger_table_all", book_table(tab_all[TABLE_COLUMNS].round(3)), display=False)
glue("ledger_table_learned", book_table(tab_learned[TABLE_COLUMNS].round(3)), display=False)

# %% [markdown]
# The early-stop scores and the ceiling need no ledger: over all 15,625 cells of the space.

# %%
space_learned = learning_cells(np.arange(N_ARCHS), table.test_acc)
tab_space = early_stop_table(curves, table, space_learned, n_boot=cfg["n_boot"], seed=seed)
space_ceiling = noise_ceiling(table, curves, n_boot=cfg["n_boot"], seed=seed)
by_epoch = rank_correlation_by_epoch(table, curves)
glue("early_stop_space_table", book_table(tab_space[SPACE_COLUMNS].round(3)), display=False)
display(book_table(tab_space[SPACE_COLUMNS].round(3)))

# %%
fig = plot_ledger_scatter(ledger, ids, table, tab_learned)
glue("fig_ledger_scatter", fig, display=False)
plt.close(fig)

fig = plot_ledger_taus(tab_all, tab_learned, ceiling)
glue("fig_ledger_taus", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Is the narrow network a faithful stand-in for the benchmark's?
# A subset of the sample is scored again at the benchmark's full width (and, for a like-for-like
# comparison, at the narrow width on the same smaller probe). The Kendall tau between the two
# widths' scores says whether the cheap proxy of the proxy ranks cells as the real one would.

# %%
wide_ids = wide_cells(ids, table.test_acc, cfg["n_wide"], seed + 1, dry_run=bool(max_steps))
wide_probe = cifar_probe(cfg["wide_n_per_class"], seed)
ledgers = cross_width_ledgers(wide_ids, wide_probe, ledger_cfg, cfg["wide_width"], scale)
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
full_width = full_width_rows(tab_learned, ledgers["wide"], wide_ids, PROXIES)
fig = plot_ledger_cost(tab_learned, full_width, ceiling)
glue("fig_ledger_cost", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Numbers for the chapter

# %%
values = ledger_values(
    ids=ids,
    learned=learned,
    probe=probe,
    width=cfg["width"],
    wide_ids=wide_ids,
    wide_probe=wide_probe,
    ledger=ledger,
    wide=ledgers["wide"],
    tab_all=tab_all,
    tab_learned=tab_learned,
    ceiling=ceiling,
    space_ceiling=space_ceiling,
    space_learned=space_learned,
    tab_space=tab_space,
    cross=cross,
    full_width=full_width,
    proxies=PROXIES,
)
values = glue_all(values)
print(values)

# %%
metrics = ledger_record(
    values,
    table_learned=tab_learned,
    table_all=tab_all,
    cross_width=cross,
    early_stop_space=tab_space,
    tau_by_epoch=by_epoch,
)
path = run.write(metrics, artifacts=ledger_artifacts(ids, wide_ids, ledger, table, curves, probe))
print(path)
