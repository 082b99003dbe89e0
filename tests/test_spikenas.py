"""SpikeNAS-Bench space, network and table against the benchmark's own facts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snnlib.models import count_parameters
from snnlib.neurons import LIF
from snnlib.spikenas import (
    N_ARCHS,
    SpikeNASNet,
    all_edges,
    arch_id_of,
    benchmark_neuron,
    edges_of,
    load_table,
    output_reachable,
)
from snnlib.spikenas.network import TAU
from snnlib.validation import ConfigError


@pytest.fixture(scope="module")
def table():
    return load_table()


def test_arch_id_round_trips_for_all_15625():
    assert all(arch_id_of(edges_of(a)) == a for a in range(N_ARCHS))
    assert np.array_equal(all_edges(), np.array([edges_of(a) for a in range(N_ARCHS)]))


def test_edges_are_base5_least_significant_first():
    assert edges_of(1) == (1, 0, 0, 0, 0, 0)
    assert edges_of(5**5) == (0, 0, 0, 0, 0, 1)
    assert arch_id_of((4, 4, 4, 4, 4, 4)) == N_ARCHS - 1


def test_exactly_the_unreachable_cells_score_ten_percent(table):
    unreachable = np.array([not output_reachable(e) for e in all_edges()])
    assert unreachable.sum() == 341
    assert np.array_equal(unreachable, table.test_acc == 10.0)


def test_table_facts(table):
    assert table.query(12617)["test_acc"] == 89.3
    assert int(table.test_acc.argmax()) == 12617
    live = table.test_acc[table.test_acc > 10]
    assert np.median(table.test_acc) == pytest.approx(87.24, abs=0.01)
    assert live.min() > 10
    assert table.percentile(89.3) == 100.0


@pytest.mark.parametrize(
    "arch_id", list(np.random.default_rng(0).choice(N_ARCHS, 50, replace=False))
)
def test_full_width_parameter_count_equals_the_table(table, arch_id):
    """The network built at the benchmark's width has exactly the table's ``params``."""
    net = SpikeNASNet(edges_of(int(arch_id)), width=1.0)
    assert count_parameters(net) == table.params[arch_id]


def test_reduced_width_network_runs_and_dead_cells_are_silent():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 32, 32)
    live = SpikeNASNet(edges_of(12617), width=1 / 16).eval()
    dead = SpikeNASNet((0, 0, 0, 0, 0, 0), width=1 / 16).eval()
    assert live(x).shape == (4, 10)
    with torch.no_grad():
        out = dead.cell1(dead.stem(x).unsqueeze(0).expand(5, 4, -1, -1, -1))
    assert torch.count_nonzero(out) == 0


def test_benchmark_neuron_equals_spikingjelly_lif():
    """V += (X - V)/tau, spike at V >= theta, hard reset to 0 (SpikingJelly's LIFNode), step by
    step in float64, against snnlib's LIF with the equivalent configuration."""
    torch.manual_seed(1)
    x = torch.rand(12, 3, 50, dtype=torch.float64) * 2
    theta = 1.0
    v = torch.zeros(3, 50, dtype=torch.float64)
    ref = []
    for t in range(12):
        v = v + (x[t] - v) / TAU
        s = (v >= theta).to(x.dtype)
        v = v * (1 - s)
        ref.append(s)
    ref = torch.stack(ref)
    out = LIF(benchmark_neuron(theta))(x)
    assert ref.sum() > 0
    assert torch.equal(out.to(ref.dtype), ref)


def test_bad_input_names_the_field(tmp_path):
    with pytest.raises(ConfigError, match="arch_id"):
        edges_of(N_ARCHS)
    with pytest.raises(ConfigError, match="e12"):
        arch_id_of((0, 0, 0, 7, 0, 0))
    bad = tmp_path / "t.csv"
    bad.write_text("arch_id,test_acc\n0,10\n")
    with pytest.raises(ConfigError, match="does not match"):
        load_table(bad)
    with pytest.raises(ConfigError, match="lacks columns"):
        load_table(bad, expected_sha256=None)
