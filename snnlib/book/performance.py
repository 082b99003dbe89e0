"""The performance page: benchmark result files (``bench__<name>.json``) as tables and values.

``python -m benchmarks`` writes one result file per benchmark (B1 forward+backward, B2 fitness
cost, B3 population executors, B4 search step, B5 the book's own cost, B6 training
throughput against the machine's peak convolution rate). This module reads
them, runs the missing ones through a function the caller passes in (``benchmarks/`` is not
part of the installed package, so nothing here imports it), and turns each into the table
and the named values the page glues. A missing level of a file reads as NaN (or a given
default), never as an error: a page with one missing number still builds.

>>> lookup({"a": {"b": 2}}, "a", "b"), lookup({"a": None}, "a", "b", default=0)
(2, 0)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

# B5 only reads other runs' result files: it is always run afresh, never read from disk
READS_RESULT_FILES = ("b5_book",)
B1_CANDIDATES = ("naive_snntorch", "snnlib", "snnlib_stepwise", "snnlib_compiled")
B2_FITNESSES = ("rdm", "sahd", "rdm_hamming", "accuracy_1epoch")


def lookup(d: Any, *keys: str, default: Any = math.nan) -> Any:
    """``d[k0][k1]...`` or ``default`` when any level is missing or None."""
    for k in keys:
        if not isinstance(d, dict) or d.get(k) is None:
            return default
        d = d[k]
    return d


def goal_text(flag: bool | None) -> str:
    """A goal's ``met`` flag as words: ``met``, ``not met`` or ``not measured``."""
    return {True: "met", False: "not met"}.get(flag, "not measured")


def bench_folder(scale: str) -> Path:
    """Where the page reads ``make bench``'s files: the committed reference folder
    (:func:`snnlib.paths.reference_dir`; ``make book`` writes its own results elsewhere, and
    only ``make bench`` writes benchmark files), except at ``smoke`` scale, where the run's
    own folder is read (the tests' folder holds none, so every benchmark runs in quick mode
    and the test exercises the benchmarks' code, as before).

    >>> from snnlib.paths import reference_dir
    >>> bench_folder("cpu") == reference_dir()
    True
    """
    from ..paths import reference_dir, results_dir

    return results_dir() if scale == "smoke" else reference_dir()


def fallback_source(quick: bool, repeats: int | None) -> str:
    """How a benchmark run by the notebook itself is described in the table of sources."""
    return "this notebook, quick" if quick else f"this notebook, {repeats} repeats"


def collect(
    names: Iterable[str],
    path_of: Callable[[str], Path],
    run_missing: Callable[[str], Path],
    fallback: str,
) -> tuple[dict[str, dict], list[dict]]:
    """Read every benchmark's result file, running the missing ones.

    ``path_of(name)`` is where ``make bench`` writes the file; ``run_missing(name)`` runs the
    benchmark and returns the path it wrote; ``fallback`` describes such a run (see
    :func:`fallback_source`). A benchmark that fails is reported and left out, not raised.
    Returns the files by name and one row per benchmark for :func:`sources_table`.
    """
    bench, sources = {}, []
    for name in names:
        path = path_of(name)
        if path.exists() and name not in READS_RESULT_FILES:
            bench[name] = json.loads(path.read_text())
            source = "make bench"
        else:
            try:
                bench[name] = json.loads(run_missing(name).read_text())
                source = (
                    "this notebook (reads result files)" if name in READS_RESULT_FILES else fallback
                )
            except Exception as exc:  # noqa: BLE001 - a failing benchmark is reported, not fatal
                print(f"{name} failed: {type(exc).__name__}: {exc}")
                source = f"failed ({type(exc).__name__})"
        sources.append(source_row(name, bench.get(name, {}), source))
    return bench, sources


def source_row(name: str, data: dict, source: str) -> dict:
    """Where one benchmark's numbers came from, when, and how it ran."""
    prov, p = data.get("provenance", {}), data.get("params", {})
    return {
        "benchmark": name,
        "source": source,
        "measured (UTC)": prov.get("end_utc"),
        "quick": p.get("quick"),
        "threads": p.get("threads"),
        "load avg before": (prov.get("loadavg_before") or [None])[0],
        "git commit": (prov.get("git_commit") or "")[:10],
    }


def sources_table(sources: list[dict]) -> pd.DataFrame:
    """The rows of :func:`collect` indexed by benchmark."""
    return pd.DataFrame(sources).set_index("benchmark")


def machine_values(bench: dict[str, dict]) -> dict[str, Any]:
    """The machine, from the provenance of the B1 file (or the first file there is)."""
    ref = bench.get("b1_forward") or next(iter(bench.values()), {})
    prov = ref.get("provenance", {})
    return {
        "machine_cpu": f"{prov.get('cpu', 'unknown CPU')}, {prov.get('cpu_count', '?')} cores",
        "machine_threads": lookup(ref, "params", "threads", default=0),
        "machine_device": str(prov.get("device")),
        "torch_version": f"torch {prov.get('torch')}, snnTorch {prov.get('snntorch')}",
    }


def metrics_of(bench: dict[str, dict], name: str) -> dict:
    """The ``metrics`` of one benchmark's file, ``{}`` when it is missing."""
    return lookup(bench, name, "metrics", default={})


# -- B1: spiking forward + backward ------------------------------------------------------


def b1_table(b1: dict) -> pd.DataFrame:
    """Per T: median milliseconds per candidate, speed-ups over the naive loop
    (median [q1, q3]) and whether the equality checks passed."""
    rows = []
    for T in b1.get("time_steps", []):
        t = str(T)
        row = {"T": T}
        for name in B1_CANDIDATES:
            s = lookup(b1, "per_T", t, "seconds", name, default=None)
            if s:
                row[f"{name} (ms)"] = round(1e3 * s["median"], 1)
        for name in B1_CANDIDATES[1:]:
            r = lookup(b1, "per_T", t, "speedup_vs_naive", name, default=None)
            if r:
                row[f"speed-up {name}"] = f"{r['median']:.2f}x [{r['q1']:.2f}, {r['q3']:.2f}]"
        row["checks"] = (
            "pass"
            if all(
                lookup(c, "spike_counts_equal", default=False)
                and lookup(c, "logits_allclose", default=False)
                for c in _b1_checks_at(b1, t)
            )
            else "FAIL"
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index("T") if rows else pd.DataFrame()


def _b1_checks_at(b1: dict, t: str) -> list[dict]:
    """The equality checks at T = t: one per baseline (a single one in older files)."""
    c = lookup(b1, "checks", "per_T", t, default={})
    return [c] if "logits_allclose" in c else list(c.values()) or [{}]


def b1_values(b1: dict) -> dict[str, Any]:
    """B1's numbers for the page: speed-ups at T = 2, 4, 8, the goal and the checks; the fused
    kernel's gain over the step-wise graph is the ratio of their median seconds where the
    record has no ``fused_vs_stepwise``."""
    out = {}
    for T in (2, 4, 8):
        out[f"b1_T{T}"] = lookup(b1, "speedup_vs_naive", "snnlib", str(T))
        out[f"b1_compiled_T{T}"] = lookup(b1, "speedup_vs_naive", "snnlib_compiled", str(T))
        out[f"b1_stepwise_T{T}"] = lookup(b1, "speedup_vs_naive", "snnlib_stepwise", str(T))
        gain = lookup(b1, "fused_vs_stepwise", str(T))
        if isinstance(gain, float) and math.isnan(gain):  # B1 records medians, not this ratio
            gain = lookup(b1, "median_seconds", "snnlib_stepwise", str(T)) / lookup(
                b1, "median_seconds", "snnlib", str(T)
            )
        out[f"b1_fused_gain_T{T}"] = gain
    out["b1_goal"] = goal_text(lookup(b1, "goal", "met", default=None))
    out["b1_goal_target"] = lookup(b1, "goal", "min_speedup")
    passed = lookup(b1, "checks", "all_passed", default=False)
    out["b1_checks"] = "all passed" if passed else "FAILED"
    out["b1_batch"] = lookup(b1, "batch", default=0)
    return out


B1_MEMORY = (("snnlib", "snnlib"), ("naive_snntorch", "naive"), ("spikingjelly", "sj"))


def b1_memory_table(b1: dict) -> pd.DataFrame:
    """Peak live tensor MiB of one training step (torch.profiler) per shape, T and
    implementation, with bytes saved for backward in brackets."""
    rows = []
    for shape, d in sorted(b1.get("shapes", {}).items()):
        for T in b1.get("time_steps", []):
            row = {"shape": shape, "T": T}
            for name, _ in B1_MEMORY:
                peak = lookup(d, "peak_tensor_mib", name, str(T))
                saved = lookup(d, "saved_for_backward_mib", name, str(T))
                row[f"{name} (MiB)"] = f"{peak:.1f} [{saved:.1f}]"
            rows.append(row)
    return pd.DataFrame(rows).set_index(["shape", "T"]) if rows else pd.DataFrame()


def b1_memory_values(b1: dict, shape: str = "cifar10", T: int = 4) -> dict[str, Any]:
    """Peak live tensor MiB per implementation at ``shape`` and ``T`` (the goal's), the
    baselines' peaks over snnlib's, and how the peak was measured."""
    d = lookup(b1, "shapes", shape, default={})
    out = {}
    for name, short in B1_MEMORY:
        out[f"b1_mem_{short}_mib"] = float(lookup(d, "peak_tensor_mib", name, str(T)))
    for short in ("naive", "sj"):
        out[f"b1_mem_ratio_{short}"] = out[f"b1_mem_{short}_mib"] / out["b1_mem_snnlib_mib"]
    out["b1_mem_shape"] = shape
    out["b1_mem_T"] = T
    out["b1_peak_method"] = str(b1.get("peak_memory_method", "n/a"))
    return out


def b1_profile(b1: dict) -> tuple[int, pd.DataFrame]:
    """The goal's T and, for each candidate at that T, self CPU milliseconds per call by kind
    of operator with its share (torch.profiler)."""
    prof_T = str(lookup(b1, "goal", "time_steps", default=4))
    prof = lookup(b1, "per_T", prof_T, "profile", default={}) or {}
    table = (
        pd.DataFrame(
            {
                name: {
                    k: f"{v:.1f} ms ({100 * p['share'][k]:.0f}%)"
                    for k, v in p["ms_per_call"].items()
                }
                for name, p in prof.items()
            }
        )
        if prof
        else pd.DataFrame()
    )
    return int(prof_T), table


def b1_series(b1: dict, name: str) -> tuple[list, list[float], list[float], list[float]]:
    """One candidate's curve: the T it was timed at, and median, q1, q3 in milliseconds."""
    Ts = [
        T
        for T in b1.get("time_steps", [])
        if lookup(b1, "per_T", str(T), "seconds", name, default=None)
    ]
    seconds = [b1["per_T"][str(T)]["seconds"][name] for T in Ts]
    return (
        Ts,
        [1e3 * s["median"] for s in seconds],
        [1e3 * s["q1"] for s in seconds],
        [1e3 * s["q3"] for s in seconds],
    )


# -- B2: fitness cost per candidate -------------------------------------------------------


def b2_table(b2: dict) -> pd.DataFrame:
    """Seconds per candidate (median, q1, q3) for each fitness."""
    rows = [
        {
            "fitness": k,
            "median (s)": lookup(b2, "seconds_per_candidate", k, "median"),
            "q1 (s)": lookup(b2, "seconds_per_candidate", k, "q1"),
            "q3 (s)": lookup(b2, "seconds_per_candidate", k, "q3"),
        }
        for k in B2_FITNESSES
    ]
    return pd.DataFrame(rows).set_index("fitness").round(3)


def b2_values(b2: dict) -> dict[str, Any]:
    """B2's ratios, medians, goal and sizes for the page."""
    return {
        "b2_ratio": lookup(b2, "ratio"),
        "b2_ratio_hamming": lookup(b2, "ratio_hamming"),
        "b2_ratio_sahd": lookup(b2, "ratio_sahd"),
        "b2_rdm_ms": 1e3 * lookup(b2, "median_seconds", "rdm"),
        "b2_acc_s": lookup(b2, "median_seconds", "accuracy_1epoch"),
        "b2_goal": goal_text(lookup(b2, "goal", "met", default=None)),
        "b2_train_images": lookup(b2, "train_images", default=0),
        "b2_probe_images": lookup(b2, "probe_images", default=0),
        "b2_train_for_goal": lookup(b2, "train_images_for_goal_ratio"),
    }


def b2_breakdown_values(b2: dict) -> dict[str, Any]:
    """Where one RDM fitness call spends its time (a genome whose output spikes)."""
    brk = lookup(b2, "rdm_breakdown", default={})
    parts = ("build", "forward", "rdms_and_comparison")
    out = {f"b2_{part}_ms": lookup(brk, "ms", part) for part in parts}
    out["b2_layers"] = lookup(brk, "layers", default=0)
    return out


def b2_cifar10_values(b2: dict) -> dict[str, Any]:
    """The same evaluators at CIFAR-10 shape (timing only)."""
    b2c = lookup(b2, "cifar10_shape", default={})
    return {
        "b2c_ratio": lookup(b2c, "ratio"),
        "b2c_rdm_s": lookup(b2c, "seconds_per_candidate", "rdm", "median"),
        "b2c_acc_s": lookup(b2c, "seconds_per_candidate", "accuracy_1epoch", "median"),
        "b2c_train_images": lookup(b2c, "train_images", default=0),
        "b2c_val_images": lookup(b2c, "val_images", default=0),
        "b2c_probe_images": lookup(b2c, "probe_images", default=0),
        "b2c_goal": goal_text(lookup(b2c, "goal", "met", default=None)),
    }


def b2_spikenas_values(b2: dict) -> dict[str, Any]:
    """The SpikeNAS-Bench proxy ledger's seconds per cell at its narrow and full widths."""
    sn = lookup(b2, "spikenas", default={})
    out = {}
    for label in ("narrow", "wide"):
        d = lookup(sn, label, default={})
        out[f"b2_sn_{label}_s"] = float(lookup(d, "seconds_per_candidate", "median"))
        ch = lookup(d, "channels", default=None)
        out[f"b2_sn_{label}_channels"] = f"{ch[0]}/{ch[1]}" if ch else "n/a"
        out[f"b2_sn_{label}_probe"] = int(lookup(d, "probe_images", default=0))
    out["b2_sn_wide_over_narrow"] = out["b2_sn_wide_s"] / out["b2_sn_narrow_s"]
    return out


def b2_spikenas_table(b2: dict) -> pd.DataFrame:
    """Seconds per cell of every ledger proxy (the shared forward pass charged to each that
    uses it) and of the whole ledger row, at each width."""
    sn = lookup(b2, "spikenas", default={})
    cols = {}
    for label, d in sn.items():
        col = dict(d.get("proxy_seconds", {}))
        col["whole ledger row"] = lookup(d, "seconds_per_candidate", "median")
        cols[f"{label} ({d['channels'][0]}/{d['channels'][1]} ch)"] = col
    return pd.DataFrame(cols).round(3) if cols else pd.DataFrame()


# -- B3: one population, in process against dask ------------------------------------------

_B3_ROWS = (
    ("population wall, in-process (s)", ("median_seconds", "in_process")),
    ("population wall, dask (s)", ("median_seconds", "dask")),
    (
        "one candidate in-process, torch threads as set (s)",
        ("breakdown_dask", "task_compute_seconds_in_process", "median"),
    ),
    (
        "one candidate on a worker, 1 thread (s)",
        ("breakdown_dask", "task_compute_seconds_worker", "median"),
    ),
    ("busiest worker's compute (s)", ("breakdown_dask", "busiest_worker_seconds", "median")),
    (
        "dask overhead: wall - busiest worker (s)",
        ("breakdown_dask", "overhead_seconds", "median"),
    ),
    ("parallel efficiency", ("breakdown_dask", "parallel_efficiency", "median")),
    ("cluster start (s, once)", ("breakdown_dask", "cluster_start_seconds")),
    ("first population, cold workers (s, once)", ("breakdown_dask", "cold_population_seconds")),
)


def b3_table(b3: dict) -> pd.DataFrame:
    """Population wall times on both executors and the dask breakdown (medians)."""
    rows = [{"quantity": q, "median": lookup(b3, *keys)} for q, keys in _B3_ROWS]
    return pd.DataFrame(rows).set_index("quantity").round(3)


def b3_values(bench: dict[str, dict]) -> dict[str, Any]:
    """B3's speed-up, efficiency, start-up costs and whether both executors agree."""
    b3 = metrics_of(bench, "b3_population")
    br = b3.get("breakdown_dask", {})
    if lookup(b3, "checks", "bitwise_equal", default=False):
        same = "identical"
    elif lookup(b3, "checks", "same_fitness_in_process_vs_dask", default=False):
        same = "equal within 1e-6"
    else:
        same = "DIFFERENT"
    return {
        "b3_in_process_threads": lookup(
            bench, "b3_population", "params", "in_process_threads", default=0
        ),
        "b3_speedup": lookup(b3, "speedup"),
        "b3_population": lookup(b3, "population", default=0),
        "b3_efficiency": lookup(br, "parallel_efficiency", "median"),
        "b3_start_s": lookup(br, "cluster_start_seconds"),
        "b3_cold_s": lookup(br, "cold_population_seconds"),
        "b3_same": same,
    }


def b3_cifar_values(b3: dict) -> dict[str, Any]:
    """B3 at CIFAR-size candidates: the speed-ups of 2 dask workers over in-process one
    thread, per genome and chunked, the goal and whether the fitnesses agree."""
    c = lookup(b3, "cifar10", default={})
    checks = lookup(c, "checks", default={})
    if lookup(checks, "bitwise_equal", default=False):
        same = "identical"
    elif lookup(checks, "same_fitness_all_variants", default=False):
        same = "equal within 1e-6"
    else:
        same = "DIFFERENT"
    return {
        "b3c_speedup": float(lookup(c, "speedup", "dask_chunked")),
        "b3c_speedup_per_genome": float(lookup(c, "speedup", "dask")),
        "b3c_population": int(lookup(c, "population", default=0)),
        "b3c_chunk": int(lookup(c, "chunk", default=0)),
        "b3c_candidate_s": float(lookup(c, "seconds_per_candidate_in_process", "median")),
        "b3c_efficiency": float(lookup(c, "parallel_efficiency", "dask_chunked", "median")),
        "b3c_goal": goal_text(lookup(c, "goal", "met", default=None)),
        "b3c_same": same,
    }


_B3_WORKLOADS = {
    "mse_population_cifar": "MSE-NAS population, CIFAR size (chunked)",
    "ledger_chunk": "SpikeNAS-Bench ledger chunk",
    "search_seeds": "seeds of a SpikeNAS search",
}


def b3_workload_table(b3: dict) -> pd.DataFrame:
    """Per B3 workload: two workers' speed-up over one in-process thread and a candidate's
    compute seconds in a worker over in process (1.0: the worker computes as fast)."""
    rows = [
        {
            "workload": label,
            "speed-up, 2 workers": lookup(b3, "workloads", key, "speedup"),
            "worker / in-process seconds per candidate": lookup(
                b3, "workloads", key, "worker_over_in_process"
            ),
        }
        for key, label in _B3_WORKLOADS.items()
    ]
    return pd.DataFrame(rows).set_index("workload").round(2)


def b3_workload_values(b3: dict) -> dict[str, Any]:
    """The smallest speed-up and the largest worker/in-process ratio over B3's workloads."""
    w = lookup(b3, "workloads", default={})
    speed = [lookup(v, "speedup") for v in w.values()]
    ratio = [lookup(v, "worker_over_in_process") for v in w.values()]
    return {
        "b3w_min_speedup": float(min(speed)) if speed else math.nan,
        "b3w_max_worker_ratio": float(max(ratio)) if ratio else math.nan,
        "b3w_goal": goal_text(bool(speed) and min(speed) >= 1.8),
    }


# -- B7: the ledger's throughput ------------------------------------------------------------


def b7_values(b7: dict) -> dict[str, Any]:
    """B7's cells per second on one core and two workers and the full-space projection."""
    return {
        "b7_cells": int(lookup(b7, "cells", default=0)),
        "b7_cps_one": float(lookup(b7, "cells_per_second_one_core")),
        "b7_cps_two": float(lookup(b7, "cells_per_second_two_workers")),
        "b7_speedup": float(lookup(b7, "speedup_two_workers")),
        "b7_hours_one": float(lookup(b7, "projected_hours_all_cells", "one_core")),
        "b7_hours_two": float(lookup(b7, "projected_hours_all_cells", "two_workers")),
        "b7_conv_share": float(lookup(b7, "conv_share")),
        "b7_goal": goal_text(lookup(b7, "goal", "met", default=None)),
    }


# -- B4: MA-DARTS search step ---------------------------------------------------------------


def b4_table(b4: dict) -> pd.DataFrame:
    """Per T: seconds per step with and without attention, their ratio (median [q1, q3]),
    memory saved for backward and peak memory."""
    rows = []
    for T in b4.get("time_steps", []):
        t = str(T)
        r = lookup(b4, "per_T", t, "ratio_tcsa_over_none", default={})
        ratio = (
            f"{r.get('median', math.nan):.2f} "
            f"[{r.get('q1', math.nan):.2f}, {r.get('q3', math.nan):.2f}]"
        )
        rows.append(
            {
                "T": T,
                "none (s/step)": lookup(b4, "median_seconds", "none", t),
                "tcsa (s/step)": lookup(b4, "median_seconds", "tcsa", t),
                "tcsa / none": ratio,
                "saved none (MiB)": lookup(b4, "saved_for_backward_mib", "none", t),
                "saved tcsa (MiB)": lookup(b4, "saved_for_backward_mib", "tcsa", t),
                "peak none (MiB)": lookup(b4, "peak_mib", "none", t),
                "peak tcsa (MiB)": lookup(b4, "peak_mib", "tcsa", t),
            }
        )
    return pd.DataFrame(rows).set_index("T").round(2) if rows else pd.DataFrame()


def b4_values(b4: dict) -> dict[str, Any]:
    """B4's ratios at T = 2, 4, 8, the goal and how peak memory was measured."""
    out = {f"b4_ratio_T{T}": lookup(b4, "ratio_tcsa_over_none", str(T)) for T in (2, 4, 8)}
    out["b4_goal"] = goal_text(lookup(b4, "goal", "met", default=None))
    out["b4_peak_method"] = str(b4.get("peak_method", "n/a"))
    return out


def b4_series(b4: dict, quantity: str, attention: str) -> list:
    """``quantity`` (``median_seconds``, ``saved_for_backward_mib``, ``peak_mib``) of one
    attention type at every T of B4."""
    return [lookup(b4, quantity, attention, str(T)) for T in b4.get("time_steps", [])]


# -- B5: the book's own cost ------------------------------------------------------------------


def b5_table(b5: dict) -> pd.DataFrame:
    """Wall seconds of every notebook run the book holds."""
    table = pd.DataFrame(
        [
            {"notebook run": k, "wall seconds": v}
            for k, v in sorted(b5.get("wall_seconds", {}).items())
        ]
    )
    return table.set_index("notebook run").round(1) if len(table) else table


#: runs that run after the performance page (its own, and the reproduction report)
RUN_AFTER = ("50_performance", "52_reproduction")


def b5_missing(b5: dict, this_run: str | tuple[str, ...] = RUN_AFTER) -> list[str]:
    """Book runs without a result file, leaving out the performance page's own run and the
    runs after it."""
    return [m for m in b5.get("missing", []) if not m.startswith(this_run)]


def b5_values(b5: dict) -> dict[str, Any]:
    """B5's total, count and the runs it did not find."""
    missing = b5_missing(b5)
    return {
        "b5_total_s": lookup(b5, "total_wall_seconds"),
        "b5_total_min": lookup(b5, "total_wall_seconds") / 60,
        "b5_n": lookup(b5, "n_found", default=0),
        "b5_missing": ", ".join(missing) if missing else "none",
    }


def b5_schedule_values(b5: dict) -> dict[str, Any]:
    """The book's critical path and its makespan with parallel jobs (minutes), from B5."""
    sch = lookup(b5, "schedule", default={})
    path = lookup(sch, "critical_path", default=[])
    return {
        "b5_critical_path_min": float(lookup(sch, "critical_path_seconds")) / 60,
        "b5_makespan_min": float(lookup(sch, "makespan_seconds")) / 60,
        "b5_jobs": int(lookup(sch, "jobs", default=0)),
        "b5_jobs_speedup": float(lookup(sch, "speedup_over_one_job")),
        "b5_critical_path": " -> ".join(path) if path else "n/a",
    }


# -- B6: training throughput against the peak ---------------------------------------------


def b6_values(b6: dict) -> dict[str, Any]:
    """Images/s, conv GFLOP/s and fraction of the one-thread peak of both recipe networks."""
    out = {}
    for name, short in (("spiking_cnn", "cnn"), ("found", "found")):
        d = lookup(b6, "networks", name, default={})
        out[f"b6_{short}_images_s"] = float(lookup(d, "images_per_second", "median"))
        out[f"b6_{short}_gflops"] = float(lookup(d, "conv_gflops_per_s", "median"))
        out[f"b6_{short}_fraction"] = float(lookup(d, "fraction_of_peak", "median"))
        out[f"b6_{short}_gflop_per_image"] = float(lookup(d, "conv_gflop_per_image"))
    out["b6_peak_gflops"] = float(lookup(b6, "peak_conv", "gflops_per_s"))
    out["b6_peak_layout"] = str(lookup(b6, "peak_conv", "best_layout", default="n/a"))
    out["b6_threads"] = int(lookup(b6, "recipe_threads", default=0))
    out["b6_found_genome"] = str(lookup(b6, "recipe", "found_genome", default="n/a"))
    return out


# -- the page's own result file -----------------------------------------------------------


def performance_metrics(bench: dict[str, dict], sources: list[dict]) -> dict[str, Any]:
    """The headline numbers of every benchmark, for the performance run's result file."""
    b1, b2 = metrics_of(bench, "b1_forward"), metrics_of(bench, "b2_fitness")
    b3, b4 = metrics_of(bench, "b3_population"), metrics_of(bench, "b4_search_step")
    b5, b6 = metrics_of(bench, "b5_book"), metrics_of(bench, "b6_throughput")
    b2c = lookup(b2, "cifar10_shape", default={})
    return {
        "b1_speedup_vs_naive": lookup(b1, "speedup_vs_naive", default={}),
        "b1_goal_met": lookup(b1, "goal", "met", default=None),
        "b1_checks_passed": lookup(b1, "checks", "all_passed", default=None),
        "b2_ratio": lookup(b2, "ratio", default=None),
        "b2_goal_met": lookup(b2, "goal", "met", default=None),
        "b2_cifar10_shape_ratio": lookup(b2c, "ratio", default=None),
        "b2_cifar10_shape_goal_met": lookup(b2c, "goal", "met", default=None),
        "b3_speedup": lookup(b3, "speedup", default=None),
        "b3_cifar10_speedup": lookup(b3, "cifar10", "speedup", default={}),
        "b3_cifar10_goal_met": lookup(b3, "cifar10", "goal", "met", default=None),
        "b1_peak_tensor_mib": {
            k: lookup(v, "peak_tensor_mib", default={})
            for k, v in lookup(b1, "shapes", default={}).items()
        },
        "b2_spikenas_seconds_per_cell": {
            k: lookup(v, "seconds_per_candidate", "median", default=None)
            for k, v in lookup(b2, "spikenas", default={}).items()
        },
        "b4_ratio_tcsa_over_none": lookup(b4, "ratio_tcsa_over_none", default={}),
        "b4_goal_met": lookup(b4, "goal", "met", default=None),
        "b5_total_wall_seconds": lookup(b5, "total_wall_seconds", default=None),
        "b5_missing": b5_missing(b5),
        "b5_critical_path_seconds": lookup(b5, "schedule", "critical_path_seconds", default=None),
        "b5_makespan_seconds_2_jobs": lookup(b5, "schedule", "makespan_seconds", default=None),
        "b6_images_per_second": lookup(b6, "images_per_second", default={}),
        "b6_fraction_of_peak": lookup(b6, "fraction_of_peak", default={}),
        "b6_peak_conv_gflops_per_s": lookup(b6, "peak_conv", "gflops_per_s", default=None),
        "sources": {s["benchmark"]: s["source"] for s in sources},
    }


# -- the page's plumbing (notebook 50) ------------------------------------------------------


def benchmarks_importable() -> None:
    """Put the repository root on ``sys.path`` (``benchmarks/`` lives next to ``snnlib/`` and
    is not installed), so that the notebook can import it; nothing is imported here."""
    import sys

    from ..paths import REPO_ROOT

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


def bench_file(scale: str) -> Callable[[str], Path]:
    """``name -> <bench_folder(scale)>/bench__<name>.json``: where :func:`collect` looks for
    ``make bench``'s file of a benchmark (the naming of ``benchmarks.harness.bench_path``).

    >>> bench_file("cpu")("b1_forward").name
    'bench__b1_forward.json'
    """
    folder = bench_folder(scale)
    return lambda name: folder / f"bench__{name}.json"


def runner(run_benchmark: Callable, load: Callable, cfg: Any) -> Callable[[str], Path]:
    """``name -> run_benchmark(load(name), cfg)``: how :func:`collect` runs a missing one."""
    return lambda name: run_benchmark(load(name), cfg)


def b2_cifar10_summary(b2: dict) -> dict:
    """B2's CIFAR-10-shape record without its per-candidate seconds (what the page prints)."""
    b2c = lookup(b2, "cifar10_shape", default={})
    return {k: v for k, v in b2c.items() if k != "seconds_per_candidate"}


#: the B1 implementations the figure draws, with their line styles
B1_STYLES = (
    ("naive_snntorch", "o-"),
    ("snnlib_stepwise", "s--"),
    ("snnlib", "D-"),
    ("snnlib_compiled", "^-"),
)


def performance_figure(b1: dict, b4: dict):
    """The page's figure: B1 time per forward+backward against T (median, IQR band), B4's
    search-step time and its memory against T, for no attention and ``tcsa``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    ax = axes[0]
    for name, style in B1_STYLES:
        Ts, med, lo, hi = b1_series(b1, name)
        if Ts:
            ax.plot(Ts, med, style, label=name)
            ax.fill_between(Ts, lo, hi, alpha=0.2)
    ax.set(
        xlabel="time steps T", ylabel="ms per forward+backward", title="B1: SpikingCNN, batch 64"
    )
    ax.legend(fontsize=8)
    T4 = b4.get("time_steps", [])
    for att, style in (("none", "o-"), ("tcsa", "s-")):
        if T4:
            axes[1].plot(T4, b4_series(b4, "median_seconds", att), style, label=att)
            axes[2].plot(
                T4,
                b4_series(b4, "saved_for_backward_mib", att),
                style,
                label=f"{att}: saved for backward",
            )
            axes[2].plot(
                T4,
                b4_series(b4, "peak_mib", att),
                style.replace("-", ":"),
                label=f"{att}: peak RSS above start",
            )
    axes[1].set(
        xlabel="time steps T", ylabel="seconds per search step", title="B4: MA-DARTS step time"
    )
    axes[2].set(xlabel="time steps T", ylabel="MiB", title="B4: memory per search step")
    axes[1].legend(fontsize=8)
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return fig
