r"""``cifar10-dvs-sim``: the real CIFAR-10 images seen by a *simulated* DVS, as CIFAR10-DVS was
recorded; the name says it is simulated (the recorded set is ``cifar10-dvs``, not offline).

How CIFAR10-DVS was made (Li et al. 2017): every CIFAR-10 image, upsampled, was shown on a
monitor and moved along a repeated closed-loop smooth path in front of a 128x128 DVS128;
each recording lasts about 1.2 s. MSE-NAS frames the events at 48x48. Here:

- *Source.* The images of ``load_dataset("cifar10", split)`` (the embedded copy, or
  torchvision's files when present), with its splits, item order and labels: ``test`` =
  the 10,000 test images, ``val`` = the fixed 10% per class of the training images, ``train``
  the rest; ``limit`` keeps a class-balanced subset as for every data set.
- *Monitor.* Colour becomes the light a monitor emits: ``luminance="linear"`` (default)
  decodes sRGB to linear light and takes Rec. 709 luminance
  :math:`Y = 0.2126 R + 0.7152 G + 0.0722 B`; ``"gamma"`` takes Rec. 601 luma of the stored
  (gamma-encoded) values, :math:`0.299 R + 0.587 G + 0.114 B`.
- *Geometry* (scaled to the sensor, ``sensor_size`` pixels, default 128): the image is
  upsampled bilinearly to :data:`IMAGE_FRACTION` of the sensor (96 px at 128) and centred;
  the path is one closed loop of three smooth saccades (the simulator's triangle, corners at
  :math:`-75^\circ + k\,120^\circ`, circumradius :data:`AMPLITUDE_FRACTION` of the image,
  8 px at 128; back to back, no pauses: the image moves on the monitor, no pan-tilt unit),
  100 ms each. **Duration 300 ms, not 1.2 s**: the real recordings repeat the loop; the
  repeats show the same edges moving the same way again, and one loop costs a quarter.
- *Sensor.* The properties calibrated against 1,100 real N-MNIST recordings (notebook
  ``02_simulator_vs_sensor``; :data:`CALIBRATED_SENSOR`: contrast threshold, per-pixel
  threshold spread, OFF/ON ratio, refractory period, noise rate and polarity, jitter,
  smooth progress). That sensor is an ATIS, not a DVS128: the values are the best measured
  ones this project has, not CIFAR10-DVS's. ``tests/test_cifar10_dvs_sim.py`` checks that
  they equal the result file's ``calibrated_config``.
- *Frames.* Events are binned in ``time_steps`` fixed bins of the 300 ms into
  ``[T, 2, image_size, image_size]`` (default **48**, as MSE-NAS), with the framing of
  :mod:`snnlib.data.framing`: ``downsample="area"`` (default; as ``cifar10-dvs`` here:
  counts shared among the output cells a sensor pixel overlaps) or ``"events"`` (tonic's
  ``Downsample``: coordinates times 48/128, floored); ``counts`` raw | log1p | binary;
  ``polarity`` both | merged.

Cost (one core of a shared machine, measured on 512 train images; frames T = 4): at 128 px
with the refractory period and 25 steps per saccade, **81 ms per image** (6,000 images, 5,000
train + 1,000 test: about 8 min), 43,600 events per recording on average (median 43,200,
range 3,900-84,000), ON fraction 0.50. Cheaper options, each its own cache entry:
``steps_per_saccade=12`` (the same edges, coarser event times; 44,100 events): 49 ms per
image (about 5 min for 6,000); ``sensor_size=64`` (the sensor simulated at 64 px, image and
path scaled with it; 10,600 events per recording): **14 ms per image** (about 1.5 min for
6,000), the choice for a CPU-sized run. A cached split reloads in well under a second
(0.14 s for 512 images; frames take 74 kB per image at T = 4).

Determinism and cache: the noise of image ``g`` (its global CIFAR index: train ``i``, test
``50000 + i``) is drawn from ``default_rng([sim_seed, g])`` and the threshold mismatch is
fixed per sensor, so an image's events do not depend on the batch it is simulated in.
Nothing is simulated until the first item is read; then all items of the (limited) split are
simulated in batches of :data:`SIM_BATCH`, framed, and kept in memory (shared by every view
of the same options) and, with ``cache=True`` (default), saved to
``<root>/cifar10-dvs-sim/frames_<hash>.npz`` (raw counts, float32; no pickle), the hash
covering the simulator configuration, the framing, the luminance rule, ``sim_seed``, the split,
the indices and the checksum of their source images; the file holds the checksum of its
arrays, and every read verifies it and the frames' domain
(:meth:`CIFAR10DVSSimDataset.check_cache`), simulating again a file that fails. Events are
not stored (30,000 per image would be 2 GB for 6,000 images): ``events(i)`` simulates item
``i`` again, identically.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ..validation import check_choice, check_range
from . import cifar, framing
from .base import DatasetInfo, SplitDataset
from .cache import load_or_rebuild
from .checks import ArrayProblem, check_array
from .dvs_sim import DVSConfig, simulate_dvs_batch

NAME = "cifar10-dvs-sim"
NUM_CLASSES = 10
SENSOR = 128  # DVS128
DEFAULT_SIZE = 48  # MSE-NAS frames
IMAGE_FRACTION = 0.75  # image side / sensor side (96 px of 128)
AMPLITUDE_FRACTION = 1 / 12  # path circumradius / image side (8 px for a 96 px image)
SACCADE_US = 100_000  # one of the loop's three saccades; the loop is 300 ms
STEPS_PER_SACCADE = 25
TEST_OFFSET = 50_000  # global index of test image i: 50000 + i (noise seeds never collide)
SIM_BATCH = 64  # images simulated together
LUMINANCES = ("linear", "gamma")
CACHE_VERSION = 1  # bump when the frames of an unchanged key would change

#: the sensor calibrated against the real N-MNIST recordings (``calibrated_config`` of
#: ``data/results/02_simulator_vs_sensor__nmnist__cpu__seed0.json``); geometry (size, image
#: size, path, duration) is not here: it is CIFAR10-DVS's, set above
CALIBRATED_SENSOR = dict(
    contrast_threshold=0.4,
    eps=0.1,
    noise_rate=0.253,
    jitter_us=0.0,
    refractory_us=500.0,
    threshold_std=0.2,
    off_ratio=0.9,
    noise_on_fraction=0.952,
    profile="smooth",
)

OPTIONS = (
    "image_size",
    "sensor_size",
    "steps_per_saccade",
    "downsample",
    "counts",
    "polarity",
    "luminance",
    "sim_seed",
    "cache",
)

_MEMORY: dict[str, dict[int, np.ndarray]] = {}  # options key -> {global index: raw frames}
_STATS = {"simulated": 0}  # images simulated in this process (for tests and timings)


def simulated_images() -> int:
    """How many images this process has simulated for ``cifar10-dvs-sim`` so far."""
    return _STATS["simulated"]


def clear_memory() -> None:
    """Forget the frames held in memory (the disk cache stays)."""
    _MEMORY.clear()


def sensor_config(sensor_size: int = SENSOR, steps_per_saccade: int = STEPS_PER_SACCADE):
    """The simulator configuration: CIFAR10-DVS geometry at ``sensor_size`` pixels, the
    calibrated sensor (:data:`CALIBRATED_SENSOR`)."""
    check_range("sensor_size", sensor_size, 8, 1024, integer=True)
    check_range("steps_per_saccade", steps_per_saccade, 1, 1000, integer=True)
    image = max(1, round(IMAGE_FRACTION * sensor_size))
    return replace(
        DVSConfig(),
        size=int(sensor_size),
        digit_size=image,
        amplitude=AMPLITUDE_FRACTION * image,
        saccade_us=SACCADE_US,
        steps_per_saccade=int(steps_per_saccade),
        **CALIBRATED_SENSOR,
    )


def grey(images_uint8: np.ndarray, luminance: str = "linear") -> np.ndarray:
    """``[N, 32, 32, 3]`` uint8 RGB to ``[N, 32, 32]`` float64 intensities in [0, 1]."""
    check_choice("luminance", luminance, LUMINANCES)
    v = np.asarray(images_uint8, dtype=np.float64) / 255.0
    if luminance == "linear":  # sRGB decoding: the light the monitor emits
        v = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
        return v @ np.array([0.2126, 0.7152, 0.0722])
    return v @ np.array([0.299, 0.587, 0.114])


def info(
    name: str = NAME, *, image_size: int | None = None, polarity: str = "both", **_options
) -> DatasetInfo:
    size = image_size or DEFAULT_SIZE
    channels = 1 if polarity == "merged" else 2
    return DatasetInfo(name, "events", NUM_CLASSES, channels, (size, size))


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


class CIFAR10DVSSimDataset(SplitDataset):
    """One split of ``cifar10-dvs-sim``; ``events(i)`` gives item ``i``'s raw events (128 px).

    Frames are made for the items of this view (after ``limit``) on first access, or by
    :meth:`prepare`.
    """

    def __init__(
        self,
        split: str,
        *,
        root: Path,
        download: bool = False,
        time_steps: int = 4,
        image_size: int | None = None,
        sensor_size: int = SENSOR,
        steps_per_saccade: int = STEPS_PER_SACCADE,
        downsample: str = "area",
        counts: str = "raw",
        polarity: str = "both",
        luminance: str = "linear",
        sim_seed: int = 0,
        cache: bool = True,
    ):
        self.config = sensor_config(sensor_size, steps_per_saccade)
        framing.check_framing("fixed", counts, self.config.duration_us, polarity, downsample)
        check_choice("luminance", luminance, LUMINANCES)
        check_range("sim_seed", sim_seed, 0, None, integer=True)
        check_choice("cache", cache, (True, False))
        self.source = cifar.CifarDataset("cifar10", split, root=Path(root), download=download)
        super().__init__(
            info(image_size=image_size, polarity=polarity),
            split,
            self.source.indices,
            self.source.targets,
        )
        self.root = Path(root)
        self.time_steps = int(time_steps)
        self.counts = counts
        self.luminance = luminance
        self.sim_seed = int(sim_seed)
        self.cache = bool(cache)
        self.framing = dict(
            size=self.info.size[0],
            binning="fixed",
            counts="raw",
            duration_us=self.config.duration_us,
            polarity=polarity,
            downsample=downsample,
        )
        self.offset = TEST_OFFSET if split == "test" else 0
        self.options_key = _hash(
            dict(
                version=CACHE_VERSION,
                config=self.config.to_dict(),
                framing=self.framing,
                time_steps=self.time_steps,
                luminance=luminance,
                sim_seed=self.sim_seed,
                source=self.source.source,
                source_sha256=self.source.source_sha256,
            )
        )
        self._frames = _MEMORY.setdefault(self.options_key, {})

    # -- simulation
    def global_index(self, source_index: int) -> int:
        return self.offset + int(source_index)

    def simulate(self, source_indices) -> tuple[np.ndarray, np.ndarray]:
        """Events and offsets (:func:`simulate_dvs_batch`) of the given source images."""
        source_indices = np.asarray(source_indices, dtype=np.int64)
        images = grey(self.source._data[source_indices], self.luminance)
        _STATS["simulated"] += len(source_indices)
        return simulate_dvs_batch(
            images,
            seed=self.sim_seed,
            indices=source_indices + self.offset,
            config=self.config,
        )

    def cache_file(self) -> Path:
        """The frames file of this view: options, split, indices and their images' checksum."""
        images = np.ascontiguousarray(self.source._data[self.indices])
        key = _hash(
            dict(
                options=self.options_key,
                split=self.split,
                indices=hashlib.sha256(self.indices.tobytes()).hexdigest(),
                images=hashlib.sha256(images.tobytes()).hexdigest(),
            )
        )
        return self.root / NAME / f"frames_{key[:20]}.npz"

    def check_cache(self, arrays: dict[str, np.ndarray]) -> None:
        """The domain of this view's frames file (:class:`~snnlib.data.checks.ArrayProblem` if
        not): ``indices`` the view's global indices, ``frames`` float32
        ``[N, T, P, size, size]``, finite and >= 0 (event counts)."""
        g = self.indices + self.offset
        idx = check_array("indices", arrays["indices"], dtype=np.int64, shape=g.shape)
        if not np.array_equal(idx, g):
            i = int(np.flatnonzero(idx != g)[0])
            raise ArrayProblem("indices", f"holds {idx[i]} at {i}, the view's item is {g[i]}")
        size = self.info.size[0]
        shape = (len(g), self.time_steps, self.info.in_channels, size, size)
        check_array("frames", arrays["frames"], dtype=np.float32, shape=shape, low=0)

    def prepare(self) -> CIFAR10DVSSimDataset:
        """Make the frames of every item of this view now (memory, else disk, else simulate).

        The disk cache is checksum and domain verified (:meth:`check_cache`); one that fails
        is simulated again, with a warning (:mod:`snnlib.data.cache`)."""
        g = self.indices + self.offset
        missing = [int(i) for i, gi in zip(self.indices, g) if int(gi) not in self._frames]
        if not missing:
            return self

        def simulate_missing() -> None:
            for a in range(0, len(missing), SIM_BATCH):
                chunk = np.asarray(missing[a : a + SIM_BATCH], dtype=np.int64)
                events, offsets = self.simulate(chunk)
                frames = framing.frame_events(
                    events, offsets, self.time_steps, sensor=self.config.size, **self.framing
                ).numpy()
                for i, fr in zip(chunk.tolist(), frames):
                    self._frames[i + self.offset] = fr

        if not self.cache:
            simulate_missing()
            return self

        def build() -> dict[str, np.ndarray]:
            simulate_missing()
            return {"indices": g, "frames": np.stack([self._frames[int(gi)] for gi in g])}

        arrays = load_or_rebuild(
            self.cache_file(),
            ("indices", "frames"),
            build,
            self.check_cache,
            source="the simulator",
        )
        for gi, fr in zip(g.tolist(), arrays["frames"]):
            self._frames.setdefault(gi, fr)
        return self

    # -- items
    def events(self, i: int) -> np.ndarray:
        """Raw events (tonic dtype x, y, t, p; sorted by t; ``sensor_size`` pixels) of item
        ``i``: simulated again, identical to the events its frames were made from."""
        events, _ = self.simulate([int(self.indices[i])])
        return events

    def frames_raw(self, source_index: int) -> np.ndarray:
        g = self.global_index(source_index)
        if g not in self._frames:
            self.prepare()
            if g not in self._frames:  # an index outside this view
                events, offsets = self.simulate([int(source_index)])
                self._frames[g] = framing.frame_events(
                    events, offsets, self.time_steps, sensor=self.config.size, **self.framing
                ).numpy()[0]
        return self._frames[g]

    def load(self, source_index: int) -> torch.Tensor:
        x = torch.from_numpy(np.array(self.frames_raw(source_index), dtype=np.float32))
        return framing.apply_counts(x, self.counts)


def load(
    name: str,
    split: str,
    *,
    root: Path,
    download: bool = False,
    time_steps: int = 4,
    image_size: int | None = None,
    **options,
) -> CIFAR10DVSSimDataset:
    return CIFAR10DVSSimDataset(
        split,
        root=root,
        download=download,
        time_steps=time_steps,
        image_size=image_size,
        **options,
    )
