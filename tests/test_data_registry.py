"""The data-set registry: a user's tensors, events or loader become a data set name that
load_dataset / make_loaders / dataset_info (and so every notebook's ``dataset``) accept."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

import snnlib.data as data
from snnlib.data.dvs_sim import EVENT_DTYPE
from snnlib.encoding import Encoder, default_encoding
from snnlib.validation import ConfigError

pytestmark = pytest.mark.usefixtures("clean_data_registry")


def _tiny(n_per_class=10, classes=3, size=6, channels=1):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n_per_class * classes) % classes
    x = torch.rand(len(y), channels, size, size, generator=g) + y.view(-1, 1, 1, 1)
    return x, y


def test_from_tensors_registers_a_name_every_loader_accepts():
    x, y = _tiny()
    data.from_tensors(x, y, name="tiny", val_fraction=0.2, test_fraction=0.2)
    assert "tiny" in data.dataset_names()
    info = data.dataset_info("tiny")
    assert info == data.DatasetInfo("tiny", "static", 3, 1, (6, 6))
    sets = {s: data.load_dataset("tiny", s) for s in data.SPLITS}
    assert {s: len(d) for s, d in sets.items()} == {"train": 18, "val": 6, "test": 6}
    idx = [set(d.indices.tolist()) for d in sets.values()]
    assert set.union(*idx) == set(range(30)) and sum(map(len, idx)) == 30  # disjoint, complete
    for d in sets.values():  # stratified, items and labels are the given ones
        assert np.bincount(d.targets).tolist() == [len(d) // 3] * 3
        i = int(d.indices[0])
        item, label = d[0]
        assert torch.equal(item, x[i]) and label == int(y[i])
    # the split is fixed; seed only picks what `limit` keeps and the train order
    again = data.load_dataset("tiny", "val", seed=7)
    assert np.array_equal(again.indices, sets["val"].indices)
    assert len(data.load_dataset("tiny", "train", limit=6).targets) == 6
    loaders = data.make_loaders("tiny", batch_size=4, limit={"train": 9}, seed=1)
    xb, yb = next(iter(loaders["train"]))
    assert xb.shape == (4, 1, 6, 6) and yb.dtype == torch.int64
    assert sum(len(b[1]) for b in loaders["train"]) == 9
    encoder = Encoder(default_encoding(info.kind), 2)  # what a notebook does with the name
    assert encoder(xb).shape == (2, 4, 1, 6, 6)
    big = data.load_dataset("tiny", "test", image_size=12)
    assert big[0][0].shape == (1, 12, 12) and big.info.size == (12, 12)
    assert data.dataset_info("tiny", image_size=12).size == (12, 12)


def test_from_tensors_test_set_normalisation_and_three_dim_images():
    x, y = _tiny()
    xt, yt = _tiny(n_per_class=2)
    data.from_tensors(x[:, 0], y, name="t3", test=(xt[:, 0], yt), normalize=True)
    test = data.load_dataset("t3", "test")
    assert len(test) == 6 and test.targets == yt.tolist()
    train = data.load_dataset("t3", "train")
    items = torch.stack([train[i][0] for i in range(len(train))])
    assert items.shape[1:] == (1, 6, 6)
    assert abs(items.mean().item()) < 1e-5 and abs(items.std().item() - 1) < 1e-5


def test_from_tensors_event_frames_keep_their_time_steps():
    frames = torch.randint(0, 3, (12, 5, 2, 4, 4)).float()
    data.from_tensors(frames, torch.arange(12) % 2, name="frames", kind="events")
    assert data.dataset_info("frames").kind == "events"
    assert data.load_dataset("frames", "train", time_steps=5)[0][0].shape == (5, 2, 4, 4)
    with pytest.raises(ConfigError, match="time_steps=4 does not match the T=5"):
        data.load_dataset("frames", "train", time_steps=4)


def test_errors_name_the_field_and_what_is_allowed():
    x, y = _tiny()
    with pytest.raises(ConfigError, match="kind='video'.*static.*events"):
        data.from_tensors(x, y, name="bad", kind="video")
    with pytest.raises(ConfigError, match=r"x has shape \(30, 36\).*\[N, C, H, W\]"):
        data.from_tensors(x.flatten(1), y, name="bad")
    with pytest.raises(ConfigError, match="y must be 30 integer class labels"):
        data.from_tensors(x, y.float(), name="bad")
    with pytest.raises(ConfigError, match="val_fraction"):
        data.from_tensors(x, y, name="bad", val_fraction=1.5)
    with pytest.raises(ConfigError, match="built-in"):
        data.from_tensors(x, y, name="digits")
    data.from_tensors(x, y, name="once")
    data.from_tensors(x, y, name="once")  # the same data again (a re-run cell): fine
    with pytest.raises(ConfigError, match="already registered .*other data.*overwrite=True"):
        data.from_tensors(x[:12], y[:12], name="once")
    data.from_tensors(x[:12], y[:12], name="once", replace=True)
    assert sum(len(data.load_dataset("once", s)) for s in data.SPLITS) == 12
    with pytest.raises(ConfigError, match="option.*augment.*image_size"):
        data.load_dataset("once", "train", augment=True)
    with pytest.raises(ConfigError, match="dataset='mnist'.*register_dataset"):
        data.load_dataset("mnist", "train")


def test_register_dataset_takes_a_factory_or_a_loader_module():
    x, y = _tiny()

    def factory(split, time_steps):
        part = {"train": slice(0, 20), "val": slice(20, 25), "test": slice(25, 30)}[split]
        assert time_steps == 3  # the loader's arguments that the factory names
        return TensorDataset(x[part], y[part])

    info = data.DatasetInfo("fac", "static", 3, 1, (6, 6))
    with pytest.raises(ConfigError, match="needs info=DatasetInfo"):
        data.register_dataset("fac", factory)
    assert data.register_dataset("fac", factory, info=info) == "fac"
    val = data.load_dataset("fac", "val", time_steps=3)
    assert len(val) == 5 and val.targets == y[20:25].tolist() and torch.equal(val[1][0], x[21])
    assert data.dataset_info("fac") == info
    assert len(data.make_loaders("fac", batch_size=8, time_steps=3)["train"].dataset) == 20

    source = data.from_tensors(x, y, name="first")
    data.register_dataset("second", source)  # a source is a loader module
    assert np.array_equal(
        data.load_dataset("second", "test").indices, data.load_dataset("first", "test").indices
    )
    data.unregister_dataset("second")
    with pytest.raises(ConfigError, match="not allowed"):
        data.dataset_info("second")
    with pytest.raises(ConfigError, match="loader module"):
        data.register_dataset("nothing", 42)


def _events(n: int, sensor=(5, 4, 2)):
    """n recordings; recording i has i + 1 events at known places and times 0..99."""
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        ev = np.zeros(i + 1, EVENT_DTYPE)
        ev["x"] = rng.integers(0, sensor[0], i + 1)
        ev["y"] = rng.integers(0, sensor[1], i + 1)
        ev["t"] = np.sort(rng.integers(0, 100, i + 1))
        ev["p"] = rng.integers(0, 2, i + 1)
        out.append(ev)
    return out


def test_from_events_frames_synthetic_tonic_events():
    events = _events(12)
    labels = np.arange(12) % 2
    data.from_events(events, labels, (5, 4, 2), name="ev", duration=100, test_fraction=0.25)
    info = data.dataset_info("ev")
    assert info == data.DatasetInfo("ev", "events", 2, 2, (4, 5))
    for T in (1, 4):
        ds = data.load_dataset("ev", "train", time_steps=T)
        for i in range(len(ds)):
            x, y = ds[i]
            raw = ds.events(i)
            assert x.shape == (T, 2, 4, 5) and y == labels[int(ds.indices[i])]
            assert x.sum() == len(raw)  # every event lands in exactly one frame
            e = raw[-1]  # the last event sits in its time bin, pixel and polarity
            assert x[int(e["t"]) * T // 100, int(e["p"]), int(e["y"]), int(e["x"])] >= 1
    small = data.load_dataset("ev", "test", time_steps=2, image_size=2)
    x, _ = small[0]
    assert x.shape == (2, 2, 2, 2) and x.sum().item() == pytest.approx(len(small.events(0)))
    batch = next(iter(data.make_loaders("ev", batch_size=3, time_steps=2)["train"]))[0]
    assert Encoder("events", 2)(batch).shape == (2, 3, 2, 4, 5)  # time-major for a network
    # without a duration, T bins span each recording (tonic's n_time_bins, as CIFAR10-DVS)
    data.from_events(events, labels, (5, 4, 2), name="span")
    span = data.load_dataset("span", "train", time_steps=3)
    x = span[len(span) - 1][0]
    assert x.shape == (3, 2, 4, 5) and (x.sum((1, 2, 3)) > 0).all()
    assert len(span.events(len(span) - 1)) - 1 <= x.sum() <= len(span.events(len(span) - 1))
    with pytest.raises(ConfigError, match="sensor_size"):
        data.from_events(events, labels, (5, 4), name="bad")
    with pytest.raises(ConfigError, match="events must be tonic structured arrays"):
        data.from_events([np.zeros(3)], [0], (5, 4, 2), name="bad")


def test_saved_data_sets_are_found_by_name_from_another_process(tmp_path, monkeypatch):
    monkeypatch.setenv("SNNLIB_DATA", str(tmp_path))
    x, y = _tiny()
    data.from_tensors(x, y, name="kept", save=True)
    data.from_events(_events(8), np.arange(8) % 2, (5, 4, 2), name="kept-ev", save=True)
    assert (tmp_path / "user" / "kept.npz").is_file()
    want = data.load_dataset("kept", "val")
    want_ev = data.load_dataset("kept-ev", "train", time_steps=3)
    data.unregister_dataset("kept")  # as in a fresh kernel: only the files are left
    data.unregister_dataset("kept-ev")
    assert {"kept", "kept-ev"} <= set(data.dataset_names())
    got = data.load_dataset("kept", "val")
    assert np.array_equal(got.indices, want.indices) and torch.equal(got[0][0], want[0][0])
    got_ev = data.load_dataset("kept-ev", "train", time_steps=3)
    assert np.array_equal(got_ev.events(1), want_ev.events(1))
    assert torch.equal(got_ev[1][0], want_ev[1][0])
