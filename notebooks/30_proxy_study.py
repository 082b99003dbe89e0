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
# network: the RDM fitness in several configurations (distance metric, comparison with the
# categorical target, layer aggregation), SNASNet's SAHD, the parameter count, the mean firing
# rate and a random score. Each score is judged by Kendall's tau and Spearman's rho with the
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
import pandas as pd
from myst_nb import glue
from tqdm.auto import tqdm

from snnlib import dryrun
from snnlib.book.params import declared_params
from snnlib.book.results import ResultRun
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.tables import book_table
from snnlib.data import dataset_info, make_loaders
from snnlib.mse import (
    DataSpec,
    NetConfig,
    RDMConfig,
    RDMEvaluator,
    SearchSpace,
    class_balanced,
    loader_tensors,
    sample_genomes,
)
from snnlib.mse.baselines import SAHDEvaluator, SpikeAwareAccuracyEvaluator
from snnlib.mse.proxy_scores import (
    ProxyScorer,
    glue_name,
    interval_table,
    probe_label,
    recommend_rdm,
)
from snnlib.nas.ranking import finite_floor, study_table
from snnlib.nas.rdm import RDM_VARIANTS
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

loaders = make_loaders(
    dataset,
    batch_size=256,
    time_steps=cfg["time_steps"],
    limit={"test": cfg["test_limit"]} if cfg["test_limit"] else None,
    seed=seed,
    splits=("train", "test"),
)
all_x, all_y = loader_tensors(loaders["train"])  # the whole train split, seeded shuffle
train_x, train_y = all_x[: cfg["train_limit"]], all_y[: cfg["train_limit"]]
test_x, test_y = loader_tensors(loaders["test"])
probe_x, probe_y = class_balanced(
    all_x, all_y, cfg["n_per_class"], seed=seed, num_classes=info.num_classes
)
sahd_x = train_x[: 2 * cfg["sahd_batch"]]
budget = dict(
    train_images=len(train_x),
    test_images=len(test_x),
    batch_size=cfg["batch_size"],
    time_steps=cfg["time_steps"],
    width=cfg["width"],
    n_cells=cfg["n_cells"],
    stem_stride=2,
    train=cfg["train"].to_dict(),
    probe_images=len(probe_x),
    sahd_images=len(sahd_x),
)
print(f"{len(genomes)} architectures; budget {budget}")

# %% [markdown]
# ## Ground truth: short training

# %%
truth = SpikeAwareAccuracyEvaluator(
    train_x,
    train_y,
    test_x,
    test_y,
    data,
    train=cfg["train"],
    batch_size=cfg["batch_size"],
    net=net,
    device=str(dev),
)
t0 = time.perf_counter()
with dryrun.repeated(per_genome_run):
    gt = [truth.details(g, seed) for g in tqdm(genomes, desc="train")]
train_seconds = time.perf_counter() - t0
acc = np.array([d["acc"] for d in gt])
print(
    f"trained {len(gt)} architectures in {train_seconds:.0f} s; "
    f"accuracy {acc.min():.3f} .. {acc.max():.3f} "
    f"(mean {acc.mean():.3f}); diverged {sum(d['diverged'] for d in gt)}"
)

# %% [markdown]
# ## Training-free scores
# All RDM variants of one architecture share its responses (one forward pass for spike
# counts, one for binary spike patterns), which gives exactly what `RDMEvaluator` with that
# configuration returns. The RDM fitness default of the MSE-NAS search is `RDMConfig()`:
# correlation distance, Spearman comparison, mean over layers.

# %%
rdm_counts = RDMEvaluator(probe_x, probe_y, data, cfg=RDMConfig(), net=net, device=str(dev))
rdm_patterns = RDMEvaluator(
    probe_x, probe_y, data, cfg=RDMConfig(metric="hamming"), net=net, device=str(dev)
)
sahd = SAHDEvaluator(sahd_x, data, net=net, n_batches=2, device=str(dev))

# The default RDM fitness on smaller probes (n images per class): what a cheaper fitness costs in
# ranking quality. Each is the search's own evaluator, timed per call (build + forward + RDM),
# beside the default probe's evaluator timed the same way.
probe_evaluators = {cfg["n_per_class"]: rdm_counts}
for n in cfg["small_probes"]:
    px, py = class_balanced(all_x, all_y, n, seed=seed, num_classes=info.num_classes)
    probe_evaluators[n] = RDMEvaluator(
        px, py, data, cfg=RDMConfig(n_per_class=n), net=net, device=str(dev)
    )
scorer = ProxyScorer(
    RDM_VARIANTS,
    counts=rdm_counts,
    patterns=rdm_patterns,
    sahd=sahd,
    probe_encoded=data.encoder()(probe_x).to(dev),
    probe_evaluators=probe_evaluators,
    default_probe=cfg["n_per_class"],
    num_classes=info.num_classes,
)
DEFAULT_RDM = scorer.default_name
with dryrun.repeated(per_genome_run):
    proxy = scorer.score(genomes, seed)
scores, score_seconds, probe_seconds = proxy.scores, proxy.seconds, proxy.probe_seconds
print(
    "RDM fitness seconds per candidate by probe images per class:",
    {n: round(s, 4) for n, s in probe_seconds.items()},
)
for n, sec in probe_seconds.items():
    glue(f"probe{n}_seconds_ms", 1000 * sec, display=False)
    glue(f"probe{n}_images", n * info.num_classes, display=False)
n_nonfinite = proxy.non_finite()
scores_ranked = {k: finite_floor(v) for k, v in scores.items()}  # -inf (e.g. log 0) ranks last
print(
    f"scores in {score_seconds:.1f} s; non-finite: { {k: v for k, v in n_nonfinite.items() if v} }"
)

# %% [markdown]
# ## Rank statistics

# %%
table = study_table(scores_ranked, acc, n_boot=cfg["n_boot"], seed=seed, top=top_fraction)


shown = interval_table(table, f"score ({dataset}, {scale}, n = {len(genomes)})", top=top_fraction)
glue("proxy_table", book_table(shown), display=False)
book_table(shown)

# %%
choice = recommend_rdm(table, RDM_VARIANTS, scores_ranked, acc, n_boot=cfg["n_boot"], seed=seed)
best_rdm, best_cfg, d, advice = choice.best, choice.config, choice.difference, choice.advice
glue("best_rdm_config", best_rdm.removeprefix("rdm "), display=False)
glue("best_rdm_metric", best_cfg.metric, display=False)
glue("best_rdm_comparison", best_cfg.comparison, display=False)
glue("best_rdm_aggregation", best_cfg.aggregation, display=False)
glue("best_rdm_tau", float(table.loc[best_rdm, "tau"]), display=False)
glue("default_rdm_config", DEFAULT_RDM.removeprefix("rdm "), display=False)
glue("default_rdm_tau", float(table.loc[DEFAULT_RDM, "tau"]), display=False)
glue("default_is_best", "is" if best_rdm == DEFAULT_RDM else "is not", display=False)
for name, r in table.iterrows():
    for col in ("tau", "tau_lo", "tau_hi", "rho", "rho_lo", "rho_hi", "hit_rate"):
        glue(f"{glue_name(name)}__{col}", float(r[col]), display=False)
# the probe-size rows under short keys (the default probe is the default RDM row)
for n in probe_evaluators:
    row = table.loc[DEFAULT_RDM if n == cfg["n_per_class"] else probe_label(n, info.num_classes)]
    for col in ("tau", "tau_lo", "tau_hi"):
        glue(f"probe{n}_{col}", float(row[col]), display=False)
glue("chance_hit_rate", float(table["chance"].iloc[0]), display=False)
glue("n_arch", len(genomes), display=False)
glue("n_boot", int(cfg["n_boot"]), display=False)
glue("train_images", len(train_x), display=False)
glue("test_images", len(test_x), display=False)
glue("train_epochs", cfg["train"].epochs, display=False)
glue("acc_min", 100 * float(acc.min()), display=False)
glue("acc_max", 100 * float(acc.max()), display=False)
glue("acc_mean", 100 * float(acc.mean()), display=False)
glue("train_seconds", train_seconds, display=False)
glue("score_seconds", score_seconds, display=False)
# Is the best variant better than the default? Paired bootstrap of the difference in tau
# (same resamples for both scores): `recommend_rdm` switches only if its interval excludes 0.
glue("tau_diff", d["diff"], display=False)
glue("tau_diff_lo", d["lo"], display=False)
glue("tau_diff_hi", d["hi"], display=False)
glue("rdm_advice", advice, display=False)
print(
    f"best RDM configuration by Kendall tau: {best_rdm} (tau {table.loc[best_rdm, 'tau']:.3f}); "
    f"default {DEFAULT_RDM} (tau {table.loc[DEFAULT_RDM, 'tau']:.3f}); difference {d['diff']:+.3f} "
    f"[{d['lo']:+.3f}, {d['hi']:+.3f}] -> {advice}"
)

# %% [markdown]
# ## Among the architectures that learned
# Many random architectures stay near chance after the short training (silent or saturated
# networks). A score that only separates those from the rest already earns a good tau; the
# same statistics restricted to the architectures above 1.5x chance accuracy show whether it
# also ranks the networks that learn.

# %%
alive = acc > 1.5 / info.num_classes
glue("n_alive", int(alive.sum()), display=False)
if alive.sum() >= 5:
    table_alive = study_table(
        {k: v[alive] for k, v in scores_ranked.items()},
        acc[alive],
        n_boot=cfg["n_boot"],
        seed=seed,
        top=top_fraction,
    )
    shown_alive = interval_table(
        table_alive, f"score ({dataset}, {scale}, learned: n = {int(alive.sum())})"
    )
    glue("alive_best_rdm_tau", float(table_alive.loc[best_rdm, "tau"]), display=False)
    glue("alive_default_rdm_tau", float(table_alive.loc[DEFAULT_RDM, "tau"]), display=False)
else:
    shown_alive = pd.DataFrame(
        {"note": [f"only {int(alive.sum())} architectures above 1.5x chance"]}
    )
    glue("alive_best_rdm_tau", float("nan"), display=False)
    glue("alive_default_rdm_tau", float("nan"), display=False)
glue("proxy_table_alive", book_table(shown_alive), display=False)
book_table(shown_alive)

# %% [markdown]
# ## Score vs trained accuracy
# One panel per score; the title gives Kendall's tau. Non-finite scores are drawn at the
# floor they are ranked with.

# %%
names = list(table.index)
ncol = 4
nrow = int(np.ceil(len(names) / ncol))
fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.6 * nrow), squeeze=False)
for ax, name in zip(axes.flat, names):
    ax.scatter(
        scores_ranked[name],
        100 * acc,
        s=12,
        alpha=0.7,
        color="tab:red"
        if name == best_rdm
        else ("tab:blue" if name.startswith("rdm") else "tab:gray"),
    )
    tau = table.loc[name, "tau"]
    ax.set_title(
        f"{name.removeprefix('rdm ')}\ntau = {tau:+.2f}"
        if np.isfinite(tau)
        else f"{name}\ntau = NaN",
        fontsize=8,
    )
    ax.tick_params(labelsize=7)
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
for ax in list(axes.flat)[len(names) :]:
    ax.axis("off")
for ax in axes[:, 0]:
    ax.set_ylabel("trained acc. (%)", fontsize=8)
fig.suptitle(
    f"Training-free scores vs accuracy after short training ({dataset}, {scale}, "
    f"{len(genomes)} architectures)",
    fontsize=10,
)
fig.tight_layout()
glue("scatter_fig", fig, display=False)
plt.close(fig)

# %%
fig, ax = plt.subplots(figsize=(6.5, 0.35 * len(names) + 1))
y = np.arange(len(names))[::-1]
tau_v = table["tau"].to_numpy()
err = np.clip(
    np.vstack([tau_v - table["tau_lo"].to_numpy(), table["tau_hi"].to_numpy() - tau_v]), 0, None
)
ax.errorbar(np.nan_to_num(tau_v), y, xerr=np.nan_to_num(err), fmt="o", color="tab:blue", capsize=3)
ax.axvline(0, color="gray", lw=0.8)
ax.set_yticks(y)
_ = ax.set_yticklabels([n.removeprefix("rdm ") for n in names], fontsize=8)
_ = ax.set(
    xlabel="Kendall tau with trained accuracy (95% bootstrap CI)", title=f"{dataset}, {scale}"
)
fig.tight_layout()
glue("tau_fig", fig, display=False)
plt.close(fig)

# %%
wall = time.perf_counter() - t_start
glue("wall_seconds", wall, display=False)
stats = {
    name: {
        c: table.loc[name, c]
        for c in ("tau", "tau_lo", "tau_hi", "rho", "rho_lo", "rho_hi", "hit_rate")
    }
    for name in table.index
}
bench_path = None  # the reusable ground truth; a dry run writes only its own record
if not max_steps:
    bench_path = bench.write(
        {
            "n_arch": len(genomes),
            "acc_mean": float(acc.mean()),
            "train_seconds": train_seconds,
            "score_seconds": score_seconds,
        },
        artifacts={
            "genomes": [g.to_dict() for g in genomes],
            "hashes": [g.hash() for g in genomes],
            "accuracy": acc.tolist(),
            "nos_trained": [d["nos"] for d in gt],
            "scores": {k: list(map(float, v)) for k, v in scores.items()},
            "budget": budget,
            "rdm_variants": {k: v.to_dict() for k, v in RDM_VARIANTS.items()},
            "net": net.to_dict(),
            "space": {"n_cells": space.n_cells},
        },
    )
path = run.write(
    {
        "stats": stats,
        "best_rdm_config": best_rdm,
        "default_rdm_config": DEFAULT_RDM,
        "best_rdm": best_cfg.to_dict(),
        "chance_hit_rate": float(table["chance"].iloc[0]),
        "n_arch": len(genomes),
        "train_seconds": train_seconds,
        "score_seconds": score_seconds,
        "wall_seconds": wall,
        "non_finite_scores": n_nonfinite,
        "tau_best_minus_default": d,
        "advice": advice,
        "n_alive": int(alive.sum()),
        "rdm_seconds_per_candidate_by_probe": {str(n): s for n, s in probe_seconds.items()},
    },
    artifacts={"proxy_bench": bench_path.name if bench_path else None},
)
print(f"wrote {path} and {bench_path}; {wall:.0f} s")
