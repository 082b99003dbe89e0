"""The MA-DARTS notebooks' book glue: the search's glue values and artifacts, the retraining's
candidates, comparisons and glue values, the ablation's comparisons, and the figures."""

import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from snnlib.book.madarts_budgets import loader_sizes  # noqa: E402
from snnlib.book.madarts_figures import (  # noqa: E402
    ablation_figure,
    alphas_figure,
    cell_figures,
    nos_figure,
    retrain_figure,
    search_accuracy_figure,
    seed_frame,
    seeds_figure,
)
from snnlib.book.madarts_retraining import (  # noqa: E402
    RETRAIN_COMPARISON_KEYS,
    ablation_comparisons,
    ablation_percent_keys,
    comparison_table,
    none_if_missing,
    retrain_comparisons,
    retrain_glue_values,
    without_predictions,
)
from snnlib.book.madarts_searches import (  # noqa: E402
    format_sharpness,
    search_artifacts,
    search_glue_values,
)
from snnlib.book.madarts_summaries import (  # noqa: E402
    metric_key,
    retrain_metrics,
    search_metrics,
    sharpness_per_epoch,
)
from snnlib.darts import (  # noqa: E402
    PRIMITIVES,
    BilevelResult,
    SearchConfig,
    darts_layout,
    format_genotype,
    random_genotype,
)
from snnlib.nas.comparisons import compare, correct_matrix  # noqa: E402

G = random_genotype(0)  # 4 nodes
P = random_genotype(1)


def _epoch(k):
    w = np.full((14, len(PRIMITIVES)), 1 / len(PRIMITIVES)).tolist()
    return {
        "epoch": k,
        "alphas_normal": w,
        "alphas_reduce": w,
        "val_acc": 0.1 * k,
        "train_acc": 0.2 * k,
        "nos_val": 10.0 * k,
        "nos_train": 20.0 * k,
        "sops_val": 1.0,
        "energy_uj_val": 2.0,
        "nos_per_cell_val": {"cell0": 1.0 * k, "cell1": 2.0},
        "nos_per_cell_train": {"cell0": 3.0, "cell1": 4.0 * k},
        "arch_steps": 4,
        "step_seconds": 0.5,
    }


def _results():
    history = [_epoch(1), _epoch(2)]
    res = BilevelResult(genotype=G, layout=darts_layout(5), history=history, seconds=60.0)
    plain = BilevelResult(genotype=P, layout=darts_layout(5), history=history, seconds=30.0)
    return res, plain


def test_search_glue_values_hold_every_key_the_chapter_reads():
    res, plain = _results()
    sharp = sharpness_per_epoch(res.history)
    metrics = search_metrics(res, 99, sharp, plain)
    cfg = {"C": 4, "layers": 5, "search": SearchConfig(epochs=2, arch_lr=0.05)}
    kw = dict(cfg=cfg, image_size=16, time_steps=2, n_train=2000)
    values = search_glue_values(metrics, res, plain, **kw)
    assert values["search_minutes"] == 1.0 and values["final_val_acc_pct"] == pytest.approx(20.0)
    assert values["arch_steps"] == 8 and values["arch_movement"] == pytest.approx(0.4)
    assert (values["C"], values["layers"], values["image_size"], values["n_search_train"]) == (
        4,
        5,
        16,
        2000,
    )
    assert values["genotype_text"] == format_genotype(G)
    assert values["plain_genotype_text"] == format_genotype(P)
    assert values["step_time_ratio"] == 1.0 and values["plain_nos_val"] == 20.0
    alone = search_glue_values(search_metrics(res, 99, sharp), res, None, **kw)
    assert not [k for k in alone if "plain" in k or k == "step_time_ratio"]
    assert len(values) - len(alone) == 6
    arts = search_artifacts(res, plain, search_config={"a": 1}, split_sizes={}, sharpness=sharp)
    assert list(arts) == [
        "history",
        "search_config",
        "split_sizes",
        "alpha_sharpness",
        "history_plain",
    ]
    assert "history_plain" not in search_artifacts(
        res, None, search_config={}, split_sizes={}, sharpness=sharp
    )
    text = format_sharpness(sharp)
    assert text.splitlines()[0] == "normal 0.143/1.000 0.143/1.000"


def _row(name, accs, preds, nos=100.0):
    return {
        "name": name,
        "test_acc": float(np.mean(accs)),
        "test_acc_sd": float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0,
        "test_accs": accs,
        "nos": nos,
        "energy_uj": nos / 100,
        "params": 10,
        "seconds": 1.0,
        "predictions": preds,
    }


Y = [0, 1, 2, 3, 0, 1, 2, 3]


def _rows():
    right = list(Y)
    wrong_two = [1, 0] + Y[2:]  # 6 of 8
    wrong_four = [1, 0, 3, 2] + Y[4:]  # 4 of 8
    return [
        _row("MA-DARTS", [1.0, 0.75], [right, wrong_two]),
        _row("plain DARTS", [0.75, 0.75], [wrong_two, wrong_two], nos=80.0),
        _row("random 0", [0.5, 0.5], [wrong_four, wrong_four], nos=50.0),
        _row("random 1", [0.75, 1.0], [wrong_two, right], nos=70.0),
    ]


def test_retrain_comparisons_pair_the_candidates_over_items_and_seeds():
    rows = _rows()
    comparisons, metrics = retrain_comparisons(rows, Y, seed=0)
    assert list(comparisons)[2] == "MA-DARTS - best random cell (random 1)"
    assert [k for k in metrics if not k.endswith(("_lo", "_hi", "_p_boot"))][:4] == list(
        RETRAIN_COMPARISON_KEYS
    )
    assert metrics["derived_minus_plain"] == pytest.approx(0.875 - 0.75)
    assert metrics["derived_minus_random"] == pytest.approx(0.875 - 0.6875)
    assert metrics["derived_minus_best_random"] == pytest.approx(0.0)
    by_hand = compare(
        {
            "x": (
                correct_matrix(rows[0]["predictions"], Y),
                correct_matrix(rows[1]["predictions"], Y),
            )
        },
        seed=0,
    )["x"]
    assert metrics["derived_minus_plain_lo"] == by_hand["lo"]
    assert metrics["derived_minus_plain_by_seed"] == pytest.approx(0.125)
    assert 0 < metrics["derived_minus_plain_by_seed_t_p"] <= 1
    one_seed = [dict(r, test_accs=r["test_accs"][:1]) for r in rows]
    assert "derived_minus_plain_by_seed" not in retrain_comparisons(one_seed, Y, seed=0)[1]
    table = comparison_table(comparisons)
    assert table.index.name == "comparison" and len(table) == 4
    assert table.loc["MA-DARTS - plain DARTS", "difference (points)"] == 12.5


def test_retrain_glue_values_keep_the_chapter_keys_and_percent_rule():
    rows = _rows()
    metrics = retrain_metrics(rows, train_epochs=4)
    metrics.update(retrain_comparisons(rows, Y, seed=0)[1])
    values = retrain_glue_values(
        metrics, rows, n_random=2, retrain_C=8, plain_note="note", sizes={"train": 32, "test": 8}
    )
    assert values["derived_test_acc_pct"] == pytest.approx(87.5)
    assert values["derived_minus_median_pct"] == pytest.approx(100 * (0.875 - 0.6875))
    assert values["derived_minus_plain_pct"] == pytest.approx(12.5)
    assert values["derived_minus_plain_p_boot"] == metrics["derived_minus_plain_p_boot"]
    assert values["derived_minus_plain_by_seed_t_p"] == metrics["derived_minus_plain_by_seed_t_p"]
    assert "derived_minus_median" not in values and "derived_minus_plain" not in values
    assert values["random_best_test_acc_pct"] == pytest.approx(87.5)
    assert values["one_image_pp"] == 12.5 and values["n_train"] == 32 and values["n_test"] == 8
    assert values["test_se_pp"] == pytest.approx(100 * math.sqrt(0.875 * 0.125 / 8))
    assert values["derived_beats_median"] == "yes" and values["n_candidates"] == 4
    assert values["derived_rank"] == 1 and values["n_seeds"] == 2
    assert values["derived_test_acc_sd_pct"] == pytest.approx(100 * rows[0]["test_acc_sd"])
    no_effect = dict(metrics, cell_effect={k: None for k in metrics["cell_effect"]})
    v = retrain_glue_values(
        no_effect, rows, n_random=2, retrain_C=8, plain_note="n", sizes={"train": 1, "test": 8}
    )
    assert math.isnan(v["cell_effect_F"]) and math.isnan(v["cell_sd_noise_pp"])
    assert none_if_missing(0.0) == 0.0


def test_ablation_comparisons_name_every_variant_against_none():
    rows = [
        _row("none", [0.75], Y[:2][::-1] + Y[2:]),
        _row("tcsa", [1.0], list(Y)),
        _row("tcsa, sigmoid gate", [0.5], [1, 0, 3, 2] + Y[4:]),
    ]
    comparisons, metrics = ablation_comparisons(rows, Y, seed=0)
    assert list(comparisons) == ["tcsa - none", "tcsa, sigmoid gate - none"]
    assert metrics["tcsa_minus_none"] == pytest.approx(0.25)
    assert metrics["tcsa_sigmoid_gate_minus_none"] == pytest.approx(-0.25)
    assert ablation_percent_keys(metrics) == [
        "tcsa_minus_none",
        "tcsa_minus_none_lo",
        "tcsa_minus_none_hi",
        "tcsa_sigmoid_gate_minus_none",
        "tcsa_sigmoid_gate_minus_none_lo",
        "tcsa_sigmoid_gate_minus_none_hi",
    ]
    assert metric_key("tcsa, sigmoid gate") == "tcsa_sigmoid_gate" and metric_key("eca") == "eca"


def test_rows_lose_only_their_predictions_and_sizes_count_items():
    rows = _rows()
    kept = without_predictions(rows)
    assert all("predictions" not in r for r in kept) and "predictions" in rows[0]
    assert kept[0] == {k: v for k, v in rows[0].items() if k != "predictions"}

    class Loader:
        def __init__(self, n):
            self.dataset = list(range(n))

    assert loader_sizes({"train": Loader(5), "test": Loader(2)}) == {"train": 5, "test": 2}


def test_figures_draw_what_they_say():
    res, plain = _results()
    fig = alphas_figure(res.history, steps=4)
    assert len(fig.axes) == 8  # 4 panels and their colour bars
    assert fig.axes[2].get_yticklabels()[0].get_text() == "(2, 0)"
    figs = cell_figures(res, "title", plain)
    assert list(figs) == ["fig_normal_cell", "fig_reduce_cell", "fig_plain_cells"]
    assert list(cell_figures(res, "title")) == ["fig_normal_cell", "fig_reduce_cell"]
    fig = nos_figure(res, "tcsa", plain)
    lines = fig.axes[0].get_lines()
    assert [list(line.get_ydata()) for line in lines] == [[3.0, 3.0], [4.0, 8.0]]
    assert len(fig.axes[2].get_lines()) == 4 and len(nos_figure(res, "tcsa").axes[2].lines) == 2
    fig = search_accuracy_figure(res, "tcsa", plain)
    assert list(fig.axes[0].get_lines()[1].get_ydata()) == [0.1, 0.2]
    rows = _rows()
    fig = retrain_figure(rows, "tcsa", "digits, smoke")
    assert fig.axes[0].get_title() == "Retrained at the same budget (digits, smoke)"
    assert len(fig.axes[1].collections) == 4
    frame = seed_frame(rows)
    assert list(frame["group"]) == ["MA-DARTS"] * 2 + ["plain DARTS"] * 2 + ["random cells"] * 4
    assert frame["test accuracy"].iloc[0] == 100.0
    assert seeds_figure(rows, "x").axes[0].get_title() == "Every retraining (x)"
    fig = ablation_figure(rows[:3], "digits")
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == pytest.approx([87.5, 75.0, 50.0])
    assert fig.axes[0].get_ylim()[0] == pytest.approx(45.0)
    plt.close("all")
