"""One record of an MA-DARTS architecture: the cells and everything the network needs besides.

A search ends with a genotype, but a network of it also needs the layer layout, the attention
(type, placement, gate), the nodes per cell and the time steps; the searched width and input
size say at which size the cells were found. :class:`DartsArchitecture` holds all of it, once:
the search notebook writes it (:meth:`DartsArchitecture.to_dict`, the result file's
``architecture`` entry) and the retraining notebooks read it back
(:meth:`DartsArchitecture.from_dict`, validated: a bad field raises a
:class:`~snnlib.validation.ConfigError` naming the field and the allowed values).

The plain spiking DARTS search run beside it (attention ``none``, same seed and budget) is
recorded as the optional ``plain_darts`` entry: its cells and layout
(:meth:`DartsArchitecture.plain`).

The dict form is that of the result files already committed; an entry without ``gate``
predates the scaled gate and reads as ``sigmoid``.

Example:
    >>> from snnlib.darts.genotype import random_genotype
    >>> from snnlib.darts.layout import darts_layout, stage_layout
    >>> a = DartsArchitecture(random_genotype(0, steps=2, multiplier=2), darts_layout(5), steps=2)
    >>> DartsArchitecture.from_dict(a.to_dict()) == a
    True
    >>> a.retrain_layout(8) == darts_layout(8), a.plain() is None
    (True, True)
    >>> try:
    ...     DartsArchitecture.from_dict({**a.to_dict(), "gate": "relu"})
    ... except ConfigError as err:
    ...     print(err)
    architecture.gate='relu' is not allowed; choose one of ['sigmoid', 'scaled_sigmoid']
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..attention import ATTENTION, GATES
from ..validation import ConfigError, check_choice, check_range
from .genotype import Genotype, genotype_from_dict, genotype_to_dict
from .layout import Layout, darts_layout, layout_from_dict, layout_to_dict, validate_layout
from .network import PLACEMENTS

#: The keys of the dict form, in the order the search writes them (``plain_darts`` optional).
ARCHITECTURE_KEYS = (
    "genotype",
    "layout",
    "attention",
    "placement",
    "gate",
    "steps",
    "search_C",
    "search_image_size",
    "time_steps",
    "plain_darts",
)
REQUIRED_KEYS = ("genotype", "layout", "attention", "placement", "steps", "time_steps")
PLAIN_KEYS = ("genotype", "layout", "attention")
#: The gate of a record written before the scaled gate existed.
LEGACY_GATE = "sigmoid"


@dataclass(frozen=True)
class DartsArchitecture:
    """An MA-DARTS architecture: cells (``genotype``), the layer ``layout``, the attention
    (``attention``, ``placement``, ``gate``), ``steps`` nodes per cell, ``time_steps``, the
    width and input size it was searched at (``search_C``, ``search_image_size``; ``None``
    when unknown), and the cells and layout of the plain DARTS search run beside it
    (``plain_genotype``, ``plain_layout``; ``None`` without one)."""

    genotype: Genotype
    layout: Layout
    attention: str = "tcsa"
    placement: str = "cell"
    gate: str = "scaled_sigmoid"
    steps: int = 4
    time_steps: int = 2
    search_C: int | None = None
    search_image_size: int | None = None
    plain_genotype: Genotype | None = None
    plain_layout: Layout | None = None

    def __post_init__(self):
        if not isinstance(self.genotype, Genotype):
            raise ConfigError(f"architecture.genotype must be a Genotype, got {self.genotype!r}")
        object.__setattr__(self, "layout", validate_layout(self.layout))
        check_choice("architecture.attention", self.attention, list(ATTENTION))
        check_choice("architecture.placement", self.placement, PLACEMENTS)
        check_choice("architecture.gate", self.gate, GATES)
        check_range("architecture.steps", self.steps, 1, None, integer=True)
        check_range("architecture.time_steps", self.time_steps, 1, None, integer=True)
        for name in ("search_C", "search_image_size"):
            if getattr(self, name) is not None:
                check_range(f"architecture.{name}", getattr(self, name), 1, None, integer=True)
        for name, g in (("genotype", self.genotype), ("plain_darts.genotype", self.plain_genotype)):
            if g is not None and len(g.normal) != 2 * self.steps:
                raise ConfigError(
                    f"architecture.{name} has {len(g.normal)} normal edges; steps={self.steps} "
                    f"nodes of two inputs each need {2 * self.steps}"
                )
        if (self.plain_genotype is None) != (self.plain_layout is None):
            raise ConfigError(
                "architecture: plain_genotype and plain_layout come together (both or neither)"
            )
        if self.plain_layout is not None:
            object.__setattr__(self, "plain_layout", validate_layout(self.plain_layout))

    @classmethod
    def from_search(
        cls, spec, result, *, image_size: int | None = None, plain=None
    ) -> DartsArchitecture:
        """The record of a search: the supernet's :class:`~snnlib.darts.supernet_search.
        SupernetSpec` ``spec``, its :class:`~snnlib.darts.bilevel.BilevelResult` ``result``,
        the input size, and the plain DARTS search's result ``plain`` (or ``None``)."""
        return cls(
            genotype=result.genotype,
            layout=result.layout,
            attention=spec.attention,
            placement=spec.placement,
            gate=spec.gate,
            steps=spec.steps,
            time_steps=spec.time_steps,
            search_C=spec.C,
            search_image_size=image_size,
            plain_genotype=None if plain is None else plain.genotype,
            plain_layout=None if plain is None else plain.layout,
        )

    def plain(self) -> DartsArchitecture | None:
        """The plain DARTS search's architecture (attention ``none``, the rest as this one),
        or ``None`` when the search ran without one."""
        if self.plain_genotype is None:
            return None
        return replace(
            self,
            genotype=self.plain_genotype,
            layout=self.plain_layout,
            attention="none",
            plain_genotype=None,
            plain_layout=None,
        )

    def retrain_layout(self, layers: int) -> Layout:
        """The layout a retraining of ``layers`` cells builds: the searched stage depths of a
        macro search (a layout whose reductions read a single input), else the fixed DARTS
        layout of ``layers`` cells."""
        if self.layout.reduce_inputs == "single":
            return self.layout
        return darts_layout(layers)

    def network_options(self, layers: int) -> dict:
        """The :class:`~snnlib.darts.network.Network` options of a retraining at ``layers``
        cells (:meth:`retrain_layout`): ``layout``, ``time_steps``, ``placement`` and the
        attention's ``gate`` (``attention_kwargs``). The attention type is the caller's: a
        retraining compares several."""
        return dict(
            layout=self.retrain_layout(layers),
            time_steps=self.time_steps,
            placement=self.placement,
            attention_kwargs={"gate": self.gate},
        )

    def to_dict(self) -> dict:
        """The JSON-ready dict form (keys :data:`ARCHITECTURE_KEYS`; ``search_C`` and
        ``search_image_size`` only when known, ``plain_darts`` only with a plain search)."""
        out = {
            "genotype": genotype_to_dict(self.genotype),
            "layout": layout_to_dict(self.layout),
            "attention": self.attention,
            "placement": self.placement,
            "gate": self.gate,
            "steps": self.steps,
            "search_C": self.search_C,
            "search_image_size": self.search_image_size,
            "time_steps": self.time_steps,
        }
        for name in ("search_C", "search_image_size"):
            if out[name] is None:
                del out[name]
        if self.plain_genotype is not None:
            out["plain_darts"] = {
                "genotype": genotype_to_dict(self.plain_genotype),
                "layout": layout_to_dict(self.plain_layout),
                "attention": "none",
            }
        return out

    @classmethod
    def from_dict(cls, d: dict) -> DartsArchitecture:
        """The record of a dict written by :meth:`to_dict` (or by the search notebook before
        this type: the same form); every field validated, naming it when wrong. A missing
        ``gate`` reads as ``sigmoid`` (records written before the scaled gate); a
        ``plain_darts`` entry without ``layout`` has the main layout."""
        if not isinstance(d, dict):
            raise ConfigError(f"architecture must be a JSON object, got {type(d).__name__}")
        missing = [k for k in REQUIRED_KEYS if k not in d]
        unknown = [k for k in d if k not in ARCHITECTURE_KEYS]
        if missing or unknown:
            raise ConfigError(
                f"architecture: missing keys {missing}, unknown keys {unknown}; the keys are "
                f"{list(ARCHITECTURE_KEYS)} (required {list(REQUIRED_KEYS)})"
            )
        layout = _field("layout", layout_from_dict, d["layout"])
        plain_genotype = plain_layout = None
        if "plain_darts" in d:
            plain = d["plain_darts"]
            if not isinstance(plain, dict) or "genotype" not in plain:
                raise ConfigError(
                    f"architecture.plain_darts must be an object with keys {list(PLAIN_KEYS)}, "
                    f"got {plain!r}"
                )
            unknown = [k for k in plain if k not in PLAIN_KEYS]
            if unknown:
                raise ConfigError(
                    f"architecture.plain_darts: unknown keys {unknown}; allowed {list(PLAIN_KEYS)}"
                )
            check_choice(
                "architecture.plain_darts.attention", plain.get("attention", "none"), ["none"]
            )
            plain_genotype = _field("plain_darts.genotype", genotype_from_dict, plain["genotype"])
            plain_layout = (
                _field("plain_darts.layout", layout_from_dict, plain["layout"])
                if "layout" in plain
                else layout
            )
        return cls(
            genotype=_field("genotype", genotype_from_dict, d["genotype"]),
            layout=layout,
            attention=d["attention"],
            placement=d["placement"],
            gate=d.get("gate", LEGACY_GATE),
            steps=d["steps"],
            time_steps=d["time_steps"],
            search_C=d.get("search_C"),
            search_image_size=d.get("search_image_size"),
            plain_genotype=plain_genotype,
            plain_layout=plain_layout,
        )


def _field(name: str, parse, value):
    """``parse(value)``, its error prefixed with the field's name."""
    try:
        return parse(value)
    except ConfigError as err:
        raise ConfigError(f"architecture.{name}: {err}") from None
