"""The embedded CIFAR-10: all 60,000 real images offline, checksum verified, canonical labels."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

from snnlib.data import cifar_embedded as ce
from snnlib.data import load_dataset
from snnlib.validation import ConfigError


def test_test_split_is_the_10000_test_images_in_canonical_label_order():
    ds = load_dataset("cifar10", "test")
    assert len(ds) == 10_000
    assert ds.source == "embedded-jpeg" and ds.source_sha256 == ce.ARCHIVE_SHA256
    targets = np.asarray(ds.targets)
    assert np.bincount(targets).tolist() == [1000] * 10
    x, y = ds[0]
    assert tuple(x.shape) == (3, 32, 32) and y == 0 and ce.CLASSES[0] == "airplane"


def test_a_root_without_torchvision_files_reads_the_embedded_copy(tmp_path):
    ds = load_dataset("cifar10", "test", root=tmp_path)
    assert len(ds) == 10_000 and ds.source == "embedded-jpeg"
    assert not any(tmp_path.iterdir())  # the decoded cache lives in the data root, not here


def test_train_and_val_splits_partition_the_50000_training_images():
    tr, va = load_dataset("cifar10", "train"), load_dataset("cifar10", "val")
    assert len(tr) + len(va) == 50_000
    assert not set(np.asarray(tr.indices).tolist()) & set(np.asarray(va.indices).tolist())
    assert np.bincount(np.asarray(va.targets)).tolist() == [500] * 10


def test_channel_means_are_those_of_cifar10():
    """Over all 50,000 training images the JPEG copy's per-channel means are within 0.001 of
    canonical CIFAR-10's (0.4914, 0.4822, 0.4465; JPEG compression shifts them by less)."""
    raw = ce.load_split("train", ce.default_cache_dir())
    sums = sum(
        np.asarray(raw.data[i : i + 5000]).reshape(-1, 3).sum(0, dtype=np.int64)
        for i in range(0, 50_000, 5000)
    )
    mean = sums / (50_000 * 32 * 32 * 255)
    assert np.allclose(mean, (0.4914, 0.4822, 0.4465), atol=0.001)


def test_cached_load_is_fast():
    cache = ce.default_cache_dir()
    ce.load_split("test", cache)
    t = time.perf_counter()
    ce.load_split("train", cache)
    assert time.perf_counter() - t < 1.0


def test_a_corrupt_archive_is_a_clear_error_naming_the_file(tmp_path):
    bad = tmp_path / "cifar10-jpeg.tar.xz"
    shutil.copyfile(ce.ARCHIVE, bad)
    with open(bad, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00" * 16)
    with pytest.raises(ConfigError, match=r"cifar10-jpeg\.tar\.xz: sha256 .* does not match"):
        ce.load_split("test", tmp_path / "cache", archive=bad)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
    with pytest.raises(ConfigError, match="missing"):
        ce.verify_archive(tmp_path / "nothing.tar.xz")
    with pytest.raises(ConfigError, match="split"):
        ce.load_split("val", tmp_path / "cache")
