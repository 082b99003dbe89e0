"""Genotypes: derivation from hand-set alphas, random cells, JSON round trip, drawing."""

import json

import matplotlib

matplotlib.use("Agg")
import pytest
import torch

from snnlib.darts import (
    Genotype,
    derive_genotype,
    format_genotype,
    genotype_from_dict,
    genotype_from_json,
    genotype_to_json,
    plot_cell,
    random_genotype,
)
from snnlib.darts.operations import PRIMITIVES
from snnlib.validation import ConfigError

OP = {name: k for k, name in enumerate(PRIMITIVES)}


def _alphas(entries, steps=2):
    """Edges (2,0),(2,1),(3,0),(3,1),(3,2) for steps=2; ``entries[edge] = {op: value}``."""
    a = torch.zeros(len(entries), len(PRIMITIVES))
    for row, values in enumerate(entries):
        for op, v in values.items():
            a[row, OP[op]] = v
    return a


def test_derivation_from_hand_set_alphas():
    normal = _alphas(
        [
            {"spike_conv_3x3": 5.0},  # (2,0): strength 0.96
            {"max_pool_3x3": 3.0},  # (2,1): 0.77
            {
                "none": 10.0,
                "skip_connect": 1.0,
            },  # (3,0): `none` dominates, skip weight ~1e-4: dropped
            {"dil_conv_3x3": 4.0},  # (3,1): 0.90
            {"spike_conv_5x5": 2.0},  # (3,2): 0.55
        ]
    )
    reduce = _alphas(
        [
            {"avg_pool_3x3": 1.0},  # (2,0): 0.31
            {"max_pool_3x3": 2.0, "skip_connect": 1.9},  # (2,1): 0.51
            {"skip_connect": 3.0},  # (3,0): 0.77
            {"none": 3.0, "max_pool_3x3": 2.5},  # (3,1): 0.31 (`none` ignored for the op)
            {"spike_conv_3x3": 0.5},  # (3,2): 0.22
        ]
    )
    g = derive_genotype(normal, reduce, steps=2, multiplier=2)
    assert g == Genotype(
        normal=(
            ("spike_conv_3x3", 0),
            ("max_pool_3x3", 1),
            ("dil_conv_3x3", 1),
            ("spike_conv_5x5", 2),
        ),
        normal_concat=(2, 3),
        reduce=(("max_pool_3x3", 1), ("avg_pool_3x3", 0), ("skip_connect", 0), ("max_pool_3x3", 1)),
        reduce_concat=(2, 3),
    )


def test_derivation_ties_go_to_the_lower_index():
    zeros = torch.zeros(5, len(PRIMITIVES))
    g = derive_genotype(zeros, zeros, steps=2, multiplier=2)
    assert g.normal == (
        ("skip_connect", 0),
        ("skip_connect", 1),
        ("skip_connect", 0),
        ("skip_connect", 1),
    )


def test_derivation_rejects_mismatched_shapes():
    with pytest.raises(ConfigError, match="expected \\(14, 7\\)"):
        derive_genotype(torch.zeros(5, 7), torch.zeros(5, 7), steps=4)


def test_random_genotype_is_valid_and_seeded():
    g = random_genotype(3)
    assert g == random_genotype(3) and g != random_genotype(4)
    assert len(g.normal) == 8 and g.normal_concat == (2, 3, 4, 5)
    for k, (op, j) in enumerate(g.normal + g.reduce):
        assert op in PRIMITIVES and op != "none"
        assert 0 <= j < 2 + (k % 8) // 2
    for cell in (g.normal, g.reduce):
        for k in range(0, 8, 2):
            assert cell[k][1] != cell[k + 1][1]  # two distinct inputs per node


def test_json_round_trip_and_immutability():
    g = random_genotype(0)
    text = genotype_to_json(g)
    assert genotype_from_json(text) == g
    assert isinstance(hash(g), int)
    assert json.loads(text)["normal"][0] == list(g.normal[0])
    assert "normal:" in format_genotype(g)


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda d: d.pop("reduce"), "missing \\['reduce'\\]"),
        (lambda d: d.update(extra=1), "unexpected \\['extra'\\]"),
        (lambda d: d["normal"].__setitem__(0, ["conv_9x9", 0]), "'conv_9x9' is not allowed"),
        (lambda d: d["normal"].__setitem__(0, ["none", 0]), "'none' is not allowed"),
        (lambda d: d["normal"].__setitem__(0, ["skip_connect", 2]), "input 2 of node 2"),
        (lambda d: d["normal"].pop(), "two per node"),
        (lambda d: d["normal_concat"].append(9), "9 is not an intermediate node"),
        (lambda d: d["reduce"].__setitem__(1, "skip"), "must be an \\[op, input\\] pair"),
    ],
)
def test_malformed_genotypes_raise_clear_errors(mutate, message):
    d = json.loads(genotype_to_json(random_genotype(0)))
    mutate(d)
    with pytest.raises(ConfigError, match=message):
        genotype_from_dict(d)


def test_malformed_json_text():
    with pytest.raises(ConfigError, match="not valid JSON"):
        genotype_from_json("{normal: oops")
    with pytest.raises(ConfigError, match="JSON object"):
        genotype_from_json("[1, 2]")


def test_plot_cell_draws_every_edge():
    import matplotlib.pyplot as plt

    g = random_genotype(1)
    fig = plot_cell(g, "reduce")
    texts = [
        t.get_text() for t in fig.axes[0].texts if t.get_text()
    ]  # arrows are empty annotations
    for op, _ in g.reduce:
        assert op in texts
    assert texts.count("c$_{k}$") == 1
    assert len(texts) == 8 + 4 + 3  # edge labels, intermediate nodes, 3 named nodes
    plt.close(fig)
    with pytest.raises(ConfigError):
        plot_cell(g, "both")


def test_alpha_sharpness_from_uniform_to_one_hot():
    from snnlib.darts import alpha_sharpness

    uniform = alpha_sharpness(torch.full((14, 7), 1 / 7, dtype=torch.float64))
    assert uniform["max_weight"] == pytest.approx(1 / 7) and uniform["entropy"] == pytest.approx(
        1.0
    )
    one_hot = alpha_sharpness(torch.eye(7, dtype=torch.float64))
    assert one_hot["max_weight"] == 1.0 and one_hot["entropy"] == pytest.approx(0.0, abs=1e-12)
    # half the edges decided, half uniform: the averages sit halfway
    mixed = alpha_sharpness(
        torch.cat(
            [torch.eye(7, dtype=torch.float64), torch.full((7, 7), 1 / 7, dtype=torch.float64)]
        )
    )
    assert mixed["max_weight"] == pytest.approx((1 + 1 / 7) / 2) and mixed[
        "entropy"
    ] == pytest.approx(0.5)
    with pytest.raises(ConfigError, match=r"\[edges, ops\]"):
        alpha_sharpness(torch.ones(7))
