"""The hand-designed reference network as an architecture that :func:`retrain` takes.

Every search is judged against the fixed spiking CNN of the substrate chapter
(:class:`snnlib.models.SpikingCNN`); as a :class:`ReferenceCNN` it is retrained through the same
path, seeding and measurements as every searched architecture.

>>> from snnlib.nas.retrain import _example_budget, retrain
>>> r = retrain(ReferenceCNN(width=2), _example_budget(), seeds=[0])
>>> r.architecture, r.params
('reference-cnn-w2', 634)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from ..models import SpikingCNN
from ..neurons import NeuronConfig
from .retrain import SeedRule


@dataclass(frozen=True)
class ReferenceCNN:
    """:class:`~snnlib.models.SpikingCNN` of ``width`` with ``neuron``; seeded like DARTS
    (everything from the seed, the same batch order for every seed's run)."""

    width: int = 16
    neuron: NeuronConfig | None = None
    seeding: SeedRule = field(default_factory=SeedRule)

    def build(self, in_channels: int, num_classes: int) -> nn.Module:
        return SpikingCNN(in_channels, num_classes, width=self.width, neuron=self.neuron)

    def label(self) -> str:
        return f"reference-cnn-w{self.width}"
