"""The spiking DARTS operations: shapes, spike-compatibility, registry errors."""

import pytest
import torch
from torch import nn

from snnlib.darts.operations import OPS, PRIMITIVES, check_primitives, make_op
from snnlib.validation import ConfigError


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("T", [1, 2, 4])
@pytest.mark.parametrize("stride,size,out", [(1, 8, 8), (2, 8, 4), (2, 7, 4)])
def test_every_op_keeps_channels_and_agrees_on_output_size(name, T, stride, size, out):
    op = make_op(name, 4, stride)
    y = op(torch.randn(T, 3, 4, size, size))
    assert y.shape == (T, 3, 4, out, out)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize(
    "name", [n for n in OPS if n not in ("none", "max_pool_3x3", "avg_pool_3x3")]
)
@pytest.mark.parametrize("stride", [1, 2])
def test_convolutions_only_ever_see_spikes(name, stride):
    """Spike-compatible: every Conv2d inside an op receives a binary tensor (LIF -> conv -> BN)."""
    op = make_op(name, 4, stride)
    seen = []
    for m in op.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(lambda mod, args, out: seen.append(args[0]))
    op(3.0 * torch.randn(2, 3, 4, 8, 8))
    if name == "skip_connect" and stride == 1:
        assert seen == []  # the identity holds no synapse
        return
    assert seen, "the op should contain a convolution"
    for x in seen:
        assert bool(((x == 0) | (x == 1)).all())
        assert 0 < float(x.detach().mean()) < 1  # some, not all, neurons fire


def test_none_is_zero_and_skip_is_identity():
    x = torch.randn(2, 3, 4, 8, 8)
    assert torch.equal(make_op("none", 4, 1)(x), torch.zeros_like(x))
    assert torch.equal(make_op("none", 4, 2)(x), torch.zeros(2, 3, 4, 4, 4))
    assert make_op("skip_connect", 4, 1)(x) is x


def test_registry_errors_are_clear():
    with pytest.raises(ConfigError, match="operation='conv_9x9'"):
        make_op("conv_9x9", 4, 1)
    with pytest.raises(ConfigError, match="stride=3"):
        make_op("max_pool_3x3", 4, 3)
    with pytest.raises(ConfigError, match="repeat"):
        check_primitives(["none", "skip_connect", "skip_connect"])
    with pytest.raises(ConfigError, match="other than 'none'"):
        check_primitives(["none"])
    assert check_primitives(PRIMITIVES) == PRIMITIVES
    assert PRIMITIVES[0] == "none" and len(PRIMITIVES) == 7
