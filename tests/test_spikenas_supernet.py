"""The SpikeNAS-Bench supernet: one-hot weights give exactly the benchmark's network of that cell,
derivation inverts the architecture id, and only alpha is architecture."""

import numpy as np
import pytest
import torch
from torch import nn

from snnlib.attention import ATTENTION
from snnlib.spikenas import SpikeNASNet, edges_of, output_reachable
from snnlib.spikenas.supernet import MixedCell, SpikeNASSupernet
from snnlib.validation import ConfigError

WIDTH, T = 1 / 16, 3

CELLS = {
    "best": (2, 3, 4, 0, 0, 4),  # the benchmark's best cell (12617), zero edges among convs
    "all zero": (0, 0, 0, 0, 0, 0),
    "unreachable": (0, 0, 0, 0, 2, 3),  # x1 and x2 get nothing: e13 and e23 see no signal
    "identities": (1, 1, 1, 1, 1, 1),
    "mixed": (1, 0, 2, 3, 1, 4),
}


def _perturb(model: nn.Module, seed: int = 0) -> None:
    """Random batch-norm affine parameters: a dead path whose batch norm would run on zeros
    then shows (its bias), so equality tests the skipping. The hidden layer's weights are
    scaled up so that its neurons fire (at initialisation the small network's logits are often
    exactly 0: an equality of zeros would test nothing)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.fc1.module.weight.mul_(20.0)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(0.3 * torch.randn(m.bias.shape, generator=g))


def _calibrate(model: nn.Module, images: torch.Tensor, *args) -> None:
    """Running statistics that describe ``images`` (the cumulative average of three
    training-mode passes), so that evaluation mode is not silent either."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(images, *args)
    for m in bns:
        m.momentum = 0.1


@pytest.fixture(scope="module")
def images():
    return torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("edges", CELLS.values(), ids=CELLS.keys())
def test_one_hot_supernet_is_the_benchmark_network(edges, images):
    torch.manual_seed(0)
    sup = SpikeNASSupernet(width=WIDTH, time_steps=T)
    _perturb(sup)
    w = SpikeNASSupernet.one_hot(edges)
    _calibrate(sup, images, w)
    net = SpikeNASNet(edges, width=WIDTH, time_steps=T)
    net.load_state_dict(sup.discrete_state_dict(edges))  # strict: every key maps
    for train in (True, False):
        sup.train(train)
        net.train(train)
        torch.manual_seed(5)  # the same dropout mask
        y_sup = sup(images, w)
        torch.manual_seed(5)
        y_net = net(images)
        assert y_sup.shape == (4, 10)
        assert (y_net.abs().sum() > 0) == output_reachable(edges)  # a dead cell: all zero
        assert torch.allclose(y_sup, y_net, atol=1e-6), (train, (y_sup - y_net).abs().max())
    # the training-mode pass updated exactly the same batch-norm statistics
    after, mine = sup.discrete_state_dict(edges), net.state_dict()
    assert all(torch.equal(after[k], mine[k]) for k in mine)


def test_mixed_edge_is_the_weighted_sum_of_its_operations():
    torch.manual_seed(0)
    cell = MixedCell(4, time_steps=2)
    x = torch.randn(2, 3, 4, 6, 6)
    w = torch.softmax(torch.randn(6, 5), -1)
    live = [[], [], [1, 3], [], [], []]  # only e03: identity and the threshold-1.0 conv
    expected = w[2, 1] * x + w[2, 3] * cell.ops["e03"][3](x)
    assert torch.allclose(cell(x, w, live), expected, atol=1e-6)


def test_derivation_round_trips_architecture_ids():
    sup = SpikeNASSupernet(width=1 / 32, time_steps=2)
    rng = np.random.default_rng(0)
    for arch_id in rng.choice(15625, 25, replace=False).tolist() + [0, 15624]:
        noise = 0.1 * torch.randn(6, 5, generator=torch.Generator().manual_seed(arch_id))
        with torch.no_grad():
            sup.alpha.copy_(noise + SpikeNASSupernet.one_hot(edges_of(arch_id)))
        assert sup.derived_arch_id() == arch_id
        assert sup.derive() == edges_of(arch_id)
    w = sup.arch_weights()
    assert w.shape == (6, 5) and torch.allclose(w.sum(1), torch.ones(6))


def test_alpha_is_the_only_architecture_parameter_and_gets_a_gradient(images):
    torch.manual_seed(0)
    sup = SpikeNASSupernet(width=WIDTH, time_steps=2, dropout=0.0)
    assert sup.arch_parameters() == [sup.alpha]
    weights = sup.weight_parameters()
    assert all(p is not sup.alpha for p in weights)
    assert len(weights) + 1 == len(list(sup.parameters()))
    assert [n for n, _ in sup.named_weight_parameters()][0] == "stem.0.weight"
    assert sup.alpha.abs().max() < 0.01  # DARTS' 1e-3 * N(0, 1)
    loss = nn.functional.cross_entropy(sup(images), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    assert sup.alpha.grad is not None and sup.alpha.grad.abs().sum() > 0
    # every edge's mixture reaches the loss
    assert (sup.alpha.grad.abs().sum(1) > 0).all()


@pytest.mark.parametrize("attention", sorted(ATTENTION))
def test_every_attention_type_builds_and_runs(attention, images):
    torch.manual_seed(0)
    sup = SpikeNASSupernet(width=WIDTH, time_steps=2, attention=attention)
    assert sup(images).shape == (4, 10)
    attention_params = [n for n, _ in sup.named_weight_parameters() if ".attention." in n]
    assert bool(attention_params) == (attention != "none")
    assert all(n.startswith(("cell1.attention.", "cell2.attention.")) for n in attention_params)
    if attention != "none":
        with pytest.raises(ConfigError, match="SpikeNASNet does not have"):
            sup.discrete_state_dict(CELLS["best"])


def test_bad_arguments_are_config_errors(images):
    sup = SpikeNASSupernet(width=1 / 32, time_steps=2)
    with pytest.raises(ConfigError, match=r"weights must be \[6, 5\]"):
        sup(images, torch.ones(6, 4))
    with pytest.raises(ConfigError, match="attention='se'"):
        SpikeNASSupernet(width=1 / 32, attention="se")
    with pytest.raises(ConfigError, match="edge e01"):
        sup.discrete_state_dict((5, 0, 0, 0, 0, 0))
