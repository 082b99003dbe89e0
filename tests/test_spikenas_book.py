"""The book glue of the SpikeNAS-Bench notebooks (60, 61, 62): a searcher registered in the NAS
registry reaches the searches and the comparison of every method; the numbers the chapters
glue are the table rows they name; the cells each chapter analyses; the shared cost figure."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from snnlib.book import spikenas_darts as D  # noqa: E402
from snnlib.book import spikenas_ledger as L  # noqa: E402
from snnlib.book import spikenas_search as S  # noqa: E402
from snnlib.book.figures import errorbars_by_machine  # noqa: E402
from snnlib.nas.methods import SEARCH_METHODS, register_search  # noqa: E402
from snnlib.nas.searchers import Budget, Run  # noqa: E402
from snnlib.nas.statistics import paired_by_seed, t_interval  # noqa: E402
from snnlib.spikenas import N_ARCHS, load_table  # noqa: E402
from snnlib.spikenas.darts_search import DartsConfig  # noqa: E402
from snnlib.spikenas.darts_study import compare_searches, darts_table, paired_table  # noqa: E402
from snnlib.spikenas.ledger import stratified_sample  # noqa: E402
from snnlib.spikenas.search import BOOK_METHODS, book_methods, scored_cells_bound  # noqa: E402
from snnlib.validation import ConfigError  # noqa: E402


@pytest.fixture(scope="module")
def table():
    return load_table()


class StubGuides:
    """Every guide is the table's validation accuracy plus a guide-specific offset, 0.5 s a cell."""

    def __init__(self, table):
        self.table, self.saved, self.rows = table, 0, {}

    def score(self, guide):
        offset = {"random": 0.0}.get(guide, 1.0)
        return lambda a: (float(self.table.final_val_acc[a]) + offset, 0.5)

    def save(self):
        self.saved += 1


class StubProbe:
    y = np.zeros(20)
    source = "stub"

    def identity(self):
        return {"source": self.source}


def first_cells(space, fitness, budget, seed, guide=""):
    """A toy searcher: evaluates the cells seed, seed + 1, ... in order."""
    run = Run("toy", guide, seed)
    b = Budget(space, fitness, run, budget)
    for a in range(seed, seed + budget):
        b(a)
    return run


@pytest.fixture
def toy_searcher():
    register_search("toy", first_cells, space="any", summary="the first cells")
    try:
        yield "toy"
    finally:
        del SEARCH_METHODS["toy"]


def darts_run(ids, seconds=10.0, seed=0):
    w = np.full((6, 5), 0.2)
    w[0] = [0.6, 0.1, 0.1, 0.1, 0.1]
    records = [{"arch_id": a, "arch_weights": w.tolist()} for a in ids]
    return {"records": records, "seconds": seconds, "seed": seed}


# --- a registered searcher reaches notebooks 61 and 62 ------------------------------------------


def test_book_methods_are_the_committed_list_without_additions():
    assert book_methods() == BOOK_METHODS
    assert list(book_methods())[0] == S.DEFAULT_SEARCH


def test_a_registered_searcher_reaches_the_searches_and_the_comparison(table, toy_searcher):
    methods = book_methods()
    assert list(methods)[: len(BOOK_METHODS)] == list(BOOK_METHODS)  # order kept, toy last
    assert methods["toy, RDM"] == ("toy", "rdm")
    seeds = S.search_seeds(0, 3)
    # the toy search is guided by a training-free score: it counts in the dry run's plan
    assert scored_cells_bound(seeds, 4) == scored_cells_bound(seeds, 4, BOOK_METHODS) + 3 * 4
    guides = StubGuides(table)
    runs = S.run_book_searches(guides, 4, seeds, progress=False)
    assert guides.saved == 3 and list(runs) == list(methods)
    toy = runs["toy, RDM"]
    assert [r.evaluated for r in toy] == [[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5]]
    assert [r.seconds for r in toy] == [2.0, 2.0, 2.0]
    # notebook 62 reads notebook 61's runs as records, beside its DARTS runs
    records = S.search_artifacts(runs, table, StubProbe())["runs"]
    D.check_seeds(records, seeds)
    darts = {"spiking DARTS": [darts_run([5, 12617], seed=s) for s in seeds]}
    ctab, finals = compare_searches({**records, **darts}, table)
    assert "toy, RDM" in ctab.index and len(ctab) == len(methods) + 1
    best = [int(np.argmax(table.final_val_acc[s : s + 4])) + s for s in seeds]
    assert finals["toy, RDM"].tolist() == table.test_acc[best].tolist()
    assert ctab.loc["toy, RDM", "machine"] == "this CPU"
    assert ctab.loc["toy, RDM", "seconds"] == 2.0


def test_a_searcher_that_searches_its_own_space_stays_out(toy_searcher):
    register_search("own-space", first_cells, space="mse")
    try:
        assert "own-space, RDM" not in book_methods()
    finally:
        del SEARCH_METHODS["own-space"]


# --- notebook 61 ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def searched(table):
    seeds = S.search_seeds(0, 3)
    runs = S.run_book_searches(StubGuides(table), 6, seeds, progress=False)
    curves = S.anytime_curves(runs, table, 6)
    return runs, curves


def test_search_table_values_and_metrics_name_the_rows(table, searched):
    runs, curves = searched
    tab = S.search_table(curves, runs, table, at=(3, 6))
    label = "random search, RDM"
    assert tab.loc[label, "acc@6"] == pytest.approx(curves[label][:, -1].mean())
    assert tab.loc[label, "seconds per run"] == pytest.approx(3.0)  # 6 cells, 0.5 s each
    pct = [table.percentile(a) for a in curves[label][:, -1]]
    assert tab.loc[label, "percentile (median)"] == pytest.approx(np.median(pct))

    ptab = S.paired_finals(curves)
    assert list(ptab.index) == [f"{a} - {b}" for a, b in S.PAIRS]
    values = S.search_values(runs, curves, ptab, table, budget=6, n_scored=7, probe=StubProbe())
    m, lo, hi = t_interval(curves["random cell (no score)"][:, -1])
    assert (values["rand_acc"], values["rand_lo"], values["rand_hi"]) == (m, lo, hi)
    assert values["n_methods"] == len(BOOK_METHODS) and values["n_seeds"] == 3
    assert values["probe_images"] == 20 and values["n_scored"] == 7
    a, b = "MSE-NAS evolution, authors' scorer", "random cell (no score)"
    want = paired_by_seed(curves[a][:, -1], curves[b][:, -1])
    for field in S.PAIR_FIELDS:
        assert values[f"lsp_vs_rand_{field}"] == pytest.approx(want[field], nan_ok=True)
    assert len(values) == 8 + 5 * len(S.METHOD_KEYS) + 4 * len(S.PAIR_KEYS)
    metrics = S.search_metrics(values, tab, ptab)
    assert metrics["anytime"][0]["method"] == tab.index[0]
    assert metrics["paired"][0]["difference"] == ptab.index[0]


def test_plot_anytime_draws_one_line_per_search(table, searched):
    fig = S.plot_anytime(searched[1], table)
    try:
        assert len(fig.axes[0].get_lines()) == len(BOOK_METHODS) + 1  # and the median line
    finally:
        plt.close(fig)


# --- notebook 62 ----------------------------------------------------------------------------------


def test_variant_labels_pairs_and_the_best_training_free_search():
    labels = [D.variant_label(a) for a in D.ATTENTIONS]
    pairs = D.darts_pairs(labels, "best")
    assert pairs[:3] == [(name, "spiking DARTS") for name in labels[1:]]
    assert len(pairs) == 3 + 3 * 4 and pairs[-1] == ("MA-DARTS, tcsa", D.VAL_ACC_SEARCH)
    ctab = pd.DataFrame(
        {"machine": ["benchmark GPU", "this CPU", "this CPU", "this CPU", "this CPU"]},
        index=[D.VAL_ACC_SEARCH, "spiking DARTS", D.RANDOM_CELL, "random search, RDM", "last"],
    )
    assert D.best_free_search(ctab, exclude=labels) == "random search, RDM"
    with pytest.raises(ConfigError, match="no training-free"):
        D.best_free_search(ctab.iloc[:3], exclude=labels)


def test_check_seeds_names_the_search_and_the_seeds():
    D.check_seeds({"a": [{"seed": 0}, {"seed": 1}]}, range(2))
    with pytest.raises(ConfigError, match=r"'a' ran with seeds \[0, 2\].*\[0, 1\]"):
        D.check_seeds({"a": [{"seed": 0}, {"seed": 2}]}, [0, 1])


def test_darts_values_are_the_rows_they_name(table):
    seeds = [0, 1, 2]
    cells = {"none": [12617, 7, 300], "eca": [5, 9, 11], "cbam": [100, 200, 300], "tcsa": [1, 2, 3]}
    runs = {
        D.variant_label(a): [darts_run([0, c], seed=s) for c, s in zip(ids, seeds)]
        for a, ids in cells.items()
    }
    others = {
        name: [{"returned": [c], "seconds": 1.0, "seed": s} for c, s in zip(ids, seeds)]
        for name, ids in {
            D.RANDOM_CELL: [20, 30, 40],
            D.VAL_ACC_SEARCH: [50, 60, 70],
            "random search, RDM": [12617, 12617, 7],
        }.items()
    }
    ctab, finals = compare_searches({**others, **runs}, table)
    dtab = darts_table(runs, table)
    best = D.best_free_search(ctab, exclude=list(runs))
    assert best == "random search, RDM"
    ptab = paired_table(finals, D.darts_pairs(list(runs), best))
    curve = pd.DataFrame({"tau": np.linspace(0.1, 0.6, 100)}, index=pd.RangeIndex(1, 101))
    budgets = D.training_budgets(
        {"epochs": 8, "n_train": 2_000}, {"train_epochs": 10, "n_train": 25_000}, DartsConfig()
    )
    assert budgets["MSE-NAS retraining (11)"] == pytest.approx(0.64)
    assert budgets["MA-DARTS retraining (21)"] == pytest.approx(10.0)
    placed = D.place_budgets(curve, budgets)
    base = DartsConfig(width=1 / 32, time_steps=2, epochs=2)
    values = D.darts_values(base, seeds, table, ctab, dtab, ptab, best, curve, placed)
    assert values["darts_acc"] == dtab.loc["spiking DARTS", "test_acc"]
    assert values["cbam_dead"] == dtab.loc["MA-DARTS, cbam", "dead cells"]
    assert values["eca_vs_darts_lo"] == ptab.loc["MA-DARTS, eca - spiking DARTS", "lo"]
    assert values["tcsa_vs_free"] == ptab.loc["MA-DARTS, tcsa - random search, RDM", "diff"]
    assert "darts_vs_darts" not in values and "darts_vs_rand" in values
    assert values["budget_mse_bound"] == "at most" and values["budget_madarts_tau"] > 0.1
    assert values["n_methods"] == 7 and values["width_channels"] == 4
    assert values["best_free"] == "random search, RDM"
    artifacts = D.darts_artifacts(runs, ctab, ptab, placed, table)
    assert artifacts["comparison"][0]["method"] == ctab.index[0]
    for make in (
        lambda: D.plot_darts_anytime(runs, table),
        lambda: D.plot_comparison_cost(ctab, table),
        lambda: D.plot_budget_curve(curve, placed),
    ):
        plt.close(make())


# --- notebook 60 ----------------------------------------------------------------------------------


def test_the_cells_the_ledger_chapter_scores_and_analyses(table):
    acc = table.test_acc
    assert L.ledger_sample(acc, 16, 0).tolist() == stratified_sample(acc, 16, 0).tolist()
    assert L.ledger_sample(acc, N_ARCHS, 0).tolist() == list(range(N_ARCHS))
    ids = L.ledger_sample(acc, 40, 0)
    learned = L.learning_cells(ids, acc)
    assert (acc[learned] > 10.0).all() and len(learned) < len(ids)
    assert set(ids) - set(learned) == {a for a in ids if acc[a] <= 10.0}
    dead = ids[acc[ids] <= 10.0][:1]
    assert L.learning_cells(dead, acc).size == 0
    assert L.learning_cells(dead, acc, dry_run=True).tolist() == dead.tolist()
    wide = L.wide_cells(ids, acc, 4, 1)
    assert wide.tolist() == ids[stratified_sample(acc[ids], 4, 1)].tolist()
    assert L.wide_cells(ids, acc, 4, 1, dry_run=True).tolist() == ids[:4].tolist()
    ledger = type("Ledger", (), {"rows": {int(ids[3]): {}, int(ids[0]): {}}})()
    assert L.scored_cells(ids, ledger, dry_run=True).tolist() == [ids[0], ids[3]]
    assert L.scored_cells(ids, ledger, dry_run=False) is ids


def test_scatter_scores_and_record():
    from snnlib.nas.lsp import LSP_FITNESS
    from snnlib.spikenas.ledger import DEFAULT_RDM

    tab = pd.DataFrame(
        {
            "machine": ["benchmark GPU", "this CPU", "this CPU", "this CPU"],
            "tau": [0.9, 0.5, 0.4, 0],
        },
        index=["val_acc@10", DEFAULT_RDM, "sahd", LSP_FITNESS],
    )
    assert L.scatter_scores(tab) == [DEFAULT_RDM, LSP_FITNESS, "sahd"]
    assert L.scatter_scores(tab.drop(index=DEFAULT_RDM).iloc[[0, 2, 1]])[2] == "sahd"
    tab.index.name = "score"
    record = L.ledger_record({"n": 1}, table_all=tab)
    assert record["n"] == 1 and record["table_all"][1] == {
        "score": DEFAULT_RDM,
        "machine": "this CPU",
        "tau": 0.5,
    }
    assert L.width_channels(1.0) == "128/256" and L.width_channels(1 / 512) == "1/1"


# --- the shared cost figure -----------------------------------------------------------------------


def test_errorbars_by_machine_draws_each_machine_and_its_front():
    data = pd.DataFrame(
        {
            "seconds": [0.0, 2.0, 4.0, 100.0],
            "acc": [80.0, 85.0, 84.0, 90.0],
            "lo": [79.0, 84.0, 83.0, 89.5],
            "hi": [81.0, 86.0, 85.0, 90.5],
            "machine": ["this CPU", "this CPU", "this CPU", "benchmark GPU"],
            "pareto": [True, True, False, True],
        }
    )
    fig, ax = plt.subplots()
    try:
        errorbars_by_machine(ax, data, "acc", "lo", "hi", floor=1e-3, fronts=True)
        labels = [c.get_label() for c in ax.containers]
        assert labels == ["this CPU seconds", "benchmark GPU seconds"]
        x, y = ax.containers[0].lines[0].get_data()
        assert list(x) == [1e-3, 2.0, 4.0] and list(y) == [80.0, 85.0, 84.0]
        fronts = [line for line in ax.get_lines() if line.get_color() == "k"]
        assert [list(f.get_xdata()) for f in fronts] == [[1e-3, 2.0], [100.0]]
        errorbars_by_machine(ax, data, "acc", "lo", "hi", markers={"elsewhere": "^"})
        assert len(ax.containers) == 2  # a machine without rows draws nothing
        with pytest.raises(KeyError, match="pareto"):
            errorbars_by_machine(ax, data.drop(columns="pareto"), "acc", "lo", "hi", fronts=True)
    finally:
        plt.close(fig)
