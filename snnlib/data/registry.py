"""The registry of data sets: every name that ``load_dataset`` / ``make_loaders`` /
``dataset_info`` accept, built-in or registered by the user.

An entry is anything with the three members of a built-in loader module (``digits``,
``cifar``, ...): ``OPTIONS`` (the dataset-specific keyword options it takes),
``info(name, **options) -> DatasetInfo`` and ``load(name, split, *, root, download,
time_steps, image_size, **options) -> SplitDataset``. :func:`register_dataset` also takes a
plain factory ``factory(split, **kwargs) -> Dataset`` with a :class:`DatasetInfo`.

A registration lives in the process that made it. Notebooks run in another process (papermill
starts a kernel), so a name reaches them in one of two ways:

- **saved data**: :func:`snnlib.data.from_tensors` / :func:`snnlib.data.from_events` with
  ``save=True`` write ``<data root>/user/<name>.npz`` (:mod:`snnlib.data.user_store`); a name
  that is not registered in this process is looked up there;
- **a module of loaders**: the environment variable ``SNNLIB_DATASETS`` names Python modules
  (dotted names on ``sys.path``, or paths of ``.py`` files; several separated by ``,``) that
  call :func:`register_dataset`. They are imported at the first registry lookup of every
  process (:func:`import_user_modules`), so their names exist in every notebook run with that
  variable set (``make notebook`` passes the environment on). Importing a module runs its
  code: name only your own modules there.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch.utils.data import Dataset

from ..validation import ConfigError
from .base import DatasetInfo, SplitDataset

USER_FOLDER = "user"  # <data root>/user/<name>.npz: data sets saved by from_tensors/from_events
ENV_MODULES = "SNNLIB_DATASETS"  # modules whose register_dataset calls reach every process
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class DatasetEntry:
    """One registered data set: its options, its description and its loader."""

    name: str
    options: tuple[str, ...]
    info: Callable[..., DatasetInfo]  # info(name, **options)
    load: Callable[..., SplitDataset]  # load(name, split, *, root, download, time_steps, ...)
    builtin: bool = False
    source: Any = None  # what was registered (a from_tensors source knows its sha256)


_REGISTRY: dict[str, DatasetEntry] = {}


def _entry_of(name: str, source: Any, builtin: bool = False) -> DatasetEntry:
    return DatasetEntry(name, tuple(source.OPTIONS), source.info, source.load, builtin, source)


def check_name(name: Any) -> str:
    """A data set name: 1-64 letters, digits, ``.``, ``_``, ``-``, starting with a letter or
    digit, without ``__`` (result files and make targets split ``<notebook>__<dataset>`` there)
    and not a built-in name."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or "__" in name:
        raise ConfigError(
            f"dataset name={name!r} must be 1-64 letters, digits, '.', '_' or '-', starting "
            "with a letter or digit, without '__' (it becomes part of file names)"
        )
    known = _REGISTRY.get(name)
    if known is not None and known.builtin:
        raise ConfigError(f"dataset name={name!r} is a built-in data set; choose another name")
    return name


def registered(name: str) -> DatasetEntry | None:
    """The entry registered under ``name`` in this process, if any."""
    return _REGISTRY.get(name)


def saved_path(name: str, root: str | Path | None = None) -> Path:
    """``<data root>/user/<name>.npz``: where ``save=True`` puts data set ``name``."""
    from . import data_root
    from .user_store import SUFFIX

    return data_root(root) / USER_FOLDER / f"{name}{SUFFIX}"


_IMPORTED: set[str] = set()
_SAVED: dict[tuple, DatasetEntry] = {}  # (path, mtime, size) -> the entry of a saved file


def _import_one(spec: str) -> None:
    if spec.endswith(".py") or os.sep in spec:
        path = Path(spec).expanduser().resolve()
        for module in list(sys.modules.values()):  # imported already (e.g. by the user)
            if getattr(module, "__file__", None) and Path(module.__file__).resolve() == path:
                return
        if not path.is_file():
            raise FileNotFoundError(f"no file {path}")
        name = f"snnlib_user_datasets_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    else:
        importlib.import_module(spec)


def import_user_modules() -> None:
    """Import the modules named in ``$SNNLIB_DATASETS`` (once per process), so that their
    :func:`register_dataset` calls exist here. A module that cannot be imported raises
    :class:`ConfigError` naming the variable, the module and the reason (and is tried again at
    the next lookup)."""
    for spec in (s.strip() for s in os.environ.get(ENV_MODULES, "").split(",")):
        if not spec or spec in _IMPORTED:
            continue
        try:
            _import_one(spec)
        except Exception as exc:  # noqa: BLE001 - any failure of the user's module is named
            raise ConfigError(
                f"{ENV_MODULES}={os.environ.get(ENV_MODULES)!r}: importing {spec!r} failed "
                f"({type(exc).__name__}: {exc}); it must be an importable module name or the "
                "path of a .py file that calls snnlib.data.register_dataset"
            ) from exc
        _IMPORTED.add(spec)


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
    check_name(name)
    known = _REGISTRY.get(name)
    if known is not None and known.source is source and options is None:
        return name  # the same source again (a module imported twice): nothing to do
    if known is not None and not replace:
        raise ConfigError(f"dataset {name!r} is already registered; pass replace=True")
    if all(hasattr(source, a) for a in ("load", "info", "OPTIONS")):
        entry = _entry_of(name, source)
        if options is not None:
            entry = DatasetEntry(name, tuple(options), entry.info, entry.load, False, source)
    elif callable(source):
        if not isinstance(info, DatasetInfo):
            raise ConfigError(
                f"register_dataset({name!r}, factory) needs info=DatasetInfo(...), got {info!r}"
            )
        entry = _entry_of(name, _FactorySource(source, info, options or ()))
        entry = DatasetEntry(name, entry.options, entry.info, entry.load, False, source)
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
    """Every name a loader accepts now: built-ins, registered names (with those of the
    ``$SNNLIB_DATASETS`` modules), and the data sets saved under ``<data root>/user/``."""
    from . import data_root

    import_user_modules()
    folder = data_root(root) / USER_FOLDER
    saved = []
    if folder.is_dir():
        saved = sorted({p.stem for p in folder.iterdir() if p.suffix in (".npz", ".pt")})
    return tuple(dict.fromkeys([*_REGISTRY, *saved]))


def get_entry(name: str, root: str | Path | None = None) -> DatasetEntry:
    """The entry of ``name``: registered (here or by a ``$SNNLIB_DATASETS`` module), else
    saved under ``<data root>/user/<name>.npz``, else :class:`ConfigError` listing every name
    that is allowed and how to add one."""
    import_user_modules()
    entry = _REGISTRY.get(name)
    if entry is not None:
        return entry
    if isinstance(name, str) and NAME_PATTERN.fullmatch(name):
        from .user import load_saved

        path = saved_path(name, root)
        legacy = path.with_suffix(".pt")  # written by snnlib before the .npz format
        for candidate in (path, legacy):
            if candidate.is_file():
                stat = candidate.stat()
                key = (str(candidate), stat.st_mtime_ns, stat.st_size)
                if key not in _SAVED:  # read and verified once per file version
                    _SAVED[key] = _entry_of(name, load_saved(candidate))
                return _SAVED[key]
    raise ConfigError(
        f"dataset={name!r} is not allowed; choose one of {list(dataset_names(root))}. "
        "To use your own data in notebooks (they run in another process), save it once: "
        "snnlib.data.from_tensors(x, y, name=..., save=True) (or from_events(..., save=True)) "
        f"writes {saved_path('<name>', root)}, found by name from then on; or put "
        f"register_dataset(name, loader) calls in a module and name it in ${ENV_MODULES}"
    )
