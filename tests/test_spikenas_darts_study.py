"""Judging searches over the SpikeNAS-Bench space by the table: DARTS runs' anytime curves,
collapse and dead cells, and the comparison of every method, against hand-computed values."""

import numpy as np
import pandas as pd
import pytest

from snnlib.spikenas import load_table
from snnlib.spikenas.darts_study import (
    alpha_spread,
    anytime_by_epoch,
    collapse_share,
    comparison_table,
    darts_table,
    dead_cells,
    final_cells,
    paired_table,
)
from snnlib.spikenas.space import arch_id_of
from snnlib.validation import ConfigError


@pytest.fixture(scope="module")
def table():
    return load_table()


def darts_run(ids, seconds=10.0, peak=0.3):
    w = np.full((6, 5), 0.2)
    w[0] = [peak, (1 - peak) / 4, (1 - peak) / 4, (1 - peak) / 4, (1 - peak) / 4]
    return {
        "records": [{"arch_id": a, "arch_weights": w.tolist()} for a in ids],
        "seconds": seconds,
    }


def test_anytime_and_final_cells_read_the_table(table):
    runs = [darts_run([5, 12617]), darts_run([7, 0])]
    acc = anytime_by_epoch(runs, table)
    assert acc.shape == (2, 2)
    assert acc[0, 1] == table.test_acc[12617] and acc[1, 0] == table.test_acc[7]
    assert final_cells(runs).tolist() == [12617, 0]
    assert final_cells([{"returned": [3, 3, 9]}]).tolist() == [9]
    with pytest.raises(ConfigError, match="different numbers of epochs"):
        anytime_by_epoch([darts_run([1, 2]), darts_run([1])], table)
    with pytest.raises(ConfigError, match="records"):
        final_cells([{"seconds": 1.0}])


def test_collapse_dead_cells_and_alpha_spread():
    all_identity = arch_id_of((1,) * 6)
    all_conv = arch_id_of((2,) * 6)
    assert collapse_share([all_identity]) == 1.0
    assert collapse_share([all_identity, all_conv]) == 0.5
    assert collapse_share([arch_id_of((0, 1, 2, 3, 4, 2))]) == pytest.approx(2 / 6)
    unreachable = arch_id_of((0, 0, 0, 0, 0, 0))
    assert dead_cells([unreachable, all_conv, arch_id_of((1, 0, 0, 0, 1, 0))]) == 1
    assert alpha_spread(darts_run([1], peak=0.5)) == pytest.approx(0.3)
    assert alpha_spread(darts_run([1], peak=0.2)) == pytest.approx(0.0)


def test_darts_table_rows(table):
    runs = {"a": [darts_run([0, c], seconds=s) for c, s in ((12617, 10), (7, 20), (300, 30))]}
    row = darts_table(runs, table).loc["a"]
    acc = table.test_acc[[12617, 7, 300]]
    assert row["test_acc"] == pytest.approx(acc.mean())
    assert row["lo"] < row["test_acc"] < row["hi"]
    assert row["seconds"] == 20 and row["seeds"] == 3 and row["distinct cells"] == 3
    assert row["zero/identity share"] == pytest.approx(collapse_share([12617, 7, 300]))


def test_comparison_table_fronts_per_machine_and_paired(table):
    finals = {
        "cheap": np.array([88.0, 88.2, 88.4]),
        "dear": np.array([89.0, 89.2, 89.4]),
        "dominated": np.array([87.0, 87.2, 87.4]),
        "gpu": np.array([90.0, 90.0, 90.1]),
    }
    seconds = {"cheap": 1.0, "dear": 10.0, "dominated": 5.0, "gpu": 1e5}
    machines = {**dict.fromkeys(["cheap", "dear", "dominated"], "cpu"), "gpu": "gpu"}
    tab = comparison_table(finals, seconds, machines, table)
    assert list(tab.index) == ["gpu", "dear", "cheap", "dominated"]
    assert tab["pareto"].to_dict() == {"gpu": True, "dear": True, "cheap": True, "dominated": False}
    p = paired_table(finals, [("dear", "cheap")])
    assert p.loc["dear - cheap", "diff"] == pytest.approx(1.0)
    assert isinstance(p, pd.DataFrame)
    with pytest.raises(ConfigError, match="missing"):
        comparison_table(finals, {"cheap": 1.0}, machines, table)
    with pytest.raises(ConfigError, match="no method"):
        paired_table(finals, [("dear", "nope")])
    with pytest.raises(ConfigError, match="seeds"):
        paired_table({**finals, "short": np.array([1.0])}, [("dear", "short")])


def test_compare_searches_reads_budgeted_and_darts_records_alike(table):
    from snnlib.spikenas.darts_study import compare_searches, search_machine

    runs = {
        "random search, val. acc.": [{"returned": [3, 12617], "seconds": s} for s in (4.0, 6.0)],
        "spiking DARTS": [darts_run([0, c], seconds=s) for c, s in ((7, 10.0), (300, 30.0))],
    }
    tab, finals = compare_searches(runs, table)
    assert finals["random search, val. acc."].tolist() == [table.test_acc[12617]] * 2
    assert finals["spiking DARTS"].tolist() == table.test_acc[[7, 300]].tolist()
    assert tab.loc["random search, val. acc.", "machine"] == "benchmark GPU"
    assert tab.loc["spiking DARTS", "machine"] == "this CPU"
    assert tab.loc["spiking DARTS", "seconds"] == 20.0
    assert search_machine("MSE-NAS evolution, 10-epoch fitness") == "benchmark GPU"
    assert search_machine("random search, RDM") == "this CPU"
