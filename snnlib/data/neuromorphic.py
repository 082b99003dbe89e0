"""``cifar10-dvs`` and ``dvs-gesture``: recorded event-camera datasets read by tonic.

Files (tonic's layout under the data root, sensor 128x128):

- CIFAR10-DVS: ``<root>/CIFAR10DVS/<class>/*.aedat4`` (``airplane`` ... ``truck``), read
  with ``tonic.io.read_aedat4`` (needs the ``aedat`` package). No official split: 90% of
  every class is ``train`` and 10% ``test`` (fixed, seed 0); ``val`` is 10% of every class
  of that train part.
- DVS-Gesture: ``<root>/DVSGesture/ibmGestureTrain/userNN_<lighting>/<label>.npy`` and the
  same under ``ibmGestureTest`` (tonic's preprocessed numpy version; rows x, y, p, t in ms).
  Official train/test; ``val`` is 10% of every class of the official train set.

Each recording is framed by ``tonic.transforms.ToFrame(n_time_bins=time_steps)`` (T bins
spanning the recording) into ``[T, 2, 128, 128]`` event counts, then resized to
``image_size`` (default 48) by area resampling that keeps the total count, so a frame still
holds event counts: float32 ``[T, 2, image_size, image_size]``.

tonic builds its file lists with ``os.walk`` without sorting files; they are sorted here so
item order is the same on every machine. tonic only accepts a folder that still holds the
downloaded archive and at least 1000 (CIFAR10-DVS) / 100 (DVS-Gesture) files; here any
extracted files are accepted, so partial copies work too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.lib.recfunctions  # noqa: F401  tonic's DVSGesture uses np.lib.recfunctions unimported
import tonic.datasets
import torch
from tonic.transforms import ToFrame

from .base import DatasetInfo, SplitDataset
from .errors import DatasetNotFound
from .splits import carve_per_class

OPTIONS = ("image_size",)
DEFAULT_SIZE = 48
SENSOR_SIZE = (128, 128, 2)  # tonic's (W, H, P) for both datasets
TEST_FRACTION = 0.1  # CIFAR10-DVS test split (no official one)
VAL_FRACTION = 0.1


def _has_files(folder: Path, suffix: str) -> bool:
    return folder.is_dir() and next(folder.glob(f"**/*{suffix}"), None) is not None


# The class names must stay those of tonic: tonic names the data folder after the class.
class CIFAR10DVS(tonic.datasets.CIFAR10DVS):
    """tonic's CIFAR10DVS that accepts extracted ``.aedat4`` files without the archive."""

    def _check_exists(self) -> bool:
        return _has_files(Path(self.location_on_system), ".aedat4")


class DVSGesture(tonic.datasets.DVSGesture):
    """tonic's DVSGesture that accepts extracted ``.npy`` files without the archive."""

    def _check_exists(self) -> bool:
        return _has_files(Path(self.location_on_system, self.folder_name), ".npy")


_SPEC = {
    "cifar10-dvs": dict(cls=CIFAR10DVS, num_classes=10, suffix=".aedat4"),
    "dvs-gesture": dict(cls=DVSGesture, num_classes=11, suffix=".npy"),
}


def info(name: str, *, image_size: int | None = None) -> DatasetInfo:
    size = image_size or DEFAULT_SIZE
    return DatasetInfo(name, "events", _SPEC[name]["num_classes"], 2, (size, size))


def _expected(name: str, root: Path, train: bool) -> tuple[Path, str]:
    """The folder searched and how to fill it."""
    if name == "cifar10-dvs":
        cls = tonic.datasets.CIFAR10DVS
        folder = root / "CIFAR10DVS"
        how = (
            f"Pass download=True (needs network), or download {cls.url} ({cls.filename}) "
            f"into {folder}, extract it there and extract the per-class archives "
            f"({', '.join(cls.data_filename[:2])}, ...) so that "
            f"{folder}/<class>/*.aedat4 exist."
        )
        return folder, how
    cls = tonic.datasets.DVSGesture
    sub = "ibmGestureTrain" if train else "ibmGestureTest"
    url = cls.train_url if train else cls.test_url
    archive = cls.train_filename if train else cls.test_filename
    folder = root / "DVSGesture" / sub
    how = (
        f"Pass download=True (needs network), or download {url} ({archive}) into "
        f"{folder.parent} and extract it there so that "
        f"{folder}/userNN_<lighting>/<label>.npy exist (train and test are separate "
        f"archives)."
    )
    return folder, how


def _tonic_set(name: str, root: Path, train: bool, download: bool):
    """tonic's dataset object (file list sorted), or :class:`DatasetNotFound`."""
    spec = _SPEC[name]
    folder, how = _expected(name, root, train)
    if not _has_files(folder, spec["suffix"]) and not download:
        raise DatasetNotFound(name, folder, how, f"no {spec['suffix']} files")
    kwargs = {} if name == "cifar10-dvs" else {"train": train}
    try:
        source = spec["cls"](save_to=str(root), **kwargs)
    except Exception as exc:  # no network, interrupted download, bad archive...
        raise DatasetNotFound(name, folder, how, f"{type(exc).__name__}: {exc}") from exc
    if not source.data:
        raise DatasetNotFound(name, folder, how, f"no {spec['suffix']} files")
    order = sorted(range(len(source.data)), key=lambda i: source.data[i])
    source.data = [source.data[i] for i in order]
    source.targets = [int(source.targets[i]) for i in order]
    return source


def _area_weights(n_in: int, n_out: int) -> torch.Tensor:
    """``[n_out, n_in]`` overlap of output cell ``i`` (``[i s, (i+1) s)``, ``s = n_in/n_out``)
    with input pixel ``j`` (``[j, j+1)``): every column (input pixel) sums to 1, so counts
    are redistributed, not averaged."""
    s = n_in / n_out
    lo = torch.arange(n_out, dtype=torch.float64)[:, None] * s
    j = torch.arange(n_in, dtype=torch.float64)[None, :]
    overlap = (torch.minimum(lo + s, j + 1) - torch.maximum(lo, j)).clamp(min=0)
    return overlap.float()


def resize_counts(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Area-resample ``[..., H, W]`` count frames to ``size``: each input pixel's count is
    shared among the output cells it overlaps, so the total count is kept exactly."""
    h, w = frames.shape[-2:]
    if (h, w) == tuple(size):
        return frames
    return _area_weights(h, size[0]) @ frames @ _area_weights(w, size[1]).T


class EventDataset(SplitDataset):
    """One split of CIFAR10-DVS or DVS-Gesture, served as resized event-count frames."""

    def __init__(
        self,
        name: str,
        split: str,
        *,
        root: Path,
        download: bool = False,
        time_steps: int = 4,
        image_size: int | None = None,
    ):
        root = Path(root)
        official_test = name == "dvs-gesture" and split == "test"
        source = _tonic_set(name, root, not official_test, download)
        targets = np.asarray(source.targets, dtype=np.int64)
        indices = np.arange(len(targets))
        if name == "cifar10-dvs":  # no official split: carve test first, then val
            train, test = carve_per_class(targets, TEST_FRACTION, seed=0)
            indices = test if split == "test" else train
        if split != "test":
            train, val = carve_per_class(targets[indices], VAL_FRACTION, seed=0)
            indices = indices[train if split == "train" else val]
        super().__init__(info(name, image_size=image_size), split, indices, targets[indices])
        self.source = source
        self.time_steps = int(time_steps)
        self.to_frame = ToFrame(sensor_size=SENSOR_SIZE, n_time_bins=self.time_steps)

    def events(self, i: int) -> np.ndarray:
        """Raw events (tonic's structured array) of item ``i`` of this split."""
        return self.source[int(self.indices[i])][0]

    def load(self, source_index: int) -> torch.Tensor:
        events, _ = self.source[source_index]
        w, h, p = SENSOR_SIZE
        if len(events) == 0:  # tonic's empty-input shortcut returns (T, P, W, H) float64
            frames = torch.zeros(self.time_steps, p, h, w)
        else:
            frames = torch.from_numpy(self.to_frame(events).astype(np.float32))
        return resize_counts(frames, self.info.size)


def load(
    name: str,
    split: str,
    *,
    root: Path,
    download: bool = False,
    time_steps: int = 4,
    image_size: int | None = None,
) -> EventDataset:
    return EventDataset(
        name, split, root=root, download=download, time_steps=time_steps, image_size=image_size
    )
