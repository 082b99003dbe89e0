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
# # The simulated event camera against a real one
#
# `digits-dvs` is made by a simulated event camera (`snnlib.data.dvs_sim`) that watches a still
# image move along three saccades. N-MNIST recorded the same procedure with a real ATIS sensor,
# and the project ships 100 of its recordings of the MNIST test images 1-100 together with
# those images. This notebook simulates the same 100 images, compares the simulated and the
# real recordings statistic by statistic, fits the simulator's parameters to the real data,
# and asks whether the fit matters where it counts: does a spiking network trained on
# *simulated* recordings recognise *real* ones?

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "nmnist"  # the real recordings: nmnist
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
threads = 1  # CPU intra-op threads
time_steps = 4  # frames per recording, as the nmnist data set frames them
image_size = 17  # frame side after area resampling of the 34 pixel sensor

# %% tags=["hide-input"]
import time
from itertools import product

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display
from myst_nb import glue

from snnlib.book.glue import glue_all
from snnlib.book.params import declared_params
from snnlib.book.scales import pick_scale
from snnlib.book.sensor_figures import (
    counts_time_figure,
    intervals_figure,
    spatial_figure,
    transfer_figure,
)
from snnlib.book.sensor_geometry import geometry_report, noise_config, path_figure
from snnlib.book.sensor_metrics import percent_keys, sensor_artifacts, sensor_metrics
from snnlib.book.sensor_recordings import calibration_set, real_frames, transfer_test_set
from snnlib.book.sensor_tables import (
    compare_to_real,
    distance_table,
    parameter_table,
    settings_summary,
    statistics_table,
)
from snnlib.book.sensor_transfer import (
    accuracy_summaries,
    accuracy_table,
    pair_table,
    paired_comparisons,
    real_accuracies,
    train_conditions,
    training_conditions,
)
from snnlib.book.setup import start
from snnlib.book.tables import book_table
from snnlib.data import load_dataset
from snnlib.data import sensor_compare as sc
from snnlib.data.dvs_sim import DVSConfig
from snnlib.data.nmnist_embedded import mnist_images
from snnlib.train import TrainConfig
from snnlib.validation import check_choice

check_choice("dataset", dataset, ("nmnist",))
params = declared_params("02_simulator_vs_sensor", globals())
run, dev = start("02_simulator_vs_sensor", params, threads=threads)


cfg = pick_scale(
    scale,
    {
        # seconds: a few recordings, a two-point grid, one short training per condition
        "smoke": dict(
            n_calib=12,
            grid={
                ("contrast_threshold", "refractory_us"): list(product((0.4, 0.5), (0.0, 1000.0))),
                "threshold_std": [0.0, 0.2],
            },
            rounds=1,
            count_grid=[0.4, 0.5],
            n_real_test=100,
            seeds=1,
            sim_seeds=(0,),
            width=8,
            batch_size=32,
            train=TrainConfig(epochs=1, lr=1e-2, max_batches=2),
        ),
        # one core in about four minutes: the 100 recordings, a coarse grid, two sweeps; the
        # network trained 30 epochs per seed on 100 recordings (train accuracy above 0.9)
        "cpu": dict(
            n_calib=100,
            grid={
                ("contrast_threshold", "refractory_us"): list(
                    product((0.35, 0.4, 0.45, 0.5), (0.0, 500.0, 1000.0, 1500.0))
                ),
                "threshold_std": [0.0, 0.1, 0.2, 0.3],
                "off_ratio": [0.85, 0.9, 0.95, 1.0],
                "jitter_us": [0.0, 300.0, 1000.0],
                "path_scale": [0.9, 1.0, 1.1],
            },
            rounds=2,
            count_grid=np.round(np.arange(0.3, 0.71, 0.05), 2).tolist(),
            n_real_test=None,
            seeds=3,
            sim_seeds=(0,),
            width=16,
            batch_size=16,
            train=TrainConfig(epochs=30, lr=1e-2, warmup_epochs=1),
        ),
        # a GPU: a finer grid and three sweeps, four noise draws of every simulated image,
        # ten seeds, longer training
        "paper": dict(
            n_calib=100,
            grid={
                ("contrast_threshold", "refractory_us"): list(
                    product(
                        np.round(np.arange(0.25, 0.61, 0.05), 2).tolist(),
                        np.arange(0.0, 2501.0, 250.0).tolist(),
                    )
                ),
                "threshold_std": np.round(np.arange(0.0, 0.51, 0.05), 2).tolist(),
                "off_ratio": [0.8, 0.85, 0.9, 0.95, 1.0, 1.05],
                "jitter_us": [0.0, 100.0, 300.0, 1000.0],
                "path_scale": np.round(np.arange(0.8, 1.21, 0.05), 2).tolist(),
            },
            rounds=3,
            count_grid=np.round(np.arange(0.3, 0.71, 0.025), 3).tolist(),
            n_real_test=None,
            seeds=10,
            sim_seeds=(0, 1, 2, 3),
            width=16,
            batch_size=16,
            train=TrainConfig(epochs=60, lr=1e-2, warmup_epochs=2),
        ),
    },
)
seeds = list(range(seed, seed + cfg["seeds"]))
print(settings_summary(cfg))

# %% [markdown]
# ## The real recordings
# The `test` split of the committed `nmnist` subset holds the recordings of MNIST test images
# 1-100, in the order of the images (committed with them). They are the calibration target.
# Every scale reads the subset (`subset=True`): the full N-MNIST, ordered by class folder,
# would pair other recordings with these images. The 1,000 recordings of the `train` and
# `val` splits (MNIST *training* images 1-1000, digits the calibration never sees) are the
# test set of the transfer experiment below.

# %%
real_ds = load_dataset(dataset, "test", time_steps=time_steps, image_size=image_size, subset=True)
calib = calibration_set(real_ds, *mnist_images(), cfg["n_calib"])  # checks the order
images, n_calib = calib.images, calib.n
real = sc.recording_stats(calib.events, calib.offsets)
framing = dict(real_ds.framing)
frame_size = framing.pop("size")
print(
    f"{real.n} real recordings ({real_ds.source}), {real.mean_count:.0f} events each on "
    f"average, ON fraction {real.on_fraction:.3f}; framing {framing}, size {frame_size}"
)

# %% [markdown]
# ## Geometry and noise, read off the data
# Where is the digit at each moment? For every 5 ms window the events of all recordings are
# correlated with the gradient magnitude of the image each recording shows, shifted by every
# offset (`estimate_path`); the best offset is the digit's position. The rendered digit size
# whose correlation peaks highest is the one the sensor saw. A path model (three corners,
# three saccade windows, constant-speed or smooth progress) is fitted to the positions.
# Background events are counted at pixels the digit never reaches (`estimate_noise`).

# %%
path = sc.estimate_path(calib.events, calib.offsets, images)
default_cfg = DVSConfig.for_size(34)
geometry_cfg = path.config(default_cfg)
noise = sc.estimate_noise(calib.events, calib.offsets, images, geometry_cfg)
base_cfg = noise_config(geometry_cfg, noise)
print(geometry_report(path, noise))

fig = path_figure(path)
glue("fig_path", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Calibration
# Starting from the measured geometry and noise, a coordinate search sets the sensor's
# parameters: the contrast threshold and the refractory period as one block (both set how
# many events an edge makes), the per-pixel threshold spread, the OFF/ON threshold ratio, the
# timestamp jitter and a scale of the measured path. Each candidate simulates the same images
# and is scored by `calibration_loss`: the relative count error, twice the ON-fraction
# difference, and the total-variation distances of the temporal histogram, the spatial map,
# the per-pixel interval histogram and the events-per-pixel histogram.

# %%
t0 = time.perf_counter()
cal = sc.calibrate(
    images, real, base_cfg, cfg["grid"], rounds=cfg["rounds"], sim_seed=0, progress_bar=True
)
calib_seconds = time.perf_counter() - t0
cal_cfg = cal.config
print(
    f"{cal.evaluations} configurations in {calib_seconds:.0f} s; "
    f"loss {cal.start_loss:.3f} -> {cal.loss:.3f}"
)
print(cal_cfg)

# a control: the default simulator with only its threshold set to match the mean count
count_cal = sc.calibrate(
    images,
    real,
    default_cfg,
    {"contrast_threshold": cfg["count_grid"]},
    rounds=1,
    weights={"count_rel_err": 1.0},
)
count_cfg = count_cal.config
print(f"count-matched default: contrast threshold {count_cfg.contrast_threshold}")

configs = {
    "simulated, default": default_cfg,
    "simulated, count-matched": count_cfg,
    "simulated, calibrated": cal_cfg,
}
sets = sc.simulated_stats(images, configs, seed=0)
stats = {"real": real, **sets}
dist, loss = compare_to_real(real, sets)

param_table = parameter_table(
    {"default": default_cfg, "count-matched": count_cfg, "calibrated": cal_cfg}
)
display(book_table(param_table))
glue("param_table", book_table(param_table), display=False)

# %% [markdown]
# ## Real against simulated, statistic by statistic
# The tables hold the real recordings, the default simulator (`DVSConfig.for_size(34)`, the
# configuration of `digits-dvs` at 34 pixels), the default with its threshold set to match
# the mean event count, and the calibrated simulator; the figures show the real set, the
# default and the calibrated one. Distances: module docstring of `snnlib.data.sensor_compare`
# (`count_corr` is the correlation of the per-recording counts: the same digits, in order).

# %%
stat_table = statistics_table(stats)
display(book_table(stat_table))
glue("stat_table", book_table(stat_table), display=False)

dist_table = distance_table(dist, loss)
display(book_table(dist_table))
glue("dist_table", book_table(dist_table), display=False)

fig = counts_time_figure(stats)
glue("fig_counts_time", fig, display=False)
plt.close(fig)

fig = spatial_figure(stats)
glue("fig_spatial", fig, display=False)
plt.close(fig)

fig = intervals_figure(stats)
glue("fig_intervals", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Transfer: trained on simulated recordings, tested on real ones
# The fixed spiking CNN of the substrate chapter is trained on frames of the 100 images
# simulated with the default configuration, with the default configuration whose threshold
# alone is set to match the real mean event count (a control: is it only the input scale?),
# with the calibrated one, and, as the reference, on the 100 real recordings of the same
# digits; every network is tested on
# the real `train` + `val` recordings (other digits). Frames are those of the `nmnist` data
# set (same time steps, bins, size and count transform). The same training seeds serve every
# condition, so the conditions can be compared seed by seed.

# %%
train_y = torch.tensor(calib.labels, dtype=torch.long)
test_x, test_y = transfer_test_set(
    dataset,
    ("train", "val"),
    cfg["n_real_test"],
    time_steps=time_steps,
    image_size=image_size,
    subset=True,
)
sim_seeds = cfg["sim_seeds"]
conditions = training_conditions(
    images,
    configs,
    real_frames(real_ds, n_calib),
    sim_seeds=sim_seeds,
    time_steps=time_steps,
    image_size=frame_size,
    **framing,
)
t0 = time.perf_counter()
runs = train_conditions(
    conditions,
    train_y,
    {"real": (test_x, test_y)},
    seeds,
    width=cfg["width"],
    train=cfg["train"],
    batch_size=cfg["batch_size"],
    device=dev,
    num_classes=10,
)
train_seconds = time.perf_counter() - t0
acc = real_accuracies(runs)
summary = accuracy_summaries(acc)
paired = paired_comparisons(acc)  # PAIRS of snnlib.book.sensor_transfer
acc_table, diff_table = accuracy_table(acc, summary), pair_table(paired)
display(book_table(acc_table))
display(book_table(diff_table))
glue("acc_table", book_table(acc_table), display=False)
glue("pair_table", book_table(diff_table), display=False)
print(f"{len(test_y)} real test recordings; training {train_seconds:.0f} s")

fig = transfer_figure(acc, summary)
glue("fig_transfer", fig, display=False)
plt.close(fig)

# %%
metrics = sensor_metrics(
    n_calib=n_calib,
    n_real_test=len(test_y),
    n_seeds=len(seeds),
    epochs=cfg["train"].epochs,
    calibration_seconds=calib_seconds,
    train_seconds=train_seconds,
    calibration=cal,
    count_matched=count_cal,
    path=path,
    stats=stats,
    dist=dist,
    loss=loss,
    summary=summary,
    paired=paired,
)
# accuracies and their differences also in percent (points, <key>_pct), as the page states them
glue_all(metrics, percent=percent_keys(metrics))
glue("cal_profile", str(cal_cfg.profile), display=False)
path_file = run.write(
    metrics,
    artifacts=sensor_artifacts(
        default_config=default_cfg,
        calibration=cal,
        count_matched=count_cal,
        noise=noise,
        path=path,
        acc=acc,
        seeds=seeds,
        sim_seeds=sim_seeds,
        runs=runs,
    ),
)
print("wrote", path_file)
