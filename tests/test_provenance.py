"""Provenance that tells: every result records the data sets and result files it read, and a
dirty flag that looks at code and notebooks only (not the result files a run writes)."""

from __future__ import annotations

import pytest
import torch

from snnlib import provenance
from snnlib.book import results
from snnlib.book.results import ResultRun, load_result, read_result


@pytest.fixture(autouse=True)
def _fresh_record():
    provenance.reset()
    yield
    provenance.reset()


PARAMS = dict(scale="smoke", dataset="digits", seed=0, device="cpu")


def test_a_loaded_data_set_is_in_the_result_provenance():
    from snnlib.data import load_dataset

    ds = load_dataset("digits", "test", limit=20, seed=3)
    run = ResultRun("00_substrate", PARAMS)
    prov = read_result(run.write({"acc": 0.5}))["provenance"]
    (entry,) = prov["data_read"]
    assert entry["name"] == "digits" and entry["split"] == "test" and entry["items"] == len(ds)
    assert entry["limit"] == 20 and entry["seed"] == 3 and len(entry["targets_sha256"]) == 64
    assert prov["results_read"] == []


def test_embedded_archives_are_recorded_with_their_checksum():
    from snnlib.spikenas import load_table
    from snnlib.spikenas.table import TABLE_SHA256

    load_table()
    (entry,) = [d for d in provenance.reads()["data"] if d["name"] == "spikenas-bench-cifar10"]
    assert entry["sha256"] == TABLE_SHA256 and "SpikeNAS-Bench" in entry["source"]


def test_a_consumed_result_is_recorded_with_its_identity_hash():
    first = ResultRun("10_mse_search", PARAMS)
    first.write({"best": 1.0})
    provenance.reset()
    load_result("10_mse_search", "digits", "smoke", 0)
    (entry,) = provenance.reads()["results"]
    assert entry["path"].endswith("10_mse_search__digits__smoke__seed0.json")
    assert entry["identity_hash"] == first.identity["hash"]
    run = ResultRun("11_mse_retrain", PARAMS)
    assert read_result(run.write({"acc": 0.1}))["provenance"]["results_read"] == [entry]


def test_git_dirty_looks_at_code_and_notebooks_not_at_results(monkeypatch):
    calls = []

    def fake_git(*args):
        calls.append(args)
        if args[0] == "status":
            return " M snnlib/train.py\n M notebooks/00_substrate.py"
        return "abc123"

    monkeypatch.setattr(results, "_git", fake_git)
    prov = ResultRun("00_substrate", PARAMS).provenance()
    status_args = next(a for a in calls if a[0] == "status")
    assert "--" in status_args and "data" not in status_args
    assert set(results.CODE_PATHS) <= set(status_args)
    assert prov["git_dirty"] is True
    assert prov["git_dirty_files"] == ["snnlib/train.py", "notebooks/00_substrate.py"]
    monkeypatch.setattr(results, "_git", lambda *a: "" if a[0] == "status" else "abc123")
    assert ResultRun("00_substrate", PARAMS).provenance()["git_dirty"] is False


def test_a_users_own_data_is_named_by_the_checksum_of_its_arrays():
    import numpy as np

    from snnlib.data import from_tensors, load_dataset, unregister_dataset

    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(40, 1, 8, 8, generator=g), torch.arange(40) % 4
    from_tensors(x, y, name="mine")
    try:
        load_dataset("mine", "train")
        (entry,) = provenance.reads()["data"]
        assert entry["source"] == "user tensors 'mine'" and len(entry["sha256"]) == 64
        x2 = x.clone()
        x2[0, 0, 0, 0] += 1e-3  # one pixel changed: another checksum
        unregister_dataset("mine")
        from_tensors(x2, y, name="mine")
        provenance.reset()
        load_dataset("mine", "train")
        assert provenance.reads()["data"][0]["sha256"] != entry["sha256"]
        assert np.isfinite(float(x2.sum()))
    finally:
        unregister_dataset("mine")


def test_the_paper_projection_scales_the_committed_wall_time(tmp_path, monkeypatch):
    import json

    from snnlib.book import params

    monkeypatch.setenv("SNNLIB_RESULTS", str(tmp_path))
    assert params.committed_cpu_seconds("40_comparison") is None
    for data, wall in (("digits", 50.0), ("cifar10", 80.0)):
        (tmp_path / f"40_comparison__{data}__cpu__seed0.json").write_text(
            json.dumps({"provenance": {"wall_seconds": wall}})
        )
    assert params.committed_cpu_seconds("40_comparison") == 80.0
    msg = params.paper_on_cpu_message("40_comparison")
    assert "wall time 80 s" in msg


def test_a_result_names_its_machine_and_the_vector_instructions_of_its_kernels():
    m = provenance.machine()
    assert set(m) == {"cpu_model", "vector_isa", "logical_cores", "arch", "os"}
    assert m["vector_isa"] == torch.backends.cpu.get_cpu_capability()
    assert isinstance(m["logical_cores"], int) and m["logical_cores"] >= 1
    prov = read_result(ResultRun("00_substrate", PARAMS).write({"acc": 0.5}))["provenance"]
    assert prov["machine"] == m
