r"""The learning curves of SpikeNAS-Bench: every cell's accuracy and loss after every epoch.

``data/embedded/spikenas-bench-cifar10-curves.csv.xz`` (10.4 MB) was parsed from the same
15,625 training logs as the table (public repository tju-sun-lab/SpikeNAS-Bench, commit
9994ce3999eded92c104fa7ce7082d4747cce3c3): one row per (cell, epoch),
``arch_id,epoch,train_acc,train_loss,val_acc,val_loss`` as logged (accuracies in %, validation
= the validation half of the CIFAR-10 training set, epochs counted from 0); 1,631,500 rows.
14,935 cells ran 100 epochs; **690 cells** (ids between 3276 and 14178) ran **200 epochs**,
their cosine learning-rate schedule spread over the 200 epochs. For those cells the value
"after k epochs" sits at another point of the schedule than for a 100-epoch cell, and their
table ``test_acc`` comes after 200 epochs: their mean validation accuracy (learning cells)
still rises from 86.93 % after 100 epochs to 87.47 % after 200. They are kept, never hidden:
pass ``mask=curves.n_epochs == 100`` (:meth:`Curves.hundred_epochs`) wherever every cell
should stand at the same point of the same schedule.

Loading: the archive's sha256 is checked, its rows are read by :func:`numpy.loadtxt` (numbers
only: nothing in the file is executed or unpickled) and validated (finite numbers, accuracies
in [0, 100], losses >= 0, integral ids in [0, 15624], epochs contiguous from 0 per cell, no
duplicate (cell, epoch), every cell present). Decoding takes about 3 s on one core (1 s of
it xz), so the validated arrays are cached once as an ``.npz`` (read with ``allow_pickle=False``),
named by the archive's checksum, under the data cache folder (``$SNNLIB_DATA/cache`` or
``<repo>/data/datasets/cache``, git-ignored); the cache carries the sha256 of its own arrays,
checked on every read (a damaged cache is rebuilt from the archive). A cached load takes
0.1 to 0.3 s.

What the curves give at no training cost:

- **early-stop scores** of every cell (:func:`early_stop_scores`): the validation accuracy
  after :math:`k` epochs, and the negated sum of the training losses over the first :math:`k`
  epochs, for :math:`k` in :data:`EARLY_STOP_EPOCHS`. Ten epochs is the active fitness of the
  MSE-NAS search script BrainCog ships, and one of the benchmark's own early-stop proxies
  (validation accuracy at epochs 10, 40 and 60);
- what that early stop costs (:func:`early_stop_cost_share`, :func:`early_stop_seconds`);
- **the noise ceiling** (:func:`noise_ceiling`): how well the final validation accuracy ranks
  the test accuracy. No score computed before or during training can be expected to rank the
  test accuracy much better than a full training run's own validation accuracy does;
- how that ranking grows epoch by epoch (:func:`rank_correlation_by_epoch`).

>>> c = load_curves()
>>> c.val_acc.shape, int((c.n_epochs == 200).sum())
((15625, 200), 690)
>>> round(c.val_acc_at(12617, 10), 3), round(c.val_acc_at(12617, 100), 3)
(76.24, 88.388)
"""

from __future__ import annotations

import inspect
import lzma
import math
import warnings
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..fileio import arrays_sha256, atomic_write
from ..paths import REPO_ROOT
from ..provenance import record_data
from ..validation import ConfigError, check_range
from .space import N_ARCHS, check_arch_id
from .table import CHANCE, BenchTable
from .table import sha256 as file_sha256

CURVES_PATH = REPO_ROOT / "data" / "embedded" / "spikenas-bench-cifar10-curves.csv.xz"
CURVES_SHA256 = "208cc1cb958fd1bb610cf12e33a2cee60868e2c5f6e70820f0d804aee0e6319e"
SOURCE = {
    "repository": "tju-sun-lab/SpikeNAS-Bench",
    "commit": "9994ce3999eded92c104fa7ce7082d4747cce3c3",
}
HEADER = ("arch_id", "epoch", "train_acc", "train_loss", "val_acc", "val_loss")
VALUES = HEADER[2:]
"""The four logged quantities, in the file's column order."""
EARLY_STOP_EPOCHS = (1, 2, 5, 10, 20, 40, 60)
"""Epoch budgets of :func:`early_stop_scores` (10: BrainCog's MSE-NAS fitness and a benchmark
early-stop proxy, as are 40 and 60)."""
CACHE_FORMAT = 1


@dataclass(frozen=True, eq=False)
class Curves:
    """Per-epoch curves of every cell, indexed ``[arch_id, epoch]`` (epoch counted from 0).

    ``train_acc``, ``train_loss``, ``val_acc``, ``val_loss``: float64 ``[15625, E]`` with ``E``
    the longest run (200), NaN beyond a cell's ``n_epochs`` (int64 ``[15625]``; 0 for a cell a
    partial file lacks). "After k epochs" is column ``k - 1``. Arrays are read-only.
    """

    train_acc: np.ndarray
    train_loss: np.ndarray
    val_acc: np.ndarray
    val_loss: np.ndarray
    n_epochs: np.ndarray
    path: str
    sha256: str

    # --- queries -------------------------------------------------------------------------
    def _ids(self, arch_ids) -> tuple[np.ndarray, bool]:
        """Checked ids as an int64 array (``None``: every cell), and whether one id was given.
        No wrapping: negative, too large or non-integral ids are refused."""
        if arch_ids is None:
            return np.arange(N_ARCHS), False
        if isinstance(arch_ids, np.ndarray) and arch_ids.ndim == 0:
            arch_ids = arch_ids.item()
        if np.ndim(arch_ids) == 0:
            return np.array([check_arch_id(arch_ids)]), True
        ids = np.asarray(arch_ids)
        if ids.size and (ids.dtype == bool or not np.issubdtype(ids.dtype, np.integer)):
            flat = ids.reshape(-1).tolist()
            bad = next((v for v in flat if isinstance(v, float) and not v.is_integer()), flat[0])
            raise ConfigError(
                f"arch_ids must be integers in [0, {N_ARCHS - 1}]; got {bad!r} "
                f"(an array of dtype {ids.dtype})"
            )
        out = ids.astype(np.int64)
        bad_range = (out < 0) | (out >= N_ARCHS)
        if bad_range.any():
            check_arch_id(int(out[bad_range].reshape(-1)[0]))  # raises, naming it
        return out, False

    def _check_k(self, ids: np.ndarray, k, what: str) -> int:
        if isinstance(k, np.integer):
            k = int(k)
        check_range(what, k, 1, None, integer=True)
        short = ids[self.n_epochs[ids] < k]
        if short.size:
            first = np.unique(short)[:5]
            detail = ", ".join(f"{int(a)} ({int(self.n_epochs[a])} epochs)" for a in first)
            raise ConfigError(
                f"{what}={k} exceeds the recorded epochs of {np.unique(short).size} cell(s): "
                f"{detail}{' ...' if np.unique(short).size > 5 else ''}"
            )
        return k

    def _at(self, column: str, arch_ids, k) -> np.ndarray | float:
        ids, single = self._ids(arch_ids)
        k = self._check_k(ids.reshape(-1), k, "k")
        out = getattr(self, column)[ids, k - 1]
        return float(out[0]) if single else out

    def val_acc_at(self, arch_ids, k: int) -> np.ndarray | float:
        """Validation accuracy (%) after ``k >= 1`` epochs (column ``k - 1``) of one cell (a
        float) or of an array of ids (``None``: every cell); an error if ``k`` exceeds a cell's
        epochs. For the 690 cells run over 200 epochs, epoch ``k`` is an earlier point of a
        slower cosine schedule (see the module docstring)."""
        return self._at("val_acc", arch_ids, k)

    def train_acc_at(self, arch_ids, k: int) -> np.ndarray | float:
        """Training accuracy (%) during epoch ``k``, as :meth:`val_acc_at`."""
        return self._at("train_acc", arch_ids, k)

    def train_loss_at(self, arch_ids, k: int) -> np.ndarray | float:
        """Training loss logged for epoch ``k`` (the ``k``-th epoch), as :meth:`val_acc_at`."""
        return self._at("train_loss", arch_ids, k)

    def val_loss_at(self, arch_ids, k: int) -> np.ndarray | float:
        """Validation loss after ``k`` epochs, as :meth:`val_acc_at`."""
        return self._at("val_loss", arch_ids, k)

    def train_loss_sum(self, arch_ids, k: int) -> np.ndarray | float:
        """Sum of the training losses of the first ``k`` epochs (columns ``0 .. k-1``); lower
        means a cell that learned faster (:func:`early_stop_scores` negates it)."""
        ids, single = self._ids(arch_ids)
        k = self._check_k(ids.reshape(-1), k, "k")
        out = self.train_loss[ids, :k].sum(-1)
        return float(out[0]) if single else out

    def final_val_acc(self) -> np.ndarray:
        """Validation accuracy after each cell's last epoch (NaN for a cell without rows)."""
        out = np.full(N_ARCHS, np.nan)
        has = self.n_epochs > 0
        out[has] = self.val_acc[has, self.n_epochs[has] - 1]
        return out

    def hundred_epochs(self) -> np.ndarray:
        """Boolean mask ``n_epochs == 100``: the cells trained on the benchmark's standard
        schedule (all but the 690 cells run over 200 epochs)."""
        return self.n_epochs == 100

    def query(self, arch_id) -> dict:
        """One cell's curve: ``arch_id``, ``n_epochs`` and, as float arrays of length
        ``n_epochs`` (index = epoch from 0), ``train_acc``, ``train_loss``, ``val_acc``,
        ``val_loss``."""
        a = check_arch_id(arch_id)
        n = int(self.n_epochs[a])
        row: dict = {"arch_id": a, "n_epochs": n}
        for c in VALUES:
            row[c] = getattr(self, c)[a, :n].copy()
        return row

    def provenance(self) -> dict:
        """Where the curves come from: file, sha256, source repository and commit."""
        return {
            "curves": Path(self.path).name,
            "path": self.path,
            "sha256": self.sha256,
            "source": dict(SOURCE),
            "cells": int((self.n_epochs > 0).sum()),
            "rows": int(self.n_epochs.sum()),
        }


# --- parsing -------------------------------------------------------------------------------
def _read_rows(path: Path) -> np.ndarray:
    """All data rows as float64 ``[rows, 6]``; the header must be exactly :data:`HEADER`."""
    try:
        with lzma.open(path, "rt", encoding="ascii", newline="") as f:
            header = f.readline().strip()
            if tuple(header.split(",")) != HEADER:
                raise ConfigError(
                    f"{path}: header {header!r} is not the curves header {','.join(HEADER)!r}"
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
                rows = np.loadtxt(f, delimiter=",", dtype=np.float64, comments=None, ndmin=2)
    except (lzma.LZMAError, EOFError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{path}: not a readable curves CSV (.csv.xz): {exc}") from exc
    if rows.shape[0] == 0:
        raise ConfigError(f"{path}: the curves file has no data rows")
    if rows.shape[1] != len(HEADER):
        raise ConfigError(f"{path}: rows have {rows.shape[1]} columns, expected {len(HEADER)}")
    return rows


def _row_error(path: Path, rows: np.ndarray, i: int, problem: str) -> ConfigError:
    a, e = rows[i, 0], rows[i, 1]
    return ConfigError(
        f"{path}, data row {i + 1} (line {i + 2}; arch_id {a:g}, epoch {e:g}): {problem}"
    )


def _validate(path: Path, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(n_epochs [N], values [rows, 4])`` sorted by (cell, epoch), or a :class:`ConfigError`
    naming the file, the row and the problem."""
    for j, name in enumerate(HEADER):
        bad = ~np.isfinite(rows[:, j])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _row_error(path, rows, i, f"{name}={rows[i, j]:g} is not a finite number")
    for j, name in ((0, "arch_id"), (1, "epoch")):
        v = rows[:, j]
        bad = v != np.floor(v)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _row_error(path, rows, i, f"{name}={v[i]:g} is not an integer")
    bad = (rows[:, 0] < 0) | (rows[:, 0] >= N_ARCHS)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _row_error(path, rows, i, f"arch_id is out of range [0, {N_ARCHS - 1}]")
    bad = rows[:, 1] < 0
    if bad.any():
        raise _row_error(path, rows, int(np.flatnonzero(bad)[0]), "epoch is negative")
    for name in ("train_acc", "val_acc"):
        v = rows[:, HEADER.index(name)]
        bad = (v < 0) | (v > 100)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _row_error(path, rows, i, f"{name}={v[i]:g} % is outside [0, 100]")
    for name in ("train_loss", "val_loss"):
        v = rows[:, HEADER.index(name)]
        if (v < 0).any():
            i = int(np.flatnonzero(v < 0)[0])
            raise _row_error(path, rows, i, f"{name}={v[i]:g} is negative")

    ids = rows[:, 0].astype(np.int64)
    ep = rows[:, 1].astype(np.int64)
    order = np.lexsort((ep, ids))
    ids_s, ep_s = ids[order], ep[order]
    dup = (ids_s[1:] == ids_s[:-1]) & (ep_s[1:] == ep_s[:-1])
    if dup.any():
        j = int(np.flatnonzero(dup)[0])
        first, second = sorted((int(order[j]), int(order[j + 1])))
        raise _row_error(
            path, rows, second, f"duplicate (arch_id, epoch): data row {first + 1} has it too"
        )
    n_epochs = np.bincount(ids_s, minlength=N_ARCHS).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(n_epochs)[:-1]])
    position = np.arange(len(ids_s)) - starts[ids_s]
    gap = ep_s != position
    if gap.any():
        j = int(np.flatnonzero(gap)[0])
        raise ConfigError(
            f"{path}: arch_id {int(ids_s[j])} lacks epoch {int(position[j])} (its epochs must "
            f"run 0, 1, 2, ... without gaps; the next one recorded is {int(ep_s[j])})"
        )
    return n_epochs, np.ascontiguousarray(rows[order, 2:])


def decode_curves(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(n_epochs [15625] int64, values [rows, 4] float64)`` of a curves ``.csv.xz``, values
    in :data:`VALUES` order, rows sorted by (cell, epoch); validated (see the module
    docstring). Does not check the sha256 (:func:`load_curves` does)."""
    path = Path(path)
    return _validate(path, _read_rows(path))


# --- cache ---------------------------------------------------------------------------------
def default_cache_dir() -> Path:
    """The project's data cache folder, shared with the embedded data sets
    (:func:`snnlib.data.cifar_embedded.default_cache_dir`: ``$SNNLIB_DATA/cache`` or
    ``<repo>/data/datasets/cache``, git-ignored)."""
    from ..data.cifar_embedded import default_cache_dir as shared

    return shared()


def cache_path(archive_sha256: str, cache_dir: str | Path | None = None) -> Path:
    """Where the decoded curves of the archive with that sha256 are cached."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return folder / f"spikenas-bench-curves-{archive_sha256[:16]}.npz"


def _write_cache(path: Path, archive_sha256: str, n_epochs: np.ndarray, values: np.ndarray):
    arrays = {
        "format": np.array(CACHE_FORMAT),
        "archive_sha256": np.array(archive_sha256),
        "arrays_sha256": np.array(arrays_sha256(n_epochs, values)),
        "n_epochs": n_epochs,
        "values": values,
    }
    atomic_write(path, lambda f: np.savez(f, **arrays), binary=True)


def _read_cache(path: Path, archive_sha256: str) -> tuple[np.ndarray, np.ndarray]:
    """The cached arrays, or a :class:`ConfigError` saying why they cannot be trusted."""
    try:
        with np.load(path, allow_pickle=False) as f:
            fmt, arch = int(f["format"]), str(f["archive_sha256"])
            digest = str(f["arrays_sha256"])
            n_epochs, values = f["n_epochs"], f["values"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"the curves cache {path} is unreadable ({exc})") from exc
    if fmt != CACHE_FORMAT or arch != archive_sha256:
        raise ConfigError(f"the curves cache {path} is of another format or archive")
    if (
        n_epochs.shape != (N_ARCHS,)
        or n_epochs.dtype != np.int64
        or values.dtype != np.float64
        or values.shape != (int(n_epochs.sum()), len(VALUES))
    ):
        raise ConfigError(f"the curves cache {path} has arrays of the wrong shape or type")
    if arrays_sha256(n_epochs, values) != digest:
        raise ConfigError(f"the curves cache {path} fails its own sha256 (damaged)")
    _check_cached_domain(path, n_epochs, values)
    return n_epochs, values


def _check_cached_domain(path: Path, n_epochs: np.ndarray, values: np.ndarray) -> None:
    """What :func:`_validate` guarantees of a decoded file, checked again on a cache (one
    written wrong passes its own checksum): epochs per cell >= 0, values finite, accuracies in
    [0, 100] %, losses >= 0."""
    if (n_epochs < 0).any():
        a = int(np.flatnonzero(n_epochs < 0)[0])
        raise ConfigError(f"the curves cache {path}: n_epochs of arch_id {a} is negative")
    for j, name in enumerate(VALUES):
        v = values[:, j]
        high = 100.0 if name.endswith("_acc") else math.inf
        bad = ~np.isfinite(v) | (v < 0) | (v > high)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ConfigError(
                f"the curves cache {path}: {name}={v[i]:g} (row {i}) is not a finite value in "
                f"[0, {high:g}]"
            )


def _padded(n_epochs: np.ndarray, values: np.ndarray, path: str, digest: str) -> Curves:
    width = max(int(n_epochs.max()), 1)
    filled = np.arange(width)[None, :] < n_epochs[:, None]
    cols = {}
    for j, name in enumerate(VALUES):
        arr = np.full((N_ARCHS, width), np.nan)
        arr[filled] = values[:, j]  # row-major order of `filled` = (cell, epoch) order
        arr.setflags(write=False)
        cols[name] = arr
    n = n_epochs.copy()
    n.setflags(write=False)
    return Curves(**cols, n_epochs=n, path=path, sha256=digest)


def load_curves(*args, **kwargs) -> Curves:
    """:func:`_load_curves` (decoded once per process); every call is recorded as data read
    (:mod:`snnlib.provenance`)."""
    curves = _load_curves(*args, **kwargs)
    record_data(
        "spikenas-bench-cifar10-curves",
        source=SOURCE["repository"] + "@" + SOURCE["commit"],
        file=Path(curves.path).name,
        sha256=curves.sha256,
    )
    return curves


@lru_cache(maxsize=4)
def _load_curves(
    path: str | Path | None = None,
    expected_sha256: str | None = CURVES_SHA256,
    verify: bool = True,
    require_all: bool = True,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> Curves:
    """The learning curves, checksum verified, decoded once and cached (see the module
    docstring). The result is shared between calls (its arrays are read-only).

    ``path``/``expected_sha256``: another curves file and its sha256 (``verify=False`` or
    ``expected_sha256=None`` skips the comparison); ``require_all``: refuse a file that lacks
    any of the 15,625 cells (``False`` for partial files: missing cells get ``n_epochs`` 0);
    ``cache_dir``: the cache folder (default :func:`default_cache_dir`); ``use_cache=False``
    decodes the archive and leaves no cache.
    """
    path = Path(path) if path is not None else CURVES_PATH
    if not path.is_file():
        raise ConfigError(f"SpikeNAS-Bench curves not found: {path}")
    digest = file_sha256(path)
    if verify and expected_sha256 is not None and digest != expected_sha256:
        raise ConfigError(
            f"{path}: sha256 {digest} does not match the SpikeNAS-Bench curves' "
            f"{expected_sha256}; the file is corrupt or not the project's copy"
        )
    arrays = None
    cached = cache_path(digest, cache_dir) if use_cache else None
    if cached is not None and cached.is_file():
        try:
            arrays = _read_cache(cached, digest)
        except ConfigError as exc:
            warnings.warn(f"{exc}; rebuilding it from {path}", RuntimeWarning, stacklevel=2)
    if arrays is None:
        arrays = decode_curves(path)
        if cached is not None:
            _write_cache(cached, digest, *arrays)
    n_epochs, values = arrays
    if require_all and (n_epochs == 0).any():
        missing = np.flatnonzero(n_epochs == 0)
        raise ConfigError(
            f"{path}: {missing.size} architecture id(s) have no rows, e.g. "
            f"{missing[:5].tolist()} (every id 0..{N_ARCHS - 1} must be present)"
        )
    return _padded(n_epochs, values, str(path), digest)


# --- early stopping ------------------------------------------------------------------------

load_curves.__signature__ = inspect.signature(_load_curves)  # the parameters, for docs


def early_stop_scores(curves: Curves, epochs=EARLY_STOP_EPOCHS) -> dict[str, np.ndarray]:
    """Early-stop scores of every cell, read off the curves (no training), higher = better:

    - ``"val_acc@k"``: validation accuracy (%) after ``k`` epochs;
    - ``"neg_train_loss_sum@k"``: **minus** the sum of the training losses of the first ``k``
      epochs (negated so that higher is better, like every other score).

    Each is a float ``[15625]`` array indexed by arch id, for every ``k`` in ``epochs``
    (default :data:`EARLY_STOP_EPOCHS`). ``val_acc@10`` is the fitness of BrainCog's shipped
    MSE-NAS script and, with ``@40`` and ``@60``, one of the benchmark's early-stop proxies.
    The 690 cells trained over 200 epochs stand at an earlier point of their (slower) cosine
    schedule after ``k`` epochs than the others: restrict with ``curves.hundred_epochs()``
    where that matters.
    """
    out: dict[str, np.ndarray] = {}
    for k in epochs:
        out[f"val_acc@{k}"] = np.asarray(curves.val_acc_at(None, k), dtype=np.float64)
    for k in epochs:
        out[f"neg_train_loss_sum@{k}"] = -np.asarray(curves.train_loss_sum(None, k))
    return out


def early_stop_cost_share(curves: Curves, k: int) -> np.ndarray:
    """The share of each cell's recorded training time that ``k`` epochs cost:
    ``k / n_epochs`` (0.1 for 10 of 100 epochs, 0.05 for 10 of 200), a float ``[15625]``
    array. It assumes every epoch costs the same (the table's ``train_seconds`` covers the
    whole run); an error if ``k`` exceeds a cell's epochs."""
    ids = np.arange(N_ARCHS)
    k = curves._check_k(ids, k, "k")
    return k / curves.n_epochs.astype(np.float64)


def early_stop_seconds(curves: Curves, table: BenchTable, k: int) -> np.ndarray:
    """GPU seconds that ``k`` epochs of each cell cost on the benchmark's hardware:
    :func:`early_stop_cost_share` times the table's ``train_seconds`` (one whole run)."""
    return early_stop_cost_share(curves, k) * table.train_seconds


# --- the noise ceiling ---------------------------------------------------------------------
@dataclass(frozen=True)
class TauInterval:
    """Kendall's tau_b with its percentile bootstrap interval (resampling cells)."""

    tau: float
    lo: float
    hi: float
    n: int
    level: float


@dataclass(frozen=True)
class NoiseCeiling:
    """Kendall tau of the final validation accuracy with the test accuracy.

    ``learning``: over the cells that learn (``test_acc > 10``, the 341 dead cells left out);
    ``all_cells``: over every cell (both within ``mask``). ``val_source`` says which final
    validation accuracy was used; ``curve_max_abs_diff`` is the largest difference between
    it and the curves' last epoch (None when no curves were given).
    """

    learning: TauInterval
    all_cells: TauInterval
    val_source: str
    curve_max_abs_diff: float | None


def _mask(mask, what: str = "mask") -> np.ndarray:
    if mask is None:
        return np.ones(N_ARCHS, dtype=bool)
    m = np.asarray(mask)
    if m.dtype != bool or m.shape != (N_ARCHS,):
        raise ConfigError(
            f"{what} must be a boolean array of shape ({N_ARCHS},), got {m.dtype} {m.shape}"
        )
    return m


def _tau_interval(score, acc, n_boot: int, seed: int, level: float) -> TauInterval:
    from ..nas.ranking import bootstrap, kendall_tau, percentile_ci

    tau = float(kendall_tau(score, acc))
    lo, hi = percentile_ci(bootstrap(kendall_tau, score, acc, n_boot, seed), level)
    if not math.isfinite(tau):
        lo = hi = math.nan
    return TauInterval(tau=tau, lo=lo, hi=hi, n=int(len(score)), level=level)


def noise_ceiling(
    table: BenchTable,
    curves: Curves | None = None,
    mask=None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> NoiseCeiling:
    """How well the final validation accuracy ranks the test accuracy (Kendall tau_b, with a
    percentile bootstrap interval over cells from :mod:`snnlib.nas.ranking`), over the cells
    that learn and over every cell, within ``mask`` (boolean ``[15625]``, default all).

    The final validation accuracy is the table's ``final_val_acc``. Given ``curves``, it is
    first checked against the curves' last epoch (they are equal for all 15,625 cells of the
    committed files); a difference over 1e-9 is an error. Both accuracies are measured after
    the same (last) epoch, on disjoint halves of CIFAR-10 data: the tau is the ceiling a score
    can hope for, the agreement of two measurements of one trained network.
    """
    check_range("n_boot", n_boot, 1, None, integer=True)
    check_range("level", level, 0.0, 1.0)
    m = _mask(mask)
    diff = None
    if curves is not None:
        last = curves.final_val_acc()
        has = curves.n_epochs > 0
        if not has.all():
            raise ConfigError("noise_ceiling needs curves of every cell (a partial file)")
        diff = float(np.max(np.abs(last - table.final_val_acc)))
        if diff > 1e-9:
            worst = int(np.argmax(np.abs(last - table.final_val_acc)))
            raise ConfigError(
                f"the curves' last validation accuracy differs from the table's final_val_acc "
                f"by up to {diff:g} (arch_id {worst}): curves {curves.path}, table {table.path}"
            )
    val, test = table.final_val_acc, table.test_acc
    learn = m & (test > CHANCE)
    return NoiseCeiling(
        learning=_tau_interval(val[learn], test[learn], n_boot, seed, level),
        all_cells=_tau_interval(val[m], test[m], n_boot, seed, level),
        val_source="table.final_val_acc",
        curve_max_abs_diff=diff,
    )


def rank_correlation_by_epoch(
    table: BenchTable,
    curves: Curves,
    epochs=range(1, 101),
    mask=None,
    learning_only: bool = True,
):
    """Kendall tau_b and Spearman rho of ``val_acc@k`` with the final test accuracy, for each
    ``k`` in ``epochs``: a ``pandas.DataFrame`` indexed by ``epoch`` with columns ``tau``,
    ``rho``, ``n``.

    Cells: those in ``mask`` (default ``curves.hundred_epochs()``: the 100-epoch runs, so that
    every cell stands at the same point of the same schedule after ``k`` epochs; pass
    ``np.ones(15625, bool)`` for every cell) and, with ``learning_only`` (default), that learn
    (``test_acc > 10``). Kendall over 15,000 cells takes about 10 ms per epoch (scipy's
    O(n log n) algorithm), so all 100 epochs take about a second.
    """
    import pandas as pd

    from ..nas.ranking import kendall_tau, spearman_rho

    m = curves.hundred_epochs() if mask is None else _mask(mask)
    if learning_only:
        m = m & (table.test_acc > CHANCE)
    ids = np.flatnonzero(m)
    if ids.size < 2:
        raise ConfigError(f"rank_correlation_by_epoch needs at least 2 cells, got {ids.size}")
    rows = []
    for k in epochs:
        score = curves.val_acc_at(ids, k)
        rows.append(
            {
                "epoch": int(k),
                "tau": float(kendall_tau(score, table.test_acc[ids])),
                "rho": float(spearman_rho(score, table.test_acc[ids])),
                "n": int(ids.size),
            }
        )
    return pd.DataFrame(rows).set_index("epoch")


BENCH_TRAIN_IMAGES = 25_000
"""Images of one benchmark training epoch: the training half of the CIFAR-10 training set."""


def benchmark_epochs(epochs: float, n_train: int) -> float:
    """A training budget of ``epochs`` passes over ``n_train`` images, in benchmark epochs
    (passes over its 25,000 training images): ``epochs * n_train / 25000``. It counts images
    seen, not the schedule: a short cosine schedule that ends at a small learning rate is not
    the same as the first ``k`` epochs of the benchmark's 100-epoch one, so the tau read at that
    ``k`` says how much a budget of that size *can* resolve at best.

    >>> benchmark_epochs(8, 2_000)
    0.64
    """
    check_range("epochs", epochs, 0.0, None)
    check_range("n_train", n_train, 1, None, integer=True)
    return float(epochs) * int(n_train) / BENCH_TRAIN_IMAGES


def tau_at_budget(by_epoch, equivalent_epochs: float) -> dict:
    """Where a budget of ``equivalent_epochs`` benchmark epochs sits on the curve
    ``by_epoch`` (:func:`rank_correlation_by_epoch`): the tau at the largest recorded epoch
    ``k <= equivalent_epochs``; a budget below the first recorded epoch reads that first epoch,
    an upper bound (``bound="at most"``: a network trained less cannot rank better than the
    benchmark's after one full epoch, up to noise), otherwise ``bound="at"``.

    >>> import pandas as pd
    >>> curve = pd.DataFrame({"tau": [0.2, 0.4, 0.5]}, index=pd.Index([1, 2, 5], name="epoch"))
    >>> tau_at_budget(curve, 3.2)
    {'epochs': 3.2, 'k': 2, 'tau': 0.4, 'bound': 'at'}
    >>> tau_at_budget(curve, 0.64)["bound"]
    'at most'
    """
    check_range("equivalent_epochs", equivalent_epochs, 0.0, None)
    ks = np.asarray(by_epoch.index, dtype=float)
    if ks.size == 0:
        raise ConfigError("tau_at_budget needs a curve with at least one epoch")
    below = ks[ks <= equivalent_epochs]
    k = below.max() if below.size else ks.min()
    return {
        "epochs": float(equivalent_epochs),
        "k": int(k),
        "tau": float(by_epoch.loc[int(k), "tau"]),
        "bound": "at" if below.size else "at most",
    }
