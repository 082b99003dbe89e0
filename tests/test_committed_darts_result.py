"""The committed cpu result of the DARTS searches in the SpikeNAS-Bench space (notebook 62) says
what the table says: every derived cell is a cell of the table, the accuracy recorded (and
glued) for it is the table's, and the summary numbers recompute from the runs."""

import json

import numpy as np
import pytest

from snnlib.nas.statistics import t_interval
from snnlib.paths import REPO_ROOT
from snnlib.spikenas import load_table
from snnlib.spikenas.darts_study import alpha_spread, collapse_share, final_cells
from snnlib.spikenas.space import N_ARCHS, edges_of

RESULT = REPO_ROOT / "data" / "results" / "62_spikenas_darts__cifar10__cpu__seed0.json"
VARIANTS = {"spiking DARTS": "darts", "MA-DARTS, eca": "eca", "MA-DARTS, cbam": "cbam"}
VARIANTS["MA-DARTS, tcsa"] = "tcsa"


@pytest.fixture(scope="module")
def result():
    with open(RESULT) as f:
        return json.load(f)


def test_every_derived_cell_is_judged_by_the_table(result):
    table = load_table()
    runs = result["artifacts"]["runs"]
    assert set(runs) == set(VARIANTS)
    for name, rs in runs.items():
        assert len(rs) >= 10, name  # the floor: 10 seeds per variant
        for run in rs:
            for rec in run["records"]:
                a = rec["arch_id"]
                assert 0 <= a < N_ARCHS
                assert tuple(rec["edges"]) == edges_of(a)
                assert rec["test_acc"] == table.test_acc[a]
                assert rec["percentile"] == table.percentile(table.test_acc[a])


def test_glued_summaries_recompute_from_the_runs(result):
    table = load_table()
    metrics = result["metrics"]
    for name, short in VARIANTS.items():
        rs = result["artifacts"]["runs"][name]
        cells = final_cells(rs)
        m, lo, hi = t_interval(table.test_acc[cells])
        assert metrics[f"{short}_acc"] == pytest.approx(m, abs=1e-9)
        assert metrics[f"{short}_lo"] == pytest.approx(lo, abs=1e-9)
        assert metrics[f"{short}_hi"] == pytest.approx(hi, abs=1e-9)
        assert metrics[f"{short}_collapse"] == pytest.approx(collapse_share(cells))
        assert metrics[f"{short}_spread"] == pytest.approx(np.mean([alpha_spread(r) for r in rs]))
    comparison = {row["method"]: row for row in result["artifacts"]["comparison"]}
    for name, short in VARIANTS.items():
        assert comparison[name]["test_acc"] == pytest.approx(metrics[f"{short}_acc"], abs=1e-9)
        assert comparison[name]["seeds"] >= 10
