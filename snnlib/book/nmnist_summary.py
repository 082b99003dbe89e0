"""The N-MNIST chapter's verdict: which candidate the validation split chooses, how every
variant fares against the default and against logistic regression, and the numbers the
result file and the page hold.

- :func:`selection_table`: :func:`~snnlib.nas.selection.pick_by_validation` over the
  candidates' final validation accuracy and loss (per seed), as a table in percent;
- :func:`ablation_table`: one row per variant: seeds, validation and test accuracy (%), the
  95 % interval of the test accuracy (Student t over seeds; with one seed, Wilson over the
  test items), the paired difference to the default's first seed and to the logistic
  regression (:func:`~snnlib.nas.statistics.paired_items`), training seconds per seed;
  with the seeds' accuracies as points for the figure;
- :func:`nmnist_metrics`, :func:`nmnist_glue_values`, :func:`nmnist_artifacts`: the result
  file's metrics and artifacts, the page's keys (accuracies in percent; each variant's test
  accuracy as ``acc_<variant>``, :func:`variant_key`).

Example:
    >>> variant_key("+ 17 px"), variant_key("default, log1p counts")
    ('acc_17_px', 'acc_default_log1p_counts')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..nas.retrain import RetrainResult
from ..nas.selection import pick_by_validation
from ..nas.statistics import paired_items, t_interval, wilson_interval
from .glue import glue_key
from .nmnist_variants import adopted_phrase


def variant_key(name: str) -> str:
    """The glue key of a variant's test accuracy: ``acc_`` and the lower-cased name by the
    glue-key rule (:func:`~snnlib.book.glue.glue_key`)."""
    return glue_key("acc", name.lower())


def selection_table(
    results: Mapping[str, RetrainResult], candidates: Sequence[str]
) -> tuple[str, pd.DataFrame]:
    """The adopted candidate and the selection table (one row per candidate: seeds, mean
    final validation accuracy in %, mean final validation loss, tied with the best,
    chosen; rounded to 3 decimals)."""
    adopted, rows = pick_by_validation(
        {
            name: [(r.val_acc, r.history["val_loss"][-1]) for r in results[name].runs]
            for name in candidates
        }
    )
    table = pd.DataFrame(rows).set_index("candidate")
    table[["val_acc", "val_loss"]] = table[["val_acc", "val_loss"]] * [100, 1]
    table = table.rename(columns={"val_acc": "val acc %", "val_loss": "val loss"}).round(3)
    return adopted, table


def accuracy_interval(
    result: RetrainResult, first_correct: np.ndarray, n_test: int
) -> tuple[float, float, float]:
    """Mean test accuracy and its 95 % interval: Student t over the seeds, or with one seed
    the Wilson interval over the ``n_test`` test items (``first_correct``: the first seed's
    hits)."""
    m, lo, hi = t_interval(result.test_accs)
    if len(result.runs) == 1:  # one seed: the interval is the test items' (Wilson)
        lo, hi = wilson_interval(int(first_correct.sum()), n_test)
    return m, lo, hi


def ablation_table(
    results: Mapping[str, RetrainResult],
    correct: Mapping[str, np.ndarray],
    bar_correct: np.ndarray,
    n_test: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The variants' table (module docstring; rounded to 1 decimal) and the seeds' test
    accuracies in % (columns ``variant``, ``acc``) for the figure; ``n_test``: the number of
    test recordings."""
    rows, points = [], []
    for name, res in results.items():
        first = correct[name][:1]
        vs_default = paired_items(first, correct["default"][:1])
        vs_bar = paired_items(correct[name], bar_correct)
        m, lo, hi = accuracy_interval(res, first, n_test)
        rows.append(
            {
                "variant": name,
                "seeds": len(res.runs),
                "val acc %": 100 * res.mean("val_acc"),
                "test acc %": 100 * m,
                "CI low": 100 * lo,
                "CI high": 100 * hi,
                "minus default (seed 0)": 100 * vs_default["diff"],
                "minus logistic": 100 * vs_bar["diff"],
                "train s": res.seconds / len(res.runs),
            }
        )
        points += [{"variant": name, "acc": 100 * a} for a in res.test_accs]
    return pd.DataFrame(rows).set_index("variant").round(1), pd.DataFrame(points)


def ablation_figure(
    table: pd.DataFrame, points: pd.DataFrame, bar_acc: float, bar_correct, n_test: int
):
    """The seeds' test accuracies per variant (dots), each variant's mean and interval
    (squares) and the logistic regression's accuracy with its Wilson interval over the
    ``n_test`` test recordings (band)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    order = list(table.index)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    bar_lo, bar_hi = wilson_interval(int(bar_correct.sum()), n_test)
    ax.axhspan(100 * bar_lo, 100 * bar_hi, color="0.9", zorder=0)
    ax.axhline(100 * bar_acc, color="0.4", ls="--", lw=1, label="logistic regression (95% CI)")
    sns.stripplot(data=points, x="variant", y="acc", order=order, ax=ax, size=6, color="tab:blue")
    for i, name in enumerate(order):
        m, lo, hi = table.loc[name, ["test acc %", "CI low", "CI high"]]
        ax.errorbar(i + 0.25, m, yerr=[[m - lo], [hi - m]], fmt="s", color="k", ms=4, capsize=3)
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(order, rotation=30, ha="right")
    ax.set(xlabel="", ylabel=f"test accuracy % ({n_test} recordings)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Fixed SNN on real N-MNIST: seeds (dots), mean and 95% interval (squares)")
    fig.tight_layout()
    return fig


def nmnist_metrics(
    results: Mapping[str, RetrainResult],
    adopted: str,
    correct: Mapping[str, np.ndarray],
    bars,
    bar_correct: np.ndarray,
    selection: pd.DataFrame,
    n_test: int,
) -> dict:
    """The result file's metrics: the adopted recipe's test accuracy (t interval over
    seeds) against the logistic regression ``bar`` on the same items (paired bootstrap,
    McNemar of the first seed), the bar on the sensor's grid, the
    substrate recipe's and the default's accuracy, the selection table, spikes, energy and
    every variant's per-seed accuracies. ``bars``:
    :class:`~snnlib.book.nmnist_training.LogisticBars`; ``bar_correct``: the network-frame
    bar's hits on the items of ``correct``."""
    snn = results[adopted]
    snn_m, snn_lo, snn_hi = t_interval(snn.test_accs)
    versus = paired_items(correct[adopted], bar_correct)
    default_m, default_lo, default_hi = t_interval(results["default"].test_accs)
    return {
        "test_acc": snn_m,
        "test_acc_ci95": [snn_lo, snn_hi],
        "test_accs": snn.test_accs,
        "logistic_acc": bars.network.test_acc,
        "logistic_acc_ci95": list(wilson_interval(int(bar_correct.sum()), n_test)),
        "logistic_acc_sensor_grid": bars.sensor_grid.test_acc,
        "snn_minus_logistic": versus["diff"],
        "snn_minus_logistic_ci95": [versus["lo"], versus["hi"]],
        "snn_minus_logistic_p_boot": versus["p_boot"],
        "mcnemar_p_seed0": versus["mcnemar"]["p"],
        "substrate_recipe_acc": results["substrate recipe"].test_acc,
        "adopted": adopted,
        "selection": selection.reset_index().to_dict(orient="records"),
        "default_acc": default_m,
        "default_acc_ci95": [default_lo, default_hi],
        "nos": snn.nos,
        "energy_uj": snn.energy_uj,
        "n_test": n_test,
        "variants": {k: v.test_accs for k, v in results.items()},
    }


#: page key -> metric (and index into a two-value interval) shown in percent
PERCENT_KEYS = {
    "snn_acc": ("test_acc", None),
    "snn_lo": ("test_acc_ci95", 0),
    "snn_hi": ("test_acc_ci95", 1),
    "lr_acc": ("logistic_acc", None),
    "lr_lo": ("logistic_acc_ci95", 0),
    "lr_hi": ("logistic_acc_ci95", 1),
    "lr34_acc": ("logistic_acc_sensor_grid", None),
    "diff": ("snn_minus_logistic", None),
    "diff_lo": ("snn_minus_logistic_ci95", 0),
    "diff_hi": ("snn_minus_logistic_ci95", 1),
    "old_acc": ("substrate_recipe_acc", None),
    "default_acc": ("default_acc", None),
    "default_lo": ("default_acc_ci95", 0),
    "default_hi": ("default_acc_ci95", 1),
}


def nmnist_glue_values(
    metrics: Mapping,
    table: pd.DataFrame,
    *,
    n_seeds: int,
    n_train: int,
    data_source: str,
    recipe: Mapping,
    n_candidates: int,
) -> dict:
    """The page's keys: :data:`PERCENT_KEYS` in percent, each variant's test accuracy (%,
    :func:`variant_key`), the bootstrap and McNemar p-values, the number of seeds, test and
    training recordings and candidates, the data source, the epochs of the default
    ``recipe`` and the adopted recipe as a phrase
    (:func:`~snnlib.book.nmnist_variants.adopted_phrase`)."""
    values = {}
    for key, (metric, index) in PERCENT_KEYS.items():
        value = metrics[metric] if index is None else metrics[metric][index]
        values[key] = float(100 * value)
    for name, acc in table["test acc %"].items():  # acc_substrate_recipe, acc_17_px, ...
        values[variant_key(name)] = float(acc)
    values.update(
        {
            "p_boot": float(metrics["snn_minus_logistic_p_boot"]),
            "mcnemar_p": float(metrics["mcnemar_p_seed0"]),
            "n_seeds": int(n_seeds),
            "n_test": int(metrics["n_test"]),
            "n_train": int(n_train),
            "data_source": str(data_source),
            "epochs": int(recipe["epochs"]),
            "adopted": adopted_phrase(metrics["adopted"]),
            "n_candidates": int(n_candidates),
        }
    )
    return values


def nmnist_artifacts(
    data: Mapping,
    variants: Mapping[str, Mapping],
    results: Mapping[str, RetrainResult],
    bars,
    table: pd.DataFrame,
) -> dict:
    """The result file's artifacts: the data's source and split sizes, the variants'
    recipes, every retraining, the logistic regressions (by image size) and the table."""
    return {
        "data": dict(data),
        "variants": {k: dict(v) for k, v in variants.items()},
        "runs": {k: v.to_dict() for k, v in results.items()},
        "logistic": {str(k): b.to_dict() for k, b in bars.by_size.items()},
        "table": table.reset_index().to_dict(orient="records"),
    }
