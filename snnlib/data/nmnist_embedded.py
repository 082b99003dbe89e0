"""The N-MNIST subset committed with the project: 1,100 real ATIS recordings, offline.

``data/embedded/nmnist-small.tar.xz`` (13.7 MB) holds ``nmnist-small/recordings/N.bs2``
(N-MNIST's 40-bit binary events: x, y, polarity, 23-bit microsecond timestamp), the lists
``train1K.txt`` / ``test100.txt`` (sample number and class) and ``mnist-test-first100.npz``
(the 100 MNIST test images, uint8 28x28, that samples 60001-60100 recorded). Samples 1-1000
are recordings of MNIST training images 1-1000, samples 60001-60100 of MNIST test images
1-100 (Orchard et al., Frontiers in Neuroscience 2015, CC BY-SA 4.0; files from the test data
of the public repository bamsumit/slayerPytorch, commit 01beeeb). Numbers computed on it are
labelled ``source: embedded-subset`` (1,000 train + 100 test recordings of the 70,000).

The archive's sha256 is checked before it is read; the decoded events (tonic's structured
dtype), offsets, sample numbers and labels are cached once as one ``.npz`` (read without pickle,
keyed by the archive's checksum, holding the checksum of its own arrays) under the data root's
cache folder; every read verifies that checksum and the arrays' domain (:func:`check_arrays`),
and a cache that fails is rebuilt from the archive (:mod:`snnlib.data.cache`).
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tonic.io import events_struct

from ..paths import REPO_ROOT
from ..validation import ConfigError
from . import cifar_embedded
from .cache import load_or_rebuild
from .checks import check_array, check_events, check_labels
from .cifar_embedded import default_cache_dir

ARCHIVE = REPO_ROOT / "data" / "embedded" / "nmnist-small.tar.xz"
ARCHIVE_SHA256 = "da021cea124bca6e0f82eebe3c6daca41c93e4ddff1ac94e5e534843aeb61c53"
SOURCE = "embedded-subset"
SPLIT_SIZES = {"train": 1000, "test": 100}
_LISTS = {"train": "nmnist-small/train1K.txt", "test": "nmnist-small/test100.txt"}
_MNIST = "nmnist-small/mnist-test-first100.npz"
EVENT_DTYPE = events_struct  # x int16, y int16, t int64 (us), p bool (True = ON)
SENSOR = 34  # pixels per side of the ATIS sensor


@dataclass
class EmbeddedRecordings:
    """One split: events of every recording (``events[offsets[i]:offsets[i+1]]``), their
    N-MNIST sample numbers and labels."""

    events: np.ndarray
    offsets: np.ndarray
    samples: np.ndarray
    targets: np.ndarray
    source: str = SOURCE
    sha256: str = ARCHIVE_SHA256

    def __len__(self) -> int:
        return len(self.samples)

    def recording(self, i: int) -> np.ndarray:
        return self.events[self.offsets[i] : self.offsets[i + 1]]


def verify_archive(path: Path = ARCHIVE, expected: str = ARCHIVE_SHA256) -> Path:
    """``path`` if it exists and its sha256 is ``expected``; else a :class:`ConfigError`
    naming the file."""
    return cifar_embedded.verify_archive(path, expected, what="N-MNIST")


def _read_list(text: str, name: str) -> list[tuple[int, int]]:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[1]) > 9:
            raise ConfigError(f"{name}: bad line {line!r}; expected '<sample> <class 0-9>'")
        rows.append((int(parts[0]), int(parts[1])))
    return rows


OVERFLOW_Y = 240  # a "y" of 240 marks a timestamp overflow record, not an event
OVERFLOW_US = 2**13  # added to every later timestamp per overflow record (as tonic reads it)


def decode_bs2(raw: bytes) -> np.ndarray:
    """Events of one N-MNIST ``.bs2``/``.bin`` file (tonic's dtype, file order).

    Each event is 40 bits: byte 0 = x, byte 1 = y, bit 7 of byte 2 = polarity, the other 23
    bits of bytes 2-4 = timestamp in microseconds. A record with y = 240 is an overflow
    marker: it adds :data:`OVERFLOW_US` to the timestamps of all later records and is
    dropped (the convention of tonic's ``read_mnist_file``, which the tests compare with).
    """
    if len(raw) % 5:
        raise ConfigError(f"an N-MNIST recording has {len(raw)} bytes, not a multiple of 5")
    b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 5).astype(np.int64)
    t = ((b[:, 2] & 127) << 16) | (b[:, 3] << 8) | b[:, 4]
    overflow = b[:, 1] == OVERFLOW_Y
    t = t + OVERFLOW_US * np.cumsum(overflow)
    keep = ~overflow
    out = np.empty(int(keep.sum()), dtype=EVENT_DTYPE)
    out["x"], out["y"], out["t"] = b[keep, 0], b[keep, 1], t[keep]
    out["p"] = (b[keep, 2] & 128) > 0
    return out


def decode_archive(path: Path = ARCHIVE) -> dict:
    """``{"train": EmbeddedRecordings, "test": ..., "mnist": (images, labels)}`` from the tar."""
    blobs: dict[str, bytes] = {}
    with tarfile.open(path, "r:xz") as tar:
        for m in tar:
            if m.isfile():
                blobs[m.name] = tar.extractfile(m).read()
    missing = [n for n in (*_LISTS.values(), _MNIST) if n not in blobs]
    if missing:
        raise ConfigError(f"{path}: missing member(s) {missing}")
    out: dict = {}
    for split, list_name in _LISTS.items():
        rows = _read_list(blobs[list_name].decode(), f"{path}:{list_name}")
        if len(rows) != SPLIT_SIZES[split]:
            raise ConfigError(
                f"{path}:{list_name} lists {len(rows)} recordings, expected {SPLIT_SIZES[split]}"
            )
        chunks, counts = [], []
        for sample, _ in rows:
            name = f"nmnist-small/recordings/{sample}.bs2"
            if name not in blobs:
                raise ConfigError(f"{path}: {name} is listed in {list_name} but missing")
            ev = decode_bs2(blobs[name])
            chunks.append(ev)
            counts.append(len(ev))
        out[split] = EmbeddedRecordings(
            events=np.concatenate(chunks),
            offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            samples=np.array([r[0] for r in rows], dtype=np.int64),
            targets=np.array([r[1] for r in rows], dtype=np.int64),
        )
    with np.load(io.BytesIO(blobs[_MNIST]), allow_pickle=False) as f:
        out["mnist"] = (np.asarray(f["images"]), np.asarray(f["labels"], dtype=np.int64))
    return out


ARRAYS = tuple(
    [f"{s}-{k}" for s in SPLIT_SIZES for k in ("events", "offsets", "samples", "targets")]
    + ["mnist-images", "mnist-labels"]
)  # the arrays of the cache


def cache_path(cache_dir: Path, sha256: str = ARCHIVE_SHA256) -> Path:
    """The cache file: ``nmnist-small-<sha256[:12]>.npz`` (:data:`ARRAYS` and their checksum,
    :mod:`snnlib.data.cache`)."""
    return Path(cache_dir) / f"nmnist-small-{sha256[:12]}.npz"


def check_arrays(a: dict[str, np.ndarray]) -> None:
    """The domain of the decoded subset (:class:`~snnlib.data.checks.ArrayProblem` if not): per
    split, events of tonic's dtype inside the 34-pixel sensor, polarity 0/1, timestamps >= 0 and
    sorted within each recording, offsets from 0 to the event count, never decreasing, sample
    numbers >= 1, labels 0..9; 100 uint8 MNIST images 28x28 and their labels."""
    for split, n in SPLIT_SIZES.items():
        check_events(
            f"{split}-events",
            a[f"{split}-events"],
            a[f"{split}-offsets"],
            dtype=EVENT_DTYPE,
            sensor=SENSOR,
            n_items=n,
        )
        check_array(f"{split}-samples", a[f"{split}-samples"], dtype=np.int64, shape=(n,), low=1)
        check_labels(f"{split}-targets", a[f"{split}-targets"], 10, n)
    check_array("mnist-images", a["mnist-images"], dtype=np.uint8, shape=(100, 28, 28))
    check_labels("mnist-labels", a["mnist-labels"], 10, 100)


def _cached(cache_dir: Path | None, archive: Path) -> dict[str, np.ndarray]:
    def build() -> dict[str, np.ndarray]:
        decoded = decode_archive(verify_archive(archive))
        arrays = {"mnist-images": decoded["mnist"][0], "mnist-labels": decoded["mnist"][1]}
        for s in SPLIT_SIZES:
            for k in ("events", "offsets", "samples", "targets"):
                arrays[f"{s}-{k}"] = getattr(decoded[s], k)
        return arrays

    return load_or_rebuild(
        cache_path(cache_dir or default_cache_dir()),
        ARRAYS,
        build,
        check_arrays,
        source=f"the archive {archive}",
    )


def load_split(
    split: str, cache_dir: Path | None = None, archive: Path = ARCHIVE
) -> EmbeddedRecordings:
    """The ``train`` (1,000) or ``test`` (100) recordings, decoded once and cached."""
    if split not in SPLIT_SIZES:
        raise ConfigError(f"split={split!r} is not allowed; choose one of {list(SPLIT_SIZES)}")
    a = _cached(cache_dir, archive)
    rec = EmbeddedRecordings(
        events=a[f"{split}-events"],
        offsets=a[f"{split}-offsets"],
        samples=a[f"{split}-samples"],
        targets=a[f"{split}-targets"],
    )
    return rec


def mnist_images(cache_dir: Path | None = None, archive: Path = ARCHIVE):
    """The 100 MNIST test images (uint8 ``[100, 28, 28]``) and labels that the test
    recordings 60001-60100 recorded, in that order."""
    a = _cached(cache_dir, archive)
    return a["mnist-images"], a["mnist-labels"]
