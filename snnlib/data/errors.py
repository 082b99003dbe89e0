"""The one error raised when a dataset's files are not on disk.

Datasets that cannot be generated locally (CIFAR, CIFAR10-DVS, DVS-Gesture) need files
that are either downloaded by their library (``download=True``, which needs network) or
put in place by hand. When neither has happened, the user gets a single message that names
the dataset, the exact path that was searched and how to obtain the files, instead of a
torchvision ``RuntimeError`` or a ``urllib`` traceback.
"""

from __future__ import annotations

from pathlib import Path


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
