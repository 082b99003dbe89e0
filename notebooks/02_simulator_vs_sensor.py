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
from dataclasses import replace
from itertools import product

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display
from myst_nb import glue

from snnlib.book.params import declared_params
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.tables import book_table
from snnlib.data import load_dataset
from snnlib.data import sensor_compare as sc
from snnlib.data.dvs_sim import DVSConfig, path_corners, path_weights, simulate_dvs_batch
from snnlib.data.nmnist_embedded import mnist_images
from snnlib.nas.statistics import paired_by_seed, t_interval
from snnlib.train import TrainConfig
from snnlib.transfer import transfer_over_seeds
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
seeds = [seed + k for k in range(cfg["seeds"])]
print(
    {k: v for k, v in cfg.items() if k != "grid"},
    "| grid:",
    {k: len(v) for k, v in cfg["grid"].items()},
)

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
images_u8, labels = mnist_images()
n_calib = min(cfg["n_calib"], len(images_u8))
images = images_u8[:n_calib].astype(np.float64) / 255.0
if list(real_ds.targets[:n_calib]) != labels[:n_calib].tolist():
    raise RuntimeError("the nmnist test recordings are not in the order of the MNIST images")
chunks = [real_ds.events(i) for i in range(n_calib)]
real_events = np.concatenate(chunks)
real_offsets = np.concatenate([[0], np.cumsum([len(c) for c in chunks])]).astype(np.int64)
real = sc.recording_stats(real_events, real_offsets)
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
path = sc.estimate_path(real_events, real_offsets, images)
default_cfg = DVSConfig.for_size(34)
geometry_cfg = path.config(default_cfg)
noise = sc.estimate_noise(real_events, real_offsets, images, geometry_cfg)
base_cfg = replace(
    geometry_cfg,
    noise_rate=round(noise["noise_rate"], 3),
    noise_on_fraction=round(noise["noise_on_fraction"], 3),
)
print("digit size scores:", {k: round(v) for k, v in path.size_scores.items()})
print("profile residuals (px):", {k: round(v, 3) for k, v in path.rms.items()})
print(
    "corners:",
    path.vertices,
    "| windows (ms):",
    [(a / 1e3, b / 1e3) for a, b in path.saccade_windows],
)
print("noise:", {k: round(v, 3) for k, v in noise.items()})

fit = path_weights(path.window_t, path.saccade_windows, path.profile) @ np.array(path.vertices)
fig, ax = plt.subplots(figsize=(7, 3))
ms = path.window_t / 1e3
for k, (name, color) in enumerate((("dx", "tab:blue"), ("dy", "tab:orange"))):
    ax.scatter(
        ms,
        path.positions[:, k],
        s=6 + 40 * path.weights / path.weights.max(),
        color=color,
        label=f"{name} measured",
    )
    ax.plot(ms, fit[:, k], color=color, lw=1.5, label=f"{name} fitted path")
for a, b in path.saccade_windows:
    ax.axvspan(a / 1e3, b / 1e3, color="0.92", zorder=0)
_ = ax.set(
    xlabel="time (ms)", ylabel="digit offset (px)", title="Where the real recordings put the digit"
)
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()
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
sets = {}
for name, c in configs.items():
    ev, off = simulate_dvs_batch(images, seed=0, config=c)
    sets[name] = sc.recording_stats(ev, off)
stats = {"real": real, **sets}
shown = {k: stats[k] for k in ("real", "simulated, default", "simulated, calibrated")}
dist = {name: sc.distances(real, s) for name, s in sets.items()}
loss = {name: sc.calibration_loss(d) for name, d in dist.items()}

param_rows = [
    ("digit size (px)", "digit_size"),
    ("contrast threshold C", "contrast_threshold"),
    ("refractory period (us)", "refractory_us"),
    ("threshold spread (log-normal sigma)", "threshold_std"),
    ("OFF / ON threshold", "off_ratio"),
    ("noise (events per pixel and s)", "noise_rate"),
    ("noise ON fraction", "noise_on_fraction"),
    ("timestamp jitter (us)", "jitter_us"),
    ("progress profile", "profile"),
]
param_table = pd.DataFrame(
    [
        (label, getattr(default_cfg, f), getattr(count_cfg, f), getattr(cal_cfg, f))
        for label, f in param_rows
    ],
    columns=["parameter", "default", "count-matched", "calibrated"],
).astype(object)
for label, c in (("default", default_cfg), ("count-matched", count_cfg), ("calibrated", cal_cfg)):
    vx, vy = path_corners(c)
    wins = c.saccade_windows or tuple((k * c.saccade_us, (k + 1) * c.saccade_us) for k in range(3))
    param_table.loc[9, label] = "; ".join(f"({a:.2f}, {b:.2f})" for a, b in zip(vx[:3], vy[:3]))
    param_table.loc[10, label] = "; ".join(f"{a / 1e3:.1f}-{b / 1e3:.1f}" for a, b in wins)
param_table.loc[9, "parameter"] = "path corners dx, dy (px)"
param_table.loc[10, "parameter"] = "saccade windows (ms)"
param_table = param_table.astype(str)
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
stat_table = pd.DataFrame({name: s.summary() for name, s in stats.items()}).T
stat_table = stat_table[
    [
        "events_mean",
        "events_sd",
        "on_fraction",
        "isi_p01_us",
        "isi_median_us",
        "events_per_active_pixel",
    ]
]
stat_table.columns = [
    "events / recording",
    "sd",
    "ON fraction",
    "interval 1st pct (us)",
    "interval median (us)",
    "events / active pixel",
]
stat_table.index.name = "recordings"
display(book_table(stat_table.round(3)))
glue("stat_table", book_table(stat_table.round(3)), display=False)

dist_table = pd.DataFrame(dist).T
dist_table["loss"] = pd.Series(loss)
dist_table.index.name = "simulator"
display(book_table(dist_table.round(3)))
glue("dist_table", book_table(dist_table.round(3)), display=False)

colors = {
    "real": "black",
    "simulated, default": "tab:red",
    "simulated, count-matched": "tab:orange",
    "simulated, calibrated": "tab:blue",
    "real (reference)": "black",
}

fig, axes = plt.subplots(1, 3, figsize=(11, 3))
bins = np.linspace(0, max(s.counts.max() for s in shown.values()), 30)
for name, s in shown.items():
    axes[0].hist(s.counts, bins=bins, histtype="step", lw=1.5, color=colors[name], label=name)
    centres = 0.5 * (s.temporal_edges[1:] + s.temporal_edges[:-1]) / 1e3
    axes[1].plot(centres, s.temporal, color=colors[name], lw=1.3)
    axes[2].plot(centres, s.temporal_on, color=colors[name], lw=1.0)
_ = axes[0].set(xlabel="events per recording", ylabel="recordings", title="Events per recording")
axes[0].legend(fontsize=7)
_ = axes[1].set(
    xlabel="time (ms)", ylabel="events per recording and 5 ms", title="When events happen"
)
_ = axes[2].set(
    xlabel="time (ms)", ylabel="ON fraction", title="ON fraction over time", ylim=(0.3, 1.0)
)
fig.tight_layout()
glue("fig_counts_time", fig, display=False)
plt.close(fig)

fig, axes = plt.subplots(1, 3, figsize=(10, 3.3))
vmax = max(s.spatial.max() for s in shown.values())
for ax, (name, s) in zip(axes, shown.items()):
    im = ax.imshow(s.spatial, cmap="magma", vmin=0, vmax=vmax)
    ax.set_title(name, fontsize=9)
    ax.axis("off")
fig.colorbar(im, ax=axes, shrink=0.8, label="events per pixel and recording")
glue("fig_spatial", fig, display=False)
plt.close(fig)

fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for name, s in shown.items():
    e = s.isi_edges
    centres = np.sqrt(np.maximum(e[1:], 1) * np.maximum(e[:-1], 1))
    axes[0].plot(centres[1:], (s.isi / s.isi.sum())[1:], color=colors[name], lw=1.3, label=name)
    k = np.arange(1, len(s.pixel_counts) + 1)
    axes[1].plot(k, s.pixel_counts / s.pixel_counts.sum(), color=colors[name], lw=1.3)
axes[0].set_xscale("log")
_ = axes[0].set(
    xlabel="interval between two events of a pixel (us)",
    ylabel="fraction",
    title="Per-pixel inter-event intervals",
)
axes[0].legend(fontsize=7)
_ = axes[1].set(
    xlabel="events of one pixel in one recording",
    ylabel="fraction of active pixels",
    title="Events per active pixel",
)
fig.tight_layout()
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
train_y = torch.tensor(labels[:n_calib], dtype=torch.long)
test_parts = [
    load_dataset(dataset, s, time_steps=time_steps, image_size=image_size, subset=True)
    for s in ("train", "val")
]
test_x = torch.stack([ds[i][0] for ds in test_parts for i in range(len(ds))])
test_y = torch.tensor([t for ds in test_parts for t in ds.targets], dtype=torch.long)
if cfg["n_real_test"] is not None:
    test_x, test_y = test_x[: cfg["n_real_test"]], test_y[: cfg["n_real_test"]]
real_x = torch.stack([real_ds[i][0] for i in range(n_calib)])
sim_seeds = cfg["sim_seeds"]
conditions = {
    name: sc.simulated_frames(
        images, c, sim_seeds=sim_seeds, time_steps=time_steps, image_size=frame_size, **framing
    )
    for name, c in configs.items()
}
conditions["real (reference)"] = real_x
tests = {"real": (test_x, test_y)}
runs = {}
t0 = time.perf_counter()
for name, x in conditions.items():
    y = train_y.repeat(len(x) // len(train_y))
    runs[name] = transfer_over_seeds(
        x,
        y,
        tests,
        seeds,
        width=cfg["width"],
        train=cfg["train"],
        batch_size=cfg["batch_size"],
        device=dev,
        num_classes=10,
    )
train_seconds = time.perf_counter() - t0
acc = {name: [r.test_acc["real"] for r in rs] for name, rs in runs.items()}
summary = {name: t_interval(a) for name, a in acc.items()}
pairs = {
    "calibrated - default": ("simulated, calibrated", "simulated, default"),
    "calibrated - count-matched": ("simulated, calibrated", "simulated, count-matched"),
    "count-matched - default": ("simulated, count-matched", "simulated, default"),
    "calibrated - real": ("simulated, calibrated", "real (reference)"),
    "default - real": ("simulated, default", "real (reference)"),
}
paired = {}
for label, (a, b) in pairs.items():
    paired[label] = paired_by_seed(acc[a], acc[b])
    paired[label]["wins"] = int(sum(x > y for x, y in zip(acc[a], acc[b])))
acc_table = pd.DataFrame(
    {
        name: {
            "mean": m,
            "95% lo": lo,
            "95% hi": hi,
            "per seed": ", ".join(f"{v:.3f}" for v in acc[name]),
        }
        for name, (m, lo, hi) in summary.items()
    }
).T
acc_table.index.name = "trained on"
pair_table = pd.DataFrame(paired).T[["diff", "lo", "hi", "t_p", "wins", "n"]]
pair_table.index.name = "paired difference"
display(book_table(acc_table.round(3)))
display(book_table(pair_table.round(3)))
glue("acc_table", book_table(acc_table.round(3)), display=False)
glue("pair_table", book_table(pair_table.round(3)), display=False)
print(f"{len(test_y)} real test recordings; training {train_seconds:.0f} s")

fig, ax = plt.subplots(figsize=(6, 3))
for k, (name, (m, lo, hi)) in enumerate(summary.items()):
    ax.scatter([k] * len(acc[name]), acc[name], color="0.6", s=12, zorder=2)
    err = None if np.isnan(lo) else [[m - lo], [hi - m]]
    ax.errorbar([k], [m], yerr=err, fmt="o", color=colors[name], capsize=4, zorder=3)
ax.axhline(0.1, color="0.8", ls="--", lw=1)
ax.set_xticks(range(len(summary)))
_ = ax.set_xticklabels(list(summary), fontsize=8)
_ = ax.set(
    ylabel="accuracy on real recordings",
    title="Transfer to the real sensor (mean, 95% interval)",
    ylim=(0, 1),
)
fig.tight_layout()
glue("fig_transfer", fig, display=False)
plt.close(fig)

# %%
metrics = {
    "n_calib": int(n_calib),
    "n_real_test": int(len(test_y)),
    "n_seeds": len(seeds),
    "epochs": int(cfg["train"].epochs),
    "calibration_seconds": float(calib_seconds),
    "train_seconds": float(train_seconds),
    "calibration_evaluations": int(cal.evaluations),
    "loss_default": float(loss["simulated, default"]),
    "loss_geometry_start": float(cal.start_loss),
    "loss_calibrated": float(loss["simulated, calibrated"]),
    "path_rms_px": float(path.rms[path.profile]),
    "digit_size": int(path.digit_size),
    "path_scale": float(cal.path_scale),
}
short = {
    "real": "real",
    "simulated, default": "default",
    "simulated, count-matched": "cm",
    "simulated, calibrated": "cal",
}
for name, s in stats.items():
    for k, v in s.summary().items():
        metrics[f"{short[name]}_{k}"] = float(v)
for name, d in dist.items():
    for k, v in d.items():
        metrics[f"{short[name]}_{k}"] = float(v)
for f in (
    "contrast_threshold",
    "refractory_us",
    "threshold_std",
    "off_ratio",
    "noise_rate",
    "noise_on_fraction",
    "jitter_us",
):
    metrics[f"cal_{f}"] = float(getattr(cal_cfg, f))
metrics["cm_contrast_threshold"] = float(count_cfg.contrast_threshold)
metrics["loss_count_matched"] = float(loss["simulated, count-matched"])
acc_short = {
    "simulated, default": "acc_default",
    "simulated, count-matched": "acc_cm",
    "simulated, calibrated": "acc_cal",
    "real (reference)": "acc_real",
}
for name, (m, lo, hi) in summary.items():
    metrics[acc_short[name]] = float(m)
    metrics[acc_short[name] + "_lo"] = float(lo)
    metrics[acc_short[name] + "_hi"] = float(hi)
for name, key in (
    ("calibrated - default", "gain_cal_vs_default"),
    ("calibrated - count-matched", "gain_cal_vs_cm"),
    ("count-matched - default", "gain_cm_vs_default"),
    ("calibrated - real", "gap_cal_vs_real"),
    ("default - real", "gap_default_vs_real"),
):
    metrics[key] = float(paired[name]["diff"])
    metrics[key + "_lo"] = float(paired[name]["lo"])
    metrics[key + "_hi"] = float(paired[name]["hi"])
    metrics[key + "_t_p"] = float(paired[name]["t_p"])
    metrics[key + "_wins"] = int(paired[name]["wins"])
for k, v in metrics.items():
    glue(k, v, display=False)
# accuracies and their differences also in percent (points), as the page states them
for k, v in metrics.items():
    if k.startswith(("acc_", "gain_", "gap_")) and not k.endswith(("_t_p", "_wins")):
        glue(k + "_pct", 100 * v, display=False)
glue("cal_profile", str(cal_cfg.profile), display=False)
path_file = run.write(
    metrics,
    artifacts={
        "default_config": default_cfg.to_dict(),
        "calibrated_config": cal_cfg.to_dict(),
        "count_matched_config": count_cfg.to_dict(),
        "noise_estimate": {k: float(v) for k, v in noise.items()},
        "path": {
            "vertices": [list(v) for v in path.vertices],
            "saccade_windows": [list(w) for w in path.saccade_windows],
            "profile": path.profile,
            "rms_px": {k: float(v) for k, v in path.rms.items()},
            "size_scores": {str(k): float(v) for k, v in path.size_scores.items()},
        },
        "calibration_trace": [
            {
                "round": e["round"],
                "param": e["param"],
                "value": e["value"],
                "loss": float(e["loss"]),
            }
            for e in cal.trace
        ],
        "accuracy_per_seed": {name: [float(v) for v in a] for name, a in acc.items()},
        "seeds": seeds,
        "sim_seeds": list(sim_seeds),
        "runs": {name: [r.to_dict() for r in rs] for name, rs in runs.items()},
    },
)
print("wrote", path_file)
