"""The comparison's book glue (snnlib.book.comparison): searches through the registry, the
budget rule, tables, glue values and metrics."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from snnlib.book.comparison import (  # noqa: E402
    MSE_SEEDING,
    SHORT,
    MSESearch,
    Outcome,
    architectures,
    comparison_glue_values,
    comparison_metrics,
    comparison_table,
    darts_subset,
    mse_searches,
    papers_table,
    pareto_figure,
)
from snnlib.book.glue import glue_all  # noqa: E402
from snnlib.mse import EvolutionConfig, NetConfig, SearchSpace, evolve  # noqa: E402
from snnlib.mse.baselines import random_search  # noqa: E402
from snnlib.nas.found import Found  # noqa: E402
from snnlib.nas.proxies import random_score  # noqa: E402


def _fit(g, seed):
    return random_score(g.hash(), seed)


def _other(g, seed):
    return -random_score(g.hash(), seed)


def test_mse_searches_run_the_registered_methods_with_one_budget():
    space, net = SearchSpace(n_cells=3), NetConfig(width=4)
    evo = EvolutionConfig(population=4, generations=2, seed=3)
    found, budget = mse_searches(
        [
            MSESearch("evo", "mse-evolution", _fit),
            MSESearch("evo2", "mse-evolution", _other),
            MSESearch("rand", "mse-random", _fit),
        ],
        space,
        evo,
        net,
        seed=3,
    )
    direct = evolve(_fit, space, evo, progress=False)
    assert list(found) == ["evo", "evo2", "rand"]
    assert budget == direct.evaluations and found["evo"].evaluations == budget
    assert found["evo"].fitness == direct.best_fitness
    assert found["evo"].arch_dict == direct.best.to_dict()
    assert found["evo"].architecture.seeding == MSE_SEEDING
    assert found["evo2"].fitness == evolve(_other, space, evo, progress=False).best_fitness
    rand = random_search(_fit, space, budget, 3)
    assert found["rand"].evaluations == budget and found["rand"].fitness == rand.best_fitness
    with pytest.raises(KeyError, match="darts-bilevel"):
        mse_searches([MSESearch("x", "darts-bilevel", _fit)], space, evo, net, seed=0)


def test_darts_subset_draws_sorted_items_of_the_pool():
    data = torch.utils.data.TensorDataset(torch.arange(50))
    sub = darts_subset(data, pool=40, n=10, seed=2)
    idx = torch.randperm(40, generator=torch.Generator().manual_seed(2))[:10]
    assert sub.indices == sorted(idx.tolist()) and max(sub.indices) < 40
    assert len(darts_subset(data, pool=40, n=100, seed=2)) == 40


def _outcome():
    names = list(SHORT)
    searches = {
        n: Found(
            architecture=None,
            fitness=0.1 * i,
            seconds=1.5 * i,
            evaluations=12 if i < 4 else None,
            epochs=None if i < 4 else 2,
            arch_dict={"i": i},
            extra=dict(alpha_max_weight=0.2 + 0.01 * i, arch_steps=7) if i >= 4 else {},
        )
        for i, n in enumerate(names)
    }
    acc = [0.5, 0.6, 0.4, 0.7, 0.65, 0.3]
    energy = [1.0, 2.0, 0.5, 3.0, 4.0, 5.0]
    results = {
        n: dict(
            test_acc=a, energy_uj=e, nos=1000.0 * e, params=1234 + i, sops=10.0 * e, seconds=2.0
        )
        for i, (n, a, e) in enumerate(zip(names, acc, energy))
    }
    return Outcome(searches, results)


def test_tables_glue_and_metrics_of_every_method():
    out = _outcome()
    assert out.front.tolist() == [True, True, True, True, False, False]
    table = comparison_table(out, "method")
    assert table["test acc. (%)"].tolist() == ["50.0", "60.0", "40.0", "70.0", "65.0", "30.0"]
    assert table["candidate evaluations"].tolist() == ["12"] * 4 + ["-"] * 2
    assert table["search epochs"].tolist() == ["-"] * 4 + ["2"] * 2
    assert table["Pareto"].tolist() == ["yes"] * 4 + [""] * 2
    assert table.loc["MSE-NAS (RDM evolution)", "parameters"] == "1,234"
    papers = papers_table(out, 2, "smoke, digits")
    ours = papers[("this book (smoke, digits)", "acc. (%)")]
    assert ours.tolist() == ["65.0", "-", "-", "40.0", "50.0"]  # MA-DARTS, ..., SNASNet, MSE-NAS
    assert papers[("this book (smoke, digits)", "T")].tolist() == ["2", "-", "-", "2", "2"]
    glued = glue_all(comparison_glue_values(out))
    assert glued["mse_last_acc"] == pytest.approx(60.0) and glued["darts_energy"] == 5.0
    assert glued["madarts_search_seconds"] == 6.0 and glued["random_nos"] == 3000.0
    assert glued["darts_arch_steps"] == 7 and glued["darts_alpha_max_weight"] == pytest.approx(0.25)
    m = comparison_metrics(out, budget=12, wall=3.0)
    assert set(m) == {*SHORT.values(), "budget_evaluations", "wall_seconds"}
    assert m["madarts"]["pareto"] is False and m["mse"]["pareto"] is True
    assert m["darts"]["alpha_max_weight"] == pytest.approx(0.25) and "arch_steps" not in m["mse"]
    assert m["sahd"]["search_fitness"] == pytest.approx(0.2) and m["budget_evaluations"] == 12
    assert architectures(out)["darts"] == {"i": 5}


def test_pareto_figure_marks_every_method():
    out = _outcome()
    fig = pareto_figure(out, "title")
    ax = fig.axes[0]
    assert [c.get_label() for c in ax.collections] == list(SHORT)
    assert ax.get_xscale() == "log" and ax.get_title() == "title"
    front = ax.lines[0]
    assert np.allclose(front.get_xdata(), [0.5, 1.0, 2.0, 3.0])
    plt.close(fig)
