"""Datasets of snnlib: one entry point for static images and event-camera recordings.

``load_dataset(name, split)`` returns a ``torch.utils.data.Dataset`` whose items are
``(x, y)``, ``y`` a Python int and ``x`` float32:

- static datasets (``digits``, ``cifar10``, ``cifar100``): ``[C, H, W]``, normalised;
- event datasets (``digits-dvs``, ``nmnist``, ``cifar10-dvs``, ``dvs-gesture``, and
  ``cifar10-dvs-sim``, CIFAR-10 through the simulated sensor):
  ``[T, P, H, W]`` event counts in ``T = time_steps`` time bins and ``P = 2`` polarities (OFF, ON).

Items are *not* time-major; ``snnlib.encoding`` turns a batch into ``[T, B, ...]``.

Any other data set is one line away: :func:`register_dataset` (a loader or a factory),
:func:`from_tensors` (tensors in memory) or :func:`from_events` (tonic event arrays), after
which its name works everywhere a built-in one does (see :mod:`snnlib.data.registry`). Every
dataset carries ``.info`` (:class:`DatasetInfo`), ``.targets`` and ``.indices`` (the source
indices of its items), and event datasets ``.events(i)`` (the raw events of item ``i``).

Splits (``train``/``val``/``test``) are fixed by each dataset's definition and never depend
on the experiment ``seed``; ``seed`` only chooses which items ``limit`` keeps and the order
of the shuffled train loader. Files are looked up under ``root``, else ``$SNNLIB_DATA``,
else ``<repo>/data/datasets``; a missing dataset raises :class:`DatasetNotFound`; a
cache of decoded data that fails its checksum or domain checks, :class:`CorruptCache`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from .. import dryrun
from ..paths import REPO_ROOT
from ..provenance import record_data
from ..validation import ConfigError, check_choice, check_range
from . import cifar, cifar10_dvs_sim, digits, digits_dvs, neuromorphic, nmnist
from .base import DatasetInfo, SplitDataset
from .errors import CorruptCache, DatasetNotFound
from .registry import (
    DatasetEntry,
    dataset_names,
    get_entry,
    register_builtin,
    register_dataset,
    unregister_dataset,
)
from .splits import stratified_limit
from .user import from_events, from_tensors

__all__ = [
    "DATASETS",
    "SPLITS",
    "DATA_ROOT",
    "DatasetInfo",
    "DatasetNotFound",
    "CorruptCache",
    "DatasetEntry",
    "ConfigError",
    "dataset_info",
    "dataset_names",
    "load_dataset",
    "make_loaders",
    "data_root",
    "register_dataset",
    "unregister_dataset",
    "from_tensors",
    "from_events",
]

#: the built-in data sets (more can be registered: :func:`register_dataset`)
DATASETS = (
    "digits",
    "digits-dvs",
    "cifar10",
    "cifar100",
    "cifar10-dvs",
    "dvs-gesture",
    "nmnist",
    "cifar10-dvs-sim",
)
SPLITS = ("train", "val", "test")
DATA_ROOT = Path(os.environ.get("SNNLIB_DATA", REPO_ROOT / "data" / "datasets"))

_MODULES = (digits, digits_dvs, cifar, cifar, neuromorphic, neuromorphic, nmnist, cifar10_dvs_sim)
for _name, _module in zip(DATASETS, _MODULES):
    register_builtin(_name, _module)
del _name, _module, _MODULES


def data_root(root: str | Path | None = None) -> Path:
    """``root`` if given, else ``$SNNLIB_DATA`` (read now), else :data:`DATA_ROOT`."""
    if root is not None:
        return Path(root).expanduser()
    return Path(os.environ.get("SNNLIB_DATA", DATA_ROOT)).expanduser()


def _entry(name: str, options: dict[str, Any], root=None) -> DatasetEntry:
    entry = get_entry(name, root)
    given = {k for k, v in options.items() if not (k == "image_size" and v is None)}
    unknown = sorted(given - set(entry.options))
    if unknown:
        raise ConfigError(
            f"option(s) {unknown} not known for dataset {name!r}; "
            f"choose among {list(entry.options)}"
        )
    if options.get("image_size") is not None:
        check_range("image_size", options["image_size"], 1, 1024, integer=True)
    return entry


def dataset_info(name: str, *, root: str | Path | None = None, **options) -> DatasetInfo:
    """Classes, channels, kind and item size of ``name`` with the given options.

    Example:
        >>> dataset_info("digits", image_size=8)
        DatasetInfo(name='digits', kind='static', num_classes=10, in_channels=1, size=(8, 8))
    """
    entry = _entry(name, options, root)
    if options.get("image_size") is None and "image_size" not in entry.options:
        options = {k: v for k, v in options.items() if k != "image_size"}
    return entry.info(name, **options)


def load_dataset(
    name: str,
    split: str,
    *,
    root: str | Path | None = None,
    download: bool = False,
    time_steps: int = 4,
    image_size: int | None = None,
    limit: int | None = None,
    seed: int = 0,
    every_class: bool = False,
    **options,
) -> SplitDataset:
    """One split of a dataset (see the module docstring for the item format).

    ``limit`` keeps at most that many items, balanced over classes, chosen by ``seed``; with
    ``every_class`` (what :func:`make_loaders` asks for) a ``limit`` below the number of
    classes is an error, since a network trained or scored on the split would never see some
    classes (a raw sample, e.g. a batch for a timing, may be smaller). An empty split is an
    error: an accuracy on it would read 0.0.
    ``options`` are dataset specific: ``augment`` (cifar), simulator parameters, ``sim_seed``
    and ``cache`` (digits-dvs).
    """
    entry = _entry(name, {"image_size": image_size, **options}, root)
    check_choice("split", split, SPLITS)
    check_range("time_steps", time_steps, 1, 10_000, integer=True)
    dataset = entry.load(
        name,
        split,
        root=data_root(root),
        download=download,
        time_steps=time_steps,
        image_size=image_size,
        **options,
    )
    if limit is not None:
        check_range("limit", limit, 1, None, integer=True)
        classes = len(set(dataset.targets))
        if every_class and limit < min(classes, len(dataset)):
            raise ConfigError(
                f"limit={limit} for the {split} split of {name!r} is smaller than its "
                f"{classes} classes: a class would have no item; use limit >= {classes}"
            )
        dataset = dataset.select(stratified_limit(dataset.targets, limit, seed=seed))
    if len(dataset) == 0:
        raise ConfigError(
            f"the {split} split of dataset {name!r} is empty: an accuracy on it would be "
            "meaningless; give it items (e.g. from_tensors(..., val_fraction > 0)) or leave the "
            "split out (make_loaders(..., splits=...))"
        )
    source = getattr(dataset, "source", None)
    targets = np.asarray(dataset.targets, dtype=np.int64)
    record_data(
        name,
        split=split,
        source=getattr(dataset, "source_name", None)
        or (source if isinstance(source, str) else type(dataset).__name__),
        sha256=getattr(dataset, "source_sha256", None),
        items=len(dataset),
        targets_sha256=hashlib.sha256(targets.tobytes()).hexdigest(),
        limit=limit,
        seed=seed if limit is not None else None,
        image_size=image_size,
        time_steps=time_steps,
    )
    return dataset


def make_loaders(
    name: str,
    *,
    batch_size: int,
    time_steps: int = 4,
    limit: dict[str, int] | int | None = None,
    seed: int = 0,
    root: str | Path | None = None,
    download: bool = False,
    image_size: int | None = None,
    num_workers: int = 0,
    splits: Iterable[str] = SPLITS,
    **options,
) -> dict[str, DataLoader]:
    """A DataLoader per split. Only ``train`` shuffles, with a generator seeded by ``seed``
    (same seed, same batch order); ``limit`` is one int for all splits or a dict per split."""
    check_range("batch_size", batch_size, 1, None, integer=True)
    batch_size = dryrun.batch_size(batch_size)  # a dry run may measure a smaller batch
    splits = tuple(splits)
    for split in splits:
        check_choice("split", split, SPLITS)
    if isinstance(limit, dict):
        for split in limit:
            check_choice("limit split", split, SPLITS)
    loaders = {}
    for split in splits:
        n = limit.get(split) if isinstance(limit, dict) else limit
        dataset = load_dataset(
            name,
            split,
            root=root,
            download=download,
            time_steps=time_steps,
            image_size=image_size,
            limit=n,
            seed=seed,
            every_class=True,
            **options,
        )
        train = split == "train"
        generator = torch.Generator().manual_seed(seed) if train else None
        loaders[split] = DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=train,
            generator=generator,
            num_workers=num_workers,
            drop_last=False,
        )
    return loaders
