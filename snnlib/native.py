r"""The LIF time loop as a small C kernel, compiled once per machine and loaded with ctypes.

Why: on the CPU the eager ``fused`` backend of :mod:`snnlib.kernels` runs each time step as
five to seven separate torch operators over the whole layer (``mul``, ``neg``, ``add``,
``gt`` into a float buffer, ...), so every step reads and writes the ``[B, ...]`` state
several times, and ``torch.gt`` into a float ``out=`` tensor takes a slow type-converting
path. On the CIFAR-10 shape that was about a quarter of a training step (profile in
``benchmarks/b1_forward``). This kernel walks each neuron through its T steps in one pass
(read I, write H and S; backward: read H, S and dL/dS, write dL/dI), with the loop over
neurons vectorised by the compiler.

Bit-identical to ``fused``: the C code performs the same IEEE single-precision operations in
the same order as the torch operators of :meth:`snnlib.kernels.MultiStepLIF._forward_eager`
and of its triangle backward (``(beta * H) * (1 - S) + I``; ``|H - theta| * (-a^2/4) + a/2``
clamped at 0, times dL/dS, plus the carry; scalars rounded to float first, as torch does
with a Python scalar and a float32 tensor). It is compiled with ``-ffp-contract=off`` and
without ``-ffast-math``, so the compiler may vectorise but never fuse a multiply and an add
or reorder them; vector and scalar float arithmetic round alike. No reduction happens in
the kernel, so results do not depend on the number of threads or on the chunking. Tests
assert ``torch.equal`` with the fused backend (``tests/test_native.py``).

Build and cache: the source is compiled by ``$CC`` (default ``cc``) into
``$SNNLIB_KERNEL_CACHE`` (default ``~/.cache/snnlib``), in a file named by a hash of the
source, the flags and the CPU (so a cache shared between different machines never loads a
binary built for another instruction set). The first process pays about a second; later
ones only ``dlopen``. Concurrent builders (Dask workers) write to private temporary names
and rename atomically. Where no compiler exists or the build fails, :func:`library`
returns ``None`` and the caller silently uses the eager path.

Threads: the kernel itself is single-threaded; :func:`lif_forward` and
:func:`lif_backward` split the neurons into contiguous chunks over
``torch.get_num_threads()`` Python threads (ctypes releases the GIL during the call).

Example:
    >>> import torch
    >>> from snnlib import native
    >>> x = torch.tensor([[0.6], [0.6], [0.6], [1.2]])                   # [T, N]
    >>> out = native.lif_forward(x, 0.5, 1.0, "zero")                    # None: no compiler
    >>> out is None or out[0].flatten().tolist() == [0.0, 0.0, 1.0, 1.0]
    True
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

RESET_CODES = {"zero": 0, "subtract": 1, "none": 2}

SOURCE = r"""
#include <stdint.h>
#include <math.h>

/* x, h, s: [T, n] rows of stride ld (a chunk of the neurons); threshold and beta as float. */
void lif_forward_f32(const float *x, float *h, float *s, int64_t T, int64_t n, int64_t ld,
                     float beta, float th, int reset) {
    for (int64_t t = 0; t < T; ++t) {
        const float *xt = x + t * ld;
        float *ht = h + t * ld, *st = s + t * ld;
        if (t == 0) {
            for (int64_t i = 0; i < n; ++i) { ht[i] = xt[i]; st[i] = ht[i] > th ? 1.0f : 0.0f; }
            continue;
        }
        const float *hp = h + (t - 1) * ld, *sp = s + (t - 1) * ld;
        if (reset == 0) {            /* (beta * H) * (1 - S) + I */
            for (int64_t i = 0; i < n; ++i) {
                float keep = -sp[i] + 1.0f;
                float v = beta * hp[i];
                v = v * keep;
                v = v + xt[i];
                ht[i] = v;
                st[i] = v > th ? 1.0f : 0.0f;
            }
        } else if (reset == 1) {     /* beta * H + I - theta * S */
            for (int64_t i = 0; i < n; ++i) {
                float v = beta * hp[i];
                v = v + xt[i];
                v = v - th * sp[i];  /* exact product: S is 0 or 1 */
                ht[i] = v;
                st[i] = v > th ? 1.0f : 0.0f;
            }
        } else {                     /* beta * H + I */
            for (int64_t i = 0; i < n; ++i) {
                float v = beta * hp[i];
                v = v + xt[i];
                ht[i] = v;
                st[i] = v > th ? 1.0f : 0.0f;
            }
        }
    }
}

/* Triangle-surrogate adjoint, reverse time; carry: scratch of n floats. */
void lif_backward_f32(const float *gs, const float *h, const float *s, float *g, float *carry,
                      int64_t T, int64_t n, int64_t ld, float beta, float th, float neg_c,
                      float half_a, int zero_reset) {
    for (int64_t t = T - 1; t >= 0; --t) {
        const float *ht = h + t * ld, *gst = gs + t * ld;
        float *gt = g + t * ld;
        const float *sp = t > 0 ? s + (t - 1) * ld : 0;
        for (int64_t i = 0; i < n; ++i) {
            float d = ht[i] - th;
            d = fabsf(d);
            d = d * neg_c;
            d = d + half_a;
            d = d < 0.0f ? 0.0f : d;
            d = d * gst[i];
            if (t < T - 1) d = d + carry[i];
            gt[i] = d;
            if (t > 0) {
                float c = d * beta;
                if (zero_reset) { float keep = -sp[i] + 1.0f; c = c * keep; }
                carry[i] = c;
            }
        }
    }
}
"""

_FLAGS = ["-O3", "-ffp-contract=off", "-fno-fast-math", "-fPIC", "-shared", "-march=native"]
_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_tried = False
_pool: ThreadPoolExecutor | None = None
MIN_CHUNK = 1 << 16  # neurons per thread below which splitting does not pay


def cache_dir() -> Path:
    """``$SNNLIB_KERNEL_CACHE`` or ``~/.cache/snnlib``."""
    return Path(os.environ.get("SNNLIB_KERNEL_CACHE", Path.home() / ".cache" / "snnlib"))


def _cpu_signature() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        keep = [ln for ln in lines if ln.startswith(("model name", "flags"))][:2]
        return "\n".join(keep)
    except OSError:
        return platform.processor() or platform.machine()


def library_path() -> Path:
    """Where this machine's build of the kernel lives (named by source, flags and CPU)."""
    compiler = os.environ.get("CC", "cc")
    key = "\n".join([SOURCE, " ".join(_FLAGS), compiler, platform.machine(), _cpu_signature()])
    return cache_dir() / f"lif_kernel_{hashlib.sha256(key.encode()).hexdigest()[:16]}.so"


def _build(target: Path) -> None:
    compiler = os.environ.get("CC", "cc")
    if shutil.which(compiler) is None:
        raise OSError(f"no C compiler {compiler!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        src = Path(tmp) / "lif_kernel.c"
        src.write_text(SOURCE)
        out = Path(tmp) / target.name
        flags = list(_FLAGS)
        for attempt in range(2):  # -march=native is unknown to some compilers: retry without
            proc = subprocess.run(
                [compiler, *flags, str(src), "-o", str(out), "-lm"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            if proc.returncode == 0:
                break
            if attempt == 0:
                flags.remove("-march=native")
        else:
            raise OSError(f"C kernel build failed: {proc.stderr[-500:]}")
        os.replace(out, target)  # atomic: concurrent builders never load a partial file


def library() -> ctypes.CDLL | None:
    """The loaded kernel library, built on first use; ``None`` where it cannot be built.

    ``$SNNLIB_NATIVE=0`` disables it (every caller then takes the eager path).
    """
    global _lib, _tried
    if _tried:
        return _lib
    with _lock:
        if _tried:
            return _lib
        try:
            if os.environ.get("SNNLIB_NATIVE", "1") == "0":
                raise OSError("disabled by SNNLIB_NATIVE=0")
            path = library_path()
            if not path.exists():
                _build(path)
            lib = ctypes.CDLL(str(path))
            i64, f32, ptr = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
            lib.lif_forward_f32.argtypes = [ptr, ptr, ptr, i64, i64, i64, f32, f32, ctypes.c_int]
            lib.lif_forward_f32.restype = None
            lib.lif_backward_f32.argtypes = [ptr] * 5 + [i64, i64, i64] + [f32] * 4 + [ctypes.c_int]
            lib.lif_backward_f32.restype = None
            _lib = lib
        except (OSError, subprocess.SubprocessError):
            _lib = None
        _tried = True
    return _lib


def available() -> bool:
    """Whether the C kernel is usable on this machine (builds it if needed)."""
    return library() is not None


def _chunks(n: int) -> list[tuple[int, int]]:
    k = max(1, min(torch.get_num_threads(), n // MIN_CHUNK))
    step = -(-n // k)
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def _run(calls) -> None:
    global _pool
    if len(calls) == 1:
        calls[0]()
        return
    if _pool is None or _pool._max_workers < len(calls):
        _pool = ThreadPoolExecutor(max_workers=len(calls))
    for f in [_pool.submit(c) for c in calls]:
        f.result()


def _ok(*tensors: torch.Tensor) -> bool:
    return all(t.device.type == "cpu" and t.dtype == torch.float32 for t in tensors)


def lif_forward(x: torch.Tensor, beta: float, threshold: float, reset: str):
    """``(spikes, H)``, both ``[T, N]`` float32, from input currents ``x`` ``[T, N]``.

    Returns ``None`` when the kernel is unavailable or ``x`` is not a float32 CPU tensor.
    """
    lib = library()
    if lib is None or not _ok(x) or x.dim() != 2:
        return None
    x = x.contiguous()
    T, n = x.shape
    h = torch.empty_like(x)
    s = torch.empty_like(x)
    if n == 0 or T == 0:
        return s, h
    b, th, code = float(beta), float(threshold), RESET_CODES[reset]
    xp, hp, sp = x.data_ptr(), h.data_ptr(), s.data_ptr()

    def call(lo, hi):
        return lambda: lib.lif_forward_f32(
            xp + 4 * lo, hp + 4 * lo, sp + 4 * lo, T, hi - lo, n, b, th, code
        )

    _run([call(lo, hi) for lo, hi in _chunks(n)])
    return s, h


def lif_backward(
    grad_s: torch.Tensor,
    h: torch.Tensor,
    s: torch.Tensor,
    beta: float,
    threshold: float,
    alpha: float,
    reset: str,
):
    """dL/dI ``[T, N]`` for the triangle surrogate (``alpha``); ``None`` if unavailable."""
    lib = library()
    if lib is None or not _ok(grad_s, h, s):
        return None
    grad_s, h, s = grad_s.contiguous(), h.contiguous(), s.contiguous()
    T, n = h.shape
    g = torch.empty_like(h)
    if n == 0 or T == 0:
        return g
    carry = torch.empty(n, dtype=torch.float32)
    b, th = float(beta), float(threshold)
    neg_c, half_a, zero = -(alpha * alpha / 4), alpha / 2, int(reset == "zero")
    ptrs = [t.data_ptr() for t in (grad_s, h, s, g, carry)]

    def call(lo, hi):
        off = [p + 4 * lo for p in ptrs[:4]] + [ptrs[4] + 4 * lo]
        return lambda: lib.lif_backward_f32(*off, T, hi - lo, n, b, th, neg_c, half_a, zero)

    _run([call(lo, hi) for lo, hi in _chunks(n)])
    return g
