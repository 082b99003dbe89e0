"""Caches and tables that cannot be trusted are refused by name (issue 25: caches trusted blindly).

Every case corrupts one copy of a cache in a temporary folder (never the real ones) and asserts
the exception class (:class:`~snnlib.data.errors.CorruptCache`, a ``ValueError``; the table's and
curves' :class:`~snnlib.validation.ConfigError`), that the message names the file and the array
or field and what is wrong, and that no file in the folder changed. Kinds: the decoded embedded
CIFAR-10 and N-MNIST caches (loaded with their archive missing, so they cannot be rebuilt), the
digits-dvs events and cifar10-dvs-sim frames files (read as their loaders read them), the
SpikeNAS-Bench table read without its checksum, and the learning curves' cache. The last tests
check the rebuild: a failing cache that can be rebuilt is, with a warning, to the same arrays.
"""

from __future__ import annotations

import hashlib
import lzma
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from snnlib.data import cache as C
from snnlib.data import cifar_embedded as ce
from snnlib.data import digits_dvs
from snnlib.data import nmnist_embedded as ne
from snnlib.data.errors import CorruptCache
from snnlib.spikenas import curves as curves_mod
from snnlib.spikenas import table as table_mod
from snnlib.validation import ConfigError


# --- helpers ---------------------------------------------------------------------------------
def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (relative path -> digest)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files if k != C.CHECKSUM}


def corrupt(path: Path, how: str, change=None) -> None:
    """Rewrite the cache ``path``: ``change(arrays)`` then ``how`` = ``domain`` (a fresh,
    matching checksum: only the domain checks can catch it), ``tamper`` (the original checksum
    kept), ``old`` (no checksum: an older version's file); or a damaged file: ``truncated``,
    ``garbage``, ``empty``, ``npy`` (one bare array), ``missing`` (an array left out)."""
    raw = path.read_bytes()
    if how == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
        return
    if how == "garbage":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
        return
    if how == "empty":
        path.write_bytes(b"")
        return
    arrays = read_arrays(path)
    with np.load(path, allow_pickle=False) as f:
        digest = f[C.CHECKSUM]
    if how == "npy":
        with open(path, "wb") as f:
            np.save(f, next(iter(arrays.values())))
        return
    if how == "missing":
        arrays.pop(sorted(arrays)[-1])
        C.write_cache(path, arrays)
        return
    if change is not None:
        change(arrays)
    if how == "domain":
        C.write_cache(path, arrays)
    elif how == "tamper":
        np.savez(path, **arrays, **{C.CHECKSUM: digest})
    elif how == "old":
        np.savez(path, **arrays)
    else:
        raise AssertionError(how)


FILE_FAULTS = [
    ("truncated", "unreadable, truncated or garbage"),
    ("garbage", "unreadable, truncated or garbage"),
    ("empty", "unreadable, truncated or garbage"),
    ("npy", "single array, not the expected .npz"),
    ("missing", "lacks the array"),
    ("old", "has no checksum"),
]


def set_item(key, index, value):
    def change(a):
        a[key][index] = value

    return change


def set_field(key, field, index, value):
    def change(a):
        a[key][field][index] = value

    return change


def replace(key, fn):
    def change(a):
        a[key] = fn(a[key])

    return change


def check_raises(folder: Path, path: Path, action, exc_type, pattern: str):
    """``action()`` raises ``exc_type`` whose message names ``path`` and matches ``pattern``;
    no file under ``folder`` changed."""
    before = snapshot(folder)
    with pytest.raises(exc_type) as info:
        action()
    message = str(info.value)
    assert str(path) in message, message
    assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    assert isinstance(info.value, ValueError)
    assert snapshot(folder) == before


# --- embedded CIFAR-10 (test split) ------------------------------------------------------------
@pytest.fixture(scope="module")
def cifar_template():
    ce.load_split("test", ce.default_cache_dir())  # builds the real cache once if missing
    return ce.cache_paths(ce.default_cache_dir())["test"]


CIFAR_CASES = FILE_FAULTS + [
    ("tamper", "fails its checksum", replace("x", lambda x: np.zeros_like(x))),
    ("tamper", "fails its checksum", set_item("y", 0, 9)),
    ("domain", r"y \(labels\): holds 42, above the allowed maximum 9", set_item("y", 0, 42)),
    ("domain", r"y \(labels\): holds -1, below", set_item("y", 0, -1)),
    ("domain", r"y \(labels\): labels have dtype float64", replace("y", lambda y: y + 0.5)),
    ("domain", r"x \(images\): has dtype float32", replace("x", lambda x: x.astype("f4") / 255)),
    ("domain", r"x \(images\): has shape \(10000, 5, 5, 3\)", replace("x", lambda x: x[:, :5, :5])),
    ("domain", r"x \(images\): has shape \(9999, ", replace("x", lambda x: x[1:])),
    ("domain", r"y \(labels\): class \d has 999 images", set_item("y", 0, 9)),
]


@pytest.mark.parametrize("case", CIFAR_CASES, ids=lambda c: f"{c[0]}-{c[1][:24]}")
def test_cifar_cache_faults(case, cifar_template, tmp_path):
    how, pattern, *change = case
    folder = tmp_path / "cache"
    folder.mkdir()
    path = folder / cifar_template.name
    shutil.copyfile(cifar_template, path)
    corrupt(path, how, *change)
    missing_archive = tmp_path / "gone.tar.xz"
    check_raises(
        tmp_path,
        path,
        lambda: ce.load_split("test", folder, archive=missing_archive),
        CorruptCache,
        pattern + r".*cannot be rebuilt from the archive .*gone\.tar\.xz.*delete",
    )


# --- embedded N-MNIST ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nmnist_template():
    ne.load_split("test")  # builds the real cache once if missing
    return ne.cache_path(ne.default_cache_dir())


def swap_times(a):
    t = a["test-events"]["t"]
    start = int(a["test-offsets"][3])
    t[start], t[start + 50] = t[start + 50], t[start]


NMNIST_CASES = FILE_FAULTS + [
    ("tamper", "fails its checksum", set_field("train-events", "x", slice(0, 1000), 0)),
    ("domain", r"test-events\.x: holds 200, above the allowed maximum 33", None),
    ("domain", r"test-events\.t \(timestamps\): holds -5, below", None),
    ("domain", r"test-events\.t \(timestamps\): go back in time within recording 3", swap_times),
    ("domain", r"test-events offsets: decrease at recording 4 .*overlap", None),
    ("domain", r"test-events offsets: end at \d+, not at the event count", None),
    ("domain", r"test-events\.p \(polarity\): holds 2, above the allowed maximum 1", None),
    ("domain", r"test-targets: holds 42, above", set_item("test-targets", 0, 42)),
    ("domain", r"train-targets: labels have dtype float64", None),
    ("domain", r"test-events: has dtype", None),
    ("domain", r"mnist-images: has shape \(100, 5, 5\)", None),
]


def _nmnist_change(pattern):
    """The change each N-MNIST domain case makes (chosen by its expected message)."""

    def change(a):
        ev, off = a["test-events"], a["test-offsets"]
        if "x: holds 200" in pattern:
            ev["x"][7] = 200
        elif "holds -5" in pattern:
            ev["t"][int(off[2])] = -5
        elif "decrease" in pattern:
            off[4] = off[5] + 10
        elif "end at" in pattern:
            off[-1] -= 1
        elif "polarity" in pattern:
            ev["p"].view(np.uint8)[3] = 2
        elif "train-targets" in pattern:
            a["train-targets"] = a["train-targets"] + 0.5
        elif "test-events: has dtype" in pattern:
            a["test-events"] = ev.astype([("x", "<i2"), ("y", "<i2"), ("t", "<f8"), ("p", "?")])
        elif "mnist-images" in pattern:
            a["mnist-images"] = a["mnist-images"][:, :5, :5].copy()

    return change


@pytest.mark.parametrize("case", NMNIST_CASES, ids=lambda c: f"{c[0]}-{c[1][:24]}")
def test_nmnist_cache_faults(case, nmnist_template, tmp_path):
    how, pattern, *change = case
    change = [c if c is not None else _nmnist_change(pattern) for c in change]
    folder = tmp_path / "cache"
    folder.mkdir()
    path = folder / nmnist_template.name
    shutil.copyfile(nmnist_template, path)
    corrupt(path, how, *change)
    check_raises(
        tmp_path,
        path,
        lambda: ne.load_split("test", folder, archive=tmp_path / "gone.tar.xz"),
        CorruptCache,
        pattern + r".*cannot be rebuilt from the archive .*gone\.tar\.xz",
    )


# --- digits-dvs events ---------------------------------------------------------------------------
CONFIG = digits_dvs.config_for(8)  # a small sensor: the file is small and quick to simulate


@pytest.fixture(scope="module")
def digits_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("digits-dvs")
    memory = dict(digits_dvs._MEMORY)
    digits_dvs._MEMORY.clear()
    try:
        events, offsets = digits_dvs.all_events(CONFIG, 0, root=root, cache=True)
    finally:
        digits_dvs._MEMORY.clear()
        digits_dvs._MEMORY.update(memory)
    return digits_dvs.cache_file(root, CONFIG, 0), events, offsets


def _read_digits(path):
    check = lambda a: digits_dvs.check_cache(a, CONFIG, 1797)  # noqa: E731  (the loader's check)
    return C.read_cache(path, ("events", "offsets"), check)


def _off_overlap(a):
    a["offsets"][10] = a["offsets"][12]


DIGITS_CASES = FILE_FAULTS + [
    ("tamper", "fails its checksum", set_field("events", "y", slice(None), 0)),
    (
        "domain",
        r"events\.x: holds 200, above the allowed maximum 7",
        set_field("events", "x", 5, 200),
    ),
    ("domain", r"events\.t \(timestamps\): holds -1, below", set_field("events", "t", 0, -1)),
    (
        "domain",
        r"events\.t \(timestamps\): holds 300000, above",
        set_field("events", "t", 9, 300000),
    ),
    ("domain", r"events offsets: decrease at recording 1[01] .*overlap", _off_overlap),
]


@pytest.mark.parametrize("case", DIGITS_CASES, ids=lambda c: f"{c[0]}-{c[1][:24]}")
def test_digits_dvs_cache_faults(case, digits_template, tmp_path):
    how, pattern, *change = case
    path = tmp_path / "digits-dvs" / digits_template[0].name
    path.parent.mkdir()
    shutil.copyfile(digits_template[0], path)
    corrupt(path, how, *change)
    check_raises(tmp_path, path, lambda: _read_digits(path), CorruptCache, pattern)


# --- cifar10-dvs-sim frames ----------------------------------------------------------------------
SIM_OPTIONS = dict(limit=4, time_steps=2, image_size=8, sensor_size=16, steps_per_saccade=4)


@pytest.fixture(scope="module")
def sim_template(tmp_path_factory, cifar_template):
    from snnlib.data import load_dataset

    root = tmp_path_factory.mktemp("c10dvs")
    view = load_dataset("cifar10-dvs-sim", "test", root=root, **SIM_OPTIONS).prepare()
    return view, view.cache_file()


SIM_CASES = FILE_FAULTS + [
    ("tamper", "fails its checksum", replace("frames", np.zeros_like)),
    (
        "domain",
        r"frames: holds a non-finite value \(nan\)",
        set_item("frames", (0, 0, 0, 1, 1), np.nan),
    ),
    (
        "domain",
        r"frames: holds a non-finite value \(inf\)",
        set_item("frames", (1, 0, 1, 2, 2), np.inf),
    ),
    ("domain", r"frames: holds -1.0, below the allowed minimum 0", set_item("frames", 0, -1.0)),
    ("domain", r"frames: has shape \(4, 2, 2, 5, 5\)", replace("frames", lambda f: f[..., :5, :5])),
    ("domain", r"frames: has dtype float64", replace("frames", lambda f: f.astype("f8"))),
    ("domain", r"indices: holds \d+ at 0, the view's item is", set_item("indices", 0, 123456)),
]


@pytest.mark.parametrize("case", SIM_CASES, ids=lambda c: f"{c[0]}-{c[1][:24]}")
def test_cifar10_dvs_sim_cache_faults(case, sim_template, tmp_path):
    view, template = sim_template
    how, pattern, *change = case
    path = tmp_path / "cifar10-dvs-sim" / template.name
    path.parent.mkdir()
    shutil.copyfile(template, path)
    corrupt(path, how, *change)
    read = lambda: C.read_cache(path, ("indices", "frames"), view.check_cache)  # noqa: E731
    check_raises(tmp_path, path, read, CorruptCache, pattern)


# --- SpikeNAS-Bench table, read without its checksum ----------------------------------------------
@pytest.fixture(scope="module")
def table_lines():
    return table_mod.TABLE_PATH.read_text().splitlines()


def _edit(column, value, arch_id=3):
    def edit(lines):
        header = lines[0].split(",")
        cells = lines[1 + arch_id].split(",")
        cells[header.index(column)] = value
        lines[1 + arch_id] = ",".join(cells)

    return edit


def _duplicate(lines):
    lines.append(lines[6])  # arch_id 5 twice


def _duplicate_replacing(lines):
    lines[9] = lines[6]  # arch_id 5 twice, 8 missing


def _drop(lines):
    del lines[101]  # arch_id 100 has no row


TABLE_CASES = [
    (_edit("test_acc", "nan"), r"line 5: test_acc='nan' is not a finite number"),
    (_edit("test_acc", "inf"), r"line 5: test_acc='inf' is not a finite number"),
    (_edit("best_val_acc", "150"), r"line 5: best_val_acc=150 is outside \[0, 100\]"),
    (_edit("final_val_acc", "-5"), r"line 5: final_val_acc=-5 is outside \[0, 100\]"),
    (_edit("test_acc", "abc"), r"line 5: test_acc='abc' is not a number"),
    (_edit("params", "1.5"), r"line 5: params='1.5' is not an integer"),
    (_edit("train_seconds", "-1"), r"line 5: train_seconds=-1 is outside"),
    (_edit("arch_id", "3.5"), r"line 5: arch_id='3.5' is not an integer"),
    (_edit("firing_rates", " ".join(["0.5"] * 15 + ["2"])), r"firing_rates\[15\]=2 is neither"),
    (_edit("firing_rates", "0.1 0.2"), r"line 5: firing_rates has 2 values, expected 16"),
    (_duplicate, r"line 15627: arch_id 5 is repeated \(its row is line 7\)"),
    (_duplicate_replacing, r"line 10: arch_id 5 is repeated \(its row is line 7\)"),
    (_drop, r"1 architecture ids have no row, e\.g\. \[100\]"),
]


@pytest.mark.parametrize("case", TABLE_CASES, ids=lambda c: c[1][:30])
def test_table_read_without_checksum_refuses_bad_rows(case, table_lines, tmp_path):
    edit, pattern = case
    lines = list(table_lines)
    edit(lines)
    path = tmp_path / "table.csv"
    path.write_text("\n".join(lines) + "\n")
    read = lambda: table_mod._load_table.__wrapped__(path, None)  # noqa: E731  (not memoised)
    check_raises(tmp_path, path, read, ConfigError, pattern)


def test_the_real_table_passes_every_row_check():
    t = table_mod._load_table.__wrapped__(table_mod.TABLE_PATH, None)
    assert float(t.test_acc.max()) == 89.3 and int(t.dead().sum()) == 341


# --- SpikeNAS-Bench curves cache -----------------------------------------------------------------
CURVE_ROWS = [
    (0, 0, 20.0, 2.0, 25.0, 1.9),
    (0, 1, 40.0, 1.5, 45.0, 1.4),
    (3, 0, 10.0, 2.3, 10.0, 2.3),
]


@pytest.fixture()
def curves_cache(tmp_path):
    src = tmp_path / "tiny.csv.xz"
    with lzma.open(src, "wt") as f:
        f.write(",".join(curves_mod.HEADER) + "\n")
        f.write("\n".join(",".join(str(v) for v in r) for r in CURVE_ROWS) + "\n")
    c = curves_mod._load_curves.__wrapped__(
        src, None, require_all=False, cache_dir=tmp_path / "cache"
    )
    return curves_mod.cache_path(c.sha256, tmp_path / "cache"), c.sha256


def _rewrite_curves(path, column, value):
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    values = arrays["values"].copy()
    values[1, curves_mod.VALUES.index(column)] = value
    arrays["values"] = values
    arrays["arrays_sha256"] = np.array(curves_mod.arrays_sha256(arrays["n_epochs"], values))
    np.savez(path, **arrays)


CURVES_CASES = [
    ("val_acc", np.nan, r"val_acc=nan \(row 1\) is not a finite value in \[0, 100\]"),
    ("train_acc", 150.0, r"train_acc=150 \(row 1\) is not a finite value in \[0, 100\]"),
    ("val_loss", -2.0, r"val_loss=-2 \(row 1\) is not a finite value in \[0, inf\]"),
    ("train_loss", np.inf, r"train_loss=inf \(row 1\) is not a finite value"),
    ("truncated", None, r"is unreadable"),
]


@pytest.mark.parametrize("case", CURVES_CASES, ids=lambda c: c[0])
def test_curves_cache_domain(case, curves_cache, tmp_path):
    path, digest = curves_cache
    column, value, pattern = case
    if column == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    else:
        _rewrite_curves(path, column, value)
    read = lambda: curves_mod._read_cache(path, digest)  # noqa: E731
    check_raises(tmp_path, path, read, ConfigError, pattern)


# --- rebuilds: a failing cache that can be rebuilt is, with a warning ---------------------------
def test_a_good_cache_reads_without_warning_and_equals_a_fresh_decode(nmnist_template, recwarn):
    a = ne.load_split("test")
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert len(a.offsets) == 101 and a.offsets[-1] == len(a.events)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["truncated", "old"])
def test_nmnist_cache_is_rebuilt_from_the_archive_with_a_warning(how, nmnist_template, tmp_path):
    path = tmp_path / nmnist_template.name
    shutil.copyfile(nmnist_template, path)
    good = read_arrays(path)
    corrupt(path, how)
    with pytest.warns(RuntimeWarning, match=re.escape(str(path)) + ".*rebuilt it from the archive"):
        rec = ne.load_split("test", tmp_path)
    assert np.array_equal(rec.events, good["test-events"])
    C.read_cache(path, ne.ARRAYS, ne.check_arrays)  # the rewritten file passes


def test_digits_dvs_cache_is_resimulated_with_a_warning(digits_template, monkeypatch, tmp_path):
    template, events, offsets = digits_template
    path = digits_dvs.cache_file(tmp_path, CONFIG, 0)
    path.parent.mkdir()
    shutil.copyfile(template, path)
    corrupt(path, "domain", set_field("events", "x", 5, 200))
    monkeypatch.setattr(digits_dvs, "_MEMORY", {})
    with pytest.warns(RuntimeWarning, match=r"events\.x: holds 200.*rebuilt it from the simulator"):
        ev, off = digits_dvs.all_events(CONFIG, 0, root=tmp_path, cache=True)
    assert np.array_equal(ev, events) and np.array_equal(off, offsets)
    assert np.array_equal(read_arrays(path)["events"], events)


def test_cifar10_dvs_sim_cache_is_resimulated_with_a_warning(sim_template, monkeypatch):
    from snnlib.data import cifar10_dvs_sim as sim
    from snnlib.data import load_dataset

    view, path = sim_template
    good = read_arrays(path)
    corrupt(path, "domain", set_item("frames", (0, 0, 0, 1, 1), np.nan))
    monkeypatch.setattr(sim, "_MEMORY", {})
    with pytest.warns(
        RuntimeWarning, match=r"frames: holds a non-finite value.*from the simulator"
    ):
        again = load_dataset("cifar10-dvs-sim", "test", root=view.root, **SIM_OPTIONS).prepare()
    assert np.array_equal(
        np.stack([again.frames_raw(int(i)) for i in again.indices]), good["frames"]
    )
    assert np.array_equal(read_arrays(path)["frames"], good["frames"])


# --- the checks themselves -----------------------------------------------------------------------
def test_events_may_restart_in_time_per_recording_and_recordings_may_be_empty():
    from snnlib.data.checks import ArrayProblem, check_events
    from snnlib.data.dvs_sim import EVENT_DTYPE

    ev = np.zeros(5, dtype=EVENT_DTYPE)
    ev["t"] = [5, 9, 0, 3, 3]  # recording 0: 5, 9; recording 1: empty; recording 2: 0, 3, 3
    offsets = np.array([0, 2, 2, 5])
    check_events("ev", ev, offsets, dtype=EVENT_DTYPE, sensor=4, n_items=3)
    ev["t"][4] = 1  # 3 then 1 inside recording 2
    with pytest.raises(ArrayProblem, match=r"within recording 2 \(event 4: 3 then 1\)"):
        check_events("ev", ev, offsets, dtype=EVENT_DTYPE, sensor=4, n_items=3)
    with pytest.raises(ArrayProblem, match="starts at 1, not 0"):
        check_events("ev", ev, offsets + 1, dtype=EVENT_DTYPE, sensor=4, n_items=3)


def test_a_missing_cache_is_built_silently_and_a_failing_build_is_not_hidden(tmp_path, recwarn):
    path = tmp_path / "c.npz"
    got = C.load_or_rebuild(path, ("a",), lambda: {"a": np.arange(3)})
    assert got["a"].tolist() == [0, 1, 2] and path.is_file() and not recwarn.list
    assert C.read_cache(path, ("a",))["a"].tolist() == [0, 1, 2]
    with pytest.raises(RuntimeError, match="no source"):  # nothing to rebuild: the source's error
        C.load_or_rebuild(
            tmp_path / "d.npz", ("a",), lambda: (_ for _ in ()).throw(RuntimeError("no source"))
        )
    with pytest.raises(ValueError, match="reserved"):
        C.write_cache(tmp_path / "e.npz", {C.CHECKSUM: np.zeros(1)})
