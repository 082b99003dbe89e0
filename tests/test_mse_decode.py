"""MSE-NAS decoder: every motif builds and runs on static and event inputs; feedback is real."""

import numpy as np
import pytest
import torch

from snnlib.layers import FactorizedReduce
from snnlib.mse.decode import (
    MotifCell,
    NetConfig,
    build_network,
    cell_inputs,
    feedback_ops,
    reduction_positions,
)
from snnlib.mse.genome import CellGene, Genome, OpGene, SearchSpace, default_ops, random_genome
from snnlib.mse.motifs import MOTIFS, get_motif
from snnlib.neurons import NeuronConfig
from snnlib.spikes import SpikeMonitor
from snnlib.validation import ConfigError


def _genome(name: str, n_cells: int = 3, fan_in: int = 2, kernel: int = 3) -> Genome:
    m = get_motif(name)
    ops = tuple(OpGene(kernel, s) for s in m.default_signs)
    return Genome(tuple(CellGene(name, ops, fan_in=fan_in) for _ in range(n_cells)))


@pytest.mark.parametrize("name", sorted(MOTIFS))
def test_every_motif_decodes_for_static_and_event_inputs(name):
    torch.manual_seed(0)
    for in_ch in (1, 2):  # static (direct) and event frames
        net = build_network(
            _genome(name, kernel=5 if in_ch == 2 else 3), in_ch, 10, NetConfig(width=4)
        )
        for T in (1, 2, 4):
            x = torch.rand(T, 3, in_ch, 16, 16)
            out = net(x)
            assert out.shape == (3, 10)
            assert torch.isfinite(out).all()


def test_macro_fan_in_and_skips_across_stages():
    g = Genome(
        tuple(
            CellGene("chain", default_ops(get_motif("chain")), fan_in=f, skips=s)
            for f, s in [(2, ()), (4, ()), (3, ()), (2, (0,)), (2, (0, 1)), (4, (0,))]
        )
    )
    net = build_network(g, 2, 11, NetConfig(width=4))
    assert net.reductions_at == (2, 4) and net.stages == (0, 0, 1, 1, 2, 2)
    assert cell_inputs(1, g.cells[1]) == (0, [-1])
    assert cell_inputs(2, g.cells[2]) == (1, [-1, 0])  # fan-in 3: cells 1, 0 and the stem
    assert cell_inputs(4, g.cells[4]) == (3, [0, 1, 2])  # fan-in 2 (3, 2) plus skips 0, 1
    assert cell_inputs(5, g.cells[5]) == (4, [0, 1, 2, 3])  # fan-in 4 (4, 3, 2, 1) plus skip 0
    out = net(torch.rand(2, 2, 2, 16, 16))
    assert out.shape == (2, 11)
    # cell 4 (stage 2) reads stage-0 cells 0 and 1 through stride-4 factorized reduces
    ad = net.in1_adapters[4]
    assert isinstance(ad["0"], FactorizedReduce) and ad["0"].stride == 4


def test_reduction_positions_and_config_errors():
    assert reduction_positions(6, 2) == (2, 4)
    assert reduction_positions(4, 2) == (1, 3)
    with pytest.raises(ConfigError):
        reduction_positions(2, 3)
    with pytest.raises(ConfigError, match="width"):
        NetConfig(width=1)
    with pytest.raises(ConfigError, match="expects"):
        build_network(_genome("chain"), 1, 10, NetConfig(width=4))(torch.rand(2, 1, 16, 16))


def test_random_genomes_run_and_have_spikes():
    rng = np.random.default_rng(0)
    space = SearchSpace()
    for _ in range(3):
        g = random_genome(rng, space)
        torch.manual_seed(1)
        net = build_network(g, 1, 10, NetConfig(width=4, stem_stride=2))
        with SpikeMonitor(net) as mon:
            out = net(torch.randn(4, 5, 1, 16, 16))
        assert out.shape == (5, 10)
        rep = mon.report()
        assert rep.nos > 0 and rep.sops > 0


def _cell(name: str, c: int = 4) -> MotifCell:
    m = get_motif(name)
    gene = CellGene(name, tuple(OpGene(3, s) for s in m.default_signs))
    return MotifCell(gene, c, NeuronConfig(threshold=0.5))


@pytest.mark.parametrize("name", [n for n, m in MOTIFS.items() if m.has_feedback])
def test_feedback_motifs_really_use_feedback(name):
    torch.manual_seed(0)
    cell = _cell(name).eval()
    for p in cell.parameters():  # make every op pass its current on
        if p.dim() == 4:
            torch.nn.init.normal_(p, 0, 0.5)
    in0, in1 = 2 * torch.rand(4, 2, 4, 6, 6), 2 * torch.rand(4, 2, 4, 6, 6)
    with torch.no_grad():
        y = cell(in0, in1)
        fb = [cell.ops[cell.motif.slot_of(e)] for e in cell.motif.edges if e.feedback]
        for op in fb:
            op.body.module[0].weight.zero_()
        y0 = cell(in0, in1)
    assert not torch.allclose(y, y0)  # feedback changes the output ...
    assert torch.equal(y[0], y0[0])  # ... but only from the second step on


def test_stepwise_equals_parallel_for_feedforward_motif_in_eval_mode():
    torch.manual_seed(0)
    cell = _cell("lateral_inhibition").eval()
    in0, in1 = 2 * torch.rand(5, 2, 4, 6, 6), 2 * torch.rand(5, 2, 4, 6, 6)
    with torch.no_grad():
        a = cell._forward_parallel(in0, in1)
        b = cell._forward_stepwise(in0, in1)
    for x, y in zip(a, b):
        assert torch.allclose(x, y, atol=1e-5)


def test_feedback_ops_listed_and_gradients_flow():
    g = Genome(
        (
            CellGene("recurrent_loop", default_ops(get_motif("recurrent_loop"))),
            CellGene("mutual_inhibition", default_ops(get_motif("mutual_inhibition"))),
        )
    )
    net = build_network(g, 1, 3, NetConfig(width=4, n_reductions=1))
    assert len(feedback_ops(net)) == 2
    net(torch.rand(3, 2, 1, 8, 8)).sum().backward()
    assert all(p.grad is not None for p in net.parameters() if p.requires_grad)
