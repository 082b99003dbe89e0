"""snnlib.nas.executors: chunked evaluation gives exactly the per-candidate results."""

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
