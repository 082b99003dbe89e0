"""Clear errors for bad input: every check names the field and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class ConfigError(ValueError):
    """A parameter, genome field or file has a value that is not allowed."""


def check_choice(field: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise :class:`ConfigError`."""
    allowed = list(allowed)
    if value not in allowed:
        raise ConfigError(f"{field}={value!r} is not allowed; choose one of {allowed}")
    return value


def check_range(
    field: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    *,
    integer: bool = False,
) -> Any:
    """Return ``value`` if ``low <= value <= high`` (and an int when ``integer``)."""
    if integer and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{field}={value!r} must be an integer")
    if not integer and not isinstance(value, (int, float)):
        raise ConfigError(f"{field}={value!r} must be a number")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{field}={value!r} is out of range [{low}, {high}]")
    return value
