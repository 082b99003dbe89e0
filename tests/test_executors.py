"""snnlib.nas.executors: chunked evaluation gives exactly the per-candidate results."""

import os
import pickle
from concurrent.futures import ThreadPoolExecutor

import pytest

from snnlib.nas.executors import Chunk, SyncExecutor, map_chunked


class Counting(SyncExecutor):
    def __init__(self):
        self.tasks = []

    def submit(self, fn, /, *args, **kwargs):
        self.tasks.append(len(args[0]))
        return super().submit(fn, *args, **kwargs)


def affine(x, a, b):
    return a * x + b


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 10])
def test_map_chunked_equals_one_call_per_item(chunk):
    items = list(range(7))
    ex = Counting()
    assert map_chunked(ex, affine, items, 3, -1, chunk=chunk) == [3 * x - 1 for x in items]
    full, rest = divmod(len(items), chunk)
    assert ex.tasks == [chunk] * full + ([rest] if rest else [])  # ceil(7 / chunk) tasks


def test_map_chunked_keeps_order_on_a_thread_pool_and_checks_chunk():
    with ThreadPoolExecutor(2) as pool:
        assert map_chunked(pool, affine, range(9), 2, 0, chunk=4) == [2 * x for x in range(9)]
    assert map_chunked(SyncExecutor(), affine, [], 1, 1, chunk=2) == []
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="chunk"):
            map_chunked(SyncExecutor(), affine, [1], 1, 1, chunk=bad)


def test_chunk_is_picklable_and_raises_as_the_call_would():
    task = pickle.loads(pickle.dumps(Chunk(affine)))
    assert task([1, 2], 10, 5) == [15, 25]
    f = SyncExecutor().submit(Chunk(int), ["1", "x"])
    assert isinstance(f.exception(), ValueError)


# -- what a worker of each executor inherits: its environment and its allocator -----------------


def _report_in_subprocess(env_extra: dict) -> dict:
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    code = (
        "import json; from snnlib.nas.executors import allocator_report as r; "
        "print(json.dumps(r()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env={**env, **env_extra}, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.slow
def test_the_allocator_probe_tells_a_trim_threshold_apart():
    """The probe itself can fail: with dask's nanny variable, large blocks are mapped anew."""
    from snnlib.nas.executors import large_blocks_reused

    if large_blocks_reused() is None:
        pytest.skip("not glibc >= 2.33: the allocator cannot be probed")
    plain = _report_in_subprocess({})
    trimmed = _report_in_subprocess({"MALLOC_TRIM_THRESHOLD_": "65536"})
    assert plain["malloc_environ"] == {} and plain["large_blocks_reused"] is True
    assert trimmed["malloc_environ"] == {"MALLOC_TRIM_THRESHOLD_": "65536"}
    assert trimmed["large_blocks_reused"] is False


def test_the_in_process_executor_runs_with_this_process_allocator():
    from snnlib.nas.executors import allocator_report

    rep = SyncExecutor().submit(allocator_report).result()
    assert rep == {**allocator_report(), "pid": rep["pid"]}


@pytest.mark.slow
def test_local_cluster_workers_allocate_as_a_plain_process(monkeypatch):
    distributed = pytest.importorskip("distributed")
    from snnlib.nas.executors import check_workers, large_blocks_reused, local_cluster

    # what a default nanny started earlier in this process leaves behind
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    with local_cluster(2) as cluster, distributed.Client(cluster) as client:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            reports = check_workers(client)
        assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "65536"  # put back for this process
    assert len(reports) == 2
    for rep in reports.values():
        assert "MALLOC_TRIM_THRESHOLD_" not in rep["malloc_environ"]
        if large_blocks_reused() is not None:
            assert rep["large_blocks_reused"] is True


@pytest.mark.slow
def test_a_default_dask_worker_is_named_with_the_fix():
    distributed = pytest.importorskip("distributed")
    from snnlib.nas.executors import check_workers, large_blocks_reused

    if large_blocks_reused() is None:
        pytest.skip("not glibc >= 2.33: the allocator cannot be probed")
    import dask

    saved = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    with dask.config.set(
        {"distributed.nanny.pre-spawn-environ": {"MALLOC_TRIM_THRESHOLD_": 65536}}
    ):
        cluster = distributed.LocalCluster(
            n_workers=1, processes=True, dashboard_address=None, silence_logs=40
        )
    try:
        with distributed.Client(cluster) as client:
            with pytest.warns(RuntimeWarning, match="DASK_CONFIG=tools/dask-worker.yaml"):
                check_workers(client)
    finally:
        cluster.close()
        if saved is None:
            os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)  # the nanny leaked it into ours


def test_the_worker_config_file_holds_the_executors_environment():
    import yaml

    from snnlib.nas.executors import WORKER_CONFIG_FILE, WORKER_PRE_SPAWN_ENVIRON
    from snnlib.paths import REPO_ROOT

    cfg = yaml.safe_load((REPO_ROOT / WORKER_CONFIG_FILE).read_text())
    assert cfg["distributed"]["nanny"]["pre-spawn-environ"] == WORKER_PRE_SPAWN_ENVIRON
