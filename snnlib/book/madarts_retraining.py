"""The retraining notebooks' steps: retrain every candidate (derived, plain DARTS, random cells)
or every attention variant at one budget, compare them image by image (and by seed), and what
the retraining notebook glues for the chapter.

A candidate's retraining over seeds is the core's :class:`~snnlib.nas.retrain.RetrainResult`
(:func:`snnlib.darts.retrain.retrain_genotype`); a notebook row is its dict view
(:func:`snnlib.darts.retrain.seed_averaged`) with the candidate's name, attention and cells.

Example:
    >>> without_predictions([{"name": "a", "predictions": [1, 2], "test_acc": 0.5}])
    [{'name': 'a', 'test_acc': 0.5}]
    >>> none_if_missing(None), none_if_missing(0.25)
    (nan, 0.25)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..darts.genotype import genotype_to_dict
from ..darts.retrain import retrain_genotype, seed_averaged, train_genotype
from ..nas.comparisons import compare, comparison_metrics, comparison_rows, correct_matrix
from ..nas.statistics import paired_by_seed
from .madarts_summaries import metric_key


def retrain_candidates(candidates, seeds, **common) -> list[dict]:
    """Retrain every ``(name, genotype, attention)`` of ``candidates`` once per seed of
    ``seeds`` (:func:`~snnlib.darts.retrain.retrain_genotype` with the keywords ``common``)
    and print its line; one row per candidate: ``name``, ``attention``, ``genotype`` (dict)
    and the mean over seeds (:func:`~snnlib.darts.retrain.seed_averaged`)."""
    rows = []
    for name, genotype, attention in candidates:
        result = retrain_genotype(genotype, seeds, attention=attention, desc=name, **common)
        r = seed_averaged(result)
        rows.append(
            {"name": name, "attention": attention, "genotype": genotype_to_dict(genotype), **r}
        )
        print(
            f"{name:12s} ({attention:4s}) test acc {r['test_acc']:.4f} +- {r['test_acc_sd']:.4f}"
            f"  NoS {r['nos']:9.0f}  energy {r['energy_uj']:.3f} uJ  {r['params']} params  "
            f"{r['seconds']:.1f} s"
        )
    return rows


def retrain_variants(genotype, variants, **common) -> list[dict]:
    """Retrain ``genotype`` once per ``(name, attention, gate)`` of ``variants``
    (:func:`~snnlib.darts.retrain.train_genotype` with the keywords ``common``, the variant's
    gate as ``attention_kwargs``) and print its line; one row per variant: ``name``,
    ``attention``, ``gate`` and the run's numbers."""
    rows = []
    for name, attention, gate in variants:
        kw = {**common, "attention_kwargs": {"gate": gate}}
        r = train_genotype(genotype, attention=attention, desc=name, **kw)
        rows.append({"name": name, "attention": attention, "gate": gate, **r})
        print(
            f"{name:18s} test acc {r['test_acc']:.4f}  NoS {r['nos']:9.0f}  "
            f"energy {r['energy_uj']:.3f} uJ  {r['params']} params  {r['seconds']:.1f} s"
        )
    return rows


def without_predictions(rows: list[dict]) -> list[dict]:
    """The rows without their test predictions (what a result file keeps: 10,000 predictions
    per run on CIFAR-10 stay out; their comparisons are in)."""
    return [{k: v for k, v in r.items() if k != "predictions"} for r in rows]


def comparison_table(comparisons: dict) -> pd.DataFrame:
    """The paired comparisons as a table indexed by comparison, rounded to 3 decimals."""
    return pd.DataFrame(comparison_rows(comparisons)).set_index("comparison").round(3)


#: The retraining comparisons' metric keys, in the order of :func:`retrain_comparisons`.
RETRAIN_COMPARISON_KEYS = (
    "derived_minus_plain",
    "derived_minus_random",
    "derived_minus_best_random",
    "plain_minus_random",
)


def retrain_comparisons(rows: list[dict], targets, seed: int) -> tuple[dict, dict]:
    """Paired over the test items ``targets`` (rows: derived first, plain DARTS second, then
    the random cells, each with ``predictions`` per seed): MA-DARTS against plain DARTS, the
    random cells' mean and the best random cell, and plain DARTS against the random cells'
    mean (:func:`~snnlib.nas.comparisons.compare`, bootstrap seed ``seed``). With two or more
    seeds, MA-DARTS against plain DARTS is also paired by seed (Student t,
    ``derived_minus_plain_by_seed*``). Returns ``(comparisons, metrics)``."""
    y = np.asarray(targets)
    derived, plain, randoms = rows[0], rows[1], rows[2:]
    ma_c = correct_matrix(derived["predictions"], y)
    plain_c = correct_matrix(plain["predictions"], y)
    random_c = correct_matrix([p for r in randoms for p in r["predictions"]], y)
    best = max(randoms, key=lambda r: r["test_acc"])  # the first of equals, as argmax
    comparisons = compare(
        {
            "MA-DARTS - plain DARTS": (ma_c, plain_c),
            "MA-DARTS - random cells (mean)": (ma_c, random_c),
            f"MA-DARTS - best random cell ({best['name']})": (
                ma_c,
                correct_matrix(best["predictions"], y),
            ),
            "plain DARTS - random cells (mean)": (plain_c, random_c),
        },
        seed=seed,
    )
    metrics = comparison_metrics(comparisons, dict(zip(comparisons, RETRAIN_COMPARISON_KEYS)))
    if len(derived["test_accs"]) > 1:
        by_seed = paired_by_seed(derived["test_accs"], plain["test_accs"])
        for suffix, key in (("", "diff"), ("_lo", "lo"), ("_hi", "hi"), ("_t_p", "t_p")):
            metrics["derived_minus_plain_by_seed" + suffix] = by_seed[key]
    return comparisons, metrics


def ablation_comparisons(rows: list[dict], targets, seed: int) -> tuple[dict, dict]:
    """Every ablation row against the first (``none``), paired over the test items
    ``targets`` (one run each, ``predictions``). Returns ``(comparisons, metrics)``, the
    metrics keyed ``<variant>_minus_none`` (:func:`~snnlib.book.madarts_summaries.metric_key`)."""
    y = np.asarray(targets)
    base = rows[0]
    pairs, keys = {}, {}
    for r in rows[1:]:
        name = f"{r['name']} - {base['name']}"
        pairs[name] = (
            correct_matrix([r["predictions"]], y),
            correct_matrix([base["predictions"]], y),
        )
        keys[name] = f"{metric_key(r['name'])}_minus_none"
    comparisons = compare(pairs, seed=seed)
    return comparisons, comparison_metrics(comparisons, keys)


def none_if_missing(value):
    """``value``, or NaN when it is ``None`` (a statistic undefined for this run, glued as a
    number a page can format)."""
    return math.nan if value is None else value


def ablation_percent_keys(metrics: dict) -> list[str]:
    """The ablation metrics a page shows in percent (``<key>_pct``): the differences against
    ``none`` and their interval (``*_minus_none*``), not their p-values (``_p_boot``)."""
    return [k for k in metrics if "_minus_none" in k and not k.endswith("_p_boot")]


RETRAIN_GLUED_AS_IS = (
    "derived_nos",
    "plain_nos",
    "random_median_nos",
    "derived_energy_uj",
    "plain_energy_uj",
    "derived_params",
    "train_epochs",
    "derived_rank",
)


def retrain_glue_values(
    metrics: dict, rows: list[dict], *, n_random: int, retrain_C: int, plain_note: str, sizes: dict
) -> dict:
    """What the retraining notebook glues (keys the chapter reads), in percent (``_pct``,
    ``_pp``) where the chapter shows points: accuracies, every comparison and its interval
    (p-values as they are), spikes, energy, the cell effect (NaN where undefined), counts,
    the budget (``sizes``: ``train`` and ``test`` images), one test image in points and the
    binomial standard error of one test accuracy (the resolution of a single-seed comparison)."""
    effect = metrics["cell_effect"]
    percent = ("derived_test_acc", "plain_test_acc", "random_median_test_acc")
    values = {f"{k}_pct": 100 * metrics[k] for k in (*percent, "derived_minus_median")}
    comparisons = ("derived_minus_", "plain_minus_")
    for key in [
        k for k, v in metrics.items() if k.startswith(comparisons) and isinstance(v, float)
    ]:
        if key.endswith(("_p_boot", "_t_p")):
            values[key] = metrics[key]
        elif key != "derived_minus_median":
            values[f"{key}_pct"] = 100 * metrics[key]
    values["random_best_test_acc_pct"] = 100 * (metrics["random_best_test_acc"] or math.nan)
    values.update({key: metrics[key] for key in RETRAIN_GLUED_AS_IS})
    p_hat, n_test = metrics["derived_test_acc"], sizes["test"]
    values.update(
        n_random=n_random,
        n_seeds=metrics["n_seeds"],
        derived_test_acc_sd_pct=100 * rows[0]["test_acc_sd"],
        n_candidates=len(rows),
        cell_effect_F=none_if_missing(effect["F"]),
        cell_effect_p=none_if_missing(effect["p"]),
        cell_sd_between_pp=100 * none_if_missing(effect["sd_between"]),
        cell_sd_noise_pp=100 * none_if_missing(effect["sd_between_from_noise"]),
        derived_beats_median="yes" if metrics["derived_beats_median"] else "no",
        plain_note=plain_note,
        retrain_C=retrain_C,
        n_test=n_test,
        n_train=sizes["train"],
        one_image_pp=100 / n_test,
        test_se_pp=100 * float(np.sqrt(p_hat * (1 - p_hat) / n_test)),
    )
    return values
