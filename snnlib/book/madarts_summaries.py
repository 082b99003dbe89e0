"""The numbers the MA-DARTS notebooks report, computed from what the search and the
retrainings return: operation shares of a cell, how decided the architecture weights were
epoch by epoch, the search's metrics, the retraining comparison (derived vs plain vs random
cells) and the attention ablation (each variant against ``none``).

Example:
    >>> from snnlib.darts.genotype import Genotype
    >>> g = Genotype(
    ...     normal=(("skip_connect", 0), ("spike_conv_3x3", 1)) * 2, normal_concat=(2, 3),
    ...     reduce=(("max_pool_3x3", 0), ("avg_pool_3x3", 1)) * 2, reduce_concat=(2, 3))
    >>> op_share(g, "normal", ("skip_connect",)), op_share(g, "reduce", POOLS)
    (0.5, 1.0)
    >>> metric_key("tcsa, sigmoid gate")
    'tcsa_sigmoid_gate'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..darts.genotype import Genotype, alpha_sharpness
from ..nas.statistics import cell_effect
from .glue import glue_key

CELLS = ("normal", "reduce")
POOLS = ("max_pool_3x3", "avg_pool_3x3")
CONVS = ("spike_conv_3x3", "spike_conv_5x5", "dil_conv_3x3")


def op_share(genotype: Genotype, cell: str, ops: Sequence[str]) -> float:
    """The fraction of the ``cell``'s (``normal`` / ``reduce``) edges whose operation is
    one of ``ops``."""
    edges = genotype.normal if cell == "normal" else genotype.reduce
    return sum(op in ops for op, _ in edges) / len(edges)


def sharpness_per_epoch(history: list[dict]) -> dict[str, list[dict]]:
    """``cell -> [alpha_sharpness of that epoch's softmax weights]`` over a search history."""
    return {cell: [alpha_sharpness(h[f"alphas_{cell}"]) for h in history] for cell in CELLS}


def search_metrics(result, supernet_params: int, sharpness: dict, plain=None) -> dict:
    """The search notebook's metrics from a :class:`~snnlib.darts.bilevel.BilevelResult`
    (and the plain DARTS search's, ``plain``): times, final accuracy and spikes, operation
    shares of the derived cells, how decided the final weights are, and with ``plain`` the
    cost of the attention per search step (``step_time_ratio``)."""
    last = result.history[-1]
    g = result.genotype
    metrics = {
        "search_seconds": result.seconds,
        "step_seconds": result.step_seconds,
        "epochs": len(result.history),
        "supernet_params": supernet_params,
        "final_val_acc": last["val_acc"],
        "final_train_acc": last["train_acc"],
        "nos_val": last["nos_val"],
        "nos_train": last["nos_train"],
        "sops_val": last["sops_val"],
        "energy_uj_val": last["energy_uj_val"],
        "nos_per_cell_val": last["nos_per_cell_val"],
        "reduce_pool_share": op_share(g, "reduce", POOLS),
        "reduce_maxpool_share": op_share(g, "reduce", ("max_pool_3x3",)),
        "normal_conv_share": op_share(g, "normal", CONVS),
        "normal_skip_share": op_share(g, "normal", ("skip_connect",)),
        "alpha_max_weight_normal": sharpness["normal"][-1]["max_weight"],
        "alpha_max_weight_reduce": sharpness["reduce"][-1]["max_weight"],
        "alpha_entropy_normal": sharpness["normal"][-1]["entropy"],
        "alpha_entropy_reduce": sharpness["reduce"][-1]["entropy"],
        "alpha_uniform_weight": sharpness["normal"][-1]["uniform"],
    }
    if plain is not None:
        metrics.update(
            {
                "plain_search_seconds": plain.seconds,
                "plain_step_seconds": plain.step_seconds,
                "plain_final_val_acc": plain.history[-1]["val_acc"],
                "plain_nos_val": plain.history[-1]["nos_val"],
                "step_time_ratio": result.step_seconds / plain.step_seconds,
                "same_genotype_as_plain": result.genotype == plain.genotype,
            }
        )
    return metrics


def retrain_metrics(rows: list[dict], train_epochs: int) -> dict:
    """The retraining comparison from its rows (the derived cells first, plain DARTS second,
    then the random cells; each with ``test_acc``, ``test_acc_sd``, ``test_accs`` per seed,
    ``nos``, ``energy_uj``, ``params``, ``seconds``): the derived cells against the median and
    best random cell, their rank among all candidates (1: best), and the one-way ANOVA of the
    per-seed accuracies (:func:`snnlib.nas.statistics.cell_effect`) over all candidates and
    over the random cells only."""
    derived, plain, randoms = rows[0], rows[1], rows[2:]
    random_acc = np.array([r["test_acc"] for r in randoms])
    median_random = float(np.median(random_acc))
    return {
        "derived_test_acc": derived["test_acc"],
        "plain_test_acc": plain["test_acc"],
        "random_test_acc": random_acc.tolist(),
        "random_median_test_acc": median_random,
        "random_best_test_acc": float(random_acc.max()) if len(random_acc) else None,
        "derived_minus_median": derived["test_acc"] - median_random,
        "derived_test_acc_sd": derived["test_acc_sd"],
        "plain_test_acc_sd": plain["test_acc_sd"],
        "derived_test_accs": derived["test_accs"],
        "random_test_accs_per_seed": [r["test_accs"] for r in randoms],
        "n_seeds": len(derived["test_accs"]),
        "derived_beats_median": bool(derived["test_acc"] > median_random),
        "derived_rank": 1 + sum(r["test_acc"] > derived["test_acc"] for r in rows[1:]),
        "derived_nos": derived["nos"],
        "plain_nos": plain["nos"],
        "random_median_nos": float(np.median([r["nos"] for r in randoms])) if randoms else None,
        "derived_energy_uj": derived["energy_uj"],
        "plain_energy_uj": plain["energy_uj"],
        "derived_params": derived["params"],
        "train_epochs": train_epochs,
        "train_seconds_total": float(sum(r["seconds"] for r in rows)),
        "cell_effect": cell_effect([r["test_accs"] for r in rows]),
        "cell_effect_random_only": cell_effect([r["test_accs"] for r in randoms]),
    }


def add_ablation_deltas(rows: list[dict]) -> list[dict]:
    """Give every ablation row (the first is the baseline, attention ``none``) its test
    accuracy difference in points (``delta_acc_pp``) and its NoS difference in percent
    (``delta_nos_pct``) against the baseline; the rows are changed in place and returned."""
    base = rows[0]
    for r in rows:
        r["delta_acc_pp"] = 100 * (r["test_acc"] - base["test_acc"])
        r["delta_nos_pct"] = 100 * (r["nos"] / base["nos"] - 1)
    return rows


def metric_key(name: str) -> str:
    """A row name as a metric key, by the one glue-key rule (:func:`~snnlib.book.glue.glue_key`):
    ``"tcsa, sigmoid gate"`` -> ``"tcsa_sigmoid_gate"``."""
    return glue_key(name)


def ablation_metrics(rows: list[dict], train_epochs: int) -> dict:
    """Per ablation row (with its deltas, :func:`add_ablation_deltas`): ``<key>_test_acc``,
    then per row ``<key>_nos``, then per row ``<key>_delta_pp``, and ``train_epochs``."""
    metrics = {f"{metric_key(r['name'])}_test_acc": r["test_acc"] for r in rows}
    metrics.update({f"{metric_key(r['name'])}_nos": r["nos"] for r in rows})
    metrics.update({f"{metric_key(r['name'])}_delta_pp": r["delta_acc_pp"] for r in rows})
    metrics["train_epochs"] = train_epochs
    return metrics
