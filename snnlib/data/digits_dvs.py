"""``digits-dvs``: the scikit-learn digits seen by a simulated event camera.

Every digit is turned into an event stream by :mod:`snnlib.data.dvs_sim` (three saccades,
300 ms, a 16x16 two-polarity sensor by default) and served as frames: tonic's ``ToFrame``
sums the events of each of ``time_steps`` equal time bins into float32 ``[T, 2, H, W]``.
The bins are fixed in absolute time (``[0, duration)`` cut into T windows) rather than
stretched to each sample's first and last event (``n_time_bins``), so a frame always
covers the same part of the saccade path, and every event lands in exactly one frame.

The split is the one of ``digits`` (same source indices). The recording is part of the
dataset definition: its noise is seeded by the option ``sim_seed`` (default 0), not by the
experiment seed. All 1797 samples are simulated at once on first use (about 2 s), kept in
memory, and with ``cache=True`` also saved to ``<root>/digits-dvs/*.npz`` (file name keyed
by every simulator parameter and the seed; the file holds the checksum of its arrays, and
every read verifies it and the events' domain, re-simulating a file that fails).
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import torch
from tonic.transforms import ToFrame

from . import digits
from .base import DatasetInfo, SplitDataset
from .cache import load_or_rebuild
from .checks import check_events
from .dvs_sim import EVENT_DTYPE, DVSConfig, simulate_dvs_batch

SIM_OPTIONS = tuple(f.name for f in fields(DVSConfig) if f.name != "size")
OPTIONS = ("image_size", "sim_seed", "cache", *SIM_OPTIONS)

_MEMORY: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def config_for(image_size: int | None = None, **sim_options) -> DVSConfig:
    """The simulator configuration for a sensor of ``image_size`` pixels (default 16)."""
    return DVSConfig.for_size(image_size or DVSConfig.size, **sim_options)


def info(name: str = "digits-dvs", *, image_size: int | None = None, **_sim) -> DatasetInfo:
    size = image_size or DVSConfig.size
    return DatasetInfo(name, "events", digits.NUM_CLASSES, 2, (size, size))


def cache_file(root: Path, config: DVSConfig, sim_seed: int) -> Path:
    return Path(root) / "digits-dvs" / f"events_{config.key()}_seed{sim_seed}.npz"


def check_cache(arrays: dict[str, np.ndarray], config: DVSConfig, n: int) -> None:
    """The domain of ``n`` simulated recordings (:class:`~snnlib.data.checks.ArrayProblem` if
    not): events of tonic's dtype inside the ``config.size`` sensor, polarity 0/1, timestamps
    in ``[0, duration)`` and sorted within each recording, offsets from 0 to the event count."""
    check_events(
        "events",
        arrays["events"],
        arrays["offsets"],
        dtype=EVENT_DTYPE,
        sensor=config.size,
        n_items=n,
        t_max=config.duration_us - 1,
    )


def all_events(
    config: DVSConfig, sim_seed: int = 0, *, root: Path | None = None, cache: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Events of all 1797 digits and their offsets (see ``simulate_dvs_batch``); with
    ``cache`` and a ``root``, read from (or written to) :func:`cache_file`, checksum and domain
    verified, re-simulated with a warning when it fails (:mod:`snnlib.data.cache`)."""
    key = f"{config.key()}_seed{sim_seed}"
    if key in _MEMORY:
        return _MEMORY[key]
    images, _ = digits.digit_images()

    def simulate() -> dict[str, np.ndarray]:
        events, offsets = simulate_dvs_batch(images, seed=sim_seed, config=config)
        return {"events": events, "offsets": offsets}

    if cache and root is not None:
        arrays = load_or_rebuild(
            cache_file(root, config, sim_seed),
            ("events", "offsets"),
            simulate,
            lambda a: check_cache(a, config, len(images)),
            source="the simulator",
        )
    else:
        arrays = simulate()
    result = (arrays["events"], arrays["offsets"])
    for a in result:
        a.setflags(write=False)
    _MEMORY[key] = result
    return result


class DigitsDVSDataset(SplitDataset):
    """One split of digits-dvs; ``events(i)`` gives item ``i``'s raw events."""

    def __init__(
        self,
        split: str,
        *,
        time_steps: int = 4,
        image_size: int | None = None,
        sim_seed: int = 0,
        root: Path | None = None,
        cache: bool = False,
        **sim_options,
    ):
        self.config = config_for(image_size, **sim_options)
        _, labels = digits.digit_images()
        indices = digits.fixed_splits()[split]
        super().__init__(info(image_size=self.config.size), split, indices, labels[indices])
        self.time_steps = int(time_steps)
        self._events, self._offsets = all_events(self.config, sim_seed, root=root, cache=cache)
        window = -(-self.config.duration_us // self.time_steps)  # ceil: bins cover it all
        self.to_frame = ToFrame(
            sensor_size=self.config.sensor_size,
            time_window=window,
            start_time=0,
            end_time=window * self.time_steps,
        )

    def source_events(self, source_index: int) -> np.ndarray:
        a, b = self._offsets[source_index], self._offsets[source_index + 1]
        return self._events[a:b].copy()

    def events(self, i: int) -> np.ndarray:
        """Raw events (tonic dtype x, y, t, p; sorted by t) of item ``i`` of this split."""
        return self.source_events(int(self.indices[i]))

    def load(self, source_index: int) -> torch.Tensor:
        events = self.source_events(source_index)
        size = self.config.size
        if len(events) == 0:  # tonic's empty-input shortcut returns (T, P, W, H) float64
            return torch.zeros(self.time_steps, 2, size, size)
        return torch.from_numpy(self.to_frame(events).astype(np.float32))


def load(
    name: str,
    split: str,
    *,
    root: Path | None = None,
    download: bool = False,
    time_steps: int = 4,
    image_size: int | None = None,
    **options,
) -> DigitsDVSDataset:
    return DigitsDVSDataset(
        split, time_steps=time_steps, image_size=image_size, root=root, **options
    )
