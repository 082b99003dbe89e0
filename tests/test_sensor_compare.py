"""Statistics of recordings, distances between sets, geometry/noise estimates, calibration,
simulated frames and the transfer helpers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from snnlib.data import sensor_compare as sc
from snnlib.data.dvs_sim import EVENT_DTYPE, DVSConfig, simulate_dvs_batch
from snnlib.data.nmnist_embedded import mnist_images
from snnlib.train import TrainConfig
from snnlib.transfer import frames_run, retrain_frames, set_accuracies
from snnlib.validation import ConfigError

GEOMETRY = dict(
    digit_size=28,
    vertices=((-2.5, -2.5), (-1.5, 3.5), (2.5, -2.0)),
    saccade_windows=((5_000, 90_000), (95_000, 190_000), (220_000, 300_000)),
    profile="smooth",
)


@pytest.fixture(scope="module")
def images():
    return mnist_images()[0][:40] / 255.0


@pytest.fixture(scope="module")
def truth_cfg():
    return DVSConfig.for_size(34, **GEOMETRY, contrast_threshold=0.4, noise_rate=0.3)


def _events(rows):
    ev = np.zeros(len(rows), EVENT_DTYPE)
    for k, name in enumerate(("x", "y", "t", "p")):
        ev[name] = [r[k] for r in rows]
    return ev


def test_recording_stats_by_hand():
    # recording 0: pixel (1, 2) fires at 0, 3000 (OFF), 9000 us; recording 1: (0, 0) once
    ev = _events([(1, 2, 0, 1), (1, 2, 3000, 0), (1, 2, 9000, 1), (0, 0, 12_000, 1)])
    s = sc.recording_stats(ev, np.array([0, 3, 4]), size=4, duration_us=10_000, bin_us=5_000)
    assert s.counts.tolist() == [3, 1] and s.on_fraction == 0.75
    assert s.spatial[2, 1] == 1.5 and s.spatial[0, 0] == 0.5 and s.spatial.sum() == 2.0
    assert s.temporal.tolist() == [1.0, 1.0]  # 12 ms is past the end: last bin
    assert s.temporal_on.tolist() == [0.5, 1.0]
    assert s.isi.sum() == 2  # 3000 and 6000 us within pixel (1, 2); none across recordings
    isi_bins = np.digitize([3000, 6000], s.isi_edges) - 1
    assert s.isi[isi_bins].tolist() == [1, 1]
    assert s.pixel_counts[:3].tolist() == [1, 0, 1]  # one pixel with 1 event, one with 3
    summary = s.summary()
    assert summary["events_mean"] == 2.0 and summary["events_per_active_pixel"] == 2.0
    with pytest.raises(ConfigError):
        sc.recording_stats(ev, np.array([0, 5]))


def test_distances_zero_for_identical_sets_and_grow_with_perturbation(images, truth_cfg):
    ev, off = simulate_dvs_batch(images, config=truth_cfg)
    real = sc.recording_stats(ev, off)
    d = sc.distances(real, real)
    assert d["count_corr"] == pytest.approx(1.0)
    assert all(v == 0 for k, v in d.items() if k != "count_corr")
    assert sc.calibration_loss(d) == 0.0

    shifted = ev.copy()  # every event 10 ms later (inside the recording)
    shifted["t"] = np.minimum(shifted["t"] + 10_000, 299_999)
    d = sc.distances(real, sc.recording_stats(shifted, off))
    assert d["temporal_w1_ms"] == pytest.approx(10.0, abs=0.6)
    assert d["temporal_tv"] > 0.1 and d["spatial_tv"] == 0.0 and d["count_rel_err"] == 0.0

    flipped = ev.copy()  # the first 10 % of events of the set turned OFF -> ON
    k = len(ev) // 10
    flipped["p"][:k] = True
    d = sc.distances(real, sc.recording_stats(flipped, off))
    expected = (flipped["p"].sum() - ev["p"].sum()) / len(ev)
    assert d["on_fraction_diff"] == pytest.approx(expected)

    # keep every other event: half the count; then moving events one pixel right
    keep = np.zeros(len(ev), bool)
    keep[::2] = True
    halves = np.concatenate([[0], np.cumsum([keep[a:b].sum() for a, b in zip(off, off[1:])])])
    d = sc.distances(real, sc.recording_stats(ev[keep], halves))
    assert d["count_rel_err"] == pytest.approx(-0.5, abs=0.01)
    moved = ev.copy()
    moved["x"] = np.minimum(moved["x"] + 1, 33)
    tv1 = sc.distances(real, sc.recording_stats(moved, off))["spatial_tv"]
    moved["x"] = np.minimum(ev["x"] + 3, 33)
    tv3 = sc.distances(real, sc.recording_stats(moved, off))["spatial_tv"]
    assert 0 < tv1 < tv3


def test_total_variation_and_wasserstein():
    assert sc.total_variation([1, 0], [0, 1]) == 1.0
    assert sc.total_variation([2, 2], [1, 1]) == 0.0
    edges = np.arange(5.0)
    assert sc.wasserstein_1d([1, 0, 0, 0], [0, 1, 0, 0], edges) == 1.0
    assert sc.wasserstein_1d([1, 0, 0, 0], [0, 0, 0, 1], edges) == 3.0
    with pytest.raises(ConfigError):
        sc.total_variation([1, 2], [1, 2, 3])


def test_estimate_path_recovers_known_geometry(images, truth_cfg):
    ev, off = simulate_dvs_batch(images, config=replace(truth_cfg, noise_rate=0.0))
    est = sc.estimate_path(ev, off, images)
    assert est.digit_size == 28 and est.profile == "smooth"
    assert np.abs(np.array(est.vertices) - np.array(GEOMETRY["vertices"])).max() < 0.4
    got = np.array(est.saccade_windows)
    assert np.abs(got - np.array(GEOMETRY["saccade_windows"])).max() <= 10_000
    assert est.rms["smooth"] < 0.3
    cfg = est.config(DVSConfig.for_size(34))
    assert cfg.digit_size == 28 and cfg.saccade_windows == est.saccade_windows
    # a smaller digit is recognised as smaller
    ev2, off2 = simulate_dvs_batch(images, config=replace(truth_cfg, digit_size=24))
    assert sc.estimate_path(ev2, off2, images).digit_size == 24


def test_estimate_noise_recovers_rate_and_polarity(images, truth_cfg):
    cfg = replace(truth_cfg, noise_rate=2.0, noise_on_fraction=0.9)
    ev, off = simulate_dvs_batch(images, config=cfg)
    est = sc.estimate_noise(ev, off, images, cfg)
    assert est["noise_rate"] == pytest.approx(2.0, rel=0.1)
    assert est["noise_on_fraction"] == pytest.approx(0.9, abs=0.03)
    assert 0 < est["pixels"] < 34 * 34


def test_calibrate_recovers_the_parameters_of_its_own_output(images, truth_cfg):
    truth = replace(truth_cfg, refractory_us=1000.0, threshold_std=0.2)
    # the "real" set: another noise seed than the one calibrate simulates with
    real = sc.recording_stats(*simulate_dvs_batch(images, seed=11, config=truth))
    start = replace(truth, contrast_threshold=0.6, refractory_us=0.0, threshold_std=0.0)
    grid = {
        ("contrast_threshold", "refractory_us"): [
            (c, r) for c in (0.3, 0.4, 0.5, 0.6) for r in (0.0, 1000.0, 2000.0)
        ],
        "threshold_std": [0.0, 0.2, 0.4],
        "path_scale": [0.9, 1.0, 1.1],
    }
    cal = sc.calibrate(images, real, start, grid, rounds=2)
    assert cal.config.contrast_threshold == 0.4
    assert cal.config.refractory_us == 1000.0
    assert cal.config.threshold_std == 0.2
    assert cal.path_scale == 1.0 and cal.config.vertices == truth.vertices
    assert cal.loss < 0.1 < cal.start_loss
    assert cal.evaluations == len({tuple(e["point"].items()) for e in cal.trace})
    # deterministic
    again = sc.calibrate(images, real, start, grid, rounds=2)
    assert again.config == cal.config and again.loss == cal.loss


def test_calibrate_refuses_bad_grids(images, truth_cfg):
    real = sc.recording_stats(*simulate_dvs_batch(images[:4], config=truth_cfg))
    with pytest.raises(ConfigError, match="unknown"):
        sc.calibrate(images[:4], real, truth_cfg, {"contrast": [0.1]})
    with pytest.raises(ConfigError):
        sc.calibrate(images[:4], real, truth_cfg, {})
    with pytest.raises(ConfigError):
        sc.calibrate(images[:4], real, truth_cfg, {("eps", "noise_rate"): [(0.1,)]})


def test_scale_path_about_centroid(truth_cfg):
    v = np.array(sc.scale_path(truth_cfg, 2.0).vertices)
    c = np.array(truth_cfg.vertices).mean(0)
    assert np.allclose(v, c + 2 * (np.array(truth_cfg.vertices) - c))


def test_simulated_frames_shape_order_and_counts(images, truth_cfg):
    x = sc.simulated_frames(images[:5], truth_cfg, sim_seeds=(0, 1), time_steps=4, image_size=17)
    assert tuple(x.shape) == (10, 4, 2, 17, 17)
    for k, seed in enumerate((0, 1)):
        ev, off = simulate_dvs_batch(images[:5], seed=seed, config=truth_cfg)
        assert torch.allclose(
            x[5 * k : 5 * k + 5].sum((1, 2, 3, 4)), torch.tensor(np.diff(off)).float()
        )
    with pytest.raises(ConfigError):
        sc.simulated_frames(images[:2], DVSConfig(), time_steps=4)


def test_train_on_frames_is_seeded_and_tests_every_set():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(40) % 2
    x = torch.rand(40, 2, 2, 8, 8, generator=g)
    x[y == 1, :, 1] += 2.0  # class 1: many ON events
    tests = {"same": (x, y), "flipped": (x.flip(2), y)}
    cfg = TrainConfig(epochs=3, lr=1e-2)
    a = frames_run(x, y, tests, seed=3, width=4, train=cfg, batch_size=8).extra["test_accs"]
    b = frames_run(x, y, tests, seed=3, width=4, train=cfg, batch_size=8).extra["test_accs"]
    assert a == b and set(a) == {"same", "flipped"}
    assert a["same"] > 0.9
    result = retrain_frames(x, y, tests, [0, 1], width=4, train=cfg, batch_size=8)
    assert result.seeds == [0, 1] and len(set_accuracies(result, "flipped")) == 2
    with pytest.raises(ConfigError):
        frames_run(x[:, 0], y, tests, seed=0)
