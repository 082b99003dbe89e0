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
search_dataset = "digits"  # whose 10_mse_search result to load
transfer_dataset = "digits-dvs"  # a second dataset for the transfer experiment ("" to skip)
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

from snnlib.book.params import declared_params
from snnlib.book.results import load_result
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.models import SpikingCNN
from snnlib.mse import NetConfig, SearchSpace, from_dict, sample_genomes
from snnlib.mse.draw import strip_plot
from snnlib.mse.experiment import (
    learned,
    load_tensors,
    row_accuracies,
    train_and_measure,
    train_genome,
)
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
        ),
        # a few minutes on 2 cores: every network gets the same 10 epochs
        "cpu": dict(
            time_steps=4,
            limit=None,
            batch_size=64,
            net=NetConfig(width=8, stem_stride=2),
            cnn_width=16,
            train=TrainConfig(epochs=10, lr=5e-3, warmup_epochs=1),
        ),
        # the authors' recipe (600 epochs, AdamW lr 5e-3 x batch/1024, 5 warm-up epochs)
        "paper": dict(
            time_steps=4,
            limit=None,
            batch_size=128,
            net=NetConfig(width=32, stem_stride=1),
            cnn_width=64,
            train=TrainConfig(epochs=600, lr=5e-3 * 128 / 1024, warmup_epochs=5),
        ),
    },
)
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
common = dict(train=cfg["train"], batch_size=cfg["batch_size"], seed=seed, device=dev)
rows = []
rows.append(
    {
        "model": "MSE-NAS found",
        "dataset": dataset,
        **train_genome(found, data, cfg["net"], **common),
    }
)
for k, g in enumerate(randoms):
    rows.append(
        {"model": f"random {k}", "dataset": dataset, **train_genome(g, data, cfg["net"], **common)}
    )
torch.manual_seed(seed)
cnn = SpikingCNN(data.spec.in_channels, data.spec.num_classes, width=cfg["cnn_width"]).to(dev)
rows.append(
    {
        "model": "SpikingCNN (hand-designed)",
        "dataset": dataset,
        **train_and_measure(cnn, data, desc="SpikingCNN", **common),
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
            **train_genome(found, tdata, cfg["net"], **common),
        }
    )
    for k, g in enumerate(randoms[:n_transfer_random]):
        rows.append(
            {
                "model": f"random {k}",
                "dataset": transfer_dataset,
                **train_genome(g, tdata, cfg["net"], **common),
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
            **train_and_measure(tcnn, tdata, desc="SpikingCNN", **common),
        }
    )

table = pd.DataFrame(rows)[
    ["model", "dataset", "test_acc", "nos", "energy_uj", "params", "train_seconds"]
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
found_acc = row_accuracies(rows, "MSE-NAS", dataset)[0]
random_accs = row_accuracies(rows, "random", dataset)
cnn_acc = row_accuracies(rows, "SpikingCNN", dataset)[0]
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

groups = {"random genomes": random_accs, "MSE-NAS found": [found_acc], "SpikingCNN": [cnn_acc]}
fig, axes = plt.subplots(
    1, 2 if transfer_dataset else 1, figsize=(9 if transfer_dataset else 4.5, 3.2), squeeze=False
)
strip_plot(groups, ax=axes[0, 0])
axes[0, 0].set_title(f"trained and tested on {dataset}", fontsize=9)
if transfer_dataset:
    t_groups = {
        "random genomes": row_accuracies(rows, "random", transfer_dataset),
        "MSE-NAS found": row_accuracies(rows, "MSE-NAS", transfer_dataset),
        "SpikingCNN": row_accuracies(rows, "SpikingCNN", transfer_dataset),
    }
    strip_plot(t_groups, ax=axes[0, 1])
    axes[0, 1].set_title(
        f"transfer: searched on {search_dataset}, trained on {transfer_dataset}", fontsize=9
    )
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
}
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
        if key.endswith("acc"):
            glue(f"{key}_pct", 100 * value, display=False)  # accuracies in % for the chapter
glue("found_verdict", verdict, display=False)
glue(
    "found_verdict_learning", "beats" if found_acc > live_median else "does not beat", display=False
)
path = run.write(
    metrics,
    architecture=found.to_dict(),
    artifacts={
        "rows": [{k: v for k, v in r.items()} for r in rows],
        "random_genomes": [g.to_dict() for g in randoms],
        "net": cfg["net"].to_dict(),
        "train": cfg["train"].to_dict(),
    },
)
print("wrote", path)
