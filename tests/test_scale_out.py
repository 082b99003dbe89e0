"""Scaling out as a user would: a dask scheduler and workers started by hand on the loopback
address (``dask scheduler`` / ``dask worker`` with ``DASK_CONFIG=tools/dask-worker.yaml``), the
SpikeNAS-Bench ledger sent to them, one worker killed midway: the run completes, equals the
in-process ledger row for row, and the hand-started workers allocate as a plain process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from snnlib.paths import REPO_ROOT

pytestmark = pytest.mark.slow


def _dask_cli() -> list[str]:
    return [str(Path(sys.executable).with_name("dask"))]


def _start(args: list[str], log: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        _dask_cli() + args,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # its own process group: a kill takes nanny and worker
    )


def _wait_for(predicate, timeout: float, what: str) -> None:
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def test_hand_started_cluster_survives_a_killed_worker(tmp_path):
    distributed = pytest.importorskip("distributed")
    if not Path(_dask_cli()[0]).exists():
        pytest.skip("the dask command line is not installed beside this Python")
    from snnlib.nas.executors import WORKER_CONFIG_FILE, check_workers
    from snnlib.spikenas.ledger import LedgerConfig, make_probe, run_ledger

    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["DASK_CONFIG"] = str(REPO_ROOT / WORKER_CONFIG_FILE)
    env["PYTHONPATH"] = str(REPO_ROOT)
    sched_file = tmp_path / "scheduler.json"
    procs = [
        _start(
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(sched_file),
            ],
            tmp_path / "scheduler.log",
            env,
        )
    ]
    try:
        _wait_for(sched_file.exists, 60, "the scheduler file")
        for i in range(2):
            procs.append(
                _start(
                    [
                        "worker",
                        "--scheduler-file",
                        str(sched_file),
                        "--nthreads",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--no-dashboard",
                        "--name",
                        f"w{i}",
                    ],
                    tmp_path / f"worker{i}.log",
                    env,
                )
            )
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (60, 32, 32, 3), dtype=np.uint8)
        probe = make_probe(images, np.repeat(np.arange(10), 6), 2, seed=0, source="noise")
        cfg = LedgerConfig(width=1 / 32, time_steps=2, grad_batch=4)
        ids = list(range(200, 224))
        want = run_ledger(ids, probe, cfg, progress=False)
        ckpt = tmp_path / "ledger.json"
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            reports = check_workers(client)  # warns if a worker maps every large block
            assert all(r["malloc_environ"] == {} for r in reports.values())
            killed = threading.Event()

            def kill_one_worker_midway():
                def some_rows():
                    try:
                        return len(json.loads(ckpt.read_text())["rows"]) >= 4
                    except (OSError, ValueError):
                        return False

                _wait_for(some_rows, 120, "the first chunks")
                os.killpg(procs[1].pid, signal.SIGKILL)  # nanny and worker, mid-run
                killed.set()

            killer = threading.Thread(target=kill_one_worker_midway, daemon=True)
            killer.start()
            got = run_ledger(
                ids,
                probe,
                cfg,
                checkpoint=ckpt,
                executor=client.get_executor(pure=False),
                chunk=2,
                in_flight=4,
                progress=False,
            )
            killer.join(timeout=5)
        assert killed.is_set(), "the run ended before a worker could be killed"
        strip = lambda rows: {
            a: {k: v for k, v in r.items() if k != "seconds"} for a, r in rows.items()
        }
        assert strip(got.rows) == strip(want.rows)
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=30)
