"""The MSE-NAS chapters' page logic (snnlib.book.mse_search, mse_retrain, mse_ablations,
mse_glue): rows, metrics and glued numbers computed from known inputs."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from snnlib.book import mse_ablations, mse_retrain, mse_search
from snnlib.book.mse_glue import accuracy_keys, glue_numbers, page_numbers
from snnlib.mse import NetConfig, SearchSpace, random_genome
from snnlib.mse.evolution import EvolutionConfig, EvolutionResult
from snnlib.mse.experiment import TensorData, train_genome, train_once
from snnlib.mse.fitness import DataSpec
from snnlib.nas.reference import ReferenceCNN
from snnlib.train import TrainConfig
from snnlib.validation import ConfigError


# -- glue -------------------------------------------------------------------------------------
def test_page_numbers_keep_only_single_numbers_and_glue_percent():
    metrics = {
        "a_acc": 0.25,
        "n": np.int64(3),
        "f": np.float64(0.5),
        "ok": True,
        "l": [1],
        "x": None,
    }
    assert page_numbers(metrics) == {"a_acc": 0.25, "n": 3, "f": 0.5}
    assert accuracy_keys(metrics) == ["a_acc"]
    glued = glue_numbers(metrics, percent=["a_acc", "x"])
    assert glued == {"a_acc": 0.25, "a_acc_pct": 25.0, "n": 3, "f": 0.5}
    assert type(glued["n"]) is int  # numpy scalars become Python numbers


# -- search -----------------------------------------------------------------------------------
def _search_result():
    rng = np.random.default_rng(0)
    genomes = [random_genome(rng, SearchSpace(n_cells=3)) for _ in range(4)]
    fitness = [0.1, 0.4, 0.3, 0.2]
    history = [
        {"generation": 0, "best": 0.4, "mean": 0.25, "diversity": 0.8},
        {"generation": 1, "best": 0.4, "mean": 0.35, "diversity": 0.6},
    ]
    archive = {g.hash(): g for g in genomes}
    cache = {g.hash(): f for g, f in zip(genomes, fitness)}
    result = EvolutionResult(genomes[1], 0.4, history, genomes, fitness, cache, archive, 4, 2.0)
    return result, genomes


def test_search_metrics_and_records():
    result, genomes = _search_result()
    evolution = EvolutionConfig(population=2, generations=1, elitism=1)
    m = mse_search.search_metrics(result, 3.0, evolution, 40, 0.5)
    assert (m["gen0_best_fitness"], m["gen0_mean_fitness"]) == (0.4, 0.25)
    assert (m["final_mean_fitness"], m["final_diversity"]) == (0.35, 0.6)
    assert m["seconds_per_evaluation"] == 0.5 and m["poor_fitness"] == 0.1
    assert (m["population"], m["generations"], m["probe_size"]) == (2, 1, 40)
    signs = [o.sign < 0 for c in genomes[1].cells for o in c.ops]
    assert m["inhibitory_fraction"] == sum(signs) / len(signs)
    assert "3.0 s" in mse_search.search_line(m) and "50 %" in mse_search.search_line(m)
    assert mse_search.first_genomes(result, 2) == genomes[:2]
    top = mse_search.top_records(result.ranked(), 2)
    assert [t["fitness"] for t in top] == [0.4, 0.3] and top[0]["hash"] == genomes[1].hash()
    counts = mse_search.motif_counts(genomes[0])
    assert sum(counts.values()) == 3 and all(counts.values())
    assert mse_search.space_record(SearchSpace(n_cells=3))["n_cells"] == 3
    with pytest.raises(ConfigError, match="no generation 5"):
        mse_search.generation(result.history, 5)


# -- retrain ----------------------------------------------------------------------------------
def _rows():
    """Two seeds of found and CNN, three random genomes, on 4 test items; a transfer set."""
    y = [0, 1, 2, 3]

    def row(model, ds, seed, acc, preds):
        return {
            "model": model,
            "dataset": ds,
            "seed": seed,
            "test_acc": acc,
            "nos": 10.0,
            "energy_uj": 0.5,
            "params": 7,
            "train_seconds": 1.0,
            "predictions": preds,
        }

    rows = [
        row("MSE-NAS found", "a", 0, 0.75, [0, 1, 2, 0]),
        row("MSE-NAS found", "a", 1, 1.0, [0, 1, 2, 3]),
        row("random 0", "a", 0, 0.25, [0, 0, 0, 0]),
        row("random 1", "a", 0, 0.5, [0, 1, 0, 0]),
        row("random 2", "a", 0, 0.0, [1, 0, 0, 0]),
        row("SpikingCNN (hand-designed)", "a", 0, 0.5, [0, 1, 0, 0]),
        row("SpikingCNN (hand-designed)", "a", 1, 0.75, [0, 1, 2, 0]),
        row("MSE-NAS found", "b", 0, 0.6, None),
        row("random 0", "b", 0, 0.2, None),
        row("SpikingCNN (hand-designed)", "b", 0, 0.4, None),
    ]
    return rows, np.array(y)


def test_accuracy_summary_and_metrics_of_known_rows():
    rows, y = _rows()
    acc = mse_retrain.accuracy_summary(rows, "a", num_classes=4)
    assert acc["found_accs"] == [0.75, 1.0] and acc["found_acc"] == 0.875
    assert acc["random_median"] == 0.25 and acc["cnn_acc"] == 0.625
    # chance is 1.5 / 4 = 0.375: only random 1 (0.5) learned
    assert acc["n_not_learning"] == 2 and acc["live_median"] == 0.5
    comps = mse_retrain.comparisons(rows, "a", y, seed=0)
    assert comps["found - SpikingCNN"]["diff"] == pytest.approx(0.875 - 0.625)
    assert comps["found - best random genome"]["diff"] == pytest.approx(0.875 - 0.5)
    settings = {
        "epochs": 1,
        "n_random": 3,
        "n_transfer_random": 1,
        "n_seeds": 2,
        "n_test": 4,
        "n_train": 9,
    }
    search = {"metrics": {"best_fitness": 1.5}}
    m = mse_retrain.retrain_metrics(rows, "a", "b", 4, comps, search, settings)
    assert m["found_rank_among_random"] == 1 and m["random_min_test_acc"] == 0.0
    assert m["found_beats_random_median"] and m["found_beats_learning_median"]
    assert m["search_fitness"] == 1.5 and m["total_train_seconds"] == 10.0
    assert m["found_minus_cnn"] == pytest.approx(0.25) and "found_minus_cnn_lo" in m
    assert m["found_minus_cnn_by_seed"] == pytest.approx(0.25)  # (0.25 + 0.25) / 2
    assert math.isnan(m["found_minus_cnn_by_seed_t_p"])  # no spread of the differences
    assert m["transfer_found_test_acc"] == 0.6 and m["transfer_random_median_test_acc"] == 0.2
    assert m["transfer_random_test_accs"] == [0.2] and m["transfer_cnn_test_acc"] == 0.4
    keys = mse_retrain.percent_keys(m)
    assert "found_minus_cnn_lo" in keys and "found_minus_cnn_p_boot" not in keys
    assert "found_minus_cnn_by_seed_t_p" not in keys and "transfer_found_test_acc" in keys
    assert mse_retrain.verdicts(m) == {"found_verdict": "beats", "found_verdict_learning": "beats"}
    one = mse_retrain.retrain_metrics(rows, "a", "", 4, comps, search, settings | {"n_seeds": 1})
    assert "transfer_found_test_acc" not in one and one["n_transfer_random"] == 0


def test_tables_panels_and_file_rows():
    rows, _ = _rows()
    table = mse_retrain.results_table(rows)
    assert list(table.columns)[3] == "test accuracy" and len(table) == len(rows)
    frame = mse_retrain.plot_frame(rows, "b")
    assert list(frame["group"]) == ["MSE-NAS found", "random genomes", "SpikingCNN"]
    assert mse_retrain.panels("a", "") == {"a": "trained and tested on a"}
    assert list(mse_retrain.panels("a", "b").values())[1] == "transfer to b"
    assert all("predictions" not in r for r in mse_retrain.file_rows(rows))
    assert mse_retrain.by_seed_line(None) == ""
    assert mse_retrain.transfer_target("b", False, "cpu", "a") == ""
    assert mse_retrain.transfer_target("b", True, "cpu", "a") == "b"
    comp = mse_retrain.comparison_table(mse_retrain.comparisons(rows, "a", np.arange(4), 0))
    assert comp.index.name == "comparison" and len(comp) == 3


def _toy_data():
    y = torch.arange(4).repeat_interleave(6)
    x = torch.randn(len(y), 1, 16, 16, generator=torch.Generator().manual_seed(2))
    x = x + y[:, None, None, None]
    return TensorData("toy", DataSpec(1, 4, "direct", 2), (x, y), (x, y), (x, y))


def test_train_models_runs_every_network_in_the_chapters_order():
    data, net = _toy_data(), NetConfig(width=4, stem_stride=2)
    rng = np.random.default_rng(0)
    found, *randoms = (random_genome(rng, SearchSpace(n_cells=3)) for _ in range(3))
    budget = dict(train=TrainConfig(epochs=1, max_batches=2), batch_size=8, progress=False)
    models = mse_retrain.train_models(found, randoms, data, net, 4, [5, 6], 5, **budget)
    assert [m.model for m in models] == [
        "MSE-NAS found",
        "random 0",
        "random 1",
        "SpikingCNN (hand-designed)",
    ]
    assert [m.result.seeds for m in models] == [[5, 6], [5], [5], [5, 6]]
    rows = mse_retrain.rows(models)
    assert [(r["model"][:6], r["seed"]) for r in rows][:3] == [
        ("MSE-NA", 5),
        ("MSE-NA", 6),
        ("random", 5),
    ]
    assert rows[1]["test_acc"] == train_genome(found, data, net, seed=6, **budget).test_acc
    cnn_run, _ = train_once(ReferenceCNN(4), data, seed=6, **budget)
    assert rows[-1]["test_acc"] == cnn_run.test_acc and rows[-1]["seed"] == 6
    assert rows[0]["train_seconds"] == models[0].result.runs[0].total_seconds
    assert mse_retrain.train_transfer("", found, randoms, 2, None, net, 4, 0, **budget) == []


# -- ablations --------------------------------------------------------------------------------
def test_cost_summary_and_ablation_metrics():
    rows = [
        {
            "genome": "a",
            "free_fitness": 1.0,
            "free_seconds": 0.1,
            "acc_fitness": 0.2,
            "acc_seconds": 2.0,
        },
        {
            "genome": "b",
            "free_fitness": 2.0,
            "free_seconds": 0.3,
            "acc_fitness": 0.4,
            "acc_seconds": 4.0,
        },
        {
            "genome": "c",
            "free_fitness": 3.0,
            "free_seconds": 0.2,
            "acc_fitness": 0.6,
            "acc_seconds": 3.0,
        },
    ]
    cost, m = mse_ablations.cost_summary(rows)
    assert m["free_seconds_per_candidate"] == 0.2 and m["acc_seconds_per_candidate"] == 3.0
    assert m["cost_ratio"] == pytest.approx(15.0) and m["fitness_kendall_tau"] == pytest.approx(1.0)
    assert m["n_cost_candidates"] == 3 and mse_ablations.cost_record(cost)["genome"] == [
        "a",
        "b",
        "c",
    ]
    assert math.isnan(mse_ablations.cost_summary(rows[:2])[1]["fitness_kendall_tau"])
    short = {
        "training-free": {"test_acc": 0.5, "search_seconds": 1.0},
        "accuracy after short training": {"test_acc": 0.6, "search_seconds": 9.0},
    }
    scales = [{"searched scales": "micro+meso", "best fitness": 2.0, "test accuracy": 0.7}]
    curves = {
        "gaussian": {
            "MSE-NAS found": [0.9, 0.5],
            "random genome": [0.3, 0.2],
            "SpikingCNN": [0.8, 0.1],
        }
    }
    cfg = {
        "acc_fitness": TrainConfig(epochs=4),
        "short_search": EvolutionConfig(population=4, generations=1, elitism=1),
        "scale_search": EvolutionConfig(population=10, generations=5, elitism=2),
        "retrain": TrainConfig(epochs=5),
        "sigmas": [0.0, 1.5],
        "drops": [0.0, 0.75],
        "jitters": [0, 3],
    }
    out = mse_ablations.ablation_metrics(m, short, scales, curves, cfg)
    assert out["free_search_test_acc"] == 0.5 and out["acc_search_seconds"] == 9.0
    assert out["scales_micro_meso_fitness"] == 2.0 and out["scales_micro_meso_test_acc"] == 0.7
    assert out["gaussian_found_clean_acc"] == 0.9 and out["gaussian_cnn_worst_acc"] == 0.1
    assert (out["max_sigma"], out["max_jitter"], out["retrain_epochs"]) == (1.5, 3, 5)
    assert mse_ablations.short_search_accuracies(short) == [0.5, 0.6]
    assert mse_ablations.robustness_record({"gaussian": [0, 1], "drop": [0]}, curves)["levels"] == {
        "gaussian": [0, 1]
    }
    assert mse_ablations.curves_text(curves).startswith("gaussian {'MSE-NAS found': [0.9, 0.5]")
    assert isinstance(cost, pd.DataFrame)
