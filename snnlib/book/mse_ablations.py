"""The MSE-NAS ablations chapter (notebook ``12_mse_ablations``): (a) the training-free fitness
against accuracy after short training (cost and agreement, and what a short search with each
finds), (b) which scales are searched, (c) robustness of the found, a random and the
hand-designed network to input noise; and the numbers the chapter reports of them.

Example:
    >>> noise_studies("digits", "digits-dvs")
    [('digits', ('gaussian',)), ('digits-dvs', ('drop', 'jitter'))]
    >>> noise_studies("digits", "")
    [('digits', ('gaussian',))]
    >>> scale_key("micro+meso")
    'micro_meso'
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..mse.evolution import evolve
from ..mse.experiment import (
    live_random_genome,
    load_tensors,
    robustness,
    train_genome,
    train_once,
)
from ..nas.reference import ReferenceCNN
from .glue import glue_key

# the robustness study's networks: row label -> metric key
NETWORKS = {"MSE-NAS found": "found", "random genome": "random", "SpikingCNN": "cnn"}


def cost_summary(rows: Sequence[dict]) -> tuple[pd.DataFrame, dict]:
    """The per-candidate costs (rows of :meth:`snnlib.mse.cost.FitnessCosts.rows` for the
    fitnesses ``free`` and ``acc``) as a table, and their summary: median seconds per
    candidate of each, their ratio, Kendall's tau between the two fitnesses (``nan`` for
    fewer than 3 candidates) and the number of candidates."""
    from scipy.stats import kendalltau

    cost = pd.DataFrame(list(rows))
    free_s, acc_s = float(cost["free_seconds"].median()), float(cost["acc_seconds"].median())
    enough = len(cost) > 2
    tau = float(kendalltau(cost["free_fitness"], cost["acc_fitness"])[0]) if enough else np.nan
    return cost, {
        "free_seconds_per_candidate": free_s,
        "acc_seconds_per_candidate": acc_s,
        "cost_ratio": acc_s / free_s,
        "fitness_kendall_tau": float(tau),
        "n_cost_candidates": len(cost),
    }


def cost_record(cost: pd.DataFrame) -> dict:
    """The cost table as the result file keeps it: column -> values."""
    return cost.to_dict(orient="list")


def short_searches(
    fitnesses: Mapping, space, evolution, data, net, retrain: Mapping
) -> dict[str, dict]:
    """A search of ``evolution``'s budget with each of ``fitnesses`` (name -> fitness), and
    its best genome retrained (:func:`~snnlib.mse.experiment.train_genome` with ``retrain``):
    per name the search's seconds, evaluations, best fitness, the retrained test accuracy and
    the genome. Prints one line per search."""
    out = {}
    for name, fitness in fitnesses.items():
        t0 = time.perf_counter()
        res = evolve(fitness, space, evolution, desc=name, progress=False)
        seconds = time.perf_counter() - t0
        run = train_genome(res.best, data, net, **retrain)
        out[name] = {
            "search_seconds": seconds,
            "evaluations": res.evaluations,
            "fitness": res.best_fitness,
            "test_acc": run.test_acc,
            "genome": res.best.to_dict(),
        }
        print(
            f"{name}: {res.evaluations} evaluations in {seconds:.1f} s -> retrained test "
            f"accuracy {run.test_acc:.4f}"
        )
    return out


def short_search_accuracies(short: Mapping[str, dict]) -> list[float]:
    """The retrained test accuracy of each short search, in order."""
    return [s["test_acc"] for s in short.values()]


def scale_searches(
    spaces: Mapping, fitness, evolution, data, net, retrain: Mapping
) -> tuple[list[dict], dict]:
    """A search of ``evolution``'s budget in each of ``spaces`` (name -> space) with
    ``fitness``, its best genome retrained: the table rows (searched scales, best fitness,
    evaluations, test accuracy, NoS) and per name ``(genome, trained network)``."""
    rows, models = [], {}
    for name, space in spaces.items():
        res = evolve(fitness, space, evolution, desc=name, progress=False)
        run, model = train_genome(res.best, data, net, return_model=True, **retrain)
        models[name] = (res.best, model)
        rows.append(
            {
                "searched scales": name,
                "best fitness": res.best_fitness,
                "evaluations": res.evaluations,
                "test accuracy": run.test_acc,
                "NoS": run.nos,
            }
        )
    return rows, models


def noise_studies(dataset: str, event_dataset: str) -> list[tuple[str, tuple[str, ...]]]:
    """Which noises are studied on which dataset: Gaussian noise on the static ``dataset``;
    event drop and jitter on ``event_dataset`` (none when it is empty)."""
    studies = [(dataset, ("gaussian",))]
    if event_dataset:
        studies.append((event_dataset, ("drop", "jitter")))
    return studies


def robustness_study(
    data,
    event_dataset: str,
    found,
    found_model,
    space,
    probe_fitness,
    *,
    net,
    cnn_width: int,
    levels: Mapping[str, Sequence[float]],
    time_steps: int,
    limit,
    seed: int,
    device,
    retrain: Mapping,
) -> dict[str, dict[str, list[float]]]:
    """Test accuracy at every noise level (``levels[noise]``) of three networks trained on
    clean data: the found genome, the first random genome of ``space`` whose untrained output
    fires on the probe (drawn by ``seed + 200``), the :class:`~snnlib.models.SpikingCNN` of
    ``cnn_width``. On ``data`` the found genome is ``found_model`` (already trained); on the
    event dataset (loaded at ``time_steps``, ``limit``) it is retrained. Returns
    ``noise -> network (of NETWORKS) -> accuracies``."""
    curves = {}
    for i, (name, noises) in enumerate(noise_studies(data.name, event_dataset)):
        d = data if i == 0 else load_tensors(name, time_steps, seed=seed, limit=limit)
        if i > 0:
            found_model = train_genome(found, d, net, return_model=True, **retrain)[1]
        rng = np.random.default_rng(seed + 200)
        rand_genome = live_random_genome(rng, space, probe_fitness, seed)
        rand_model = train_genome(rand_genome, d, net, return_model=True, **retrain)[1]
        cnn = train_once(ReferenceCNN(cnn_width), d, **retrain)[1]
        trained = dict(zip(NETWORKS, (found_model, rand_model, cnn)))
        for noise in noises:
            curves[noise] = {
                k: robustness(m, d, noise, levels[noise], seed, device) for k, m in trained.items()
            }
    return curves


def curves_text(curves: Mapping[str, Mapping[str, list[float]]]) -> str:
    """The robustness curves, one line per noise, accuracies to 3 digits."""
    return "\n".join(
        f"{noise} { {k: [round(a, 3) for a in v] for k, v in per_model.items()} }"
        for noise, per_model in curves.items()
    )


def robustness_record(levels: Mapping, curves: Mapping) -> dict:
    """The robustness study as the result file keeps it: the levels of the noises studied and
    the curves."""
    return {"levels": {k: levels[k] for k in curves}, "curves": curves}


def scale_key(name: str) -> str:
    """The metric key part of a searched-scales name (``"micro+meso"`` -> ``micro_meso``)."""
    return glue_key(name)


def ablation_metrics(
    cost: Mapping, short: Mapping[str, dict], scales_rows: Sequence[dict], curves: Mapping, cfg
) -> dict:
    """The result file's metrics of the ablations: the cost summary (:func:`cost_summary`),
    the settings of ``cfg`` (the notebook's scale table), the short searches' accuracies and
    seconds (training-free first, accuracy second), each searched-scales row's fitness and
    accuracy, and each robustness curve's clean and worst accuracy."""
    free, acc = short.values()
    metrics = {
        **cost,
        "acc_fitness_epochs": cfg["acc_fitness"].epochs,
        "free_search_test_acc": free["test_acc"],
        "acc_search_test_acc": acc["test_acc"],
        "free_search_seconds": free["search_seconds"],
        "acc_search_seconds": acc["search_seconds"],
        "short_search_population": cfg["short_search"].population,
        "short_search_generations": cfg["short_search"].generations,
        "scale_search_population": cfg["scale_search"].population,
        "scale_search_generations": cfg["scale_search"].generations,
        "retrain_epochs": cfg["retrain"].epochs,
        "max_sigma": cfg["sigmas"][-1],
        "max_drop": cfg["drops"][-1],
        "max_jitter": cfg["jitters"][-1],
    }
    for row in scales_rows:
        key = scale_key(row["searched scales"])
        metrics[f"scales_{key}_fitness"] = row["best fitness"]
        metrics[f"scales_{key}_test_acc"] = row["test accuracy"]
    for noise, per_model in curves.items():
        for name, accs in per_model.items():
            metrics[f"{noise}_{NETWORKS[name]}_clean_acc"] = accs[0]
            metrics[f"{noise}_{NETWORKS[name]}_worst_acc"] = accs[-1]
    return metrics
