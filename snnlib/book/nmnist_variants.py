"""The N-MNIST chapter's variants: the substrate recipe, one change at a time, and the
candidates the validation split chooses among.

A *recipe* is a dict of framing options of the ``nmnist`` dataset (:data:`FRAMING`) and
training settings (``epochs``, ``lr``, optionally the neuron's ``tau``). The variants are

- ``"substrate recipe"``: the ``old`` recipe (notebook 00's cpu setting), one seed;
- ``"+ <step>"``: the ``steps``, *cumulative* (each keeps the ones before), one seed each;
- ``"default"``: the ``new`` recipe, ``seeds`` seeds;
- ``"default, <change>"``: the ``side`` changes, each *one* change away from the default,
  ``seeds`` seeds each.

The default and the side variants are the *candidates* (:func:`candidates`), trained with the
same seeds so that the validation split can choose among them.

Example:
    >>> old, new = dict(image_size=34, epochs=12), dict(image_size=17, epochs=30)
    >>> v = build_variants(old, new, steps=("17 px",), side=("tau 4",), seeds=2)
    >>> list(v)
    ['substrate recipe', '+ 17 px', 'default', 'default, tau 4']
    >>> v["+ 17 px"], v["default, tau 4"]["tau"]
    ({'image_size': 17, 'epochs': 12, 'seeds': 1}, 4.0)
    >>> candidates(("tau 4",)), framing_of(v["default, tau 4"])
    (['default', 'default, tau 4'], {'image_size': 17})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..validation import ConfigError

#: the options of a recipe that frame the events (``make_loaders`` arguments); the rest train
FRAMING = ("image_size", "binning", "counts", "polarity")


def variant_changes(new: Mapping) -> dict[str, dict]:
    """The one change each named step or side variant makes (``"30 epochs"``: the ``new``
    recipe's number of epochs, whatever the scale sets it to)."""
    return {
        "17 px": dict(image_size=17),
        "30 epochs": dict(epochs=new["epochs"]),
        "log1p counts": dict(counts="log1p"),
        "span binning": dict(binning="span"),
        "merged polarity": dict(polarity="merged"),
        "tau 4": dict(tau=4.0),
    }


def _change(changes: Mapping, name: str) -> dict:
    if name not in changes:
        raise ConfigError(f"variant change {name!r} is unknown; allowed: {sorted(changes)}")
    return changes[name]


def build_variants(
    old: Mapping, new: Mapping, steps: Sequence[str], side: Sequence[str], seeds: int
) -> dict[str, dict]:
    """``name -> recipe with its number of seeds`` in the chapter's order (module docstring).
    An unknown change names the allowed ones."""
    changes = variant_changes(new)
    variants = {"substrate recipe": dict(old, seeds=1)}
    step = dict(old)
    for name in steps:  # cumulative: each step keeps the ones before
        step = dict(step, **_change(changes, name))
        variants[f"+ {name}"] = dict(step, seeds=1)
    variants["default"] = dict(new, seeds=seeds)
    for name in side:  # one change away from the default
        variants[f"default, {name}"] = dict(new, **_change(changes, name), seeds=seeds)
    return variants


def candidates(side: Sequence[str]) -> list[str]:
    """The variants the validation split chooses among: the default and its side variants."""
    return ["default"] + [f"default, {name}" for name in side]


def framing_of(recipe: Mapping) -> dict:
    """The framing options of a recipe (the :data:`FRAMING` keys it sets)."""
    return {k: recipe[k] for k in FRAMING if k in recipe}


def variants_frame(variants: Mapping[str, Mapping]) -> pd.DataFrame:
    """The variants as a table: one row each, a column per option, blank where unset."""
    return pd.DataFrame(variants).T.fillna("")


def adopted_phrase(adopted: str) -> str:
    """The chosen candidate as the page's sentence names it: ``"default"`` -> ``"the
    default"``, ``"default, tau 4"`` -> ``"the default with tau 4"``."""
    return "the default" + adopted.removeprefix("default").replace(",", " with")
