"""Spiking DARTS's entry in the core's registry of search methods (:mod:`snnlib.nas.methods`)."""

from __future__ import annotations

from ..nas.methods import register_search
from .bilevel import search

register_search(
    "darts-bilevel",
    search,
    space="darts",
    summary="bilevel differentiable search of a supernet (attention optional: MA-DARTS)",
)
