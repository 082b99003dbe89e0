"""The registry of data sets: every name that ``load_dataset`` / ``make_loaders`` /
``dataset_info`` accept, built-in or registered by the user.

An entry is anything with the three members of a built-in loader module (``digits``,
``cifar``, ...): ``OPTIONS`` (the dataset-specific keyword options it takes),
``info(name, **options) -> DatasetInfo`` and ``load(name, split, *, root, download,
time_steps, image_size, **options) -> SplitDataset``. :func:`register_dataset` also takes a
plain factory ``factory(split, **kwargs) -> Dataset`` with a :class:`DatasetInfo`.

A data set made by :func:`snnlib.data.from_tensors` / :func:`snnlib.data.from_events` with
``save=True`` is written to ``<data root>/user/<name>.pt``; a name that is not registered in
this process is looked up there, so another process (a notebook run by papermill with
``-p dataset <name>``) finds it by name alone.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch.utils.data import Dataset

from ..validation import ConfigError
from .base import DatasetInfo, SplitDataset

USER_FOLDER = "user"  # <data root>/user/<name>.pt: data sets saved by from_tensors/from_events


@dataclass(frozen=True)
class DatasetEntry:
    """One registered data set: its options, its description and its loader."""

    name: str
    options: tuple[str, ...]
    info: Callable[..., DatasetInfo]  # info(name, **options)
    load: Callable[..., SplitDataset]  # load(name, split, *, root, download, time_steps, ...)
    builtin: bool = False


_REGISTRY: dict[str, DatasetEntry] = {}


def _entry_of(name: str, source: Any, builtin: bool = False) -> DatasetEntry:
    return DatasetEntry(name, tuple(source.OPTIONS), source.info, source.load, builtin)


def register_builtin(name: str, module: ModuleType) -> None:
    """Register one of snnlib's own loader modules (done once, at import)."""
    _REGISTRY[name] = _entry_of(name, module, builtin=True)


class _FactorySource:
    """A plain factory ``factory(split, **kwargs) -> Dataset`` seen as a loader module."""

    def __init__(self, factory: Callable[..., Dataset], info: DatasetInfo, options: tuple):
        self.factory, self._info, self.OPTIONS = factory, info, tuple(options)
        params = inspect.signature(factory).parameters.values()
        self._takes_all = any(p.kind is p.VAR_KEYWORD for p in params)
        self._accepts = {p.name for p in params}

    def info(self, name: str, **options) -> DatasetInfo:
        return self._info

    def load(self, name: str, split: str, **kwargs) -> SplitDataset:
        if not self._takes_all:
            kwargs = {k: v for k, v in kwargs.items() if k in self._accepts}
        dataset = self.factory(split, **kwargs)
        if isinstance(dataset, SplitDataset):
            return dataset
        return WrappedSplit(dataset, self._info, split)


class WrappedSplit(SplitDataset):
    """Any map-style ``Dataset`` of ``(x, y)`` items as a :class:`SplitDataset` (labels from
    its ``targets`` attribute when it has one, else read item by item once)."""

    def __init__(self, dataset: Dataset, info: DatasetInfo, split: str):
        targets = getattr(dataset, "targets", None)
        if targets is None:
            targets = [int(dataset[i][1]) for i in range(len(dataset))]
        super().__init__(info, split, range(len(dataset)), [int(t) for t in targets])
        self.dataset = dataset

    def load(self, source_index: int) -> torch.Tensor:
        return torch.as_tensor(self.dataset[source_index][0], dtype=torch.float32)


def register_dataset(
    name: str,
    source: Any,
    *,
    info: DatasetInfo | None = None,
    options: tuple[str, ...] | None = None,
    replace: bool = False,
) -> str:
    """Make ``name`` a data set of ``load_dataset`` / ``make_loaders`` / ``dataset_info``.

    ``source`` is a loader module or object (``OPTIONS``, ``info``, ``load``: see the module
    docstring; :func:`from_tensors` returns one), or a factory ``factory(split, **kwargs)``
    returning a ``Dataset`` of ``(x, y)`` items for ``split`` in ``train``/``val``/``test``;
    a factory needs ``info`` (a :class:`DatasetInfo`) and receives those of ``root``,
    ``download``, ``time_steps``, ``image_size`` and its ``options`` that it names. Built-in
    names cannot be replaced; a registered name only with ``replace=True``. Returns ``name``.

    Example:
        >>> import torch
        >>> from torch.utils.data import TensorDataset
        >>> from snnlib.data import DatasetInfo, load_dataset, unregister_dataset
        >>> def squares(split, **kwargs):
        ...     n = {"train": 8, "val": 4, "test": 4}[split]
        ...     return TensorDataset(torch.rand(n, 1, 4, 4), torch.arange(n) % 2)
        >>> info = DatasetInfo("squares", "static", num_classes=2, in_channels=1, size=(4, 4))
        >>> register_dataset("squares", squares, info=info)
        'squares'
        >>> len(load_dataset("squares", "val")), load_dataset("squares", "train", limit=4).targets
        (4, [0, 0, 1, 1])
        >>> unregister_dataset("squares")
    """
    if not isinstance(name, str) or not name or "/" in name:
        raise ConfigError(f"dataset name={name!r} must be a non-empty string without '/'")
    known = _REGISTRY.get(name)
    if known is not None and known.builtin:
        raise ConfigError(f"dataset name={name!r} is a built-in data set; choose another name")
    if known is not None and not replace:
        raise ConfigError(f"dataset {name!r} is already registered; pass replace=True")
    if all(hasattr(source, a) for a in ("load", "info", "OPTIONS")):
        entry = _entry_of(name, source)
        if options is not None:
            entry = DatasetEntry(name, tuple(options), entry.info, entry.load)
    elif callable(source):
        if not isinstance(info, DatasetInfo):
            raise ConfigError(
                f"register_dataset({name!r}, factory) needs info=DatasetInfo(...), got {info!r}"
            )
        entry = _entry_of(name, _FactorySource(source, info, options or ()))
    else:
        raise ConfigError(
            f"register_dataset source={source!r} must be a loader module (OPTIONS, info, load) "
            "or a factory(split, **kwargs) -> Dataset"
        )
    _REGISTRY[name] = entry
    return name


def unregister_dataset(name: str) -> None:
    """Remove a user data set from this process's registry (built-ins stay)."""
    entry = _REGISTRY.get(name)
    if entry is None or entry.builtin:
        raise ConfigError(f"dataset {name!r} is not a registered user data set")
    del _REGISTRY[name]


def dataset_names(root: str | Path | None = None) -> tuple[str, ...]:
    """Every name a loader accepts now: built-ins, registered names, and the data sets saved
    under ``<data root>/user/``."""
    from . import data_root

    folder = data_root(root) / USER_FOLDER
    saved = sorted(p.stem for p in folder.glob("*.pt")) if folder.is_dir() else []
    return tuple(dict.fromkeys([*_REGISTRY, *saved]))


def get_entry(name: str, root: str | Path | None = None) -> DatasetEntry:
    """The entry of ``name``: registered, else saved under ``<data root>/user/<name>.pt``,
    else :class:`ConfigError` listing every name that is allowed."""
    from . import data_root

    entry = _REGISTRY.get(name)
    if entry is not None:
        return entry
    path = data_root(root) / USER_FOLDER / f"{name}.pt" if isinstance(name, str) else None
    if path is not None and path.is_file():
        from .user import load_saved

        return _entry_of(name, load_saved(path))
    raise ConfigError(
        f"dataset={name!r} is not allowed; choose one of {list(dataset_names(root))}, or add "
        "it with snnlib.data.register_dataset(name, loader), from_tensors(x, y, name=...) or "
        "from_events(events, labels, sensor_size, name=...)"
    )
