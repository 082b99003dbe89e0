"""The search notebook's steps around :func:`snnlib.darts.seeded_search`: the MA-DARTS search and
the plain spiking DARTS search beside it, what the notebook glues for the chapter, and the
artifacts of its result file.

Example:
    >>> format_sharpness({"normal": [{"max_weight": 0.25, "entropy": 0.9}]})
    'normal 0.250/0.900'
"""

from __future__ import annotations

from ..darts import format_genotype, seeded_search, seeded_search_checkpoint


def run_searches(
    spec, *, compare_plain: bool, resume: bool, checkpoint_kw: dict, label: str, **search_kw
):
    """Search ``spec``'s supernet (:func:`~snnlib.darts.seeded_search`, checkpointed to
    :func:`~snnlib.darts.seeded_search_checkpoint` ``(spec, **checkpoint_kw)``; ``resume``:
    continue a compatible checkpoint, else start afresh) and, with ``compare_plain`` and an
    attention other than ``none``, the same supernet without attention (plain spiking DARTS,
    same seed and budget). Prints each search's time, accuracy and cells. Returns
    ``(supernet, result, plain_result)``; ``plain_result`` is ``None`` without a plain search.
    ``label`` (the dataset) names the progress bars."""
    search_kw["resume"] = "auto" if resume else False
    specs = [spec]
    if compare_plain and spec.attention != "none":
        specs.append(spec.with_attention("none"))
    found = []
    for s in specs:
        net, result = seeded_search(
            s,
            checkpoint=seeded_search_checkpoint(s, **checkpoint_kw),
            desc=f"search {s.attention} {label}",
            **search_kw,
        )
        last = result.history[-1]
        print(
            f"{s.attention}: {result.seconds:.1f} s, {result.step_seconds:.3f} s per step; "
            f"final supernet val acc {last['val_acc']:.3f}, NoS {last['nos_val']:.0f}; "
            f"layout {result.layout}"
        )
        print(format_genotype(result.genotype))
        found.append((net, result))
    plain = found[1][1] if len(found) > 1 else None
    return found[0][0], found[0][1], plain


def format_sharpness(sharpness: dict) -> str:
    """One line per cell: ``max_weight/entropy`` of every epoch (from
    :func:`~snnlib.book.madarts_summaries.sharpness_per_epoch`)."""
    return "\n".join(
        cell + " " + " ".join(f"{e['max_weight']:.3f}/{e['entropy']:.3f}" for e in per_epoch)
        for cell, per_epoch in sharpness.items()
    )


#: The search metrics the chapter shows as they are (``final_val_acc`` also in percent).
GLUED_SEARCH_METRICS = (
    "search_seconds",
    "step_seconds",
    "final_val_acc",
    "nos_val",
    "nos_train",
    "reduce_pool_share",
    "reduce_maxpool_share",
    "normal_conv_share",
    "normal_skip_share",
    "energy_uj_val",
    "alpha_max_weight_normal",
    "alpha_max_weight_reduce",
    "alpha_entropy_normal",
    "alpha_entropy_reduce",
    "alpha_uniform_weight",
)
GLUED_PLAIN_METRICS = ("plain_search_seconds", "plain_step_seconds", "step_time_ratio")


def search_glue_values(
    metrics: dict, result, plain, *, cfg: dict, image_size: int, time_steps: int, n_train: int
) -> dict:
    """What the search notebook glues (keys the chapter reads): the metrics of
    :data:`GLUED_SEARCH_METRICS`, ``final_val_acc_pct``, ``search_minutes``, ``epochs``, the
    cells as text, the supernet's size (``C``, ``layers``, ``image_size``, ``time_steps``),
    the architecture steps, rate and total movement (rate x steps, which the cpu rates keep
    at DARTS'), the training images, and with a plain search its times, accuracy, NoS and
    cells (``plain_*``, ``step_time_ratio``)."""
    values = {key: metrics[key] for key in GLUED_SEARCH_METRICS}
    values.update(
        search_minutes=metrics["search_seconds"] / 60,
        final_val_acc_pct=100 * metrics["final_val_acc"],
        epochs=metrics["epochs"],
        genotype_text=format_genotype(result.genotype),
        C=cfg["C"],
        layers=cfg["layers"],
        image_size=image_size,
        time_steps=time_steps,
        arch_steps=result.arch_steps,
        arch_lr=float(cfg["search"].arch_lr),
        arch_movement=float(cfg["search"].arch_lr * result.arch_steps),
        n_search_train=n_train,
    )
    if plain is not None:
        values.update({key: metrics[key] for key in GLUED_PLAIN_METRICS})
        values.update(
            plain_final_val_acc_pct=100 * metrics["plain_final_val_acc"],
            plain_nos_val=metrics["plain_nos_val"],
            plain_genotype_text=format_genotype(plain.genotype),
        )
    return values


def search_artifacts(result, plain, *, search_config: dict, split_sizes: dict, sharpness: dict):
    """The search result file's artifacts: the epoch history (and the plain search's,
    ``history_plain``), the search configuration, the split sizes and the weights' sharpness
    per epoch."""
    artifacts = {
        "history": result.history,
        "search_config": search_config,
        "split_sizes": split_sizes,
        "alpha_sharpness": sharpness,
    }
    if plain is not None:
        artifacts["history_plain"] = plain.history
    return artifacts
