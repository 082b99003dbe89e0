"""The SpikeNAS-Bench proxy ledger: scores, determinism, resume and identity."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from snnlib.nas.executors import SyncExecutor
from snnlib.nas.proxies import PROXIES, register_proxy, sahd_kernel
from snnlib.nas.rdm import RDM_VARIANTS, RDMConfig, rdm_score
from snnlib.nas.spike_gram import SpikeGram, naswot_from_grams, sahd_from_grams
from snnlib.nas.zero_cost import naswot_kernel
from snnlib.spikenas import load_table
from snnlib.spikenas.ledger import (
    DEFAULT_RDM,
    LedgerConfig,
    build,
    make_probe,
    run_ledger,
    score_cell,
    stratified_sample,
)
from snnlib.spikes import record_spikes
from snnlib.validation import ConfigError

CFG = LedgerConfig(width=1 / 32, time_steps=2, grad_batch=4)


@pytest.fixture(scope="module")
def probe():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (60, 32, 32, 3), dtype=np.uint8)
    return make_probe(images, np.repeat(np.arange(10), 6), n_per_class=2, seed=0, source="noise")


def test_probe_is_class_balanced_and_normalised_as_the_benchmark(probe):
    assert probe.x.shape == (20, 3, 32, 32)
    assert (
        probe.y.tolist() == sorted(probe.y.tolist()) and np.bincount(probe.y).tolist() == [2] * 10
    )
    assert abs(float(probe.x.mean())) < 0.5


def test_scores_of_one_cell_are_deterministic_and_complete(probe):
    a = score_cell(12617, probe, CFG)
    b = score_cell(12617, probe, CFG)
    assert {k: v for k, v in a.items() if k != "seconds"} == {
        k: v for k, v in b.items() if k != "seconds"
    }
    baselines = {"sahd", "naswot", "firing_rate", "grad_norm", "synflow", "params", "random"}
    assert {*RDM_VARIANTS, *baselines} <= set(CFG.proxies)
    assert sum(n.startswith("lsp_") for n in CFG.proxies) == 12  # the authors' six, two variants
    for name in CFG.proxies:
        assert name in a and name in a["seconds"]
        assert np.isfinite(a[name]) or name.startswith("lsp_") and "logdet" in name


def test_rdm_column_equals_the_core_rdm_fitness(probe):
    """The ledger's shared recording gives what rdm_score gives on the same untrained net."""
    row = score_cell(12617, probe, CFG)
    for name in (DEFAULT_RDM, "rdm hamming/spearman/mean", "rdm correlation/spearman/last"):
        net = build(12617, CFG)
        assert row[name] == pytest.approx(
            rdm_score(net, probe.x, probe.y, RDM_VARIANTS[name]), abs=1e-12
        )


def test_gram_kernels_equal_sahd_and_the_naswot_definition(probe):
    spikes = record_spikes(build(12617, CFG), probe.x)
    grams = [SpikeGram.of(s) for s in spikes.values()]
    assert torch.equal(sahd_from_grams(grams), sahd_kernel(spikes))
    assert torch.equal(naswot_from_grams(grams), naswot_kernel(spikes))
    # the definition, for one layer and step: units on which two inputs agree
    s = next(iter(spikes.values()))[0] > 0
    agree = (s[:, None, :] == s[None, :, :]).sum(-1).double()
    one = naswot_kernel({"l": next(iter(spikes.values()))[:1]})
    assert torch.equal(one, agree)


def test_a_registered_score_reaches_the_ledger_and_its_identity(tmp_path, probe):
    """A new training-free score is one registry entry: the ledger lists it by name, and a
    checkpoint written without it is refused instead of resumed with a missing column."""
    ck = tmp_path / "ledger.json"
    run_ledger([1, 12617], probe, CFG, checkpoint=ck, progress=False)
    register_proxy(
        "total_spikes", lambda run: sum(float(s.sum()) for s in run.spikes.values()), ("spikes",)
    )
    try:
        # the one registry call is all: a ledger configured after it scores the new score
        with_new = LedgerConfig(width=1 / 32, time_steps=2, grad_batch=4)
        assert with_new.proxies == (*CFG.proxies, "total_spikes")
        with pytest.raises(ConfigError, match=r"differing: config\.proxies"):
            run_ledger([1, 12617], probe, with_new, checkpoint=ck, progress=False)
        led = run_ledger([1, 12617], probe, with_new, progress=False)
        spikes = record_spikes(build(12617, CFG), probe.x)
        assert led.rows[12617]["total_spikes"] == sum(float(s.sum()) for s in spikes.values())
        assert led.rows[12617]["seconds"]["total_spikes"] > 0
    finally:
        del PROXIES["total_spikes"]


def test_a_dead_cell_scores_zero_rdm_and_no_output_spikes(probe):
    row = score_cell(0, probe, CFG)  # all edges zero: nothing reaches the classifier... but
    # the down-sampling block still sees the stem through BN of a zero map: silent output
    assert row[DEFAULT_RDM] == 0.0
    assert row["output_spikes"] == 0.0


def test_ledger_resumes_to_the_uninterrupted_result(tmp_path, probe):
    ids = [1, 7, 12617, 300, 4000]
    full = run_ledger(ids, probe, CFG, chunk=2, progress=False)
    ck = tmp_path / "ledger.json"
    run_ledger(ids[:2], probe, CFG, checkpoint=ck, chunk=2, progress=False)
    assert len(json.loads(ck.read_text())["rows"]) == 2
    calls = []

    class Counting(SyncExecutor):
        def submit(self, fn, /, *args, **kwargs):
            calls.append(list(args[0]))
            return super().submit(fn, *args, **kwargs)

    resumed = run_ledger(
        ids, probe, CFG, checkpoint=ck, chunk=2, executor=Counting(), progress=False
    )
    assert sorted(a for c in calls for a in c) == [300, 4000, 12617]  # the first two were kept
    strip = lambda rows: {
        a: {k: v for k, v in r.items() if k != "seconds"} for a, r in rows.items()
    }
    assert strip(resumed.rows) == strip(full.rows)


def test_a_checkpoint_of_other_settings_names_the_differing_fields(tmp_path, probe):
    ck = tmp_path / "ledger.json"
    run_ledger([1], probe, CFG, checkpoint=ck, progress=False)
    before = ck.read_bytes()
    other = LedgerConfig(width=1 / 16, time_steps=2, grad_batch=4)
    with pytest.raises(ConfigError, match=r"differing: config\.width"):
        run_ledger([1], probe, other, checkpoint=ck, progress=False)
    assert ck.read_bytes() == before
    ck.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        run_ledger([1], probe, CFG, checkpoint=ck, progress=False)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["rows"][0].update(arch_id=99999), "out of range"),
        (lambda d: d["rows"][0].update(arch_id=-1), "out of range"),
        (lambda d: d["rows"].append(dict(d["rows"][0])), "listed twice"),
        (lambda d: d["rows"][0].update(sahd="1e9"), "not a number"),
        (lambda d: d["rows"][0].pop("naswot"), "not a number"),
        (lambda d: d["rows"][0]["seconds"].pop("params"), "no seconds"),
        (lambda d: d["identity"]["config"].update(width=0.5), "identity_hash does not match"),
        (lambda d: d.update(version=1), "has version 1"),
    ],
)
def test_a_hand_edited_ledger_checkpoint_is_refused_on_resume(tmp_path, probe, edit, message):
    ck = tmp_path / "ledger.json"
    run_ledger([1, 7], probe, CFG, checkpoint=ck, progress=False)
    data = json.loads(ck.read_text())
    edit(data)
    ck.write_text(json.dumps(data))
    before = ck.read_bytes()
    with pytest.raises(ConfigError, match=message) as err:
        run_ledger([1, 7], probe, CFG, checkpoint=ck, progress=False)
    assert str(ck) in str(err.value) and ck.read_bytes() == before


def test_stratified_sample_spans_the_accuracy_range():
    t = load_table()
    ids = stratified_sample(t.test_acc, 500, seed=0)
    assert len(ids) == 500 == len(set(ids.tolist()))
    acc = t.test_acc[ids]
    assert 8 <= (acc <= 10).sum() <= 14  # 341 / 15625 = 2.2 % dead
    assert abs(np.median(acc) - np.median(t.test_acc)) < 0.1
    assert np.array_equal(ids, stratified_sample(t.test_acc, 500, seed=0))


def test_bad_ledger_settings_are_named():
    with pytest.raises(ConfigError, match="proxy='rdm cosine' is not allowed"):
        LedgerConfig(proxies=("rdm cosine",))
    with pytest.raises(ConfigError, match="repeat"):
        LedgerConfig(proxies=("sahd", "sahd"))
    with pytest.raises(ConfigError, match="width"):
        LedgerConfig(width=0)
    assert (
        isinstance(RDM_VARIANTS[DEFAULT_RDM], RDMConfig)
        and RDM_VARIANTS[DEFAULT_RDM] == RDMConfig()
    )


CHILD = r"""
import sys, numpy as np
from pathlib import Path
from snnlib.spikenas.ledger import LedgerConfig, make_probe, run_ledger
rng = np.random.default_rng(0)
images = rng.integers(0, 256, (60, 32, 32, 3), dtype=np.uint8)
probe = make_probe(images, np.repeat(np.arange(10), 6), n_per_class=2, seed=0, source="noise")
cfg = LedgerConfig(width=1 / 32, time_steps=2, grad_batch=4)
run_ledger([int(a) for a in sys.argv[2].split(",")], probe, cfg, checkpoint=Path(sys.argv[1]),
           chunk=1, progress=False)
"""


def test_a_ledger_killed_mid_run_resumes_to_the_uninterrupted_result(tmp_path, probe):
    """SIGKILL after the first checkpointed chunk; the rerun keeps what was written, scores the
    rest, and its rows equal an uninterrupted run's."""
    import os
    import signal
    import subprocess
    import sys
    import time

    ids = [3, 12617, 901, 4000, 77, 15000, 2222, 8888]
    ck = tmp_path / "ledger.json"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(ck), ",".join(map(str, ids))])
    deadline = time.time() + 240
    while time.time() < deadline and child.poll() is None:
        if ck.exists() and len(json.loads(ck.read_text())["rows"]) >= 1:
            break
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    kept = len(json.loads(ck.read_text())["rows"])
    assert 1 <= kept <= len(ids)
    resumed = run_ledger(ids, probe, CFG, checkpoint=ck, chunk=1, progress=False)
    full = run_ledger(ids, probe, CFG, chunk=4, progress=False)
    strip = lambda rows: {
        a: {k: v for k, v in r.items() if k != "seconds"} for a, r in rows.items()
    }
    assert strip(resumed.rows) == strip(full.rows)
    assert not list(tmp_path.glob("*.tmp"))
