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
# `data/results/bench__<name>.json` of the committed reference folder (B5, the book's own
# cost, is computed here from the wall times of this build's result files). Every benchmark
# times a candidate *interleaved* with a baseline in the same process and reports medians,
# quartiles and paired ratios, so that a busy machine slows both alike. A benchmark whose
# file is missing is run here, in quick mode at `smoke` scale and with fewer repeats at `cpu`
# scale, so the page never lacks numbers;
# the table of sources says which numbers came from where.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper
dataset = "digits"  # the benchmarks use the digits set; the parameter names the run
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway: hours to days
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)

# %% tags=["hide-input"]
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from myst_nb import glue
from tqdm.auto import tqdm

from snnlib.book import performance as perf
from snnlib.book.glue import glue_all
from snnlib.book.params import declared_params
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.tables import book_table

perf.benchmarks_importable()  # benchmarks/ lives next to snnlib/, not installed
from benchmarks import BENCHMARKS, load
from benchmarks.harness import BenchConfig, default_threads, run_benchmark

params = declared_params("50_performance", globals())
run, dev = start("50_performance", params)

cfg = pick_scale(
    scale,
    {
        # seconds: every missing benchmark in quick mode (tiny sizes, one repeat, one thread)
        "smoke": dict(quick=True, repeats=None, warmup=None, threads=1, compile=False),
        # a missing benchmark at full sizes with fewer repeats (make bench gives the real numbers)
        "cpu": dict(quick=False, repeats=3, warmup=1, threads=default_threads(), compile=False),
        "paper": dict(quick=False, repeats=5, warmup=1, threads=default_threads(), compile=False),
    },
)
print(cfg)

# %% [markdown]
# ## Collect the result files (run the missing benchmarks)

# %%
fallback = BenchConfig(
    out_dir=Path(tempfile.mkdtemp(prefix="bench-notebook-")), seed=seed, device=str(dev), **cfg
)
bench, sources = perf.collect(
    tqdm(BENCHMARKS, desc="benchmarks"),
    path_of=perf.bench_file(scale),
    run_missing=perf.runner(run_benchmark, load, fallback),
    fallback=perf.fallback_source(cfg["quick"], cfg["repeats"]),
)
sources_table = perf.sources_table(sources)
book_table(sources_table)

# %%
machine = glue_all(perf.machine_values(bench))
glue("sources_table", book_table(sources_table), display=False)
print(machine)

# %% [markdown]
# ## B1: spiking forward + backward, snnlib against a naive snnTorch loop
# Speed-up = naive seconds / snnlib seconds, the median of per-round ratios (IQR in brackets).

# %%
b1 = perf.metrics_of(bench, "b1_forward")
b1_table = perf.b1_table(b1)
glue_all(perf.b1_values(b1))
glue("b1_table", book_table(b1_table), display=False)
book_table(b1_table)

# %% [markdown]
# Where the time goes at the goal's T: self CPU milliseconds per forward+backward by kind of
# operator (torch.profiler; profiling adds overhead, so read the shares).

# %%
prof_T, b1_profile_table = perf.b1_profile(b1)
glue("b1_profile_T", prof_T, display=False)
glue("b1_profile_table", book_table(b1_profile_table), display=False)
book_table(b1_profile_table)

# %% [markdown]
# Peak memory of one training step, per implementation: the peak of live tensor bytes during
# the step (torch.profiler's allocation and free events), bytes saved for backward in brackets.

# %%
glue_all(perf.b1_memory_values(b1))
b1_memory_table = perf.b1_memory_table(b1)
glue("b1_memory_table", book_table(b1_memory_table), display=False)
book_table(b1_memory_table)

# %% [markdown]
# ## B2: fitness cost per candidate (MSE-NAS)

# %%
b2 = perf.metrics_of(bench, "b2_fitness")
b2_table = perf.b2_table(b2)
glue_all(perf.b2_values(b2))
glue("b2_table", book_table(b2_table), display=False)
book_table(b2_table)

# %%
# where one RDM fitness call spends its time (a genome whose output spikes)
glue_all(perf.b2_breakdown_values(b2))
print(perf.lookup(b2, "rdm_breakdown", default={}))

# %% [markdown]
# The same evaluators at CIFAR-10 shape (3 x 32 x 32, the cifar10 split sizes; synthetic pixels,
# timing only: a dense spiking pass costs the same whatever the pixel values).

# %%
glue_all(perf.b2_cifar10_values(b2))
print(perf.b2_cifar10_summary(b2))

# %% [markdown]
# The SpikeNAS-Bench proxy ledger's cost per cell at its two widths (seconds per proxy, the
# shared forward pass charged to each proxy that uses it).

# %%
glue_all(perf.b2_spikenas_values(b2))
b2_spikenas_table = perf.b2_spikenas_table(b2)
glue("b2_spikenas_table", book_table(b2_spikenas_table), display=False)
book_table(b2_spikenas_table)

# %% [markdown]
# ## B3: one population, in-process against dask (2 workers)

# %%
b3_table = perf.b3_table(perf.metrics_of(bench, "b3_population"))
glue_all(perf.b3_values(bench))
glue("b3_table", book_table(b3_table), display=False)
book_table(b3_table)

# %%
# CIFAR-size candidates: per genome and chunked, against in-process on one thread
b3c = perf.b3_cifar_values(perf.metrics_of(bench, "b3_population"))
glue_all(b3c)
print(b3c)

# %%
# every B3 workload: two workers against one in-process thread
b3w_table = perf.b3_workload_table(perf.metrics_of(bench, "b3_population"))
glue_all(perf.b3_workload_values(perf.metrics_of(bench, "b3_population")))
glue("b3w_table", book_table(b3w_table), display=False)
book_table(b3w_table)

# %% [markdown]
# ## B7: the SpikeNAS-Bench ledger's throughput

# %%
b7 = perf.b7_values(perf.metrics_of(bench, "b7_ledger"))
glue_all(b7)
print(b7)

# %% [markdown]
# ## B4: MA-DARTS search step, attention `tcsa` against `none`

# %%
b4 = perf.metrics_of(bench, "b4_search_step")
b4_table = perf.b4_table(b4)
glue_all(perf.b4_values(b4))
glue("b4_table", book_table(b4_table), display=False)
book_table(b4_table)

# %%
fig = perf.performance_figure(b1, b4)
glue("perf_fig", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## B5: the book's own cost

# %%
b5 = perf.metrics_of(bench, "b5_book")
b5_table = perf.b5_table(b5)
glue_all(perf.b5_values(b5))
glue("b5_table", book_table(b5_table), display=False)
book_table(b5_table)

# %%
# the critical path and the makespan with make's default of two jobs (list scheduling)
b5s = perf.b5_schedule_values(b5)
glue_all(b5s)
print(b5s)

# %% [markdown]
# ## B6: training throughput against the machine's peak convolution rate

# %%
b6_values = perf.b6_values(perf.metrics_of(bench, "b6_throughput"))
glue_all(b6_values)
print(b6_values)

# %%
metrics = perf.performance_metrics(bench, sources)
path = run.write(metrics)
print("wrote", path)
