"""Encoders: turn a data batch into the time-major input ``[T, B, C, H, W]`` of a spiking net.

- ``direct``: the static image is repeated T times and fed as input current to the first
  (non-spiking) convolution: the encoding of both papers for CIFAR.
- ``poisson``: each pixel emits a spike with probability equal to its intensity (rescaled
  to [0, 1] per batch), independently at each step.
- ``events``: event-camera frames ``[B, T, P, H, W]`` (tonic ``ToFrame`` output) are only
  moved to time-major order; their T (the dataset's number of time bins) must be the
  encoder's ``time_steps``, else a network built for one T would silently see another.
"""

from __future__ import annotations

import numbers

import torch

from .validation import ConfigError, check_choice

ENCODINGS = ("direct", "poisson", "events")


class Encoder:
    """Callable ``batch -> [T, B, ...]``. ``generator`` makes Poisson encoding reproducible.

    Example:
        >>> import torch
        >>> images = torch.rand(8, 1, 16, 16)                       # [B, C, H, W]
        >>> Encoder("direct", time_steps=4)(images).shape          # repeated T times
        torch.Size([4, 8, 1, 16, 16])
        >>> spikes = Encoder("poisson", 4, torch.Generator().manual_seed(0))(images)
        >>> sorted(spikes.unique().tolist())                        # binary
        [0.0, 1.0]
        >>> frames = torch.rand(8, 5, 2, 16, 16)                    # events: [B, T, P, H, W]
        >>> Encoder("events", 5)(frames).shape                      # only made time-major
        torch.Size([5, 8, 2, 16, 16])
    """

    def __init__(self, method: str, time_steps: int, generator: torch.Generator | None = None):
        self.method = check_choice("encoding", method, ENCODINGS)
        if (
            isinstance(time_steps, bool)
            or not isinstance(time_steps, numbers.Integral)
            or time_steps < 1
        ):
            raise ConfigError(f"time_steps={time_steps!r} must be an integer of at least 1")
        self.time_steps = int(time_steps)
        self.generator = generator

    def __repr__(self) -> str:
        return f"Encoder(method={self.method!r}, time_steps={self.time_steps})"

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.method == "events":
            if x.dim() != 5:
                raise ConfigError(
                    f"events encoding expects frames [B, T, P, H, W], got {tuple(x.shape)}"
                )
            if x.shape[1] != self.time_steps:
                raise ConfigError(
                    f"events encoding has time_steps={self.time_steps} but the frames have "
                    f"T={x.shape[1]} time bins ([B, T, P, H, W] = {tuple(x.shape)}); load the "
                    f"data set with time_steps={self.time_steps} or build the encoder with "
                    f"time_steps={x.shape[1]}"
                )
            return x.transpose(0, 1).contiguous()
        if x.dim() != 4:
            raise ConfigError(
                f"{self.method} encoding expects images [B, C, H, W], got {tuple(x.shape)}"
            )
        if self.method == "direct":
            return x.unsqueeze(0).expand(self.time_steps, *x.shape).contiguous()
        lo = x.amin(dim=(1, 2, 3), keepdim=True)
        hi = x.amax(dim=(1, 2, 3), keepdim=True)
        p = (x - lo) / (hi - lo).clamp_min(1e-8)
        p = p.unsqueeze(0).expand(self.time_steps, *x.shape)
        if self.generator is not None and p.device.type == "cpu":
            u = torch.rand(p.shape, generator=self.generator)
        else:
            u = torch.rand_like(p)
        return (u < p).to(x.dtype)


def default_encoding(kind: str) -> str:
    """``direct`` for static datasets, ``events`` for event datasets."""
    return {"static": "direct", "events": "events"}[
        check_choice("dataset kind", kind, ("static", "events"))
    ]
