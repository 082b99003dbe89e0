"""B3: evaluating one population of the evolutionary search, in-process against a dask
``LocalCluster`` of 2 single-threaded worker processes, and where the time goes.

The fitness is the search's RDM fitness (:class:`snnlib.mse.RDMEvaluator`, as in B2), the
population ``population`` distinct random genomes, evaluated exactly as
:func:`snnlib.mse.evolve` does: ``executor.submit(fitness, genome, seed)`` for each, then the
results in submission order. In-process is :class:`snnlib.nas.executors.SyncExecutor` with torch
using ``threads`` threads; dask is ``client.get_executor(pure=False)`` (``pure=False``: a
repeated population is recomputed, not served from dask's memory) with one torch thread per
worker, so both use the same two cores.

Where the time goes (dask, warm): every task reports its compute seconds and worker; the
wall time of a population splits into the busiest worker's compute and the rest (scheduling,
pickling genomes and the evaluator, gathering results, idle tail). Cluster start-up and the
first (cold) population, whose workers import torch and snnlib, are reported apart.
Check: both executors give the same fitness for every genome.
"""

from __future__ import annotations

import logging
import os
import time

import numpy as np

from .b2_fitness import SIZES as FITNESS_SIZES
from .b2_fitness import evaluators
from .harness import BenchConfig, measure, paired_ratio, summary

NAME = "b3_population"
DATASET = "digits"
DESCRIPTION = "one population's RDM fitness: in-process vs dask LocalCluster (2 workers)"

# B2's evaluator sizes (the same RDM fitness), with the population; ``genomes`` is unused here
SIZES = {
    name: {"population": population, **FITNESS_SIZES[name], "genomes": 1}
    for name, population in (("quick", 2), ("full", 16))
}
N_WORKERS = 2


class TimedFitness:
    """Wraps a fitness; returns ``{"value", "compute", "pid"}`` (picklable, shipped to workers)."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, genome, seed):
        t0 = time.perf_counter()
        value = self.fn(genome, seed)
        return {"value": float(value), "compute": time.perf_counter() - t0, "pid": os.getpid()}


def evaluate(executor, fitness, population, seed) -> list[dict]:
    """What :func:`snnlib.mse.evolution._evaluate` does: submit all, gather in order."""
    futures = [executor.submit(fitness, g, seed) for g in population]
    return [f.result() for f in futures]


def run(cfg: BenchConfig) -> dict:
    import copy

    import cloudpickle
    from dask.distributed import Client, LocalCluster

    import benchmarks.b3_population as this
    from snnlib.mse import sample_genomes
    from snnlib.nas.executors import SyncExecutor

    size = SIZES["quick" if cfg.quick else "full"]
    evs, space = evaluators(size, cfg.seed)
    rdm = evs["rdm"]
    local = copy.copy(rdm)
    local.threads = cfg.threads
    remote = copy.copy(rdm)
    remote.threads = 1
    population = sample_genomes(np.random.default_rng(cfg.seed), space, size["population"])

    # workers unpickle this module's TimedFitness by value: no need for ``benchmarks`` on their path
    cloudpickle.register_pickle_by_value(this)
    repeats, warmup = cfg.n_repeats(5), cfg.n_warmup(1)
    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=N_WORKERS,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    start_seconds = time.perf_counter() - t0
    try:
        dask_ex = client.get_executor(pure=False)
        sync_ex = SyncExecutor()
        f_local, f_remote = TimedFitness(local), TimedFitness(remote)
        t0 = time.perf_counter()
        cold = evaluate(dask_ex, f_remote, population, cfg.seed)
        cold_seconds = time.perf_counter() - t0
        out: dict[str, list] = {}

        def run_sync():
            out["in_process"] = evaluate(sync_ex, f_local, population, cfg.seed)

        def run_dask():
            out["dask"] = evaluate(dask_ex, f_remote, population, cfg.seed)

        tasks: dict[str, list] = {"in_process": [], "dask": []}

        def recorded(name, fn):
            def call():
                fn()
                tasks[name].append(out[name])

            return call

        samples = measure(
            {"in_process": recorded("in_process", run_sync), "dask": recorded("dask", run_dask)},
            repeats,
            warmup,
        )
        tasks = {k: v[-repeats:] for k, v in tasks.items()}
    finally:
        client.close()
        cluster.close()
        cloudpickle.unregister_pickle_by_value(this)

    vals_local = np.array([r["value"] for r in tasks["in_process"][-1]])
    vals_dask = np.array([r["value"] for r in tasks["dask"][-1]])
    vals_cold = np.array([r["value"] for r in cold])
    # breakdown of every dask round: busiest worker's compute vs wall
    busy, compute, overhead, efficiency = [], [], [], []
    for wall, res in zip(samples["dask"], tasks["dask"]):
        per_pid: dict[int, float] = {}
        for r in res:
            per_pid[r["pid"]] = per_pid.get(r["pid"], 0.0) + r["compute"]
        busy.append(max(per_pid.values()))
        compute.append(sum(per_pid.values()))
        overhead.append(wall - max(per_pid.values()))
        efficiency.append(sum(per_pid.values()) / (N_WORKERS * wall))
    task_local = [r["compute"] for res in tasks["in_process"] for r in res]
    task_dask = [r["compute"] for res in tasks["dask"] for r in res]
    speedup = paired_ratio(samples["in_process"], samples["dask"])
    n_pids = len({r["pid"] for res in tasks["dask"] for r in res})
    metrics = {
        "population": size["population"],
        "n_workers": N_WORKERS,
        "seconds_per_population": {k: summary(v) for k, v in samples.items()},
        "median_seconds": {k: summary(v)["median"] for k, v in samples.items()},
        "speedup_dask_over_in_process": speedup,
        "speedup": speedup["median"],
        "seconds_per_candidate": {
            "in_process": summary([s / size["population"] for s in samples["in_process"]]),
            "dask": summary([s / size["population"] for s in samples["dask"]]),
        },
        "breakdown_dask": {
            "cluster_start_seconds": start_seconds,
            "cold_population_seconds": cold_seconds,
            "task_compute_seconds_worker": summary(task_dask),
            "task_compute_seconds_in_process": summary(task_local),
            "busiest_worker_seconds": summary(busy),
            "total_compute_seconds": summary(compute),
            "overhead_seconds": summary(overhead),
            "parallel_efficiency": summary(efficiency),
            "workers_used": n_pids,
        },
        "checks": {
            "same_fitness_in_process_vs_dask": bool(
                np.allclose(vals_local, vals_dask, rtol=0, atol=1e-6)
            ),
            "bitwise_equal": bool(np.array_equal(vals_local, vals_dask)),
            "cold_equals_warm": bool(np.array_equal(vals_cold, vals_dask)),
            "max_abs_fitness_diff": float(np.abs(vals_local - vals_dask).max()),
        },
    }
    metrics["checks"]["all_passed"] = metrics["checks"]["same_fitness_in_process_vs_dask"]
    return {
        "metrics": metrics,
        "params": {
            "sizes": size,
            "repeats": repeats,
            "warmup": warmup,
            "worker_threads": 1,
            "in_process_threads": cfg.threads,
        },
        "artifacts": {"samples_seconds": samples, "fitness": vals_local.tolist()},
    }


def headline(m: dict) -> str:
    b = m["breakdown_dask"]
    med = m["median_seconds"]
    return (
        f"population of {m['population']}: in-process {med['in_process']:.2f} s, "
        f"dask {med['dask']:.2f} s -> {m['speedup']:.2f}x; "
        f"start {b['cluster_start_seconds']:.1f} s, cold {b['cold_population_seconds']:.1f} s, "
        f"efficiency {b['parallel_efficiency']['median']:.2f}; same fitness: "
        f"{m['checks']['same_fitness_in_process_vs_dask']}"
    )
