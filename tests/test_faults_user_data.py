"""Fault injection on a user's own data (issue 25): ``from_events`` / ``from_tensors`` refuse
what they cannot represent, names are never overwritten silently, saved sets are compact and
checked on load, and ``SNNLIB_DATASETS`` brings a user's ``register_dataset`` to every process.

Every refusal asserts the exception class, that the message names the field or the file, and
that no file saved earlier (under the data root) changed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import snnlib.data as data
from snnlib.data import framing
from snnlib.data.registry import _REGISTRY
from snnlib.validation import ConfigError

REPO = Path(__file__).resolve().parent.parent
DTYPE = np.dtype([("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")])
FDTYPE = np.dtype([("x", "<f8"), ("y", "<f8"), ("t", "<f8"), ("p", "<f8")])
SENSOR = (5, 4, 2)  # tonic's (W, H, P)


pytestmark = pytest.mark.usefixtures("clean_data_registry")


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


SNAPSHOTS: dict[Path, dict] = {}  # the data root's files right after the fixture


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A data root holding one data set saved earlier ("earlier"), with its snapshot."""
    monkeypatch.setenv("SNNLIB_DATA", str(tmp_path))
    monkeypatch.delenv("SNNLIB_DATASETS", raising=False)
    x, y = _tiny()
    data.from_tensors(x, y, name="earlier", save=True)
    data.unregister_dataset("earlier")
    SNAPSHOTS[tmp_path] = _snapshot(tmp_path)
    return tmp_path


def _unchanged(root: Path) -> None:
    assert _snapshot(root) == SNAPSHOTS[root], "a file saved earlier changed"


def _tiny(n=24, classes=3, size=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    return torch.rand(n, 1, size, size, generator=g), y


def _events(n=8, dtype=DTYPE, length=6):
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        ev = np.zeros(length, dtype)
        ev["x"] = rng.integers(0, SENSOR[0], length)
        ev["y"] = rng.integers(0, SENSOR[1], length)
        ev["t"] = np.sort(rng.integers(0, 100, length))
        ev["p"] = rng.integers(0, 2, length)
        out.append(ev)
    return out


# -- from_events: timestamps, coordinates, polarity ----------------------------------------
def _set(field, value, where=-1):
    def change(events):
        events[2] = events[2].astype(FDTYPE) if isinstance(value, float) else events[2]
        events[2][field][where] = value
        return events

    return change


BAD_EVENTS = {
    "t NaN": (_set("t", float("nan")), "t", {}),
    "t inf": (_set("t", float("inf")), "t", {}),
    "t negative": (_set("t", -5, 0), "t", {}),
    "t after duration": (_set("t", 100), "t", {"duration": 100}),
    "t far after duration": (_set("t", 10_000), "t", {"duration": 100}),
    "x at W": (_set("x", SENSOR[0]), "x", {}),
    "x negative": (_set("x", -1), "x", {}),
    "y at H": (_set("y", SENSOR[1]), "y", {}),
    "y negative": (_set("y", -2), "y", {}),
    "x fractional": (_set("x", 1.5), "x", {}),
    "x NaN": (_set("x", float("nan")), "x", {}),
    "p = 2": (_set("p", 2), "p", {}),
    "p = -1 (OFF as -1)": (_set("p", -1), "p", {}),
}


@pytest.mark.parametrize("case", list(BAD_EVENTS), ids=list(BAD_EVENTS))
def test_from_events_refuses_events_it_cannot_frame(root, case):
    change, field, kwargs = BAD_EVENTS[case]
    events = change(_events())
    with pytest.raises(ConfigError) as err:
        data.from_events(events, np.arange(8) % 2, SENSOR, name="bad-ev", save=True, **kwargs)
    message = str(err.value)
    assert f"field {field!r}" in message and "recording 2" in message, message
    assert "bad-ev" not in data.dataset_names()
    _unchanged(root)


def test_from_events_names_the_test_recording(root):
    bad = _events(2)
    bad[1]["x"][0] = 99
    with pytest.raises(ConfigError, match=r"test events.*recording 1.*field 'x'"):
        data.from_events(_events(), np.arange(8) % 2, SENSOR, name="t", test=(bad, [0, 1]))
    _unchanged(root)


@pytest.mark.parametrize(
    "sensor, field",
    [((0, 4, 2), "sensor_size"), ((5, 4, 3), "sensor_size"), ((5.5, 4, 2), "sensor_size")],
)
def test_from_events_refuses_a_bad_sensor_size(root, sensor, field):
    with pytest.raises(ConfigError, match=field):
        data.from_events(_events(), np.arange(8) % 2, sensor, name="bad-sensor")
    _unchanged(root)


def test_from_events_with_one_polarity_refuses_p_1(root):
    with pytest.raises(ConfigError, match=r"recording 0: field 'p'"):
        data.from_events(_events(), np.arange(8) % 2, (5, 4, 1), name="one-p")
    _unchanged(root)


def test_from_events_sorts_unsorted_events_and_says_so(root):
    events = _events()
    events[3] = events[3][::-1].copy()  # time reversed: tonic's span frames would be empty
    events[5] = events[5][[1, 0, 2, 3, 4, 5]].copy()
    n = len(events[3]) + len(events[5])
    with pytest.warns(UserWarning, match=rf"sorted {n} events of 2 recordings \[3, 5\] by time"):
        data.from_events(events, np.arange(8) % 2, SENSOR, name="unsorted", test_fraction=0.25)
    for split in data.SPLITS:
        ds = data.load_dataset("unsorted", split, time_steps=3)
        for i in range(len(ds)):  # every event is framed (not 0 of them)
            assert ds[i][0].sum().item() >= len(ds.events(i)) - 1
            assert np.all(np.diff(ds.events(i)["t"]) >= 0)
    _unchanged(root)


def test_from_events_with_sorted_events_is_silent(root):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data.from_events(_events(), np.arange(8) % 2, SENSOR, name="quiet", duration=100)


# -- image_size: where event data are framed ----------------------------------------------
@pytest.mark.parametrize("size", [0, -1, 2.5, True, "3", 6])
def test_from_events_refuses_an_image_size(root, size):
    with pytest.raises(ConfigError, match="image_size"):
        data.from_events(_events(), np.arange(8) % 2, SENSOR, name="sized", image_size=size)
    assert "sized" not in data.dataset_names()
    _unchanged(root)


@pytest.mark.parametrize("size", [1, 2, 4, np.int64(5)])
def test_from_events_frames_at_its_image_size(root, size):
    events = _events()
    data.from_events(events, np.arange(8) % 2, SENSOR, name="sized", image_size=size, save=True)
    assert data.dataset_info("sized").size == (size, size)
    ds = data.load_dataset("sized", "train", time_steps=2)
    assert ds[0][0].shape == (2, 2, size, size)
    n = len(ds.events(0))  # area resampling keeps the count (span bins may drop the last)
    assert n - 1 - 1e-4 <= ds[0][0].sum().item() <= n + 1e-4
    full = data.load_dataset("sized", "train", time_steps=2, image_size=4)
    assert full[0][0].shape == (2, 2, 4, 4)
    data.unregister_dataset("sized")  # from the saved file, as a notebook reads it
    assert data.dataset_info("sized").size == (size, size)


def test_from_events_default_frame_size_is_the_sensor(root):
    data.from_events(_events(), np.arange(8) % 2, SENSOR, name="sensor-size")
    assert data.dataset_info("sensor-size").size == (4, 5)


@pytest.mark.parametrize("size", [0, 9, 2.0, False])
def test_frame_events_refuses_an_image_size(size):
    ev = np.concatenate(_events(2))
    with pytest.raises(ConfigError, match="image_size"):
        framing.frame_events(
            ev, np.array([0, 6, 12]), 2, sensor=8, image_size=size, duration_us=100
        )


def test_frame_events_image_size_is_size():
    ev = np.concatenate(_events(2))
    offsets = np.array([0, 6, 12])
    a = framing.frame_events(ev, offsets, 2, sensor=8, image_size=4, duration_us=100)
    b = framing.frame_events(ev, offsets, 2, sensor=8, size=4, duration_us=100)
    assert a.shape == (2, 2, 2, 4, 4) and torch.equal(a, b) and a.sum().item() == 12
    assert torch.equal(
        framing.frame_events(ev, offsets, 2, sensor=8, duration_us=100),
        framing.frame_events(ev, offsets, 2, sensor=8, image_size=8, duration_us=100),
    )


# -- names and overwriting -----------------------------------------------------------------
BAD_NAMES = ["", "a/b", "../up", "a b", "my__set", ".hidden", "digits", "x" * 65, 3, None]


@pytest.mark.parametrize("name", BAD_NAMES, ids=[repr(n)[:12] for n in BAD_NAMES])
def test_from_tensors_refuses_a_bad_name(root, name):
    x, y = _tiny()
    with pytest.raises(ConfigError, match="name"):
        data.from_tensors(x, y, name=name, save=True)
    _unchanged(root)


def test_saving_other_data_under_a_saved_name_needs_overwrite(root):
    x, y = _tiny(seed=1)
    path = root / "user" / "earlier.npz"
    with pytest.raises(ConfigError) as err:
        data.from_tensors(x, y, name="earlier", save=True)
    assert str(path) in str(err.value) and "overwrite=True" in str(err.value)
    _unchanged(root)
    with pytest.raises(ConfigError, match="overwrite=True"):  # not even in this process
        data.from_tensors(x, y, name="earlier")
    assert "earlier" not in _REGISTRY
    _unchanged(root)


@pytest.mark.parametrize(
    "settings, field",
    [({"normalize": True}, "normalize"), ({"num_classes": 5}, "num_classes")],
)
def test_same_arrays_with_other_settings_need_overwrite(root, settings, field):
    x, y = _tiny()
    with pytest.raises(ConfigError, match=rf"earlier\.npz.*{field}: .*overwrite=True"):
        data.from_tensors(x, y, name="earlier", save=True, **settings)
    _unchanged(root)


def test_saving_the_same_data_again_is_fine(root):
    x, y = _tiny()
    source = data.from_tensors(x, y, name="earlier", save=True)
    source2 = data.from_tensors(x, y, name="earlier", save=True)  # a re-run cell
    assert source.sha256() == source2.sha256()
    _unchanged(root)


def test_overwrite_replaces_a_saved_name(root):
    x, y = _tiny(seed=1)
    new = data.from_tensors(x, y, name="earlier", save=True, overwrite=True)
    data.unregister_dataset("earlier")
    assert data.load_dataset("earlier", "train").source_sha256 == new.sha256()


def test_registering_other_data_in_process_needs_overwrite(root):
    x, y = _tiny()
    data.from_tensors(x, y, name="mem")
    data.from_tensors(x, y, name="mem")  # same data: fine
    with pytest.raises(ConfigError, match="'mem'.*overwrite=True"):
        data.from_tensors(x[:12], y[:12], name="mem")
    data.from_tensors(x[:12], y[:12], name="mem", overwrite=True)
    assert len(data.load_dataset("mem", "train")) < 20
    _unchanged(root)


def test_events_under_a_saved_name_need_overwrite(root):
    with pytest.raises(ConfigError, match=r"earlier\.npz.*overwrite=True"):
        data.from_events(_events(), np.arange(8) % 2, SENSOR, name="earlier", save=True)
    _unchanged(root)


# -- compact storage -------------------------------------------------------------------------
def _mnist_like(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 1, 28, 28)).astype(np.float32)
    x[:, :, :4] = 0  # a border, as MNIST has
    return x, np.arange(n) % 10


@pytest.mark.parametrize(
    "make, stored",
    [
        (lambda x: x, "uint8"),  # integers 0..255
        (lambda x: x / np.float32(255), "uint8"),  # MNIST scaled to [0, 1]
        (lambda x: x - 128, "int8"),  # integers -128..127 in float
        (lambda x: x * np.float32(0.1) + np.float32(1e-3), "float32"),  # no exact smaller dtype
    ],
    ids=["uint8", "uint8/255", "int8", "float32"],
)
def test_saved_images_round_trip_exactly_in_the_smallest_dtype(root, make, stored):
    x, y = _mnist_like()
    x = make(x).astype(np.float32)
    source = data.from_tensors(x, y, name="mine", save=True)
    path = root / "user" / "mine.npz"
    with np.load(path, allow_pickle=False) as z:
        assert z["x"].dtype == np.dtype(stored)
    if stored == "uint8":
        assert path.stat().st_size < x.nbytes / 4
    data.unregister_dataset("mine")
    got = data.load_dataset("mine", "test")
    assert got.source_sha256 == source.sha256()
    assert all(torch.equal(got[i][0], torch.from_numpy(x[got.indices[i]])) for i in range(5))
    _unchanged_but(root, "user/mine.npz")


def _unchanged_but(root: Path, new: str) -> None:
    now = _snapshot(root)
    assert set(now) == {*SNAPSHOTS[root], new}
    assert {k: v for k, v in now.items() if k != new} == SNAPSHOTS[root]


def test_saved_events_are_events_and_smaller_than_frames(root):
    rng = np.random.default_rng(1)
    events = []
    for _ in range(40):  # N-MNIST-like: 34x34, microseconds, 2,000 events each
        ev = np.zeros(2000, DTYPE)
        ev["x"], ev["y"] = rng.integers(0, 34, 2000), rng.integers(0, 34, 2000)
        ev["t"], ev["p"] = np.sort(rng.integers(0, 300_000, 2000)), rng.integers(0, 2, 2000)
        events.append(ev)
    source = data.from_events(events, np.arange(40) % 4, (34, 34, 2), name="ev", save=True)
    path = root / "user" / "ev.npz"
    with np.load(path, allow_pickle=False) as z:
        assert {"x", "y", "t", "p", "offsets"} <= set(z.files)
        assert z["x"].dtype == np.uint8 and z["p"].dtype == np.uint8
        assert z["offsets"].tolist() == list(range(0, 40 * 2000 + 1, 2000))
    assert path.stat().st_size < 40 * 2000 * 4  # < 4 bytes an event (frames: 4*2*34*34*4 each)
    data.unregister_dataset("ev")
    got = data.load_dataset("ev", "train", time_steps=2)
    assert got.source_sha256 == source.sha256()
    want = events[int(got.indices[3])]
    assert got.events(3).dtype == DTYPE and np.array_equal(got.events(3), want)


def test_saved_file_is_read_without_pickle(root):
    path = root / "user" / "earlier.npz"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    assert all(n.endswith(".npy") for n in names)
    with np.load(path, allow_pickle=False) as z:  # raises if any array were pickled
        assert all(z[k].dtype != object for k in z.files)


# -- checksums and damaged files -------------------------------------------------------------
def _rewrite(path: Path, **changes) -> None:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    np.savez_compressed(path, **arrays)


@pytest.mark.parametrize("member", ["x", "labels", "split_test"])
def test_a_tampered_saved_file_is_refused_by_its_checksum(root, member):
    path = root / "user" / "earlier.npz"
    with np.load(path, allow_pickle=False) as z:
        value = z[member].copy()
    value.flat[0] = value.flat[0] + 1 if member != "split_test" else value.flat[1]
    _rewrite(path, **{member: value})
    before = _snapshot(root)
    with pytest.raises(ConfigError) as err:
        data.load_dataset("earlier", "train")
    assert str(path) in str(err.value) and "checksum" in str(err.value)
    assert _snapshot(root) == before


@pytest.mark.parametrize(
    "damage, words",
    [
        (lambda p: p.write_bytes(p.read_bytes()[:200]), "not a readable"),
        (lambda p: p.write_bytes(b"garbage"), "not a readable"),
        (lambda p: _rewrite(p, meta=np.array("{not json")), "meta"),
        (
            lambda p: np.savez(p.with_suffix(""), x=np.array([{"a": 1}], dtype=object)),
            "not a readable",
        ),
    ],
    ids=["truncated", "garbage", "bad meta", "pickled"],
)
def test_a_damaged_saved_file_is_named(root, damage, words):
    path = root / "user" / "earlier.npz"
    damage(path)
    before = _snapshot(root)
    with pytest.raises(ConfigError) as err:
        data.load_dataset("earlier", "train")
    assert str(path) in str(err.value) and words in str(err.value)
    assert _snapshot(root) == before


# -- the "not a data set" error and SNNLIB_DATASETS ----------------------------------------
def test_an_unknown_name_points_to_save_and_the_environment_variable(root):
    with pytest.raises(ConfigError) as err:
        data.load_dataset("mnist", "train")
    message = str(err.value)
    for words in ("dataset='mnist'", "'digits'", "'earlier'", "save=True", "SNNLIB_DATASETS"):
        assert words in message, words
    _unchanged(root)


def _python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=REPO,
        timeout=120,
    )


MODULE = """
import torch
from torch.utils.data import TensorDataset
from snnlib.data import DatasetInfo, register_dataset

def squares(split, **kwargs):
    n = {"train": 8, "val": 4, "test": 6}[split]
    return TensorDataset(torch.rand(n, 1, 4, 4), torch.arange(n) % 2)

register_dataset("squares", squares, info=DatasetInfo("squares", "static", 2, 1, (4, 4)))
"""


@pytest.mark.parametrize("as_path", [True, False], ids=["file", "module"])
def test_a_module_named_in_snnlib_datasets_registers_in_every_process(root, as_path):
    (root / "my_sets.py").write_text(MODULE)
    env = {"SNNLIB_DATA": str(root), "PYTHONPATH": str(root)}
    env["SNNLIB_DATASETS"] = str(root / "my_sets.py") if as_path else "my_sets"
    out = _python(
        """
        from snnlib.data import dataset_names, load_dataset
        print(len(load_dataset("squares", "test")), "squares" in dataset_names())
        """,
        env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["6", "True"]


@pytest.mark.parametrize(
    "value, source, words",
    [
        ("no_such_module_xyz", None, "no_such_module_xyz"),
        ("{root}/missing.py", None, "missing.py"),
        ("{root}/broken.py", "raise RuntimeError('boom')", "boom"),
    ],
    ids=["no module", "no file", "module raises"],
)
def test_a_bad_snnlib_datasets_is_named(root, monkeypatch, value, source, words):
    if source:
        (root / "broken.py").write_text(source)
    monkeypatch.setenv("SNNLIB_DATASETS", value.format(root=root))
    for _ in range(2):  # named again at the next lookup, not remembered as imported
        with pytest.raises(ConfigError) as err:
            data.load_dataset("squares", "test")
        assert "SNNLIB_DATASETS" in str(err.value) and words in str(err.value)
    assert "squares" not in _REGISTRY
    if not source:
        _unchanged(root)


def test_user_docstring_no_longer_claims_in_memory_names_reach_notebooks():
    from snnlib.data import user

    doc = user.__doc__
    assert "save=True" in doc and "SNNLIB_DATASETS" in doc
    assert "another process" in doc
