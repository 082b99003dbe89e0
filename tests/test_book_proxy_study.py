"""The proxy study's book glue (snnlib.book.proxy_study): rank tables, the learned subset, glue
values, figures and result records, against direct computations."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from snnlib.book.glue import check_key, glue_all  # noqa: E402
from snnlib.book.proxy_study import (  # noqa: E402
    STAT_COLUMNS,
    GroundTruth,
    bench_record,
    ground_truth,
    learned_ranking,
    rank_proxies,
    scatter_figure,
    score_glue_values,
    shown_table,
    study_glue_values,
    study_metrics,
    tau_figure,
    write_bench,
)
from snnlib.mse.proxy_scores import ProxyScores, probe_label, recommend_rdm  # noqa: E402
from snnlib.nas.ranking import finite_floor, study_table  # noqa: E402
from snnlib.nas.rdm import RDM_VARIANTS  # noqa: E402

DEFAULT = "rdm correlation/spearman/mean"
LAST = "rdm correlation/spearman/last"
SMALL = probe_label(2, 10)


def _scores(n=30, seed=0):
    rng = np.random.default_rng(seed)
    acc = 0.1 + 0.8 * rng.random(n)
    scores = {
        DEFAULT: acc + 0.5 * rng.standard_normal(n),
        LAST: acc + 0.05 * rng.standard_normal(n),
        SMALL: acc + 1.0 * rng.standard_normal(n),
        "sahd": np.where(np.arange(n) < 3, -np.inf, acc),  # log 0 for three: ranked last
        "random": rng.random(n),
    }
    return scores, acc


def test_rank_proxies_ranks_finite_floors_and_recommends():
    scores, acc = _scores()
    r = rank_proxies(scores, acc, n_boot=200, seed=1, top=0.1)
    ranked = {k: finite_floor(v) for k, v in scores.items()}
    assert np.isfinite(r.ranked["sahd"]).all() and r.ranked["sahd"][:3].max() < acc.min()
    expected = study_table(ranked, acc, n_boot=200, seed=1, top=0.1)
    assert r.table.equals(expected)
    assert r.choice == recommend_rdm(expected, RDM_VARIANTS, ranked, acc, n_boot=200, seed=1)
    assert r.best == LAST and r.default == DEFAULT and r.tau(LAST) > r.tau(DEFAULT)
    assert f"best RDM configuration by Kendall tau: {LAST}" in r.summary()
    shown = shown_table(r, "digits, smoke", top=0.1)
    assert shown.index.name == "score (digits, smoke, n = 30)" and len(shown) == 5


def test_learned_ranking_restricts_to_the_networks_that_learned():
    scores, acc = _scores()
    r = rank_proxies(scores, acc, n_boot=100, seed=0, top=0.1)
    learned = learned_ranking(r, acc, 10, "digits, smoke", n_boot=100, seed=0, top=0.1)
    alive = acc > 0.15
    assert learned.n_alive == int(alive.sum()) and 5 <= learned.n_alive < len(acc)
    sub = study_table(
        {k: v[alive] for k, v in r.ranked.items()}, acc[alive], n_boot=100, seed=0, top=0.1
    )
    assert (
        learned.best_tau == sub.loc[LAST, "tau"] and learned.default_tau == sub.loc[DEFAULT, "tau"]
    )
    assert learned.shown.index.name == f"score (digits, smoke, learned: n = {learned.n_alive})"
    # fewer than min_alive learned: a note, NaN taus
    few = learned_ranking(r, acc, 2, "x", n_boot=100, seed=0, top=0.1, min_alive=30)
    assert few.n_alive == int((acc > 0.75).sum()) < 30  # 1.5x chance of 2 classes
    assert np.isnan(few.best_tau) and np.isnan(few.default_tau)
    assert few.shown["note"].tolist() == [f"only {few.n_alive} architectures above 1.5x chance"]


def test_glue_values_and_metrics_name_every_score():
    scores, acc = _scores()
    r = rank_proxies(scores, acc, n_boot=100, seed=0, top=0.1)
    values = score_glue_values(r, probes=[10, 2], default_probe=10, num_classes=10)
    assert values["rdm_correlation_spearman_last_tau"] == r.tau(LAST)
    assert values["default_RDM_probe_20_2_per_class_hit_rate"] == r.table.loc[SMALL, "hit_rate"]
    assert (
        values["probe10_tau"] == r.tau(DEFAULT)
        and values["probe2_tau_hi"] == (r.table.loc[SMALL, "tau_hi"])
    )
    assert len(values) == len(scores) * len(STAT_COLUMNS) + 2 * 3
    assert all(check_key(k) for k in values)

    class Scorer:
        num_classes, default_probe, probe_evaluators = 10, 10, {10: None, 2: None}

    class Data:
        train_x, test_x = np.zeros(32), np.zeros(64)

    proxy = ProxyScores({k: list(v) for k, v in scores.items()}, {10: 0.02, 2: 0.01}, 3.0)
    truth = GroundTruth([{"acc": a, "nos": 1.0, "diverged": False} for a in acc], 5.0)
    learned = learned_ranking(r, acc, 10, "x", n_boot=100, seed=0, top=0.1)
    cfg = {"n_boot": 100, "train": type("T", (), {"epochs": 1})()}
    glued = glue_all(
        study_glue_values(r, learned, proxy, truth, Scorer(), Data(), cfg, shown_table(r, "x", 0.1))
    )
    assert glued["probe2_seconds_ms"] == 10.0 and glued["probe2_images"] == 20
    assert glued["acc_max"] == 100 * acc.max() and glued["n_alive"] == learned.n_alive
    assert glued["best_rdm_aggregation"] == "last" and glued["default_is_best"] == "is not"
    assert glued["train_images"] == 32 and glued["test_images"] == 64
    m = study_metrics(r, learned, proxy, truth, wall=9.0)
    assert set(m["stats"]) == set(scores) and m["stats"][LAST]["tau"] == r.tau(LAST)
    assert m["best_rdm"] == RDM_VARIANTS[LAST].to_dict() and m["n_arch"] == len(acc)
    assert m["non_finite_scores"]["sahd"] == 3
    assert m["rdm_seconds_per_candidate_by_probe"] == {"10": 0.02, "2": 0.01}


def test_figures_have_a_panel_per_score():
    scores, acc = _scores()
    r = rank_proxies(scores, acc, n_boot=50, seed=0, top=0.1)
    fig = scatter_figure(r, acc, "title")
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == len(scores) and len(fig.axes) == 8  # 2 rows of 4
    names = list(r.table.index)  # in table order, RDM prefix dropped
    assert [ax.get_title() for ax in panels] == [
        f"{n.removeprefix('rdm ')}\ntau = {r.tau(n):+.2f}" for n in names
    ]
    assert panels[names.index(LAST)].collections[0].get_facecolor()[0][:3] == pytest.approx(
        matplotlib.colors.to_rgb("tab:red")
    )
    plt.close(fig)
    fig = tau_figure(r, "digits")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == [n.removeprefix("rdm ") for n in names]
    plt.close(fig)


def test_ground_truth_and_bench_record():
    class Fake:
        def details(self, g, seed):
            return {"acc": len(g) / 10, "nos": float(seed), "diverged": g == "ab"}

    class G(str):
        def to_dict(self):
            return {"g": str(self)}

        def hash(self):
            return "h" + self

    genomes = [G("a"), G("ab"), G("abc")]
    truth = ground_truth(Fake(), genomes, seed=4)
    assert truth.acc.tolist() == [0.1, 0.2, 0.3] and truth.seconds >= 0
    assert truth.summary().endswith("accuracy 0.100 .. 0.300 (mean 0.200); diverged 1")
    proxy = ProxyScores({"random": [0.5, 0.25, 1.0]}, {}, 1.0)

    class Net:
        def to_dict(self):
            return {"width": 4}

    class Space:
        n_cells = 3

    metrics, artifacts = bench_record(genomes, truth, proxy, {"b": 1}, Net(), Space())
    assert metrics == {
        "n_arch": 3,
        "acc_mean": pytest.approx(0.2),
        "train_seconds": truth.seconds,
        "score_seconds": 1.0,
    }
    assert artifacts["hashes"] == ["ha", "hab", "habc"] and artifacts["nos_trained"] == [4.0] * 3
    assert artifacts["scores"] == {"random": [0.5, 0.25, 1.0]} and set(
        artifacts["rdm_variants"]
    ) == set(RDM_VARIANTS)

    class Bench:
        def write(self, metrics, artifacts):
            return Path(f"bench_{metrics['n_arch']}.json")

    assert write_bench(Bench(), genomes, truth, proxy, {}, Net(), Space(), dry_run=True) is None
    written = write_bench(Bench(), genomes, truth, proxy, {}, Net(), Space(), dry_run=False)
    assert written == "bench_3.json"
