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
# # Proxy study: do training-free scores rank architectures by trained accuracy?
#
# We sample architectures from the MSE-NAS search space, train each one with the same short
# budget (the ground truth), and compute every training-free score on the *untrained*
# network: every score of the NAS core's proxy registry that the study lists
# (`snnlib.mse.proxy_scores.study_proxies`: a newly registered score appears here with no other
# edit), among them the RDM fitness in several configurations (distance metric, comparison with
# the categorical target, layer aggregation), SNASNet's SAHD, the parameter count, the mean
# firing rate and a random score. Each score is judged by Kendall's tau and Spearman's rho with the
# trained accuracy (95 % bootstrap intervals over architectures) and by its top-10 % hit rate.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "digits"  # digits | digits-dvs | cifar10 | cifar100 | cifar10-dvs | dvs-gesture
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway: hours to days
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
n_boot = 2000  # bootstrap resamples for the confidence intervals
top_fraction = 0.1  # the hit rate's "top" (10 %)
threads = 1  # torch CPU threads (on a shared 2-core machine one thread is the fastest)

# %% tags=["hide-input"]
import time

import matplotlib.pyplot as plt
import numpy as np
from myst_nb import glue

from snnlib import dryrun
from snnlib.book.glue import glue_all
from snnlib.book.params import declared_params
from snnlib.book.proxy_study import (
    ground_truth,
    learned_ranking,
    rank_proxies,
    scatter_figure,
    shown_table,
    study_budget,
    study_data,
    study_glue_values,
    study_metrics,
    tau_figure,
    write_bench,
)
from snnlib.book.results import ResultRun
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.tables import book_table
from snnlib.data import dataset_info
from snnlib.mse import DataSpec, NetConfig, SearchSpace, sample_genomes
from snnlib.mse.baselines import SpikeAwareAccuracyEvaluator
from snnlib.mse.proxy_scores import ProxyScorer
from snnlib.train import TrainConfig

params = declared_params("30_proxy_study", globals())
run, dev = start("30_proxy_study", params, threads=threads)
bench = ResultRun("proxy_bench", params, device_name=run.device_name)  # the reusable ground truth
t_start = time.perf_counter()

cfg = pick_scale(
    scale,
    {
        # seconds: 6 architectures, one training batch each
        "smoke": dict(
            n_arch=6,
            time_steps=4,
            n_cells=3,
            width=4,
            train_limit=32,
            test_limit=64,
            batch_size=16,
            train=TrainConfig(epochs=1, lr=2e-2, label_smoothing=0.0, max_batches=1),
            n_per_class=3,
            small_probes=(2,),
            sahd_batch=8,
            n_boot=min(n_boot, 200),
        ),
        # 2 cores, about 3 min per dataset: 40 architectures, about 3 s of training each
        "cpu": dict(
            n_arch=40,
            time_steps=4,
            n_cells=6,
            width=8,
            train_limit=384,
            test_limit=None,
            batch_size=32,
            train=TrainConfig(epochs=2, lr=2e-2, label_smoothing=0.0),
            n_per_class=10,
            small_probes=(2, 5),
            sahd_batch=32,
            n_boot=n_boot,
        ),
        # GPU: more architectures, wider networks, 10 epochs (the authors' accuracy fitness)
        "paper": dict(
            n_arch=200,
            time_steps=4,
            n_cells=6,
            width=16,
            train_limit=10000,
            test_limit=None,
            batch_size=128,
            train=TrainConfig(epochs=10, lr=5e-3 * 128 / 1024 * 8, warmup_epochs=1),
            n_per_class=10,
            small_probes=(2, 5),
            sahd_batch=64,
            n_boot=n_boot,
        ),
    },
)
info = dataset_info(dataset)
label = f"{dataset}, {scale}"
print(info, cfg)

# %% [markdown]
# ## Architectures, data and the training budget
# Architectures are drawn with `sample_genomes` from a numpy `Generator` seeded by `seed`
# (distinct genomes only). Every architecture is trained from the same seeded initialisation
# rule (`derive_seed(seed, genome hash)`) on the same training subset, with the same budget,
# and tested on the held-out test split.

# %%
space = SearchSpace(n_cells=cfg["n_cells"])
net = NetConfig(width=cfg["width"], stem_stride=2)
data = DataSpec.from_info(info, cfg["time_steps"])
genomes = sample_genomes(np.random.default_rng(seed), space, cfg["n_arch"])
# a dry run trains and scores a few of them, each loop planned for all (snnlib.dryrun.sample)
genomes, per_genome_run = dryrun.sample(genomes)
tensors = study_data(dataset, cfg, seed)

# %% [markdown]
# ## Training-free scores: the probes
# Every registry score reads one recording of the untrained network on a class-balanced probe
# (`cfg["n_per_class"]` images per class), except SAHD, which reads its own two mini-batches of
# training images as SNASNet does. The RDM fitness default of the MSE-NAS search is
# `RDMConfig()`: correlation distance, Spearman comparison, mean over layers. The default RDM
# fitness is also run on smaller probes: what a cheaper fitness costs in ranking quality. Each
# probe's fitness is the search's own evaluator, timed per call (build + forward + RDM); the
# default probe's must agree with the registry's default variant.

# %%
scorer = ProxyScorer.of_probes(
    tensors.all_x,
    tensors.all_y,
    data,
    net,
    probes=cfg["small_probes"],
    default_probe=cfg["n_per_class"],
    num_classes=info.num_classes,
    sahd_x=tensors.sahd_x,
    seed=seed,
    device=str(dev),
)
budget = study_budget(tensors, cfg, scorer)
print(f"{len(genomes)} architectures; budget {budget}; scores {scorer.names()}")

# %% [markdown]
# ## Ground truth: short training

# %%
truth_fit = SpikeAwareAccuracyEvaluator(
    tensors.train_x,
    tensors.train_y,
    tensors.test_x,
    tensors.test_y,
    data,
    train=cfg["train"],
    batch_size=cfg["batch_size"],
    net=net,
    device=str(dev),
)
truth = ground_truth(truth_fit, genomes, seed, per_genome_run)
print(truth.summary())

# %% [markdown]
# ## Training-free scores

# %%
with dryrun.repeated(per_genome_run):
    proxy = scorer.score(genomes, seed)
print(f"scores in {proxy.seconds:.1f} s; RDM fitness seconds per candidate by probe size:")
print(proxy.probe_seconds, "non-finite:", proxy.non_finite())

# %% [markdown]
# ## Rank statistics
# Non-finite scores (e.g. log 0) rank last. Is the best variant better than the default?
# Paired bootstrap of the difference in tau (same resamples for both scores):
# `recommend_rdm` switches only if its interval excludes 0.

# %%
ranking = rank_proxies(proxy.scores, truth.acc, cfg["n_boot"], seed, top_fraction)
shown = shown_table(ranking, label, top_fraction)
print(ranking.summary())
book_table(shown)

# %% [markdown]
# ## Among the architectures that learned
# Many random architectures stay near chance after the short training (silent or saturated
# networks). A score that only separates those from the rest already earns a good tau; the
# same statistics restricted to the architectures above 1.5x chance accuracy show whether it
# also ranks the networks that learn.

# %%
learned = learned_ranking(
    ranking, truth.acc, info.num_classes, label, cfg["n_boot"], seed, top_fraction
)
glue_all(study_glue_values(ranking, learned, proxy, truth, scorer, tensors, cfg, shown))
book_table(learned.shown)

# %% [markdown]
# ## Score vs trained accuracy
# One panel per score; the title gives Kendall's tau. Non-finite scores are drawn at the
# floor they are ranked with.

# %%
title = f"Training-free scores vs accuracy after short training ({label}, {len(genomes)} archs)"
fig = scatter_figure(ranking, truth.acc, title)
glue("scatter_fig", fig, display=False)
plt.close(fig)

# %%
fig = tau_figure(ranking, label)
glue("tau_fig", fig, display=False)
plt.close(fig)

# %%
wall = time.perf_counter() - t_start
glue("wall_seconds", wall, display=False)
# the reusable ground truth; a dry run writes only its own record
bench_name = write_bench(bench, genomes, truth, proxy, budget, net, space, dry_run=bool(max_steps))
path = run.write(
    study_metrics(ranking, learned, proxy, truth, wall), artifacts={"proxy_bench": bench_name}
)
print(f"wrote {path} and {bench_name}; {wall:.0f} s")
