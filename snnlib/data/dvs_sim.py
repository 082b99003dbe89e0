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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from tonic.io import events_struct

EVENT_DTYPE = events_struct  # np.dtype([("x", int16), ("y", int16), ("t", int64), ("p", bool)])


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
        """A file-name-safe string that identifies every parameter."""
        return "_".join(
            f"{k}{v:g}" if isinstance(v, float) else f"{k}{v}" for k, v in asdict(self).items()
        )


def saccade_path(config: DVSConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times (us, float) and x/y offsets (px) of the ``3 * steps_per_saccade + 1`` samples."""
    angles = np.deg2rad(-75.0 + 120.0 * np.arange(4))  # closed triangle
    vx, vy = config.amplitude * np.cos(angles), config.amplitude * np.sin(angles)
    s = config.steps_per_saccade
    frac = np.arange(3 * s + 1) / s  # saccade number + progress
    seg = np.minimum(frac.astype(int), 2)
    u = frac - seg
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


def _shift(a: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """Sub-pixel shift by bilinear interpolation: ``out(x, y) = a(x - dx, y - dy)``."""
    iy, ix = int(np.floor(dy)), int(np.floor(dx))
    fy, fx = dy - iy, dx - ix
    out = (1 - fy) * (1 - fx) * _shift_int(a, iy, ix)
    if fx > 0:
        out += (1 - fy) * fx * _shift_int(a, iy, ix + 1)
    if fy > 0:
        out += fy * (1 - fx) * _shift_int(a, iy + 1, ix)
        if fx > 0:
            out += fy * fx * _shift_int(a, iy + 1, ix + 1)
    return out


def _noiseless_events(canvas: np.ndarray, config: DVSConfig):
    """Threshold crossings of all samples: arrays (sample, x, y, t_float, p)."""
    times, dx, dy = saccade_path(config)
    C = config.contrast_threshold
    L_prev = np.log(_shift(canvas, dy[0], dx[0]) + config.eps)
    ref = L_prev.copy()
    out = {k: [] for k in ("n", "x", "y", "t", "p")}
    for k in range(1, len(times)):
        L = np.log(_shift(canvas, dy[k], dx[k]) + config.eps)
        diff = L - ref
        count = np.floor(np.abs(diff) / C).astype(np.int64)
        nz = np.nonzero(count)
        if len(nz[0]):
            cnt = count[nz]
            sgn = np.sign(diff[nz])
            rep = np.repeat(np.arange(len(cnt)), cnt)
            j = np.arange(len(rep)) - np.repeat(np.cumsum(cnt) - cnt, cnt) + 1
            level = ref[nz][rep] + sgn[rep] * j * C
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
            ref[nz] += sgn * cnt * C
        L_prev = L
    if not out["n"]:
        return (np.zeros(0, np.int64),) * 3 + (np.zeros(0), np.zeros(0, bool))
    return tuple(np.concatenate(out[k]) for k in ("n", "x", "y", "t", "p"))


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
                    rng.integers(0, 2, n_noise),
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
