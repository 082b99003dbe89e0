"""The notebooks' pieces of MA-DARTS: the shared retraining budget, what is retrained, and
the metrics the search, retraining and ablation notebooks report."""

import numpy as np
import pytest

from snnlib.book.madarts_budgets import (
    retrain_budgets,
    retraining_seeds,
)
from snnlib.book.madarts_candidates import (
    NO_PLAIN_NOTE,
    PLAIN_NOTE,
    RANDOM_CELL_SEED,
    attention_variants,
    plain_cells,
    random_candidates,
    retraining_candidates,
)
from snnlib.book.madarts_summaries import (
    ablation_metrics,
    add_ablation_deltas,
    metric_key,
    op_share,
    retrain_metrics,
    search_metrics,
    sharpness_per_epoch,
)
from snnlib.darts import (
    BilevelResult,
    DartsArchitecture,
    darts_layout,
    genotype_to_dict,
    layout_to_dict,
    random_genotype,
    stage_layout,
)
from snnlib.darts.genotype import Genotype
from snnlib.nas.statistics import cell_effect
from snnlib.validation import ConfigError

G = Genotype(
    normal=(("skip_connect", 0), ("spike_conv_3x3", 1), ("dil_conv_3x3", 0), ("skip_connect", 2)),
    normal_concat=(2, 3),
    reduce=(("max_pool_3x3", 0), ("avg_pool_3x3", 1), ("max_pool_3x3", 1), ("spike_conv_5x5", 2)),
    reduce_concat=(2, 3),
)


def test_retrain_budgets_cover_every_scale_and_are_fresh_copies():
    a, b = retrain_budgets(), retrain_budgets()
    assert set(a) == {"smoke", "cpu", "paper"}
    assert [a[s]["n_seeds"] for s in ("smoke", "cpu", "paper")] == [1, 3, 1]
    assert a["cpu"]["train"].epochs == 4 and a["paper"]["C"] == 64
    a["cpu"]["C"] = 99
    assert b["cpu"]["C"] == 8 and retrain_budgets()["cpu"]["C"] == 8


def test_retraining_seeds_count_from_the_seed():
    assert retraining_seeds(5, 2, default=3) == [5, 6]
    assert retraining_seeds(5, 0, default=3) == [5, 6, 7]
    with pytest.raises(ConfigError, match="n_seeds"):
        retraining_seeds(0, -1, default=3)


def _arch(**extra):
    return {
        "genotype": genotype_to_dict(G),
        "layout": layout_to_dict(darts_layout(5)),
        "attention": "tcsa",
        "placement": "node",
        "time_steps": 2,
        "steps": 2,
        **extra,
    }


def test_the_search_record_gives_the_retraining_layout_and_the_plain_cells():
    plain = random_genotype(3, steps=2, multiplier=2)
    a = DartsArchitecture.from_dict(_arch(gate="scaled_sigmoid"))
    assert a.retrain_layout(8) == darts_layout(8)  # the fixed layout at retraining depth
    assert plain_cells(a) == (G, NO_PLAIN_NOTE)
    assert (a.attention, a.placement, a.gate, a.steps) == ("tcsa", "node", "scaled_sigmoid", 2)
    options = a.network_options(8)
    assert options == dict(
        layout=darts_layout(8),
        time_steps=2,
        placement="node",
        attention_kwargs={"gate": "scaled_sigmoid"},
    )
    macro = stage_layout((1, 2, 1))
    b = DartsArchitecture.from_dict(
        _arch(layout=layout_to_dict(macro), plain_darts={"genotype": genotype_to_dict(plain)}),
    )
    assert b.retrain_layout(8) == macro  # a macro search keeps its stage depths
    assert plain_cells(b) == (plain, PLAIN_NOTE)
    assert b.gate == "sigmoid"  # results written before the scaled gate
    names = [(n, att) for n, _, att in retraining_candidates(b, seed=2, n_random=2)]
    assert names == [
        ("MA-DARTS", "tcsa"),
        ("plain DARTS", "none"),
        ("random 0", "tcsa"),
        ("random 1", "tcsa"),
    ]
    assert retraining_candidates(b, 2, 2)[1][1] == plain
    assert (
        retraining_candidates(b, 2, 2)[2][1]
        == random_candidates(2, 1, steps=2, attention="x")[0][1]
    )


def test_random_candidates_are_a_fixed_stream_per_seed():
    c = random_candidates(2, 3, steps=2, attention="eca")
    assert [name for name, _, _ in c] == ["random 0", "random 1", "random 2"]
    assert all(att == "eca" for _, _, att in c)
    assert c[1][1] == random_genotype(RANDOM_CELL_SEED + 3, steps=2, multiplier=2)
    assert random_candidates(2, 2, steps=2, attention="eca")[1][1] == c[1][1]
    assert random_candidates(3, 1, steps=2, attention="eca")[0][1] == c[1][1]  # 1000 + 3 + 0
    assert len({g for _, g, _ in c}) == 3


def test_attention_variants():
    v = attention_variants(compare_gates=False)
    assert v == [(a, a, "scaled_sigmoid") for a in ("none", "eca", "cbam", "tcsa")]
    assert attention_variants(True)[-1] == ("tcsa, sigmoid gate", "tcsa", "sigmoid")


def test_op_share_counts_edges():
    assert op_share(G, "normal", ("skip_connect",)) == 0.5
    assert op_share(G, "reduce", ("max_pool_3x3",)) == 0.5
    assert op_share(G, "reduce", ("max_pool_3x3", "avg_pool_3x3")) == 0.75


def _epoch(k, sharp):
    uniform = [[1 / 7] * 7] * 5
    peaked = [[0.4] + [0.1] * 6] * 5
    w = peaked if sharp else uniform
    return {
        "epoch": k,
        "alphas_normal": w,
        "alphas_reduce": uniform,
        "val_acc": 0.1 * k,
        "train_acc": 0.2 * k,
        "nos_val": 10.0 * k,
        "nos_train": 20.0 * k,
        "sops_val": 1.0,
        "energy_uj_val": 2.0,
        "nos_per_cell_val": {"cell0": 1.0},
        "arch_steps": 3,
        "step_seconds": 0.5 * k,
    }


def test_sharpness_and_search_metrics():
    history = [_epoch(1, False), _epoch(2, True)]
    sharp = sharpness_per_epoch(history)
    assert [e["max_weight"] for e in sharp["normal"]] == pytest.approx([1 / 7, 0.4])
    assert sharp["reduce"][1]["entropy"] == pytest.approx(1.0)
    res = BilevelResult(genotype=G, layout=darts_layout(5), history=history, seconds=30.0)
    plain = BilevelResult(genotype=G, layout=darts_layout(5), history=history[:1], seconds=5.0)
    m = search_metrics(res, 123, sharp, plain)
    assert m["epochs"] == 2 and m["final_val_acc"] == 0.2 and m["supernet_params"] == 123
    assert m["step_seconds"] == pytest.approx(0.75) and m["nos_val"] == 20.0
    assert m["reduce_pool_share"] == 0.75 and m["normal_conv_share"] == 0.5
    assert m["alpha_max_weight_normal"] == pytest.approx(0.4)
    assert m["alpha_uniform_weight"] == pytest.approx(1 / 7)
    assert m["step_time_ratio"] == pytest.approx(0.75 / 0.5) and m["same_genotype_as_plain"]
    assert "plain_nos_val" not in search_metrics(res, 123, sharp)


def _row(name, accs, nos):
    return {
        "name": name,
        "test_acc": float(np.mean(accs)),
        "test_acc_sd": float(np.std(accs, ddof=1)),
        "test_accs": accs,
        "nos": nos,
        "energy_uj": nos / 100,
        "params": 10,
        "seconds": 1.5,
    }


def test_retrain_metrics_compare_derived_with_plain_and_random_cells():
    rows = [
        _row("MA-DARTS", [0.90, 0.92], 100.0),
        _row("plain DARTS", [0.93, 0.95], 80.0),
        _row("random 0", [0.80, 0.82], 50.0),
        _row("random 1", [0.88, 0.90], 70.0),
        _row("random 2", [0.94, 0.96], 90.0),
    ]
    m = retrain_metrics(rows, train_epochs=8)
    assert m["random_median_test_acc"] == pytest.approx(0.89)
    assert m["random_best_test_acc"] == pytest.approx(0.95)
    assert m["derived_minus_median"] == pytest.approx(0.02) and m["derived_beats_median"]
    assert m["derived_rank"] == 3  # plain DARTS and random 2 are better
    assert m["random_median_nos"] == 70.0 and m["n_seeds"] == 2 and m["train_epochs"] == 8
    assert m["train_seconds_total"] == pytest.approx(7.5)
    assert m["cell_effect"] == cell_effect([r["test_accs"] for r in rows])
    assert m["cell_effect_random_only"]["n_runs"] == 6


def test_ablation_deltas_and_metric_keys():
    rows = [
        {"name": "none", "test_acc": 0.90, "nos": 200.0},
        {"name": "tcsa", "test_acc": 0.93, "nos": 150.0},
        {"name": "tcsa, sigmoid gate", "test_acc": 0.85, "nos": 300.0},
    ]
    assert add_ablation_deltas(rows) is rows
    assert [r["delta_acc_pp"] for r in rows] == pytest.approx([0.0, 3.0, -5.0])
    assert [r["delta_nos_pct"] for r in rows] == pytest.approx([0.0, -25.0, 50.0])
    assert metric_key("tcsa, sigmoid gate") == "tcsa_sigmoid_gate"
    m = ablation_metrics(rows, train_epochs=8)
    assert list(m)[:3] == ["none_test_acc", "tcsa_test_acc", "tcsa_sigmoid_gate_test_acc"]
    assert m["tcsa_sigmoid_gate_delta_pp"] == pytest.approx(-5.0) and m["tcsa_nos"] == 150.0
    assert m["train_epochs"] == 8 and len(m) == 10
