"""The sensor chapter's book glue and the additions to ``sensor_compare``: sets of
recordings, the calibration set, tables, the transfer bookkeeping, metrics and figures."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
import torch

from snnlib.book import sensor_recordings, sensor_transfer
from snnlib.book.glue import glue_all
from snnlib.book.sensor_figures import (
    counts_time_figure,
    intervals_figure,
    log_bin_centres,
    shown_sets,
    spatial_figure,
    transfer_figure,
)
from snnlib.book.sensor_geometry import geometry_report, noise_config, path_figure
from snnlib.book.sensor_metrics import PAIR_KEYS, percent_keys, sensor_artifacts, sensor_metrics
from snnlib.book.sensor_recordings import calibration_set, real_frames, transfer_test_set
from snnlib.book.sensor_tables import (
    compare_to_real,
    distance_table,
    parameter_table,
    path_cells,
    settings_summary,
    statistics_table,
)
from snnlib.book.sensor_transfer import (
    PAIRS,
    accuracy_summaries,
    accuracy_table,
    pair_table,
    paired_comparisons,
    real_accuracies,
    train_conditions,
    training_conditions,
)
from snnlib.data import sensor_compare as sc
from snnlib.data.dvs_sim import EVENT_DTYPE, DVSConfig, simulate_dvs_batch
from snnlib.data.sensor_compare import Calibration, PathEstimate
from snnlib.nas.statistics import paired_by_seed, t_interval
from snnlib.validation import ConfigError

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BOOK = Path(__file__).resolve().parent.parent / "book"
SETS = ("real", "simulated, default", "simulated, count-matched", "simulated, calibrated")
CONDITIONS = ("simulated, default", "simulated, count-matched", "simulated, calibrated")


def page_keys(stem: str) -> set[str]:
    """Every glue key the book's pages read from the executed notebooks of ``stem``."""
    pattern = re.compile(rf"executed/{stem}__[A-Za-z0-9-]+\.ipynb::([A-Za-z0-9_]+)")
    return {m for page in BOOK.glob("*.md") for m in pattern.findall(page.read_text())}


@pytest.fixture(scope="module")
def images():
    img = np.zeros((3, 28, 28))
    img[0, 8:20, 12:16] = 1.0  # a bar
    img[1, 6:22, 6:22] = 0.8  # a square
    img[2, 10:18, 4:24] = 0.6  # a wide block
    return img


@pytest.fixture(scope="module")
def stats(images):
    configs = {
        name: DVSConfig.for_size(34, contrast_threshold=c)
        for name, c in zip(SETS, (0.3, 0.5, 0.45, 0.35))
    }
    return sc.simulated_stats(images, configs, seed=0)


def test_concat_recordings_offsets():
    ev = np.zeros(5, EVENT_DTYPE)
    ev["t"] = np.arange(5)
    events, offsets = sc.concat_recordings([ev[:2], ev[2:2], ev[2:]])
    assert events["t"].tolist() == [0, 1, 2, 3, 4]
    assert offsets.tolist() == [0, 2, 2, 5] and offsets.dtype == np.int64
    with pytest.raises(ConfigError, match="no recordings"):
        sc.concat_recordings([])


def test_simulated_stats_is_recording_stats_of_each_simulation(images, stats):
    assert list(stats) == list(SETS)
    cfg = DVSConfig.for_size(34, contrast_threshold=0.5)
    expected = sc.recording_stats(*simulate_dvs_batch(images, seed=0, config=cfg))
    assert stats["simulated, default"].summary() == expected.summary()
    # a lower threshold makes more events
    assert stats["real"].mean_count > stats["simulated, default"].mean_count > 0


class _Recordings:
    def __init__(self, targets, chunks):
        self.targets, self.chunks = targets, chunks

    def events(self, i):
        return self.chunks[i]

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        return torch.full((2, 1, 2, 2), float(i)), self.targets[i]


def test_calibration_set_scales_images_and_checks_the_order():
    ev = np.zeros(6, EVENT_DTYPE)
    chunks = [ev[:1], ev[:2], ev[:3]]
    images_u8 = np.full((2, 4, 4), 255, dtype=np.uint8)
    labels = np.array([3, 1])
    calib = calibration_set(_Recordings([3, 1, 4], chunks), images_u8, labels, n=5)
    assert calib.n == 2 and calib.images.max() == 1.0 and calib.images.dtype == np.float64
    assert calib.offsets.tolist() == [0, 1, 3] and calib.labels.tolist() == [3, 1]
    with pytest.raises(RuntimeError, match="not in the order of the MNIST images"):
        calibration_set(_Recordings([1, 3], chunks), images_u8, labels, n=2)


def test_real_frames_and_transfer_test_set(monkeypatch):
    assert real_frames(_Recordings([0, 1, 2], []), 2)[:, 0, 0, 0, 0].tolist() == [0.0, 1.0]
    parts = {"train": _Recordings([5, 6], []), "val": _Recordings([7], [])}
    seen = []

    def fake_load(dataset, split, **kw):
        seen.append((dataset, split, kw))
        return parts[split]

    monkeypatch.setattr(sensor_recordings, "load_dataset", fake_load)
    x, y = transfer_test_set("nmnist", ("train", "val"), None, time_steps=4, subset=True)
    assert y.tolist() == [5, 6, 7] and x.shape == (3, 2, 1, 2, 2)
    assert seen[0] == ("nmnist", "train", {"time_steps": 4, "subset": True})
    x, y = transfer_test_set("nmnist", ("train", "val"), 2)
    assert y.tolist() == [5, 6] and len(x) == 2


def _path():
    return PathEstimate(
        digit_size=24,
        vertices=((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)),
        saccade_windows=((0.0, 100e3), (100e3, 200e3), (200e3, 300e3)),
        profile="linear",
        window_t=np.array([50e3, 150e3, 250e3]),
        positions=np.array([[0.5, 0.5], [-0.5, 0.5], [0.0, 0.0]]),
        weights=np.array([10.0, 20.0, 5.0]),
        size_scores={24: 10.4, 28: 8.6},
        rms={"linear": 0.12345, "smooth": 0.2},
    )


def test_noise_config_and_geometry_report():
    cfg = noise_config(DVSConfig.for_size(34), {"noise_rate": 0.0456, "noise_on_fraction": 0.61234})
    assert (cfg.noise_rate, cfg.noise_on_fraction) == (0.046, 0.612)
    lines = geometry_report(_path(), {"noise_rate": 0.0456}).splitlines()
    assert lines[0] == "digit size scores: {24: 10, 28: 9}"
    assert lines[1] == "profile residuals (px): {'linear': 0.123, 'smooth': 0.2}"
    assert lines[2].endswith("| windows (ms): [(0.0, 100.0), (100.0, 200.0), (200.0, 300.0)]")
    assert lines[3] == "noise: {'noise_rate': 0.046}"
    fig = path_figure(_path())
    assert len(fig.axes[0].lines) == 2 and len(fig.axes[0].collections) == 2
    plt.close(fig)


def test_parameter_table_side_by_side_as_text():
    measured = DVSConfig.for_size(
        34, **{k: getattr(_path(), k) for k in ("digit_size", "vertices")}
    )
    table = parameter_table({"default": DVSConfig.for_size(34), "calibrated": measured})
    assert list(table.columns) == ["parameter", "default", "calibrated"]
    assert len(table) == 11 and table.iloc[-1, 0] == "saccade windows (ms)"
    assert table.iloc[0].tolist() == [
        "digit size (px)",
        str(DVSConfig.for_size(34).digit_size),
        "24",
    ]
    assert table.iloc[9, 2] == "(1.00, 0.00); (0.00, 1.00); (-1.00, 0.00)"
    assert all(isinstance(v, str) for v in table.to_numpy().ravel())
    corners, windows = path_cells(DVSConfig(saccade_us=50_000.0))
    assert windows == "0.0-50.0; 50.0-100.0; 100.0-150.0"


def test_settings_summary_counts_the_grid():
    cfg = {"rounds": 2, "grid": {("a", "b"): [(1, 2), (3, 4), (5, 6)], "c": [0.1]}}
    assert settings_summary(cfg) == "{'rounds': 2} | grid: {('a', 'b'): 3, 'c': 1}"


def test_compare_to_real_and_tables(stats):
    real, sets = stats["real"], {k: stats[k] for k in CONDITIONS}
    dist, loss = compare_to_real(real, sets)
    assert list(dist) == list(CONDITIONS)
    assert dist["simulated, default"] == sc.distances(real, sets["simulated, default"])
    assert loss["simulated, calibrated"] == sc.calibration_loss(dist["simulated, calibrated"])
    assert loss["simulated, calibrated"] < loss["simulated, default"]  # closer threshold
    st = statistics_table(stats)
    assert st.index.name == "recordings" and list(st.index) == list(SETS)
    assert st.loc["real", "events / recording"] == round(real.mean_count, 3)
    dt = distance_table(dist, loss)
    assert dt.loc["simulated, default", "loss"] == round(loss["simulated, default"], 3)
    assert "count_rel_err" in dt.columns


def test_figures_of_the_statistics(stats):
    assert list(shown_sets(stats)) == ["real", "simulated, default", "simulated, calibrated"]
    with pytest.raises(KeyError, match="simulated, calibrated"):
        shown_sets({"real": stats["real"], "simulated, default": stats["real"]})
    for draw, panels in ((counts_time_figure, 3), (intervals_figure, 2), (spatial_figure, 4)):
        fig = draw(stats)
        assert len(fig.axes) == panels  # the spatial figure: three maps and a colour bar
        plt.close(fig)
    assert log_bin_centres(np.array([0.0, 1.0, 4.0])).tolist() == [1.0, 2.0]


def test_training_conditions_and_train_conditions(monkeypatch, images):
    made = []

    def fake_frames(imgs, config, *, sim_seeds, time_steps, image_size, **framing):
        made.append((config, tuple(sim_seeds), time_steps, image_size, framing))
        return torch.zeros(len(sim_seeds) * len(imgs), time_steps, 2, image_size, image_size)

    monkeypatch.setattr(sc, "simulated_frames", fake_frames)
    real_x = torch.ones(3, 4, 2, 17, 17)
    configs = {"simulated, default": "d", "simulated, calibrated": "c"}
    cond = training_conditions(
        images, configs, real_x, sim_seeds=(0, 1), time_steps=4, image_size=17, binning="fixed"
    )
    assert list(cond) == ["simulated, default", "simulated, calibrated", "real (reference)"]
    assert cond["simulated, default"].shape[0] == 6 and cond["real (reference)"] is real_x
    assert made[1] == ("c", (0, 1), 4, 17, {"binning": "fixed"})

    seen = {}

    def fake_transfer(x, y, tests, seeds, **kw):
        seen[len(x)] = (y.tolist(), list(seeds), kw)
        runs = [SimpleNamespace(extra={"test_accs": {"real": 0.5 + s / 10}}) for s in seeds]
        return SimpleNamespace(runs=runs, values=lambda k: [r.extra[k] for r in runs])

    monkeypatch.setattr(sensor_transfer, "retrain_frames", fake_transfer)
    labels = torch.tensor([1, 2, 3])
    runs = train_conditions(cond, labels, {"real": None}, [0, 1], width=8)
    assert seen[6] == ([1, 2, 3, 1, 2, 3], [0, 1], {"width": 8})  # labels once per copy
    assert real_accuracies(runs)["real (reference)"] == [0.5, 0.6]
    with pytest.raises(ValueError, match="4 frames for 3 labels"):
        train_conditions({"odd": torch.zeros(4)}, labels, {}, [0])


def _acc():
    return {
        "simulated, default": [0.30, 0.35, 0.25],
        "simulated, count-matched": [0.40, 0.38, 0.45],
        "simulated, calibrated": [0.60, 0.55, 0.62],
        "real (reference)": [0.70, 0.72, 0.68],
    }


def test_summaries_pairs_and_tables():
    acc = _acc()
    summary = accuracy_summaries(acc)
    assert summary["simulated, calibrated"] == t_interval([0.60, 0.55, 0.62])
    paired = paired_comparisons(acc)
    assert list(paired) == list(PAIRS)
    expected = paired_by_seed(acc["simulated, calibrated"], acc["simulated, default"])
    assert paired["calibrated - default"]["diff"] == expected["diff"]
    assert paired["calibrated - default"]["wins"] == 3
    assert paired["calibrated - real"]["wins"] == 0
    at = accuracy_table(acc, summary)
    assert at.index.name == "trained on"
    assert at.loc["simulated, default", "per seed"] == "0.300, 0.350, 0.250"
    pt = pair_table(paired)
    assert list(pt.columns) == ["diff", "lo", "hi", "t_p", "wins", "n"]
    assert pt.loc["count-matched - default", "wins"] == 3
    fig = transfer_figure(acc, {**summary, "real (reference)": (0.7, math.nan, math.nan)})
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(acc)
    plt.close(fig)


def test_sensor_metrics_keys_numbers_and_the_pages(stats):
    real, sets = stats["real"], {k: stats[k] for k in CONDITIONS}
    dist, loss = compare_to_real(real, sets)
    cal_cfg = DVSConfig.for_size(34, contrast_threshold=0.35, profile="smooth")
    cal = Calibration(cal_cfg, 0.2, {}, 0.9, trace=[{"round": 0, "param": "c", "value": 0.3,
                      "loss": np.float64(0.5)}], path_scale=1.1, evaluations=17)  # fmt: skip
    count = Calibration(DVSConfig.for_size(34, contrast_threshold=0.45), 0.4, {}, 0.8)
    acc = _acc()
    summary, paired = accuracy_summaries(acc), paired_comparisons(acc)
    m = sensor_metrics(
        n_calib=3, n_real_test=1000, n_seeds=3, epochs=30, calibration_seconds=1.5,
        train_seconds=2.5, calibration=cal, count_matched=count, path=_path(), stats=stats,
        dist=dist, loss=loss, summary=summary, paired=paired,
    )  # fmt: skip
    assert m["calibration_evaluations"] == 17 and m["path_scale"] == 1.1
    assert m["loss_geometry_start"] == 0.9 and m["loss_default"] == loss["simulated, default"]
    assert m["path_rms_px"] == 0.12345 and m["digit_size"] == 24
    assert m["real_events_mean"] == real.mean_count and m["real_recordings"] == 3.0
    assert m["cm_spatial_tv"] == dist["simulated, count-matched"]["spatial_tv"]
    assert m["cal_contrast_threshold"] == 0.35 and m["cm_contrast_threshold"] == 0.45
    assert m["acc_cal"] == summary["simulated, calibrated"][0]
    assert m["acc_real_hi"] == summary["real (reference)"][2]
    assert m["gain_cal_vs_default_wins"] == 3 and isinstance(m["gain_cal_vs_default_wins"], int)
    assert m["gap_cal_vs_real"] == paired["calibrated - real"]["diff"]
    assert set(PAIR_KEYS) == set(PAIRS)
    pct = percent_keys(m)
    assert "acc_cal_lo" in pct and "gain_cm_vs_default_hi" in pct
    assert "gain_cal_vs_default_t_p" not in pct and "gap_cal_vs_real_wins" not in pct
    glued = glue_all(m, percent=pct)
    assert glued["acc_cal_pct"] == 100 * m["acc_cal"]
    tables_and_figures = {k for k in page_keys("02_simulator_vs_sensor") if "table" in k}
    wanted = page_keys("02_simulator_vs_sensor") - tables_and_figures
    assert len(wanted) > 30 and wanted <= set(glued)

    run = SimpleNamespace(
        seed=4, extra={"test_accs": {"real": 0.5}, "train_acc": 0.75}, history={"seconds": 2.0}
    )
    art = sensor_artifacts(
        default_config=DVSConfig.for_size(34), calibration=cal, count_matched=count,
        noise={"noise_rate": np.float64(0.1)}, path=_path(), acc=acc, seeds=[0, 1, 2],
        sim_seeds=(0,), runs={"r": SimpleNamespace(runs=[run])},
    )  # fmt: skip
    assert art["runs"] == {
        "r": [{"seed": 4, "test_acc": {"real": 0.5}, "train_acc": 0.75, "seconds": 2.0}]
    }
    assert art["calibration_trace"] == [{"round": 0, "param": "c", "value": 0.3, "loss": 0.5}]
    assert art["path"]["size_scores"] == {"24": 10.4, "28": 8.6}
    assert art["sim_seeds"] == [0]
    json.dumps(art)  # a result file holds it
