"""The ground truth of SpikeNAS-Bench: every one of its 15,625 cells trained once on CIFAR-10.

The table (``data/embedded/spikenas-bench-cifar10.csv``, parsed from the benchmark's 15,625
training logs, public repository tju-sun-lab/SpikeNAS-Bench, commit 9994ce3) has one row per
architecture id: the six edge codes, ``test_acc`` (% on the 10,000 CIFAR-10 test images after
the last of 100 epochs), ``best_val_acc`` and ``final_val_acc`` (% on the validation half of
the training set), ``params``, ``train_seconds`` (one GPU run) and 16 per-layer firing rates.
Its sha256 is checked on every load; it is read with the csv module (no code runs from it), and
every row is checked, also when the checksum is not (``expected_sha256=None``): finite values,
accuracies in [0, 100] %, unique and complete architecture ids (:func:`_parse`).

The table only *scores* what a search returns; it never guides a training-free search.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..fileio import file_sha256
from ..paths import REPO_ROOT
from ..provenance import record_data
from ..validation import ConfigError
from .space import EDGES, N_ARCHS, all_edges, check_arch_id

TABLE_PATH = REPO_ROOT / "data" / "embedded" / "spikenas-bench-cifar10.csv"
TABLE_SHA256 = "86b3d9f0d264e0f17077e7024852e6c084abf9bed96f1345760cb9958dfaa5c2"
COLUMNS = ("test_acc", "best_val_acc", "final_val_acc", "params", "train_seconds")
CHANCE = 10.0
SOURCE = "tju-sun-lab/SpikeNAS-Bench@9994ce3999eded92c104fa7ce7082d4747cce3c3"


sha256 = file_sha256  # the table's checksum (snnlib.fileio.file_sha256)


@dataclass(frozen=True)
class BenchTable:
    """Columns of the benchmark as arrays indexed by architecture id."""

    test_acc: np.ndarray
    best_val_acc: np.ndarray
    final_val_acc: np.ndarray
    params: np.ndarray
    train_seconds: np.ndarray
    firing_rates: np.ndarray  # [15625, 16], -1 where a layer is absent
    path: str
    sha256: str

    def query(self, arch_id: int) -> dict:
        """Every column of one architecture (``arch_id``, ``edges`` and the numbers)."""
        a = check_arch_id(arch_id)
        row = {"arch_id": a, "edges": tuple(int(e) for e in all_edges()[a])}
        for c in COLUMNS:
            v = getattr(self, c)[a]
            row[c] = int(v) if c == "params" else float(v)
        return row

    def dead(self) -> np.ndarray:
        """Boolean mask of the cells at chance accuracy (10 %): the cells that learn nothing."""
        return self.test_acc <= CHANCE

    def percentile(self, test_acc: float) -> float:
        """Percent of the space with a test accuracy at most ``test_acc`` (100 = the best);
        an accuracy that is not a finite number is refused (it would read as 0)."""
        if not np.isfinite(test_acc):
            raise ConfigError(f"percentile: test_acc={test_acc!r} is not a finite accuracy")
        return float(100.0 * np.mean(self.test_acc <= test_acc))

    def provenance(self) -> dict:
        return {"table": Path(self.path).name, "sha256": self.sha256, "rows": N_ARCHS}


ACCURACIES = ("test_acc", "best_val_acc", "final_val_acc")  # percent, in [0, 100]
N_RATES = 16  # per-layer firing rates of a row


def _number(row: dict, column: str, low: float, high: float = math.inf) -> float:
    """The finite number in ``column`` of a row, within ``[low, high]``; else a
    :class:`ConfigError` naming the column, the value and the allowed range."""
    text = row[column]
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise ConfigError(f"{column}={text!r} is not a number") from None
    if not math.isfinite(v):
        raise ConfigError(f"{column}={text!r} is not a finite number")
    if not low <= v <= high:
        raise ConfigError(f"{column}={v:g} is outside [{low:g}, {high:g}]")
    return v


def _integer(row: dict, column: str, low: int, high: float = math.inf) -> int:
    v = _number(row, column, low, high)
    if not v.is_integer():
        raise ConfigError(f"{column}={row[column]!r} is not an integer")
    return int(v)


def _rates(text: str | None) -> list[float]:
    """The 16 firing rates of a row as floats (their range is checked for all rows at once,
    :func:`_check_rates`)."""
    parts = (text or "").split()
    if len(parts) != N_RATES:
        raise ConfigError(f"firing_rates has {len(parts)} values, expected {N_RATES}")
    return [float(v) for v in parts]


def _check_rates(path: Path, rates: np.ndarray, line_of: np.ndarray) -> None:
    """Every firing rate finite and either -1 (the layer is absent) or in [0, 1]."""
    bad = ~np.isfinite(rates) | ((rates != -1.0) & ((rates < 0.0) | (rates > 1.0)))
    if bad.any():
        a, i = (int(v) for v in np.argwhere(bad)[0])
        raise ConfigError(
            f"{path}, line {line_of[a]}: firing_rates[{i}]={rates[a, i]:g} is neither -1 "
            "(absent) nor a finite rate in [0, 1]"
        )


def _parse(path: Path) -> BenchTable:
    """The table's columns, every row checked (whether or not the checksum was): arch ids
    integral, in range, unique and complete, edges matching the id, accuracies finite and in
    [0, 100] %, params a positive integer, train_seconds finite and >= 0, 16 firing rates each
    -1 or in [0, 1]. A bad row is a :class:`ConfigError` naming the file, line and column."""
    n = N_ARCHS
    cols = {c: np.full(n, np.nan) for c in COLUMNS}
    rates = np.full((n, N_RATES), np.nan)
    line_of = np.zeros(n, dtype=np.int64)  # the line of each id's row, 0 = none yet
    edges = all_edges()
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = {"arch_id", *EDGES, *COLUMNS, "firing_rates"} - set(reader.fieldnames or ())
        if missing:
            raise ConfigError(f"{path}: the table lacks columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            try:
                a = _integer(row, "arch_id", 0, n - 1)
                if line_of[a]:
                    raise ConfigError(f"arch_id {a} is repeated (its row is line {line_of[a]})")
                if tuple(_integer(row, e, 0, 4) for e in EDGES) != tuple(edges[a]):
                    raise ConfigError(f"edges do not match arch_id {a} (base 5)")
                for c in ACCURACIES:
                    cols[c][a] = _number(row, c, 0.0, 100.0)
                cols["params"][a] = _integer(row, "params", 1)
                cols["train_seconds"][a] = _number(row, "train_seconds", 0.0)
                rates[a] = _rates(row["firing_rates"])
            except (ValueError, ConfigError) as exc:
                raise ConfigError(f"{path}, line {line}: {exc}") from exc
            line_of[a] = line
    if not line_of.all():
        absent = np.flatnonzero(line_of == 0)
        raise ConfigError(
            f"{path}: {absent.size} architecture ids have no row, e.g. {absent[:5].tolist()} "
            f"(every id 0..{n - 1} must have one)"
        )
    _check_rates(path, rates, line_of)
    return BenchTable(
        **{c: cols[c].astype(np.int64) if c == "params" else cols[c] for c in COLUMNS},
        firing_rates=rates,
        path=str(path),
        sha256="",
    )


def load_table(
    path: str | Path | None = None, expected_sha256: str | None = TABLE_SHA256
) -> BenchTable:
    """The benchmark table, checksum verified (pass ``expected_sha256=None`` for another file),
    parsed once per process; every call is recorded as data read (:mod:`snnlib.provenance`).

    >>> t = load_table()
    >>> int(t.test_acc.argmax()), float(t.test_acc.max()), int(t.dead().sum())
    (12617, 89.3, 341)
    """
    table = _load_table(path, expected_sha256)
    record_data(
        "spikenas-bench-cifar10", source=SOURCE, file=Path(table.path).name, sha256=table.sha256
    )
    return table


@lru_cache(maxsize=4)
def _load_table(
    path: str | Path | None = None, expected_sha256: str | None = TABLE_SHA256
) -> BenchTable:
    """The benchmark table, checksum verified (pass ``expected_sha256=None`` for another file).

    >>> t = load_table()
    >>> int(t.test_acc.argmax()), float(t.test_acc.max()), int(t.dead().sum())
    (12617, 89.3, 341)
    """
    path = Path(path) if path is not None else TABLE_PATH
    if not path.is_file():
        raise ConfigError(f"SpikeNAS-Bench table not found: {path}")
    digest = sha256(path)
    if expected_sha256 is not None and digest != expected_sha256:
        raise ConfigError(
            f"{path}: sha256 {digest} does not match the SpikeNAS-Bench table's {expected_sha256}"
        )
    t = _parse(path)
    return BenchTable(**{**t.__dict__, "sha256": digest})
