"""Multi-dimensional attention: shapes, identity, what each gate may depend on."""

import pytest
import torch
from torch import nn

from snnlib.darts.attention import (
    ATTENTION,
    ChannelECA,
    ChannelSE,
    SpatialAttention,
    TemporalAttention,
    eca_kernel_size,
    make_attention,
    register_attention,
)
from snnlib.validation import ConfigError


@pytest.mark.parametrize("kind", ATTENTION)
@pytest.mark.parametrize("T", [1, 2, 4])
def test_make_attention_keeps_shape(kind, T):
    x = torch.randn(T, 3, 16, 5, 7)
    y = make_attention(kind, 16, T)(x)
    assert y.shape == x.shape and torch.isfinite(y).all()


def test_none_is_an_exact_no_op():
    att = make_attention("none", 16, 2)
    x = torch.randn(2, 3, 16, 4, 4)
    assert isinstance(att, nn.Identity) and att(x) is x
    assert sum(p.numel() for p in att.parameters()) == 0


def _gate(module, x):
    return module(x) / x


def test_temporal_gate_is_one_number_per_step_and_sample():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 8, 5, 5) + 0.5
    g = _gate(TemporalAttention(4, gate="sigmoid"), x)
    flat = g.flatten(2)
    assert torch.allclose(flat, flat[..., :1].expand_as(flat), atol=1e-6)
    assert ((g > 0) & (g < 1)).all()
    assert not torch.allclose(flat[0, :, 0], flat[1, :, 0])  # steps are weighted differently


@pytest.mark.parametrize("module", [ChannelECA(16, gate="sigmoid"), ChannelSE(16, gate="sigmoid")])
def test_channel_gates_are_constant_over_space(module):
    x = torch.rand(2, 3, 16, 5, 5) + 0.5
    g = _gate(module, x)
    assert torch.allclose(g, g[..., :1, :1].expand_as(g), atol=1e-6)
    assert ((g > 0) & (g < 1)).all()


def test_spatial_gate_is_constant_over_channels():
    x = torch.rand(2, 3, 16, 5, 5) + 0.5
    g = _gate(SpatialAttention(), x)
    assert torch.allclose(g, g[:, :, :1].expand_as(g), atol=1e-6)


def test_attention_is_per_time_step_for_channel_and_space():
    """Channel and spatial gates of step t depend on step t only."""
    torch.manual_seed(1)
    for module in (ChannelECA(8), ChannelSE(8), SpatialAttention()):
        x = torch.rand(3, 2, 8, 4, 4)
        x2 = x.clone()
        x2[2] = torch.rand(2, 8, 4, 4)
        assert torch.allclose(module(x)[:2], module(x2)[:2])


def test_default_scaled_sigmoid_gate_starts_at_one_and_ranges_to_two():
    att = make_attention("tcsa", 8, 2)
    torch.manual_seed(0)
    x = torch.rand(2, 3, 8, 4, 4) + 0.5
    g = _gate(ChannelSE(8), x)
    assert ((g > 0) & (g < 2)).all() and (g > 1).any() and (g < 1).any()
    for p in att.parameters():
        nn.init.zeros_(p)
    x = torch.randn(2, 3, 8, 4, 4)
    assert torch.allclose(att(x), x)


def test_eca_kernel_size_follows_the_paper():
    assert [eca_kernel_size(c) for c in (16, 64, 256, 512)] == [3, 3, 5, 5]


def test_attention_errors():
    with pytest.raises(ConfigError, match="attention='se'"):
        make_attention("se", 8, 2)
    with pytest.raises(ConfigError, match="built for T=2"):
        make_attention("tcsa", 8, 2)(torch.randn(4, 1, 8, 3, 3))
    with pytest.raises(ConfigError, match=r"\[T, B, C, H, W\]"):
        make_attention("cbam", 8, 2)(torch.randn(2, 8, 3, 3))


class _Halve(nn.Module):
    def forward(self, x):
        return 0.5 * x


def test_register_attention_adds_one_entry_usable_by_both_networks(monkeypatch):
    from snnlib import attention as attention_mod  # the registry's home (darts re-exports it)
    from snnlib.darts import Network, SearchNetwork, random_genotype

    monkeypatch.setattr(attention_mod, "ATTENTION", dict(attention_mod.ATTENTION))
    state = torch.get_rng_state()
    register_attention("halve", lambda C, T, **_: _Halve())
    assert torch.equal(torch.get_rng_state(), state)  # the trial build draws nothing
    assert "halve" in attention_mod.ATTENTION
    x = torch.randn(2, 3, 4, 5, 5)
    assert torch.equal(make_attention("halve", 4, 2)(x), 0.5 * x)
    net = SearchNetwork(1, 3, C=2, layers=3, steps=2, multiplier=2, attention="halve")
    assert isinstance(net.cells[0].attention, _Halve)
    derived = Network(random_genotype(0, steps=2, multiplier=2), 1, 3, C=2, layers=3)
    assert derived(torch.rand(2, 2, 1, 8, 8)).shape == (2, 3)


def test_register_attention_refuses_bad_entries(monkeypatch):
    from snnlib import attention as attention_mod

    monkeypatch.setattr(attention_mod, "ATTENTION", dict(attention_mod.ATTENTION))
    with pytest.raises(ConfigError, match=r"already registered; registered: \['cbam'"):
        register_attention("eca", lambda C, T, **_: nn.Identity())
    with pytest.raises(ConfigError, match="must keep the shape"):
        register_attention("pool", lambda C, T, **_: nn.AvgPool3d((1, 2, 2)))
    with pytest.raises(ConfigError, match="callable"):
        register_attention("x", "not a factory")
    assert sorted(attention_mod.ATTENTION) == ["cbam", "eca", "none", "tcsa"]


def test_unknown_attention_lists_the_registered_names():
    with pytest.raises(ConfigError, match=r"choose one of \['none', 'eca', 'cbam', 'tcsa'\]"):
        make_attention("se", 8, 2)
