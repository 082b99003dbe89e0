"""``cifar10`` and ``cifar100``: torchvision's python-pickle batches, or the embedded CIFAR-10.

Files: ``<root>/cifar-10-batches-py/`` and ``<root>/cifar-100-python/`` (torchvision's
layout, so an existing torchvision data folder can serve as the root). Without them,
``cifar10`` reads the copy committed with the project (:mod:`snnlib.data.cifar_embedded`: all
60,000 images as JPEG, offline, checksum verified, decoded once into a cache under
``$SNNLIB_DATA/cache``); ``download=True`` asks torchvision for the canonical files instead. Every
dataset says which it read: ``.source`` (``"torchvision"`` or ``"embedded-jpeg"``) and
``.source_sha256`` (the embedded archive's checksum, ``None`` for torchvision's files).
Items are float32 ``[3, 32, 32]`` normalised with the usual per-channel CIFAR mean/std
(optionally resized to ``image_size``). ``augment=True`` adds, to the train split only, a
random crop with 4 px zero padding and a random horizontal flip, drawn from torch's global RNG.

Splits: ``test`` is the official test set; ``val`` is 10% of every class of the official
train set (fixed, seed 0) and ``train`` the remaining 90%.
"""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import cifar_embedded
from .base import DatasetInfo, SplitDataset
from .errors import DatasetNotFound
from .splits import carve_per_class

OPTIONS = ("image_size", "augment")

_SPEC = {
    "cifar10": dict(
        num_classes=10,
        folder="cifar-10-batches-py",
        url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        files=(
            "data_batch_1",
            "data_batch_2",
            "data_batch_3",
            "data_batch_4",
            "data_batch_5",
            "test_batch",
            "batches.meta",
        ),
        mean=(0.4914, 0.4822, 0.4465),
        std=(0.2470, 0.2435, 0.2616),
    ),
    "cifar100": dict(
        num_classes=100,
        folder="cifar-100-python",
        url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        files=("train", "test", "meta"),
        mean=(0.5071, 0.4865, 0.4409),
        std=(0.2673, 0.2564, 0.2762),
    ),
}
VAL_FRACTION = 0.1
# train and val splits share one loaded copy of the official train set while both live
_LOADED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def info(name: str, *, image_size: int | None = None, augment: bool = False) -> DatasetInfo:
    size = image_size or 32
    return DatasetInfo(name, "static", _SPEC[name]["num_classes"], 3, (size, size))


def _how(name: str, root: Path) -> str:
    spec = _SPEC[name]
    archive = spec["url"].rsplit("/", 1)[1]
    return (
        f"Pass download=True (needs network), or download {spec['url']} and extract "
        f"{archive} into {root} so that {root / spec['folder']} holds "
        f"{', '.join(spec['files'])}."
    )


def _torchvision_set(name: str, root: Path, train: bool, download: bool):
    """torchvision's CIFAR10/100 object, or :class:`DatasetNotFound` with a clear message."""
    from torchvision.datasets import CIFAR10, CIFAR100

    spec = _SPEC[name]
    folder = root / spec["folder"]
    missing = [f for f in spec["files"] if not (folder / f).is_file()]
    if missing and not download and name == "cifar10":
        cache = cifar_embedded.default_cache_dir()
        key = (name, "embedded", str(cache.resolve()), train)
        source = _LOADED.get(key)
        if source is None:
            split = "train" if train else "test"
            _LOADED[key] = source = cifar_embedded.load_split(split, cache)
        return source
    if missing and not download:
        raise DatasetNotFound(name, folder, _how(name, root), f"missing {', '.join(missing)}")
    key = (name, str(root.resolve()), train)
    source = _LOADED.get(key)
    if source is not None:
        return source
    cls = CIFAR10 if name == "cifar10" else CIFAR100
    try:
        _LOADED[key] = source = cls(root=str(root), train=train, download=download)
        return source
    except Exception as exc:  # no network, bad checksum, truncated archive...
        reason = f"{type(exc).__name__}: {exc}"
        raise DatasetNotFound(name, folder, _how(name, root), reason) from exc


class CifarDataset(SplitDataset):
    """One split of CIFAR-10/100 held in memory as uint8 ``[N, 32, 32, 3]``."""

    def __init__(
        self,
        name: str,
        split: str,
        *,
        root: Path,
        download: bool = False,
        image_size: int | None = None,
        augment: bool = False,
    ):
        source = _torchvision_set(name, Path(root), split != "test", download)
        targets = np.asarray(source.targets, dtype=np.int64)
        if split == "test":
            indices = np.arange(len(targets))
        else:
            train, val = carve_per_class(targets, VAL_FRACTION, seed=0)
            indices = train if split == "train" else val
        super().__init__(info(name, image_size=image_size), split, indices, targets[indices])
        self._data = source.data  # uint8 [N, 32, 32, 3], HWC
        self.source = getattr(source, "source", "torchvision")
        self.source_sha256 = getattr(source, "sha256", None)
        self.augment = bool(augment) and split == "train"
        spec = _SPEC[name]
        self._mean = torch.tensor(spec["mean"]).view(3, 1, 1)
        self._std = torch.tensor(spec["std"]).view(3, 1, 1)

    def images_uint8(self) -> np.ndarray:
        """The split's images as stored, uint8 ``[N, 32, 32, 3]`` (no normalisation), in the
        order of ``self.indices``: for code that normalises as another recipe does."""
        return np.asarray(self._data[np.asarray(self.indices)])

    def load(self, source_index: int) -> torch.Tensor:
        x = torch.from_numpy(self._data[source_index]).permute(2, 0, 1).float() / 255.0
        if self.augment:
            x = _random_crop_flip(x, pad=4)
        x = (x - self._mean) / self._std
        size = self.info.size
        if tuple(x.shape[-2:]) != size:
            x = F.interpolate(
                x[None], size=size, mode="bilinear", align_corners=False, antialias=True
            )[0]
        return x


def _random_crop_flip(x: torch.Tensor, pad: int) -> torch.Tensor:
    """Random crop of the zero-padded image and a random horizontal flip (torch global RNG)."""
    h, w = x.shape[-2:]
    padded = F.pad(x, (pad, pad, pad, pad))
    top, left = (int(v) for v in torch.randint(0, 2 * pad + 1, (2,)))
    x = padded[:, top : top + h, left : left + w]
    if torch.rand(()) < 0.5:
        x = x.flip(-1)
    return x.contiguous()


def load(
    name: str,
    split: str,
    *,
    root: Path,
    download: bool = False,
    time_steps: int = 4,
    image_size: int | None = None,
    augment: bool = False,
) -> CifarDataset:
    """The ``split`` of CIFAR-10/100 (``time_steps`` does not apply to static images)."""
    return CifarDataset(
        name, split, root=root, download=download, image_size=image_size, augment=augment
    )
