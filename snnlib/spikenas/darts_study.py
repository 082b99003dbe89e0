"""What a set of searches over the SpikeNAS-Bench space returned, judged by the table: the
DARTS searches' anytime curves by epoch, their collapse and dead cells, and one comparison of
every search method of the book by the test accuracy of the cell it returns, with cost.

The inputs are plain records, so that the comparison can read searches run in other
notebooks from their result files: a DARTS search as :meth:`DartsRun.to_dict
<snnlib.spikenas.darts_search.DartsRun.to_dict>` (``records`` per epoch with ``arch_id``,
``edges``, ``arch_weights``; ``seconds``), a budgeted search as
:meth:`Run.to_dict <snnlib.nas.searchers.Run.to_dict>` (``returned`` after each evaluation,
``seconds``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..nas.pareto import pareto_front
from ..nas.statistics import paired_by_seed, t_interval
from ..validation import ConfigError
from .space import edges_of, output_reachable
from .table import BenchTable

PARAMETER_FREE = (0, 1)
"""Operation codes without parameters (``zero``, ``identity``): DARTS' collapse goes to them."""


def _records(run: Mapping) -> list[dict]:
    records = run.get("records") if isinstance(run, Mapping) else None
    if not records:
        raise ConfigError("a DARTS run record needs a non-empty 'records' list (one per epoch)")
    return records


def anytime_by_epoch(runs: Sequence[Mapping], table: BenchTable) -> np.ndarray:
    """``[n_runs, epochs]``: the table's test accuracy of each run's derived cell after every
    epoch (runs of different lengths are an error: an anytime mean needs one epoch axis)."""
    ids = [[int(r["arch_id"]) for r in _records(run)] for run in runs]
    if len({len(i) for i in ids}) != 1:
        raise ConfigError(f"runs have different numbers of epochs: {[len(i) for i in ids]}")
    return np.asarray(table.test_acc)[np.asarray(ids)]


def final_cells(runs: Sequence[Mapping]) -> np.ndarray:
    """The cell each run returns at the end: a DARTS run's last derived cell, a budgeted
    search's last returned cell."""
    out = []
    for run in runs:
        if run.get("returned"):
            out.append(int(run["returned"][-1]))
        else:
            out.append(int(_records(run)[-1]["arch_id"]))
    return np.asarray(out, dtype=np.int64)


def collapse_share(arch_ids: Sequence[int]) -> float:
    """The share of parameter-free operations (``zero``, ``identity``) among the edges of the
    cells ``arch_ids`` (a uniformly random cell has 2/5 = 0.4).

    >>> collapse_share([0, 15624])  # all zero; all LIF conv at threshold 1.5
    0.5
    """
    edges = np.asarray([edges_of(int(a)) for a in arch_ids])
    if edges.size == 0:
        raise ConfigError("collapse_share needs at least one cell")
    return float(np.isin(edges, PARAMETER_FREE).mean())


def dead_cells(arch_ids: Sequence[int]) -> int:
    """How many of the cells ``arch_ids`` cannot pass a signal (output unreachable)."""
    return int(sum(not output_reachable(edges_of(int(a))) for a in arch_ids))


def alpha_spread(run: Mapping) -> float:
    """How far the final architecture weights left uniform: the largest, over edges, of the
    largest softmax weight minus 1/5 (0: uniform; 0.8: one-hot)."""
    w = np.asarray(_records(run)[-1]["arch_weights"], dtype=float)
    return float((w.max(axis=1) - 1.0 / w.shape[1]).max())


def accuracy_summary(acc: np.ndarray, table: BenchTable) -> dict:
    """Test accuracies of returned cells (one per seed): mean and 95 % t interval (``test_acc``,
    ``lo``, ``hi``) and the median of their percentiles in the space."""
    m, lo, hi = t_interval(acc)
    return {
        "test_acc": m,
        "lo": lo,
        "hi": hi,
        "percentile (median)": float(np.median([table.percentile(a) for a in acc])),
    }


def darts_table(runs: Mapping[str, Sequence[Mapping]], table: BenchTable) -> pd.DataFrame:
    """One row per DARTS variant: the derived cell's test accuracy at the end (mean over seeds
    and 95 % t interval), its percentile in the space (median), the collapse share, dead
    cells derived, how far alpha left uniform (mean), distinct cells derived, search seconds
    (mean) and seeds."""
    rows = {}
    for name, rs in runs.items():
        cells = final_cells(rs)
        rows[name] = {
            **accuracy_summary(np.asarray(table.test_acc)[cells], table),
            "zero/identity share": collapse_share(cells),
            "dead cells": dead_cells(cells),
            "alpha spread": float(np.mean([alpha_spread(r) for r in rs])),
            "distinct cells": len(set(cells.tolist())),
            "seconds": float(np.mean([r["seconds"] for r in rs])),
            "seeds": len(rs),
        }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "search"
    return df


GPU_GUIDED = ("val. acc.", "10-epoch fitness")
"""Label endings of the searches guided by the table's validation accuracy (final, or after 10
epochs): their seconds are the benchmark's recorded GPU seconds, another machine."""


def search_machine(name: str) -> str:
    """The machine whose seconds a search's cost is: ``"benchmark GPU"`` for a search guided by
    the table's validation accuracy (its label ends with one of :data:`GPU_GUIDED`), else
    ``"this CPU"``.

    >>> search_machine("regularised evolution, val. acc."), search_machine("spiking DARTS")
    ('benchmark GPU', 'this CPU')
    """
    return "benchmark GPU" if name.endswith(GPU_GUIDED) else "this CPU"


def compare_searches(
    runs: Mapping[str, Sequence[Mapping]], table: BenchTable
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Every search of ``runs`` (label -> its run records, one per seed in seed order: budgeted
    searches and DARTS searches alike) on one judge: :func:`comparison_table` of the test
    accuracy of the cells they return (:func:`final_cells`), their mean seconds and machines
    (:func:`search_machine`); and those accuracies by label (for :func:`paired_table`)."""
    acc = np.asarray(table.test_acc)
    finals = {name: acc[final_cells(rs)] for name, rs in runs.items()}
    seconds = {name: float(np.mean([r["seconds"] for r in rs])) for name, rs in runs.items()}
    machines = {name: search_machine(name) for name in runs}
    return comparison_table(finals, seconds, machines, table), finals


def comparison_table(
    finals: Mapping[str, np.ndarray],
    seconds: Mapping[str, float],
    machines: Mapping[str, str],
    table: BenchTable,
) -> pd.DataFrame:
    """One row per method: the test accuracy of the cell it returns (``finals``: per seed,
    in seed order) with its 95 % t interval, the median percentile, the mean seconds per run
    and the machine those seconds were measured on, and whether the method is on the Pareto
    front of accuracy against seconds (computed among the methods whose seconds share a
    machine, so that CPU and GPU seconds are never compared), sorted by accuracy."""
    missing = set(finals) - set(seconds) | set(finals) - set(machines)
    if missing:
        raise ConfigError(f"seconds and machines must name every method; missing {sorted(missing)}")
    rows = {}
    for name, acc in finals.items():
        acc = np.asarray(acc, dtype=float)
        rows[name] = {
            **accuracy_summary(acc, table),
            "seconds": float(seconds[name]),
            "machine": machines[name],
            "seeds": len(acc),
        }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df["pareto"] = False
    for _, part in df.groupby("machine"):
        df.loc[part.index, "pareto"] = pareto_front(part["test_acc"], part["seconds"])
    df.index.name = "method"
    return df.sort_values("test_acc", ascending=False)


def paired_table(
    finals: Mapping[str, np.ndarray], pairs: Sequence[tuple[str, str]]
) -> pd.DataFrame:
    """``a - b`` paired by seed for each pair (:func:`snnlib.nas.statistics.paired_by_seed`);
    the two methods must have run with the same seeds (same count, same order)."""
    rows = {}
    for a, b in pairs:
        for name in (a, b):
            if name not in finals:
                raise ConfigError(f"paired_table: no method {name!r}; have {sorted(finals)}")
        if len(finals[a]) != len(finals[b]):
            raise ConfigError(f"{a!r} and {b!r} ran with different numbers of seeds")
        rows[f"{a} - {b}"] = paired_by_seed(finals[a], finals[b])
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "difference"
    return df
