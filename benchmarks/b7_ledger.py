"""B7: the SpikeNAS-Bench ledger's throughput: cells per second on one core and on two dask
workers, the projected time for all 15,625 cells, and where one cell's time goes.

The cells are the first ``cells`` ids of the space (the prefix ``make ledger-full`` scores
first), scored with the book's ``cpu`` ledger settings (notebook 60: width 1/16, T = 5, a
probe of 5 CIFAR-10 training images per class, every score of ``LEDGER_PROXIES``). In-process
is :func:`snnlib.spikenas.ledger.run_ledger` on one torch thread; the cluster is
:func:`snnlib.nas.executors.local_cluster` with 2 single-threaded workers, chunks of 10 cells
and 4 chunks in flight. Check: both give the same rows (seconds aside). The share of the time
in convolutions comes from torch.profiler's self CPU time over a few cells in process.
"""

from __future__ import annotations

import time

import numpy as np

from .harness import summary

NAME = "b7_ledger"
DATASET = "cifar10"
DESCRIPTION = "SpikeNAS-Bench ledger: cells/s on 1 core and 2 dask workers, full-space projection"
N_WORKERS = 2
SIZES = {
    "quick": dict(cells=6, n_per_class=2, width=1 / 32, time_steps=2, grad_batch=4, chunk=2),
    "full": dict(cells=200, n_per_class=5, width=1 / 16, time_steps=5, grad_batch=10, chunk=10),
}


def _strip(rows: dict) -> dict:
    return {a: {k: v for k, v in r.items() if k != "seconds"} for a, r in rows.items()}


def conv_share(probe, cfg, ids) -> dict:
    """Self CPU time of convolutions / all ops while scoring ``ids`` in process."""
    from torch.profiler import ProfilerActivity, profile

    from snnlib.spikenas.ledger import score_cell

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for a in ids:
            score_cell(int(a), probe, cfg)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    conv = sum(e.self_cpu_time_total for e in events if "conv" in e.key)
    top = sorted(events, key=lambda e: -e.self_cpu_time_total)[:8]
    return {
        "conv_share": conv / total if total else float("nan"),
        "top_ops": {e.key: e.self_cpu_time_total / total for e in top},
    }


def run(cfg) -> dict:
    from dask.distributed import Client

    from snnlib.nas.executors import check_workers, local_cluster
    from snnlib.spikenas import N_ARCHS
    from snnlib.spikenas.ledger import LedgerConfig, cifar_probe, run_ledger

    size = SIZES["quick" if cfg.quick else "full"]
    probe = cifar_probe(size["n_per_class"], cfg.seed)
    lc = LedgerConfig(
        width=size["width"],
        time_steps=size["time_steps"],
        seed=cfg.seed,
        grad_batch=size["grad_batch"],
        threads=1,
    )
    ids = list(range(size["cells"]))
    run_ledger(ids[:1], probe, lc, progress=False)  # warm: imports, allocator, kernels
    t0 = time.perf_counter()
    local = run_ledger(ids, probe, lc, chunk=size["chunk"], progress=False)
    in_process = time.perf_counter() - t0
    t0 = time.perf_counter()
    with local_cluster(N_WORKERS) as cluster, Client(cluster) as client:
        start = time.perf_counter() - t0
        workers = check_workers(client)
        ex = client.get_executor(pure=False)
        run_ledger(ids[:2], probe, lc, executor=ex, chunk=1, in_flight=2, progress=False)
        t0 = time.perf_counter()
        remote = run_ledger(
            ids, probe, lc, executor=ex, chunk=size["chunk"], in_flight=4, progress=False
        )
        on_workers = time.perf_counter() - t0
    per_cell = {
        "in_process": summary([sum(r["seconds"].values()) for r in local.rows.values()]),
    }
    # one cell's own compute: its forward and kernels charged once, plus each score's own time
    cell_in = [r["seconds"]["firing_rate"] for r in local.rows.values()]
    cell_w = [r["seconds"]["firing_rate"] for r in remote.rows.values()]
    share = conv_share(probe, lc, ids[: min(5, len(ids))])
    cps1, cps2 = len(ids) / in_process, len(ids) / on_workers
    metrics = {
        "cells": len(ids),
        "settings": size,
        "seconds_in_process": in_process,
        "seconds_two_workers": on_workers,
        "cells_per_second_one_core": cps1,
        "cells_per_second_two_workers": cps2,
        "speedup_two_workers": in_process / on_workers,
        "forward_seconds_per_cell": {
            "in_process": summary(cell_in),
            "worker": summary(cell_w),
            "worker_over_in_process": float(np.median(cell_w) / np.median(cell_in)),
        },
        "seconds_per_cell_summed_scores": per_cell,
        "projected_hours_all_cells": {
            "one_core": N_ARCHS / cps1 / 3600,
            "two_workers": N_ARCHS / cps2 / 3600,
        },
        "goal": {
            "hours": 1.0,
            "met": bool(N_ARCHS / cps2 / 3600 <= 1.0),
            "what": "all 15,625 cells at the cpu width on the 2-core machine",
        },
        "cluster_start_seconds": start,
        "workers_allocator": {k: v["large_blocks_reused"] for k, v in workers.items()},
        **share,
        "checks": {"same_rows": _strip(local.rows) == _strip(remote.rows)},
    }
    return {"metrics": metrics, "params": {"sizes": size, "workers": N_WORKERS}}


def headline(m: dict) -> str:
    p = m["projected_hours_all_cells"]
    return (
        f"{m['cells']} cells: {m['cells_per_second_one_core']:.2f} cells/s on 1 core, "
        f"{m['cells_per_second_two_workers']:.2f} on 2 workers ({m['speedup_two_workers']:.2f}x); "
        f"all 15,625 cells: {p['one_core']:.2f} h / {p['two_workers']:.2f} h (goal 1 h: "
        f"{m['goal']['met']}); convolutions {100 * m['conv_share']:.0f} % of the time; "
        f"same rows: {m['checks']['same_rows']}"
    )
