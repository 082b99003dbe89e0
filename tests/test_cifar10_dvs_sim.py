"""``cifar10-dvs-sim``: CIFAR-10 through the calibrated simulated DVS (smoke size, seconds)."""

from __future__ import annotations

import json
import time
from collections import Counter

import numpy as np
import pytest
import torch
from tonic.io import events_struct

from snnlib.data import DatasetInfo, dataset_info, load_dataset, make_loaders
from snnlib.data import cifar10_dvs_sim as sim
from snnlib.paths import REPO_ROOT
from snnlib.validation import ConfigError

NAME = "cifar10-dvs-sim"
RESULT = REPO_ROOT / "data" / "results" / "02_simulator_vs_sensor__nmnist__cpu__seed0.json"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("c10dvs")


@pytest.fixture(scope="module")
def small(root):
    """Ten test images (one per class) at the default 128 px sensor, framed 4 x 48 x 48."""
    return load_dataset(NAME, "test", limit=10, root=root, time_steps=4).prepare()


def test_shapes_dtype_and_info(small):
    assert small.info == DatasetInfo(NAME, "events", 10, 2, (48, 48))
    assert dataset_info(NAME) == small.info
    assert dataset_info(NAME, image_size=32, polarity="merged").size == (32, 32)
    x, y = small[0]
    assert x.shape == (4, 2, 48, 48) and x.dtype == torch.float32 and isinstance(y, int)
    ev = small.events(0)
    assert ev.dtype == events_struct
    assert ev["x"].min() >= 0 and ev["x"].max() < 128 and ev["y"].max() < 128
    assert ev["t"].min() >= 0 and ev["t"].max() < 300_000
    assert np.all(np.diff(ev["t"]) >= 0)
    # area resampling keeps every event: the frames hold exactly the item's events
    assert float(x.sum()) == pytest.approx(len(ev), rel=1e-5)
    assert 1_000 < len(ev) < 200_000


def test_labels_and_indices_are_cifar10s():
    before = sim.simulated_images()
    for split in ("train", "val", "test"):
        a = load_dataset(NAME, split, limit=30, seed=1)
        b = load_dataset("cifar10", split, limit=30, seed=1)
        assert a.targets == b.targets and np.array_equal(a.indices, b.indices)
    full = load_dataset(NAME, "test")
    assert full.targets == load_dataset("cifar10", "test").targets and len(full) == 10_000
    assert sim.simulated_images() == before  # making a split simulates nothing


def test_limit_is_class_balanced():
    for limit in (20, 25):
        counts = Counter(load_dataset(NAME, "train", limit=limit).targets)
        assert len(counts) == 10 and max(counts.values()) - min(counts.values()) <= 1


def test_deterministic_across_batches_and_seeds(small):
    idx = [int(i) for i in small.indices[:3]]
    alone, _ = small.simulate([idx[2]])
    together, off = small.simulate(idx)
    assert np.array_equal(alone, together[off[2] : off[3]])
    assert np.array_equal(small.events(2), alone)
    other = load_dataset(NAME, "test", limit=10, sim_seed=1, cache=False)
    assert not np.array_equal(other.events(2), alone)


def test_cache_second_load_does_not_simulate(small, root):
    files = sorted((root / NAME).glob("frames_*.npz"))
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False) as f:
        assert f["frames"].shape == (10, 4, 2, 48, 48)
    first = torch.stack([small[i][0] for i in range(len(small))])
    sim.clear_memory()
    before = sim.simulated_images()
    t0 = time.perf_counter()
    again = load_dataset(NAME, "test", limit=10, root=root, time_steps=4)
    second = torch.stack([again[i][0] for i in range(len(again))])
    assert time.perf_counter() - t0 < 1.0
    assert sim.simulated_images() == before
    assert torch.equal(first, second)
    # another configuration is another entry
    changed = load_dataset(
        NAME, "test", limit=10, root=root, time_steps=4, sensor_size=32, steps_per_saccade=4
    )
    assert changed.cache_file() != again.cache_file()
    assert load_dataset(NAME, "test", limit=10, root=root, time_steps=2).cache_file() != (
        again.cache_file()
    )


def test_calibrated_sensor_is_the_result_files():
    doc = json.loads(RESULT.read_text())
    cal = next(
        doc[k]["calibrated_config"]
        for k in ("artifacts", "metrics", "provenance")
        if "calibrated_config" in doc.get(k, {})
    )
    assert {k: cal[k] for k in sim.CALIBRATED_SENSOR} == sim.CALIBRATED_SENSOR
    cfg = sim.sensor_config()
    assert all(getattr(cfg, k) == v for k, v in sim.CALIBRATED_SENSOR.items())
    assert (cfg.size, cfg.digit_size, cfg.duration_us) == (128, 96, 300_000)


@pytest.mark.parametrize(
    "option, value, match",
    [
        ("downsample", "bilinear", r"downsample='bilinear'.*\['area', 'events'\]"),
        ("luminance", "hsv", r"luminance='hsv'.*\['linear', 'gamma'\]"),
        ("counts", "sqrt", r"counts='sqrt'.*'raw', 'log1p', 'binary'"),
        ("polarity", "on", r"polarity='on'.*'both', 'merged'"),
        ("sensor_size", 4, r"sensor_size=4.*\[8, 1024\]"),
        ("steps_per_saccade", 0, r"steps_per_saccade=0"),
        ("noise_rate", 1.0, r"\['noise_rate'\] not known.*sensor_size"),
    ],
)
def test_bad_options_raise(option, value, match):
    with pytest.raises(ConfigError, match=match):
        load_dataset(NAME, "test", limit=10, **{option: value})


def test_image_dependent(small):
    frames = torch.stack([small[i][0] for i in range(len(small))])
    flat = frames.flatten(1)
    assert torch.cdist(flat, flat).fill_diagonal_(float("inf")).min() > 0  # all differ
    # events concentrate on the image's edges: per pixel, far more where the (placed, grey)
    # image has a strong gradient than where it is flat
    from snnlib.data.dvs_sim import _place

    cfg = small.config
    img = _place(sim.grey(small.source._data[small.indices]), cfg)
    gy, gx = np.gradient(img, axis=(1, 2))
    grad = np.hypot(gx, gy)
    inside = np.zeros((128, 128), bool)
    inside[24:104, 24:104] = True  # away from the image border (a strong edge anyway)
    ratios = []
    for i in range(len(small)):
        ev = small.events(i)
        count = np.zeros((128, 128))
        np.add.at(count, (ev["y"], ev["x"]), 1)
        g = grad[i][inside]
        c = count[inside]
        hi, lo = g >= np.quantile(g, 0.8), g <= np.quantile(g, 0.2)
        ratios.append(c[hi].mean() / max(c[lo].mean(), 1e-9))
    assert np.median(ratios) > 2.0, ratios


def test_framing_options_and_loaders(root):
    ds = load_dataset(
        NAME, "val", limit=10, root=root, time_steps=3, image_size=16, sensor_size=32,
        steps_per_saccade=5, downsample="events", counts="binary", polarity="merged",
    )  # fmt: skip
    x, _ = ds[0]
    assert x.shape == (3, 1, 16, 16) and set(x.unique().tolist()) <= {0.0, 1.0}
    loaders = make_loaders(
        NAME, batch_size=5, time_steps=2, limit=10, root=root, sensor_size=32,
        steps_per_saccade=5, splits=("train", "test"),
    )  # fmt: skip
    xb, yb = next(iter(loaders["train"]))
    assert xb.shape == (5, 2, 2, 48, 48) and yb.shape == (5,)


def test_refractory_speedup_changed_no_event():
    """dvs_sim's refractory loop was made faster for this data set; its events are those of
    the code before (checksum computed with commit c1e3ef4's dvs_sim)."""
    import hashlib

    from snnlib.data import digits
    from snnlib.data.dvs_sim import DVSConfig, simulate_dvs_batch

    cfg = DVSConfig(
        size=34, digit_size=28, amplitude=4.25, refractory_us=500.0, threshold_std=0.2,
        off_ratio=0.9, profile="smooth",
    )  # fmt: skip
    events, offsets = simulate_dvs_batch(digits.digit_images()[0][:12], config=cfg)
    m = hashlib.sha256(np.ascontiguousarray(events).tobytes())
    m.update(np.asarray(offsets, np.int64).tobytes())
    assert m.hexdigest() == "ed98b76fa27fc0138921589b2a5b884bb9c7be4caa97be9d6b9128ca8f79e8ff"
