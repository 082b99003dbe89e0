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

**CIFAR-size candidates** (``metrics["cifar10"]``). On digits a candidate costs ~55 ms and the
cluster's per-task overhead dominates. The second case is the CIFAR-10 MSE-NAS search's own
fitness: notebook 10's cpu settings for cifar10 (the embedded CIFAR-10 through
:func:`snnlib.mse.experiment.load_tensors` with T = 2 and its 2,000 training images, the RDM
fitness on a probe of 10 images per class, ``NetConfig(width=8, stem_stride=2)``, 6 cells)
and one population of the search's size (30 genomes), ~1 s per candidate on one thread. It
is timed in-process on **one thread** (the goal's baseline) against the same 2-worker cluster
twice: one task per genome (``dask``), and ``chunk`` genomes per task (``dask_chunked``,
:func:`snnlib.nas.executors.map_chunked`, ``chunk = ceil(population / (2 workers))``: the
evaluator and its probe are pickled once per chunk instead of once per genome). Every variant
computes ``fitness(genome, seed)`` for each genome exactly as the search does; the check
compares the fitness of every genome across the three. Goal: ``dask_chunked`` at least 1.7x
in-process.

``SNNLIB_B3_DASK_DEFAULTS=1`` runs the same benchmark on workers started with dask's default
nanny environment (``MALLOC_TRIM_THRESHOLD_=65536``): the "before" of the allocator fix of
:func:`snnlib.nas.executors.local_cluster` (write it elsewhere with ``--out``).
"""

from __future__ import annotations

import math
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
# notebook 10's cpu settings for cifar10 (the quick size: a tiny check of the same code)
CIFAR_SIZES = {
    "quick": dict(
        population=4,
        time_steps=2,
        limit={"train": 100, "val": 20, "test": 20},
        n_per_class=2,
        width=4,
        stem_stride=2,
        n_cells=3,
    ),
    "full": dict(
        population=30,
        time_steps=2,
        limit={"train": 2_000, "val": 100, "test": 100},
        n_per_class=10,
        width=8,
        stem_stride=2,
        n_cells=6,
    ),
}
CIFAR_GOAL = {"min_speedup": 1.8, "candidate": "dask_chunked", "baseline": "in_process (1 thread)"}
# the ledger's and the searches' workloads (notebooks 60 and 61 at cpu scale, smaller counts)
LEDGER_SIZES = {
    "quick": dict(cells=4, n_per_class=2, width=1 / 32, time_steps=2, grad_batch=4),
    "full": dict(cells=40, n_per_class=5, width=1 / 16, time_steps=5, grad_batch=10),
}
SEARCH_SIZES = {
    "quick": dict(seeds=2, budget=3, n_per_class=2, width=1 / 32, time_steps=2),
    "full": dict(seeds=4, budget=12, n_per_class=5, width=1 / 16, time_steps=5),
}


class Timed:
    """``fn(item, *args)`` with its compute seconds and pid (one candidate of a workload)."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, item, *args):
        t0 = time.perf_counter()
        value = self.fn(item, *args)
        return {"value": value, "compute": time.perf_counter() - t0, "pid": os.getpid()}


def ledger_cell(arch_id, probe, cfg):
    """One ledger row without its timings (a candidate of the ledger workload)."""
    from snnlib.spikenas.ledger import score_cell

    row = score_cell(arch_id, probe, cfg)
    row.pop("seconds")
    return row


def search_seed(seed, probe, cfg, budget):
    """One seed of notebook 61's MSE-NAS-style evolution guided by the RDM fitness, its cells
    scored afresh (no cache shared between seeds): the cells it returned."""
    from snnlib.spikenas import load_table
    from snnlib.spikenas.guides import Guides
    from snnlib.spikenas.search import run_search

    guides = Guides(probe, cfg, load_table())
    return run_search("evolution", guides.score("rdm"), budget, seed, "rdm").returned


def executor_case(client, fn, items, args, chunk: int, repeats: int) -> dict:
    """``fn`` over ``items`` in process (one thread) against the 2-worker cluster (``chunk``
    items per task), interleaved; speed-up, per-candidate compute in each, same values."""
    from snnlib.nas.executors import SyncExecutor, map_chunked

    timed = Timed(fn)
    dask_ex, sync_ex = client.get_executor(pure=False), SyncExecutor()
    map_chunked(dask_ex, timed, items, *args, chunk=chunk)  # warm the workers
    out: dict[str, list] = {"in_process": [], "dask": []}
    runs = {
        "in_process": lambda: out["in_process"].append(
            map_chunked(sync_ex, timed, items, *args, chunk=len(items))
        ),
        "dask": lambda: out["dask"].append(map_chunked(dask_ex, timed, items, *args, chunk=chunk)),
    }
    samples = measure(runs, repeats, 0)
    speedup = paired_ratio(samples["in_process"], samples["dask"])
    comp = {k: summary([r["compute"] for res in v for r in res]) for k, v in out.items()}
    same = [r["value"] for r in out["in_process"][-1]] == [r["value"] for r in out["dask"][-1]]
    value = speedup["median"]
    return {
        "candidates": len(items),
        "chunk": chunk,
        "median_seconds": {k: summary(v)["median"] for k, v in samples.items()},
        "speedup": value,
        "speedup_over_in_process": speedup,
        "seconds_per_candidate": comp,
        "worker_over_in_process": comp["dask"]["median"] / comp["in_process"]["median"],
        "checks": {"same_values": bool(same)},
        "goal": {**CIFAR_GOAL, "candidate": "dask", "value": value, "met": bool(value >= 1.8)},
    }


def workload_cases(cfg: BenchConfig, client) -> dict:
    """B3's ledger and search-seed workloads (see :data:`LEDGER_SIZES`, :data:`SEARCH_SIZES`)."""
    from snnlib.spikenas.ledger import LedgerConfig, cifar_probe

    repeats = cfg.n_repeats(3)
    ls = LEDGER_SIZES["quick" if cfg.quick else "full"]
    probe = cifar_probe(ls["n_per_class"], cfg.seed)
    lc = LedgerConfig(
        width=ls["width"], time_steps=ls["time_steps"], grad_batch=ls["grad_batch"], threads=1
    )
    cells = list(range(100, 100 + ls["cells"]))
    ledger = executor_case(
        client, ledger_cell, cells, (probe, lc), math.ceil(len(cells) / 4), repeats
    )
    ss = SEARCH_SIZES["quick" if cfg.quick else "full"]
    sprobe = cifar_probe(ss["n_per_class"], cfg.seed)
    sc = LedgerConfig(width=ss["width"], time_steps=ss["time_steps"], threads=1)
    seeds = list(range(ss["seeds"]))
    search = executor_case(client, search_seed, seeds, (sprobe, sc, ss["budget"]), 1, repeats)
    return {"ledger_chunk": {**ledger, "sizes": ls}, "search_seeds": {**search, "sizes": ss}}


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


def evaluate_chunked(executor, fitness, population, seed, chunk: int) -> list[dict]:
    """The same calls as :func:`evaluate`, ``chunk`` genomes per task."""
    from snnlib.nas.executors import map_chunked

    return map_chunked(executor, fitness, population, seed, chunk=chunk)


def cifar_evaluator(size: dict, seed: int):
    """The CIFAR-10 search's RDM fitness (notebook 10 at cpu scale) and its search space."""
    from snnlib.mse import NetConfig, RDMConfig, SearchSpace
    from snnlib.mse.experiment import load_tensors, rdm_evaluator

    data = load_tensors("cifar10", size["time_steps"], seed=seed, limit=size["limit"])
    n = size["n_per_class"]
    net = NetConfig(width=size["width"], stem_stride=size["stem_stride"])
    ev = rdm_evaluator(data, RDMConfig(n_per_class=n), net, seed=seed, threads=1)
    return ev, SearchSpace(n_cells=size["n_cells"])


def _values(results: list[dict]) -> np.ndarray:
    return np.array([r["value"] for r in results])


def _per_worker(results: list[dict]) -> dict[int, float]:
    per_pid: dict[int, float] = {}
    for r in results:
        per_pid[r["pid"]] = per_pid.get(r["pid"], 0.0) + r["compute"]
    return per_pid


def cifar_case(cfg: BenchConfig, client, size: dict) -> dict:
    """One CIFAR-size population: in-process (1 thread) vs dask per genome vs dask chunked."""
    from snnlib.mse import sample_genomes
    from snnlib.nas.executors import SyncExecutor

    ev, space = cifar_evaluator(size, cfg.seed)
    pop = sample_genomes(np.random.default_rng(cfg.seed + 1), space, size["population"])
    chunk = math.ceil(len(pop) / (2 * N_WORKERS))
    fitness = TimedFitness(ev)
    dask_ex, sync_ex = client.get_executor(pure=False), SyncExecutor()
    evaluate(dask_ex, fitness, pop, cfg.seed)  # warm the workers on this evaluator
    out: dict[str, list] = {}
    variants = {
        "in_process": lambda: evaluate(sync_ex, fitness, pop, cfg.seed),
        "dask": lambda: evaluate(dask_ex, fitness, pop, cfg.seed),
        "dask_chunked": lambda: evaluate_chunked(dask_ex, fitness, pop, cfg.seed, chunk),
    }

    def recorded(name):
        def call():
            out.setdefault(name, []).append(variants[name]())

        return call

    repeats, warmup = cfg.n_repeats(3), cfg.n_warmup(0)
    samples = measure({k: recorded(k) for k in variants}, repeats, warmup)
    last = {k: v[-1] for k, v in out.items()}
    vals = {k: _values(v) for k, v in last.items()}
    speedups = {
        k: paired_ratio(samples["in_process"], samples[k]) for k in ("dask", "dask_chunked")
    }
    efficiency = {
        k: summary(
            [sum(_per_worker(r).values()) / (N_WORKERS * w) for w, r in zip(samples[k], out[k])]
        )
        for k in ("dask", "dask_chunked")
    }
    value = speedups["dask_chunked"]["median"]
    same = all(np.array_equal(vals["in_process"], vals[k]) for k in ("dask", "dask_chunked"))
    close = all(
        np.allclose(vals["in_process"], vals[k], rtol=0, atol=1e-6)
        for k in ("dask", "dask_chunked")
    )
    return {
        "population": len(pop),
        "chunk": chunk,
        "tasks_chunked": math.ceil(len(pop) / chunk),
        "probe_images": int(ev.x.shape[0]),
        "seconds_per_population": {k: summary(v) for k, v in samples.items()},
        "median_seconds": {k: summary(v)["median"] for k, v in samples.items()},
        "seconds_per_candidate_in_process": summary(
            [r["compute"] for res in out["in_process"] for r in res]
        ),
        "worker_seconds_per_candidate": summary(
            [r["compute"] for k in ("dask", "dask_chunked") for res in out[k] for r in res]
        ),
        "speedup": {k: v["median"] for k, v in speedups.items()},
        "speedup_over_in_process": speedups,
        "parallel_efficiency": efficiency,
        "checks": {
            "same_fitness_all_variants": bool(close),
            "bitwise_equal": bool(same),
            "max_abs_fitness_diff": float(
                max(np.abs(vals["in_process"] - vals[k]).max() for k in ("dask", "dask_chunked"))
            ),
            "all_passed": bool(close),
        },
        "fitness": vals["in_process"].tolist(),
        "samples": samples,
        "goal": {**CIFAR_GOAL, "value": value, "met": bool(value >= CIFAR_GOAL["min_speedup"])},
    }


def run(cfg: BenchConfig) -> dict:
    import copy

    import cloudpickle
    from dask.distributed import Client

    import benchmarks.b3_population as this
    from snnlib.mse import sample_genomes
    from snnlib.nas.executors import SyncExecutor, local_cluster

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
    if os.environ.get("SNNLIB_B3_DASK_DEFAULTS"):  # the "before" of the allocator fix
        import dask
        from dask.distributed import LocalCluster

        with dask.config.set(
            {"distributed.nanny.pre-spawn-environ": {"MALLOC_TRIM_THRESHOLD_": 65536}}
        ):
            cluster = LocalCluster(
                n_workers=N_WORKERS, threads_per_worker=1, dashboard_address=None, silence_logs=40
            )
    else:
        cluster = local_cluster(N_WORKERS)
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
        cifar_size = CIFAR_SIZES["quick" if cfg.quick else "full"]
        cifar = cifar_case(cfg, client, cifar_size)
        workloads = workload_cases(cfg, client)
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
    metrics["checks"]["all_passed"] = (
        metrics["checks"]["same_fitness_in_process_vs_dask"] and cifar["checks"]["all_passed"]
    )
    cifar_samples = cifar.pop("samples")
    metrics["cifar10"] = cifar
    metrics.update(workloads)
    metrics["checks"]["all_passed"] = metrics["checks"]["all_passed"] and all(
        w["checks"]["same_values"] for w in workloads.values()
    )
    # per workload: two workers over one in-process thread, and a candidate's compute in a
    # worker over in process (the allocator fix's measure)
    per_genome = cifar["seconds_per_candidate_in_process"]["median"]
    metrics["workloads"] = {
        "mse_population_cifar": {
            "speedup": cifar["speedup"]["dask_chunked"],
            "worker_over_in_process": cifar["worker_seconds_per_candidate"]["median"] / per_genome,
        },
        **{
            k: {"speedup": w["speedup"], "worker_over_in_process": w["worker_over_in_process"]}
            for k, w in workloads.items()
        },
    }
    return {
        "metrics": metrics,
        "params": {
            "sizes": size,
            "repeats": repeats,
            "warmup": warmup,
            "worker_threads": 1,
            "in_process_threads": cfg.threads,
            "cifar10_sizes": cifar_size,
            "cifar10_in_process_threads": 1,
            "workers": "dask defaults (MALLOC_TRIM_THRESHOLD_=65536)"
            if os.environ.get("SNNLIB_B3_DASK_DEFAULTS")
            else "snnlib.nas.executors.local_cluster",
        },
        "artifacts": {
            "samples_seconds": samples,
            "fitness": vals_local.tolist(),
            "cifar10_samples_seconds": cifar_samples,
        },
    }


def headline(m: dict) -> str:
    b = m["breakdown_dask"]
    med = m["median_seconds"]
    return (
        f"population of {m['population']}: in-process {med['in_process']:.2f} s, "
        f"dask {med['dask']:.2f} s -> {m['speedup']:.2f}x; "
        f"start {b['cluster_start_seconds']:.1f} s, cold {b['cold_population_seconds']:.1f} s, "
        f"efficiency {b['parallel_efficiency']['median']:.2f}; same fitness: "
        f"{m['checks']['same_fitness_in_process_vs_dask']}; CIFAR-10 population of "
        f"{m['cifar10']['population']}: dask {m['cifar10']['speedup']['dask']:.2f}x, chunked "
        f"({m['cifar10']['chunk']} per task) {m['cifar10']['speedup']['dask_chunked']:.2f}x "
        f"(goal >= 1.8x: {m['cifar10']['goal']['met']}); same fitness: "
        f"{m['cifar10']['checks']['same_fitness_all_variants']}; "
        + "; ".join(
            f"{k} {w['speedup']:.2f}x (worker/in-process {w['worker_over_in_process']:.2f})"
            for k, w in m.get("workloads", {}).items()
        )
    )
