"""N-MNIST: the embedded 1,100 real recordings, decoded exactly as tonic reads them, framed
as tonic frames them, checksum verified, labelled as a subset."""

from __future__ import annotations

import shutil
import tarfile

import numpy as np
import pytest
import torch
from tonic.io import read_mnist_file
from tonic.transforms import ToFrame

from snnlib.data import dataset_info, load_dataset, nmnist
from snnlib.data import nmnist_embedded as ne
from snnlib.validation import ConfigError


def _members(names):
    with tarfile.open(ne.ARCHIVE, "r:xz") as tar:
        return {n: tar.extractfile(f"nmnist-small/{n}").read() for n in names}


def test_test_split_is_the_100_listed_recordings_in_order():
    ds = load_dataset("nmnist", "test")
    assert len(ds) == 100 and ds.source == "embedded-subset"
    assert ds.source_sha256 == ne.ARCHIVE_SHA256
    listed = _members(["test100.txt"])["test100.txt"].decode().split()[2:]
    assert ds.targets == [int(c) for c in listed[1::2]]
    _, labels = ne.mnist_images()
    assert ds.targets == labels.tolist()  # the recorded MNIST test digits 1-100
    x, y = ds[0]
    assert tuple(x.shape) == (4, 2, 17, 17) and y == 7  # the default: half the sensor
    assert tuple(load_dataset("nmnist", "test", image_size=34)[0][0].shape) == (4, 2, 34, 34)
    assert dataset_info("nmnist") == ds.info


def test_train_and_val_partition_the_1000_training_recordings():
    tr, va = load_dataset("nmnist", "train"), load_dataset("nmnist", "val")
    assert (len(tr), len(va)) == (900, 100)
    assert not set(tr.indices.tolist()) & set(va.indices.tolist())
    assert set(va.targets) == set(range(10))


@pytest.mark.parametrize("sample", [1, 2, 60001, 60100])
def test_decoder_equals_tonics_reader_on_real_files(sample, tmp_path):
    blob = _members([f"recordings/{sample}.bs2"])[f"recordings/{sample}.bs2"]
    (tmp_path / "r.bs2").write_bytes(blob)
    ref = read_mnist_file(str(tmp_path / "r.bs2"), dtype=ne.EVENT_DTYPE)
    mine = ne.decode_bs2(blob)
    assert len(mine) > 1000 and np.array_equal(mine, ref)


def test_overflow_records_shift_later_timestamps_and_are_dropped():
    def rec(x, y, p, t):
        return bytes([x, y, (p << 7) | (t >> 16), (t >> 8) & 255, t & 255])

    raw = rec(1, 2, 1, 100) + rec(0, ne.OVERFLOW_Y, 0, 0) + rec(3, 4, 0, 50)
    ev = ne.decode_bs2(raw)
    assert ev["x"].tolist() == [1, 3] and ev["p"].tolist() == [True, False]
    assert ev["t"].tolist() == [100, 50 + ne.OVERFLOW_US]
    with pytest.raises(ConfigError, match="multiple of 5"):
        ne.decode_bs2(raw[:-1])


def test_fixed_bins_equal_tonics_time_window_frames():
    ds = load_dataset("nmnist", "test", time_steps=4, duration_us=400_000, image_size=34)
    for i in range(5):
        ev = ds.events(i)
        assert ev["t"].max() < 400_000
        ref = ToFrame(sensor_size=(34, 34, 2), time_window=100_000, start_time=0, end_time=400_000)
        assert np.array_equal(ds[i][0].numpy(), ref(ev).astype(np.float32))


def test_every_event_lands_in_one_frame_for_both_binnings():
    for binning in nmnist.BINNINGS:
        ds = load_dataset("nmnist", "test", time_steps=3, binning=binning)
        for i in range(3):
            assert ds[i][0].sum().item() == len(ds.events(i))
    ds = load_dataset("nmnist", "test", time_steps=4, binning="span", image_size=34)
    ev = ds.events(0)
    ref = ToFrame(sensor_size=(34, 34, 2), n_time_bins=4)(ev)
    # tonic drops the events at the very last timestamp; everything else is the same
    diff = ds[0][0].numpy() - ref
    assert diff.min() == 0 and diff.sum() == (ev["t"] == ev["t"].max()).sum()


def test_count_transforms_and_resizing_keep_their_meaning():
    raw = load_dataset("nmnist", "test", image_size=34)[0][0]
    log = load_dataset("nmnist", "test", counts="log1p", image_size=34)[0][0]
    assert torch.allclose(log, torch.log1p(raw))
    binary = load_dataset("nmnist", "test", counts="binary", image_size=34)[0][0]
    assert torch.equal(binary, (raw > 0).float())
    merged = load_dataset("nmnist", "test", image_size=34, polarity="merged")
    assert merged.info.in_channels == 1 and torch.equal(merged[0][0], raw.sum(1, keepdim=True))
    assert dataset_info("nmnist", polarity="merged").in_channels == 1
    small = load_dataset("nmnist", "test", image_size=17)[0][0]
    assert tuple(small.shape) == (4, 2, 17, 17)
    assert small.sum().item() == pytest.approx(raw.sum().item(), rel=1e-5)


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("binning", "linear", "binning"),
        ("counts", "sqrt", "counts"),
        ("duration_us", 0, "dur"),
        ("polarity", "on", "polarity"),
    ],
)
def test_bad_framing_names_the_field(option, value, field):
    with pytest.raises(ConfigError, match=field):
        load_dataset("nmnist", "test", **{option: value})


def test_a_corrupt_archive_is_a_clear_error_naming_the_file(tmp_path):
    bad = tmp_path / "nmnist-small.tar.xz"
    shutil.copy(ne.ARCHIVE, bad)
    data = bytearray(bad.read_bytes())
    data[1000] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="nmnist-small.tar.xz.*does not match"):
        ne.load_split("test", tmp_path / "cache", archive=bad)
    with pytest.raises(ConfigError, match="missing"):
        ne.verify_archive(tmp_path / "absent.tar.xz")


def test_a_full_tonic_folder_is_preferred_to_the_subset(tmp_path):
    folder = tmp_path / "NMNIST" / "Train" / "3"
    folder.mkdir(parents=True)
    blob = _members(["recordings/1.bs2"])["recordings/1.bs2"]
    (folder / "00001.bin").write_bytes(blob)
    ds = load_dataset("nmnist", "test", root=tmp_path)  # no Test folder: the subset
    assert ds.source == "embedded-subset"
    rec = nmnist.recordings(True, tmp_path, download=False)
    assert rec.source == "tonic" and rec.targets.tolist() == [3]
    assert np.array_equal(rec.recording(0), ne.decode_bs2(blob))
    frames = load_dataset("nmnist", "train", root=tmp_path)  # one recording: all in train
    assert frames.source == "tonic" and frames[0][0].sum().item() == len(ne.decode_bs2(blob))
    # subset=True: the committed recordings (those of the committed MNIST digits) regardless
    assert nmnist.recordings(True, tmp_path, download=True, subset=True).source == "embedded-subset"
    pinned = load_dataset("nmnist", "train", root=tmp_path, subset=True)
    assert pinned.source == "embedded-subset" and len(pinned) == 900
