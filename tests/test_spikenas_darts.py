"""The DARTS search over SpikeNAS-Bench: deterministic per seed, resumable to the same result,
checked configuration and checkpoints, registered with the core, runs on the real halves."""

import json

import pytest
import torch

import snnlib.spikenas.darts_search as search_mod
from snnlib.nas.methods import get_search
from snnlib.spikenas import (
    N_ARCHS,
    DartsConfig,
    DartsData,
    load_darts_data,
    load_table,
    run_darts_search,
)
from snnlib.spikenas.darts_data import RULE_INDEX, RULE_PER_CLASS
from snnlib.spikenas.ledger import Probe
from snnlib.validation import ConfigError

TINY = dict(width=1 / 32, time_steps=2, epochs=2, batch_size=20, n_weight=40, n_arch=40)


def _probe(n: int, seed: int) -> Probe:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 10
    x = torch.randn(n, 3, 32, 32, generator=g) + 0.3 * y.view(-1, 1, 1, 1)
    return Probe(x, y, "synthetic")


@pytest.fixture(scope="module")
def data():
    return DartsData(_probe(40, 0), _probe(40, 1), split="synthetic")


def _without_seconds(records):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def test_same_seed_same_search_other_seed_other_search(data):
    cfg = DartsConfig(**TINY)
    rng = torch.get_rng_state()
    a, b = run_darts_search(cfg, 0, data), run_darts_search(cfg, 0, data)
    assert torch.equal(torch.get_rng_state(), rng)  # the caller's generator is untouched
    assert a.alpha == b.alpha and a.arch_id == b.arch_id
    assert _without_seconds(a.records) == _without_seconds(b.records)
    c = run_darts_search(cfg, 1, data)
    assert c.alpha != a.alpha
    assert [r["epoch"] for r in a.records] == [1, 2]
    rec = a.records[-1]
    assert len(rec["arch_weights"]) == 6 and all(len(row) == 5 for row in rec["arch_weights"])
    assert rec["arch_id"] == a.arch_id and tuple(rec["edges"]) == a.edges
    assert a.seconds == pytest.approx(sum(r["seconds"] for r in a.records))
    assert a.config == cfg.record() and a.resumed_from_epoch == 0
    assert json.loads(json.dumps(a.to_dict()))["arch_id"] == a.arch_id  # a result file's data
    # the architecture moved: the final alpha is not its initial 1e-3 * N(0, 1)
    init = search_mod.build_supernet(cfg, 0).alpha.detach()
    assert not torch.equal(init, torch.tensor(a.alpha))


def test_a_resumed_search_equals_an_uninterrupted_one(data, tmp_path, monkeypatch):
    cfg = DartsConfig(**TINY)
    whole = run_darts_search(cfg, 3, data, checkpoint=tmp_path / "whole.pt")

    calls = []
    real_epoch = search_mod._run_epoch

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed during the second epoch
        return real_epoch(*args, **kwargs)

    path = tmp_path / "cut.pt"
    monkeypatch.setattr(search_mod, "_run_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_darts_search(cfg, 3, data, checkpoint=path)
    monkeypatch.setattr(search_mod, "_run_epoch", real_epoch)
    resumed = run_darts_search(cfg, 3, data, checkpoint=path)
    assert resumed.resumed_from_epoch == 1
    assert resumed.alpha == whole.alpha and resumed.arch_id == whole.arch_id
    assert _without_seconds(resumed.records) == _without_seconds(whole.records)
    # a finished checkpoint returns its result without a step
    again = run_darts_search(cfg, 3, data, checkpoint=path)
    assert again.resumed_from_epoch == 2 and again.records == resumed.records


def test_checkpoints_of_other_searches_and_broken_files_are_refused(data, tmp_path):
    cfg = DartsConfig(**{**TINY, "epochs": 1, "n_weight": 20, "n_arch": 20})
    small = DartsData(_probe(20, 0), _probe(20, 1), split="synthetic")
    path = tmp_path / "ckpt.pt"
    run_darts_search(cfg, 0, small, checkpoint=path)
    with pytest.raises(ConfigError, match=r"another search \(differing: seed\)"):
        run_darts_search(cfg, 1, small, checkpoint=path)
    with pytest.raises(ConfigError, match="differing: config.w_lr"):
        run_darts_search(DartsConfig(**{**cfg.record(), "w_lr": 0.01}), 0, small, checkpoint=path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="cannot be read as a torch file"):
        run_darts_search(cfg, 0, small, checkpoint=path)
    torch.save({"format": "other"}, path)
    with pytest.raises(ConfigError, match="has format 'other'"):
        run_darts_search(cfg, 0, small, checkpoint=path)


def test_second_order_takes_a_step(data):
    cfg = DartsConfig(**{**TINY, "epochs": 1, "n_weight": 20, "n_arch": 20, "order": "second"})
    small = DartsData(_probe(20, 0), _probe(20, 1), split="synthetic")
    run = run_darts_search(cfg, 0, small)
    init = search_mod.build_supernet(cfg, 0).alpha.detach()
    assert cfg.steps_per_epoch == 1 and len(run.records) == 1
    assert not torch.equal(init, torch.tensor(run.alpha))
    assert torch.isfinite(torch.tensor(run.alpha)).all()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"attention": "se"}, "attention='se'"),
        ({"epochs": 0}, "epochs=0"),
        ({"order": "third"}, "order='third'"),
        ({"n_weight": 45}, "n_weight=45"),
        ({"batch_size": 50}, "batch_size=50"),
        ({"width": 0}, "width=0"),
        ({"arch_betas": (0.5,)}, "arch_betas"),
    ],
)
def test_bad_config_values_name_the_field(change, field):
    with pytest.raises(ConfigError, match=field.replace("(", r"\(").replace(")", r"\)")):
        DartsConfig(**{**TINY, **change})


def test_data_that_do_not_fit_the_config_are_refused(data):
    with pytest.raises(ConfigError, match="data.weight holds 40 images, config.n_weight says 60"):
        run_darts_search(DartsConfig(**{**TINY, "n_weight": 60}), 0, data)


def test_the_search_is_registered_with_the_core():
    method = get_search("spikenas-darts")
    assert method.run is run_darts_search and method.space == "spikenas"


def test_a_tiny_search_on_the_benchmark_halves():
    data = load_darts_data(40, 40, seed=0)
    assert data.split in (RULE_INDEX, RULE_PER_CLASS)
    for probe in (data.weight, data.arch):
        assert probe.x.shape == (40, 3, 32, 32)
        assert torch.bincount(probe.y, minlength=10).tolist() == [4] * 10
        assert abs(float(probe.x.mean())) < 0.5  # normalised as the benchmark
    assert not torch.equal(data.weight.x, data.arch.x)
    cfg = DartsConfig(**{**TINY, "epochs": 1})
    run = run_darts_search(cfg, 0, data, table=load_table())
    assert 0 <= run.arch_id < N_ARCHS
    rec = run.records[-1]
    assert 10.0 <= rec["test_acc"] <= 100.0 and 0.0 < rec["percentile"] <= 100.0
    assert run.data["split"] == data.split and run.data["weight"]["n"] == 40
