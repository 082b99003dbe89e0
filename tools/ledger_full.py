"""``make ledger-full``: the SpikeNAS-Bench ledger over the whole space (or a prefix of it).

Scores cells ``0 .. CELLS-1`` (default all 15,625) with the book's ``cpu`` ledger settings
(notebook 60: width 1/16, T = 5, 5 CIFAR-10 training images per class, every score of
``LEDGER_PROXIES``) on ``WORKERS`` dask workers of :func:`snnlib.nas.executors.local_cluster`
(0: in process), resuming from its checkpoint, and writes
``data/results/ledger_full__cifar10__cpu__seed0__<tag>.json`` (``params``, ``provenance``,
``metrics``, the rows as ``artifacts``; ``<tag>`` the hash of the run's parameters). A prefix
run writes ``ledger_full_<cells>cells__cifar10__cpu__seed0__<tag>.json`` instead, so it is
never taken for the whole space.

    python tools/ledger_full.py [CELLS] [WORKERS]
"""

from __future__ import annotations

import sys
import time

import numpy as np


def main(argv: list[str]) -> int:
    from snnlib.book.results import ResultRun
    from snnlib.nas.executors import check_workers, local_cluster
    from snnlib.paths import checkpoints_dir
    from snnlib.spikenas import N_ARCHS, load_table
    from snnlib.spikenas.ledger import (
        LedgerConfig,
        checkpoint_name,
        cifar_probe,
        ledger_identity,
        run_ledger,
    )
    from snnlib.spikenas.study import proxy_table
    from snnlib.validation import check_range

    cells = int(argv[0]) if argv and argv[0] else N_ARCHS
    workers = int(argv[1]) if len(argv) > 1 and argv[1] else 2
    check_range("CELLS", cells, 2, N_ARCHS, integer=True)
    check_range("WORKERS", workers, 0, 64, integer=True)
    probe = cifar_probe(5, 0)
    cfg = LedgerConfig(width=1 / 16, time_steps=5, seed=0, grad_batch=10, threads=1)
    ids = np.arange(cells)
    ckpt = checkpoints_dir() / checkpoint_name("spikenas_ledger_full", ledger_identity(cfg, probe))
    stem = "ledger_full" if cells == N_ARCHS else f"ledger_full_{cells}cells"
    params = {"scale": "cpu", "dataset": "cifar10", "seed": 0, "device": "cpu", "cells": cells}
    params["workers"] = workers
    run = ResultRun(stem, params)
    t0 = time.perf_counter()
    if workers:
        from dask.distributed import Client

        with local_cluster(workers) as cluster, Client(cluster) as client:
            check_workers(client)
            ex = client.get_executor(pure=False)
            ledger = run_ledger(
                ids, probe, cfg, checkpoint=ckpt, executor=ex, chunk=20, in_flight=2 * workers
            )
    else:
        ledger = run_ledger(ids, probe, cfg, checkpoint=ckpt)
    wall = time.perf_counter() - t0
    table = load_table()
    learned = ids[table.test_acc[ids] > 10.0]
    tab = proxy_table(ledger, learned, table.test_acc, list(cfg.proxies), n_boot=200)
    metrics = {
        "cells": cells,
        "workers": workers,
        "wall_seconds": wall,
        "cells_per_second": cells / wall,
        "projected_hours_all_cells": N_ARCHS / (cells / wall) / 3600,
        "table_learned": tab.reset_index().to_dict(orient="records"),
    }
    path = run.write(
        metrics,
        artifacts={
            "rows": [ledger.rows[int(a)] for a in ids],
            "bench_table": table.provenance(),
            "probe": probe.identity(),
        },
    )
    print(
        f"{cells} cells in {wall:.0f} s on {workers} workers ({cells / wall:.2f} cells/s; "
        f"all 15,625: {metrics['projected_hours_all_cells']:.2f} h); wrote {path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
