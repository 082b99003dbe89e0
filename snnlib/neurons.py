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

**Other neuron models** are subclasses of :class:`LIF` that override its dynamics
(``_advance``, and ``initial_state`` when they carry more state): ``forward`` then runs
their own step over time instead of the built-in LIF kernels, so ``forward`` and ``step``
never disagree (see :class:`LIF`). Registered under a name (:func:`register_neuron`), a model is
chosen by configuration, ``NeuronConfig().with_(model=name)``, and every layer builds its
neurons with :func:`make_neuron`.

Example:
    >>> import torch
    >>> lif = LIF(NeuronConfig(threshold=1.0, tau=2.0, reset="subtract"))
    >>> x = torch.full((4, 1, 3), 0.9)          # T=4, batch 1, 3 neurons
    >>> lif(x)[:, 0, 0].tolist()          # H = 0.9, 1.35 (spike), 0.575, 1.1875 (spike)
    [0.0, 1.0, 0.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from types import MappingProxyType
from typing import ClassVar

import torch
from torch import nn

from .kernels import MultiStepLIF, get_lif_backend, triangle
from .validation import ConfigError, check_choice, check_range

_HEAVISIDE = triangle(2.0)  # its forward is the Heaviside step that every surrogate shares

RESETS = ("subtract", "zero", "none")
DEFAULT_MODEL = "lif"
# instance attributes that LIF.__init__ sets (a model's own parameters must not reuse them)
_LIF_ATTRIBUTES = frozenset({"config", "beta", "threshold", "reset", "spike_fn", "recorder"})


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

    ``model`` names the neuron model that :func:`make_neuron` builds (a name of
    :data:`NEURON_MODELS`), ``model_kwargs`` the values of its own parameters (its
    ``model_params``, see :class:`LIF`). A ``NeuronConfig`` is always the built-in ``"lif"``
    model: both are class constants here, not fields, so its :meth:`to_dict` and
    ``dataclasses.asdict`` (which feed result-file and checkpoint identities, also when the
    config is nested in another dataclass) are those of every config written before models
    existed. ``with_(model=...)`` with another name gives a :class:`CustomNeuronConfig`, whose
    ``model`` and ``model_kwargs`` are fields, so they are part of its records.

    Example:
        >>> NeuronConfig(tau=4.0).decay
        0.75
        >>> NeuronConfig().with_(threshold=1.0, surrogate="atan").threshold
        1.0
        >>> NeuronConfig(reset="soft")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        snnlib.validation.ConfigError: neuron.reset='soft' is not allowed; choose one of [...]
        >>> NeuronConfig().model, "model" in NeuronConfig().to_dict()
        ('lif', False)
    """

    tau: float = 2.0
    beta: float | None = None
    threshold: float = 0.5
    reset: str = "zero"
    surrogate: str = "triangle"
    surrogate_kwargs: dict = field(default_factory=dict)
    learn_beta: bool = False

    #: the neuron model :func:`make_neuron` builds; a field of :class:`CustomNeuronConfig` only
    model: ClassVar[str] = DEFAULT_MODEL
    #: values of the model's own parameters; a field of :class:`CustomNeuronConfig` only
    model_kwargs: ClassVar[Mapping] = MappingProxyType({})

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
        """A copy with some fields changed (validated). Changing ``model`` or ``model_kwargs``
        gives a :class:`CustomNeuronConfig`, or a plain ``NeuronConfig`` for ``model="lif"``
        without ``model_kwargs``.

        Example:
            >>> cfg = NeuronConfig(threshold=1.0).with_(model="lif")
            >>> type(cfg).__name__, cfg.threshold
            ('NeuronConfig', 1.0)
        """
        if "model" not in changes and "model_kwargs" not in changes:
            return replace(self, **changes)
        values = {f.name: getattr(self, f.name) for f in fields(NeuronConfig)}
        values.update(model=self.model, model_kwargs=dict(self.model_kwargs))
        values.update(changes)
        if values["model"] == DEFAULT_MODEL and not values["model_kwargs"]:
            del values["model"], values["model_kwargs"]
            return NeuronConfig(**values)
        return CustomNeuronConfig(**values)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CustomNeuronConfig(NeuronConfig):
    """A :class:`NeuronConfig` naming another neuron model than the built-in LIF.

    ``model`` (a name registered with :func:`register_neuron`) and ``model_kwargs`` (the
    values of the model's own parameters, its ``model_params``) are fields here, so
    :meth:`to_dict` and the identity records built from it tell models apart. Made by
    ``NeuronConfig.with_(model=...)`` or directly; ``model="lif"`` is refused (a plain
    :class:`NeuronConfig` is the built-in model, so that there is one record per
    configuration).

    Example:
        >>> CustomNeuronConfig(model="lif")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        snnlib.validation.ConfigError: neuron.model='lif' is the built-in model: ...
    """

    model: str = field(kw_only=True)
    model_kwargs: dict = field(default_factory=dict, kw_only=True)

    def __post_init__(self):
        super().__post_init__()
        if self.model == DEFAULT_MODEL:
            raise ConfigError(
                f"neuron.model={DEFAULT_MODEL!r} is the built-in model: a plain NeuronConfig "
                f"is that model (NeuronConfig.with_(model={DEFAULT_MODEL!r}) gives one)"
            )
        check_choice("neuron.model", self.model, NEURON_MODELS)
        if not isinstance(self.model_kwargs, dict):
            raise ConfigError(
                f"neuron.model_kwargs={self.model_kwargs!r} must be a dict of keyword arguments"
            )


class LIF(nn.Module):
    """Multi-step LIF layer: ``[T, B, ...]`` input currents -> ``[T, B, ...]`` binary spikes;
    the built-in neuron model, and the base class of every other one.

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

    **Writing a neuron model.** A model is one subclass of ``LIF``. The base constructor sets
    what every model may use: ``config`` (the :class:`NeuronConfig`), ``beta`` (the decay; a
    parameter when ``config.learn_beta``, read through ``_beta()``, which clamps it to
    [0, 1]), ``threshold``, ``reset`` and ``spike_fn`` (the configured surrogate). A subclass
    overrides

    - ``_advance(current, state, beta) -> (spikes, new_state)``: one time step. ``current``
      is this step's input ``[B, ...]``, ``state`` what the previous step (or
      ``initial_state``) returned, ``beta`` the value of ``_beta()``. Spikes are made by
      ``self.spike_fn(v - threshold)``: the Heaviside step forward and the configured
      surrogate's derivative backward (``NeuronConfig.surrogate``), so gradients reach the
      inputs and parameters through the surrogate exactly as in the built-in model. A reset
      driven by spikes uses them detached (``s.detach()`` in the state), as the built-in model
      and snnTorch do;
    - ``initial_state(current)`` when its state is not the built-in ``(H, S)``: the state at
      rest for an input step shaped like ``current`` (any tuple of tensors);
    - ``model_params``, a class attribute: its own parameters with their defaults. The base
      constructor sets each as an attribute, taking the value from ``config.model_kwargs``
      or from a keyword argument of the constructor when given there (an unknown name is a
      :class:`~snnlib.validation.ConfigError`). A model that needs more (a learnable
      parameter, a buffer) overrides ``__init__`` and calls ``super().__init__(config,
      **params)`` first.

    ``step`` and ``forward`` are final: a subclass that defines either is a ``TypeError``.
    ``step`` runs one ``_advance`` from ``state`` (``None``: ``initial_state``); ``forward``
    runs ``_advance`` over the T steps from rest, so it always equals stepping ``step``. Only
    the built-in dynamics run in the fused or native kernels: the class attribute
    ``builtin_kernels`` is recomputed for every subclass (``__init_subclass__``) and stays
    true only while the class keeps ``LIF._advance`` and ``LIF.initial_state``. Every model is
    a ``LIF``, so spike recorders find it. :func:`register_neuron` gives a model a name that
    a :class:`NeuronConfig` can choose (:func:`make_neuron`).

    Example (a threshold that rises by ``jump`` after every spike and decays back by ``rho``
    at every step):

        >>> class AdaptiveLIF(LIF):
        ...     model_params = {"jump": 0.5, "rho": 0.8}
        ...
        ...     def initial_state(self, current):
        ...         zero = torch.zeros_like(current)
        ...         return zero, zero, zero                       # H, S, threshold offset
        ...
        ...     def _advance(self, current, state, beta):
        ...         h_prev, s_prev, a_prev = state
        ...         a = self.rho * a_prev + self.jump * s_prev
        ...         h = beta * h_prev * (1.0 - s_prev) + current    # hard reset
        ...         s = self.spike_fn(h - (self.threshold + a))      # surrogate gradient
        ...         return s, (h, s.detach(), a)
        >>> cfg = NeuronConfig(beta=1.0, threshold=1.0)
        >>> x = torch.full((5, 1, 1), 1.2)
        >>> LIF(cfg)(x).flatten().tolist()
        [1.0, 1.0, 1.0, 1.0, 1.0]
        >>> alif = AdaptiveLIF(cfg)
        >>> alif(x).flatten().tolist()      # threshold 1, 1.5, 1.4, 1.82, 1.656; H 1.2 or 2.4
        [1.0, 0.0, 1.0, 0.0, 1.0]
        >>> spikes, state = [], None
        >>> for t in range(5):
        ...     s, state = alif.step(x[t], state)
        ...     spikes.append(s)
        >>> torch.equal(torch.stack(spikes), alif(x))
        True
        >>> LIF.builtin_kernels, AdaptiveLIF.builtin_kernels
        (True, False)
        >>> AdaptiveLIF(cfg, jump=0.1).jump
        0.1
    """

    backend: str | None = None
    #: whether ``forward`` may run the built-in LIF kernels: only for the exact built-in
    #: dynamics (recomputed for every subclass; see the class docstring)
    builtin_kernels: ClassVar[bool] = True
    #: a model's own parameters and their defaults (see the class docstring)
    model_params: ClassVar[Mapping] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("step", "forward"):
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__qualname__} defines {name}(): a neuron model overrides _advance "
                    "(and initial_state) only, so that step() and forward() cannot disagree"
                )
        same = all(getattr(cls, n) is getattr(LIF, n) for n in ("_advance", "initial_state"))
        cls.builtin_kernels = bool(cls.builtin_kernels) and same
        clash = sorted(set(cls.model_params) & (_LIF_ATTRIBUTES | set(dir(LIF))))
        if clash:
            raise TypeError(f"{cls.__qualname__}.model_params names LIF attributes {clash}")

    def __init__(self, config: NeuronConfig | None = None, **params):
        super().__init__()
        self.config = config or NeuronConfig()
        model = self.config.model
        if model != DEFAULT_MODEL and not isinstance(self, NEURON_MODELS.get(model, ())):
            raise ConfigError(
                f"neuron.model={model!r} is built by make_neuron(config), "
                f"not by {type(self).__name__}(config)"
            )
        beta = torch.tensor(self.config.decay)
        if self.config.learn_beta:
            self.beta = nn.Parameter(beta)
        else:
            self.register_buffer("beta", beta, persistent=False)
        self.threshold = float(self.config.threshold)
        self.reset = self.config.reset
        self.spike_fn = SURROGATES[self.config.surrogate](**self.config.surrogate_kwargs)
        self.recorder: Callable[[nn.Module, torch.Tensor], None] | None = None
        values = {**self.model_params, **self.config.model_kwargs, **params}
        unknown = sorted(set(values) - set(self.model_params))
        if unknown:
            raise ConfigError(
                f"neuron.model_kwargs: {type(self).__name__} has no parameter(s) {unknown}; "
                f"its parameters are {sorted(self.model_params)}"
            )
        for name, value in values.items():
            setattr(self, name, value)

    def extra_repr(self) -> str:
        c = self.config
        own = "".join(f", {k}={getattr(self, k)!r}" for k in self.model_params)
        return (
            f"beta={c.decay:.3g}, threshold={c.threshold}, reset={c.reset}, surrogate={c.surrogate}"
            + own
        )

    def initial_state(self, current: torch.Tensor):
        """The state at rest for an input step shaped like ``current``: ``(H, S)`` zeros."""
        zero = torch.zeros_like(current)
        return zero, zero

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
            state = self.initial_state(current)
        s, state = self._advance(current, state, self._beta())
        if self.recorder is not None:
            self.recorder(self, s.unsqueeze(0))
        return s, state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """All T steps of ``x`` (``[T, B, ...]``) from rest: the spikes of stepping ``step``."""
        if x.dim() < 2:
            raise ConfigError(
                f"LIF expects time-major input [T, B, ...], got shape {tuple(x.shape)}"
            )
        beta = self._beta()
        backend = self.backend or get_lif_backend()
        if self.builtin_kernels and backend != "stepwise" and type(self.threshold) is float:
            spike_fn = self.spike_fn
            if not torch.is_grad_enabled() and getattr(spike_fn, "triangle_alpha", None) is None:
                # every surrogate's forward is the same step [H > theta]; without autograd the
                # surrogate is never used, and the fused loop computes the step in one pass
                spike_fn = _HEAVISIDE
            spikes = MultiStepLIF.apply(x, beta, self.threshold, self.reset, spike_fn, backend)
        else:
            state = self.initial_state(x[0])
            out = []
            for t in range(x.shape[0]):
                s, state = self._advance(x[t], state, beta)
                out.append(s)
            spikes = torch.stack(out)
        if self.recorder is not None:
            self.recorder(self, spikes)
        return spikes


#: The neuron models a :class:`NeuronConfig` can name (``model``), by name: classes derived
#: from :class:`LIF`. Add one with :func:`register_neuron`.
NEURON_MODELS: dict[str, type[LIF]] = {DEFAULT_MODEL: LIF}


def register_neuron(name: str, cls: type[LIF] | None = None, *, replace: bool = False):
    """Register the neuron model ``cls`` (a subclass of :class:`LIF`) under ``name``, so that
    ``NeuronConfig().with_(model=name)`` builds it everywhere (:func:`make_neuron`). Usable as
    a decorator. A name already taken by another class is refused unless ``replace=True``;
    ``"lif"`` stays the built-in model. Returns ``cls``.

    Example:
        >>> import torch
        >>> @register_neuron("clipped")
        ... class ClippedLIF(LIF):
        ...     '''A LIF whose membrane potential is kept above ``floor`` after each step.'''
        ...     model_params = {"floor": 0.0}
        ...
        ...     def _advance(self, current, state, beta):
        ...         s, (h, s_prev) = super()._advance(current, state, beta)
        ...         return s, (h.clamp(min=self.floor), s_prev)
        >>> cfg = NeuronConfig(beta=1.0, threshold=1.0)
        >>> cfg = cfg.with_(model="clipped", model_kwargs={"floor": -0.5})
        >>> neuron = make_neuron(cfg)
        >>> neuron
        ClippedLIF(beta=1, threshold=1.0, reset=zero, surrogate=triangle, floor=-0.5)
        >>> x = torch.tensor([-2.0, 0.9, 0.9]).view(3, 1, 1)
        >>> neuron(x).flatten().tolist()        # H = -2 (kept at -0.5), 0.4, 1.3
        [0.0, 0.0, 1.0]
        >>> make_neuron(NeuronConfig(beta=1.0, threshold=1.0))(x).flatten().tolist()
        [0.0, 0.0, 0.0]
        >>> cfg.to_dict()["model"], cfg.to_dict()["model_kwargs"]
        ('clipped', {'floor': -0.5})
        >>> del NEURON_MODELS["clipped"]           # (leave the registry as it was)
    """

    def add(model: type[LIF]) -> type[LIF]:
        if not (isinstance(model, type) and issubclass(model, LIF)):
            raise TypeError(f"a neuron model is a subclass of LIF, got {model!r}")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"neuron model name {name!r} must be a non-empty string")
        old = NEURON_MODELS.get(name)
        if name == DEFAULT_MODEL and model is not LIF:
            raise ConfigError(f"{DEFAULT_MODEL!r} is the built-in model and cannot be replaced")
        if old is not None and old is not model and not replace:
            raise ConfigError(
                f"neuron model {name!r} is already registered ({old.__qualname__}); "
                "replace=True replaces it"
            )
        NEURON_MODELS[name] = model
        return model

    return add if cls is None else add(cls)


def make_neuron(config: NeuronConfig | None = None) -> LIF:
    """The neuron layer that ``config`` configures (``None``: the default
    :class:`NeuronConfig`): an instance of the model it names, built with its
    ``model_kwargs``. The one way layers build neurons; for the default model exactly
    ``LIF(config)``.

    Example:
        >>> make_neuron(NeuronConfig(threshold=1.0))
        LIF(beta=0.5, threshold=1.0, reset=zero, surrogate=triangle)
    """
    config = config or NeuronConfig()
    cls = NEURON_MODELS[check_choice("neuron.model", config.model, NEURON_MODELS)]
    return cls(config)
