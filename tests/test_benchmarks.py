"""The benchmarks run in quick mode (1 repeat, tiny sizes) and write well-formed result files
whose output-equality checks pass. Timings are never asserted: they are measurements, not
properties of the code."""

import json
import sys

import pytest

from snnlib.book.results import TOP_LEVEL_KEYS, read_result
from snnlib.paths import REPO_ROOT

if str(REPO_ROOT) not in sys.path:  # benchmarks/ is a top-level package, not installed
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import BENCHMARKS, load, resolve  # noqa: E402
from benchmarks.harness import (
    BenchConfig,
    bench_path,
    measure,
    paired_ratio,
    run_benchmark,  # noqa: E402
    summary,
)


def _run(name, tmp_path):
    # one thread: robust on a loaded machine, where two-thread OpenMP regions stall
    cfg = BenchConfig(quick=True, threads=1, out_dir=tmp_path)
    path = run_benchmark(load(name), cfg)
    assert (
        path == bench_path(resolve(name), tmp_path) and path.name == f"bench__{resolve(name)}.json"
    )
    data = read_result(path)
    assert list(data)[:3] == list(TOP_LEVEL_KEYS)
    p = data["params"]
    assert p["scale"] == "bench" and p["seed"] == 0 and p["device"] == "cpu" and p["quick"] is True
    assert p["threads"] == 1 and "dataset" in p
    prov = data["provenance"]
    for key in (
        "git_commit",
        "torch",
        "snntorch",
        "python",
        "device",
        "wall_seconds",
        "torch_threads",
        "cpu",
    ):
        assert key in prov
    assert prov["torch_threads"] == 1
    return data["metrics"]


def test_registry_and_names():
    assert resolve("b1") == "b1_forward" and resolve("bench__b5_book") == "b5_book"
    with pytest.raises(SystemExit):
        resolve("b9")
    for name in BENCHMARKS:
        mod = load(name)
        assert mod.NAME == name and callable(mod.run) and mod.DESCRIPTION


def test_harness_statistics_and_interleaving():
    s = summary([3.0, 1.0, 2.0, 4.0])
    assert s["median"] == 2.5 and s["min"] == 1.0 and s["max"] == 4.0 and s["n"] == 4
    assert s["q1"] <= s["median"] <= s["q3"] and s["iqr"] == s["q3"] - s["q1"]
    assert summary([5.0])["iqr"] == 0.0
    assert paired_ratio([2.0, 4.0, 6.0], [1.0, 2.0, 2.0])["median"] == 2.0
    order = []
    samples = measure(
        {"a": lambda: order.append("a"), "b": lambda: order.append("b")}, repeats=3, warmup=1
    )
    assert [len(v) for v in samples.values()] == [3, 3]
    assert order == ["a", "b", "a", "b", "b", "a", "a", "b"]  # warm-up, then rotating order


def test_b1_forward_quick(tmp_path):
    m = _run("b1", tmp_path)
    checks = m["checks"]
    assert checks["all_passed"], checks
    c = checks["per_T"]["2"]["naive_snntorch"]
    assert c["logits_allclose"] and c["spike_counts_equal"] and c["grads_allclose"]
    assert sum(c["spike_counts_snnlib"]) > 0  # the comparison is not vacuous
    assert {"snnlib", "snnlib_nchw", "snnlib_fused", "snnlib_stepwise"} <= set(
        m["speedup_vs_naive"]
    )
    assert m["per_T"]["2"]["seconds"]["naive_snntorch"]["n"] == 1
    assert set(m["goal"]) >= {"min_speedup", "time_steps", "value", "met"}
    assert set(m["shapes"]) == {"digits", "cifar10"}
    cifar = m["shapes"]["cifar10"]
    assert cifar["input_shape"][2:] == [3, 32, 32] and cifar["peak_mib"]["snnlib"]["2"] >= 0
    # profiler peak of live tensor bytes: at least what autograd keeps for the backward pass
    for shape in m["shapes"].values():
        for name in ("snnlib", "naive_snntorch", "spikingjelly"):
            if name not in shape["peak_tensor_mib"]:  # SpikingJelly not installed
                continue
            peak, saved = shape["peak_tensor_mib"][name]["2"], shape["saved_for_backward_mib"]
            assert peak >= saved[name]["2"] > 0, (name, peak)
    assert m["peak_memory_method"].startswith("torch.profiler(profile_memory=True)")


def test_b1_spikingjelly_network_equals_snnlib():
    """SpikingJelly's multi-step network built from snnlib's weights gives the same logits,
    spike counts and gradients (eval mode); runs in make test (the bench extra is installed)."""
    import torch

    from benchmarks.b1_forward import SpikingJellyCNN, calibrate_batch_norm, check_equal
    from snnlib.models import SpikingCNN

    pytest.importorskip("spikingjelly")
    torch.manual_seed(0)
    model = SpikingCNN(3, 10, width=4)
    x = torch.randn(3, 6, 3, 16, 16) * 1.5
    y = torch.arange(6) % 10
    calibrate_batch_norm(model, x)
    c = check_equal(model, SpikingJellyCNN(model), x, y, "sj")
    assert c["logits_allclose"] and c["spike_counts_equal"] and c["grads_allclose"], c
    assert sum(c["spike_counts_snnlib"]) > 0


def test_b2_fitness_quick(tmp_path):
    m = _run("b2", tmp_path)
    assert m["checks"]["all_passed"]
    assert set(m["median_seconds"]) == {"rdm", "sahd", "rdm_hamming", "accuracy_1epoch"}
    assert m["ratio"] > 0 and "met" in m["goal"]
    assert all(-1 <= v <= 1 for v in m["fitness_values"]["rdm"])
    assert set(m["rdm_breakdown"]["ms"]) == {"build", "forward", "rdms_and_comparison"}
    assert m["rdm_breakdown"]["layers"] > 1
    c = m["cifar10_shape"]  # the same evaluators at CIFAR-10 shape, timing only
    assert c["input_shape"] == [3, 32, 32] and c["train_images"] == 40 and c["probe_images"] == 20
    assert c["ratio"] == pytest.approx(
        c["seconds_per_candidate"]["accuracy_1epoch"]["median"]
        / c["seconds_per_candidate"]["rdm"]["median"]
    )
    assert c["goal"]["met"] == (c["ratio"] >= 100)
    sn = m["spikenas"]  # the SpikeNAS-Bench proxy ledger's cost per cell at both widths
    assert set(sn) == {"narrow", "wide"} and sn["narrow"]["channels"] == [4, 8]
    for v in sn.values():
        assert v["seconds_per_candidate"]["median"] > 0 and v["proxy_seconds"]["sahd"] > 0
        assert {"grad_norm", "synflow", "rdm correlation/spearman/mean"} <= set(v["proxy_seconds"])


@pytest.mark.slow
def test_b3_population_quick(tmp_path):
    m = _run("b3", tmp_path)
    assert m["checks"]["same_fitness_in_process_vs_dask"], m["checks"]
    b = m["breakdown_dask"]
    assert b["cluster_start_seconds"] > 0 and b["workers_used"] >= 1
    assert m["population"] == 2 and m["speedup"] > 0
    c = m["cifar10"]  # CIFAR-size candidates: per genome and chunked on the same cluster
    assert c["checks"]["same_fitness_all_variants"], c["checks"]
    assert c["population"] == 4 and c["chunk"] == 1 and c["tasks_chunked"] == 4
    assert set(c["speedup"]) == {"dask", "dask_chunked"} and c["goal"]["min_speedup"] == 1.8
    assert len(c["fitness"]) == 4 and c["probe_images"] == 20
    # the ledger's and the searches' workloads, each with its worker / in-process compute
    assert m["ledger_chunk"]["checks"]["same_values"] and m["ledger_chunk"]["candidates"] == 4
    assert m["search_seeds"]["checks"]["same_values"] and m["search_seeds"]["candidates"] == 2
    assert set(m["workloads"]) == {"mse_population_cifar", "ledger_chunk", "search_seeds"}
    assert all(w["worker_over_in_process"] > 0 for w in m["workloads"].values())


@pytest.mark.slow
def test_b7_ledger_quick(tmp_path):
    m = _run("b7", tmp_path)
    assert m["checks"]["same_rows"] and m["cells"] == 6
    assert m["cells_per_second_one_core"] > 0 and m["cells_per_second_two_workers"] > 0
    p = m["projected_hours_all_cells"]
    assert p["one_core"] == pytest.approx(15625 / m["cells_per_second_one_core"] / 3600)
    assert 0 < m["conv_share"] < 1
    assert all(v is not False for v in m["workers_allocator"].values())


def test_b4_search_step_quick(tmp_path):
    m = _run("b4", tmp_path)
    assert m["checks"]["all_passed"]
    assert set(m["median_seconds"]) == {"none", "tcsa"}
    assert m["ratio_tcsa_over_none"]["2"] > 0
    saved = m["saved_for_backward_mib"]
    assert saved["tcsa"]["2"] >= saved["none"]["2"] > 0  # attention keeps more for backward


def test_b5_book_reads_provenance_and_lists_missing(tmp_path, monkeypatch):
    results = tmp_path / "results"
    results.mkdir()
    monkeypatch.setenv("SNNLIB_RESULTS", str(results))
    doc = {
        "params": {"scale": "cpu"},
        "provenance": {"wall_seconds": 12.5, "device": "cpu"},
        "metrics": {},
    }
    (results / "00_substrate__digits__cpu__seed0.json").write_text(json.dumps(doc))
    (results / "00_substrate__digits__smoke__seed0.json").write_text(
        json.dumps(doc)
    )  # other scale: ignored
    m = _run("b5", tmp_path / "out")
    assert m["wall_seconds"] == {"00_substrate__digits": 12.5}
    assert m["total_wall_seconds"] == 12.5
    expected = load("b5").book_runs()
    assert m["missing"] == [r for r in expected if r != "00_substrate__digits"]
    assert m["total_is_complete"] == (not m["missing"])


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("surrogate", ["triangle", "atan"])
@pytest.mark.parametrize("learn_beta", [False, True])
def test_fused_lif_equals_stepwise_graph(reset, surrogate, learn_beta):
    """B1 times the fused LIF kernel against the per-step graph: same spikes, same gradients."""
    import torch

    from snnlib.kernels import get_lif_backend, lif_backend
    from snnlib.neurons import LIF, NeuronConfig

    assert get_lif_backend() == "native"
    torch.manual_seed(0)
    x = (torch.randn(6, 3, 4, 5) * 1.2).requires_grad_()
    w = torch.randn(6, 3, 4, 5)
    out = {}
    for backend in ("fused", "stepwise"):
        lif = LIF(
            NeuronConfig(
                beta=0.7, threshold=0.6, reset=reset, surrogate=surrogate, learn_beta=learn_beta
            )
        )
        x.grad = None
        with lif_backend(backend):
            s = lif(x)
        (s * w).sum().backward()
        out[backend] = (s.detach(), x.grad.clone(), lif.beta.grad)
    (s1, g1, b1), (s2, g2, b2) = out["fused"], out["stepwise"]
    assert torch.equal(s1, s2) and 0 < s1.mean() < 1
    assert torch.equal(g1, g2)  # bit for bit
    if learn_beta:
        assert torch.allclose(b1, b2, rtol=1e-5, atol=1e-6)  # summation order differs
    assert get_lif_backend() == "native"


def test_b6_throughput_quick(tmp_path):
    m = _run("b6", tmp_path)
    assert set(m["networks"]) == {"spiking_cnn", "found"}
    for v in m["networks"].values():
        assert v["images_per_second"]["median"] > 0 and v["conv_gflops_per_step"] > 0
        assert v["fraction_of_peak"]["median"] > 0
    pk = m["peak_conv"]
    assert pk["best_layout"] in ("nchw", "channels_last") and pk["shape"]["threads"] == 1
    # 16 -> 16 channels, 3 x 3, 16 x 16, batch 4: 2 * 16 * 16 * 9 * 256 * 4 FLOPs forward,
    # backward twice that (input and weight gradients)
    assert pk["gflops_per_pass"] == pytest.approx(3 * 2 * 16 * 16 * 9 * 256 * 4 / 1e9)
    assert m["recipe"]["time_steps"] == 2 and m["recipe"]["lr"] == 5e-3
