"""A user's own data as a data set: :func:`from_tensors` (images or frames already in memory)
and :func:`from_events` (tonic event arrays, framed when loaded).

Both fix the splits once (``test`` given, or ``test_fraction`` of every class carved out,
then ``val_fraction`` of every class of the rest; seed 0, as the built-in data sets do, so
the split never moves with the experiment seed), register the data set under ``name`` and
return its source. In **this process** every loader then takes the name. A notebook runs in
**another process** (``make notebook`` / papermill start a kernel), which sees the name only
when the data were saved::

    from_tensors(x, y, name="mnist", save=True)            # x: [N, 1, 28, 28], y: [N]
    from_events(events, labels, (34, 34, 2), name="nmnist", image_size=17, save=True)

``save=True`` writes ``<data root>/user/<name>.npz`` (compact, checksummed:
:mod:`snnlib.data.user_store`), found by name from any process, e.g.
``make notebook NB=00_substrate PARAMS="-p dataset mnist"``. Loaders written in Python reach
notebooks through a module named in ``$SNNLIB_DATASETS`` (:mod:`snnlib.data.registry`). A
name is never given other data without ``overwrite=True`` (the same data again is fine).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tonic.transforms import ToFrame

from ..fileio import arrays_sha256
from ..validation import ConfigError, check_choice, check_range
from . import user_store
from .base import DatasetInfo, SplitDataset
from .neuromorphic import resize_counts
from .registry import check_name, register_dataset, registered, saved_path
from .splits import carve_per_class

KINDS = ("static", "events")


def _splits(labels: np.ndarray, n_test: int | None, test_fraction: float, val_fraction: float):
    """Source indices per split: the last ``n_test`` items are the test set when given."""
    n = len(labels)
    if n_test is not None:
        rest, test = np.arange(n - n_test), np.arange(n - n_test, n)
    else:
        check_range("test_fraction", test_fraction, 0.0, 1.0)
        rest, test = carve_per_class(labels, test_fraction, seed=0)
    check_range("val_fraction", val_fraction, 0.0, 1.0)
    if val_fraction == 0:  # no validation split (carve_per_class would still take one per class)
        return {"train": rest, "val": rest[:0], "test": test}
    keep, val = carve_per_class(labels[rest], val_fraction, seed=0)
    return {"train": rest[keep], "val": rest[val], "test": test}


def _as_items(x, kind: str, field: str = "x") -> torch.Tensor:
    """``x`` as float32 items, refusing what it cannot represent: complex values (the
    imaginary part would be dropped), NaN or infinite values (training on them only fails
    later, as a diverging loss), and channels-last images ``[N, H, W, C]`` (they would be read
    as C-wide images with H channels)."""
    t = torch.as_tensor(x).detach().cpu()
    if t.is_complex():
        raise ConfigError(f"{field} is complex ({t.dtype}); give real-valued items")
    t = t.to(torch.float32)
    bad = int((~torch.isfinite(t)).sum())
    if bad:
        raise ConfigError(f"{field} holds {bad} non-finite values (NaN or inf); clean them first")
    if kind == "static" and t.dim() == 4 and t.shape[-1] in (1, 3) and t.shape[1] > 4:
        raise ConfigError(
            f"{field} has shape {tuple(t.shape)}: channels-last [N, H, W, C]? from_tensors takes "
            f"[N, C, H, W]; pass {field}.permute(0, 3, 1, 2)"
        )
    return t


def _labels(y, n: int, field: str = "y") -> np.ndarray:
    labels = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
    if labels.ndim != 1 or len(labels) != n or not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(
            f"{field} must be {n} integer class labels (shape [{n}]), got "
            f"dtype {labels.dtype} shape {labels.shape}"
        )
    if n and labels.min() < 0:
        raise ConfigError(f"{field} holds a negative label ({labels.min()}); labels are 0..K-1")
    return labels.astype(np.int64)


class TensorSplit(SplitDataset):
    """One split of an in-memory data set (items of ``source.items``)."""

    def __init__(self, info: DatasetInfo, split: str, indices, targets, items: torch.Tensor):
        super().__init__(info, split, indices, targets)
        self._items = items

    def load(self, source_index: int) -> torch.Tensor:
        return self._items[source_index]


class TensorSource:
    """A data set of tensors, in the shape of a loader module (``OPTIONS``, ``info``, ``load``).

    ``kind="static"``: ``x`` is ``[N, C, H, W]`` (or ``[N, H, W]``, one channel), resized to
    ``image_size`` on request (bilinear). ``kind="events"``: ``x`` holds frames
    ``[N, T, P, H, W]`` (event counts; resized by area, so counts are kept); their T is
    fixed, so loading with another ``time_steps`` is refused.
    """

    OPTIONS = ("image_size",)

    def __init__(self, name, x, labels, splits, kind, num_classes, normalize):
        self.name, self.kind, self.num_classes = name, kind, int(num_classes)
        self.x, self.labels, self.splits, self.normalize = x, labels, splits, bool(normalize)
        self._cache: dict[int | None, torch.Tensor] = {}

    def info(self, name: str | None = None, *, image_size: int | None = None) -> DatasetInfo:
        size = (image_size, image_size) if image_size else tuple(self.x.shape[-2:])
        channels = self.x.shape[1] if self.kind == "static" else self.x.shape[2]
        return DatasetInfo(name or self.name, self.kind, self.num_classes, int(channels), size)

    def _items(self, image_size: int | None) -> torch.Tensor:
        if image_size not in self._cache:
            x = self.x
            if image_size and tuple(x.shape[-2:]) != (image_size, image_size):
                if self.kind == "static":
                    x = F.interpolate(x, size=(image_size, image_size), mode="bilinear")
                else:
                    x = resize_counts(x, (image_size, image_size))
            if self.normalize:
                train = x[torch.as_tensor(self.splits["train"])]
                x = (x - train.mean()) / train.std()
            self._cache[image_size] = x
        return self._cache[image_size]

    def load(self, name, split, *, root=None, download=False, time_steps=4, image_size=None):
        if self.kind == "events" and time_steps != self.x.shape[1]:
            raise ConfigError(
                f"time_steps={time_steps} does not match the T={self.x.shape[1]} frames of "
                f"dataset {name!r} (frames from tensors are fixed; use from_events to frame "
                "events at any T)"
            )
        idx = self.splits[split]
        ds = TensorSplit(
            self.info(name, image_size=image_size),
            split,
            idx,
            self.labels[idx],
            self._items(image_size),
        )
        ds.source_name, ds.source_sha256 = f"user tensors {self.name!r}", self.sha256()
        return ds

    def sha256(self) -> str:
        """The sha256 of the user's arrays (items, labels, splits): what a result names as the
        data it read (computed once)."""
        if not hasattr(self, "_sha256"):
            self._sha256 = arrays_sha256(
                self.x.detach().cpu().contiguous().numpy(), self.labels, *self.splits.values()
            )
        return self._sha256

    def meta(self) -> dict:
        """What defines the data set besides its arrays, and their checksum: two sources with
        equal ``meta`` are the same data set."""
        return dict(
            format="tensors",
            name=self.name,
            kind=self.kind,
            num_classes=self.num_classes,
            normalize=self.normalize,
            sha256=self.sha256(),
        )

    def stored(self) -> tuple[dict, dict]:
        """``meta`` and arrays of its saved file (:mod:`snnlib.data.user_store`)."""
        arrays = {"x": self.x.detach().cpu().contiguous().numpy(), "labels": self.labels}
        return self.meta(), {**arrays, **{f"split_{k}": v for k, v in self.splits.items()}}


def from_tensors(
    x,
    y,
    *,
    name: str,
    kind: str = "static",
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    test: tuple | None = None,
    num_classes: int | None = None,
    normalize: bool = False,
    save: bool = False,
    root: str | Path | None = None,
    overwrite: bool = False,
    replace: bool = False,
) -> TensorSource:
    """Register in-memory data (``x``: images ``[N, C, H, W]`` / ``[N, H, W]``, or event
    frames ``[N, T, P, H, W]`` with ``kind="events"``; ``y``: ``[N]`` labels 0..K-1) as the
    data set ``name``. ``test=(x_test, y_test)`` gives the test set (else ``test_fraction`` of
    every class); ``val_fraction`` of every class of the rest is ``val``. ``normalize``
    scales items by the train split's mean and std. ``save`` writes it under the data root
    (see the module docstring), where every process finds it by name. A name that holds
    other data (registered here or saved) is replaced only with ``overwrite=True``
    (``replace=True``, the older spelling, does the same). Returns the registered source.

    Example:
        >>> import torch
        >>> from snnlib.data import load_dataset, make_loaders, unregister_dataset
        >>> x, y = torch.rand(40, 1, 6, 6), torch.arange(40) % 4
        >>> source = from_tensors(x, y, name="tiny", val_fraction=0.25, test_fraction=0.25)
        >>> [len(load_dataset("tiny", s)) for s in ("train", "val", "test")]
        [24, 8, 8]
        >>> xb, yb = next(iter(make_loaders("tiny", batch_size=5)["test"]))
        >>> tuple(xb.shape), load_dataset("tiny", "test", image_size=12).info.size
        ((5, 1, 6, 6), (12, 12))
        >>> unregister_dataset("tiny")
    """
    check_name(name)
    check_choice("kind", kind, KINDS)
    x = _as_items(x, kind)
    want = {"static": (3, 4), "events": (5,)}[kind]
    if x.dim() not in want:
        shapes = "[N, C, H, W] or [N, H, W]" if kind == "static" else "[N, T, P, H, W]"
        raise ConfigError(f"x has shape {tuple(x.shape)}; kind={kind!r} needs {shapes}")
    if kind == "static" and x.dim() == 3:
        x = x.unsqueeze(1)
    labels = _labels(y, len(x))
    n_test = None
    if test is not None:
        x_test = _as_items(test[0], kind, "test x")
        if kind == "static" and x_test.dim() == 3:
            x_test = x_test.unsqueeze(1)
        if tuple(x_test.shape[1:]) != tuple(x.shape[1:]):
            raise ConfigError(
                f"test x has items of shape {tuple(x_test.shape[1:])}, x {tuple(x.shape[1:])}"
            )
        labels = np.concatenate([labels, _labels(test[1], len(x_test), "test y")])
        x, n_test = torch.cat([x, x_test]), len(x_test)
    classes = int(labels.max()) + 1 if len(labels) else 0
    if num_classes is not None:
        check_range("num_classes", num_classes, max(classes, 1), None, integer=True)
        classes = num_classes
    splits = _splits(labels, n_test, test_fraction, val_fraction)
    source = TensorSource(name, x, labels, splits, kind, classes, normalize)
    return _register(source, save, root, overwrite or replace)


class EventSplit(SplitDataset):
    """One split of events given as tonic arrays, framed into ``[T, P, H, W]`` when loaded."""

    def __init__(self, source: EventSource, info, split, indices, time_steps: int):
        super().__init__(info, split, indices, source.labels[indices])
        self.source, self.time_steps = source, int(time_steps)
        w, h, p = source.sensor_size
        self._shape = (self.time_steps, p, h, w)
        if source.duration is None:  # T bins spanning each recording
            self.to_frame = ToFrame(sensor_size=source.sensor_size, n_time_bins=self.time_steps)
        else:  # T bins of fixed length covering [0, duration)
            window = source.duration / self.time_steps
            self.to_frame = ToFrame(
                sensor_size=source.sensor_size,
                time_window=window,
                start_time=0,
                end_time=window * self.time_steps,
            )

    def events(self, i: int) -> np.ndarray:
        """Raw events (tonic structured array) of item ``i`` of this split."""
        return self.source.events[int(self.indices[i])]

    def load(self, source_index: int) -> torch.Tensor:
        events = self.source.events[source_index]
        if len(events) == 0:  # tonic's empty-input shortcut has another shape
            frames = torch.zeros(self._shape)
        else:
            frames = torch.from_numpy(self.to_frame(events).astype(np.float32))
        return resize_counts(frames, self.info.size)


class EventSource:
    """Event recordings (tonic structured arrays with fields ``x``, ``y``, ``t``, ``p``) in
    the shape of a loader module; framed by tonic's ``ToFrame`` with the loader's
    ``time_steps`` and resized (area, counts kept) to the loader's ``image_size``, else the
    source's own ``image_size``, else the sensor's size."""

    OPTIONS = ("image_size",)

    def __init__(
        self, name, events, labels, sensor_size, splits, num_classes, duration, image_size=None
    ):
        self.name, self.events, self.labels, self.splits = name, events, labels, splits
        self.sensor_size = tuple(int(s) for s in sensor_size)
        self.num_classes, self.duration = int(num_classes), duration
        self.image_size = image_size

    def info(self, name: str | None = None, *, image_size: int | None = None) -> DatasetInfo:
        w, h, p = self.sensor_size
        image_size = image_size or self.image_size
        size = (image_size, image_size) if image_size else (h, w)
        return DatasetInfo(name or self.name, "events", self.num_classes, p, size)

    def load(self, name, split, *, root=None, download=False, time_steps=4, image_size=None):
        info = self.info(name, image_size=image_size)
        ds = EventSplit(self, info, split, self.splits[split], time_steps)
        ds.source_name, ds.source_sha256 = f"user events {self.name!r}", self.sha256()
        return ds

    def _concatenated(self) -> tuple[np.ndarray, np.ndarray]:
        cat = np.concatenate(self.events) if self.events else np.zeros(0, _EVENT_DTYPE)
        lengths = np.array([len(e) for e in self.events], dtype=np.int64)
        return cat, lengths

    def sha256(self) -> str:
        """The sha256 of the user's events, labels and splits (computed once)."""
        if not hasattr(self, "_sha256"):
            cat, lengths = self._concatenated()
            self._sha256 = arrays_sha256(cat, lengths, self.labels, *self.splits.values())
        return self._sha256

    def meta(self) -> dict:
        """What defines the data set besides its arrays, and their checksum (see
        :meth:`TensorSource.meta`)."""
        fields = self.events[0].dtype.names if self.events else _EVENT_DTYPE.names
        return dict(
            format="events",
            name=self.name,
            num_classes=self.num_classes,
            duration=self.duration,
            image_size=self.image_size,
            sensor_size=list(self.sensor_size),
            fields=list(fields),
            sha256=self.sha256(),
        )

    def stored(self) -> tuple[dict, dict]:
        """``meta`` and arrays of its saved file: one column per event field and the
        recordings' ``offsets`` (events stay events; :mod:`snnlib.data.user_store`)."""
        cat, lengths = self._concatenated()
        arrays = {f"{f}": cat[f] for f in cat.dtype.names}
        arrays["offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        arrays["labels"] = self.labels
        return self.meta(), {**arrays, **{f"split_{k}": v for k, v in self.splits.items()}}


_EVENT_DTYPE = np.dtype([("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")])


FIELDS = ("x", "y", "t", "p")


def _event_array(events, field: str, index: int) -> np.ndarray:
    arr = np.asarray(events)
    names = arr.dtype.names
    if names is None or not {"x", "t", "p"} <= set(names) or not set(names) <= set(FIELDS):
        raise ConfigError(
            f"{field} must be tonic structured arrays with fields x, y, t, p (tonic's "
            f"EVENT_DTYPE; y may be left out); recording {index} has dtype {arr.dtype}"
        )
    if arr.ndim != 1:
        raise ConfigError(f"{field} recording {index}: must be 1-d, got shape {arr.shape}")
    return arr


def _check_sensor(sensor_size) -> tuple[int, int, int]:
    ok = isinstance(sensor_size, (tuple, list)) and len(sensor_size) == 3
    ok = ok and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in sensor_size
    )
    if not ok or sensor_size[2] not in (1, 2):
        raise ConfigError(
            f"sensor_size={sensor_size!r} must be tonic's (W, H, P): integers >= 1 with "
            "P = 1 or 2 polarities"
        )
    return tuple(int(v) for v in sensor_size)


def _refuse(where: str, name: str, bad: np.ndarray, values: np.ndarray, want: str):
    first = values[bad][0].item() if values.ndim else values.item()
    raise ConfigError(
        f"{where}: field {name!r} holds {int(bad.sum()):,} value(s) it cannot frame (first: "
        f"{first!r}); {want}"
    )


def _check_recording(ev, where: str, sensor: tuple, duration) -> np.ndarray:
    """One recording as it can be framed, or :class:`ConfigError` naming the recording and
    the field: coordinates integers inside the sensor, polarity 0..P-1, timestamps finite,
    >= 0 and (with ``duration``) below it. Returns it sorted by time (a copy) if it was not."""
    w, h, p = sensor
    limits = {"x": (w, f"x is a column 0..{w - 1} (sensor_size W={w})")}
    limits["y"] = (h, f"y is a row 0..{h - 1} (sensor_size H={h})")
    limits["p"] = (
        p,
        "p is the polarity 0 (OFF) or 1 (ON) (map -1 to 0)"
        if p == 2
        else "with sensor_size P=1 p must be 0 (set events['p'] = 0 to merge polarities)",
    )
    for name, (high, want) in limits.items():
        if name not in ev.dtype.names or not len(ev):
            continue
        v = ev[name]
        if v.dtype.kind == "f":
            bad = ~np.isfinite(v) | (v != np.floor(v))
            if bad.any():
                _refuse(where, name, bad, v, f"{want}; give integers")
        bad = (v < 0) | (v >= high)
        if bad.any():
            _refuse(where, name, bad, v, want)
    t = ev["t"]
    if not len(t):
        return ev
    if t.dtype.kind == "f" and not np.isfinite(t).all():
        _refuse(where, "t", ~np.isfinite(t), t, "timestamps must be finite")
    if (t < 0).any():
        _refuse(where, "t", t < 0, t, "timestamps must be >= 0 (subtract the first one)")
    if duration is not None and (t >= duration).any():
        _refuse(
            where,
            "t",
            t >= duration,
            t,
            f"duration={duration} frames the window [0, {duration}); give a longer duration, "
            "or leave it out (bins spanning each recording)",
        )
    if (np.diff(t) < 0).any():
        return ev[np.argsort(t, kind="stable")]
    return ev


def _checked_events(recordings, field: str, sensor: tuple, duration) -> list[np.ndarray]:
    """Every recording checked (:func:`_check_recording`); says how many it sorted."""
    out, resorted = [], []
    for i, rec in enumerate(recordings):
        ev = _event_array(rec, field, i)
        checked = _check_recording(ev, f"{field} recording {i}", sensor, duration)
        if checked is not ev:
            resorted.append(i)
        out.append(checked)
    if resorted:
        n = sum(len(out[i]) for i in resorted)
        shown = resorted if len(resorted) <= 10 else [*resorted[:10], "..."]
        warnings.warn(
            f"from_events: sorted {n:,} events of {len(resorted)} recordings {shown} by time "
            f"({field} were not in time order; framing needs them sorted)",
            UserWarning,
            stacklevel=3,
        )
    return out


def _check_image_size(image_size, sensor: tuple) -> int | None:
    if image_size is None:
        return None
    if isinstance(image_size, np.integer):  # a numpy int (from a shape, say) is an int here
        image_size = int(image_size)
    side = max(sensor[:2])
    check_range("image_size", image_size, 1, side, integer=True)
    return image_size


def from_events(
    events: Sequence[np.ndarray],
    labels,
    sensor_size: tuple[int, int, int],
    *,
    name: str,
    duration: float | None = None,
    image_size: int | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    test: tuple | None = None,
    num_classes: int | None = None,
    save: bool = False,
    root: str | Path | None = None,
    overwrite: bool = False,
    replace: bool = False,
) -> EventSource:
    """Register event recordings as the data set ``name``: ``events`` one tonic structured
    array per sample (fields ``x``, ``y``, ``t``, ``p``), ``labels`` their classes and
    ``sensor_size`` tonic's ``(W, H, P)``. Items are frames ``[T, P, H, W]`` of event counts
    with T the loader's ``time_steps`` (like every event data set): T bins spanning each
    recording (tonic's ``n_time_bins``, which leaves out a recording's last event), or, with
    ``duration`` (in the events' time unit), T equal bins covering ``[0, duration)``.
    ``image_size`` (1 .. the sensor's longer side) is the frame size items have unless a
    loader asks for another: the sensor's grid area-resampled (counts kept; a small network
    learns a large sensor poorly). Splits, ``test``, ``save``, ``overwrite`` as in
    :func:`from_tensors`.

    Events are checked where they enter: coordinates must be integers inside the sensor,
    ``p`` 0..P-1, timestamps finite, >= 0 and below ``duration``; a refusal names the
    recording and the field. Recordings not in time order are sorted, with a warning that
    says how many events of which recordings.

    Example:
        >>> import numpy as np
        >>> from snnlib.data import load_dataset, unregister_dataset
        >>> dtype = np.dtype([("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")])
        >>> rec = [np.array([(0, 0, 0, 1), (1, 2, 50, 0), (3, 3, 99, 1)], dtype)] * 8
        >>> _ = from_events(rec, [0, 1] * 4, (4, 4, 2), name="blink", duration=100)
        >>> x, y = load_dataset("blink", "train", time_steps=2)[0]
        >>> tuple(x.shape), x.sum().item()                    # [T, P, H, W], 3 events
        ((2, 2, 4, 4), 3.0)
        >>> unregister_dataset("blink")
    """
    check_name(name)
    sensor = _check_sensor(sensor_size)
    image_size = _check_image_size(image_size, sensor)
    if duration is not None:
        check_range("duration", duration, 1e-12, None)
    events = _checked_events(events, "events", sensor, duration)
    y = _labels(labels, len(events), "labels")
    n_test = None
    if test is not None:
        extra = _checked_events(test[0], "test events", sensor, duration)
        y = np.concatenate([y, _labels(test[1], len(extra), "test labels")])
        events, n_test = events + extra, len(extra)
    classes = int(y.max()) + 1 if len(y) else 0
    if num_classes is not None:
        check_range("num_classes", num_classes, max(classes, 1), None, integer=True)
        classes = num_classes
    splits = _splits(y, n_test, test_fraction, val_fraction)
    source = EventSource(name, events, y, sensor, splits, classes, duration, image_size)
    return _register(source, save, root, overwrite or replace)


# -- registering and saving ------------------------------------------------------------------
def _register(source: TensorSource | EventSource, save: bool, root, overwrite: bool):
    """Register ``source`` (and save it with ``save``), unless its name holds other data,
    here or on disk, and ``overwrite`` is not set. The same data again changes nothing."""
    name, ours = source.name, source.meta()
    known = registered(name)
    if known is not None and not overwrite:
        theirs = getattr(known.source, "meta", dict)()
        if theirs != ours:
            raise ConfigError(
                f"dataset {name!r} is already registered in this process with other data "
                f"or settings ({_differences(theirs, ours)}); pass overwrite=True to replace "
                "it, or choose another name"
            )
    path = saved_path(name, root)
    same_file = False
    if path.is_file():
        try:
            theirs = user_store.read_meta(path)
            same_file = {k: theirs.get(k) for k in ours} == ours
        except ConfigError:
            if not overwrite:
                raise
        if not same_file and not overwrite:
            raise ConfigError(
                f"{path} already holds a saved data set {name!r} with other data or settings "
                f"({_differences(theirs, ours)}); pass overwrite=True to replace it (every "
                "notebook reads that file), or choose another name"
            )
    register_dataset(name, source, replace=True)
    if save and not same_file:
        user_store.write(path, *source.stored())
    return source


def _differences(theirs: dict, ours: dict) -> str:
    """``field: theirs -> ours`` for each field of ``ours`` that differs (checksums cut)."""
    out = []
    for key in ours:
        a, b = theirs.get(key), ours[key]
        if a != b:
            a, b = (str(v)[:12] if key == "sha256" else v for v in (a, b))
            out.append(f"{key}: {a!r} -> {b!r}")
    return "; ".join(out) or "unreadable"


def load_saved(path: str | Path) -> TensorSource | EventSource:
    """The source saved by ``from_tensors`` / ``from_events`` with ``save=True``, its
    checksum verified (a changed file raises :class:`ConfigError` naming it)."""
    path = Path(path)
    if path.suffix == ".pt":
        return _load_legacy(path)
    meta, arrays = user_store.read(path)
    splits = {k: arrays[f"split_{k}"] for k in ("train", "val", "test")}
    labels = arrays["labels"]
    try:
        if meta["format"] == "tensors":
            source = TensorSource(
                meta["name"],
                torch.from_numpy(arrays["x"]),
                labels,
                splits,
                meta["kind"],
                meta["num_classes"],
                meta["normalize"],
            )
        else:
            fields = meta["fields"]
            cat = np.empty(len(arrays[fields[0]]), [(f, arrays[f].dtype) for f in fields])
            for f in fields:
                cat[f] = arrays[f]
            offsets = arrays["offsets"]
            events = [cat[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
            source = EventSource(
                meta["name"],
                events,
                labels,
                meta["sensor_size"],
                splits,
                meta["num_classes"],
                meta["duration"],
                meta.get("image_size"),
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"saved data set {path}: {type(exc).__name__} {exc}; save it again"
        ) from exc
    user_store.check_sha256(path, meta["sha256"], source.sha256())
    return source


def _load_legacy(path: Path) -> TensorSource | EventSource:
    """A data set saved as ``.pt`` by an earlier snnlib (``torch.load`` with
    ``weights_only=True``: tensors and plain values only)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    splits = {k: v.numpy() for k, v in state["splits"].items()}
    labels = state["labels"].numpy()
    if state["format"] == "tensors":
        return TensorSource(
            state["name"],
            state["x"],
            labels,
            splits,
            state["kind"],
            state["num_classes"],
            state["normalize"],
        )
    dtype = np.dtype(list(zip(state["fields"], state["dtypes"])))
    cat = np.empty(int(state["lengths"].sum()), dtype)
    for f in state["fields"]:
        cat[f] = state["columns"][f].numpy()
    bounds = np.concatenate([[0], np.cumsum(state["lengths"].numpy())])
    events = [cat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    return EventSource(
        state["name"],
        events,
        labels,
        state["sensor_size"],
        splits,
        state["num_classes"],
        state["duration"],
    )
