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
