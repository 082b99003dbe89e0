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
# # MSE-NAS ablations: fitness, searched scales, robustness to noise
#
# (a) The search's training-free fitness (by default the authors' released scorer, the summed
# Hamming dissimilarity of spike patterns) against a realistic training-based fitness
# (validation accuracy after a few epochs, as the authors' released script uses): cost per
# candidate, measured here on the same data and candidates, and the retrained accuracy of what
# a short search with each finds. (b) Which scales are searched: micro only, micro + meso, all three
# (unsearched genes held at their defaults), each with the same search budget. (c) Robustness
# of the found, a random and the hand-designed network to input noise.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "digits"  # a static dataset (Gaussian-noise robustness)
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway: hours to days
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
event_dataset = "digits-dvs"  # event dataset for event drop / jitter robustness ("" to skip)
fitness = "lsp_hamming_sum"  # the search's fitness, as in 10_mse_search (rdm: label target)
threads = 1  # torch threads (0: torch's default)

# %% tags=["hide-input"]
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from snnlib.book import mse_ablations
from snnlib.book.glue import glue_all
from snnlib.book.mse_glue import accuracy_keys, glue_numbers
from snnlib.book.params import declared_params
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.mse import EvolutionConfig, NetConfig, SearchSpace, sample_genomes
from snnlib.mse.cost import time_fitnesses
from snnlib.mse.experiment import accuracy_evaluator, load_tensors, search_fitness
from snnlib.train import TrainConfig

params = declared_params("12_mse_ablations", globals())
notebook_start = time.perf_counter()
run, dev = start("12_mse_ablations", params, threads=threads)

cfg = pick_scale(
    scale,
    {
        "smoke": dict(
            time_steps=4,
            limit={"train": 200, "val": 50, "test": 50},
            n_cells=3,
            n_per_class=4,
            net=NetConfig(width=4, stem_stride=2),
            cnn_width=8,
            batch_size=32,
            n_cost=2,
            acc_fitness=TrainConfig(epochs=1, lr=5e-3, max_batches=2),
            short_search=EvolutionConfig(population=3, generations=1, elitism=1, seed=seed),
            scale_search=EvolutionConfig(population=4, generations=1, elitism=1, seed=seed),
            retrain=TrainConfig(epochs=1, lr=5e-3, max_batches=3),
            sigmas=[0.0, 0.5, 1.0],
            drops=[0.0, 0.5],
            jitters=[0, 2],
        ),
        "cpu": dict(
            time_steps=4,
            limit=None,
            n_cells=6,
            n_per_class=10,
            net=NetConfig(width=8, stem_stride=2),
            cnn_width=16,
            batch_size=64,
            n_cost=4,
            # the realistic training-based fitness: 4 epochs on the whole train split
            # (the authors' script trains every candidate for 10 epochs)
            acc_fitness=TrainConfig(epochs=4, lr=5e-3, warmup_epochs=1),
            short_search=EvolutionConfig(population=4, generations=1, elitism=1, seed=seed),
            scale_search=EvolutionConfig(population=10, generations=5, elitism=2, seed=seed),
            retrain=TrainConfig(epochs=5, lr=5e-3, warmup_epochs=1),
            sigmas=[0.0, 0.25, 0.5, 1.0, 1.5],
            drops=[0.0, 0.25, 0.5, 0.75],
            jitters=[0, 1, 2, 3],
        ),
        "paper": dict(
            time_steps=4,
            limit=None,
            n_cells=6,
            n_per_class=20,
            net=NetConfig(width=16, stem_stride=1),
            cnn_width=64,
            batch_size=128,
            n_cost=20,
            acc_fitness=TrainConfig(epochs=10, lr=5e-3 * 128 / 1024),
            short_search=EvolutionConfig(population=20, generations=10, elitism=2, seed=seed),
            scale_search=EvolutionConfig(population=50, generations=100, elitism=2, seed=seed),
            retrain=TrainConfig(epochs=600, lr=5e-3 * 128 / 1024, warmup_epochs=5),
            sigmas=[0.0, 0.25, 0.5, 1.0, 1.5],
            drops=[0.0, 0.25, 0.5, 0.75],
            jitters=[0, 1, 2, 3],
        ),
    },
)
print(cfg)
data = load_tensors(dataset, cfg["time_steps"], seed=seed, limit=cfg["limit"])
space = SearchSpace(n_cells=cfg["n_cells"])
free_fit, fitness_record = search_fitness(
    data, fitness, cfg["net"], cfg["n_per_class"], seed=seed, device=str(dev)
)
acc_fit = accuracy_evaluator(
    data, cfg["acc_fitness"], cfg["net"], batch_size=cfg["batch_size"], device=str(dev)
)
retrain = dict(
    train=cfg["retrain"], batch_size=cfg["batch_size"], seed=seed, device=dev, progress=False
)

# %% [markdown]
# ## (a) The training-free fitness against accuracy after short training
# Cost per candidate, measured back to back on the same random candidates.

# %%
rng = np.random.default_rng(seed + 100)
candidates = sample_genomes(rng, space, cfg["n_cost"], distinct=False)
free_fit(candidates[0], seed)  # warm-up (first-call allocations), not timed
# per candidate: the training-free fitness, then the accuracy fitness (what benchmark B2 times)
costs = time_fitnesses({"free": free_fit, "acc": acc_fit}, candidates, seed, device=dev)
cost, cost_metrics = mse_ablations.cost_summary(costs.rows())
print(cost.to_string(index=False, float_format="{:.4g}".format))
free_s, acc_s = (
    cost_metrics["free_seconds_per_candidate"],
    cost_metrics["acc_seconds_per_candidate"],
)
ratio, tau = cost_metrics["cost_ratio"], cost_metrics["fitness_kendall_tau"]
print(
    f"median seconds per candidate: {free_fit.label} {free_s:.3f}, accuracy {acc_s:.2f}; "
    f"ratio {ratio:.0f}x; "
    f"Kendall tau between the two fitnesses over {len(cost)} candidates: {tau:.2f}"
)

# %% [markdown]
# A short search with each fitness (same budget), then the found genomes are retrained.

# %%
short = mse_ablations.short_searches(
    {"training-free": free_fit, "accuracy after short training": acc_fit},
    space,
    cfg["short_search"],
    data,
    cfg["net"],
    retrain,
)

# %%
fig, (a1, a2) = plt.subplots(1, 2, figsize=(8.5, 3.2))
a1.bar(["training-free", "accuracy"], [free_s, acc_s], color=["tab:green", "tab:orange"])
a1.set_yscale("log")
_ = a1.set(ylabel="seconds per candidate (median)", title=f"fitness cost: {ratio:.0f}x")
a2.bar(
    ["training-free search", "accuracy search"],
    mse_ablations.short_search_accuracies(short),
    color=["tab:green", "tab:orange"],
)
_ = a2.set(ylabel="retrained test accuracy", ylim=(0, 1), title="what a short search finds")
fig.tight_layout()
glue_all({"fig_fitness_cost": fig})
plt.close(fig)

# %% [markdown]
# ## (b) Which scales are searched
# Same budget for each; the genes of unsearched scales are held at their defaults (kernel 3,
# the motif's default E/I signs, threshold 0.5, tau 2, the `chain` motif, fan-in 2, no skips).

# %%
spaces = {
    "micro": SearchSpace(n_cells=cfg["n_cells"], meso=False, macro=False),
    "micro+meso": SearchSpace(n_cells=cfg["n_cells"], macro=False),
    "micro+meso+macro": space,
}
scales_rows, models = mse_ablations.scale_searches(
    spaces, free_fit, cfg["scale_search"], data, cfg["net"], retrain
)
scales_table = pd.DataFrame(scales_rows)
print(scales_table.to_string(index=False, float_format="{:.4g}".format))

fig, (a1, a2) = plt.subplots(1, 2, figsize=(8.5, 3.2))
a1.bar(scales_table["searched scales"], scales_table["best fitness"], color="tab:green")
_ = a1.set(ylabel=f"best fitness ({free_fit.label})", title="search")
a2.bar(scales_table["searched scales"], scales_table["test accuracy"], color="tab:blue")
_ = a2.set(ylabel="retrained test accuracy", ylim=(0, 1), title="retrained")
for ax in (a1, a2):
    ax.tick_params(axis="x", labelsize=8)
fig.tight_layout()
glue_all({"fig_scales": fig})
plt.close(fig)

# %% [markdown]
# ## (c) Robustness to input noise
# Networks trained on clean data, tested on corrupted test images: the all-scales genome of (b),
# one random genome, the hand-designed `SpikingCNN`. The same noise draws for every network.
# The random genome is the first one drawn whose untrained output layer fires on the probe
# batch (many random genomes have a silent output and do not learn at all, which would make
# a meaningless baseline here).
#
# For the static dataset (Gaussian noise), then the event dataset (event drop, jitter): the found
# genome (trained in (b) on the static dataset, retrained on the event one), the random genome
# and the SpikingCNN, each trained on that dataset and tested at every noise level.

# %%
levels = {"gaussian": cfg["sigmas"], "drop": cfg["drops"], "jitter": cfg["jitters"]}
found_genome, static_found_model = models["micro+meso+macro"]
curves = mse_ablations.robustness_study(
    data,
    event_dataset,
    found_genome,
    static_found_model,
    space,
    free_fit,
    net=cfg["net"],
    cnn_width=cfg["cnn_width"],
    levels=levels,
    time_steps=cfg["time_steps"],
    limit=cfg["limit"],
    seed=seed,
    device=dev,
    retrain=retrain,
)
xlabels = {
    "gaussian": f"Gaussian noise sigma ({dataset})",
    "drop": f"event drop probability ({event_dataset})",
    "jitter": f"spatial jitter, max pixels ({event_dataset})",
}
fig, axes = plt.subplots(1, len(curves), figsize=(4 * len(curves), 3.2), squeeze=False)
for ax, (noise, per_model) in zip(axes[0], curves.items()):
    for name, accs in per_model.items():
        ax.plot(levels[noise], accs, "o-", ms=4, label=name)
    _ = ax.set(xlabel=xlabels[noise], ylabel="test accuracy", ylim=(0, 1))
axes[0, 0].legend(fontsize=8)
fig.tight_layout()
glue_all({"fig_robustness": fig})
plt.close(fig)
print(mse_ablations.curves_text(curves))

# %%
metrics = mse_ablations.ablation_metrics(cost_metrics, short, scales_rows, curves, cfg)
metrics["notebook_seconds"] = time.perf_counter() - notebook_start
glue_numbers(metrics, percent=accuracy_keys(metrics))
glue_all({"scales_table": scales_table.style.format(precision=4).hide(axis="index")})
path = run.write(
    metrics,
    artifacts={
        "fitness": fitness_record,
        "cost": mse_ablations.cost_record(cost),
        "short_search": short,
        "scales": scales_rows,
        "robustness": mse_ablations.robustness_record(levels, curves),
    },
)
print("wrote", path)
