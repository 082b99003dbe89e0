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
# # MSE-NAS retraining: the found genome against random genomes and a hand-designed network
#
# The genome found by `10_mse_search` on `search_dataset` is decoded, trained from scratch
# with the shared recipe (`snnlib.train.fit`: AdamW, cosine schedule, label smoothing) and
# measured on the test split: accuracy, number of spikes per image (NoS) and energy. Random
# genomes of the same search space and the hand-designed `SpikingCNN` are trained
# identically. Transfer: the same genome trained on `transfer_dataset`.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "digits"  # the dataset the genome is trained and tested on here
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway: hours to days
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
search_dataset = ""  # whose 10_mse_search result to load (empty: dataset itself)
transfer_dataset = "digits-dvs"  # a second dataset for the transfer experiment (empty: skip)
n_random = 5  # random genomes trained identically (the comparison)
n_transfer_random = 2  # of those, how many are also trained on transfer_dataset
threads = 1  # torch threads (0: torch's default)

# %% tags=["hide-input"]
import time

import matplotlib.pyplot as plt
import numpy as np

from snnlib.book import mse_retrain
from snnlib.book.figures import seed_points
from snnlib.book.glue import glue_all
from snnlib.book.mse_glue import glue_numbers
from snnlib.book.params import declared_params
from snnlib.book.results import load_result
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.mse import NetConfig, SearchSpace, from_dict, sample_genomes
from snnlib.mse.experiment import load_tensors
from snnlib.train import TrainConfig

params = declared_params("11_mse_retrain", globals())
notebook_start = time.perf_counter()
run, dev = start("11_mse_retrain", params, threads=threads)

cfg = pick_scale(
    scale,
    {
        "smoke": dict(
            time_steps=4,
            limit={"train": 200, "val": 50, "test": 50},
            batch_size=32,
            net=NetConfig(width=4, stem_stride=2),
            cnn_width=8,
            train=TrainConfig(epochs=1, lr=5e-3, max_batches=3),
            seeds=2,
            transfer=True,
        ),
        # a few minutes on 2 cores: every network gets the same 6 epochs
        "cpu": dict(
            time_steps=4,
            limit=None,
            batch_size=64,
            net=NetConfig(width=8, stem_stride=2),
            cnn_width=16,
            train=TrainConfig(epochs=6, lr=5e-3, warmup_epochs=1),
            seeds=1,  # retraining seeds of the found genome and the CNN
            transfer=True,
            # CIFAR size: T = 2, a class-balanced 3,000 training images, 4 epochs, the whole
            # test set (10,000 images: intervals over test items of about 1 point), two
            # retraining seeds of the found genome and the CNN; no transfer run
            per_dataset={
                "cifar10": dict(
                    time_steps=2,
                    limit={"train": 3_000, "val": 500},
                    train=TrainConfig(epochs=4, lr=5e-3, warmup_epochs=1),
                    seeds=2,
                    transfer=False,
                ),
                # 48x48 frames cost 2.25x a CIFAR image: the simulated subset (2,000 training
                # images), 3 epochs
                "cifar10-dvs-sim": dict(
                    time_steps=2,
                    limit={"train": 2_000, "val": 500, "test": 1_000},
                    train=TrainConfig(epochs=3, lr=5e-3, warmup_epochs=1),
                    seeds=2,
                    transfer=False,
                ),
            },
        ),
        # the authors' recipe (600 epochs, AdamW lr 5e-3 x batch/1024, 5 warm-up epochs)
        "paper": dict(
            time_steps=4,
            limit=None,
            batch_size=128,
            net=NetConfig(width=32, stem_stride=1),
            cnn_width=64,
            train=TrainConfig(epochs=600, lr=5e-3 * 128 / 1024, warmup_epochs=5),
            seeds=3,
            transfer=True,
        ),
    },
    dataset,
)
search_dataset = search_dataset or dataset
transfer_dataset = mse_retrain.transfer_target(transfer_dataset, cfg["transfer"], scale, dataset)
seeds = mse_retrain.retraining_seeds(seed, cfg["seeds"])
print(cfg)

# %% [markdown]
# ## The genome found by the search

# %%
search = load_result("10_mse_search", search_dataset, scale, seed)
found = from_dict(search["architecture"])
print(mse_retrain.search_line(search, search_dataset))
print(found.summary())
space = SearchSpace(n_cells=len(found.cells))
rng = np.random.default_rng(seed + 1)
randoms = sample_genomes(rng, space, n_random, distinct=False)

# %% [markdown]
# ## Training on `dataset`

# %%
data = load_tensors(dataset, cfg["time_steps"], seed=seed, limit=cfg["limit"])
# every run keeps its test predictions: the comparisons below are paired over test images
common = dict(train=cfg["train"], batch_size=cfg["batch_size"], device=dev, keep_predictions=True)
trained = mse_retrain.train_models(
    found, randoms, data, cfg["net"], cfg["cnn_width"], seeds, seed, **common
)

# %% [markdown]
# ## Transfer to `transfer_dataset`
# The genome searched on `search_dataset` is trained, unchanged, on another dataset.

# %%
trained += mse_retrain.train_transfer(
    transfer_dataset,
    found,
    randoms[:n_transfer_random],
    cfg["time_steps"],
    cfg["limit"],
    cfg["net"],
    cfg["cnn_width"],
    seed,
    **common,
)
rows = mse_retrain.rows(trained)
table = mse_retrain.results_table(rows)
print(table.to_string(index=False, float_format="{:.4g}".format))


# %%
accs = mse_retrain.accuracy_summary(rows, dataset, data.spec.num_classes)
print(mse_retrain.summary_line(accs))

# %% [markdown]
# ## Paired comparisons
# Every network is tested on the same test images, so two networks are compared image by
# image: the difference of their accuracies with a paired bootstrap interval over the test
# images (`paired_items`; a network trained at several seeds counts with its mean over seeds,
# so the interval covers the test set's sampling for these seeds) and, with two or more
# retraining seeds, the Student t interval of the difference over seeds (`paired_by_seed`).
# "random genomes" is the average over the random genomes: the interval is over test images
# for *these* genomes, not over the space's distribution of genomes; the found genome's rank
# among them says the rest.

# %%
y_test = data.test[1].numpy()
comparisons = mse_retrain.comparisons(rows, dataset, y_test, seed)
comp_table = mse_retrain.comparison_table(comparisons)
print(comp_table.to_string())
print(mse_retrain.by_seed_line(mse_retrain.by_seed(rows, dataset)))
glue_all({"comp_table": comp_table})

# per-seed points drawn with seaborn; black: mean and 95 % t interval over seeds (2+ seeds)
panels = mse_retrain.panels(dataset, transfer_dataset)
fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.2), squeeze=False)
for ax, (ds, title) in zip(axes[0], panels.items()):
    seed_points(ax, mse_retrain.plot_frame(rows, ds), "group", "test accuracy", mse_retrain.GROUPS)
    ax.set_xlabel("")
    ax.set_title(title, fontsize=9)
fig.tight_layout()
glue_all({"fig_comparison": fig, "table": table.style.format(precision=4).hide(axis="index")})
plt.close(fig)

# %%
metrics = mse_retrain.retrain_metrics(
    rows,
    dataset,
    transfer_dataset,
    data.spec.num_classes,
    comparisons,
    search,
    settings={
        "epochs": cfg["train"].epochs,
        "n_random": n_random,
        "n_transfer_random": n_transfer_random,
        "n_seeds": len(seeds),
        "n_test": len(y_test),
        "n_train": len(data.train[1]),
    },
)
metrics["notebook_seconds"] = time.perf_counter() - notebook_start
glue_numbers(metrics, percent=mse_retrain.percent_keys(metrics))
glue_all(mse_retrain.verdicts(metrics))
path = run.write(
    metrics,
    architecture=found.to_dict(),
    artifacts={
        # predictions stay out of the file (10,000 per run on CIFAR-10); their comparisons are in
        "rows": mse_retrain.file_rows(rows),
        "random_genomes": mse_retrain.genome_dicts(randoms),
        "net": cfg["net"].to_dict(),
        "train": cfg["train"].to_dict(),
    },
)
print("wrote", path)
