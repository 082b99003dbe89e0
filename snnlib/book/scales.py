"""The three scales of every notebook: ``smoke`` (tests), ``cpu`` (the book), ``paper`` (a GPU)."""

from __future__ import annotations

from typing import Any

from ..validation import ConfigError, check_choice

SCALES = ("smoke", "cpu", "paper")


def pick_scale(scale: str, table: dict[str, Any]) -> Any:
    """Return ``table[scale]`` for one of the three scales, with a clear error otherwise."""
    check_choice("scale", scale, SCALES)
    missing = [s for s in SCALES if s not in table]
    if missing:
        raise ConfigError(f"scale table lacks entries for {missing}")
    return table[scale]
