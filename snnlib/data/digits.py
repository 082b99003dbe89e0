"""``digits``: scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes).

No download is needed, so this is the dataset of the tests and of CPU-scale runs. Pixel
values (0..16) are scaled to [0, 1], upsampled bilinearly to ``image_size`` (default 16)
and normalised with one mean/std computed on the train split.

The split is FIXED, part of the dataset definition and independent of the experiment seed:
20% of every class is carved out as ``test`` and 25% of the rest as ``val`` (seed 0), which
gives train/val/test = 60/20/20 (1079/359/359 images). The same source indices are used by
``digits-dvs``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from .base import DatasetInfo, SplitDataset
from .splits import carve_per_class

NUM_CLASSES = 10
NUM_IMAGES = 1797
DEFAULT_SIZE = 16
OPTIONS = ("image_size",)


@lru_cache(maxsize=1)
def digit_images() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 images as float32 ``[N, 8, 8]`` in [0, 1] and their int64 labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)
    images.setflags(write=False)
    labels = bunch.target.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


@lru_cache(maxsize=1)
def fixed_splits() -> dict[str, np.ndarray]:
    """The fixed stratified 60/20/20 split: source indices per split (sorted, disjoint)."""
    _, labels = digit_images()
    rest, test = carve_per_class(labels, 0.2, seed=0)
    keep, val = carve_per_class(labels[rest], 0.25, seed=0)
    return {"train": rest[keep], "val": rest[val], "test": test}


def upsample(images: np.ndarray, size: int) -> torch.Tensor:
    """Bilinear resize of ``[N, h, w]`` images to ``[N, 1, size, size]`` (float32)."""
    x = torch.tensor(np.asarray(images, dtype=np.float32)).unsqueeze(1)
    if x.shape[-1] == size and x.shape[-2] == size:
        return x.clone()
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


@lru_cache(maxsize=4)
def _normalised(size: int) -> torch.Tensor:
    """All images at ``size``, normalised with the train split's mean and std."""
    images, _ = digit_images()
    x = upsample(images, size)
    train = x[torch.as_tensor(fixed_splits()["train"])]
    return (x - train.mean()) / train.std()


def info(name: str = "digits", *, image_size: int | None = None) -> DatasetInfo:
    size = image_size or DEFAULT_SIZE
    return DatasetInfo(name, "static", NUM_CLASSES, 1, (size, size))


class DigitsDataset(SplitDataset):
    """One split of the digits; items are normalised ``[1, S, S]`` float32 tensors."""

    def __init__(self, split: str, image_size: int | None = None):
        _, labels = digit_images()
        indices = fixed_splits()[split]
        super().__init__(info(image_size=image_size), split, indices, labels[indices])
        self._images = _normalised(self.info.size[0])

    def load(self, source_index: int) -> torch.Tensor:
        return self._images[source_index]


def load(
    name: str,
    split: str,
    *,
    root=None,
    download: bool = False,
    time_steps: int = 4,
    image_size: int | None = None,
) -> DigitsDataset:
    """The ``split`` of digits (``root``, ``download`` and ``time_steps`` do not apply)."""
    return DigitsDataset(split, image_size)
