"""What every snnlib dataset has in common: a description and a split view over a source.

A *source* is the whole collection of items of one dataset (all 1797 digits, the official
CIFAR train set, ...). A *split* (train / val / test) is a list of source indices with their
labels. Keeping the source indices explicit makes splits easy to check (disjoint, complete)
and lets ``limit`` shrink a split without copying data.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset


@dataclass(frozen=True)
class DatasetInfo:
    """Shape facts a model needs before it sees any data.

    ``kind`` is ``"static"`` (items ``[C, H, W]``) or ``"events"`` (items ``[T, P, H, W]``
    with ``P = in_channels = 2`` polarities); ``size`` is ``(H, W)`` of the items as
    delivered (after any resizing).
    """

    name: str
    kind: str
    num_classes: int
    in_channels: int
    size: tuple[int, int]

    def __post_init__(self):
        from ..validation import ConfigError, check_choice

        check_choice("DatasetInfo.kind", self.kind, ("static", "events"))
        for field, low in (("num_classes", 2), ("in_channels", 1)):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ConfigError(f"DatasetInfo.{field}={v!r} must be an integer >= {low}")
        size = tuple(self.size) if isinstance(self.size, (tuple, list)) else None
        if (
            size is None
            or len(size) != 2
            or any(
                isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in size
            )
        ):
            raise ConfigError(f"DatasetInfo.size={self.size!r} must be (height, width) >= 1")


class SplitDataset(Dataset, ABC):
    """One split of a source: ``indices[i]`` is the source index of item ``i``.

    Subclasses fetch one item with :meth:`load` (from a source index); items are returned
    as ``(x, y)`` with ``x`` a float32 tensor and ``y`` a Python int.
    """

    def __init__(
        self, info: DatasetInfo, split: str, indices: Sequence[int], targets: Sequence[int]
    ):
        self.info = info
        self.split = split
        self.indices = np.asarray(indices, dtype=np.int64)
        self.targets = [int(t) for t in targets]
        if len(self.indices) != len(self.targets):
            raise ValueError("indices and targets differ in length")

    @abstractmethod
    def load(self, source_index: int) -> torch.Tensor:
        """Return the float32 tensor of one source item (implemented by each dataset)."""

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} items")
        return self.load(int(self.indices[i])), self.targets[i]

    def select(self, positions: Sequence[int]) -> SplitDataset:
        """A shallow copy that keeps only the items at ``positions`` (in that order)."""
        positions = np.asarray(positions, dtype=np.int64)
        new = copy.copy(self)
        new.indices = self.indices[positions]
        new.targets = [self.targets[p] for p in positions]
        return new

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.info.name!r}, split={self.split!r}, n={len(self)})"
