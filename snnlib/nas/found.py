"""What a search found, as a comparison of search methods lists it: the architecture (ready
for :func:`snnlib.nas.retrain.retrain`), its search fitness and what the search cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Found:
    """One search's outcome. ``evaluations``: candidate evaluations (discrete searches);
    ``epochs``: search epochs (differentiable searches); ``extra``: method-specific numbers
    (written beside the common ones); ``arch_dict``: the architecture as JSON.

    >>> class Result:  # any search result with these fields, e.g. an evolution's
    ...     best, best_fitness, evaluations, seconds = "g", 0.5, 12, 3.0
    >>> f = Found.of_result(Result(), architecture="g", arch_dict={"genome": "g"})
    >>> f.fitness, f.evaluations, f.epochs, f.seconds
    (0.5, 12, None, 3.0)
    """

    architecture: Any
    fitness: float | None
    seconds: float
    evaluations: int | None = None
    epochs: int | None = None
    arch_dict: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @classmethod
    def of_result(cls, result, architecture, arch_dict: dict | None = None) -> Found:
        """From a discrete search's result (``best_fitness``, ``evaluations``, ``seconds``)."""
        return cls(
            architecture,
            fitness=result.best_fitness,
            seconds=result.seconds,
            evaluations=result.evaluations,
            arch_dict=arch_dict or {},
        )
