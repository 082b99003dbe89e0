# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Performance: benchmarks against same-run baselines
#
# This notebook collects the results of `python -m benchmarks` (`make bench`): the files
# `data/results/bench__<name>.json`. Every benchmark times a candidate *interleaved* with a
# baseline in the same process and reports medians, quartiles and paired ratios, so that a
# busy machine slows both alike. A benchmark whose file is missing is run here, in quick mode
# at `smoke` scale and with fewer repeats at `cpu` scale, so the page never lacks numbers;
# the table of sources says which numbers came from where.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "digits"  # the benchmarks use the digits set; the parameter names the run
seed = 0
device = "auto"  # auto | cpu | cuda

# %%
import json
import math
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from myst_nb import glue
from tqdm.auto import tqdm

from snnlib.book.results import ResultRun
from snnlib.book.scales import pick_scale
from snnlib.book.tables import book_table
from snnlib.paths import REPO_ROOT
from snnlib.runtime import device_name, resolve_device, seed_everything

if str(REPO_ROOT) not in sys.path:  # benchmarks/ lives next to snnlib/, not installed
    sys.path.insert(0, str(REPO_ROOT))
from benchmarks import BENCHMARKS, load  # noqa: E402
from benchmarks.harness import BenchConfig, bench_path, default_threads, run_benchmark  # noqa: E402

params = dict(scale=scale, dataset=dataset, seed=seed, device=device)
dev = resolve_device(device)
run = ResultRun("50_performance", params, device_name=device_name(dev))
seed_everything(seed)

cfg = pick_scale(
    scale,
    {
        # seconds: every missing benchmark in quick mode (tiny sizes, one repeat, one thread)
        "smoke": dict(quick=True, repeats=None, warmup=None, threads=1, compile=False),
        # a missing benchmark at its full sizes with fewer repeats (make bench gives the real numbers)
        "cpu": dict(quick=False, repeats=3, warmup=1, threads=default_threads(), compile=False),
        "paper": dict(quick=False, repeats=5, warmup=1, threads=default_threads(), compile=False),
    },
)
print(cfg)

# %% [markdown]
# ## Collect the result files (run the missing benchmarks)

# %%
fallback_dir = Path(tempfile.mkdtemp(prefix="bench-notebook-"))
bench, sources = {}, []
for name in tqdm(BENCHMARKS, desc="benchmarks"):
    path = bench_path(name)
    if path.exists() and name != "b5_book":  # B5 only reads result files: always fresh
        bench[name] = json.loads(path.read_text())
        source = "make bench"
    else:
        bc = BenchConfig(out_dir=fallback_dir, seed=seed, device=str(dev), **cfg)
        try:
            bench[name] = json.loads(run_benchmark(load(name), bc).read_text())
            source = (
                "this notebook (reads result files)"
                if name == "b5_book"
                else "this notebook, quick"
                if cfg["quick"]
                else f"this notebook, {cfg['repeats']} repeats"
            )
        except Exception as exc:  # noqa: BLE001 - a failing benchmark is reported, not fatal
            print(f"{name} failed: {type(exc).__name__}: {exc}")
            source = f"failed ({type(exc).__name__})"
    d = bench.get(name, {})
    prov, p = d.get("provenance", {}), d.get("params", {})
    sources.append(
        {
            "benchmark": name,
            "source": source,
            "measured (UTC)": prov.get("end_utc"),
            "quick": p.get("quick"),
            "threads": p.get("threads"),
            "load avg before": (prov.get("loadavg_before") or [None])[0],
            "git commit": (prov.get("git_commit") or "")[:10],
        }
    )
sources_table = pd.DataFrame(sources).set_index("benchmark")
book_table(sources_table)


# %%
def get(d, *keys, default=math.nan):
    """``d[k0][k1]...`` or ``default`` when any level is missing or None."""
    for k in keys:
        if not isinstance(d, dict) or d.get(k) is None:
            return default
        d = d[k]
    return d


def yes_no(flag) -> str:
    return {True: "met", False: "not met"}.get(flag, "not measured")


# the machine, from the provenance of the B1 file (or the first file there is)
ref = bench.get("b1_forward") or next(iter(bench.values()), {})
prov = ref.get("provenance", {})
glue(
    "machine_cpu",
    f"{prov.get('cpu', 'unknown CPU')}, {prov.get('cpu_count', '?')} cores",
    display=False,
)
glue("machine_threads", get(ref, "params", "threads", default=0), display=False)
glue("machine_device", str(prov.get("device")), display=False)
glue("torch_version", f"torch {prov.get('torch')}, snnTorch {prov.get('snntorch')}", display=False)
glue("sources_table", book_table(sources_table), display=False)
print(prov.get("cpu"), prov.get("device"), prov.get("torch"))

# %% [markdown]
# ## B1: spiking forward + backward, snnlib against a naive snnTorch loop
# Speed-up = naive seconds / snnlib seconds, the median of per-round ratios (IQR in brackets).

# %%
b1 = get(bench, "b1_forward", "metrics", default={})
rows = []
for T in b1.get("time_steps", []):
    t = str(T)
    row = {"T": T}
    for name in ("naive_snntorch", "snnlib", "snnlib_stepwise", "snnlib_compiled"):
        s = get(b1, "per_T", t, "seconds", name, default=None)
        if s:
            row[f"{name} (ms)"] = round(1e3 * s["median"], 1)
    for name in ("snnlib", "snnlib_stepwise", "snnlib_compiled"):
        r = get(b1, "per_T", t, "speedup_vs_naive", name, default=None)
        if r:
            row[f"speed-up {name}"] = f"{r['median']:.2f}x [{r['q1']:.2f}, {r['q3']:.2f}]"
    row["checks"] = (
        "pass"
        if get(b1, "checks", "per_T", t, "spike_counts_equal", default=False)
        and get(b1, "checks", "per_T", t, "logits_allclose", default=False)
        else "FAIL"
    )
    rows.append(row)
b1_table = pd.DataFrame(rows).set_index("T") if rows else pd.DataFrame()
for T in (2, 4, 8):
    glue(f"b1_T{T}", get(b1, "speedup_vs_naive", "snnlib", str(T)), display=False)
    glue(f"b1_compiled_T{T}", get(b1, "speedup_vs_naive", "snnlib_compiled", str(T)), display=False)
    glue(f"b1_stepwise_T{T}", get(b1, "speedup_vs_naive", "snnlib_stepwise", str(T)), display=False)
    glue(f"b1_fused_gain_T{T}", get(b1, "fused_vs_stepwise", str(T)), display=False)
glue("b1_goal", yes_no(get(b1, "goal", "met", default=None)), display=False)
glue("b1_goal_target", get(b1, "goal", "min_speedup"), display=False)
glue(
    "b1_checks",
    "all passed" if get(b1, "checks", "all_passed", default=False) else "FAILED",
    display=False,
)
glue("b1_batch", get(b1, "batch", default=0), display=False)
glue("b1_table", book_table(b1_table), display=False)
book_table(b1_table)

# %% [markdown]
# Where the time goes at the goal's T: self CPU milliseconds per forward+backward by kind of
# operator (torch.profiler; profiling adds overhead, so read the shares).

# %%
prof_T = str(get(b1, "goal", "time_steps", default=4))
prof = get(b1, "per_T", prof_T, "profile", default={}) or {}
b1_profile_table = (
    pd.DataFrame(
        {
            name: {
                k: f"{v:.1f} ms ({100 * p['share'][k]:.0f}%)" for k, v in p["ms_per_call"].items()
            }
            for name, p in prof.items()
        }
    )
    if prof
    else pd.DataFrame()
)
glue("b1_profile_T", int(prof_T), display=False)
glue("b1_profile_table", book_table(b1_profile_table), display=False)
book_table(b1_profile_table)

# %% [markdown]
# ## B2: fitness cost per candidate (MSE-NAS)

# %%
b2 = get(bench, "b2_fitness", "metrics", default={})
b2_table = (
    pd.DataFrame(
        [
            {
                "fitness": k,
                "median (s)": get(b2, "seconds_per_candidate", k, "median"),
                "q1 (s)": get(b2, "seconds_per_candidate", k, "q1"),
                "q3 (s)": get(b2, "seconds_per_candidate", k, "q3"),
            }
            for k in ("rdm", "sahd", "rdm_hamming", "accuracy_1epoch")
        ]
    )
    .set_index("fitness")
    .round(3)
)
glue("b2_ratio", get(b2, "ratio"), display=False)
glue("b2_ratio_hamming", get(b2, "ratio_hamming"), display=False)
glue("b2_ratio_sahd", get(b2, "ratio_sahd"), display=False)
glue("b2_rdm_ms", 1e3 * get(b2, "median_seconds", "rdm"), display=False)
glue("b2_acc_s", get(b2, "median_seconds", "accuracy_1epoch"), display=False)
glue("b2_goal", yes_no(get(b2, "goal", "met", default=None)), display=False)
glue("b2_train_images", get(b2, "train_images", default=0), display=False)
glue("b2_probe_images", get(b2, "probe_images", default=0), display=False)
glue("b2_train_for_goal", get(b2, "train_images_for_goal_ratio"), display=False)
glue("b2_table", book_table(b2_table), display=False)
book_table(b2_table)

# %%
# where one RDM fitness call spends its time (a genome whose output spikes)
brk = get(b2, "rdm_breakdown", default={})
for part in ("build", "forward", "rdms_and_comparison"):
    glue(f"b2_{part}_ms", get(brk, "ms", part), display=False)
glue("b2_layers", get(brk, "layers", default=0), display=False)
print(brk)

# %% [markdown]
# The same evaluators at CIFAR-10 shape (3 x 32 x 32, the cifar10 split sizes; synthetic pixels,
# timing only: a dense spiking pass costs the same whatever the pixel values).

# %%
b2c = get(b2, "cifar10_shape", default={})
glue("b2c_ratio", get(b2c, "ratio"), display=False)
glue("b2c_rdm_s", get(b2c, "seconds_per_candidate", "rdm", "median"), display=False)
glue("b2c_acc_s", get(b2c, "seconds_per_candidate", "accuracy_1epoch", "median"), display=False)
glue("b2c_train_images", get(b2c, "train_images", default=0), display=False)
glue("b2c_val_images", get(b2c, "val_images", default=0), display=False)
glue("b2c_probe_images", get(b2c, "probe_images", default=0), display=False)
glue("b2c_goal", yes_no(get(b2c, "goal", "met", default=None)), display=False)
print({k: v for k, v in b2c.items() if k != "seconds_per_candidate"})

# %% [markdown]
# ## B3: one population, in-process against dask (2 workers)

# %%
b3 = get(bench, "b3_population", "metrics", default={})
br = b3.get("breakdown_dask", {})
b3_table = (
    pd.DataFrame(
        [
            {
                "quantity": "population wall, in-process (s)",
                "median": get(b3, "median_seconds", "in_process"),
            },
            {"quantity": "population wall, dask (s)", "median": get(b3, "median_seconds", "dask")},
            {
                "quantity": "one candidate in-process, torch threads as set (s)",
                "median": get(br, "task_compute_seconds_in_process", "median"),
            },
            {
                "quantity": "one candidate on a worker, 1 thread (s)",
                "median": get(br, "task_compute_seconds_worker", "median"),
            },
            {
                "quantity": "busiest worker's compute (s)",
                "median": get(br, "busiest_worker_seconds", "median"),
            },
            {
                "quantity": "dask overhead: wall - busiest worker (s)",
                "median": get(br, "overhead_seconds", "median"),
            },
            {"quantity": "parallel efficiency", "median": get(br, "parallel_efficiency", "median")},
            {"quantity": "cluster start (s, once)", "median": get(br, "cluster_start_seconds")},
            {
                "quantity": "first population, cold workers (s, once)",
                "median": get(br, "cold_population_seconds"),
            },
        ]
    )
    .set_index("quantity")
    .round(3)
)
glue(
    "b3_in_process_threads",
    get(bench, "b3_population", "params", "in_process_threads", default=0),
    display=False,
)
glue("b3_speedup", get(b3, "speedup"), display=False)
glue("b3_population", get(b3, "population", default=0), display=False)
glue("b3_efficiency", get(br, "parallel_efficiency", "median"), display=False)
glue("b3_start_s", get(br, "cluster_start_seconds"), display=False)
glue("b3_cold_s", get(br, "cold_population_seconds"), display=False)
glue(
    "b3_same",
    "identical"
    if get(b3, "checks", "bitwise_equal", default=False)
    else (
        "equal within 1e-6"
        if get(b3, "checks", "same_fitness_in_process_vs_dask", default=False)
        else "DIFFERENT"
    ),
    display=False,
)
glue("b3_table", book_table(b3_table), display=False)
book_table(b3_table)

# %% [markdown]
# ## B4: MA-DARTS search step, attention `tcsa` against `none`

# %%
b4 = get(bench, "b4_search_step", "metrics", default={})
rows = []
for T in b4.get("time_steps", []):
    t = str(T)
    r = get(b4, "per_T", t, "ratio_tcsa_over_none", default={})
    rows.append(
        {
            "T": T,
            "none (s/step)": get(b4, "median_seconds", "none", t),
            "tcsa (s/step)": get(b4, "median_seconds", "tcsa", t),
            "tcsa / none": f"{r.get('median', math.nan):.2f} [{r.get('q1', math.nan):.2f}, {r.get('q3', math.nan):.2f}]",
            "saved none (MiB)": get(b4, "saved_for_backward_mib", "none", t),
            "saved tcsa (MiB)": get(b4, "saved_for_backward_mib", "tcsa", t),
            "peak none (MiB)": get(b4, "peak_mib", "none", t),
            "peak tcsa (MiB)": get(b4, "peak_mib", "tcsa", t),
        }
    )
b4_table = pd.DataFrame(rows).set_index("T").round(2) if rows else pd.DataFrame()
for T in (2, 4, 8):
    glue(f"b4_ratio_T{T}", get(b4, "ratio_tcsa_over_none", str(T)), display=False)
glue("b4_goal", yes_no(get(b4, "goal", "met", default=None)), display=False)
glue("b4_peak_method", str(b4.get("peak_method", "n/a")), display=False)
glue("b4_table", book_table(b4_table), display=False)
book_table(b4_table)

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
ax = axes[0]
for name, style in (
    ("naive_snntorch", "o-"),
    ("snnlib_stepwise", "s--"),
    ("snnlib", "D-"),
    ("snnlib_compiled", "^-"),
):
    Ts = [
        T
        for T in b1.get("time_steps", [])
        if get(b1, "per_T", str(T), "seconds", name, default=None)
    ]
    if Ts:
        med = [1e3 * b1["per_T"][str(T)]["seconds"][name]["median"] for T in Ts]
        lo = [1e3 * b1["per_T"][str(T)]["seconds"][name]["q1"] for T in Ts]
        hi = [1e3 * b1["per_T"][str(T)]["seconds"][name]["q3"] for T in Ts]
        ax.plot(Ts, med, style, label=name)
        ax.fill_between(Ts, lo, hi, alpha=0.2)
_ = ax.set(
    xlabel="time steps T", ylabel="ms per forward+backward", title="B1: SpikingCNN, batch 64"
)
ax.legend(fontsize=8)
T4 = b4.get("time_steps", [])
for att, style in (("none", "o-"), ("tcsa", "s-")):
    if T4:
        axes[1].plot(T4, [get(b4, "median_seconds", att, str(T)) for T in T4], style, label=att)
        axes[2].plot(
            T4,
            [get(b4, "saved_for_backward_mib", att, str(T)) for T in T4],
            style,
            label=f"{att}: saved for backward",
        )
        axes[2].plot(
            T4,
            [get(b4, "peak_mib", att, str(T)) for T in T4],
            style.replace("-", ":"),
            label=f"{att}: peak RSS above start",
        )
_ = axes[1].set(
    xlabel="time steps T", ylabel="seconds per search step", title="B4: MA-DARTS step time"
)
_ = axes[2].set(xlabel="time steps T", ylabel="MiB", title="B4: memory per search step")
axes[1].legend(fontsize=8)
axes[2].legend(fontsize=7)
fig.tight_layout()
glue("perf_fig", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## B5: the book's own cost

# %%
b5 = get(bench, "b5_book", "metrics", default={})
b5_table = pd.DataFrame(
    [{"notebook run": k, "wall seconds": v} for k, v in sorted(b5.get("wall_seconds", {}).items())]
)
b5_table = b5_table.set_index("notebook run").round(1) if len(b5_table) else b5_table
missing = [
    m for m in b5.get("missing", []) if not m.startswith("50_performance")
]  # not this run itself
glue("b5_total_s", get(b5, "total_wall_seconds"), display=False)
glue("b5_total_min", get(b5, "total_wall_seconds") / 60, display=False)
glue("b5_n", get(b5, "n_found", default=0), display=False)
glue("b5_missing", ", ".join(missing) if missing else "none", display=False)
glue("b5_table", book_table(b5_table), display=False)
book_table(b5_table)

# %%
metrics = {
    "b1_speedup_vs_naive": get(b1, "speedup_vs_naive", default={}),
    "b1_goal_met": get(b1, "goal", "met", default=None),
    "b1_checks_passed": get(b1, "checks", "all_passed", default=None),
    "b2_ratio": get(b2, "ratio", default=None),
    "b2_goal_met": get(b2, "goal", "met", default=None),
    "b2_cifar10_shape_ratio": get(b2c, "ratio", default=None),
    "b2_cifar10_shape_goal_met": get(b2c, "goal", "met", default=None),
    "b3_speedup": get(b3, "speedup", default=None),
    "b4_ratio_tcsa_over_none": get(b4, "ratio_tcsa_over_none", default={}),
    "b4_goal_met": get(b4, "goal", "met", default=None),
    "b5_total_wall_seconds": get(b5, "total_wall_seconds", default=None),
    "b5_missing": missing,
    "sources": {s["benchmark"]: s["source"] for s in sources},
}
path = run.write(metrics)
print("wrote", path)
