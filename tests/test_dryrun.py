"""The dry run's step cap (snnlib.dryrun) in every loop, its record, and the projection."""

from __future__ import annotations

import json

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from snnlib import dryrun
from snnlib.book.paper_scale import GPUS, gpu_hours, projection_row, read_records
from snnlib.book.params import paper_on_cpu_message
from snnlib.book.results import ResultRun, load_result, result_path
from snnlib.encoding import Encoder
from snnlib.models import SpikingCNN
from snnlib.paths import checkpoints_dir
from snnlib.train import TrainConfig, evaluate, fit
from snnlib.validation import ConfigError


@pytest.fixture
def cap():
    """Set the cap for one test, and always switch it off after."""
    yield dryrun.set_cap
    dryrun.set_cap(0)


def _loader(n=40, batch=4):
    g = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,)))
    return DataLoader(data, batch_size=batch)


def test_fit_stops_after_k_steps_and_knows_the_full_run(cap):
    cap(3)
    loader = _loader()  # 10 batches per epoch
    model = SpikingCNN(1, 3, width=4)
    hist = fit(model, loader, None, Encoder("direct", 2), TrainConfig(epochs=5), progress=False)
    (train,) = [lp for lp in dryrun.loops() if lp.label == "train"]
    assert train.steps == 3 and train.planned == 50 and len(hist.train_loss) == 1
    assert len(train.seconds) == 2  # the first step is counted for FLOPs, not timed
    assert train.flops and train.flops > 0
    s = dryrun.summary()
    assert s["full_run_steps"] == 50 and s["main_loop"] == "train"
    assert s["full_run_flops"] == pytest.approx(50 * train.flops)
    assert s["peak_rss_bytes"] > 10**6


def test_evaluate_caps_its_batches(cap):
    cap(2)
    ev = evaluate(SpikingCNN(1, 3, width=4), _loader(), Encoder("direct", 2))
    assert ev["n"] == 8  # 2 batches of 4
    assert [lp.planned for lp in dryrun.loops()] == [10]


def test_without_a_cap_nothing_is_capped_or_recorded():
    dryrun.set_cap(0)
    ev = evaluate(SpikingCNN(1, 3, width=4), _loader(), Encoder("direct", 2))
    assert ev["n"] == 40 and dryrun.loops() == []


def test_the_cap_is_checked():
    for bad in (-1, 1.5, True):
        with pytest.raises(ConfigError, match="max_steps"):
            dryrun.set_cap(bad)


def test_evolve_stops_after_k_fitness_evaluations(cap):
    from snnlib.mse.evolution import EvolutionConfig, evolve
    from snnlib.mse.genome import SearchSpace

    cap(2)
    calls = []

    def fitness(genome, seed):
        calls.append(genome.hash())
        return float(len(calls))

    res = evolve(
        fitness,
        SearchSpace(),
        EvolutionConfig(population=6, generations=4, seed=0),
        checkpoint="never-written.json",
        progress=False,
    )
    assert len(calls) == 2 and res.evaluations == 2 and res.best_fitness == 2.0
    (lp,) = dryrun.loops()
    assert lp.label == "fitness" and lp.planned == 6 * 5


def test_a_dry_run_writes_its_record_not_the_result(tmp_path, cap, monkeypatch):
    monkeypatch.setenv("SNNLIB_RESULTS", str(tmp_path))
    params = dict(scale="smoke", dataset="digits", seed=0, device="cpu", max_steps=2)
    cap(2)
    run = ResultRun("00_substrate", params)
    fit(SpikingCNN(1, 3, width=4), _loader(), None, Encoder("direct", 2), TrainConfig(epochs=2))
    path = run.write({"test_acc": 0.5}, architecture={"a": 1}, artifacts={"big": [1] * 10})
    assert path == tmp_path / "dryrun" / "00_substrate__digits__smoke.json"
    assert not result_path("00_substrate", "digits", "smoke", 0).exists()
    assert list(tmp_path.glob("*.json")) == []  # no result file at all
    data = json.loads(path.read_text())
    assert data["dry_run"] is True and data["metrics"]["max_steps"] == 2
    assert data["would_write"] == {"metrics": {"test_acc": 0.5}, "architecture": {"a": 1}}
    # a later notebook's dry run reads what this one would have written
    back = load_result("00_substrate", "digits", "smoke", 0)
    assert back["metrics"] == {"test_acc": 0.5} and back["architecture"] == {"a": 1}


def test_a_dry_run_keeps_its_checkpoints_apart(cap, monkeypatch, tmp_path):
    monkeypatch.setenv("SNNLIB_CHECKPOINTS", str(tmp_path))
    assert checkpoints_dir() == tmp_path
    cap(2)
    assert checkpoints_dir() != tmp_path and checkpoints_dir().is_dir()


def _record(tmp_path, name="00_substrate__cifar10__paper.json", flops=2e9, seconds=1.5):
    folder = tmp_path / "dryrun"
    folder.mkdir(exist_ok=True)
    metrics = {
        "main_loop": "train",
        "seconds_per_step": seconds,
        "flops_per_step": flops,
        "peak_rss_bytes": 3e9,
        "full_run_steps": 1000,
        "full_run_flops": 1000 * flops,
        "full_run_cpu_seconds": 1000 * seconds,
    }
    (folder / name).write_text(json.dumps({"dry_run": True, "params": {}, "metrics": metrics}))
    return folder


def test_projection_arithmetic(tmp_path):
    assert gpu_hours(3.6e15, 100.0, 0.1) == pytest.approx(0.1)  # 1e13 FLOP/s for 360 s... x10
    assert gpu_hours(1e12 * 3600, 1.0, 1.0) == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="utilisation"):
        gpu_hours(1.0, 1.0, 0.0)
    _record(tmp_path)
    (rec,) = read_records("paper", tmp_path)
    row = projection_row(rec, "tf32", 0.5)
    assert row["notebook"] == "00_substrate" and row["dataset"] == "cifar10"
    assert row["GFLOP/step"] == pytest.approx(2.0)
    assert row["CPU hours"] == pytest.approx(1500 / 3600)
    flops = 1000 * 2e9
    a100 = flops / (GPUS["A100 80GB"]["tf32"] * 1e12 * 0.5) / 3600
    assert row["A100 80GB hours"] == pytest.approx(a100)
    assert row["H100 SXM hours"] == pytest.approx(a100 * 156.0 / 494.7)
    assert row["data"] == "paper"  # an older record without stand-ins: the paper's data
    rec["metrics"]["stand_ins"] = ["nmnist: the subset stands in"]
    assert projection_row(rec)["data"] == "stand-in"


def test_the_paper_on_cpu_warning_uses_a_measured_dry_run(tmp_path, monkeypatch):
    monkeypatch.setenv("SNNLIB_RESULTS", str(tmp_path))
    rough = paper_on_cpu_message("00_substrate", "cifar10")
    assert "work ratio" in rough and "dry run" not in rough  # no record: the estimate
    _record(tmp_path, seconds=36.0)  # 1000 steps x 36 s = 10 hours
    measured = paper_on_cpu_message("00_substrate", "cifar10")
    assert "10 hours" in measured and "dry run" in measured


def test_a_dry_run_may_measure_a_smaller_batch(cap, monkeypatch):
    from snnlib.data import make_loaders

    monkeypatch.setenv("SNNLIB_DRYRUN_BATCH", "8")
    cap(2)
    assert dryrun.batch_size(128) == 8 and dryrun.batch_size(4) == 4
    assert dryrun.summary()["batch_cap"] == 8
    loaders = make_loaders("digits", batch_size=64, time_steps=2, limit={"train": 64})
    assert loaders["train"].batch_size == 8
    cap(0)  # without a dry run the variable is ignored
    assert dryrun.batch_size(128) == 128


def test_spikenas_guides_score_k_cells_then_let_the_searches_finish(cap):
    import numpy as np

    from snnlib.spikenas import load_table
    from snnlib.spikenas.guides import Guides
    from snnlib.spikenas.ledger import LedgerConfig, make_probe
    from snnlib.spikenas.search import BOOK_METHODS, run_search, scored_cells_bound

    cap(2)
    images = np.random.default_rng(0).integers(0, 256, (60, 32, 32, 3), dtype=np.uint8)
    probe = make_probe(images, np.repeat(np.arange(10), 6), n_per_class=2, seed=0, source="noise")
    seeds, budget = [0, 1], 6
    planned = scored_cells_bound(seeds, budget)
    guides = Guides(probe, LedgerConfig(width=1 / 32, time_steps=2), load_table(), planned=planned)
    for s in seeds:
        for method, guide in BOOK_METHODS.values():
            assert (
                len(run_search(method, guides.score(guide), budget, s, guide).evaluated) == budget
            )
    assert len(guides.rows) == 2  # only the capped cells were scored and cached
    (lp,) = dryrun.loops()
    assert lp.label == "score cell" and lp.steps == 2 and lp.planned == planned
    # the bound: the two seeds' random draws (distinct) plus one budget per seed for each of
    # the two evolutions guided by a training-free score (RDM, the authors' scorer)
    drawn = {
        int(a) for s in seeds for a in np.random.default_rng(s).choice(15625, budget, replace=False)
    }
    assert planned == len(drawn) + 2 * 2 * budget and len(drawn) <= 12


def test_a_dry_run_never_downloads_nmnist_and_plans_the_full_set(cap, tmp_path):
    from snnlib.data import load_dataset

    cap(2)
    train = load_dataset("nmnist", "train", root=tmp_path, download=True)
    test = load_dataset("nmnist", "test", root=tmp_path, download=True)
    assert train.source == test.source == "embedded-subset" and not list(tmp_path.iterdir())
    assert (len(train), train.dryrun_full_size) == (900, 54_000)
    assert (len(test), test.dryrun_full_size) == (100, 10_000)
    assert dryrun.planned_batches(DataLoader(train, batch_size=64)) == 844  # ceil(54,000 / 64)
    assert dryrun.planned_batches(DataLoader(test, batch_size=64, drop_last=True)) == 156
    assert len(dryrun.summary()["stand_ins"]) == 1 and "N-MNIST" in dryrun.summary()["stand_ins"][0]
    dryrun.set_cap(0)  # outside a dry run the request to download is a real one
    plain = load_dataset("nmnist", "test", root=tmp_path)
    assert not hasattr(plain, "dryrun_full_size") and dryrun.planned_batches([1, 2]) == 2
