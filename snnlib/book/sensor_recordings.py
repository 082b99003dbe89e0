"""The real N-MNIST recordings the sensor chapter uses, in the forms it needs them.

- the *calibration set* (:func:`calibration_set`): the recordings of the committed subset's
  ``test`` split, which hold MNIST test images 1-100 in the order of the images shipped with
  them; the images (floats in [0, 1]) and their recordings as one events array with
  offsets, checked to be in the images' order (else the simulated and real recordings
  would not be of the same digits);
- the real *frames* of a split (:func:`real_frames`), for training on real recordings;
- the *transfer test set* (:func:`transfer_test_set`): the frames of other splits (digits the
  calibration never sees), optionally cut to the first ``n`` recordings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..data import load_dataset
from ..data.sensor_compare import concat_recordings


@dataclass
class CalibrationSet:
    """Images (``[N, H, W]`` floats in [0, 1]), their labels, and their real recordings
    (``events[offsets[i]:offsets[i+1]]`` is the recording of image ``i``)."""

    images: np.ndarray
    labels: np.ndarray
    events: np.ndarray
    offsets: np.ndarray

    @property
    def n(self) -> int:
        return len(self.images)


def calibration_set(real_ds, images_u8: np.ndarray, labels: np.ndarray, n: int) -> CalibrationSet:
    """The first ``min(n, len(images_u8))`` images (``uint8``, scaled to [0, 1]) with the
    recordings of ``real_ds`` (an ``nmnist`` split with ``events(i)``); ``RuntimeError`` when
    the recordings' labels are not the images' (not in the order of the images)."""
    n = min(n, len(images_u8))
    if list(real_ds.targets[:n]) != labels[:n].tolist():
        raise RuntimeError("the nmnist test recordings are not in the order of the MNIST images")
    events, offsets = concat_recordings([real_ds.events(i) for i in range(n)])
    return CalibrationSet(images_u8[:n].astype(np.float64) / 255.0, labels[:n], events, offsets)


def real_frames(dataset, n: int) -> torch.Tensor:
    """The frames of the first ``n`` items of a map-style ``dataset``, stacked."""
    return torch.stack([dataset[i][0] for i in range(n)])


def transfer_test_set(
    dataset: str, splits: Sequence[str], n: int | None = None, **load_args
) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames and labels of every recording of ``splits`` of ``dataset`` (in split order,
    :func:`~snnlib.data.load_dataset` with ``load_args``), the first ``n`` of them when
    ``n`` is given."""
    parts = [load_dataset(dataset, s, **load_args) for s in splits]
    x = torch.stack([ds[i][0] for ds in parts for i in range(len(ds))])
    y = torch.tensor([t for ds in parts for t in ds.targets], dtype=torch.long)
    if n is not None:
        x, y = x[:n], y[:n]
    return x, y
