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
# # Substrate run: a fixed spiking CNN
#
# This notebook trains the hand-designed reference network of `snnlib.models.SpikingCNN` on
# one dataset with backpropagation through time, and measures what every later chapter
# measures: test accuracy, spikes per layer, the number of spikes per image (NoS), synaptic
# operations and the energy estimate. Every search in this book is judged against it.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "digits"  # digits | digits-dvs | cifar10 | cifar100 | cifar10-dvs | dvs-gesture
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway: hours to days
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
threads = 1  # torch threads (0: torch's default); the book runs two notebooks at a time

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
from myst_nb import glue

from snnlib.book.glue import glue_all
from snnlib.book.params import declared_params
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.substrate import split_sizes, substrate_glue_values, substrate_metrics
from snnlib.book.substrate_figures import curves_figure, rates_figure, sample_figure
from snnlib.data import dataset_info, make_loaders
from snnlib.encoding import Encoder, default_encoding
from snnlib.models import SpikingCNN, count_parameters
from snnlib.train import TrainConfig, evaluate, fit

params = declared_params("00_substrate", globals())
run, dev = start("00_substrate", params, threads=threads)

cfg = pick_scale(
    scale,
    {
        # seconds: a few batches, for tests
        "smoke": dict(
            time_steps=4,
            width=8,
            batch_size=64,
            limit={"train": 128, "val": 64, "test": 64},
            train=TrainConfig(epochs=1, lr=5e-3, max_batches=2),
        ),
        # a 2-core laptop in a few minutes per dataset (12 epochs: validation accuracy has
        # levelled off by then on both embedded datasets)
        "cpu": dict(
            time_steps=4,
            width=16,
            batch_size=64,
            limit=None,
            train=TrainConfig(epochs=12, lr=5e-3, warmup_epochs=1),
            # CIFAR size: a class-balanced 8,000 of the 45,000 training images, the whole
            # test set (so the interval of the test accuracy is about 1 point), T = 2 (the
            # MA-DARTS setting on CIFAR) and 8 epochs, to fit the book budget on one thread
            # (the simulated event version: 2,000 / 500 / 1,000 images, the subset every
            # chapter uses, simulated once and cached; 6 epochs, 48x48 frames cost 2.25x)
            per_dataset={
                "cifar10": dict(
                    time_steps=2,
                    limit={"train": 8_000, "val": 1_000},
                    train=TrainConfig(epochs=8, lr=5e-3, warmup_epochs=1),
                ),
                "cifar10-dvs-sim": dict(
                    time_steps=2,
                    limit={"train": 2_000, "val": 500, "test": 1_000},
                    train=TrainConfig(epochs=6, lr=5e-3, warmup_epochs=1),
                ),
            },
        ),
        # the papers' setting on a GPU: real datasets, more width and epochs (MSE-NAS recipe:
        # AdamW, lr 5e-3 x batch/1024, wd 0.01, label smoothing 0.1, cosine with 5 warm-up epochs)
        "paper": dict(
            time_steps=4,
            width=64,
            batch_size=128,
            limit=None,
            train=TrainConfig(epochs=200, lr=5e-3 * 128 / 1024, warmup_epochs=5),
        ),
    },
    dataset,
)
info = dataset_info(dataset)
print(info, cfg)

# %% [markdown]
# ## Data
# Static datasets are fed by *direct encoding* (the image is the input current of the first
# convolution at each of the T steps); event datasets arrive as T frames of ON/OFF event
# counts (tonic `ToFrame`).

# %%
loaders = make_loaders(
    dataset,
    batch_size=cfg["batch_size"],
    time_steps=cfg["time_steps"],
    limit=cfg["limit"],
    seed=seed,
)
encoder = Encoder(default_encoding(info.kind), cfg["time_steps"])
sizes = split_sizes(loaders)
print("split sizes:", sizes, "| encoder:", encoder)

x0, y0 = loaders["test"].dataset[0]
fig = sample_figure(x0, y0, dataset, info.kind)  # events: ON minus OFF per time bin
glue("sample_fig", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Training

# %%
model = SpikingCNN(info.in_channels, info.num_classes, width=cfg["width"]).to(dev)
hist = fit(
    model,
    loaders["train"],
    loaders["val"],
    encoder,
    cfg["train"],
    device=dev,
    desc=f"substrate {dataset}",
)
test = evaluate(
    model, loaders["test"], encoder, dev, spikes=True, max_batches=cfg["train"].max_batches
)
report = test["spikes"]
print(
    f"test accuracy {test['acc']:.4f} on {test['n']} images; NoS {report.nos:.0f}; "
    f"energy {report.energy_uj:.3f} uJ/image; {count_parameters(model)} parameters; "
    f"{hist.seconds:.1f} s"
)

# %%
fig = curves_figure(hist)
glue("curves_fig", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Spikes per layer
# Firing rate = spikes / (neurons x T x images), measured on the test split.

# %%
rates = report.firing_rates
fig = rates_figure(rates, dataset)
glue("rates_fig", fig, display=False)
plt.close(fig)

# %%
# test_acc_ci95: the 95 % Wilson interval over the test images (one training seed)
metrics = substrate_metrics(test, hist, count_parameters(model), cfg["time_steps"])
glue_all(substrate_glue_values(metrics, test["n"], sizes["train"], cfg["train"].epochs))
path = run.write(
    metrics,
    artifacts={"history": hist.to_dict(), "firing_rate_per_layer": rates, "split_sizes": sizes},
)
print("wrote", path)
