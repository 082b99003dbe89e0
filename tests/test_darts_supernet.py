"""Supernet and derived network: mixed operations, parameter groups, forward on static and
event input, the macro (stage depth) level."""

import pytest
import torch
from torch import nn

from snnlib.darts import (
    Network,
    SearchNetwork,
    cell_edges,
    darts_layout,
    random_genotype,
    stage_layout,
)
from snnlib.darts.operations import PRIMITIVES
from snnlib.darts.supernet import MixedOp
from snnlib.encoding import Encoder
from snnlib.validation import ConfigError

TINY = dict(C=2, layers=3, steps=2, multiplier=2)


def test_mixed_op_weights_sum_to_one_and_mix_linearly():
    torch.manual_seed(0)
    net = SearchNetwork(1, 3, time_steps=2, **TINY)
    for w in net.arch_weights().values():
        assert torch.allclose(w.sum(-1), torch.ones(w.shape[0]))
        assert (w > 0).all()
    op = MixedOp(4, 1).eval()
    x = torch.randn(2, 3, 4, 6, 6)
    outs = [m(x) for m in op.ops]
    w = torch.softmax(torch.randn(len(PRIMITIVES)), 0)
    expected = sum(wk * o for wk, o in zip(w, outs))
    assert torch.allclose(op(x, w), expected, atol=1e-6)
    one_hot = torch.zeros(len(PRIMITIVES))
    one_hot[PRIMITIVES.index("spike_conv_3x3")] = 1
    assert torch.equal(op(x, one_hot), op.ops[PRIMITIVES.index("spike_conv_3x3")](x))


def test_arch_and_weight_parameters_are_disjoint_and_complete():
    net = SearchNetwork(1, 3, time_steps=2, **TINY)
    arch, weights = net.arch_parameters(), net.weight_parameters()
    assert [tuple(a.shape) for a in arch] == [(5, 7), (5, 7)]
    ids_a, ids_w = {id(p) for p in arch}, {id(p) for p in weights}
    assert not ids_a & ids_w
    assert ids_a | ids_w == {id(p) for p in net.parameters()}
    assert len(cell_edges(4)) == 14


@pytest.mark.parametrize("T", [1, 2, 4])
@pytest.mark.parametrize("kind,channels", [("static", 1), ("events", 2)])
@pytest.mark.parametrize("attention", ["none", "tcsa"])
def test_supernet_and_derived_network_forward(T, kind, channels, attention):
    torch.manual_seed(T)
    batch = (
        torch.rand(3, channels, 16, 16)
        if kind == "static"
        else (torch.rand(3, T, channels, 16, 16) < 0.2).float()
    )
    x = Encoder("direct" if kind == "static" else "events", T)(batch)
    assert x.shape == (T, 3, channels, 16, 16)
    net = SearchNetwork(channels, 10, time_steps=T, attention=attention, **TINY)
    out = net(x)
    assert out.shape == (3, 10) and torch.isfinite(out).all()
    out.sum().backward()
    assert all(a.grad is not None and torch.isfinite(a.grad).all() for a in net.arch_parameters())
    derived = Network(
        net.genotype(), channels, 10, C=2, layers=3, time_steps=T, attention=attention
    )
    assert derived(x).shape == (3, 10)


def _attention_modules(net, placement):
    """The attention modules of every cell: one per cell, or one per node."""
    if placement == "cell":
        assert all(cell.node_attention is None for cell in net.cells)
        return [cell.attention for cell in net.cells]
    assert all(isinstance(cell.attention, nn.Identity) for cell in net.cells)
    return [m for cell in net.cells for m in cell.node_attention]


@pytest.mark.parametrize("attention", ["none", "eca", "cbam", "tcsa"])
@pytest.mark.parametrize("placement", ["cell", "node"])
def test_attention_types_and_placements_in_both_networks(attention, placement):
    """Both networks put the attention where ``placement`` says (after the cell's concatenation,
    or after every node), and the output depends on it: perturbing the attention parameters
    changes the logits, except for ``none``, which is the identity and holds none."""
    torch.manual_seed(0)
    x = 4 * torch.rand(2, 2, 1, 8, 8)  # train mode: batch statistics, so every layer spikes
    supernet = SearchNetwork(1, 4, time_steps=2, attention=attention, placement=placement, **TINY)
    derived = Network(
        random_genotype(0, steps=2, multiplier=2),
        1,
        4,
        C=2,
        layers=3,
        time_steps=2,
        attention=attention,
        placement=placement,
    )
    for net in (supernet, derived):
        modules = _attention_modules(net, placement)
        assert len(modules) == 3 * (1 if placement == "cell" else 2)
        params = [p for m in modules for p in m.parameters()]
        before = net(x)
        assert before.shape == (2, 4) and torch.isfinite(before).all()
        if attention == "none":
            assert all(isinstance(m, nn.Identity) for m in modules) and not params
            continue
        assert params
        with torch.no_grad():
            for p in params:
                p.add_(3 * torch.randn_like(p))
        assert not torch.allclose(before, net(x))


def test_layouts():
    assert (
        darts_layout(8).cells
        == ("normal",) * 2 + ("reduce",) + ("normal",) * 2 + ("reduce",) + ("normal",) * 2
    )
    net = SearchNetwork(1, 3, C=2, layers=5, steps=2, multiplier=2, time_steps=1)
    assert [c.reduction for c in net.cells] == [False, True, False, True, False]
    with pytest.raises(ConfigError, match="at least 3"):
        darts_layout(2)
    with pytest.raises(ConfigError, match="macro='width'"):
        SearchNetwork(1, 3, macro="width", **TINY)
    with pytest.raises(ConfigError, match=r"\[T, B, 1, H, W\]"):
        net(torch.rand(2, 1, 8, 8))


def test_macro_depth_one_hot_betas_ignore_the_deeper_cells():
    """With a one-hot depth choice, cells beyond the chosen depth cannot change the output,
    and the derived layout has exactly the chosen depths."""
    torch.manual_seed(0)
    net = SearchNetwork(
        1,
        3,
        C=2,
        steps=2,
        multiplier=2,
        time_steps=2,
        macro="depth",
        max_stage_depth=2,
        attention="none",
    )
    assert len(net.cells) == 8 and len(net.arch_parameters()) == 3
    with torch.no_grad():
        net.betas.copy_(torch.tensor([[50.0, -50.0], [-50.0, 50.0], [50.0, -50.0]]))
    assert net.stage_depths() == (1, 2, 1)
    assert net.layout() == stage_layout((1, 2, 1))
    x = 4 * torch.rand(2, 3, 1, 8, 8)  # train mode: batch statistics, so every layer spikes
    before = net(x)
    assert before.std(0).max() > 0  # the head sees spikes: samples differ
    unused = [1, 7]  # layout N N R N N R N N: the second cell of stages 0 and 2
    with torch.no_grad():
        for k in unused:
            for p in net.cells[k].parameters():
                p.add_(torch.randn_like(p))
    assert torch.equal(before, net(x))
    with torch.no_grad():
        for p in net.cells[4].parameters():  # used: stage 1 has depth 2
            p.add_(torch.randn_like(p))
    assert not torch.equal(before, net(x))
    derived = Network(net.genotype(), 1, 3, C=2, layout=net.layout(), time_steps=2)
    assert len(derived.cells) == 6 and derived(x).shape == (3, 3)
