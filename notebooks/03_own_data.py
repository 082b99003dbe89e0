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
# # Your own data: arrays in, a data set every notebook can read
#
# This notebook plays a user with their own images: it takes plain numpy arrays (scikit-learn's
# 1,797 handwritten digits, 8 x 8 pixels, values 0..16, standing in for any `.npz` a user
# has), makes them a data set with `snnlib.data.from_tensors(..., save=True)`, trains the
# substrate network of `00_substrate` on it, and reads back from the result file which data
# the run read (the checksum of the arrays).

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "digits"  # where the arrays come from: scikit-learn's digits
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
threads = 1  # torch threads (0: torch's default); the book runs two notebooks at a time

# %% tags=["hide-input"]
import tempfile

from sklearn.datasets import load_digits

from snnlib.book.glue import glue_all
from snnlib.book.own_data import data_read, storage_sizes
from snnlib.book.params import declared_params
from snnlib.book.results import read_result
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.substrate import split_sizes, substrate_metrics
from snnlib.data import dataset_info, from_tensors, make_loaders, unregister_dataset
from snnlib.data.registry import saved_path
from snnlib.encoding import Encoder, default_encoding
from snnlib.models import SpikingCNN, count_parameters
from snnlib.train import TrainConfig, evaluate, fit

params = declared_params("03_own_data", globals())
run, dev = start("03_own_data", params, threads=threads)

cfg = pick_scale(
    scale,
    {
        # seconds: a few batches, for tests
        "smoke": dict(
            width=8,
            batch_size=64,
            limit={"train": 128, "val": 64, "test": 64},
            train=TrainConfig(epochs=1, lr=5e-3, max_batches=2),
        ),
        # well under a minute on one thread: the substrate's digits recipe, fewer epochs
        "cpu": dict(
            width=16,
            batch_size=64,
            limit=None,
            train=TrainConfig(epochs=6, lr=5e-3, warmup_epochs=1),
        ),
        # the same small set on a GPU: more width and epochs
        "paper": dict(
            width=64,
            batch_size=128,
            limit=None,
            train=TrainConfig(epochs=50, lr=5e-3 * 128 / 1024, warmup_epochs=5),
        ),
    },
    dataset,
)

# %% [markdown]
# ## Arrays in, a saved data set out
# A user's own arrays are images `[N, C, H, W]` (or `[N, H, W]`) and integer labels `[N]`.
# `from_tensors` checks them (finite, real, not channels-last, labels 0..K-1), fixes the
# train / validation / test split once (10 % of every class each, seed 0) and, with
# `save=True`, writes them to `<data root>/user/<name>.npz`. Here the data root is a
# temporary folder, so the book leaves nothing behind; a user leaves `root` out
# (`$SNNLIB_DATA`, else `data/datasets/`).

# %%
digits = load_digits()
x = digits.images.astype("float32")  # [1797, 8, 8], integers 0..16
folder = tempfile.TemporaryDirectory(prefix="snnlib-own-data-")
source = from_tensors(
    x, digits.target, name="own-digits", normalize=True, save=True, root=folder.name
)
path = saved_path("own-digits", folder.name)
sizes = storage_sizes(path, source.x)
print(
    f"saved {path.name}: {sizes['file_bytes']:,} bytes "
    f"for {sizes['float32_bytes']:,} bytes of float32 items"
)

# %% [markdown]
# The file stores each array in the smallest type that gives back exactly the same values
# (the digits' integers as bytes), compressed, with the checksum of the arrays, which is
# verified whenever the file is read. A notebook in another process reads the data set by
# name from that file. To do the same here, the name is dropped from this process's registry:
# from now on every loader reads the saved file.

# %%
unregister_dataset("own-digits")
info = dataset_info("own-digits", root=folder.name, image_size=16)
loaders = make_loaders(
    "own-digits",
    batch_size=cfg["batch_size"],
    time_steps=4,
    limit=cfg["limit"],
    seed=seed,
    root=folder.name,
    image_size=16,
)
n_items = split_sizes(loaders)
print(info, "| split sizes:", n_items)

# %% [markdown]
# ## The substrate network on the user's data
# The same spiking CNN as `00_substrate` (direct encoding, T = 4), with the images resized to
# 16 x 16 as the built-in `digits` set is.

# %%
encoder = Encoder(default_encoding(info.kind), 4)
model = SpikingCNN(info.in_channels, info.num_classes, width=cfg["width"]).to(dev)
hist = fit(
    model, loaders["train"], loaders["val"], encoder, cfg["train"], device=dev, desc="own digits"
)
test = evaluate(
    model, loaders["test"], encoder, dev, spikes=True, max_batches=cfg["train"].max_batches
)
metrics = substrate_metrics(test, hist, count_parameters(model), 4)
print(f"test accuracy {metrics['test_acc']:.4f} on {test['n']} images")

# %% [markdown]
# ## What the result file says it read
# Every loader records the data it read; the result file lists it under
# `provenance.data_read`: the name, the source and the sha256 of the user's arrays (items,
# labels and splits). Two runs that name the same checksum read the same data.

# %%
written = run.write(metrics, artifacts={"history": hist.to_dict(), "split_sizes": n_items})
read = data_read(read_result(written), "own-digits")
print(f"{written.name} read {read['source']}, sha256 {read['sha256']}")
glue_all(
    {
        "data_sha256": read["sha256"][:16],
        "checksum_matches": str(read["sha256"] == source.sha256()),
        "file_kib": sizes["file_bytes"] / 1024,
        "float32_kib": sizes["float32_bytes"] / 1024,
        "compression": sizes["compression"],
        "test_acc": 100 * metrics["test_acc"],
        "n_train": n_items["train"],
        "n_test": test["n"],
    }
)
folder.cleanup()
