"""The errors of data loading: a dataset's files not on disk, a cache that cannot be trusted.

Datasets that cannot be generated locally (CIFAR, CIFAR10-DVS, DVS-Gesture) need files
that are either downloaded by their library (``download=True``, which needs network) or
put in place by hand. When neither has happened, the user gets a single message that names
the dataset, the exact path that was searched and how to obtain the files, instead of a
torchvision ``RuntimeError`` or a ``urllib`` traceback. A cache of decoded data that is
truncated, garbage, changed since it was written or out of its domain is a
:class:`CorruptCache` naming the file and what is wrong, never a bare ``EOFError``.
"""

from __future__ import annotations

from pathlib import Path

from ..validation import ConfigError


class DatasetNotFound(FileNotFoundError):
    """A dataset's files are missing (or unreadable) and could not be downloaded."""

    def __init__(self, name: str, path: str | Path, how: str, reason: str = ""):
        self.name = name
        self.path = Path(path)
        self.how = how
        why = f" ({reason})" if reason else ""
        message = (
            f"dataset {name!r} not found at {self.path}{why}. {how} "
            "The data root is the `root` argument, else $SNNLIB_DATA, else <repo>/data/datasets."
        )
        super().__init__(message)

    def __str__(self) -> str:
        return self.args[0]


class CorruptCache(ConfigError):
    """A cache of decoded data fails its checksum or its domain checks, or cannot be read.

    ``path`` is the file, ``problem`` what is wrong with it (naming the array or field), ``how``
    what to do (the default: delete the file, and the next load rebuilds it).
    """

    def __init__(self, path: str | Path, problem: str, how: str = ""):
        self.path = Path(path)
        self.problem = problem
        self.how = how or f"Delete {self.path} and load again to rebuild it."
        super().__init__(f"the cache {self.path} {problem}. {self.how}")

    def __str__(self) -> str:
        return self.args[0]
