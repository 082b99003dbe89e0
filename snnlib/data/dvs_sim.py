r"""A simulated event camera (DVS) that turns still images into event streams.

Why: real neuromorphic datasets are large downloads; a simulated sensor gives a small,
offline event dataset (``digits-dvs``) with the same format and the same pipeline (events
-> ``tonic.transforms.ToFrame`` -> ``[T, P, H, W]``) as CIFAR10-DVS or DVS-Gesture.

Model (as in N-MNIST, the still image is moved in front of the sensor):

1. *Scene.* The image (values in [0, 1]) is resized bilinearly to ``digit_size`` pixels and
   centred in a ``size x size`` black canvas :math:`B`.
2. *Saccades.* The canvas moves along three straight saccades of ``saccade_us`` each that
   form an equilateral triangle of circumradius ``amplitude`` px (vertex angles
   :math:`-75^\circ + k\,120^\circ`, so no edge of the path is axis-aligned and both edge
   orientations of the digit produce events). Each saccade is sampled at
   ``steps_per_saccade`` steps; at step :math:`k` (time :math:`t_k`) the offset is
   :math:`(d_x, d_y)(t_k)` and the sensor sees
   :math:`I_k(x, y) = B(x - d_x, y - d_y)`, with sub-pixel offsets resolved by bilinear
   interpolation.
3. *Pixels.* Each pixel works on log intensity :math:`L = \log(I + \varepsilon)` and keeps a
   reference level :math:`R` (initialised to :math:`L_0`, the sensor starts adapted). At
   each step it fires :math:`n = \lfloor |L_k - R| / C \rfloor` events of polarity
   :math:`p = [L_k > R]` (ON = 1, OFF = 0), one per threshold crossing, and moves its
   reference :math:`R \leftarrow R + \operatorname{sign}(L_k - R)\, n C`.
   The :math:`j`-th crossing level :math:`R + j\,C\operatorname{sign}(\cdot)` is reached,
   with :math:`L` linear between steps, at
   :math:`t = t_{k-1} + \tau_j (t_k - t_{k-1})`,
   :math:`\tau_j = (R + jC\operatorname{sign} - L_{k-1}) / (L_k - L_{k-1})`.
4. *Noise.* Per sample, a generator seeded with ``(seed, index)`` adds Gaussian timestamp
   jitter (std ``jitter_us``) and shot-noise events: a Poisson number with mean
   ``noise_rate * size**2 * duration`` at uniform random pixels, times and polarities.
   Timestamps are integer microseconds in ``[0, duration_us)``; events are sorted by time.

Events use tonic's structured dtype (``tonic.io.events_struct``: fields x, y, t, p).
All samples of a batch are simulated together (numpy, vectorised over images and pixels);
the random part is per sample, so a sample's events do not depend on the batch it is in.

Sensor extensions (each off by default; the default configuration gives exactly the events it
gave before they existed, which ``tests/test_dvs_sim.py`` checks against stored checksums):

5. *Path and speed.* ``vertices``: the three corners :math:`(d_x, d_y)` of the saccade path
   in pixels, visited in order and back to the first (default: the equilateral triangle
   above; the measured N-MNIST path is not equilateral, see
   :func:`snnlib.data.sensor_compare.estimate_path`). ``profile="smooth"`` moves along
   each saccade with the raised-cosine progress :math:`u(s) = (1 - \cos \pi s) / 2`
   (speed :math:`\propto \sin \pi s`: zero at both ends, highest mid-saccade, as a pan-tilt
   unit moves) instead of at constant speed (``"linear"``). ``saccade_windows``: the
   (start, end) of each saccade in us, with the sensor still in between (default: three
   back-to-back windows of ``saccade_us``); N-MNIST's pan-tilt pauses between saccades.
6. *Threshold mismatch.* ``threshold_std`` :math:`\sigma`: every pixel has its own ON and
   OFF thresholds :math:`C_\mathrm{on} = C e^{\sigma z_1}`,
   :math:`C_\mathrm{off} = r\, C e^{\sigma z_2}` (:math:`z` standard normal, so the median is
   :math:`C`; :math:`r` = ``off_ratio``, default 1). The mismatch is a property of *the
   sensor*, not of a recording: it is drawn once from ``default_rng([mismatch_seed, 7])`` and
   is the same for every sample, every batch and every noise ``seed``, as one physical
   camera records a whole data set.
7. *Refractory period.* ``refractory_us`` :math:`R`: after an event at :math:`t_e` a pixel
   is blind until :math:`t_e + R`; while blind its reference follows the input, and at
   :math:`t_e + R` it is reset to the log intensity of that moment (the DVS pixel holds its
   reset switch closed for :math:`R`). Crossings inside the window are lost, so a pixel
   never fires twice within :math:`R`. With :math:`R = 0` this is rule 3. Vectorised over
   pixels; within a step the pixels that fired are revisited until none fires again.
8. *Noise polarity.* ``noise_on_fraction``: the probability that a shot-noise event is ON
   (0.5, the default, is drawn as the fair coin it always was; N-MNIST's background events
   are mostly ON). Noise events ignore the refractory period and the mismatch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import torch
import torch.nn.functional as F
from tonic.io import events_struct

from ..validation import ConfigError, check_choice, check_range

EVENT_DTYPE = events_struct  # np.dtype([("x", int16), ("y", int16), ("t", int64), ("p", bool)])
PROFILES = ("linear", "smooth")
#: the fields added after digits-dvs was defined; at their defaults they change nothing
EXTENSIONS = (
    "refractory_us",
    "threshold_std",
    "off_ratio",
    "mismatch_seed",
    "noise_on_fraction",
    "profile",
    "vertices",
    "saccade_windows",
)
MISMATCH_STREAM = 7  # second word of the mismatch generator's seed


@dataclass(frozen=True)
class DVSConfig:
    """Parameters of the simulated sensor and of the saccade path (see module docstring)."""

    size: int = 16  # sensor is size x size pixels (2 polarities)
    digit_size: int = 12  # the image is rendered at this size, centred
    amplitude: float = 2.0  # circumradius of the saccade triangle, pixels
    saccade_us: int = 100_000  # duration of one saccade (three in a recording)
    steps_per_saccade: int = 25  # simulation steps per saccade
    contrast_threshold: float = 0.2  # C, in log-intensity units
    eps: float = 0.1  # log(I + eps): keeps black pixels finite
    noise_rate: float = 0.2  # shot-noise events per pixel per second
    jitter_us: float = 300.0  # std of Gaussian timestamp jitter
    # -- sensor extensions (module docstring, rules 5-8); the defaults switch them off
    refractory_us: float = 0.0  # a pixel that fired ignores crossings for this long
    threshold_std: float = 0.0  # sigma of the per-pixel log-normal threshold mismatch
    off_ratio: float = 1.0  # OFF threshold / ON threshold
    mismatch_seed: int = 0  # seeds the sensor's fixed mismatch pattern
    noise_on_fraction: float = 0.5  # probability that a noise event is ON
    profile: str = "linear"  # progress along a saccade: linear | smooth (raised cosine)
    vertices: tuple[tuple[float, float], ...] | None = None  # 3 path corners (dx, dy), px
    saccade_windows: tuple[tuple[float, float], ...] | None = None  # 3 (start, end) us

    def __post_init__(self):
        if self.vertices is not None:
            v = tuple((float(a), float(b)) for a, b in self.vertices)
            if len(v) != 3:
                raise ConfigError(f"vertices={self.vertices!r} must be three (dx, dy) corners")
            object.__setattr__(self, "vertices", v)
        if self.saccade_windows is not None:
            w = tuple((float(a), float(b)) for a, b in self.saccade_windows)
            flat = [v for ab in w for v in ab]
            ordered = all(b >= a for a, b in zip(flat, flat[1:])) and all(b > a for a, b in w)
            if len(w) != 3 or not ordered or flat[0] < 0 or flat[-1] > self.duration_us:
                raise ConfigError(
                    f"saccade_windows={self.saccade_windows!r} must be three (start, end) times "
                    f"in us, each end after its start, in order, within [0, {self.duration_us}]"
                )
            object.__setattr__(self, "saccade_windows", w)
        check_range("refractory_us", self.refractory_us, 0.0, None)
        check_range("threshold_std", self.threshold_std, 0.0, 5.0)
        check_range("off_ratio", self.off_ratio, 1e-3, 1e3)
        check_range("noise_on_fraction", self.noise_on_fraction, 0.0, 1.0)
        check_range("mismatch_seed", self.mismatch_seed, 0, None, integer=True)
        check_choice("profile", self.profile, PROFILES)

    @classmethod
    def for_size(cls, size: int, **overrides) -> DVSConfig:
        """Defaults scaled to a ``size``-pixel sensor (digit 3/4 of it, amplitude size/8)."""
        base = cls(size=size, digit_size=max(1, round(0.75 * size)), amplitude=size / 8)
        return replace(base, **overrides)

    @property
    def duration_us(self) -> int:
        return 3 * self.saccade_us

    @property
    def sensor_size(self) -> tuple[int, int, int]:
        """tonic's ``(W, H, P)``."""
        return (self.size, self.size, 2)

    def key(self) -> str:
        """A file-name-safe string that identifies every parameter (a sensor extension at its
        default is left out, so the keys, and digits-dvs cache files, of configurations
        without extensions are those they always were)."""
        parts = []
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in EXTENSIONS and v == f.default:
                continue
            if f.name in ("vertices", "saccade_windows"):
                v = "_".join(f"{a:g}x{b:g}" for a, b in v)
            parts.append(f"{f.name}{v:g}" if isinstance(v, float) else f"{f.name}{v}")
        return "_".join(parts)

    def to_dict(self) -> dict:
        """The fields as plain Python values (``vertices`` as lists), for a result file."""
        d = asdict(self)
        for k in ("vertices", "saccade_windows"):
            if d[k] is not None:
                d[k] = [list(v) for v in d[k]]
        return d


def path_corners(config: DVSConfig) -> tuple[np.ndarray, np.ndarray]:
    """x and y offsets (px) of the closed path's four points (the first corner repeated)."""
    if config.vertices is not None:
        v = np.array(config.vertices + config.vertices[:1], dtype=np.float64)
        return v[:, 0], v[:, 1]
    angles = np.deg2rad(-75.0 + 120.0 * np.arange(4))  # closed triangle
    return config.amplitude * np.cos(angles), config.amplitude * np.sin(angles)


def progress(u: np.ndarray, profile: str) -> np.ndarray:
    """Fraction of a saccade's way covered after the fraction ``u`` of its time."""
    if profile == "smooth":
        return 0.5 * (1.0 - np.cos(np.pi * u))
    return u


def path_weights(t: np.ndarray, windows, profile: str) -> np.ndarray:
    """``[len(t), 3]`` weights of the three corners in the position at times ``t`` (us):
    still at corner ``k`` before saccade ``k`` starts, moving to corner ``k + 1`` (corner 3 is
    corner 0) with :func:`progress` during its window ``windows[k] = (start, end)``, still at
    corner 0 after the last one. Positions are ``path_weights(...) @ corners``."""
    t = np.asarray(t, dtype=np.float64)
    A = np.zeros((len(t), 3))
    rows = np.arange(len(t))
    done = np.zeros(len(t), bool)
    for k, (a, b) in enumerate(windows):
        before = ~done & (t < a)
        A[rows[before], k] = 1.0
        done |= before
        moving = ~done & (t <= b)
        u = progress(np.clip((t[moving] - a) / (b - a), 0.0, 1.0), profile)
        A[rows[moving], k] += 1.0 - u
        A[rows[moving], (k + 1) % 3] += u
        done |= moving
    A[rows[~done], 0] = 1.0
    return A


def saccade_path(config: DVSConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times (us, float) and x/y offsets (px) of the simulation steps: ``3 * steps_per_saccade
    + 1`` back-to-back, or with ``saccade_windows`` ``steps_per_saccade`` per window plus the
    still points before, between and after them."""
    vx, vy = path_corners(config)
    s = config.steps_per_saccade
    if config.saccade_windows is not None:
        u = np.arange(s + 1) / s
        times = np.unique(
            np.concatenate(
                [[0.0, float(config.duration_us)]]
                + [a + u * (b - a) for a, b in config.saccade_windows]
            )
        )
        A = path_weights(times, config.saccade_windows, config.profile)
        return times, A @ vx[:3], A @ vy[:3]
    frac = np.arange(3 * s + 1) / s  # saccade number + progress
    seg = np.minimum(frac.astype(int), 2)
    u = progress(frac - seg, config.profile)
    dx = vx[seg] + u * (vx[seg + 1] - vx[seg])
    dy = vy[seg] + u * (vy[seg + 1] - vy[seg])
    times = frac * config.saccade_us
    return times, dx, dy


def _place(images: np.ndarray, config: DVSConfig) -> np.ndarray:
    """Resize ``[N, h, w]`` images to ``digit_size`` and centre them in the canvas."""
    x = torch.tensor(np.asarray(images, dtype=np.float32)).unsqueeze(1)
    d = config.digit_size
    if x.shape[-2:] != (d, d):
        x = F.interpolate(x, size=(d, d), mode="bilinear", align_corners=False)
    x = x.squeeze(1).clamp(0, 1).numpy().astype(np.float64)
    canvas = np.zeros((len(x), config.size, config.size))
    o = (config.size - d) // 2
    canvas[:, o : o + d, o : o + d] = x[:, : config.size - o, : config.size - o]
    return canvas


def _shift_int(a: np.ndarray, sy: int, sx: int) -> np.ndarray:
    """``out[:, y, x] = a[:, y - sy, x - sx]`` with zeros where that is outside."""
    n, h, w = a.shape
    out = np.zeros_like(a)
    if abs(sy) >= h or abs(sx) >= w:
        return out
    out[:, max(sy, 0) : h + min(sy, 0), max(sx, 0) : w + min(sx, 0)] = a[
        :, max(-sy, 0) : h + min(-sy, 0), max(-sx, 0) : w + min(-sx, 0)
    ]
    return out


def _add_shifted(out: np.ndarray, a: np.ndarray, w: float, sy: int, sx: int) -> None:
    """``out += w * _shift_int(a, sy, sx)`` without the full-size temporaries (adding
    ``w * 0`` outside the shifted region changes nothing, so the sums are the same)."""
    n, h, w_ = a.shape
    if abs(sy) >= h or abs(sx) >= w_:
        return
    dst = out[:, max(sy, 0) : h + min(sy, 0), max(sx, 0) : w_ + min(sx, 0)]
    dst += w * a[:, max(-sy, 0) : h + min(-sy, 0), max(-sx, 0) : w_ + min(-sx, 0)]


def _shift(a: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """Sub-pixel shift by bilinear interpolation: ``out(x, y) = a(x - dx, y - dy)``."""
    iy, ix = int(np.floor(dy)), int(np.floor(dx))
    fy, fx = dy - iy, dx - ix
    out = (1 - fy) * (1 - fx) * _shift_int(a, iy, ix)
    if fx > 0:
        _add_shifted(out, a, (1 - fy) * fx, iy, ix + 1)
    if fy > 0:
        _add_shifted(out, a, fy * (1 - fx), iy + 1, ix)
        if fx > 0:
            _add_shifted(out, a, fy * fx, iy + 1, ix + 1)
    return out


def thresholds(config: DVSConfig) -> tuple[np.ndarray | float, np.ndarray | float]:
    """ON and OFF thresholds: floats, or ``[size, size]`` arrays with ``threshold_std > 0``
    (the sensor's fixed mismatch, the same for every sample: module docstring, rule 6)."""
    c_on = config.contrast_threshold
    c_off = c_on * config.off_ratio
    if config.threshold_std > 0:
        rng = np.random.default_rng([int(config.mismatch_seed), MISMATCH_STREAM])
        z = rng.standard_normal((2, config.size, config.size))
        c_on = c_on * np.exp(config.threshold_std * z[0])
        c_off = c_off * np.exp(config.threshold_std * z[1])
    return c_on, c_off


def _empty_events():
    return (np.zeros(0, np.int64),) * 3 + (np.zeros(0), np.zeros(0, bool))


def _noiseless_events(canvas: np.ndarray, config: DVSConfig):
    """Threshold crossings of all samples: arrays (sample, x, y, t_float, p)."""
    if config.refractory_us > 0:
        return _refractory_events(canvas, config)
    times, dx, dy = saccade_path(config)
    c_on, c_off = thresholds(config)
    uniform = np.isscalar(c_on) and c_on == c_off
    if not uniform:
        c_on = np.broadcast_to(c_on, canvas.shape)
        c_off = np.broadcast_to(c_off, canvas.shape)
    L_prev = np.log(_shift(canvas, dy[0], dx[0]) + config.eps)
    ref = L_prev.copy()
    out = {k: [] for k in ("n", "x", "y", "t", "p")}
    for k in range(1, len(times)):
        L = np.log(_shift(canvas, dy[k], dx[k]) + config.eps)
        diff = L - ref
        C = c_on if uniform else np.where(diff > 0, c_on, c_off)
        count = np.floor(np.abs(diff) / C).astype(np.int64)
        nz = np.nonzero(count)
        if len(nz[0]):
            cnt = count[nz]
            sgn = np.sign(diff[nz])
            Cz = C if uniform else C[nz]
            rep = np.repeat(np.arange(len(cnt)), cnt)
            j = np.arange(len(rep)) - np.repeat(np.cumsum(cnt) - cnt, cnt) + 1
            level = ref[nz][rep] + sgn[rep] * j * (Cz if uniform else Cz[rep])
            lp, ln = L_prev[nz][rep], L[nz][rep]
            denom = ln - lp
            with np.errstate(divide="ignore", invalid="ignore"):
                tau = np.where(denom != 0, (level - lp) / denom, 1.0)
            tau = np.clip(tau, 0.0, 1.0)
            out["n"].append(nz[0][rep])
            out["y"].append(nz[1][rep])
            out["x"].append(nz[2][rep])
            out["t"].append(times[k - 1] + tau * (times[k] - times[k - 1]))
            out["p"].append(sgn[rep] > 0)
            ref[nz] += sgn * cnt * Cz
        L_prev = L
    if not out["n"]:
        return _empty_events()
    return tuple(np.concatenate(out[k]) for k in ("n", "x", "y", "t", "p"))


def _refractory_events(canvas: np.ndarray, config: DVSConfig):
    """:func:`_noiseless_events` with a refractory period (module docstring, rule 7).

    Per step, log intensity is linear in time between ``L0`` (at ``t0``) and ``L1``. A pixel
    is sensitive from ``s = max(t0, last + R)``; one still blind at ``t1`` takes
    ``ref = L1``; one whose window ends inside the step is reset to ``L(s)``. Then every
    sensitive pixel fires at most one event (its first crossing after ``s``), and those that
    fired go round again from ``t_e + R`` until none fires within the step.
    """
    times, dx, dy = saccade_path(config)
    R = float(config.refractory_us)
    n, h, w = canvas.shape
    c_on, c_off = (np.broadcast_to(c, canvas.shape).ravel() for c in thresholds(config))
    L_prev = np.log(_shift(canvas, dy[0], dx[0]) + config.eps).ravel()
    ref = L_prev.copy()
    last = np.full(L_prev.shape, -np.inf)
    out = {k: [] for k in ("i", "t", "p")}
    for k in range(1, len(times)):
        t0, t1 = times[k - 1], times[k]
        span = t1 - t0
        L = np.log(_shift(canvas, dy[k], dx[k]) + config.eps).ravel()
        slope = (L - L_prev) / span
        s = np.maximum(t0, last + R)
        blind = s >= t1
        np.copyto(ref, L, where=blind)
        ending = np.flatnonzero((s > t0) & ~blind)
        ref[ending] = L_prev[ending] + slope[ending] * (s[ending] - t0)
        # first pass on whole arrays (most pixels are sensitive, few fire): the same values
        # as indexing the sensitive pixels first, without gathering them all
        d = L - ref
        up = d > 0
        C = np.where(up, c_on, c_off)
        idx = np.flatnonzero(~blind & (np.abs(d) >= C))
        start, up, C = s[idx], up[idx], C[idx]
        first = True
        while idx.size:
            if not first:
                d = L[idx] - ref[idx]
                up = d > 0
                C = np.where(up, c_on[idx], c_off[idx])
                fire = np.abs(d) >= C
                idx, start, up, C = idx[fire], start[fire], up[fire], C[fire]
                if not idx.size:
                    break
            first = False
            level = ref[idx] + np.where(up, C, -C)
            with np.errstate(divide="ignore", invalid="ignore"):
                tau = np.where(slope[idx] != 0, (level - L_prev[idx]) / (slope[idx] * span), 1.0)
            te = np.maximum(t0 + np.clip(tau, 0.0, 1.0) * span, start)
            out["i"].append(idx)
            out["t"].append(te)
            out["p"].append(up)
            last[idx] = te
            ref[idx] = level
            again = te + R < t1  # sensitive again within this step: reset to L(te + R)
            idx, start = idx[again], te[again] + R
            ref[idx] = L_prev[idx] + slope[idx] * (start - t0)
        L_prev = L
    if not out["i"]:
        return _empty_events()
    i = np.concatenate(out["i"])
    sample, rest = np.divmod(i, h * w)
    y, x = np.divmod(rest, w)
    return sample, x, y, np.concatenate(out["t"]), np.concatenate(out["p"])


def simulate_dvs_batch(
    images: np.ndarray,
    *,
    seed: int = 0,
    indices: Sequence[int] | None = None,
    config: DVSConfig | None = None,
    **params,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate ``[N, h, w]`` images (values in [0, 1]).

    Returns ``(events, offsets)``: all events concatenated (sample after sample, each sorted
    by t) and ``offsets`` of length ``N + 1`` so that sample ``i`` is
    ``events[offsets[i]:offsets[i+1]]``. ``indices[i]`` (default ``i``) names sample ``i``
    for its random generator ``default_rng([seed, indices[i]])``. ``params`` override fields
    of ``config`` (default :class:`DVSConfig`).
    """
    config = replace(config or DVSConfig(), **params)
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3:
        raise ValueError(f"images must be [N, h, w], got shape {images.shape}")
    n_img = len(images)
    indices = np.arange(n_img) if indices is None else np.asarray(indices, dtype=np.int64)
    sample, x, y, t, p = _noiseless_events(_place(images, config), config)
    order = np.argsort(sample, kind="stable")
    sample, x, y, t, p = sample[order], x[order], y[order], t[order], p[order]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(sample, minlength=n_img))])

    duration = config.duration_us
    noise_mean = config.noise_rate * config.size**2 * duration * 1e-6
    jitter, noise = [], []
    for i in range(n_img):  # only the random draws are per sample
        rng = np.random.default_rng([int(seed), int(indices[i])])
        n_sig = bounds[i + 1] - bounds[i]
        if config.jitter_us > 0:
            jitter.append(rng.normal(0.0, config.jitter_us, n_sig))
        n_noise = int(rng.poisson(noise_mean)) if noise_mean > 0 else 0
        noise.append(
            np.stack(
                [
                    np.full(n_noise, i, dtype=np.float64),
                    rng.integers(0, config.size, n_noise),
                    rng.integers(0, config.size, n_noise),
                    rng.integers(0, 2, n_noise)
                    if config.noise_on_fraction == 0.5
                    else rng.random(n_noise) < config.noise_on_fraction,
                    rng.uniform(0, duration, n_noise),
                ]
            )
        )
    if jitter:
        t = t + np.concatenate(jitter)
    noise = np.concatenate(noise, axis=1) if noise else np.zeros((5, 0))
    noise_t = noise[4]
    noise = noise[:4].astype(np.int64)
    sample = np.concatenate([sample, noise[0]])
    t = np.clip(np.floor(np.concatenate([t, noise_t])), 0, duration - 1).astype(np.int64)
    order = np.argsort(sample * duration + t, kind="stable")  # by sample, then time
    events = np.empty(len(order), dtype=EVENT_DTYPE)
    events["x"] = np.concatenate([x, noise[1]])[order]
    events["y"] = np.concatenate([y, noise[2]])[order]
    events["t"] = t[order]
    events["p"] = np.concatenate([p, noise[3].astype(bool)])[order]
    counts = np.bincount(sample, minlength=n_img)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return events, offsets


def simulate_dvs(
    image: np.ndarray, *, seed: int = 0, index: int = 0, config: DVSConfig | None = None, **params
) -> np.ndarray:
    """Events (tonic dtype, sorted by t) of one ``[h, w]`` image with values in [0, 1].

    ``(seed, index)`` seeds the noise; the result equals sample ``index`` of a
    :func:`simulate_dvs_batch` call with the same seed and parameters.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"image must be [h, w], got shape {image.shape}")
    events, _ = simulate_dvs_batch(image[None], seed=seed, indices=[index], config=config, **params)
    return events
