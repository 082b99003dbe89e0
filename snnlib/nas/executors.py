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
