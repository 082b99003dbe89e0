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
import pandas as pd
import torch
from myst_nb import glue

from snnlib.book.figures import seed_points
from snnlib.book.params import declared_params
from snnlib.book.results import load_result
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.models import SpikingCNN
from snnlib.mse import NetConfig, SearchSpace, from_dict, sample_genomes
from snnlib.mse.experiment import (
    learned,
    load_tensors,
    row_accuracies,
    train_and_measure,
    train_genome,
)
from snnlib.nas.comparisons import compare, comparison_rows, correct_matrix
from snnlib.nas.statistics import paired_by_seed
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
if not cfg["transfer"] and transfer_dataset:
    print(f"transfer to {transfer_dataset} skipped: the {scale} scale of {dataset} has none")
    transfer_dataset = ""
seeds = [seed + k for k in range(cfg["seeds"])]
print(cfg)

# %% [markdown]
# ## The genome found by the search

# %%
search = load_result("10_mse_search", search_dataset, scale, seed)
found = from_dict(search["architecture"])
print(
    f"search on {search_dataset}: fitness {search['metrics']['best_fitness']:.4f}, "
    f"{search['metrics']['evaluations']} evaluations"
)
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
rows = []
for s in seeds:
    rows.append(
        {
            "model": "MSE-NAS found",
            "dataset": dataset,
            "seed": s,
            **train_genome(found, data, cfg["net"], seed=s, **common),
        }
    )
for k, g in enumerate(randoms):
    rows.append(
        {
            "model": f"random {k}",
            "dataset": dataset,
            "seed": seed,
            **train_genome(g, data, cfg["net"], seed=seed, **common),
        }
    )
for s in seeds:
    torch.manual_seed(s)
    cnn = SpikingCNN(data.spec.in_channels, data.spec.num_classes, width=cfg["cnn_width"]).to(dev)
    rows.append(
        {
            "model": "SpikingCNN (hand-designed)",
            "dataset": dataset,
            "seed": s,
            **train_and_measure(cnn, data, desc="SpikingCNN", seed=s, **common),
        }
    )

# %% [markdown]
# ## Transfer to `transfer_dataset`
# The genome searched on `search_dataset` is trained, unchanged, on another dataset.

# %%
if transfer_dataset:
    tdata = load_tensors(transfer_dataset, cfg["time_steps"], seed=seed, limit=cfg["limit"])
    rows.append(
        {
            "model": "MSE-NAS found",
            "dataset": transfer_dataset,
            "seed": seed,
            **train_genome(found, tdata, cfg["net"], seed=seed, **common),
        }
    )
    for k, g in enumerate(randoms[:n_transfer_random]):
        rows.append(
            {
                "model": f"random {k}",
                "dataset": transfer_dataset,
                "seed": seed,
                **train_genome(g, tdata, cfg["net"], seed=seed, **common),
            }
        )
    torch.manual_seed(seed)
    tcnn = SpikingCNN(tdata.spec.in_channels, tdata.spec.num_classes, width=cfg["cnn_width"]).to(
        dev
    )
    rows.append(
        {
            "model": "SpikingCNN (hand-designed)",
            "dataset": transfer_dataset,
            "seed": seed,
            **train_and_measure(tcnn, tdata, desc="SpikingCNN", seed=seed, **common),
        }
    )

table = pd.DataFrame(rows)[
    ["model", "dataset", "seed", "test_acc", "nos", "energy_uj", "params", "train_seconds"]
]
table = table.rename(
    columns={
        "test_acc": "test accuracy",
        "nos": "NoS / image",
        "energy_uj": "energy (uJ)",
        "train_seconds": "train (s)",
    }
)
print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


# %%
found_accs = row_accuracies(rows, "MSE-NAS", dataset)
found_acc = float(np.mean(found_accs))  # mean over the retraining seeds
random_accs = row_accuracies(rows, "random", dataset)
cnn_accs = row_accuracies(rows, "SpikingCNN", dataset)
cnn_acc = float(np.mean(cnn_accs))
random_median = float(np.median(random_accs))
# random genomes of this space often have a silent output layer and do not learn at all
live_accs = [a for a in random_accs if learned(a, data.spec.num_classes)]
live_median = float(np.median(live_accs)) if live_accs else float("nan")
verdict = "beats" if found_acc > random_median else "does not beat"
print(
    f"found {found_acc:.4f} {verdict} the median of {len(random_accs)} random genomes "
    f"({random_median:.4f}); "
    f"{len(random_accs) - len(live_accs)} random genomes did not learn; median of those that did "
    f"{live_median:.4f}; SpikingCNN {cnn_acc:.4f}"
)

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


def correct(model_prefix, ds=dataset):
    """[runs, test items] booleans of the rows of one model (seeds or random genomes)."""
    return correct_matrix(
        [
            r["predictions"]
            for r in rows
            if r["model"].startswith(model_prefix) and r["dataset"] == ds
        ],
        y_test,
    )


found_c, cnn_c, random_c = correct("MSE-NAS"), correct("SpikingCNN"), correct("random")
comparisons = compare(
    {
        "found - SpikingCNN": (found_c, cnn_c),
        "found - random genomes (mean)": (found_c, random_c),
        "found - best random genome": (found_c, random_c[[int(np.argmax(random_accs))]]),
    },
    seed=seed,
)
by_seed = paired_by_seed(found_accs, cnn_accs) if len(seeds) > 1 else None
comp_table = pd.DataFrame(comparison_rows(comparisons)).set_index("comparison")
print(comp_table.round(3).to_string())
if by_seed is not None:
    print(
        f"found - SpikingCNN over {len(seeds)} seeds: {100 * by_seed['diff']:.2f} points "
        f"[{100 * by_seed['lo']:.2f}, {100 * by_seed['hi']:.2f}], t-test p = {by_seed['t_p']:.3f}"
    )
glue("comp_table", comp_table.round(3), display=False)

# per-seed points drawn with seaborn; black: mean and 95 % t interval over seeds (2+ seeds)
plot_rows = [
    {
        "group": "random genomes"
        if r["model"].startswith("random")
        else ("MSE-NAS found" if r["model"].startswith("MSE-NAS") else "SpikingCNN"),
        "dataset": r["dataset"],
        "test accuracy": r["test_acc"],
    }
    for r in rows
]
plot_df = pd.DataFrame(plot_rows)
order = ["random genomes", "MSE-NAS found", "SpikingCNN"]
panels = [dataset] + ([transfer_dataset] if transfer_dataset else [])
fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.2), squeeze=False)
for ax, ds in zip(axes[0], panels):
    sub = plot_df[plot_df["dataset"] == ds]
    seed_points(ax, sub, "group", "test accuracy", order)
    ax.set_xlabel("")
    title = f"trained and tested on {ds}" if ds == dataset else f"transfer to {ds}"
    ax.set_title(title, fontsize=9)
fig.tight_layout()
glue("fig_comparison", fig, display=False)
plt.close(fig)
glue("table", table.style.format(precision=4).hide(axis="index"), display=False)

# %%
found_row = [r for r in rows if r["model"] == "MSE-NAS found" and r["dataset"] == dataset][0]
metrics = {
    "found_test_acc": found_acc,
    "found_nos": found_row["nos"],
    "found_energy_uj": found_row["energy_uj"],
    "found_params": found_row["params"],
    "random_median_test_acc": random_median,
    "n_random_not_learning": len(random_accs) - len(live_accs),
    "random_learning_median_test_acc": live_median,
    "found_beats_learning_median": bool(found_acc > live_median),
    "random_min_test_acc": float(np.min(random_accs)),
    "random_max_test_acc": float(np.max(random_accs)),
    "random_test_accs": random_accs,
    "cnn_test_acc": cnn_acc,
    "found_beats_random_median": bool(found_acc > random_median),
    "found_rank_among_random": int(sum(a >= found_acc for a in random_accs)) + 1,
    "search_fitness": search["metrics"]["best_fitness"],
    "epochs": cfg["train"].epochs,
    "n_random": n_random,
    "n_transfer_random": n_transfer_random if transfer_dataset else 0,
    "total_train_seconds": float(sum(r["train_seconds"] for r in rows)),
    "n_seeds": len(seeds),
    "found_test_accs": found_accs,
    "cnn_test_accs": cnn_accs,
    "n_test": int(len(y_test)),
    "n_train": int(len(data.train[1])),
}
for key, v in (
    ("found_minus_cnn", comparisons["found - SpikingCNN"]),
    ("found_minus_random", comparisons["found - random genomes (mean)"]),
    ("found_minus_best_random", comparisons["found - best random genome"]),
):
    metrics[key] = v["diff"]
    metrics[key + "_lo"] = v["lo"]
    metrics[key + "_hi"] = v["hi"]
    metrics[key + "_p_boot"] = v["p_boot"]
if by_seed is not None:
    metrics["found_minus_cnn_by_seed"] = by_seed["diff"]
    metrics["found_minus_cnn_by_seed_lo"] = by_seed["lo"]
    metrics["found_minus_cnn_by_seed_hi"] = by_seed["hi"]
    metrics["found_minus_cnn_by_seed_t_p"] = by_seed["t_p"]
if transfer_dataset:
    metrics.update(
        {
            "transfer_found_test_acc": row_accuracies(rows, "MSE-NAS", transfer_dataset)[0],
            "transfer_random_test_accs": row_accuracies(rows, "random", transfer_dataset),
            "transfer_random_median_test_acc": float(
                np.median(row_accuracies(rows, "random", transfer_dataset))
            )
            if n_transfer_random
            else None,
            "transfer_cnn_test_acc": row_accuracies(rows, "SpikingCNN", transfer_dataset)[0],
        }
    )
metrics["notebook_seconds"] = time.perf_counter() - notebook_start
for key, value in metrics.items():
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        glue(key, value, display=False)
        if key.endswith("acc") or (
            key.startswith("found_minus") and not key.endswith(("_p_boot", "_t_p"))
        ):
            glue(f"{key}_pct", 100 * value, display=False)  # accuracies in % for the chapter
glue("found_verdict", verdict, display=False)
glue(
    "found_verdict_learning", "beats" if found_acc > live_median else "does not beat", display=False
)
path = run.write(
    metrics,
    architecture=found.to_dict(),
    artifacts={
        # predictions stay out of the file (10,000 per run on CIFAR-10); their comparisons are in
        "rows": [{k: v for k, v in r.items() if k != "predictions"} for r in rows],
        "random_genomes": [g.to_dict() for g in randoms],
        "net": cfg["net"].to_dict(),
        "train": cfg["train"].to_dict(),
    },
)
print("wrote", path)
