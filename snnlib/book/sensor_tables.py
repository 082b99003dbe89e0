"""The sensor chapter's comparison tables: the simulator's parameters side by side, the
statistics of each set of recordings, and each simulated set's distances to the real one.

- :func:`parameter_table`: one column per configuration (``label -> DVSConfig``), one row per
  parameter of :data:`PARAM_ROWS`, then the path's first three corners and the three
  saccade windows (ms; a configuration without measured windows has equal windows of
  ``saccade_us``), every cell as text;
- :func:`compare_to_real`: ``distances`` and ``calibration_loss`` of every simulated set
  (:mod:`snnlib.data.sensor_compare`);
- :func:`statistics_table`, :func:`distance_table`: those as tables, rounded to 3 decimals.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..data import sensor_compare as sc
from ..data.dvs_sim import DVSConfig, path_corners

#: (row label, DVSConfig field) of the parameter table
PARAM_ROWS = (
    ("digit size (px)", "digit_size"),
    ("contrast threshold C", "contrast_threshold"),
    ("refractory period (us)", "refractory_us"),
    ("threshold spread (log-normal sigma)", "threshold_std"),
    ("OFF / ON threshold", "off_ratio"),
    ("noise (events per pixel and s)", "noise_rate"),
    ("noise ON fraction", "noise_on_fraction"),
    ("timestamp jitter (us)", "jitter_us"),
    ("progress profile", "profile"),
)
#: summary statistic -> column of the statistics table
STAT_COLUMNS = {
    "events_mean": "events / recording",
    "events_sd": "sd",
    "on_fraction": "ON fraction",
    "isi_p01_us": "interval 1st pct (us)",
    "isi_median_us": "interval median (us)",
    "events_per_active_pixel": "events / active pixel",
}


def path_cells(config: DVSConfig) -> tuple[str, str]:
    """The path's first three corners ``(dx, dy); ...`` (px, 2 decimals) and the three
    saccade windows ``start-end; ...`` (ms, 1 decimal) of ``config``, as text.

    >>> path_cells(DVSConfig(saccade_us=100_000.0, vertices=((1, 0), (0, 1), (0, 0))))
    ('(1.00, 0.00); (0.00, 1.00); (0.00, 0.00)', '0.0-100.0; 100.0-200.0; 200.0-300.0')
    """
    vx, vy = path_corners(config)
    wins = config.saccade_windows or tuple(
        (k * config.saccade_us, (k + 1) * config.saccade_us) for k in range(3)
    )
    corners = "; ".join(f"({a:.2f}, {b:.2f})" for a, b in zip(vx[:3], vy[:3]))
    return corners, "; ".join(f"{a / 1e3:.1f}-{b / 1e3:.1f}" for a, b in wins)


def parameter_table(configs: Mapping[str, DVSConfig]) -> pd.DataFrame:
    """The configurations' parameters side by side (module docstring), as text."""
    rows = [[label, *(getattr(c, field) for c in configs.values())] for label, field in PARAM_ROWS]
    corners, windows = zip(*(path_cells(c) for c in configs.values()))
    rows += [["path corners dx, dy (px)", *corners], ["saccade windows (ms)", *windows]]
    return pd.DataFrame(rows, columns=["parameter", *configs]).astype(object).astype(str)


def settings_summary(cfg: Mapping) -> str:
    """The scale's settings as printed: every entry but the calibration ``grid``, then the
    grid as the number of values of each parameter (block).

    >>> settings_summary({"rounds": 2, "grid": {"off_ratio": [0.9, 1.0]}})
    "{'rounds': 2} | grid: {'off_ratio': 2}"
    """
    settings = {k: v for k, v in cfg.items() if k != "grid"}
    return f"{settings} | grid: { {k: len(v) for k, v in cfg.get('grid', {}).items()} }"


def compare_to_real(
    real: sc.RecordingStats, sets: Mapping[str, sc.RecordingStats]
) -> tuple[dict[str, dict], dict[str, float]]:
    """``(name -> distances to real, name -> calibration loss)`` of every simulated set."""
    dist = {name: sc.distances(real, s) for name, s in sets.items()}
    return dist, {name: sc.calibration_loss(d) for name, d in dist.items()}


def statistics_table(stats: Mapping[str, sc.RecordingStats]) -> pd.DataFrame:
    """One row per set of recordings: the summary statistics of :data:`STAT_COLUMNS`."""
    table = pd.DataFrame({name: s.summary() for name, s in stats.items()}).T
    table = table[list(STAT_COLUMNS)]
    table.columns = list(STAT_COLUMNS.values())
    table.index.name = "recordings"
    return table.round(3)


def distance_table(dist: Mapping[str, Mapping], loss: Mapping[str, float]) -> pd.DataFrame:
    """One row per simulated set: its distances to the real recordings and its loss."""
    table = pd.DataFrame(dist).T
    table["loss"] = pd.Series(loss)
    table.index.name = "simulator"
    return table.round(3)
