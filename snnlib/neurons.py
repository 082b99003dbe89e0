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

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn

from .kernels import MultiStepLIF, get_lif_backend, triangle
from .validation import ConfigError, check_choice, check_range

_HEAVISIDE = triangle(2.0)  # its forward is the Heaviside step that every surrogate shares

RESETS = ("subtract", "zero", "none")


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


@dataclass(frozen=True)
class NeuronConfig:
    """Parameters of a LIF neuron. ``beta`` wins over ``tau`` when both are given.

    Defaults are those of MSE-NAS's released code: tau = 2, threshold 0.5, hard reset,
    piecewise-linear surrogate with alpha = 2. Bad values raise :class:`ConfigError` naming
    the field.

    Example:
        >>> NeuronConfig(tau=4.0).decay
        0.75
        >>> NeuronConfig().with_(threshold=1.0, surrogate="atan").threshold
        1.0
        >>> NeuronConfig(reset="soft")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        snnlib.validation.ConfigError: neuron.reset='soft' is not allowed; choose one of [...]
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

    ``forward`` runs the T steps as one autograd node (:mod:`snnlib.kernels`); ``backend``
    (an instance attribute, ``None``: the default of :func:`snnlib.kernels.set_lif_backend`)
    picks ``native`` (a C kernel, where a C compiler exists; else ``fused``), ``fused``,
    ``compiled`` or ``stepwise`` (the plain per-step autograd graph); all give the same
    spikes.

    Example:
        >>> import torch
        >>> lif = LIF(NeuronConfig(beta=0.5, threshold=1.0, reset="zero"))
        >>> current = torch.tensor([0.6, 0.6, 0.6, 1.2]).view(4, 1, 1)   # [T, B, N]
        >>> lif(current).flatten().tolist()       # H = 0.6, 0.9, 1.05 (spike, reset), 1.2
        [0.0, 0.0, 1.0, 1.0]
        >>> s, state = lif.step(current[0])       # one step from rest: (spikes, (H, S))
        >>> state[0].item()
        0.6000000238418579
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
        backend = self.backend or get_lif_backend()
        spike_fn = self.spike_fn
        if not torch.is_grad_enabled() and getattr(spike_fn, "triangle_alpha", None) is None:
            # every surrogate's forward is the same step [H > theta]; without autograd the
            # surrogate is never used, and the fused loop computes the step in one pass
            spike_fn = _HEAVISIDE
        if backend != "stepwise":
            spikes = MultiStepLIF.apply(x, beta, self.threshold, self.reset, spike_fn, backend)
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
