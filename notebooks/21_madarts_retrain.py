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
# # MA-DARTS retraining: derived cells against plain spiking DARTS and random cells
#
# The search notebook (`20_madarts_search`) derived a normal and a reduction cell. Here the
# discrete network of those cells is trained from scratch and compared, at the same training
# budget, seeds and data order, with
#
# - **plain spiking DARTS**: the cells found by the same search without attention (attention
#   `none`), trained without attention;
# - **random cells**: `n_random` genotypes drawn uniformly from the same discrete space
#   (per node two distinct inputs, operations other than `none`), trained with the same
#   attention as the derived network, so that only the cells differ.
#
# Test accuracy, the number of spikes per test image (NoS) and the energy estimate are
# reported for each, as means over `n_seeds` retrainings (seeds `seed`, `seed + 1`, ...: the
# initialisation and the data order change, the cells do not). On a test set of a few hundred
# images one retraining resolves differences of about a point, the size of the differences
# between cells; the spread over seeds is shown beside each mean.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "digits"  # digits | digits-dvs | cifar10 | cifar100 | cifar10-dvs | dvs-gesture
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway: hours to days
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
n_random = 5  # random cells in the baseline
n_seeds = 0  # retrainings per candidate, averaged (0: the scale's default: smoke 1, cpu 3, paper 1)
threads = 1  # CPU intra-op threads (0: torch's default); 1 is fastest for these small tensors

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML
from myst_nb import glue

from snnlib.book.figures import seed_points
from snnlib.book.madarts_budgets import retrain_budgets, retraining_seeds
from snnlib.book.madarts_candidates import random_candidates, searched_architecture
from snnlib.book.madarts_summaries import retrain_metrics
from snnlib.book.params import declared_params
from snnlib.book.results import load_result
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.tables import html_table, markdown_table
from snnlib.darts import (
    format_genotype,
    genotype_to_dict,
    train_genotype_seeds,
)
from snnlib.data import dataset_info, make_loaders
from snnlib.encoding import Encoder, default_encoding
from snnlib.nas.comparisons import compare, comparison_metrics, comparison_rows, correct_matrix
from snnlib.nas.statistics import paired_by_seed

params = declared_params("21_madarts_retrain", globals())
run, dev = start("21_madarts_retrain", params, threads=threads)

cfg = pick_scale(scale, retrain_budgets(), dataset)  # the same budget as the attention ablation
retrain_seeds = retraining_seeds(seed, n_seeds, default=cfg["n_seeds"])  # 0: the default
print(cfg, "| retraining seeds:", retrain_seeds)

# %% [markdown]
# ## The search's result

# %%
found = load_result("20_madarts_search", dataset, scale, seed)
arch = found["architecture"]
# the fixed DARTS layout at retraining depth, or the searched stage depths (macro search)
searched = searched_architecture(arch, cfg["layers"])
genotype, plain_genotype, layout = searched.genotype, searched.plain_genotype, searched.layout
attention, placement, gate = searched.attention, searched.placement, searched.gate
time_steps, plain_note = searched.time_steps, searched.plain_note
print(f"MA-DARTS cells ({attention}, gate {gate}):\n{format_genotype(genotype)}")
print(f"plain DARTS: {plain_note}\n{format_genotype(plain_genotype)}")
print("layout:", layout)

# %%
info = dataset_info(dataset, image_size=cfg["image_size"])
loaders = make_loaders(
    dataset,
    batch_size=cfg["batch_size"],
    time_steps=time_steps,
    limit=cfg["limit"],
    seed=seed,
    image_size=cfg["image_size"],
)
encoder = Encoder(default_encoding(info.kind), time_steps)
print(info, {k: len(v.dataset) for k, v in loaders.items()})
common = dict(
    in_channels=info.in_channels,
    num_classes=info.num_classes,
    loaders=loaders,
    encoder=encoder,
    train_cfg=cfg["train"],
    C=cfg["C"],
    layout=layout,
    time_steps=time_steps,
    placement=placement,
    attention_kwargs={"gate": gate},
    device=dev,
    keep_predictions=True,  # the comparisons below are paired over test images
)

# %% [markdown]
# ## Training every candidate at the same budget

# %%
candidates = [("MA-DARTS", genotype, attention), ("plain DARTS", plain_genotype, "none")]
candidates += random_candidates(seed, n_random, steps=searched.steps, attention=attention)
rows = []
for name, g, att in candidates:
    r = train_genotype_seeds(g, retrain_seeds, attention=att, desc=name, **common)
    rows.append(
        {
            "name": name,
            "attention": att,
            "genotype": genotype_to_dict(g),
            **{k: v for k, v in r.items()},
        }
    )
    print(
        f"{name:12s} ({att:4s}) test acc {r['test_acc']:.4f} +- {r['test_acc_sd']:.4f}  "
        f"NoS {r['nos']:9.0f}  "
        f"energy {r['energy_uj']:.3f} uJ  {r['params']} params  {r['seconds']:.1f} s"
    )

# %%
metrics = retrain_metrics(rows, cfg["train"].epochs)
derived, plain, randoms = rows[0], rows[1], rows[2:]
random_acc = np.array(metrics["random_test_acc"])
median_random = metrics["random_median_test_acc"]
columns = [
    ("name", "network", "{}"),
    ("attention", "attention", "{}"),
    ("test_acc", "test acc (mean)", "{:.4f}"),
    ("test_acc_sd", "sd over seeds", "{:.4f}"),
    ("nos", "NoS / image", "{:.0f}"),
    ("sops", "SOPs / image", "{:.3g}"),
    ("energy_uj", "energy (uJ)", "{:.3f}"),
    ("params", "parameters", "{:d}"),
    ("seconds", "train s", "{:.1f}"),
]
glue("table_retrain", HTML(html_table(rows, columns)), display=False)
print(markdown_table(rows, columns))

# %%
fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
jitter = np.linspace(-0.12, 0.12, len(randoms)) if randoms else []
a1.errorbar(
    np.zeros(len(randoms)) + jitter,
    100 * random_acc,
    yerr=[100 * r["test_acc_sd"] for r in randoms],
    fmt="o",
    color="0.55",
    label="random cells (mean, sd over seeds)",
)
a1.hlines(100 * median_random, -0.3, 0.3, color="0.3", ls="--", label="median of random cells")
a1.errorbar(
    [1],
    [100 * plain["test_acc"]],
    yerr=[100 * plain["test_acc_sd"]],
    fmt="s",
    color="tab:blue",
    label="plain spiking DARTS",
)
a1.errorbar(
    [2],
    [100 * derived["test_acc"]],
    yerr=[100 * derived["test_acc_sd"]],
    fmt="*",
    color="tab:red",
    markersize=14,
    label=f"MA-DARTS ({attention})",
)
a1.set_xticks([0, 1, 2])
_ = a1.set_xticklabels(["random", "plain DARTS", "MA-DARTS"])
_ = a1.set(ylabel="test accuracy (%)", title=f"Retrained at the same budget ({dataset}, {scale})")
a1.legend(fontsize=7, loc="lower right")
for r, color, marker in [(x, "0.55", "o") for x in randoms] + [
    (plain, "tab:blue", "s"),
    (derived, "tab:red", "*"),
]:
    a2.scatter(
        r["nos"], 100 * r["test_acc"], color=color, marker=marker, s=90 if marker == "*" else 40
    )
_ = a2.set(
    xlabel="spikes per test image (NoS)",
    ylabel="test accuracy (%)",
    title="Accuracy against spikes",
)
fig.tight_layout()
glue("fig_retrain", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Do the cells matter here?
# A one-way ANOVA over the candidates' per-seed accuracies asks whether the differences between
# cells are larger than the spread the seeds alone produce. With a large p the ranking of the
# candidates, including whether the derived cells beat the median random cell, is decided by
# noise at this budget and data set; the comparison needs more seeds or a harder task.

# %%
effect, random_effect = metrics["cell_effect"], metrics["cell_effect_random_only"]
print("all candidates:", effect)
print("random cells only:", random_effect)

# %% [markdown]
# ## Paired comparisons
# Every network is tested on the same test images, so two networks are compared image by
# image: the difference of their accuracies with a paired bootstrap interval over the test
# images (a network retrained at several seeds counts with its mean over seeds, so the
# interval covers the test set's sampling for these seeds). "random cells" is the average over
# the random cells: the interval is over test images for *these* cells, not over the space's
# distribution of cells; the derived cells' rank among them says the rest. With two or more
# seeds, MA-DARTS against plain DARTS is also paired by seed (Student t interval).

# %%
y_test = np.asarray(loaders["test"].dataset.targets)
ma_c = correct_matrix(derived["predictions"], y_test)
plain_c = correct_matrix(plain["predictions"], y_test)
random_c = correct_matrix([p for r in randoms for p in r["predictions"]], y_test)
best_random = randoms[int(np.argmax([r["test_acc"] for r in randoms]))]
comparisons = compare(
    {
        "MA-DARTS - plain DARTS": (ma_c, plain_c),
        "MA-DARTS - random cells (mean)": (ma_c, random_c),
        f"MA-DARTS - best random cell ({best_random['name']})": (
            ma_c,
            correct_matrix(best_random["predictions"], y_test),
        ),
        "plain DARTS - random cells (mean)": (plain_c, random_c),
    },
    seed=seed,
)
comp_table = pd.DataFrame(comparison_rows(comparisons)).set_index("comparison")
print(comp_table.round(3).to_string())
glue("comp_table", comp_table.round(3), display=False)
by_seed = (
    paired_by_seed(derived["test_accs"], plain["test_accs"]) if len(retrain_seeds) > 1 else None
)
if by_seed is not None:
    print(
        f"MA-DARTS - plain DARTS over {len(retrain_seeds)} seeds: {100 * by_seed['diff']:.2f} "
        f"points [{100 * by_seed['lo']:.2f}, {100 * by_seed['hi']:.2f}], t-test p = "
        f"{by_seed['t_p']:.3f}"
    )
names = list(comparisons)
metrics.update(
    comparison_metrics(
        comparisons,
        {
            names[0]: "derived_minus_plain",
            names[1]: "derived_minus_random",
            names[2]: "derived_minus_best_random",
            names[3]: "plain_minus_random",
        },
    )
)
if by_seed is not None:
    for suffix, key in (("", "diff"), ("_lo", "lo"), ("_hi", "hi"), ("_t_p", "t_p")):
        metrics["derived_minus_plain_by_seed" + suffix] = by_seed[key]

# per-seed points drawn with seaborn; black: mean and 95 % t interval over seeds (2+ seeds)
plot_df = pd.DataFrame(
    [
        {
            "group": "random cells" if r["name"].startswith("random") else r["name"],
            "test accuracy": 100 * acc,
        }
        for r in rows
        for acc in r["test_accs"]
    ]
)
order = ["random cells", "plain DARTS", "MA-DARTS"]
fig, ax = plt.subplots(figsize=(5.2, 3.4))
seed_points(ax, plot_df, "group", "test accuracy", order)
_ = ax.set(xlabel="", ylabel="test accuracy (%)", title=f"Every retraining ({dataset}, {scale})")
fig.tight_layout()
glue("fig_seeds", fig, display=False)
plt.close(fig)

# %%
for key in ("derived_test_acc", "plain_test_acc", "random_median_test_acc", "derived_minus_median"):
    glue(key + "_pct", 100 * metrics[key], display=False)
for key in [k for k in metrics if k.startswith(("derived_minus_", "plain_minus_"))]:
    if isinstance(metrics[key], float) and key not in ("derived_minus_median",):
        if key.endswith(("_p_boot", "_t_p")):
            glue(key, metrics[key], display=False)
        else:
            glue(key + "_pct", 100 * metrics[key], display=False)
glue(
    "random_best_test_acc_pct",
    100 * (metrics["random_best_test_acc"] or float("nan")),
    display=False,
)
for key in (
    "derived_nos",
    "plain_nos",
    "random_median_nos",
    "derived_energy_uj",
    "plain_energy_uj",
    "derived_params",
    "train_epochs",
    "derived_rank",
):
    glue(key, metrics[key], display=False)
glue("n_random", n_random, display=False)
glue("n_seeds", len(retrain_seeds), display=False)
glue("derived_test_acc_sd_pct", 100 * derived["test_acc_sd"], display=False)
glue("n_candidates", len(rows), display=False)
nan = float("nan")
glue("cell_effect_F", effect["F"] if effect["F"] is not None else nan, display=False)
glue("cell_effect_p", effect["p"] if effect["p"] is not None else nan, display=False)
glue(
    "cell_sd_between_pp",
    100 * (effect["sd_between"] if effect["sd_between"] is not None else nan),
    display=False,
)
glue(
    "cell_sd_noise_pp",
    100 * (effect["sd_between_from_noise"] if effect["sd_between_from_noise"] is not None else nan),
    display=False,
)
glue("derived_beats_median", "yes" if metrics["derived_beats_median"] else "no", display=False)
glue("plain_note", plain_note, display=False)
glue("retrain_C", cfg["C"], display=False)
glue("n_test", len(loaders["test"].dataset), display=False)
glue("n_train", len(loaders["train"].dataset), display=False)
metrics["n_train"] = len(loaders["train"].dataset)  # the budget's images (62 places it)
glue("one_image_pp", 100 / len(loaders["test"].dataset), display=False)
# binomial standard error of one test accuracy: the resolution of a single-seed comparison
p_hat = metrics["derived_test_acc"]
glue(
    "test_se_pp",
    100 * float(np.sqrt(p_hat * (1 - p_hat) / len(loaders["test"].dataset))),
    display=False,
)
print({k: v for k, v in metrics.items() if not isinstance(v, list)})
path = run.write(
    metrics,
    architecture={
        "genotype": arch["genotype"],
        "layout": {"cells": list(layout.cells), "reduce_inputs": layout.reduce_inputs},
        "attention": attention,
    },
    artifacts={
        # predictions stay out of the file (10,000 per run on CIFAR-10); their comparisons are in
        "rows": [{k: v for k, v in r.items() if k != "predictions"} for r in rows],
        "plain_note": plain_note,
        "train_config": cfg["train"].to_dict(),
    },
)
print("wrote", path)
