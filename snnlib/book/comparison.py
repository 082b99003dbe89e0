"""Book glue of the comparison of search methods (notebook ``40_comparison``): every search
through the core's registry of search methods (:data:`snnlib.nas.methods.SEARCH_METHODS`),
the one retraining, and the tables, figure, glue values and metrics, so the notebook only calls.

- :class:`MSESearch` and :func:`mse_searches`: the searches of the MSE-NAS space, each a
  registered method (``mse-evolution``, ``mse-random``) with its fitness, called through
  :func:`~snnlib.nas.methods.get_search` in the way :data:`MSE_CALLS` says; the first one's
  number of evaluations is the budget of all that search by a count of evaluations;
- :func:`darts_searches`: the registered ``darts-bilevel`` search, once per attention;
- :func:`retrain_all`: every found architecture at one retraining budget;
- :func:`comparison_table`, :func:`papers_table`, :func:`pareto_figure`: what the page shows;
- :func:`comparison_glue_values`, :func:`comparison_metrics`: the glue keys and the result
  file's metrics, under each method's short key (:data:`SHORT`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..darts import (
    SearchNetwork,
    alpha_sharpness,
    format_genotype,
    genotype_to_dict,
    search_loaders,
)
from ..darts.retrain import RetrainableGenotype
from ..mse import RetrainableGenome
from ..nas.found import Found
from ..nas.methods import get_search
from ..nas.pareto import pareto_front
from ..nas.retrain import RetrainBudget, SeedRule, retrain
from .glue import glue_key

SHORT = {
    "MSE-NAS (RDM evolution)": "mse",
    "MSE-NAS (RDM evolution, last layer)": "mse_last",
    "SAHD evolution (SNASNet score)": "sahd",
    "random search (short-training acc.)": "random",
    "MA-DARTS (attention tcsa)": "madarts",
    "plain spiking DARTS (no attention)": "darts",
}
"""Each search's name in the tables -> its key in glue keys and the result file's metrics."""

MSE_SEEDING = SeedRule(weights="seed", data_order="as_given")
"""The comparison's seed rule for MSE genomes: weights from the seed alone and one train loader
whose order runs on from retraining to retraining (the DARTS genotypes re-seed it)."""


@dataclass
class MSESearch:
    """One search of the MSE-NAS space: its ``name`` in the tables, the registered ``method``
    and its ``fitness`` (``(genome, seed) -> float``)."""

    name: str
    method: str
    fitness: Callable


MSE_CALLS: dict[str, Callable] = {
    "mse-evolution": lambda run, s, space, evo, budget, seed: run(
        s.fitness, space, evo, desc=s.name
    ),
    "mse-random": lambda run, s, space, evo, budget, seed: run(s.fitness, space, budget, seed),
}
"""How the comparison calls each registered MSE search: an evolution with the evolution's
settings, a random search with the budget of evaluations and the seed."""


def mse_searches(
    searches: Sequence[MSESearch], space, evo_cfg, net, seed: int
) -> tuple[dict[str, Found], int]:
    """Run every search in order through the registry; ``(name -> Found, budget)``, the budget
    being the number of evaluations of the first search (the random search gets as many)."""
    found: dict[str, Found] = {}
    budget = None
    for s in searches:
        if s.method not in MSE_CALLS:
            raise KeyError(f"search {s.name!r}: method {s.method!r} not in {sorted(MSE_CALLS)}")
        res = MSE_CALLS[s.method](get_search(s.method).run, s, space, evo_cfg, budget, seed)
        budget = res.evaluations if budget is None else budget
        arch = RetrainableGenome(res.best, net, seeding=MSE_SEEDING)
        found[s.name] = Found.of_result(res, arch, res.best.to_dict())
        print(
            f"{s.name}: fitness {res.best_fitness:.4f}, {res.evaluations} evaluations, "
            f"{res.seconds:.1f} s"
        )
    return found, budget


DARTS_SEARCHES = {
    "MA-DARTS (attention tcsa)": "tcsa",
    "plain spiking DARTS (no attention)": "none",
}
"""The differentiable searches: name -> the supernet's attention."""


def darts_subset(train_set, pool: int, n: int, seed: int):
    """``n`` of the first ``pool`` items of ``train_set`` (the items the searches of the MSE space
    read), drawn by ``seed`` and kept in index order: the DARTS searches' data."""
    n = min(n, pool)
    idx = torch.randperm(pool, generator=torch.Generator().manual_seed(seed))[:n]
    return torch.utils.data.Subset(train_set, sorted(idx.tolist()))


def darts_searches(
    train_set, val_loader, encoder, info, time_steps: int, cfg: dict, device, seed: int
) -> dict[str, Found]:
    """The registered ``darts-bilevel`` search once per :data:`DARTS_SEARCHES` attention, each
    from ``seed`` on the same batches of ``train_set`` (``cfg``: ``darts`` supernet sizes,
    ``darts_cfg``, ``batch_size``); records how far the architecture weights moved from
    uniform (1/7) at this budget."""
    run = get_search("darts-bilevel").run
    found = {}
    for name, attention in DARTS_SEARCHES.items():
        torch.manual_seed(seed)
        supernet = SearchNetwork(
            info.in_channels,
            info.num_classes,
            time_steps=time_steps,
            attention=attention,
            **cfg["darts"],
        )
        wl, al = search_loaders(train_set, batch_size=cfg["batch_size"], seed=seed)
        r = run(
            supernet,
            wl,
            al,
            encoder,
            cfg["darts_cfg"],
            val_loader=val_loader,
            device=device,
            desc=name,
        )
        sharp = alpha_sharpness(r.history[-1]["alphas_normal"])["max_weight"]
        found[name] = Found(
            RetrainableGenotype(
                r.genotype, time_steps=time_steps, attention=attention, **cfg["darts"]
            ),
            fitness=r.history[-1]["val_acc"],
            seconds=r.seconds,
            epochs=cfg["darts_cfg"].epochs,
            arch_dict=genotype_to_dict(r.genotype),
            extra=dict(alpha_max_weight=sharp, arch_steps=r.arch_steps),
        )
        print(
            f"{name}: {r.seconds:.1f} s; largest architecture weight per edge {sharp:.4f}; "
            f"{format_genotype(r.genotype)}"
        )
    return found


def retrain_all(searches: Mapping[str, Found], budget: RetrainBudget, seed: int) -> dict[str, dict]:
    """Every found architecture retrained once at ``budget`` from ``seed``: name -> the
    retraining's record (``test_acc``, ``nos``, ``energy_uj``, ``params``, ``seconds``, ...)."""
    results = {}
    for name, s in searches.items():
        r = retrain(s.architecture, budget, [seed], desc=name).to_dict()
        results[name] = r
        print(
            f"{name}: test acc {r['test_acc']:.3f}, NoS {r['nos']:.0f}, "
            f"{r['energy_uj']:.3f} uJ, {r['params']} params, {r['seconds']:.0f} s"
        )
    return results


@dataclass
class Outcome:
    """Every search's found architecture (``searches``) and retraining record (``results``),
    in the same order; ``front``: whether each is on the accuracy-energy Pareto front."""

    searches: dict[str, Found]
    results: dict[str, dict]

    @property
    def names(self) -> list[str]:
        return list(self.searches)

    def column(self, key: str) -> np.ndarray:
        """One number of every retraining record, in order."""
        return np.array([self.results[n][key] for n in self.names])

    @property
    def front(self) -> np.ndarray:
        return pareto_front(self.column("test_acc"), self.column("energy_uj"))


def _dash(value) -> str:
    return str(value) if value else "-"


def comparison_table(outcome: Outcome, index_name: str) -> pd.DataFrame:
    """The page's table: accuracy, parameters, spikes, energy, search and retraining cost and
    the Pareto flag of every method."""
    rows = [(outcome.searches[n], outcome.results[n]) for n in outcome.names]
    return pd.DataFrame(
        {
            "test acc. (%)": [f"{100 * r['test_acc']:.1f}" for _, r in rows],
            "parameters": [f"{r['params']:,}" for _, r in rows],
            "NoS / image": [f"{r['nos']:,.0f}" for _, r in rows],
            "energy (uJ / image)": [f"{r['energy_uj']:.3f}" for _, r in rows],
            "search (s)": [f"{s.seconds:.1f}" for s, _ in rows],
            "candidate evaluations": [_dash(s.evaluations) for s, _ in rows],
            "search epochs": [_dash(s.epochs) for s, _ in rows],
            "retrain (s)": [f"{r['seconds']:.0f}" for _, r in rows],
            "Pareto": ["yes" if f else "" for f in outcome.front],
        },
        index=pd.Index(outcome.names, name=index_name),
    )


def pareto_figure(outcome: Outcome, title: str):
    """Test accuracy against energy per image (log scale) of every method, with the front."""
    import matplotlib.pyplot as plt

    acc, energy, front = outcome.column("test_acc"), outcome.column("energy_uj"), outcome.front
    fig, ax = plt.subplots(figsize=(6.5, 4))
    order = np.argsort(energy)
    on = front[order]
    ax.step(
        energy[order][on],
        100 * acc[order][on],
        where="post",
        color="tab:gray",
        lw=1,
        label="Pareto front",
    )
    for n, e, a, m in zip(outcome.names, energy, acc, ["o", "P", "s", "^", "D", "v"]):
        ax.scatter(e, 100 * a, s=60, marker=m, label=n)
    ax.set_xscale("log")
    ax.set(xlabel="energy per test image (uJ, log scale)", ylabel="test accuracy (%)", title=title)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


PAPERS = pd.DataFrame(
    [
        ("94.40", "76.52", "2"),
        ("95.50", "76.25", "6"),
        ("n/a in our notes", "n/a in our notes", "8"),
        ("n/a in our notes", "n/a in our notes", "5"),
        ("table not available to us", "table not available to us", "-"),
    ],
    columns=["CIFAR10 acc. (%)", "CIFAR100 acc. (%)", "T"],
    index=pd.Index(["MA-DARTS", "SpikeDHS", "AutoSNN", "SNASNet", "MSE-NAS"], name="method"),
)
"""The papers' reported numbers (CIFAR, GPU); cells our notes lack stay marked, not guessed."""

OURS = {
    "MA-DARTS": "MA-DARTS (attention tcsa)",
    "SNASNet": "SAHD evolution (SNASNet score)",
    "MSE-NAS": "MSE-NAS (RDM evolution)",
}
"""The paper's method -> this book's search of it."""


def papers_table(outcome: Outcome, time_steps: int, label: str) -> pd.DataFrame:
    """:data:`PAPERS` beside this book's accuracy and time steps of the same methods (``-``
    where the book has none), under two column groups."""
    paper = PAPERS.copy()
    paper.columns = pd.MultiIndex.from_product(
        [["paper, reported (CIFAR10/100, GPU)"], paper.columns]
    )
    ours = {m: outcome.results[OURS[m]]["test_acc"] for m in PAPERS.index if m in OURS}
    mine = pd.DataFrame(
        {
            "acc. (%)": [f"{100 * ours[m]:.1f}" if m in ours else "-" for m in PAPERS.index],
            "T": [str(time_steps) if m in ours else "-" for m in PAPERS.index],
        },
        index=PAPERS.index,
    )
    mine.columns = pd.MultiIndex.from_product([[f"this book ({label})"], mine.columns])
    return pd.concat([paper, mine], axis=1)


def darts_extras(outcome: Outcome) -> dict:
    """The DARTS searches' architecture steps (the first's) and the largest architecture weight
    of any of them."""
    runs = [s.extra for s in outcome.searches.values() if "arch_steps" in s.extra]
    return {
        "darts_arch_steps": int(runs[0]["arch_steps"]),
        "darts_alpha_max_weight": float(max(r["alpha_max_weight"] for r in runs)),
    }


def comparison_glue_values(outcome: Outcome) -> dict:
    """Every method's accuracy (%), energy, NoS and search seconds under ``<short>_<name>``,
    and the DARTS numbers of :func:`darts_extras`."""
    values = darts_extras(outcome)
    for n in outcome.names:
        r, k = outcome.results[n], SHORT[n]
        values[glue_key(k, "acc")] = 100 * r["test_acc"]
        values[glue_key(k, "energy")] = r["energy_uj"]
        values[glue_key(k, "nos")] = r["nos"]
        values[glue_key(k, "search_seconds")] = outcome.searches[n].seconds
    return values


def comparison_metrics(outcome: Outcome, budget: int, wall: float) -> dict:
    """The result file's metrics: per method (short key) the retraining's numbers, the search's
    cost and fitness, the Pareto flag and the method's extras; the budget and the wall time."""
    metrics = {}
    for n, f in zip(outcome.names, outcome.front):
        s, r = outcome.searches[n], outcome.results[n]
        metrics[SHORT[n]] = {
            "test_acc": r["test_acc"],
            "params": r["params"],
            "nos": r["nos"],
            "energy_uj": r["energy_uj"],
            "sops": r["sops"],
            "search_seconds": s.seconds,
            "evaluations": s.evaluations,
            "search_epochs": s.epochs,
            "retrain_seconds": r["seconds"],
            "search_fitness": s.fitness,
            "pareto": bool(f),
            **s.extra,
        }
    metrics["budget_evaluations"] = int(budget)
    metrics["wall_seconds"] = wall
    return metrics


def architectures(outcome: Outcome) -> dict:
    """Every found architecture as JSON, under the method's short key."""
    return {SHORT[n]: s.arch_dict for n, s in outcome.searches.items()}
