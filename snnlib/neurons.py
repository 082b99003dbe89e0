r"""Leaky integrate-and-fire neurons, multi-step over time, with surrogate gradients.

The membrane update follows snnTorch's ``Leaky`` neuron exactly (so a naive snnTorch
step loop and this module give identical spikes; see ``benchmarks/b1``):

.. math::

    H[t] = \begin{cases}
      \beta H[t-1] + I[t] - \vartheta S[t-1]      & \text{reset = "subtract"} \\
      \beta H[t-1]\,(1 - S[t-1]) + I[t]           & \text{reset = "zero"} \\
      \beta H[t-1] + I[t]                         & \text{reset = "none"}
    \end{cases}
    \qquad S[t] = \Theta(H[t] - \vartheta)

with :math:`\beta = 1 - 1/\tau` when a time constant :math:`\tau` is given (forward-Euler
discretisation, the decay MSE-NAS's authors use with :math:`\tau = 2`). The reset uses the
previous step's spike, detached from the graph, exactly as snnTorch's default
(``reset_delay=True``). :math:`\Theta` is the Heaviside step in the forward
pass; its gradient is replaced by a surrogate (snnTorch's functions, or the piecewise-linear
"triangle" that MSE-NAS's code calls QGate).

The state is created afresh at every ``forward``: a module never carries membrane potential
from one batch to the next, so no global reset is needed.

Example:
    >>> import torch
    >>> lif = LIF(NeuronConfig(threshold=1.0, tau=2.0, reset="subtract"))
    >>> x = torch.full((4, 1, 3), 0.9)          # T=4, batch 1, 3 neurons
    >>> lif(x)[:, 0, 0].tolist()          # H = 0.9, 1.35 (spike), 0.575, 1.1875 (spike)
    [0.0, 1.0, 0.0, 1.0]
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn

from .validation import ConfigError, check_choice, check_range

RESETS = ("subtract", "zero", "none")


class _TriangleSpike(torch.autograd.Function):
    """Heaviside forward; piecewise-linear (triangle) surrogate backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float) -> torch.Tensor:  # noqa: D401
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad_out * _triangle_grad(x, ctx.alpha), None


def _triangle_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:
    return (alpha / 2 - (alpha * alpha / 4) * x.abs()).clamp(min=0)


def triangle(alpha: float = 2.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """Piecewise-linear surrogate: dS/dx = max(0, alpha/2 - alpha^2/4 |x|) (QGate, alpha=2)."""

    def fn(x: torch.Tensor) -> torch.Tensor:
        return _TriangleSpike.apply(x, alpha)

    fn.triangle_alpha = alpha  # lets the fused multi-step LIF use the closed-form gradient
    return fn


def _snntorch_surrogate(name: str, **kwargs) -> Callable[[torch.Tensor], torch.Tensor]:
    from snntorch import surrogate as sg

    return getattr(sg, name)(**kwargs)


SURROGATES: dict[str, Callable[..., Callable[[torch.Tensor], torch.Tensor]]] = {
    "triangle": triangle,
    "atan": lambda **kw: _snntorch_surrogate("atan", **kw),
    "fast_sigmoid": lambda **kw: _snntorch_surrogate("fast_sigmoid", **kw),
    "sigmoid": lambda **kw: _snntorch_surrogate("sigmoid", **kw),
    "straight_through": lambda **kw: _snntorch_surrogate("straight_through_estimator", **kw),
}


# -- multi-step LIF kernels ---------------------------------------------------------------
#
# ``LIF.forward`` runs all T steps as one autograd node, with one of three backends:
#
# - ``"fused"`` (default): the step loop runs in place into preallocated ``[T, ...]`` buffers
#   without recording a graph, and the backward pass runs the adjoint recurrence by hand;
# - ``"compiled"``: the same two loops as pure functions compiled by ``torch.compile`` into
#   one elementwise kernel each (needs a C++ compiler on CPU, Triton on CUDA; the first call
#   per (T, dtype, reset) compiles, which takes seconds; falls back to ``"fused"`` with a
#   warning when compilation fails, and for surrogates other than ``triangle``);
# - ``"stepwise"``: the plain per-step autograd graph of :meth:`LIF.step` (the reference).
#
# All three give identical spikes, input gradients equal to rounding (bit-identical for the
# fused backend), and the same beta gradient up to summation order. ``benchmarks/b1_forward``
# measures them against a naive snnTorch loop.

LIF_BACKENDS = ("fused", "compiled", "stepwise")
_default_backend = os.environ.get("SNNLIB_LIF_BACKEND", "fused")
if _default_backend not in LIF_BACKENDS:
    raise ConfigError(f"SNNLIB_LIF_BACKEND={_default_backend!r}; choose one of {LIF_BACKENDS}")


def set_lif_backend(name: str) -> str:
    """Set the default backend of every :class:`LIF` (``fused``, ``compiled`` or ``stepwise``);
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


def _steps_forward(x: torch.Tensor, beta: torch.Tensor, threshold: float, reset: str):
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


def _steps_backward(
    grad_s, h_all, s_all, beta, threshold: float, alpha: float, reset: str, need_beta: bool
):
    """Pure-function adjoint loop for the triangle surrogate: ``(grad_x, grad_beta)``."""
    g = grad_s * _triangle_grad(h_all - threshold, alpha)
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
    """``torch.compile``-d ``_steps_forward`` / ``_steps_backward`` (None once compiling failed)."""
    if _compile_failed:
        return None
    if name not in _compiled_fns:
        fn = {"forward": _steps_forward, "backward": _steps_backward}[name]
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


class _MultiStepLIF(torch.autograd.Function):
    """All T membrane steps of a LIF layer as one autograd node (backends ``fused``/``compiled``).

    The forward pass runs the same floating-point operations as :meth:`LIF._advance`, step by
    step, without recording a graph (so spikes are identical to the step-wise path and to
    snnTorch's ``Leaky``). The backward pass runs the adjoint recurrence in reverse time:

    .. math::

        g_H[t] = g_S[t]\\,\\sigma'(H[t] - \vartheta) + \beta\\,k[t]\\,g_H[t+1],
        \\qquad g_I[t] = g_H[t], \\qquad g_\beta = \\sum_{t \\ge 1} g_H[t]\\,k[t-1]\\,H[t-1]

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
    def forward(ctx, x, beta, threshold, reset, spike_fn, compiled):
        alpha = getattr(spike_fn, "triangle_alpha", None)
        ctx.compiled = False
        if compiled and alpha is not None:
            out = _call_compiled("forward", x.reshape(x.shape[0], -1), beta, threshold, reset)
            if out is not None:
                s_all, h_all = (o.view(x.shape) for o in out)
                ctx.compiled = True
        if not ctx.compiled:
            s_all, h_all = _MultiStepLIF._forward_eager(x, beta, threshold, reset, spike_fn, alpha)
        ctx.save_for_backward(h_all, s_all, beta)
        ctx.threshold, ctx.reset, ctx.spike_fn, ctx.alpha = threshold, reset, spike_fn, alpha
        return s_all

    @staticmethod
    def _forward_eager(x, beta, threshold, reset, spike_fn, alpha):
        h_all = torch.empty_like(x, memory_format=torch.contiguous_format)
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
                if s_all is None:
                    s_all = torch.empty(
                        (x.shape[0],) + tuple(s.shape), dtype=s.dtype, device=s.device
                    )
                s_all[t] = s
        return s_all, h_all

    @staticmethod
    def backward(ctx, grad_s):
        h_all, s_all, beta = ctx.saved_tensors
        need_beta = ctx.needs_input_grad[1]
        b = beta.detach()
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
        T = h_all.shape[0]
        zero_reset = ctx.reset == "zero"
        carry = torch.empty_like(h_all[0]) if T > 1 else None
        keep = torch.empty_like(s_all[0]) if zero_reset and T > 1 else None
        if ctx.alpha is not None:
            # step by step, in place, in reverse time: the same float operations as the graph
            # of the step loop (a/2 - c|d| is computed as (-c)|d| + a/2, which rounds alike)
            g = torch.empty_like(h_all, memory_format=torch.contiguous_format)
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


@dataclass(frozen=True)
class NeuronConfig:
    """Parameters of a LIF neuron. ``beta`` wins over ``tau`` when both are given.

    Defaults are those of MSE-NAS's released code: tau = 2, threshold 0.5, hard reset,
    piecewise-linear surrogate with alpha = 2.
    """

    tau: float = 2.0
    beta: float | None = None
    threshold: float = 0.5
    reset: str = "zero"
    surrogate: str = "triangle"
    surrogate_kwargs: dict = field(default_factory=dict)
    learn_beta: bool = False

    def __post_init__(self):
        check_choice("neuron.reset", self.reset, RESETS)
        check_choice("neuron.surrogate", self.surrogate, SURROGATES)
        if self.beta is None:
            check_range("neuron.tau", self.tau, 1.0, None)
        else:
            check_range("neuron.beta", self.beta, 0.0, 1.0)
        check_range("neuron.threshold", self.threshold, 1e-6, None)

    @property
    def decay(self) -> float:
        """The membrane decay factor beta."""
        return float(self.beta) if self.beta is not None else 1.0 - 1.0 / float(self.tau)

    def with_(self, **changes) -> NeuronConfig:
        """A copy with some fields changed (validated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


class LIF(nn.Module):
    """Multi-step LIF layer: ``[T, B, ...]`` input currents -> ``[T, B, ...]`` binary spikes.

    ``forward`` runs all T steps from rest. ``step`` advances one time step from a given
    membrane state; cells with feedback loops (a later node feeding an earlier one at the
    next step) drive their neurons this way. When a spike recorder is attached (see
    :class:`snnlib.spikes.SpikeMonitor`) both paths report the spikes they emit.

    ``forward`` runs the T steps as one autograd node; ``backend`` (an instance attribute,
    ``None``: the default of :func:`set_lif_backend`) picks ``fused``, ``compiled`` or
    ``stepwise`` (the plain per-step autograd graph); all give the same spikes.
    """

    backend: str | None = None

    def __init__(self, config: NeuronConfig | None = None):
        super().__init__()
        self.config = config or NeuronConfig()
        beta = torch.tensor(self.config.decay)
        if self.config.learn_beta:
            self.beta = nn.Parameter(beta)
        else:
            self.register_buffer("beta", beta, persistent=False)
        self.threshold = float(self.config.threshold)
        self.reset = self.config.reset
        self.spike_fn = SURROGATES[self.config.surrogate](**self.config.surrogate_kwargs)
        self.recorder: Callable[[nn.Module, torch.Tensor], None] | None = None

    def extra_repr(self) -> str:
        c = self.config
        return (
            f"beta={c.decay:.3g}, threshold={c.threshold}, reset={c.reset}, surrogate={c.surrogate}"
        )

    def _advance(self, current, state, beta):
        h_prev, s_prev = state
        if self.reset == "subtract":
            h = beta * h_prev + current - s_prev * self.threshold
        elif self.reset == "zero":
            h = beta * h_prev * (1.0 - s_prev) + current
        else:
            h = beta * h_prev + current
        s = self.spike_fn(h - self.threshold)
        return s, (h, s.detach())

    def _beta(self) -> torch.Tensor:
        return self.beta.clamp(0, 1) if self.config.learn_beta else self.beta

    def step(self, current: torch.Tensor, state=None):
        """One time step from ``state`` (``None``: rest). Returns ``(spikes, new_state)``."""
        if state is None:
            zero = torch.zeros_like(current)
            state = (zero, zero)
        s, state = self._advance(current, state, self._beta())
        if self.recorder is not None:
            self.recorder(self, s.unsqueeze(0))
        return s, state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 2:
            raise ConfigError(
                f"LIF expects time-major input [T, B, ...], got shape {tuple(x.shape)}"
            )
        beta = self._beta()
        backend = self.backend or _default_backend
        if backend != "stepwise":
            spikes = _MultiStepLIF.apply(
                x, beta, self.threshold, self.reset, self.spike_fn, backend == "compiled"
            )
        else:
            zero = torch.zeros_like(x[0])
            state = (zero, zero)
            out = []
            for t in range(x.shape[0]):
                s, state = self._advance(x[t], state, beta)
                out.append(s)
            spikes = torch.stack(out)
        if self.recorder is not None:
            self.recorder(self, spikes)
        return spikes
