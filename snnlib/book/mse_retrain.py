"""The MSE-NAS retraining chapter (notebook ``11_mse_retrain``): which networks are trained,
their runs as table rows, the comparisons between them, and the numbers the chapter reports.

Three kinds of network are trained with one recipe on one dataset (:func:`train_models`): the
found genome at every retraining seed, each random genome at the notebook's seed, the
hand-designed ``SpikingCNN`` at every retraining seed. Each is one
:class:`~snnlib.nas.retrain.RetrainResult` (:class:`ModelRuns`); :func:`rows` lays their runs
out as the result file's rows (one per run, in training order). The transfer experiment trains
the same kinds on a second dataset at the notebook's seed (:func:`train_transfer`).

A row's ``model`` names its kind by prefix: ``"MSE-NAS found"``, ``"random <k>"``,
``"SpikingCNN (hand-designed)"``; :func:`accuracies` and :func:`correct` select by prefix and
dataset.

Example:
    >>> rows_ = [{"model": "random 0", "dataset": "a", "test_acc": 0.5},
    ...          {"model": "random 1", "dataset": "b", "test_acc": 0.7},
    ...          {"model": "random 2", "dataset": "a", "test_acc": 0.6}]
    >>> accuracies(rows_, "random", "a")
    [0.5, 0.6]
    >>> retraining_seeds(3, 2), learned(0.2, 10), learned(0.12, 10)
    ([3, 4], True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..mse.experiment import RetrainableGenome, load_tensors, retrain_on
from ..nas.comparisons import compare, comparison_metrics, comparison_rows, correct_matrix
from ..nas.reference import ReferenceCNN
from ..nas.retrain import RetrainResult
from ..nas.statistics import paired_by_seed

FOUND, RANDOM, CNN = "MSE-NAS found", "random", "SpikingCNN (hand-designed)"
GROUPS = ("random genomes", "MSE-NAS found", "SpikingCNN")  # the figure's order
TABLE_COLUMNS = {
    "model": "model",
    "dataset": "dataset",
    "seed": "seed",
    "test_acc": "test accuracy",
    "nos": "NoS / image",
    "energy_uj": "energy (uJ)",
    "params": "params",
    "train_seconds": "train (s)",
}
# the metric key of each comparison (fractions, with _lo, _hi, _p_boot)
COMPARISON_KEYS = {
    "found - SpikingCNN": "found_minus_cnn",
    "found - random genomes (mean)": "found_minus_random",
    "found - best random genome": "found_minus_best_random",
}


@dataclass
class ModelRuns:
    """One network of the chapter on one dataset: its row label and its runs over seeds."""

    model: str
    dataset: str
    result: RetrainResult


def retraining_seeds(seed: int, n_seeds: int) -> list[int]:
    """The retraining seeds of the found genome and the CNN: ``seed, seed + 1, ...``."""
    return [seed + k for k in range(n_seeds)]


def transfer_target(transfer_dataset: str, has_transfer: bool, scale: str, dataset: str) -> str:
    """The transfer dataset to use: ``transfer_dataset``, or ``""`` (and a printed note) when
    the scale's settings for ``dataset`` have no transfer run."""
    if transfer_dataset and not has_transfer:
        print(f"transfer to {transfer_dataset} skipped: the {scale} scale of {dataset} has none")
        return ""
    return transfer_dataset


def search_line(search: dict, search_dataset: str) -> str:
    """One line on the search a retraining starts from (its result file's ``metrics``)."""
    m = search["metrics"]
    return (
        f"search on {search_dataset}: fitness {m['best_fitness']:.4f}, "
        f"{m['evaluations']} evaluations"
    )


def train_models(
    found, randoms: Sequence, data, net, cnn_width: int, seeds, seed: int, **budget
) -> list[ModelRuns]:
    """The found genome at ``seeds``, each of ``randoms`` at ``seed``, the ``SpikingCNN`` of
    ``cnn_width`` at ``seeds``, in that order, all trained on ``data`` with ``budget``
    (:func:`snnlib.mse.experiment.retrain_on`: ``train``, ``batch_size``, ``device``,
    ``keep_predictions``, ...)."""
    out = [
        ModelRuns(
            FOUND, data.name, retrain_on(RetrainableGenome(found, net), data, seeds, **budget)
        )
    ]
    for k, genome in enumerate(randoms):
        result = retrain_on(RetrainableGenome(genome, net), data, [seed], **budget)
        out.append(ModelRuns(f"{RANDOM} {k}", data.name, result))
    cnn = retrain_on(ReferenceCNN(cnn_width), data, seeds, **budget)
    return [*out, ModelRuns(CNN, data.name, cnn)]


def train_transfer(
    transfer_dataset: str,
    found,
    randoms: Sequence,
    time_steps: int,
    limit,
    net,
    cnn_width: int,
    seed: int,
    **budget,
) -> list[ModelRuns]:
    """:func:`train_models` on ``transfer_dataset`` (loaded at ``time_steps``, ``limit`` and
    ``seed``) at the one seed ``seed``; nothing when ``transfer_dataset`` is empty."""
    if not transfer_dataset:
        return []
    data = load_tensors(transfer_dataset, time_steps, seed=seed, limit=limit)
    return train_models(found, randoms, data, net, cnn_width, [seed], seed, **budget)


def run_row(model: str, dataset: str, run) -> dict:
    """One run as a result-file row: who, where, at which seed, and what it measured
    (``predictions`` only when the run kept them)."""
    row = {
        "model": model,
        "dataset": dataset,
        "seed": run.seed,
        "test_acc": run.test_acc,
        "best_val_acc": run.best_val_acc,
        "nos": run.nos,
        "energy_uj": run.energy_uj,
        "sops": run.sops,
        "params": run.params,
        "train_seconds": run.total_seconds,
        "val_acc": list(run.history["val_acc"]),
    }
    if run.predictions is not None:
        row["predictions"] = list(run.predictions)
    return row


def rows(models: Sequence[ModelRuns]) -> list[dict]:
    """Every run of ``models`` as a row (:func:`run_row`), in training order."""
    return [run_row(m.model, m.dataset, run) for m in models for run in m.result.runs]


def genome_dicts(genomes: Sequence) -> list[dict]:
    """The genomes as the result file records them (:meth:`Genome.to_dict`)."""
    return [g.to_dict() for g in genomes]


def file_rows(rows_: Sequence[dict]) -> list[dict]:
    """The rows without their test predictions (10,000 per run on CIFAR-10): what the result
    file keeps (the comparisons made of them are in its metrics)."""
    return [{k: v for k, v in r.items() if k != "predictions"} for r in rows_]


def _selected(rows_: Sequence[dict], model: str, dataset: str) -> list[dict]:
    return [r for r in rows_ if r["model"].startswith(model) and r["dataset"] == dataset]


def accuracies(rows_: Sequence[dict], model: str, dataset: str) -> list[float]:
    """``test_acc`` of the rows whose ``model`` starts with ``model`` and whose ``dataset`` is
    ``dataset``, in row order (e.g. every ``"random k"`` genome on one dataset)."""
    return [r["test_acc"] for r in _selected(rows_, model, dataset)]


def correct(rows_: Sequence[dict], model: str, dataset: str, targets) -> np.ndarray:
    """``[runs, test items]`` booleans (prediction right) of the rows of one model on one
    dataset (its seeds, or the random genomes), for comparisons paired over test items."""
    return correct_matrix([r["predictions"] for r in _selected(rows_, model, dataset)], targets)


def learned(acc: float, num_classes: int, margin: float = 1.5) -> bool:
    """Whether a test accuracy is clearly above chance (``> margin / num_classes``): random
    genomes of this space often have a silent output layer and do not learn at all."""
    return acc > margin / num_classes


def results_table(rows_: Sequence[dict]) -> pd.DataFrame:
    """The chapter's table of runs: one row per run, the columns of :data:`TABLE_COLUMNS`."""
    return pd.DataFrame(list(rows_))[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS)


def comparisons(rows_: Sequence[dict], dataset: str, targets, seed: int) -> dict[str, dict]:
    """The chapter's paired comparisons over test items on ``dataset``
    (:func:`snnlib.nas.comparisons.compare`, bootstrap seeded by ``seed``): the found genome
    against the CNN, against the random genomes' mean, and against the best random genome."""
    found_c, cnn_c, random_c = (
        correct(rows_, m, dataset, targets) for m in (FOUND, "SpikingCNN", RANDOM)
    )
    best = int(np.argmax(accuracies(rows_, RANDOM, dataset)))
    return compare(
        {
            "found - SpikingCNN": (found_c, cnn_c),
            "found - random genomes (mean)": (found_c, random_c),
            "found - best random genome": (found_c, random_c[[best]]),
        },
        seed=seed,
    )


def comparison_table(comparisons_: dict) -> pd.DataFrame:
    """The comparisons as the chapter's table (:func:`snnlib.nas.comparisons.comparison_rows`),
    indexed by comparison, rounded to 3 digits."""
    return pd.DataFrame(comparison_rows(comparisons_)).set_index("comparison").round(3)


def by_seed(rows_: Sequence[dict], dataset: str) -> dict | None:
    """Found minus CNN paired over retraining seeds (:func:`paired_by_seed`); ``None`` with
    one seed (no interval over one value)."""
    found, cnn = accuracies(rows_, "MSE-NAS", dataset), accuracies(rows_, "SpikingCNN", dataset)
    return paired_by_seed(found, cnn) if len(found) > 1 else None


def by_seed_line(result: dict | None) -> str:
    """The per-seed difference as a line of text (empty with one seed)."""
    if result is None:
        return ""
    return (
        f"found - SpikingCNN over {result['n']} seeds: {100 * result['diff']:.2f} points "
        f"[{100 * result['lo']:.2f}, {100 * result['hi']:.2f}], t-test p = {result['t_p']:.3f}"
    )


def verdict(beats: bool) -> str:
    """A comparison as the chapter words it."""
    return "beats" if beats else "does not beat"


def accuracy_summary(rows_: Sequence[dict], dataset: str, num_classes: int) -> dict:
    """The chapter's accuracies on ``dataset``: the found genome's and the CNN's over seeds
    (lists and means), the random genomes' (list, median, how many did not learn, median of
    those that did)."""
    found_accs = accuracies(rows_, "MSE-NAS", dataset)
    random_accs = accuracies(rows_, RANDOM, dataset)
    cnn_accs = accuracies(rows_, "SpikingCNN", dataset)
    live = [a for a in random_accs if learned(a, num_classes)]
    return {
        "found_accs": found_accs,
        "found_acc": float(np.mean(found_accs)),  # mean over the retraining seeds
        "random_accs": random_accs,
        "random_median": float(np.median(random_accs)),
        "n_not_learning": len(random_accs) - len(live),
        "live_median": float(np.median(live)) if live else float("nan"),
        "cnn_accs": cnn_accs,
        "cnn_acc": float(np.mean(cnn_accs)),
    }


def summary_line(acc: dict) -> str:
    """:func:`accuracy_summary` as the notebook prints it."""
    beats = verdict(acc["found_acc"] > acc["random_median"])
    return (
        f"found {acc['found_acc']:.4f} {beats} the median of {len(acc['random_accs'])} random "
        f"genomes ({acc['random_median']:.4f}); {acc['n_not_learning']} random genomes did not "
        f"learn; median of those that did {acc['live_median']:.4f}; SpikingCNN {acc['cnn_acc']:.4f}"
    )


def plot_frame(rows_: Sequence[dict], dataset: str) -> pd.DataFrame:
    """One point per run on ``dataset`` for the comparison figure: its group (of
    :data:`GROUPS`), dataset and test accuracy."""

    def group(model: str) -> str:
        if model.startswith(RANDOM):
            return "random genomes"
        return "MSE-NAS found" if model.startswith("MSE-NAS") else "SpikingCNN"

    return pd.DataFrame(
        [
            {"group": group(r["model"]), "dataset": r["dataset"], "test accuracy": r["test_acc"]}
            for r in rows_
            if r["dataset"] == dataset
        ]
    )


def panels(dataset: str, transfer_dataset: str) -> dict[str, str]:
    """The figure's panels: dataset -> title (the transfer dataset's only when there is one)."""
    out = {dataset: f"trained and tested on {dataset}"}
    if transfer_dataset:
        out[transfer_dataset] = f"transfer to {transfer_dataset}"
    return out


def retrain_metrics(
    rows_: Sequence[dict],
    dataset: str,
    transfer_dataset: str,
    num_classes: int,
    comparisons_: dict,
    search: dict,
    settings: dict,
) -> dict:
    """The result file's metrics of a retraining: accuracies (:func:`accuracy_summary`), the
    found genome's spikes, energy and size, its rank among the random genomes, the paired
    comparisons (:data:`COMPARISON_KEYS`; by seed with two or more seeds) and the transfer
    accuracies; the best fitness of ``search`` (the search's result file); ``settings`` (epochs,
    counts of networks, seeds and items) as given."""
    acc = accuracy_summary(rows_, dataset, num_classes)
    found_row = [r for r in rows_ if r["model"] == FOUND and r["dataset"] == dataset][0]
    found_acc, random_accs = acc["found_acc"], acc["random_accs"]
    metrics = {
        "found_test_acc": found_acc,
        "found_nos": found_row["nos"],
        "found_energy_uj": found_row["energy_uj"],
        "found_params": found_row["params"],
        "random_median_test_acc": acc["random_median"],
        "n_random_not_learning": acc["n_not_learning"],
        "random_learning_median_test_acc": acc["live_median"],
        "found_beats_learning_median": bool(found_acc > acc["live_median"]),
        "random_min_test_acc": float(np.min(random_accs)),
        "random_max_test_acc": float(np.max(random_accs)),
        "random_test_accs": random_accs,
        "cnn_test_acc": acc["cnn_acc"],
        "found_beats_random_median": bool(found_acc > acc["random_median"]),
        "found_rank_among_random": int(sum(a >= found_acc for a in random_accs)) + 1,
        "search_fitness": search["metrics"]["best_fitness"],
        "epochs": settings["epochs"],
        "n_random": settings["n_random"],
        "n_transfer_random": settings["n_transfer_random"] if transfer_dataset else 0,
        "total_train_seconds": float(sum(r["train_seconds"] for r in rows_)),
        "n_seeds": settings["n_seeds"],
        "found_test_accs": acc["found_accs"],
        "cnn_test_accs": acc["cnn_accs"],
        "n_test": settings["n_test"],
        "n_train": settings["n_train"],
    }
    metrics.update(comparison_metrics(comparisons_, COMPARISON_KEYS))
    paired = by_seed(rows_, dataset)
    if paired is not None:
        for part, key in (("diff", ""), ("lo", "_lo"), ("hi", "_hi"), ("t_p", "_t_p")):
            metrics[f"found_minus_cnn_by_seed{key}"] = paired[part]
    if transfer_dataset:
        metrics.update(transfer_metrics(rows_, transfer_dataset, settings["n_transfer_random"]))
    return metrics


def transfer_metrics(rows_: Sequence[dict], transfer_dataset: str, n_transfer_random: int) -> dict:
    """The transfer accuracies: found genome, random genomes (list and median, ``None``
    without random genomes) and CNN on ``transfer_dataset``."""
    random_accs = accuracies(rows_, RANDOM, transfer_dataset)
    return {
        "transfer_found_test_acc": accuracies(rows_, "MSE-NAS", transfer_dataset)[0],
        "transfer_random_test_accs": random_accs,
        "transfer_random_median_test_acc": float(np.median(random_accs))
        if n_transfer_random
        else None,
        "transfer_cnn_test_acc": accuracies(rows_, "SpikingCNN", transfer_dataset)[0],
    }


def percent_keys(metrics: dict) -> list[str]:
    """The metrics the chapter shows in percent: accuracies and the found-minus differences
    with their interval ends (not their p-values)."""
    return [
        k
        for k in metrics
        if k.endswith("acc")
        or (k.startswith("found_minus") and not k.endswith(("_p_boot", "_t_p")))
    ]


def verdicts(metrics: dict) -> dict[str, str]:
    """The found genome against the random genomes' median and against the median of those
    that learned, in the chapter's words (glued as text)."""
    return {
        "found_verdict": verdict(metrics["found_beats_random_median"]),
        "found_verdict_learning": verdict(metrics["found_beats_learning_median"]),
    }
