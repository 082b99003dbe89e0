r"""Real event-camera recordings against the simulator: statistics, distances, calibration.

A set of recordings (``events[offsets[i]:offsets[i+1]]``, tonic's dtype, as
:func:`snnlib.data.dvs_sim.simulate_dvs_batch` returns and ``nmnist`` stores them) is
summarised by :func:`recording_stats` (:class:`RecordingStats`):

- events per recording and the fraction of ON events (pooled over all events);
- the *spatial* distribution: the mean event-count map per recording, ``[size, size]``;
- the *temporal* distribution: events per recording in bins of ``bin_us`` over
  ``[0, duration_us)`` (events at or after ``duration_us`` fall in the last bin, as
  ``frame_events(binning="fixed")`` puts them), and the ON fraction per bin;
- per-pixel *inter-event intervals*: the time from one event of a pixel to its next (any
  polarity, within one recording) in logarithmic bins from 1 us; a refractory period is a
  floor of this distribution (``isi_p01``: its 1st percentile);
- events per *active* pixel and recording (a pixel with at least one event): the number of
  threshold crossings an edge produces, which the contrast threshold and its spread set.

:func:`distances` compares two sets (one real, one simulated) by

- ``count_rel_err``: relative error of the mean events per recording, (sim - real) / real;
- ``on_fraction_diff``: difference of the ON fractions, sim - real;
- ``temporal_tv``, ``spatial_tv``, ``isi_tv``, ``pixel_count_tv``: total-variation
  distances :math:`\tfrac12 \sum_k |p_k - q_k|` (0 = equal, 1 = disjoint) of the normalised
  temporal histogram, spatial map, interval histogram and events-per-pixel histogram;
- ``temporal_w1_ms`` and ``isi_w1_log10``: 1-Wasserstein distances of the temporal
  distribution (in ms) and of the log10 intervals (in decades), from the histograms;
- ``count_corr``: Pearson correlation of the per-recording counts when the two sets are the
  same recordings in the same order (the same digits), else NaN.

:func:`calibration_loss` is the weighted sum of the absolute values of some of them
(:data:`LOSS_WEIGHTS`). Geometry and noise are read off the real data directly:
:func:`estimate_path` finds the digit's size and its position over time by correlating each
window's events with the gradient magnitude of the image the recording shows, and fits the
three corners of the saccade path; :func:`estimate_noise` counts the events far from any
position of the digit. :func:`calibrate` then fits the sensor's remaining parameters by a
deterministic coordinate search over a grid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from scipy import ndimage

from ..validation import ConfigError, check_range
from .dvs_sim import (
    DVSConfig,
    _place,
    path_corners,
    path_weights,
    saccade_path,
    simulate_dvs_batch,
)
from .nmnist import frame_events

#: interval bin edges in us: 0, then 10 bins per decade from 1 us to 10^5.6 us (~0.4 s)
ISI_EDGES = np.concatenate([[0.0], np.logspace(0.0, 5.6, 57)])
MAX_PIXEL_COUNT = 48  # events-per-pixel histogram: 1..48, more counted as 48
#: what :func:`calibration_loss` adds up (absolute values, these weights)
LOSS_WEIGHTS = {
    "count_rel_err": 1.0,
    "on_fraction_diff": 2.0,
    "temporal_tv": 1.0,
    "spatial_tv": 1.0,
    "isi_tv": 1.0,
    "pixel_count_tv": 1.0,
}


@dataclass
class RecordingStats:
    """Statistics of a set of recordings (see the module docstring); arrays are numpy.

    ``counts``: events per recording; ``on_fraction``: ON events / all events;
    ``spatial``: mean events per pixel and recording ``[size, size]`` (row y, column x);
    ``temporal``: mean events per recording in each of the bins ``temporal_edges`` (us),
    ``temporal_on``: ON fraction per bin (NaN where empty); ``isi``: interval counts in the
    bins ``isi_edges`` (us); ``pixel_counts[k]``: active pixels with ``k + 1`` events.
    """

    n: int
    counts: np.ndarray
    on_fraction: float
    spatial: np.ndarray
    temporal: np.ndarray
    temporal_edges: np.ndarray
    temporal_on: np.ndarray
    isi: np.ndarray
    isi_edges: np.ndarray
    isi_p01: float
    isi_median: float
    pixel_counts: np.ndarray

    @property
    def mean_count(self) -> float:
        return float(self.counts.mean()) if self.n else math.nan

    def summary(self) -> dict[str, float]:
        """Plain-float headline numbers (for a table or a result file)."""
        return {
            "recordings": int(self.n),
            "events_mean": self.mean_count,
            "events_sd": float(self.counts.std(ddof=1)) if self.n > 1 else math.nan,
            "on_fraction": float(self.on_fraction),
            "isi_p01_us": float(self.isi_p01),
            "isi_median_us": float(self.isi_median),
            "events_per_active_pixel": float(
                (np.arange(1, len(self.pixel_counts) + 1) * self.pixel_counts).sum()
                / max(self.pixel_counts.sum(), 1)
            ),
        }


def recording_stats(
    events: np.ndarray,
    offsets: np.ndarray,
    *,
    size: int = 34,
    duration_us: int = 300_000,
    bin_us: int = 5_000,
    isi_edges: np.ndarray = ISI_EDGES,
) -> RecordingStats:
    """:class:`RecordingStats` of the recordings ``events[offsets[i]:offsets[i+1]]``.

    Example (two recordings; pixel (0, 0) fires at 0 and 2 ms):

    >>> from snnlib.data.dvs_sim import EVENT_DTYPE
    >>> ev = np.zeros(3, EVENT_DTYPE)
    >>> ev["x"], ev["t"], ev["p"] = [0, 0, 5], [0, 2000, 1000], [True, False, True]
    >>> s = recording_stats(ev, np.array([0, 2, 3]), size=8, duration_us=10_000, bin_us=5000)
    >>> s.counts.tolist(), round(s.on_fraction, 3), s.temporal.tolist(), int(s.isi.sum())
    ([2, 1], 0.667, [1.5, 0.0], 1)
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    if n < 1 or offsets[0] != 0 or offsets[-1] != len(events) or np.any(np.diff(offsets) < 0):
        raise ConfigError("offsets must rise from 0 to len(events), one more than recordings")
    check_range("bin_us", bin_us, 1, None, integer=True)
    counts = np.diff(offsets)
    sample = np.repeat(np.arange(n), counts)
    x = np.clip(events["x"].astype(np.int64), 0, size - 1)
    y = np.clip(events["y"].astype(np.int64), 0, size - 1)
    t = events["t"].astype(np.int64)
    p = events["p"].astype(bool)
    spatial = np.bincount(y * size + x, minlength=size * size).reshape(size, size) / n
    n_bins = -(-int(duration_us) // int(bin_us))
    b = np.clip(t // bin_us, 0, n_bins - 1)
    per_bin = np.bincount(b, minlength=n_bins)
    on_bin = np.bincount(b, weights=p, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        temporal_on = np.where(per_bin > 0, on_bin / np.maximum(per_bin, 1), np.nan)
    pixel = (sample * size + y) * size + x
    order = np.lexsort((t, pixel))
    ps, ts = pixel[order], t[order]
    same = ps[1:] == ps[:-1]
    isi = np.diff(ts)[same].astype(np.float64)
    isi_hist = np.histogram(np.clip(isi, 0, isi_edges[-1] - 1), bins=isi_edges)[0]
    per_pixel = np.bincount(pixel)
    per_pixel = np.clip(per_pixel[per_pixel > 0], 1, MAX_PIXEL_COUNT)
    pixel_counts = np.bincount(per_pixel - 1, minlength=MAX_PIXEL_COUNT)
    return RecordingStats(
        n=n,
        counts=counts,
        on_fraction=float(p.mean()) if len(p) else math.nan,
        spatial=spatial,
        temporal=per_bin / n,
        temporal_edges=np.arange(n_bins + 1, dtype=np.float64) * bin_us,
        temporal_on=temporal_on,
        isi=isi_hist,
        isi_edges=np.asarray(isi_edges, dtype=np.float64),
        isi_p01=float(np.percentile(isi, 1)) if len(isi) else math.nan,
        isi_median=float(np.median(isi)) if len(isi) else math.nan,
        pixel_counts=pixel_counts,
    )


def _normalised(h: np.ndarray) -> np.ndarray:
    h = np.asarray(h, dtype=np.float64).ravel()
    s = h.sum()
    return h / s if s > 0 else np.full(h.shape, 1.0 / max(h.size, 1))


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """:math:`\\tfrac12 \\sum |p - q|` of two histograms, each normalised to sum 1.

    >>> total_variation([1, 1, 0, 0], [0, 0, 2, 2]), total_variation([1, 3], [2, 6])
    (1.0, 0.0)
    """
    p, q = _normalised(p), _normalised(q)
    if p.shape != q.shape:
        raise ConfigError(f"histograms of {p.size} and {q.size} bins cannot be compared")
    return float(0.5 * np.abs(p - q).sum())


def wasserstein_1d(p: np.ndarray, q: np.ndarray, edges: np.ndarray) -> float:
    """1-Wasserstein distance of two histograms on the same ``edges`` (mass in a bin at its
    centre): :math:`\\sum_k |P_k - Q_k|\\, \\Delta_k` over the cumulative sums.

    >>> wasserstein_1d([1, 0, 0], [0, 0, 1], np.array([0.0, 1, 2, 3]))
    2.0
    """
    p, q = _normalised(p), _normalised(q)
    centres = 0.5 * (edges[1:] + edges[:-1])
    return float(np.sum(np.abs(np.cumsum(p) - np.cumsum(q))[:-1] * np.diff(centres)))


def distances(real: RecordingStats, sim: RecordingStats) -> dict[str, float]:
    """How far the simulated set ``sim`` is from ``real`` (each key: module docstring).
    Two equal sets are 0 apart (``count_corr`` 1 when they are the same recordings)."""
    if real.spatial.shape != sim.spatial.shape or len(real.temporal) != len(sim.temporal):
        raise ConfigError("the two sets were summarised on different sensors or bins")
    log_edges = np.log10(np.maximum(real.isi_edges, 0.5))
    if real.n == sim.n and real.n > 1 and real.counts.std() > 0 and sim.counts.std() > 0:
        count_corr = float(np.corrcoef(real.counts, sim.counts)[0, 1])
    else:
        count_corr = math.nan
    return {
        "count_rel_err": (sim.mean_count - real.mean_count) / real.mean_count,
        "on_fraction_diff": float(sim.on_fraction - real.on_fraction),
        "temporal_tv": total_variation(real.temporal, sim.temporal),
        "spatial_tv": total_variation(real.spatial, sim.spatial),
        "isi_tv": total_variation(real.isi, sim.isi),
        "pixel_count_tv": total_variation(real.pixel_counts, sim.pixel_counts),
        "temporal_w1_ms": wasserstein_1d(real.temporal, sim.temporal, real.temporal_edges) / 1e3,
        "isi_w1_log10": wasserstein_1d(real.isi, sim.isi, log_edges),
        "count_corr": count_corr,
    }


def calibration_loss(d: Mapping[str, float], weights: Mapping[str, float] | None = None) -> float:
    """:math:`\\sum_k w_k |d_k|` over ``weights`` (default :data:`LOSS_WEIGHTS`)."""
    weights = LOSS_WEIGHTS if weights is None else weights
    return float(sum(w * abs(d[k]) for k, w in weights.items()))


# -- geometry and noise read off the real recordings -------------------------------------------
@dataclass
class PathEstimate:
    """What :func:`estimate_path` found: the digit's rendered size, the saccade path's three
    corners ``vertices`` (dx, dy in px, relative to the centred digit), the three
    ``saccade_windows`` (start, end in us), the progress ``profile`` that fits best, and the
    per-window positions it was fitted to."""

    digit_size: int
    vertices: tuple[tuple[float, float], ...]
    saccade_windows: tuple[tuple[float, float], ...]
    profile: str
    window_t: np.ndarray  # window centres, us
    positions: np.ndarray  # [windows, 2] (dx, dy) of the best correlation
    weights: np.ndarray  # events per window (all recordings)
    size_scores: dict[int, float] = field(default_factory=dict)
    rms: dict[str, float] = field(default_factory=dict)  # weighted residual per profile, px

    def config(self, base: DVSConfig) -> DVSConfig:
        """``base`` with this digit size, path, saccade windows and profile."""
        return replace(
            base,
            digit_size=self.digit_size,
            vertices=self.vertices,
            saccade_windows=self.saccade_windows,
            profile=self.profile,
        )


def _gradient_templates(images: np.ndarray, size: int, digit_size: int) -> np.ndarray:
    canvas = _place(images, DVSConfig(size=size, digit_size=digit_size))
    gy, gx = np.gradient(canvas, axis=(1, 2))
    return np.hypot(gx, gy)


def _fit_corners(t, positions, weights, windows, profile):
    """Least-squares corners of the path model and the weighted RMS residual (px)."""
    A = path_weights(t, windows, profile)
    sw = np.sqrt(weights)[:, None]
    corners, *_ = np.linalg.lstsq(A * sw, positions * sw, rcond=None)
    resid = positions - A @ corners
    return corners, float(np.sqrt((weights * (resid**2).sum(1)).sum() / weights.sum()))


def fit_windows(
    t: np.ndarray,
    positions: np.ndarray,
    weights: np.ndarray,
    profile: str,
    *,
    duration_us: int = 300_000,
    step_us: float = 2_500.0,
    max_move_us: float = 30_000.0,
    min_length_us: float = 20_000.0,
    rounds: int = 4,
) -> tuple[tuple[tuple[float, float], ...], np.ndarray, float]:
    """Saccade windows, corners and RMS residual that fit measured positions best.

    Starts from three back-to-back windows of ``duration_us / 3`` and moves one start or end
    at a time over a grid of ``step_us`` within ``max_move_us`` of its initial value (each
    window at least ``min_length_us`` long, in order, inside ``[0, duration_us]``), keeping a
    move only if it lowers the residual of :func:`_fit_corners`; ``rounds`` sweeps.
    """
    third = duration_us / 3
    init = [[k * third, (k + 1) * third] for k in range(3)]
    win = [list(w) for w in init]
    _, best = _fit_corners(t, positions, weights, win, profile)
    moves = np.arange(-max_move_us, max_move_us + 1e-9, step_us)
    for _ in range(rounds):
        changed = False
        for k in range(3):
            for j in range(2):
                for v in init[k][j] + moves:
                    trial = [list(w) for w in win]
                    trial[k][j] = float(v)
                    flat = [x for w in trial for x in w]
                    if (
                        flat[0] < 0
                        or flat[-1] > duration_us
                        or any(b < a for a, b in zip(flat, flat[1:]))
                        or any(e - a < min_length_us for a, e in trial)
                    ):
                        continue
                    _, r = _fit_corners(t, positions, weights, trial, profile)
                    if r < best - 1e-12:
                        best, win, changed = r, trial, True
        if not changed:
            break
    corners, best = _fit_corners(t, positions, weights, win, profile)
    return tuple((float(a), float(b)) for a, b in win), corners, best


def estimate_path(
    events: np.ndarray,
    offsets: np.ndarray,
    images: np.ndarray,
    *,
    size: int = 34,
    window_us: int = 5_000,
    duration_us: int = 300_000,
    digit_sizes: Sequence[int] = (24, 26, 28, 30, 32),
    max_shift: int = 8,
) -> PathEstimate:
    """Digit size, saccade corners, windows and progress profile of recordings of ``images``.

    ``images[i]`` (``[N, h, w]`` in [0, 1]) is the image recording ``i`` shows. For each
    candidate ``digit_size`` the images are placed as the simulator places them
    (:func:`snnlib.data.dvs_sim._place`) and their gradient magnitude :math:`G_i` is the
    template of where edges, hence events, are. For each window :math:`w` of ``window_us``
    the correlation :math:`S_w(s) = \\sum_i \\sum_{xy} E_{iw}(xy + s)\\, G_i(xy)` of the
    window's event map with the template shifted by :math:`s` is computed for all integer
    shifts (FFT) and summed over recordings; the size whose peaks are highest (per unit
    template energy) wins. Each window's peak, refined to sub-pixel by a parabola through its
    neighbours, is the digit's offset at the window's centre. The three corners follow by
    least squares (windows weighted by their events) from the simulator's path model
    (:func:`snnlib.data.dvs_sim.path_weights`), and the saccade windows by
    :func:`fit_windows`, for the ``linear`` and the ``smooth`` profile; the profile with the
    smaller weighted RMS residual is returned.

    The corners are where the *events* say the digit is; the sensor's latency and the
    edges' blur can make the fitted path a little larger or smaller than the one the
    simulator needs to reproduce the statistics, which :func:`calibrate` can correct with
    ``path_scale``.
    """
    images = np.asarray(images, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    if images.ndim != 3 or len(images) != n:
        raise ConfigError(f"need one [h, w] image per recording: {images.shape} for {n}")
    n_win = -(-int(duration_us) // int(window_us))
    sample = np.repeat(np.arange(n), np.diff(offsets))
    win = np.clip(events["t"].astype(np.int64) // window_us, 0, n_win - 1)
    x = np.clip(events["x"].astype(np.int64), 0, size - 1)
    y = np.clip(events["y"].astype(np.int64), 0, size - 1)
    P = 1 << int(math.ceil(math.log2(size + 2 * max_shift + 1)))
    FG = {}  # conjugate spectra of every candidate's templates
    norms = {}
    for d in digit_sizes:
        G = np.zeros((n, P, P))
        G[:, :size, :size] = _gradient_templates(images, size, int(d))
        FG[int(d)] = np.conj(np.fft.rfft2(G))
        norms[int(d)] = math.sqrt(float((G**2).sum()))
    cross = {d: 0.0 for d in FG}  # sum over recordings of spectrum(E) x conj(spectrum(G))
    weights = np.zeros(n_win)
    for lo in range(0, n, 16):  # 16 recordings at a time bound the memory
        hi = min(lo + 16, n)
        E = np.zeros((hi - lo, n_win, P, P))
        m_ = (sample >= lo) & (sample < hi)
        np.add.at(E, (sample[m_] - lo, win[m_], y[m_], x[m_]), 1.0)
        weights += E.sum(axis=(0, 2, 3))
        FE = np.fft.rfft2(E)
        for d in FG:
            cross[d] = cross[d] + np.einsum("iwab,iab->wab", FE, FG[d][lo:hi])
    rows = np.r_[P - max_shift : P, 0 : max_shift + 1]  # FFT index of shifts -m..m
    best = None
    size_scores = {}
    for d in FG:
        S = np.fft.irfft2(cross[d], s=(P, P))[:, rows][:, :, rows]  # [windows, dy, dx]
        score = float(S.reshape(n_win, -1).max(axis=1).sum() / norms[d])
        size_scores[d] = score
        if best is None or score > best[0]:
            best = (score, d, S)
    _, digit_size, S = best
    m = max_shift
    positions = np.zeros((n_win, 2))
    for w in range(n_win):
        iy, ix = np.unravel_index(np.argmax(S[w]), S[w].shape)
        pos = []
        for axis, i in ((1, ix), (0, iy)):
            line = S[w, iy, :] if axis == 1 else S[w, :, ix]
            off = 0.0
            if 0 < i < len(line) - 1:
                a, b, c = line[i - 1], line[i], line[i + 1]
                den = a - 2 * b + c
                off = 0.5 * (a - c) / den if den < 0 else 0.0
            pos.append(i - m + float(np.clip(off, -0.5, 0.5)))
        positions[w] = pos
    window_t = (np.arange(n_win) + 0.5) * window_us
    rms, fits = {}, {}
    for profile in ("linear", "smooth"):
        windows, corners, r = fit_windows(
            window_t, positions, weights, profile, duration_us=duration_us
        )
        rms[profile], fits[profile] = r, (windows, corners)
    profile = min(rms, key=rms.get)
    windows, corners = fits[profile]
    vertices = tuple((round(float(a), 3), round(float(b), 3)) for a, b in corners)
    return PathEstimate(
        digit_size, vertices, windows, profile, window_t, positions, weights, size_scores, rms
    )


def digit_support(images: np.ndarray, config: DVSConfig, margin: int = 2) -> np.ndarray:
    """``[N, size, size]`` bool: pixels the digit's ink reaches at some point of the path,
    grown by ``margin`` pixels (events outside are noise, or a path the model lacks)."""
    canvas = _place(images, config) > 0.05
    _, dx, dy = saccade_path(config)
    reach = np.zeros_like(canvas)
    for ix in range(int(np.floor(dx.min())), int(np.ceil(dx.max())) + 1):
        for iy in range(int(np.floor(dy.min())), int(np.ceil(dy.max())) + 1):
            reach |= np.roll(np.roll(canvas, iy, axis=1), ix, axis=2)
    if margin > 0:
        reach = ndimage.binary_dilation(
            reach, structure=np.ones((1, 3, 3), bool), iterations=margin
        )
    return reach


def estimate_noise(
    events: np.ndarray,
    offsets: np.ndarray,
    images: np.ndarray,
    config: DVSConfig,
    *,
    margin: int = 2,
    duration_us: int | None = None,
) -> dict[str, float]:
    """Background activity of real recordings of ``images`` seen through ``config``'s
    geometry: events at pixels outside :func:`digit_support`, per pixel and second
    (``noise_rate``) and their ON fraction (``noise_on_fraction``); ``pixels`` is the mean
    number of such pixels per recording."""
    offsets = np.asarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    size = config.size
    duration = (duration_us or config.duration_us) * 1e-6
    outside = ~digit_support(images, config, margin)
    sample = np.repeat(np.arange(n), np.diff(offsets))
    x = np.clip(events["x"].astype(np.int64), 0, size - 1)
    y = np.clip(events["y"].astype(np.int64), 0, size - 1)
    hit = outside[sample, y, x]
    pixels = float(outside.sum())
    n_out = int(hit.sum())
    return {
        "noise_rate": n_out / max(pixels, 1.0) / duration,
        "noise_on_fraction": float(events["p"][hit].mean()) if n_out else 0.5,
        "pixels": pixels / n,
        "events": n_out / n,
    }


# -- calibration ---------------------------------------------------------------------------
@dataclass
class Calibration:
    """Result of :func:`calibrate`: the best configuration, its loss and distances, the loss
    of the starting configuration, and every evaluation in order (``trace``: dicts of the
    parameter tried, its value, the loss and the whole point)."""

    config: DVSConfig
    loss: float
    distances: dict[str, float]
    start_loss: float
    trace: list[dict] = field(default_factory=list)
    path_scale: float = 1.0
    evaluations: int = 0  # distinct points simulated


def scale_path(config: DVSConfig, factor: float) -> DVSConfig:
    """``config`` with the saccade path scaled by ``factor`` about its centroid."""
    vx, vy = path_corners(config)
    v = np.stack([vx[:3], vy[:3]], 1)
    c = v.mean(0)
    scaled = c + factor * (v - c)
    return replace(config, vertices=tuple((float(a), float(b)) for a, b in scaled))


def _names(key) -> tuple[str, ...]:
    return (key,) if isinstance(key, str) else tuple(key)


def calibrate(
    images: np.ndarray,
    real: RecordingStats,
    base: DVSConfig,
    grid: Mapping,
    *,
    rounds: int = 2,
    sim_seed: int = 0,
    weights: Mapping[str, float] | None = None,
    bin_us: int = 5_000,
    progress_bar: bool = False,
) -> Calibration:
    """Fit simulator parameters to real recordings of ``images`` by coordinate search.

    ``images`` (``[N, h, w]`` in [0, 1]) are simulated with ``sim_seed`` and summarised like
    ``real`` (:func:`recording_stats` of the real recordings of the same images; its sensor
    size, duration and bins are used). ``grid`` maps a
    :class:`~snnlib.data.dvs_sim.DVSConfig` field (or ``"path_scale"``: the saccade path
    scaled about its centroid, :func:`scale_path`) to the values to try; a key may also be a
    tuple of fields with tuples of values, searched as one block (parameters that trade off,
    such as the threshold and the refractory period, which both set the event count).

    Starting from ``base`` with each grid entry at its value nearest to ``base``'s (distance
    relative to the grid's range), each round sweeps the entries in ``grid``'s order and sets
    each to the value of least :func:`calibration_loss` given the others; a value replaces the
    current one only if strictly better, so ties keep the earlier value. It stops after
    ``rounds`` rounds or after a round that changed nothing. Deterministic: the same inputs
    give the same result; every point is simulated once (cached).

    Example (a threshold recovered from the simulator's own output)::

        truth = recording_stats(*simulate_dvs_batch(images, seed=1, config=cfg))
        calibrate(images, truth, cfg, {"contrast_threshold": [0.2, 0.3, 0.4]}).config
    """
    check_range("rounds", rounds, 1, None, integer=True)
    if not grid:
        raise ConfigError("calibrate needs a grid of at least one parameter")
    images = np.asarray(images, dtype=np.float32)
    size = real.spatial.shape[0]
    duration = int(real.temporal_edges[-1])
    known = set(DVSConfig.__dataclass_fields__) | {"path_scale"}
    unknown = sorted({n for k in grid for n in _names(k)} - known)
    if unknown:
        raise ConfigError(
            f"calibrate: unknown parameter(s) {unknown}; choose among {sorted(known)}"
        )
    grid = {k: [v if isinstance(k, str) else tuple(v) for v in vals] for k, vals in grid.items()}
    for k, vals in grid.items():
        if not vals:
            raise ConfigError(f"calibrate: no values to try for {k!r}")
        if not isinstance(k, str) and any(len(v) != len(k) for v in vals):
            raise ConfigError(f"calibrate: every value of {k!r} needs {len(k)} numbers")

    def current(name):
        return 1.0 if name == "path_scale" else getattr(base, name)

    def nearest(key, values):
        names = _names(key)
        rows = np.array([v if not isinstance(key, str) else (v,) for v in values], float)
        span = np.ptp(rows, axis=0)
        span[span == 0] = 1.0
        cur = np.array([current(n) for n in names], float)
        return values[int(np.argmin((np.abs(rows - cur) / span).sum(1)))]

    def assign(pt, key, value):
        vals = (value,) if isinstance(key, str) else value
        return {**pt, **dict(zip(_names(key), vals))}

    point: dict = {}
    for k, vals in grid.items():
        point = assign(point, k, nearest(k, vals))
    cache: dict[tuple, tuple[float, dict]] = {}
    trace: list[dict] = []

    def config_of(pt):
        cfg = replace(base, **{k: v for k, v in pt.items() if k != "path_scale"})
        return scale_path(cfg, pt["path_scale"]) if "path_scale" in pt else cfg

    def evaluate(pt):
        key = tuple(pt.items())  # fields always in the same order
        if key not in cache:
            ev, off = simulate_dvs_batch(images, seed=sim_seed, config=config_of(pt))
            sim = recording_stats(ev, off, size=size, duration_us=duration, bin_us=bin_us)
            d = distances(real, sim)
            cache[key] = (calibration_loss(d, weights), d)
        return cache[key]

    from tqdm.auto import tqdm

    total = sum(len(v) for v in grid.values()) * rounds
    bar = tqdm(total=total, desc="calibrate", disable=not progress_bar, leave=False)
    best_loss, _ = evaluate(point)
    start_loss = best_loss
    try:
        for r in range(rounds):
            changed = False
            for key, values in grid.items():
                for v in values:
                    trial = assign(point, key, v)
                    loss, _ = evaluate(trial)
                    name = key if isinstance(key, str) else "+".join(key)
                    trace.append(
                        {"round": r, "param": name, "value": v, "loss": loss, "point": trial}
                    )
                    bar.update(1)
                    if loss < best_loss:
                        best_loss, point, changed = loss, trial, True
            if not changed:
                break
    finally:
        bar.close()
    loss, d = evaluate(point)
    return Calibration(
        config=config_of(point),
        loss=loss,
        distances=d,
        start_loss=start_loss,
        trace=trace,
        path_scale=float(point.get("path_scale", 1.0)),
        evaluations=len(cache),
    )


# -- frames for training -----------------------------------------------------------------------
def simulated_frames(
    images: np.ndarray,
    config: DVSConfig,
    *,
    sim_seeds: Sequence[int] = (0,),
    time_steps: int = 4,
    image_size: int = 17,
    **framing,
) -> torch.Tensor:
    """Frames ``[len(sim_seeds) * N, T, 2, image_size, image_size]`` of ``images`` simulated
    once per sim seed (seed-major: the copies of image ``i`` are rows ``i + k N``), framed as
    ``load_dataset("nmnist", ...)`` frames real recordings
    (:func:`snnlib.data.nmnist.frame_events`; ``framing``: ``binning``, ``counts``,
    ``duration_us``). Needs the 34-pixel sensor."""
    if config.size != 34:
        raise ConfigError(f"nmnist framing needs a 34-pixel sensor, not size={config.size}")
    out = []
    for s in sim_seeds:
        ev, off = simulate_dvs_batch(images, seed=int(s), config=config)
        out.append(frame_events(ev, off, time_steps, size=image_size, **framing))
    return torch.cat(out)


# -- sets of recordings ------------------------------------------------------------------------
def concat_recordings(recordings: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One ``events`` array and its ``offsets`` (``int64``, ``len + 1``: recording ``i`` is
    ``events[offsets[i]:offsets[i+1]]``) from a sequence of per-recording event arrays, the
    form :func:`recording_stats` reads.

    >>> ev = np.zeros(3, dtype=[("t", "<i8")])
    >>> events, offsets = concat_recordings([ev[:2], ev[:0], ev[:1]])
    >>> len(events), offsets.tolist()
    (3, [0, 2, 2, 3])
    """
    if len(recordings) == 0:
        raise ConfigError("concat_recordings: no recordings")
    events = np.concatenate(recordings)
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in recordings])]).astype(np.int64)
    return events, offsets


def simulated_stats(
    images: np.ndarray, configs: Mapping[str, DVSConfig], seed: int = 0
) -> dict[str, RecordingStats]:
    """``name -> RecordingStats`` of ``images`` simulated once with each configuration of
    ``configs`` (:func:`~snnlib.data.dvs_sim.simulate_dvs_batch`, noise seed ``seed``), in
    the order given."""
    stats = {}
    for name, config in configs.items():
        events, offsets = simulate_dvs_batch(images, seed=seed, config=config)
        stats[name] = recording_stats(events, offsets)
    return stats
