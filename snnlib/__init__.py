"""snnlib: a small library for neural architecture search on spiking neural networks.

Tensors that flow between spiking modules are *time-major*: ``[T, B, ...]``. Stateless
layers (convolution, batch norm, pooling) run once over all ``T * B`` inputs; only the
membrane update of a neuron loops over time. Models return logits averaged over time,
``[B, num_classes]``.
"""

__version__ = "0.1.0"
