"""Executors that evaluate candidates: in this process or on a Dask cluster.

Any ``concurrent.futures.Executor`` works (``submit(fn, *args) -> Future``); a
``dask.distributed.Client`` is one. :class:`SyncExecutor` runs each call at once, in order.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future


class SyncExecutor(Executor):
    """A ``concurrent.futures.Executor`` that runs each call immediately, in this process.

    >>> SyncExecutor().submit(pow, 2, 10).result()
    1024
    >>> SyncExecutor().submit(int, "x").exception()
    ValueError("invalid literal for int() with base 10: 'x'")
    """

    def submit(self, fn, /, *args, **kwargs) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            f.set_exception(exc)
        return f


class Chunk:
    """``fn`` applied to every item of a list: one executor task that evaluates several
    candidates (picklable when ``fn`` is, so it ships to Dask workers).

    Each item gets exactly the call it would get alone, ``fn(item, *args)``, so chunking
    changes how many tasks there are, never a result.

    >>> Chunk(pow)([2, 3], 2)
    [4, 9]
    """

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, items, *args) -> list:
        return [self.fn(item, *args) for item in items]


def map_chunked(executor: Executor, fn, items, *args, chunk: int = 1) -> list:
    """``[fn(item, *args) for item in items]`` computed on ``executor``, ``chunk`` items per
    task (the last task takes the rest); results in the order of ``items``.

    One task per candidate costs a round trip and the pickling of ``fn`` (with its probe
    data) every time; ``chunk`` > 1 pays them once per ``chunk`` candidates. With ``n``
    workers, ``chunk = ceil(len(items) / (2 n))`` keeps two tasks per worker for balance.

    >>> map_chunked(SyncExecutor(), pow, [1, 2, 3], 2, chunk=2)
    [1, 4, 9]
    """
    if not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    items = list(items)
    task = Chunk(fn)
    futures = [
        executor.submit(task, items[i : i + chunk], *args) for i in range(0, len(items), chunk)
    ]
    return [r for f in futures for r in f.result()]


# -- Dask workers with a plain process's allocator ------------------------------------------------
#
# A dask nanny puts ``distributed.nanny.pre-spawn-environ`` into its worker's environment before
# it starts it; dask's default there includes ``MALLOC_TRIM_THRESHOLD_=65536``. Setting *any* of
# glibc's malloc tunables turns off its dynamic mmap threshold, so every block above 128 KiB (a
# torch activation of a CIFAR batch is megabytes) is mmap-ed and munmap-ed again on every
# allocation, page faults and zeroing included. Measured here (one 3x3 convolution on
# [64, 16, 32, 32] and two elementwise ops, one thread): 5-7 ms in a plain process, 15-17 ms in a
# default dask worker or in a plain process started with that variable; 7-8 ms in a worker
# spawned without it (the B3 record holds the measurement of every variant).

MALLOC_TUNABLES = (
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
    "MALLOC_ARENA_MAX",
)
"""glibc's malloc environment variables (each one, once set, fixes the mmap threshold)."""

WORKER_PRE_SPAWN_ENVIRON = {
    "MALLOC_TRIM_THRESHOLD_": None,  # None: not set at all (dask's own rule for this config)
    "OMP_NUM_THREADS": 1,
    "MKL_NUM_THREADS": 1,
    "OPENBLAS_NUM_THREADS": 1,
}
"""The pre-spawn environment of the project's dask workers: dask's default without the malloc
trim threshold (one BLAS / OpenMP thread per worker, as dask sets it)."""

WORKER_CONFIG_FILE = "tools/dask-worker.yaml"
"""A dask configuration file with :data:`WORKER_PRE_SPAWN_ENVIRON`, for workers a user starts
by hand: ``DASK_CONFIG=tools/dask-worker.yaml dask worker tcp://scheduler:8786``."""


def worker_dask_config() -> dict:
    """The dask configuration the project's clusters are started under."""
    return {"distributed.nanny.pre-spawn-environ": dict(WORKER_PRE_SPAWN_ENVIRON)}


def _mallinfo_mapped_bytes(libc) -> int:
    """Bytes glibc holds in mmap-ed chunks (``mallinfo2().hblkhd``)."""
    import ctypes

    class Mallinfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in (
                "arena",
                "ordblks",
                "smblks",
                "hblks",
                "hblkhd",
                "usmblks",
                "fsmblks",
                "uordblks",
                "fordblks",
                "keepcost",
            )
        ]

    libc.mallinfo2.restype = Mallinfo2
    return int(libc.mallinfo2().hblkhd)


def large_blocks_reused(size: int = 8 << 20) -> bool | None:
    """Whether this process's malloc serves a freed ``size``-byte block again from its heap
    (glibc's dynamic mmap threshold at work) instead of mapping fresh pages for it.

    Probed, not guessed: allocate, free, allocate the same size again and see whether glibc's
    count of mmap-ed bytes grew. ``None`` where the C library is not glibc >= 2.33.
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2  # noqa: B018 - glibc >= 2.33
    except (OSError, AttributeError):
        return None
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.restype, libc.free.argtypes = None, [ctypes.c_void_p]
    libc.free(libc.malloc(size))  # a block of this size freed once: glibc may raise its threshold
    before = _mallinfo_mapped_bytes(libc)
    p = libc.malloc(size)
    mapped = _mallinfo_mapped_bytes(libc) - before >= size
    libc.free(p)
    return not mapped


def allocator_report() -> dict:
    """This process's allocator settings: its pid, the glibc malloc variables in its
    environment, and :func:`large_blocks_reused` (run on dask workers with ``client.run``)."""
    import os

    return {
        "pid": os.getpid(),
        "malloc_environ": {k: os.environ[k] for k in MALLOC_TUNABLES if k in os.environ},
        "large_blocks_reused": large_blocks_reused(),
    }


def check_workers(client) -> dict[str, dict]:
    """:func:`allocator_report` of every worker of a dask ``client``; warns (naming the worker
    and the fix) where a worker maps and unmaps large blocks, as a default nanny's worker does."""
    import warnings

    reports = client.run(allocator_report)
    for address, rep in reports.items():
        if rep["large_blocks_reused"] is False:
            warnings.warn(
                f"dask worker {address} maps and unmaps every large block (malloc variables "
                f"{rep['malloc_environ']}): tensors cost page faults there, candidates run up to "
                f"2-3x slower than in process. Start workers with "
                f"DASK_CONFIG={WORKER_CONFIG_FILE} (or `dask worker --no-nanny`)",
                RuntimeWarning,
                stacklevel=2,
            )
    return reports


def local_cluster(n_workers: int, threads_per_worker: int = 1, **kwargs):
    """A ``dask.distributed.LocalCluster`` of ``n_workers`` processes whose workers allocate as
    a plain process does (:data:`WORKER_PRE_SPAWN_ENVIRON`; restarted workers too, since a
    nanny keeps the environment it was created with). Other keyword arguments go to
    ``LocalCluster`` (defaults: no dashboard, quiet logs)."""
    import logging
    import os

    import dask
    from dask.distributed import LocalCluster

    if not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive integer, got {n_workers!r}")
    kwargs = {"dashboard_address": None, "silence_logs": logging.ERROR, **kwargs}
    # a nanny started under dask's defaults in this process leaves the variable in os.environ,
    # which every later worker would inherit: spawn without it, then put it back
    leaked = os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    try:
        with dask.config.set(worker_dask_config()):
            return LocalCluster(
                n_workers=n_workers,
                threads_per_worker=threads_per_worker,
                processes=True,
                **kwargs,
            )
    finally:
        if leaked is not None:
            os.environ["MALLOC_TRIM_THRESHOLD_"] = leaked
