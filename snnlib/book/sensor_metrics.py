"""The sensor chapter's result file: metrics and artifacts, with the set names shortened to
the metric-key prefixes the page reads.

Metric keys: counts and times (``n_calib``, ``n_real_test``, ``n_seeds``, ``epochs``,
``calibration_seconds``, ``train_seconds``, ``calibration_evaluations``), losses
(``loss_default``, ``loss_geometry_start``, ``loss_calibrated``, ``loss_count_matched``), the
path (``path_rms_px``, ``digit_size``, ``path_scale``), ``<set>_<statistic>`` and
``<set>_<distance>`` for every set of :data:`SHORT`, ``cal_<parameter>`` for
:data:`CALIBRATED_FIELDS`, ``cm_contrast_threshold``, ``acc_<condition>`` with ``_lo`` /
``_hi`` (:data:`ACC_KEYS`), and ``<pair>`` with ``_lo``, ``_hi``, ``_t_p``, ``_wins``
(:data:`PAIR_KEYS`). :func:`percent_keys` names the ones the page also shows in percent.

Example:
    >>> percent_keys({"acc_cal": 0.5, "acc_cal_lo": 0.4, "gain_x_t_p": 0.1, "gap_y_wins": 2,
    ...               "n_seeds": 3})
    ['acc_cal', 'acc_cal_lo']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..seed_runs import RetrainResult
from ..transfer import frames_record

#: set of recordings -> metric-key prefix
SHORT = {
    "real": "real",
    "simulated, default": "default",
    "simulated, count-matched": "cm",
    "simulated, calibrated": "cal",
}
#: training condition -> accuracy metric key
ACC_KEYS = {
    "simulated, default": "acc_default",
    "simulated, count-matched": "acc_cm",
    "simulated, calibrated": "acc_cal",
    "real (reference)": "acc_real",
}
#: paired difference (:data:`snnlib.book.sensor_transfer.PAIRS`) -> metric key
PAIR_KEYS = {
    "calibrated - default": "gain_cal_vs_default",
    "calibrated - count-matched": "gain_cal_vs_cm",
    "count-matched - default": "gain_cm_vs_default",
    "calibrated - real": "gap_cal_vs_real",
    "default - real": "gap_default_vs_real",
}
#: parameters of the calibrated configuration in the metrics (``cal_<field>``)
CALIBRATED_FIELDS = (
    "contrast_threshold",
    "refractory_us",
    "threshold_std",
    "off_ratio",
    "noise_rate",
    "noise_on_fraction",
    "jitter_us",
)


def _short(name: str) -> str:
    if name not in SHORT:
        raise KeyError(f"set {name!r} has no metric prefix; known: {list(SHORT)}")
    return SHORT[name]


def sensor_metrics(
    *,
    n_calib: int,
    n_real_test: int,
    n_seeds: int,
    epochs: int,
    calibration_seconds: float,
    train_seconds: float,
    calibration,
    count_matched,
    path,
    stats: Mapping,
    dist: Mapping[str, Mapping],
    loss: Mapping[str, float],
    summary: Mapping[str, tuple],
    paired: Mapping[str, Mapping],
) -> dict:
    """The result file's metrics (module docstring), all plain ``float`` / ``int``.
    ``calibration`` / ``count_matched``: the :class:`~snnlib.data.sensor_compare.Calibration`
    of the full calibration and of the count-matched control; ``path``: the
    :class:`~snnlib.data.sensor_compare.PathEstimate`; ``stats``: ``set -> RecordingStats``;
    ``dist`` / ``loss``: each simulated set's distances and loss; ``summary``: ``condition ->
    (mean, lo, hi)``; ``paired``: ``difference -> paired_by_seed`` with ``wins``."""
    cal_cfg = calibration.config
    metrics = {
        "n_calib": int(n_calib),
        "n_real_test": int(n_real_test),
        "n_seeds": int(n_seeds),
        "epochs": int(epochs),
        "calibration_seconds": float(calibration_seconds),
        "train_seconds": float(train_seconds),
        "calibration_evaluations": int(calibration.evaluations),
        "loss_default": float(loss["simulated, default"]),
        "loss_geometry_start": float(calibration.start_loss),
        "loss_calibrated": float(loss["simulated, calibrated"]),
        "path_rms_px": float(path.rms[path.profile]),
        "digit_size": int(path.digit_size),
        "path_scale": float(calibration.path_scale),
    }
    for name, s in stats.items():
        for k, v in s.summary().items():
            metrics[f"{_short(name)}_{k}"] = float(v)
    for name, d in dist.items():
        for k, v in d.items():
            metrics[f"{_short(name)}_{k}"] = float(v)
    for f in CALIBRATED_FIELDS:
        metrics[f"cal_{f}"] = float(getattr(cal_cfg, f))
    metrics["cm_contrast_threshold"] = float(count_matched.config.contrast_threshold)
    metrics["loss_count_matched"] = float(loss["simulated, count-matched"])
    for name, (m, lo, hi) in summary.items():
        metrics[ACC_KEYS[name]] = float(m)
        metrics[ACC_KEYS[name] + "_lo"] = float(lo)
        metrics[ACC_KEYS[name] + "_hi"] = float(hi)
    for name, key in PAIR_KEYS.items():
        metrics[key] = float(paired[name]["diff"])
        metrics[key + "_lo"] = float(paired[name]["lo"])
        metrics[key + "_hi"] = float(paired[name]["hi"])
        metrics[key + "_t_p"] = float(paired[name]["t_p"])
        metrics[key + "_wins"] = int(paired[name]["wins"])
    return metrics


def percent_keys(metrics: Mapping) -> list[str]:
    """The accuracies, gains and gaps (and their interval ends) that the page states in
    percent points: keys starting ``acc_``, ``gain_`` or ``gap_``, except p-values
    (``_t_p``) and win counts (``_wins``)."""
    return [
        k
        for k in metrics
        if k.startswith(("acc_", "gain_", "gap_")) and not k.endswith(("_t_p", "_wins"))
    ]


def sensor_artifacts(
    *,
    default_config,
    calibration,
    count_matched,
    noise: Mapping[str, float],
    path,
    acc: Mapping[str, Sequence[float]],
    seeds: Sequence[int],
    sim_seeds: Sequence[int],
    runs: Mapping[str, RetrainResult],
) -> dict:
    """The result file's artifacts: the three configurations, the noise and path estimates,
    the calibration's trace, the per-seed accuracies, the seeds and every training run."""
    return {
        "default_config": default_config.to_dict(),
        "calibrated_config": calibration.config.to_dict(),
        "count_matched_config": count_matched.config.to_dict(),
        "noise_estimate": {k: float(v) for k, v in noise.items()},
        "path": {
            "vertices": [list(v) for v in path.vertices],
            "saccade_windows": [list(w) for w in path.saccade_windows],
            "profile": path.profile,
            "rms_px": {k: float(v) for k, v in path.rms.items()},
            "size_scores": {str(k): float(v) for k, v in path.size_scores.items()},
        },
        "calibration_trace": [
            {
                "round": e["round"],
                "param": e["param"],
                "value": e["value"],
                "loss": float(e["loss"]),
            }
            for e in calibration.trace
        ],
        "accuracy_per_seed": {name: [float(v) for v in a] for name, a in acc.items()},
        "seeds": list(seeds),
        "sim_seeds": list(sim_seeds),
        "runs": {name: [frames_record(r) for r in res.runs] for name, res in runs.items()},
    }
