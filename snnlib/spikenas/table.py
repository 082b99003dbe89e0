"""The ground truth of SpikeNAS-Bench: every one of its 15,625 cells trained once on CIFAR-10.

The table (``data/embedded/spikenas-bench-cifar10.csv``, parsed from the benchmark's 15,625
training logs, public repository tju-sun-lab/SpikeNAS-Bench, commit 9994ce3) has one row per
architecture id: the six edge codes, ``test_acc`` (% on the 10,000 CIFAR-10 test images after
the last of 100 epochs), ``best_val_acc`` and ``final_val_acc`` (% on the validation half of
the training set), ``params``, ``train_seconds`` (one GPU run) and 16 per-layer firing rates.
Its sha256 is checked on every load; it is read with the csv module (no code runs from it).

The table only *scores* what a search returns; it never guides a training-free search.
"""

from __future__ import annotations

import csv
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


def _parse(path: Path) -> BenchTable:
    n = N_ARCHS
    cols = {c: np.full(n, np.nan) for c in COLUMNS}
    rates = np.full((n, 16), np.nan)
    seen = np.zeros(n, dtype=bool)
    edges = all_edges()
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = {"arch_id", *EDGES, *COLUMNS, "firing_rates"} - set(reader.fieldnames or ())
        if missing:
            raise ConfigError(f"{path}: the table lacks columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            try:
                a = check_arch_id(int(row["arch_id"]))
                if tuple(int(row[e]) for e in EDGES) != tuple(edges[a]):
                    raise ConfigError(f"edges do not match arch_id {a} (base 5)")
                for c in COLUMNS:
                    cols[c][a] = float(row[c])
                rates[a] = [float(v) for v in row["firing_rates"].split()]
            except (ValueError, ConfigError) as exc:
                raise ConfigError(f"{path}, line {line}: {exc}") from exc
            seen[a] = True
    if not seen.all():
        raise ConfigError(f"{path}: {int((~seen).sum())} architecture ids have no row")
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
