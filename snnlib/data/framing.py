r"""Event streams to frames ``[N, T, P, H, W]``, shared by the event data sets.

Used by ``nmnist`` (34-pixel ATIS recordings), ``cifar10-dvs-sim`` (a simulated 128-pixel
DVS) and :mod:`snnlib.data.sensor_compare`. The options (what ``frame_events`` takes):

- ``binning="fixed"``: T equal bins of ``[0, duration_us)``, fixed in absolute time, so bin
  :math:`k` always holds the same part of the path (events after ``duration_us`` fall in
  the last bin); ``"span"``: T equal bins between each recording's first and last event
  (tonic's ``ToFrame(n_time_bins=T)``).
- ``counts="raw"``: event counts; ``"log1p"``: :math:`\log(1 + n)`; ``"binary"``:
  :math:`[n > 0]` (:func:`apply_counts`).
- ``polarity="both"``: OFF (channel 0) and ON (1); ``"merged"``: one channel of all events.
- ``size`` or ``image_size`` (the same: output pixels per side, the name the loaders'
  option has; ``image_size`` is checked to be 1 .. ``sensor``) and ``downsample``, how the
  ``sensor``-pixel grid becomes ``size`` pixels: ``"area"`` (default) bins at sensor
  resolution, then area-resamples (:func:`snnlib.data.neuromorphic.resize_counts`: each
  sensor pixel's count is shared among the output cells it overlaps, the total is kept
  exactly); ``"events"`` divides the event
  coordinates as tonic's ``transforms.Downsample(spatial_factor=size / sensor)`` does
  (:math:`x' = \lfloor x \cdot size / sensor \rfloor`), so counts stay integers, but for a
  non-integer ratio (128 -> 48) output cells cover 2 or 3 sensor columns in turn.
"""

from __future__ import annotations

import numpy as np
import torch

from ..validation import ConfigError, check_choice, check_range
from .neuromorphic import resize_counts

BINNINGS = ("fixed", "span")
COUNTS = ("raw", "log1p", "binary")
POLARITIES = ("both", "merged")
DOWNSAMPLES = ("area", "events")


def check_framing(
    binning: str,
    counts: str,
    duration_us: int,
    polarity: str = "both",
    downsample: str = "area",
) -> None:
    check_choice("binning", binning, BINNINGS)
    check_choice("counts", counts, COUNTS)
    check_range("duration_us", duration_us, 1, None, integer=True)
    check_choice("polarity", polarity, POLARITIES)
    check_choice("downsample", downsample, DOWNSAMPLES)


def apply_counts(frames: torch.Tensor, counts: str) -> torch.Tensor:
    """Raw count frames as ``counts`` asks (``raw`` unchanged, ``log1p``, ``binary``)."""
    if counts == "log1p":
        return torch.log1p(frames)
    if counts == "binary":
        return (frames > 0).float()
    return frames


def frame_events(
    events: np.ndarray,
    offsets: np.ndarray,
    time_steps: int,
    *,
    sensor: int,
    size: int | None = None,
    image_size: int | None = None,
    binning: str = "fixed",
    counts: str = "raw",
    duration_us: int,
    polarity: str = "both",
    downsample: str = "area",
) -> torch.Tensor:
    """Frames ``[N, T, P, size, size]`` of the ``N`` recordings
    ``events[offsets[i]:offsets[i+1]]`` of a ``sensor x sensor`` sensor (``P`` = 2, or 1
    with ``polarity="merged"``; ``size``, or ``image_size``, defaults to ``sensor``: the
    sensor's grid downsampled to it). All recordings are binned
    at once (one ``bincount``). Example (tonic-style coordinate division, 4 -> 2 pixels):

    >>> ev = np.zeros(3, dtype=[("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "?")])
    >>> ev["x"], ev["y"], ev["t"], ev["p"] = [0, 1, 3], [0, 0, 0], [0, 10, 19], True
    >>> f = frame_events(ev, np.array([0, 3]), 2, sensor=4, size=2, duration_us=20,
    ...                  downsample="events")
    >>> f.shape, f[0, :, 1, 0].tolist()
    (torch.Size([1, 2, 2, 2, 2]), [[1.0, 0.0], [1.0, 1.0]])
    """
    check_framing(binning, counts, duration_us, polarity, downsample)
    if image_size is not None:
        check_range("image_size", image_size, 1, sensor, integer=True)
        if size is not None and size != image_size:
            raise ConfigError(f"frame size: size={size} and image_size={image_size} differ")
        size = image_size
    size = int(size or sensor)
    offsets = np.asarray(offsets, dtype=np.int64)
    n, T = len(offsets) - 1, int(time_steps)
    sample = np.repeat(np.arange(n), np.diff(offsets))
    t = events["t"].astype(np.float64)
    if binning == "fixed":
        b = np.floor(t * T / duration_us)
    else:  # per-recording span, as tonic's ToFrame(n_time_bins=T)
        lo = np.minimum.reduceat(t, offsets[:-1]) if len(t) else t
        hi = np.maximum.reduceat(t, offsets[:-1]) if len(t) else t
        lo, hi = lo[sample], hi[sample]
        b = np.floor((t - lo) * T / np.maximum(hi - lo, 1.0))
    b = np.clip(b, 0, T - 1).astype(np.int64)
    x = np.clip(events["x"].astype(np.int64), 0, sensor - 1)
    y = np.clip(events["y"].astype(np.int64), 0, sensor - 1)
    grid = sensor
    if downsample == "events" and size != sensor:
        x, y, grid = (x * size) // sensor, (y * size) // sensor, size
    p = events["p"].astype(np.int64)
    flat = (((sample * T + b) * 2 + p) * grid + y) * grid + x
    hist = np.bincount(flat, minlength=n * T * 2 * grid * grid)
    frames = torch.from_numpy(hist.astype(np.float32)).view(n, T, 2, grid, grid)
    if polarity == "merged":
        frames = frames.sum(2, keepdim=True)
    if grid != size:
        frames = resize_counts(frames, (size, size))
    return apply_counts(frames, counts)
