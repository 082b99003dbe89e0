r"""The autograd kernels behind :class:`snnlib.neurons.LIF`: the surrogate spike function
and the multi-step membrane update, with their backends.

``LIF.forward`` runs all T steps as one autograd node (:class:`MultiStepLIF`), with one of
four backends:

- ``"native"`` (default): the ``fused`` backend's loops as one C kernel per direction
  (:mod:`snnlib.native`: compiled once per machine by the system C compiler, cached on disk,
  loaded with ctypes), bit-identical to ``fused``; used for float32 CPU tensors with the
  triangle surrogate (or any surrogate without autograd), and silently replaced by
  ``fused`` elsewhere (no compiler, CUDA, other dtypes or surrogates);
- ``"fused"``: the step loop runs in place into preallocated ``[T, ...]`` buffers
  without recording a graph, and the backward pass runs the adjoint recurrence by hand;
- ``"compiled"``: the same two loops as pure functions (:func:`steps_forward`,
  :func:`steps_backward`) compiled by ``torch.compile`` into one elementwise kernel each
  (needs a C++ compiler on CPU, Triton on CUDA; the first call per (T, dtype, reset)
  compiles, which takes seconds; falls back to ``"fused"`` with a warning when compilation
  fails, and for surrogates other than ``triangle``);
- ``"stepwise"``: the plain per-step autograd graph of :meth:`LIF.step` (the reference).

All give identical spikes, input gradients equal to rounding (bit-identical for the
native and fused backends), and the same beta gradient up to summation order.
``benchmarks/b1_forward`` measures them against a naive snnTorch loop and SpikingJelly.
The neuron model itself (its equations and configuration) lives in :mod:`snnlib.neurons`;
this module only knows tensors. These kernels implement the built-in LIF dynamics and
nothing else: a neuron model with dynamics of its own (a subclass of ``LIF`` that overrides
``_advance`` or ``initial_state``) never runs in them, whatever the backend; its ``forward``
loops its own step (see :class:`snnlib.neurons.LIF`).

Example:
    >>> import torch
    >>> from snnlib.neurons import LIF
    >>> x = torch.rand(6, 2, 5) * 1.5            # T=6, batch 2, 5 neurons
    >>> fused = LIF()(x)
    >>> with lif_backend("stepwise"):            # the plain autograd graph, same spikes
    ...     stepwise = LIF()(x)
    >>> torch.equal(fused, stepwise)
    True
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from .validation import ConfigError, check_choice


class TriangleSpike(torch.autograd.Function):
    """Heaviside forward; piecewise-linear (triangle) surrogate backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float) -> torch.Tensor:  # noqa: D401
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad_out * triangle_grad(x, ctx.alpha), None


def triangle_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """The triangle surrogate's derivative at ``x``: ``max(0, alpha/2 - alpha^2/4 |x|)``."""
    return (alpha / 2 - (alpha * alpha / 4) * x.abs()).clamp(min=0)


def triangle(alpha: float = 2.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """Piecewise-linear surrogate: dS/dx = max(0, alpha/2 - alpha^2/4 |x|) (QGate, alpha=2).

    Example:
        >>> import torch
        >>> x = torch.tensor([-1.0, 0.0, 0.5], requires_grad=True)
        >>> spikes = triangle(alpha=2.0)(x)          # Heaviside forward
        >>> spikes.tolist()
        [0.0, 0.0, 1.0]
        >>> spikes.sum().backward()
        >>> x.grad.tolist()                          # triangle backward
        [0.0, 1.0, 0.5]
    """

    def fn(x: torch.Tensor) -> torch.Tensor:
        return TriangleSpike.apply(x, alpha)

    fn.triangle_alpha = alpha  # lets the fused multi-step LIF use the closed-form gradient
    return fn


LIF_BACKENDS = ("native", "fused", "compiled", "stepwise")
_default_backend = os.environ.get("SNNLIB_LIF_BACKEND", "native")
if _default_backend not in LIF_BACKENDS:
    raise ConfigError(f"SNNLIB_LIF_BACKEND={_default_backend!r}; choose one of {LIF_BACKENDS}")


def set_lif_backend(name: str) -> str:
    """Set the default backend of every :class:`LIF` (``native``, ``fused``, ``compiled`` or
    ``stepwise``);
    returns the previous one. ``$SNNLIB_LIF_BACKEND`` sets it at import."""
    global _default_backend
    check_choice("lif backend", name, LIF_BACKENDS)
    previous, _default_backend = _default_backend, name
    return previous


def get_lif_backend() -> str:
    """The default LIF backend."""
    return _default_backend


@contextmanager
def lif_backend(name: str) -> Iterator[None]:
    """Context manager: run the enclosed code with another default LIF backend."""
    previous = set_lif_backend(name)
    try:
        yield
    finally:
        set_lif_backend(previous)


def steps_forward(x: torch.Tensor, beta: torch.Tensor, threshold: float, reset: str):
    """Pure-function forward loop (the one ``torch.compile`` fuses): ``(spikes, H)``."""
    hs, ss = [], []
    for t in range(x.shape[0]):
        if t == 0:
            h = x[0]
        elif reset == "subtract":
            h = beta * hs[-1] + x[t] - ss[-1] * threshold
        elif reset == "zero":
            h = beta * hs[-1] * (1.0 - ss[-1]) + x[t]
        else:
            h = beta * hs[-1] + x[t]
        hs.append(h)
        ss.append(((h - threshold) > 0).to(x.dtype))
    return torch.stack(ss), torch.stack(hs)


def steps_backward(
    grad_s, h_all, s_all, beta, threshold: float, alpha: float, reset: str, need_beta: bool
):
    """Pure-function adjoint loop for the triangle surrogate: ``(grad_x, grad_beta)``."""
    g = grad_s * triangle_grad(h_all - threshold, alpha)
    out = [g[0]] * h_all.shape[0]
    carry = None
    for t in range(h_all.shape[0] - 1, -1, -1):
        cur = g[t] if carry is None else g[t] + carry
        out[t] = cur
        if t > 0:
            carry = cur * beta
            if reset == "zero":
                carry = carry * (1.0 - s_all[t - 1])
    g_all = torch.stack(out)
    grad_beta = None
    if need_beta:
        prev = h_all[:-1] if reset != "zero" else h_all[:-1] * (1.0 - s_all[:-1])
        grad_beta = (g_all[1:] * prev).sum()
    return g_all, grad_beta


_compiled_fns: dict[str, Callable] = {}
_compile_failed = False


def _compiled(name: str) -> Callable | None:
    """``torch.compile``-d ``steps_forward`` / ``steps_backward`` (None once compiling failed)."""
    if _compile_failed:
        return None
    if name not in _compiled_fns:
        fn = {"forward": steps_forward, "backward": steps_backward}[name]
        _compiled_fns[name] = torch.compile(fn, fullgraph=True, dynamic=None)
    return _compiled_fns[name]


def _call_compiled(name: str, *args):
    """Run a compiled kernel on ``[T, N]`` views (N marked dynamic: one compile serves every
    layer size). Returns None (and warns once) if compilation is impossible here."""
    global _compile_failed
    fn = _compiled(name)
    if fn is None:
        return None
    try:
        for a in args:
            if isinstance(a, torch.Tensor) and a.dim() == 2:
                torch._dynamo.maybe_mark_dynamic(a, 1)
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - no compiler, unsupported platform, ...
        _compile_failed = True
        warnings.warn(
            f"LIF backend 'compiled' unavailable ({type(exc).__name__}: {exc}); using 'fused'",
            RuntimeWarning,
            stacklevel=3,
        )
        return None


def memory_order(x: torch.Tensor) -> list[int]:
    """A permutation of ``x``'s dims, time first, under which ``x`` is contiguous if it is
    dense in any order (``[T, B, C, H, W]`` in channels-last order gives ``[0, 1, 3, 4, 2]``);
    the identity otherwise. The native kernel walks the storage in that order, so spikes
    keep the input's layout and no copy is made between layouts."""
    rest = sorted(range(1, x.dim()), key=lambda d: -x.stride(d))  # stable: ties keep order
    perm = [0, *rest]
    if x.dim() and x.permute(perm).is_contiguous():
        return perm
    return list(range(x.dim()))


class MultiStepLIF(torch.autograd.Function):
    r"""All T membrane steps of a LIF layer as one autograd node (backends ``fused``/``compiled``).

    The forward pass runs the same floating-point operations as :meth:`LIF._advance`, step by
    step, without recording a graph (so spikes are identical to the step-wise path and to
    snnTorch's ``Leaky``). The backward pass runs the adjoint recurrence in reverse time:

    .. math::

        g_H[t] = g_S[t]\,\sigma'(H[t] - \vartheta) + \beta\,k[t]\,g_H[t+1],
        \qquad g_I[t] = g_H[t], \qquad g_\beta = \sum_{t \ge 1} g_H[t]\,k[t-1]\,H[t-1]

    with :math:`k[t] = 1 - S[t]` for the hard reset and 1 otherwise (the reset uses the
    detached previous spike, so it carries no gradient). The surrogate term is computed for
    all T steps at once, in closed form for ``triangle`` and through the surrogate's own
    autograd function otherwise. Compared with the autograd graph of the step loop this saves
    about a dozen graph nodes per step and, above all, the ``[T, ...]``-sized zero tensor
    that the backward of every ``x[t]`` indexing allocates (quadratic in T). Only H and the
    spikes are kept for the backward pass. Double backward through this node treats the
    surrogate derivative as constant (use the ``stepwise`` backend for higher derivatives).
    """

    @staticmethod
    def forward(ctx, x, beta, threshold, reset, spike_fn, backend="fused"):
        alpha = getattr(spike_fn, "triangle_alpha", None)
        ctx.compiled = ctx.native = False
        if backend == "native" and alpha is not None:
            from . import native

            perm = memory_order(x)
            xp = x.permute(perm)
            out = native.lif_forward(xp.reshape(x.shape[0], -1), beta, threshold, reset)
            if out is not None:
                inv = [perm.index(d) for d in range(x.dim())]
                s_all, h_all = (o.view(xp.shape).permute(inv) for o in out)
                ctx.native, ctx.perm = True, perm
        if backend == "compiled" and alpha is not None:
            out = _call_compiled("forward", x.reshape(x.shape[0], -1), beta, threshold, reset)
            if out is not None:
                s_all, h_all = (o.view(x.shape) for o in out)
                ctx.compiled = True
        if not (ctx.compiled or ctx.native):
            s_all, h_all = MultiStepLIF._forward_eager(x, beta, threshold, reset, spike_fn, alpha)
        ctx.save_for_backward(h_all, s_all, beta)
        ctx.threshold, ctx.reset, ctx.spike_fn, ctx.alpha = threshold, reset, spike_fn, alpha
        return s_all

    @staticmethod
    def _forward_eager(x, beta, threshold, reset, spike_fn, alpha):
        h_all = torch.empty_like(x)  # x's layout (channels-last stays channels-last)
        # triangle in float32/64: S = [H > theta] equals [H - theta > 0] bit for bit (the
        # scalar is cast to the tensor's dtype in both), one pass instead of three
        direct = alpha is not None and x.dtype in (torch.float32, torch.float64)
        s_all = torch.empty_like(h_all) if direct else None
        keep = None
        for t in range(x.shape[0]):
            h = h_all[t]
            if t == 0:
                h.copy_(x[0])  # from rest: beta * 0 + I - 0 * theta == I
            else:
                s_prev = s_all[t - 1]
                torch.mul(beta, h_all[t - 1], out=h)
                if reset == "zero":
                    keep = torch.neg(s_prev, out=keep if keep is not None else None).add_(
                        1.0
                    )  # 1 - S
                    h.mul_(keep)
                h.add_(x[t])
                if reset == "subtract":
                    if s_prev.dtype == h.dtype:  # s * theta is exact: s is 0 or 1
                        h.sub_(s_prev, alpha=threshold)
                    else:  # snnTorch surrogates return float32 spikes
                        h.sub_(s_prev * threshold)
            if direct:
                torch.gt(h, threshold, out=s_all[t])
            else:
                s = spike_fn(h - threshold)
                if s_all is None:  # spikes in the input's dtype (snnTorch's are float32)
                    s_all = torch.empty(
                        (x.shape[0],) + tuple(s.shape), dtype=h.dtype, device=s.device
                    )
                s_all[t] = s
        return s_all, h_all

    @staticmethod
    def backward(ctx, grad_s):
        h_all, s_all, beta = ctx.saved_tensors
        need_beta = ctx.needs_input_grad[1]
        b = beta.detach()
        T = h_all.shape[0]
        zero_reset = ctx.reset == "zero"
        if ctx.native:
            from . import native

            perm, flat = ctx.perm, (T, -1)
            hp = h_all.permute(perm)
            g = native.lif_backward(
                grad_s.permute(perm).reshape(flat),
                hp.reshape(flat),
                s_all.permute(perm).reshape(flat),
                b,
                ctx.threshold,
                ctx.alpha,
                ctx.reset,
            )
            if g is not None:
                g = g.view(hp.shape).permute([perm.index(d) for d in range(h_all.dim())])
                grad_beta = None
                if need_beta:
                    prev = h_all[:-1] if not zero_reset else h_all[:-1] * (1.0 - s_all[:-1])
                    grad_beta = (g[1:] * prev).sum().reshape(beta.shape).to(beta.dtype)
                return g, grad_beta, None, None, None, None
        if ctx.compiled:
            out = _call_compiled(
                "backward",
                grad_s.reshape(h_all.shape[0], -1).to(h_all.dtype),
                h_all.view(h_all.shape[0], -1),
                s_all.view(s_all.shape[0], -1),
                b,
                ctx.threshold,
                ctx.alpha,
                ctx.reset,
                need_beta,
            )
            if out is not None:
                g, grad_beta = out
                if grad_beta is not None:
                    grad_beta = grad_beta.reshape(beta.shape).to(beta.dtype)
                return g.view(h_all.shape), grad_beta, None, None, None, None
        carry = torch.empty_like(h_all[0]) if T > 1 else None
        keep = torch.empty_like(s_all[0]) if zero_reset and T > 1 else None
        if ctx.alpha is not None:
            # step by step, in place, in reverse time: the same float operations as the graph
            # of the step loop (a/2 - c|d| is computed as (-c)|d| + a/2, which rounds alike)
            g = torch.empty_like(h_all)
            a = ctx.alpha
            for t in range(T - 1, -1, -1):
                gt = torch.sub(h_all[t], ctx.threshold, out=g[t])
                gt.abs_().mul_(-(a * a / 4)).add_(a / 2).clamp_(min=0).mul_(grad_s[t])
                if t < T - 1:
                    gt.add_(carry)
                if t > 0:
                    torch.mul(gt, b, out=carry)
                    if zero_reset:
                        carry.mul_(torch.neg(s_all[t - 1], out=keep).add_(1.0))
        else:  # any elementwise surrogate: its own backward, all time steps at once
            with torch.enable_grad():
                d = (h_all - ctx.threshold).requires_grad_()
                (g,) = torch.autograd.grad(ctx.spike_fn(d), d, grad_s)
            g = g.to(
                h_all.dtype, memory_format=torch.contiguous_format, copy=True
            )  # owned, written in place
            for t in range(T - 1, 0, -1):
                torch.mul(g[t], b, out=carry)
                if zero_reset:
                    carry.mul_(torch.neg(s_all[t - 1], out=keep).add_(1.0))
                g[t - 1].add_(carry)
        grad_beta = None
        if need_beta:
            prev = h_all[:-1] if not zero_reset else h_all[:-1] * (1.0 - s_all[:-1])
            grad_beta = (g[1:] * prev).sum().reshape(beta.shape).to(beta.dtype)
        return g, grad_beta, None, None, None, None
