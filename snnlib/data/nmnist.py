r"""``nmnist``: real event-camera recordings of MNIST digits (N-MNIST), read as event frames.

N-MNIST (Orchard et al. 2015): an ATIS sensor (34x34 pixels, 2 polarities) on a pan-tilt
unit makes three 100 ms saccades in front of each MNIST digit shown on a monitor.

Sources, as for ``cifar10``:

- the full data set (60,000 train / 10,000 test recordings) in tonic's layout,
  ``<root>/NMNIST/Train/<class>/*.bin`` and ``.../Test/...``, read by tonic (``download=True``
  fetches it; needs network);
- otherwise the **subset committed with the project** (:mod:`snnlib.data.nmnist_embedded`:
  1,000 train + 100 test recordings, offline, checksum verified). ``.source`` says which
  (``"tonic"`` or ``"embedded-subset"``): a number from the subset is a number on 100 test
  recordings and must be labelled so.

A dry run (:mod:`snnlib.dryrun`) never downloads: asked for ``download=True`` with the full
data set not on disk, it reads the subset, which then stands in for the full splits (its
``dryrun_full_size`` is the full split's size, so the dry run plans the full run's batches).

Splits: ``test`` is the official test set (or its first 100 recordings); ``val`` is 10% of every
class of the train recordings (fixed, seed 0) and ``train`` the other 90%.

Framing (``[T, 2, H, W]`` float32 event counts, channel 0 OFF, 1 ON), options:

- ``binning="fixed"`` (default): T equal bins of ``[0, duration_us)``, fixed in absolute
  time, so bin :math:`k` always holds the same part of the saccade path (a recording's
  events after ``duration_us`` fall in the last bin); ``"span"``: T equal bins between each
  recording's first and last event (tonic's ``ToFrame(n_time_bins=T)``).
- ``counts="raw"`` (default): event counts; ``"log1p"``: :math:`\log(1 + n)`;
  ``"binary"``: :math:`[n > 0]`.
- ``polarity="both"`` (default): OFF and ON as two channels; ``"merged"``: one channel of
  all events (the sign of the change dropped).
- ``subset=True``: the committed subset even where the full set is on disk (the recordings of
  the 100 MNIST digits committed with it, in their order; tonic orders the full set by class
  folder, so its first 100 test recordings are other digits).
- ``image_size``: area resampling that keeps the total count. Default **17** (half the
  34-pixel sensor): measured in the N-MNIST chapter, the fixed spiking CNN learns real
  recordings much better at 17 px than at 34 px, where its 3x3 layers see too little of a
  28-pixel digit before the global average pool (``image_size=34`` keeps the sensor's grid).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .. import dryrun
from . import framing, nmnist_embedded
from .base import DatasetInfo, SplitDataset
from .errors import DatasetNotFound
from .framing import BINNINGS, COUNTS, POLARITIES, check_framing  # noqa: F401  (re-exported)
from .splits import carve_per_class

OPTIONS = ("image_size", "binning", "counts", "duration_us", "polarity", "subset")
SENSOR = 34  # pixels per side
DEFAULT_SIZE = 17  # frames served by default (see the module text)
DURATION_US = 300_000  # three saccades of 100 ms
VAL_FRACTION = 0.1
FULL_RECORDINGS = {True: 60_000, False: 10_000}  # the full train / test sets
NUM_CLASSES = 10


def info(
    name: str = "nmnist", *, image_size: int | None = None, polarity: str = "both", **_framing
) -> DatasetInfo:
    size = image_size or DEFAULT_SIZE
    channels = 1 if polarity == "merged" else 2
    return DatasetInfo(name, "events", NUM_CLASSES, channels, (size, size))


def frame_events(
    events: np.ndarray,
    offsets: np.ndarray,
    time_steps: int,
    *,
    size: int = SENSOR,
    binning: str = "fixed",
    counts: str = "raw",
    duration_us: int = DURATION_US,
    polarity: str = "both",
) -> torch.Tensor:
    """Frames ``[N, T, P, size, size]`` of the ``N`` recordings
    ``events[offsets[i]:offsets[i+1]]`` of the 34-pixel sensor
    (:func:`snnlib.data.framing.frame_events` with ``sensor=34``, area resampling).

    >>> ev = np.zeros(3, dtype=nmnist_embedded.EVENT_DTYPE)
    >>> ev["x"], ev["y"], ev["t"], ev["p"] = [0, 1, 1], [0, 0, 0], [0, 150_000, 299_999], True
    >>> f = frame_events(ev, np.array([0, 3]), 2)     # T = 2 bins of 150 ms, 34x34
    >>> f.shape, f[0, :, 1, 0, :2].tolist()          # ON events of row 0, x = 0, 1
    (torch.Size([1, 2, 2, 34, 34]), [[1.0, 0.0], [0.0, 2.0]])
    >>> frame_events(ev, np.array([0, 3]), 2, size=17)[0, :, 1, 0, 0].tolist()  # 2x2 -> 1
    [1.0, 2.0]
    """
    return framing.frame_events(
        events,
        offsets,
        time_steps,
        sensor=SENSOR,
        size=size,
        binning=binning,
        counts=counts,
        duration_us=duration_us,
        polarity=polarity,
    )


def _tonic_folder(root: Path, train: bool) -> Path:
    return Path(root) / "NMNIST" / ("Train" if train else "Test")


def _how(root: Path) -> str:
    import tonic.datasets

    cls = tonic.datasets.NMNIST
    return (
        f"Pass download=True (needs network) to fetch {cls.train_url} and {cls.test_url} "
        f"into {Path(root) / 'NMNIST'}, or extract train.zip and test.zip there so that "
        f"{_tonic_folder(root, True)}/<class>/*.bin exist. Without them the embedded subset "
        "(1,000 + 100 recordings) is used."
    )


def _tonic_class():
    """tonic's NMNIST that accepts any extracted ``.bin`` files without the archive (tonic
    itself wants the zip and at least 10,000 files, and would try to download otherwise)."""
    import tonic.datasets

    class NMNIST(tonic.datasets.NMNIST):  # the name stays tonic's: it names the data folder
        def _check_exists(self) -> bool:
            folder = Path(self.location_on_system, self.folder_name)
            return next(folder.glob("*/*.bin"), None) is not None

    return NMNIST


class _TonicRecordings:
    """The full N-MNIST split through tonic, with the embedded subset's interface."""

    source = "tonic"
    sha256 = None

    def __init__(self, root: Path, train: bool, download: bool):
        try:
            self._set = _tonic_class()(save_to=str(root), train=train)
        except Exception as exc:  # no network, interrupted download, bad archive...
            raise DatasetNotFound(
                "nmnist", _tonic_folder(root, train), _how(root), f"{type(exc).__name__}: {exc}"
            ) from exc
        self.targets = np.asarray(self._set.targets, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.targets)

    def recording(self, i: int) -> np.ndarray:
        raw, _ = self._set[int(i)]
        out = np.empty(len(raw), dtype=nmnist_embedded.EVENT_DTYPE)
        for k in ("x", "y", "t"):
            out[k] = raw[k]
        out["p"] = raw["p"].astype(bool)
        return out


def recordings(split_train: bool, root: Path, download: bool, subset: bool = False):
    """The full train/test recordings when on disk (or ``download``), else the subset;
    ``subset=True``: the subset whatever is on disk."""
    if subset:
        return nmnist_embedded.load_split("train" if split_train else "test")
    folder = _tonic_folder(root, split_train)
    on_disk = folder.is_dir() and next(folder.glob("*/*.bin"), None) is not None
    if on_disk or (download and not dryrun.active()):
        return _TonicRecordings(root, split_train, download)
    if download:  # a dry run: the subset stands in for the full set it would download
        dryrun.stand_in(
            "nmnist: the embedded subset (1,000 train / 100 test recordings) stands in for the "
            "full N-MNIST (60,000 / 10,000), not on disk; the full run's batches are planned"
        )
    return nmnist_embedded.load_split("train" if split_train else "test")


class NMNISTDataset(SplitDataset):
    """One split of N-MNIST as event frames; ``events(i)`` gives item ``i``'s raw events.

    The embedded subset is framed once, all recordings together, when the split is made.
    """

    def __init__(
        self,
        split: str,
        *,
        root: Path,
        download: bool = False,
        time_steps: int = 4,
        image_size: int | None = None,
        binning: str = "fixed",
        counts: str = "raw",
        duration_us: int = DURATION_US,
        polarity: str = "both",
        subset: bool = False,
    ):
        check_framing(binning, counts, duration_us, polarity)
        download = download and not subset  # the subset needs no download
        self.rec = recordings(split != "test", Path(root), download, subset)
        targets = np.asarray(self.rec.targets, dtype=np.int64)
        indices = np.arange(len(targets))
        if split != "test":
            train, val = carve_per_class(targets, VAL_FRACTION, seed=0)
            indices = train if split == "train" else val
        super().__init__(
            info(image_size=image_size, polarity=polarity), split, indices, targets[indices]
        )
        self.source = self.rec.source
        self.source_sha256 = self.rec.sha256
        if download and self.source != "tonic":  # only a dry run gets here: a stand-in
            self.dryrun_full_size = round(
                len(indices) * FULL_RECORDINGS[split != "test"] / len(targets)
            )
        self.time_steps = int(time_steps)
        self.framing = dict(
            size=self.info.size[0],
            binning=binning,
            counts=counts,
            duration_us=int(duration_us),
            polarity=polarity,
        )
        self._frames = None
        if isinstance(self.rec, nmnist_embedded.EmbeddedRecordings):
            self._frames = frame_events(
                self.rec.events, self.rec.offsets, self.time_steps, **self.framing
            )

    def events(self, i: int) -> np.ndarray:
        """Raw events (tonic dtype x, y, t, p; sorted by t) of item ``i`` of this split."""
        return self.rec.recording(int(self.indices[i])).copy()

    def load(self, source_index: int) -> torch.Tensor:
        if self._frames is not None:
            return self._frames[source_index]
        ev = self.rec.recording(source_index)
        return frame_events(ev, np.array([0, len(ev)]), self.time_steps, **self.framing)[0]


def load(
    name: str,
    split: str,
    *,
    root: Path,
    download: bool = False,
    time_steps: int = 4,
    image_size: int | None = None,
    **framing,
) -> NMNISTDataset:
    return NMNISTDataset(
        split,
        root=root,
        download=download,
        time_steps=time_steps,
        image_size=image_size,
        **framing,
    )
