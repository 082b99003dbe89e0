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
# # MA-DARTS attention ablation
#
# Which attention helps a spiking network of the found cells, and what does it do to the
# number of spikes? The cells derived by the search notebook (`20_madarts_search`) are retrained
# with every attention type at the same budget, seed and data order:
#
# - `none`: no attention (plain spiking cells);
# - `eca`: ECA channel attention;
# - `cbam`: CBAM channel then spatial attention;
# - `tcsa`: temporal, then CBAM channel, then spatial attention (the three dimensions of MA-SNN);
# - `tcsa, sigmoid gate`: the same with the original modules' sigmoid gates instead of this
#   book's default 2-sigmoid gate (see the chapter for why the gate matters to spiking neurons).
#
# MA-DARTS' ablation compared ECA-based and CBAM-based attention against none on CIFAR.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "digits"  # digits | digits-dvs | cifar10 | cifar100 | cifar10-dvs | dvs-gesture
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway: hours to days
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
compare_gates = True  # add a tcsa row with the original sigmoid gates
threads = 1  # CPU intra-op threads (0: torch's default); 1 is fastest for these small tensors

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML
from myst_nb import glue

from snnlib.book.madarts_budgets import retrain_budgets
from snnlib.book.madarts_candidates import attention_variants, searched_architecture
from snnlib.book.madarts_summaries import ablation_metrics, add_ablation_deltas, metric_key
from snnlib.book.params import declared_params
from snnlib.book.results import load_result
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.tables import html_table, markdown_table
from snnlib.darts import (
    format_genotype,
    train_genotype,
)
from snnlib.data import dataset_info, make_loaders
from snnlib.encoding import Encoder, default_encoding
from snnlib.nas.comparisons import compare, comparison_metrics, comparison_rows, correct_matrix

params = declared_params("22_madarts_attention", globals())
run, dev = start("22_madarts_attention", params, threads=threads)

cfg = pick_scale(scale, retrain_budgets(), dataset)  # the budget of the retraining notebook
print(cfg)

# %%
found = load_result("20_madarts_search", dataset, scale, seed)
arch = found["architecture"]
searched = searched_architecture(arch, cfg["layers"])
genotype, layout = searched.genotype, searched.layout
time_steps, placement = searched.time_steps, searched.placement
print(f"cells searched with attention {arch['attention']}:\n{format_genotype(genotype)}")

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
    seed=seed,
    device=dev,
    keep_predictions=True,  # every variant is compared with `none` image by image
)

# %% [markdown]
# ## One genotype, every attention type

# %%
variants = attention_variants(compare_gates)
rows = []
for name, att, gate in variants:
    r = train_genotype(
        genotype, attention=att, attention_kwargs={"gate": gate}, desc=name, **common
    )
    rows.append({"name": name, "attention": att, "gate": gate, **r})
    print(
        f"{name:18s} test acc {r['test_acc']:.4f}  NoS {r['nos']:9.0f}  "
        f"energy {r['energy_uj']:.3f} uJ  "
        f"{r['params']} params  {r['seconds']:.1f} s"
    )
add_ablation_deltas(rows)  # against the first row, attention none

columns = [
    ("name", "attention", "{}"),
    ("test_acc", "test acc", "{:.4f}"),
    ("delta_acc_pp", "vs none (pp)", "{:+.2f}"),
    ("nos", "NoS / image", "{:.0f}"),
    ("delta_nos_pct", "NoS vs none (%)", "{:+.1f}"),
    ("energy_uj", "energy (uJ)", "{:.3f}"),
    ("params", "parameters", "{:d}"),
    ("seconds", "train s", "{:.1f}"),
]
glue("table_ablation", HTML(html_table(rows, columns)), display=False)
print(markdown_table(rows, columns))

# %%
names = [r["name"] for r in rows]
colors = ["0.6", "tab:green", "tab:orange", "tab:red", "tab:purple"][: len(rows)]
fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.6))
a1.bar(range(len(rows)), [100 * r["test_acc"] for r in rows], color=colors)
lo = min(100 * r["test_acc"] for r in rows)
_ = a1.set(
    ylim=(max(0, lo - 5), 100),
    ylabel="test accuracy (%)",
    title=f"Attention ablation ({dataset}, {scale})",
)
a2.bar(range(len(rows)), [r["nos"] for r in rows], color=colors)
_ = a2.set(ylabel="spikes per test image (NoS)", title="Number of spikes")
for ax in (a1, a2):
    ax.set_xticks(range(len(rows)))
    _ = ax.set_xticklabels(names, rotation=20, ha="right")
fig.tight_layout()
glue("fig_ablation", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Paired over test images
# Each variant against `none`, image by image: the difference of test accuracy with a paired
# bootstrap interval over the test images and the exact McNemar test. One retraining per
# variant, all at the same seed and data order: the interval covers the test set's sampling,
# not the spread over seeds (see the retraining notebook's seeds for its size).

# %%
y_test = np.asarray(loaders["test"].dataset.targets)
correct = {r["name"]: correct_matrix([r["predictions"]], y_test) for r in rows}
baseline = rows[0]["name"]
comparisons = compare(
    {
        f"{name} - {baseline}": (c, correct[baseline])
        for name, c in correct.items()
        if name != baseline
    },
    seed=seed,
)
comp_table = pd.DataFrame(comparison_rows(comparisons)).set_index("comparison")
print(comp_table.round(3).to_string())
glue("comp_table", comp_table.round(3), display=False)

# %%
metrics = ablation_metrics(rows, cfg["train"].epochs)
metrics.update(
    comparison_metrics(
        comparisons,
        {f"{n} - {baseline}": f"{metric_key(n)}_minus_none" for n in correct if n != baseline},
    )
)
metrics["n_test"] = int(len(y_test))
for key, value in metrics.items():
    glue(key, value, display=False)
    if "_minus_none" in key and not key.endswith("_p_boot"):
        glue(key + "_pct", 100 * value, display=False)
print(metrics)
path = run.write(
    metrics,
    architecture={"genotype": arch["genotype"]},
    artifacts={
        "rows": [{k: v for k, v in r.items() if k != "predictions"} for r in rows],
        "train_config": cfg["train"].to_dict(),
    },
)
print("wrote", path)
