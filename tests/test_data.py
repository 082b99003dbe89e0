"""Tests of snnlib.data: the digits datasets, the DVS simulator, the error paths, and the
readers of CIFAR / CIFAR10-DVS / DVS-Gesture on small fake files in the real formats."""

from __future__ import annotations

import os
import pickle
import urllib.error
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import tonic
import torch

import snnlib.data as data
from snnlib.data import digits_dvs
from snnlib.data.digits import digit_images, fixed_splits
from snnlib.data.dvs_sim import EVENT_DTYPE, DVSConfig, _place, simulate_dvs, simulate_dvs_batch
from snnlib.data.neuromorphic import resize_counts
from snnlib.validation import ConfigError

# ----------------------------------------------------------------------------- digits


def test_digits_items_shapes_and_labels():
    ds = data.load_dataset("digits", "train")
    x, y = ds[0]
    assert x.shape == (1, 16, 16) and x.dtype == torch.float32
    assert isinstance(y, int)
    assert set(ds.targets) == set(range(10))
    assert ds.info == data.DatasetInfo("digits", "static", 10, 1, (16, 16))
    assert ds.info == data.dataset_info("digits")
    all_x = torch.stack([ds[i][0] for i in range(len(ds))])
    assert abs(all_x.mean().item()) < 1e-4 and abs(all_x.std().item() - 1) < 1e-3
    small = data.load_dataset("digits", "test", image_size=8)
    assert small[0][0].shape == (1, 8, 8) and small.info.size == (8, 8)


def test_digits_split_fixed_disjoint_complete():
    sets = {s: data.load_dataset("digits", s) for s in data.SPLITS}
    sizes = {s: len(d) for s, d in sets.items()}
    assert sum(sizes.values()) == 1797
    assert sizes == {"train": 1079, "val": 359, "test": 359}  # 60/20/20
    idx = [set(d.indices.tolist()) for d in sets.values()]
    assert not (idx[0] & idx[1]) and not (idx[0] & idx[2]) and not (idx[1] & idx[2])
    assert set.union(*idx) == set(range(1797))
    _, labels = digit_images()
    totals = np.bincount(labels)
    for split, share in (("train", 0.6), ("val", 0.2), ("test", 0.2)):
        d = sets[split]  # stratified: every class gets its share, up to rounding
        counts = np.bincount(d.targets, minlength=10)
        assert np.abs(counts - share * totals).max() <= 1
        assert d.targets == labels[d.indices].tolist()
    # the split does not move with the experiment seed
    assert np.array_equal(data.load_dataset("digits", "val", seed=5).indices, sets["val"].indices)


def test_digits_deterministic():
    a, b = data.load_dataset("digits", "val"), data.load_dataset("digits", "val")
    assert np.array_equal(a.indices, b.indices)
    assert all(torch.equal(a[i][0], b[i][0]) for i in range(0, len(a), 37))


def test_limit_stratified_and_deterministic():
    a = data.load_dataset("digits", "train", limit=50, seed=1)
    assert len(a) == 50
    assert set(Counter(a.targets).values()) == {5}
    b = data.load_dataset("digits", "train", limit=50, seed=1)
    assert np.array_equal(a.indices, b.indices)
    c = data.load_dataset("digits", "train", limit=50, seed=2)
    assert not np.array_equal(a.indices, c.indices)
    full = data.load_dataset("digits", "train")
    assert set(a.indices.tolist()) <= set(full.indices.tolist())
    odd = data.load_dataset("digits", "train", limit=23)
    assert max(Counter(odd.targets).values()) - min(Counter(odd.targets).values()) <= 1
    assert len(data.load_dataset("digits", "val", limit=10_000)) == 359


def test_make_loaders_seeded_shuffle():
    def first(seed):
        loaders = data.make_loaders(
            "digits",
            batch_size=16,
            seed=seed,
            limit={"train": 100, "val": 40},
            splits=("train", "val"),
        )
        return loaders, next(iter(loaders["train"]))

    l1, (x1, y1) = first(0)
    _, (x2, y2) = first(0)
    _, (x3, y3) = first(1)
    assert set(l1) == {"train", "val"}
    assert x1.shape == (16, 1, 16, 16) and y1.dtype == torch.int64
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)
    assert len(l1["train"].dataset) == 100 and len(l1["val"].dataset) == 40
    # val is not shuffled: the batches follow the dataset order
    xv, yv = next(iter(l1["val"]))
    assert yv.tolist() == l1["val"].dataset.targets[:16]
    # an int limit applies to every split
    loaders = data.make_loaders("digits", batch_size=8, limit=20)
    assert [len(loaders[s].dataset) for s in data.SPLITS] == [20, 20, 20]


def test_data_root_env(monkeypatch, tmp_path):
    from snnlib.paths import REPO_ROOT

    if "SNNLIB_DATA" not in os.environ:
        assert data.DATA_ROOT == REPO_ROOT / "data" / "datasets"
        assert REPO_ROOT == Path(data.__file__).resolve().parents[2]
    monkeypatch.setenv("SNNLIB_DATA", str(tmp_path))
    assert data.data_root() == tmp_path
    assert data.data_root("/x/y") == Path("/x/y")


# ------------------------------------------------------------------------ digits-dvs


@pytest.fixture(scope="module")
def dvs_train():
    return data.load_dataset("digits-dvs", "train")


def _check_events(ev, size=16, duration=300_000):
    assert ev.dtype == EVENT_DTYPE == tonic.io.events_struct
    assert ev.dtype.names == ("x", "y", "t", "p")
    assert ((ev["x"] >= 0) & (ev["x"] < size)).all() and ((ev["y"] >= 0) & (ev["y"] < size)).all()
    assert np.isin(ev["p"].astype(int), [0, 1]).all()
    assert (ev["t"] >= 0).all() and (ev["t"] < duration).all()
    assert (np.diff(ev["t"]) >= 0).all()


def test_simulate_dvs_events_well_formed_and_seeded():
    images, _ = digit_images()
    ev = simulate_dvs(images[3], seed=0, index=3)
    _check_events(ev)
    assert 1000 < len(ev) < 5000
    assert 0.3 < ev["p"].mean() < 0.7  # ON and OFF both present
    assert np.array_equal(ev, simulate_dvs(images[3], seed=0, index=3))
    other = simulate_dvs(images[3], seed=1, index=3)
    assert not np.array_equal(ev, other)
    # the noiseless part is the same for every seed: only jitter/noise differ
    quiet = dict(noise_rate=0.0, jitter_us=0.0)
    assert np.array_equal(
        simulate_dvs(images[3], seed=0, **quiet), simulate_dvs(images[3], seed=9, **quiet)
    )
    # a sample's events do not depend on the batch it is simulated in
    batch, offsets = simulate_dvs_batch(images[:5], seed=0, indices=[10, 11, 12, 3, 14])
    assert np.array_equal(batch[offsets[3] : offsets[4]], ev)


def test_simulate_dvs_blank_image_and_threshold():
    images, _ = digit_images()
    blank = simulate_dvs(np.zeros((8, 8)), seed=0)
    digit = simulate_dvs(images[0], seed=0)
    assert len(blank) < 0.02 * len(digit)  # only shot noise
    _check_events(blank)
    assert len(simulate_dvs(np.zeros((8, 8)), seed=0, noise_rate=0.0)) == 0
    assert len(simulate_dvs(np.ones((8, 8)) * 0.5, seed=0, noise_rate=0.0)) > 0  # square edges
    counts = [
        len(simulate_dvs(images[0], seed=0, contrast_threshold=c, noise_rate=0.0))
        for c in (0.15, 0.2, 0.3)
    ]
    assert counts[0] > counts[1] > counts[2]


def test_simulated_events_lie_on_the_digit():
    images, _ = digit_images()
    ev = simulate_dvs(images[0], seed=0, noise_rate=0.0)
    # ink of the digit as placed on the 16x16 canvas (12x12 at offset 2), grown by the
    # saccade amplitude (2 px) plus one pixel of bilinear blur
    ink = _place(images[:1], DVSConfig())[0] > 0.02
    grown = ink.copy()
    for dy in range(-3, 4):
        for dx in range(-3, 4):
            grown |= np.roll(np.roll(ink, dy, 0), dx, 1)
    assert grown[ev["y"], ev["x"]].all()
    assert len(set(zip(ev["x"].tolist(), ev["y"].tolist()))) > 40  # edges, not a few pixels


def test_digits_dvs_frames(dvs_train):
    ds = dvs_train
    assert ds.info == data.DatasetInfo("digits-dvs", "events", 10, 2, (16, 16))
    assert len(ds) == 1079 and np.array_equal(ds.indices, fixed_splits()["train"])
    x, y = ds[0]
    assert x.shape == (4, 2, 16, 16) and x.dtype == torch.float32 and isinstance(y, int)
    for i in (0, 7, 500):
        ev = ds.events(i)
        _check_events(ev)
        frames = ds[i][0]
        assert frames.sum().item() == len(ev)  # every event lands in exactly one frame
        assert frames[:, 1].sum().item() == ev["p"].sum()  # channel 1 = ON
        w = -(-300_000 // 4)
        per_bin = np.bincount(ev["t"] // w, minlength=4)
        assert frames.sum(dim=(1, 2, 3)).tolist() == per_bin.tolist()
        images, _ = digit_images()
        assert np.array_equal(
            ev, simulate_dvs(images[ds.indices[i]], seed=0, index=int(ds.indices[i]))
        )
    eight = data.load_dataset("digits-dvs", "test", time_steps=8, limit=10)
    assert eight[0][0].shape == (8, 2, 16, 16)
    assert eight[0][0].sum().item() == len(eight.events(0))


def test_digits_dvs_event_counts_in_range(dvs_train):
    counts = np.diff(dvs_train._offsets)
    # reported: about 1.8k-3.2k events per sample (median ~2.5k) with the defaults
    print(
        f"digits-dvs events/sample: min {counts.min()} median {np.median(counts):.0f} "
        f"max {counts.max()}"
    )
    assert counts.min() > 1000 and counts.max() < 6000
    assert 2000 < np.median(counts) < 3500


def test_digits_dvs_is_learnable(dvs_train):
    """The events carry the digit: even a linear read-out of the frames beats 85%."""
    from sklearn.linear_model import RidgeClassifier

    test = data.load_dataset("digits-dvs", "test")
    X = torch.stack([dvs_train[i][0] for i in range(len(dvs_train))]).flatten(1).numpy()
    Xt = torch.stack([test[i][0] for i in range(len(test))]).flatten(1).numpy()
    clf = RidgeClassifier(alpha=10.0).fit(X, dvs_train.targets)
    assert clf.score(Xt, test.targets) > 0.85


def test_digits_dvs_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(digits_dvs, "_MEMORY", {})
    a = data.load_dataset("digits-dvs", "val", root=tmp_path, cache=True, noise_rate=0.1)
    files = list((tmp_path / "digits-dvs").glob("*.npz"))
    assert len(files) == 1 and "noise_rate0.1" in files[0].name and "seed0" in files[0].name
    monkeypatch.setattr(digits_dvs, "_MEMORY", {})
    monkeypatch.setattr(
        digits_dvs, "simulate_dvs_batch", lambda *a, **k: pytest.fail("should read the cache")
    )
    b = data.load_dataset("digits-dvs", "val", root=tmp_path, cache=True, noise_rate=0.1)
    assert np.array_equal(a.events(3), b.events(3))


# ----------------------------------------------------------------------- error paths


def test_unknown_name_split_option():
    with pytest.raises(ConfigError, match="dataset='mnist'.*digits-dvs.*dvs-gesture"):
        data.load_dataset("mnist", "train")
    with pytest.raises(ConfigError, match="split='dev'.*train.*val.*test"):
        data.load_dataset("digits", "dev")
    with pytest.raises(ConfigError, match="augment"):
        data.load_dataset("digits", "train", augment=True)
    with pytest.raises(ConfigError, match="dataset"):
        data.dataset_info("nope")
    with pytest.raises(ConfigError, match="limit"):
        data.make_loaders("digits", batch_size=4, limit={"dev": 3})


@pytest.mark.parametrize(
    "name, folder, url",
    [
        # cifar10 without torchvision's files reads the embedded copy (test_cifar_embedded.py)
        (
            "cifar100",
            "cifar-100-python",
            "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        ),
        ("cifar10-dvs", "CIFAR10DVS", tonic.datasets.CIFAR10DVS.url),
        ("dvs-gesture", "DVSGesture/ibmGestureTrain", tonic.datasets.DVSGesture.train_url),
    ],
)
def test_missing_dataset_message(tmp_path, name, folder, url):
    with pytest.raises(data.DatasetNotFound) as err:
        data.load_dataset(name, "train", root=tmp_path, download=False)
    message = str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    assert f"'{name}'" in message and str(tmp_path / folder) in message
    assert "download=True" in message and url in message
    assert err.value.path == tmp_path / folder


def _offline(*args, **kwargs):
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def test_download_without_network_gives_the_same_error(tmp_path, monkeypatch):
    import torchvision.datasets.cifar

    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", _offline)
    monkeypatch.setattr(tonic.dataset, "download_and_extract_archive", _offline)
    for name in ("cifar10", "cifar100", "cifar10-dvs", "dvs-gesture"):
        with pytest.raises(data.DatasetNotFound, match="download") as err:
            data.load_dataset(name, "test", root=tmp_path, download=True)
        assert isinstance(err.value.__cause__, urllib.error.URLError)
        assert "name resolution" in str(err.value) and str(tmp_path) in str(err.value)


# ------------------------------------------------------- fake files, real formats


def _pickle(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def _images(rng, n):
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8)


@pytest.fixture
def cifar_md5_off(monkeypatch):
    """torchvision checks the md5 of the real files; the fakes only need to exist."""
    import torchvision.datasets.cifar

    monkeypatch.setattr(
        torchvision.datasets.cifar, "check_integrity", lambda fpath, md5=None: os.path.isfile(fpath)
    )


def _write_cifar10(root: Path):
    rng = np.random.default_rng(0)
    folder = root / "cifar-10-batches-py"
    labels = []
    for b in range(1, 6):  # 5 batches x 6 images = 30 train images, 3 per class
        y = [(6 * (b - 1) + i) % 10 for i in range(6)]
        x = _images(rng, 6)
        if b == 1:
            x[0] = 255  # a white image: known normalised value
        labels += y
        _pickle(folder / f"data_batch_{b}", {"data": x, "labels": y})
    _pickle(folder / "test_batch", {"data": _images(rng, 10), "labels": list(range(10))})
    _pickle(folder / "batches.meta", {"label_names": [f"c{i}" for i in range(10)]})
    return labels


def test_fake_cifar10(tmp_path, cifar_md5_off):
    labels = _write_cifar10(tmp_path)
    sets = {s: data.load_dataset("cifar10", s, root=tmp_path) for s in data.SPLITS}
    assert {s: len(d) for s, d in sets.items()} == {"train": 20, "val": 10, "test": 10}
    assert not set(sets["train"].indices) & set(sets["val"].indices)
    assert sorted([*sets["train"].indices, *sets["val"].indices]) == list(range(30))
    for s in ("train", "val"):
        assert sets[s].targets == [labels[i] for i in sets[s].indices]
        assert list(sets[s].indices) == sorted(sets[s].indices)
    assert sorted(Counter(sets["val"].targets).values()) == [1] * 10
    assert sets["test"].targets == list(range(10))
    x, y = sets["train"][0]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32 and isinstance(y, int)
    assert sets["train"].info == data.DatasetInfo("cifar10", "static", 10, 3, (32, 32))
    white = (1 - torch.tensor([0.4914, 0.4822, 0.4465])) / torch.tensor([0.2470, 0.2435, 0.2616])
    assert 0 in sets["train"].indices
    assert torch.allclose(sets["train"][0][0].mean(dim=(1, 2)), white, atol=1e-5)
    again = data.load_dataset("cifar10", "train", root=tmp_path)
    assert np.array_equal(again.indices, sets["train"].indices)
    assert torch.equal(again[3][0], sets["train"][3][0])
    assert data.load_dataset("cifar10", "test", root=tmp_path, image_size=16)[0][0].shape == (
        3,
        16,
        16,
    )


def test_fake_cifar10_augment(tmp_path, cifar_md5_off):
    _write_cifar10(tmp_path)
    plain = data.load_dataset("cifar10", "train", root=tmp_path)
    aug = data.load_dataset("cifar10", "train", root=tmp_path, augment=True)
    val = data.load_dataset("cifar10", "val", root=tmp_path, augment=True)
    torch.manual_seed(0)
    outs = [aug[1][0] for _ in range(10)]
    assert all(o.shape == (3, 32, 32) for o in outs)
    assert any(not torch.equal(o, plain[1][0]) for o in outs)
    assert torch.equal(val[0][0], data.load_dataset("cifar10", "val", root=tmp_path)[0][0])
    torch.manual_seed(0)
    assert all(torch.equal(o, aug[1][0]) for o in outs[:1])  # torch's global RNG


def test_fake_cifar100(tmp_path, cifar_md5_off):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-100-python"
    train_y = [i % 20 for i in range(40)]  # 20 classes x 2
    _pickle(
        folder / "train",
        {"data": _images(rng, 40), "fine_labels": train_y, "coarse_labels": [0] * 40},
    )
    _pickle(
        folder / "test",
        {"data": _images(rng, 20), "fine_labels": list(range(20)), "coarse_labels": [0] * 20},
    )
    _pickle(folder / "meta", {"fine_label_names": [f"f{i}" for i in range(100)]})
    train = data.load_dataset("cifar100", "train", root=tmp_path)
    val = data.load_dataset("cifar100", "val", root=tmp_path)
    test = data.load_dataset("cifar100", "test", root=tmp_path)
    assert (len(train), len(val), len(test)) == (20, 20, 20)
    assert train.info.num_classes == 100 and train[0][0].shape == (3, 32, 32)
    assert val.targets == [train_y[i] for i in val.indices]
    assert sorted(val.targets) == list(range(20))


def _write_gesture(root: Path) -> dict:
    """tonic 1.7's DVSGesture layout: ibmGesture{Train,Test}/userNN_<light>/<label>.npy,
    rows (x, y, p, t[ms])."""
    rng = np.random.default_rng(2)
    written = {}
    for sub, users in (
        ("ibmGestureTrain", ["user02_led", "user01_fluorescent"]),
        ("ibmGestureTest", ["user24_natural"]),
    ):
        for user in users:
            folder = root / "DVSGesture" / sub / user
            folder.mkdir(parents=True)
            for label in (7, 3, 10, 0, 1, 2, 4, 5, 6, 8, 9):  # unsorted on purpose
                n = int(rng.integers(200, 400))
                ev = np.stack(
                    [
                        rng.integers(0, 128, n),
                        rng.integers(0, 128, n),
                        rng.integers(0, 2, n),
                        np.sort(rng.integers(0, 6000, n)),
                    ],
                    1,
                )
                np.save(folder / f"{label}.npy", ev.astype(np.int64))
                written[str(folder / f"{label}.npy")] = n
    return written


def test_fake_dvs_gesture(tmp_path):
    written = _write_gesture(tmp_path)
    train = data.load_dataset("dvs-gesture", "train", root=tmp_path, time_steps=5)
    val = data.load_dataset("dvs-gesture", "val", root=tmp_path, time_steps=5)
    test = data.load_dataset("dvs-gesture", "test", root=tmp_path, time_steps=5)
    assert (len(train), len(val), len(test)) == (11, 11, 11)
    assert sorted(val.targets) == list(range(11)) and sorted(test.targets) == list(range(11))
    assert not set(train.indices) & set(val.indices)
    files = train.source.data
    assert files == sorted(files) and len(files) == 22
    assert all(int(Path(f).stem) == t for f, t in zip(files, train.source.targets))
    x, y = train[0]
    assert x.shape == (5, 2, 48, 48) and x.dtype == torch.float32 and isinstance(y, int)
    assert train.info == data.DatasetInfo("dvs-gesture", "events", 11, 2, (48, 48))
    ev = train.events(0)
    assert ev.dtype == tonic.datasets.DVSGesture.dtype
    assert len(ev) == written[files[train.indices[0]]]
    assert (ev["t"] % 1000 == 0).all()  # ms -> us
    # n_time_bins drops at most the events of the last, incomplete bin; resizing keeps counts
    assert len(ev) - 5 <= x.sum().item() <= len(ev)
    again = data.load_dataset("dvs-gesture", "train", root=tmp_path, time_steps=5)
    assert torch.equal(again[0][0], x) and again.targets == train.targets
    full = data.load_dataset("dvs-gesture", "test", root=tmp_path, image_size=128)
    assert full[0][0].shape == (4, 2, 128, 128)


@pytest.fixture
def fake_aedat4(monkeypatch):
    """Real .aedat4 files cannot be written without an AEDAT4 encoder: keep the real folder
    layout but replace tonic's reader with one that returns a synthetic structured array
    (fields t, x, y, on, as aedat's decoder gives), deterministic per file name."""
    calls = []

    def read_aedat4(path):
        calls.append(path)
        rng = np.random.default_rng(zlib.crc32(Path(path).name.encode()))
        n = int(rng.integers(500, 900))
        ev = np.zeros(n, dtype=[("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("on", "?")])
        ev["t"] = np.sort(rng.integers(0, 1_000_000, n))
        ev["x"], ev["y"] = rng.integers(0, 128, n), rng.integers(0, 128, n)
        ev["on"] = rng.integers(0, 2, n).astype(bool)
        return ev

    monkeypatch.setattr(tonic.datasets.cifar10dvs, "read_aedat4", read_aedat4)
    return calls


def test_fake_cifar10_dvs(tmp_path, fake_aedat4):
    classes = list(tonic.datasets.CIFAR10DVS.classes)
    for c in reversed(classes):
        (tmp_path / "CIFAR10DVS" / c).mkdir(parents=True)
        for i in (2, 0, 1):
            (tmp_path / "CIFAR10DVS" / c / f"cifar10_{c}_{i}.aedat4").write_bytes(
                b"#!AER-DAT4.0\r\n"
            )
    sets = {
        s: data.load_dataset("cifar10-dvs", s, root=tmp_path, time_steps=3, image_size=32)
        for s in data.SPLITS
    }
    assert {s: len(d) for s, d in sets.items()} == {"train": 10, "val": 10, "test": 10}
    idx = [set(d.indices.tolist()) for d in sets.values()]
    assert set.union(*idx) == set(range(30)) and sum(map(len, idx)) == 30
    for d in sets.values():
        assert sorted(d.targets) == list(range(10))
    files = sets["train"].source.data
    assert files == sorted(files)
    assert [classes[t] for t in sets["train"].source.targets] == [
        Path(f).parent.name for f in files
    ]
    x, y = sets["test"][0]
    assert x.shape == (3, 2, 32, 32) and x.dtype == torch.float32 and isinstance(y, int)
    assert sets["test"].info == data.DatasetInfo("cifar10-dvs", "events", 10, 2, (32, 32))
    assert fake_aedat4[-1] == files[sets["test"].indices[0]]
    ev = sets["test"].events(0)
    assert ev.dtype.names == ("t", "x", "y", "p")
    assert len(ev) - 3 <= x.sum().item() <= len(ev)
    again = data.load_dataset("cifar10-dvs", "test", root=tmp_path, time_steps=3, image_size=32)
    assert torch.equal(again[0][0], x)


def test_resize_counts_keeps_total():
    frames = torch.rand(2, 2, 128, 128) * 4
    out = resize_counts(frames, (48, 48))
    assert out.shape == (2, 2, 48, 48)
    assert torch.allclose(out.sum(), frames.sum(), rtol=1e-5)
    assert torch.allclose(
        resize_counts(torch.ones(1, 1, 128, 128), (64, 64)), torch.full((1, 1, 64, 64), 4.0)
    )
