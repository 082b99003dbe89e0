"""snnlib.book.paper_scale: the cost page's formatted table, glued values and result metrics
(what notebook 51 used to compute inline), on hand-made dry-run records."""

import pytest

from snnlib.book import paper_scale as ps


def _record(notebook, seconds, flops, wall, stand_ins=(), steps=2):
    return {
        "notebook": notebook,
        "dataset": "cifar10",
        "provenance": {"device": "cpu (test)", "wall_seconds": wall},
        "metrics": {
            "main_loop": "train",
            "max_steps": steps,
            "seconds_per_step": seconds,
            "flops_per_step": flops,
            "peak_rss_bytes": 2.5e9,
            "full_run_steps": 12345,
            "full_run_flops": 12345 * (flops or 0.0),
            "full_run_cpu_seconds": 12345 * (seconds or 0.0),
            "stand_ins": list(stand_ins),
        },
    }


RECORDS = [
    _record("00_substrate", 1.5, 2e9, 120.0, stand_ins=["nmnist: a subset"]),
    _record("10_mse_search", None, None, None),
]


def test_shown_table_formats_numbers_and_blanks_missing_measurements():
    table = ps.projection_table(RECORDS, "tf32", 0.1)
    shown = ps.shown_table(table)
    assert shown["s/step (CPU)"].tolist() == ["1.50", ""]
    assert shown["GFLOP/step"].tolist() == ["2.0", ""]
    assert shown["full-run steps"].tolist() == ["12,345", "12,345"]
    assert shown["peak RSS (GB)"].tolist() == ["2.5", "2.5"]
    assert shown["CPU hours"].iloc[0] == f"{12345 * 1.5 / 3600:,.0f}"
    assert shown["notebook"].tolist() == ["00_substrate", "10_mse_search"]


def test_page_values_and_metrics():
    table = ps.projection_table(RECORDS, "fp32", 0.5)
    v = ps.page_values(RECORDS, table, "fp32", 0.5)
    assert v["n_records"] == 2 and v["dry_run_total_min"] == pytest.approx(2.0)
    assert v["dry_run_max_min"] == pytest.approx(2.0) and v["dry_run_steps"] == "2"
    assert v["stand_ins"] == "nmnist: a subset" and v["dry_run_cpu"] == "cpu (test)"
    assert v["precision"] == "FP32" and v["utilisation_pct"] == 50.0
    assert v["a100_peak_tflops"] == 19.5 and v["h100_peak_tflops"] == 67.0
    assert v["total_cpu_hours"] == pytest.approx(12345 * 1.5 / 3600)
    a100 = 12345 * 2e9 / (19.5e12 * 0.5) / 3600
    assert v["total_a100_hours"] == pytest.approx(a100)
    assert v["max_peak_rss_gb"] == 2.5
    m = ps.page_metrics(RECORDS, table, "fp32", 0.5)
    assert list(m)[:4] == ["n_records", "precision", "utilisation", "cpu_hours"]
    assert m["A100 80GB_hours"] == pytest.approx(a100) and len(m["rows"]) == 2
    assert ps.record_names(RECORDS) == ["00_substrate__cifar10", "10_mse_search__cifar10"]
