"""The shared harness: configuration, interleaved timing, statistics, memory, result files.

Timings on a shared 2-core machine are noisy, so no benchmark reports an absolute time alone:

- every candidate is timed **interleaved** with its baseline (round ``i`` runs each of them
  once, in an order that rotates from round to round), after ``warmup`` untimed rounds;
- each time is summarised by its median, quartiles (IQR) and min/max over the ``repeats``;
- a speed-up is the median of the **paired** per-round ratios ``baseline_i / candidate_i``
  (load that changes slowly hits both members of a pair alike), with its quartiles;
- ``torch.set_num_threads`` is fixed for the whole run and written to the params, with the
  load average before and after in the provenance.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from snnlib.book.results import ResultRun, atomic_write_json
from snnlib.paths import results_dir
from snnlib.runtime import device_name, resolve_device, seed_everything

SCALE = "bench"


def default_threads() -> int:
    """Two threads (the project's reference machine), fewer if the machine has fewer cores."""
    return max(1, min(2, os.cpu_count() or 1))


@dataclass
class BenchConfig:
    """How a benchmark runs. ``quick``: tiny sizes and one repeat (tests, the smoke book)."""

    quick: bool = False
    repeats: int | None = None
    warmup: int | None = None
    threads: int = field(default_factory=default_threads)
    seed: int = 0
    device: str = "cpu"
    out_dir: str | Path | None = None
    compile: bool | None = None  # torch.compile variants (None: on unless quick)

    def __post_init__(self):
        if self.compile is None:
            self.compile = not self.quick
        if (
            (self.repeats is not None and self.repeats < 1)
            or (self.warmup is not None and self.warmup < 0)
            or self.threads < 1
        ):
            raise ValueError(f"bad benchmark config {self}")

    def n_repeats(self, full: int = 15) -> int:
        """Timed repeats: as given, else 1 in quick mode, else the benchmark's ``full`` default."""
        return self.repeats if self.repeats is not None else (1 if self.quick else full)

    def n_warmup(self, full: int = 2) -> int:
        """Untimed warm-up rounds: as given, else 0 in quick mode, else ``full``."""
        return self.warmup if self.warmup is not None else (0 if self.quick else full)

    @property
    def torch_device(self) -> torch.device:
        return resolve_device(self.device)

    def pick(self, quick: Any, full: Any) -> Any:
        return quick if self.quick else full

    def to_params(self) -> dict:
        d = asdict(self)
        d.pop("out_dir")
        d["device"] = str(self.torch_device)
        return d


# -- statistics ------------------------------------------------------------------------------
def summary(samples: list[float]) -> dict:
    """Median, quartiles, IQR, min, max and count of a list of numbers."""
    xs = sorted(float(s) for s in samples)
    if not xs:
        return {
            "median": None,
            "q1": None,
            "q3": None,
            "iqr": None,
            "min": None,
            "max": None,
            "n": 0,
        }
    if len(xs) >= 2:
        q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    else:
        q1 = q3 = xs[0]
    return {
        "median": statistics.median(xs),
        "q1": q1,
        "q3": q3,
        "iqr": q3 - q1,
        "min": xs[0],
        "max": xs[-1],
        "n": len(xs),
    }


def paired_ratio(numerator: list[float], denominator: list[float]) -> dict:
    """Summary of the per-round ratios ``numerator[i] / denominator[i]`` (baseline/candidate)."""
    if len(numerator) != len(denominator):
        raise ValueError("paired samples differ in length")
    return summary([n / d for n, d in zip(numerator, denominator) if d > 0])


# -- timing ----------------------------------------------------------------------------------
def synchronize(device: torch.device | str | None = None) -> None:
    """Wait for queued device work (CUDA), so wall-clock time covers it."""
    dev = torch.device(device) if device is not None else None
    if (dev is None or dev.type == "cuda") and torch.cuda.is_available():
        torch.cuda.synchronize(dev if dev is not None and dev.type == "cuda" else None)


def measure(
    candidates: dict[str, Callable[[], Any]],
    repeats: int,
    warmup: int = 0,
    device: torch.device | str | None = None,
) -> dict[str, list[float]]:
    """Wall seconds of each candidate, ``repeats`` times, interleaved and in rotating order.

    ``warmup`` untimed rounds come first (first-call allocations, oneDNN primitive caches,
    lazy compilation). Returns the raw samples per candidate, in round order, so that
    :func:`paired_ratio` can pair round ``i`` of one candidate with round ``i`` of another.
    """
    names = list(candidates)
    for _ in range(warmup):
        for name in names:
            candidates[name]()
    synchronize(device)
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            gc.collect()
            synchronize(device)
            t0 = time.perf_counter()
            candidates[name]()
            synchronize(device)
            samples[name].append(time.perf_counter() - t0)
    return samples


def timing_block(samples: dict[str, list[float]], baseline: str | None = None) -> dict:
    """``{name: summary}`` plus, if ``baseline`` is given, ``speedup`` (baseline / name, paired)."""
    out = {name: summary(s) for name, s in samples.items()}
    if baseline is not None:
        out["speedup_vs_" + baseline] = {
            name: paired_ratio(samples[baseline], s)
            for name, s in samples.items()
            if name != baseline
        }
    return out


# -- profile ---------------------------------------------------------------------------------
PROFILE_CATEGORIES = {
    "convolution": ("convolution", "conv2d", "mkldnn_conv"),
    "batch_norm": ("batch_norm",),
    "neuron (LIF kernels, surrogate)": (
        "_multisteplif",
        "_trianglespike",
        "sj_lif",
        "_surrogatespike",
        "leaky",
        "atan",
        "sigmoid",
        "straightthrough",
    ),
    "elementwise": (
        "aten::mul",
        "aten::add",
        "aten::sub",
        "aten::rsub",
        "aten::gt",
        "aten::abs",
        "aten::clamp",
        "aten::neg",
        "aten::where",
        "aten::zeros",
        "aten::fill_",
        "aten::copy_",
        "aten::to",
        "aten::_to_copy",
        "aten::div",
        "aten::mean",
        "aten::sum",
        "aten::stack",
        "aten::cat",
        "aten::ge",
    ),
}


def profile_breakdown(fn: Callable[[], Any], steps: int = 3) -> dict:
    """Self CPU milliseconds per call of ``fn``, summed by category of operator (torch.profiler).

    Categories: convolution (forward and backward), batch norm, the neuron kernels, other
    elementwise and copy operators, and the rest. Profiling adds overhead: read the shares,
    not the absolute numbers.
    """
    from torch.profiler import ProfilerActivity, profile

    fn()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            fn()
    totals: dict[str, float] = {k: 0.0 for k in PROFILE_CATEGORIES}
    totals["other"] = 0.0
    for ev in prof.key_averages():
        name = ev.key.lower()
        cat = next(
            (c for c, keys in PROFILE_CATEGORIES.items() if any(k in name for k in keys)), "other"
        )
        totals[cat] += ev.self_cpu_time_total / 1e3 / steps
    total = sum(totals.values())
    return {
        "ms_per_call": totals,
        "share": {k: v / total if total else None for k, v in totals.items()},
        "total_ms": total,
    }


# -- memory ----------------------------------------------------------------------------------
class SavedTensorBytes:
    """Bytes that autograd keeps for the backward pass (unique storages), while active.

    Deterministic and device independent: the activation memory of a training step, the part
    that grows with T and with extra modules such as attention.
    """

    def __init__(self):
        self.bytes = 0
        self._seen: set[int] = set()

    def _pack(self, t: torch.Tensor):
        try:
            st = t.untyped_storage()
            key = st.data_ptr()
            if key not in self._seen:
                self._seen.add(key)
                self.bytes += st.nbytes()
        except (RuntimeError, NotImplementedError):
            pass
        return t

    def __enter__(self) -> SavedTensorBytes:
        self._ctx = torch.autograd.graph.saved_tensors_hooks(self._pack, lambda t: t)
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._ctx.__exit__(*exc)


class _RssSampler(threading.Thread):
    def __init__(self, interval: float = 0.0005):
        super().__init__(daemon=True)
        import psutil

        self._proc = psutil.Process()
        self.interval = interval
        self.peak = self.start_rss = self._proc.memory_info().rss
        self._stop_evt = threading.Event()

    def run(self) -> None:
        while not self._stop_evt.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(self.interval)

    def stop(self) -> int:
        self._stop_evt.set()
        self.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)
        return self.peak - self.start_rss


def peak_memory(fn: Callable[[], Any], device: torch.device | str = "cpu") -> dict:
    """Memory of one call of ``fn``: bytes saved for backward, and the peak above the start.

    The peak is ``torch.cuda.max_memory_allocated`` on CUDA (exact); on the CPU, where torch
    keeps no allocator statistics (and ``tracemalloc`` does not see tensor memory), it is
    the peak resident set size sampled every 0.5 ms minus the size before the call, which
    misses memory the C allocator reuses without returning it to the system: a lower bound.
    """
    dev = torch.device(device)
    gc.collect()
    if dev.type == "cuda":
        synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        before = torch.cuda.memory_allocated(dev)
        with SavedTensorBytes() as saved:
            fn()
        synchronize(dev)
        peak, method = torch.cuda.max_memory_allocated(dev) - before, "cuda_max_memory_allocated"
    else:
        try:
            sampler = _RssSampler()
        except ImportError:  # psutil is a dask dependency, but be safe
            sampler = None
        if sampler is not None:
            sampler.start()
        with SavedTensorBytes() as saved:
            fn()
        peak = sampler.stop() if sampler is not None else None
        method = "rss_sampling" if sampler is not None else "unavailable"
    return {
        "saved_for_backward_mib": saved.bytes / 2**20,
        "peak_mib": None if peak is None else max(peak, 0) / 2**20,
        "peak_method": method,
    }


PROFILER_PEAK_METHOD = (
    "torch.profiler(profile_memory=True): the peak over one call of the bytes of live tensors "
    "allocated through torch's CPU allocator, above those live at the call's start (every "
    "allocation and free event in time order, summed); memory that libraries allocate "
    "outside torch's allocator (oneDNN scratch space, the Python heap) is not counted"
)


def profiled_peak_bytes(fn: Callable[[], Any]) -> dict:
    """Peak live tensor bytes of one call of ``fn`` on the CPU, from the profiler's memory events.

    ``torch.profiler`` with ``profile_memory=True`` records one ``[memory]`` event per
    allocation (positive bytes) and per free (negative bytes) made through torch's allocator.
    Sorted by time and summed, they give the live bytes above the start at every instant; the
    maximum is the peak (exact for tensor memory, unlike sampling the resident set, which misses
    memory the C allocator reuses; see :data:`PROFILER_PEAK_METHOD`). Also returns the bytes
    allocated in all, and the live bytes left at the end (what the call keeps, e.g. gradients).
    The profiler records no free event for a block allocated before it started (torch warns
    so), e.g. last step's gradients released by ``zero_grad(set_to_none=True)``: the peak then
    counts them as still live, an over-estimate by at most the bytes live at the start.
    """
    from torch.profiler import ProfilerActivity, profile

    gc.collect()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted(
        (e.start_ns(), e.nbytes())
        for e in prof.profiler.kineto_results.events()
        if e.name() == "[memory]" and str(e.device_type()).endswith("CPU")
    )
    live = peak = allocated = 0
    for _, nbytes in events:
        live += nbytes
        peak = max(peak, live)
        allocated += max(nbytes, 0)
    return {
        "peak_mib": peak / 2**20,
        "allocated_mib": allocated / 2**20,
        "retained_mib": live / 2**20,
        "events": len(events),
        "method": "torch_profiler_memory_events",
    }


# -- running and writing -----------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _loadavg() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def bench_path(name: str, out_dir: str | Path | None = None) -> Path:
    """``<results>/bench__<name>.json``."""
    return Path(out_dir or results_dir()) / f"bench__{name}.json"


def run_benchmark(module, cfg: BenchConfig) -> Path:
    """Run one benchmark module under ``cfg`` and write its result file; returns the path.

    The module's ``run(cfg)`` returns ``{"metrics": ..., "params": ..., "artifacts": ...}``
    (only ``metrics`` required). Params always hold scale="bench", dataset, seed, device, the
    thread count, repeats and warm-up; provenance is :class:`snnlib.book.results.ResultRun`'s plus
    the CPU model, core count, thread count and load averages.
    """
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    dev = cfg.torch_device
    params = {
        "scale": SCALE,
        "dataset": getattr(module, "DATASET", "none"),
        "seed": cfg.seed,
        "device": str(dev),
        "benchmark": module.NAME,
        **cfg.to_params(),
    }
    run = ResultRun(f"bench__{module.NAME}", params, device_name=device_name(dev))
    load_before = _loadavg()
    out = module.run(cfg)
    params.update(out.get("params", {}))
    provenance = run.provenance()
    provenance.update(
        {
            "cpu": _cpu_model(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "platform": platform.platform(),
            "loadavg_before": load_before,
            "loadavg_after": _loadavg(),
        }
    )
    data = {"params": params, "provenance": provenance, "metrics": out["metrics"]}
    if out.get("artifacts"):
        data["artifacts"] = out["artifacts"]
    return atomic_write_json(bench_path(module.NAME, cfg.out_dir), data)


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"
