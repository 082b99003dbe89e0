"""Fault injection on search checkpoints: nothing lost, nothing run from a file, every broken
file named.

- a search killed with SIGKILL (in a subprocess) resumes to exactly the uninterrupted result,
  for MSE-NAS (:func:`snnlib.mse.evolve`) and MA-DARTS (:func:`snnlib.darts.search`);
- a crafted checkpoint (a pickle or torch file whose ``__reduce__`` would create a file) creates
  no file when loaded and is a ConfigError naming the path;
- truncated, empty, garbage, foreign-configuration, wrong-version and missing-key checkpoints
  are ConfigErrors naming the path and what is wrong;
- resuming under another fitness configuration is an error naming ``metric``; a plain rerun
  resumes a compatible checkpoint and keeps an incompatible one aside;
- a Dask worker killed during a population evaluation is recovered.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from snnlib.darts import SearchConfig, SearchNetwork, load_bilevel_checkpoint, search
from snnlib.darts.search_data import search_loaders
from snnlib.encoding import Encoder
from snnlib.mse.evolution import EvolutionConfig, evolve, load_evolution_state
from snnlib.mse.genome import SearchSpace
from snnlib.nas.identity import differing_fields, fitness_identity, identity_hash, with_hash
from snnlib.validation import ConfigError

REPO = Path(__file__).resolve().parents[1]
SPACE = SearchSpace(n_cells=3)
CFG = EvolutionConfig(population=8, generations=4, elitism=1, seed=3)


def gene_fitness(genome, seed):
    """Cheap and deterministic: kernel-5 and excitatory ops, plus seeded noise."""
    ops = [o for c in genome.cells for o in c.ops]
    score = sum(o.kernel == 5 for o in ops) / len(ops) + sum(o.sign > 0 for o in ops) / len(ops)
    rng = np.random.default_rng([seed, int(genome.hash()[:8], 16)])
    return score + 0.01 * rng.random()


def _strip(history):
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


def _summary(res) -> dict:
    return {
        "best": res.best.hash(),
        "best_fitness": res.best_fitness,
        "history": _strip(res.history),
        "cache": res.cache,
        "evaluations": res.evaluations,
    }


def _run_child(script: str, *args, timeout=120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class _Evil:
    """Unpickling this creates the file ``target``: what a crafted checkpoint would do."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


# -- identity -------------------------------------------------------------------------------


def test_identity_hash_and_differing_fields():
    a = {"fitness": {"metric": "correlation", "n": 4}, "seed": 0, "space": (1, 2)}
    b = {"fitness": {"metric": "euclidean", "n": 4}, "seed": 0, "space": [1, 2]}
    assert identity_hash(a) == identity_hash({"seed": 0, "space": [1, 2], **a})  # key order
    assert identity_hash(a) != identity_hash(b) and len(identity_hash(a)) == 12
    assert differing_fields(a, b) == ["fitness.metric"]
    assert differing_fields(a, {**a, "scale": "smoke"}) == ["scale"]
    assert with_hash(Path("x/c.json"), a).name == f"c__{identity_hash(a)}.json"


# -- defect 1: resuming under another fitness configuration ----------------------------------


def test_resuming_under_another_metric_is_an_error_naming_metric(tmp_path):
    ckpt = tmp_path / "search.json"
    corr = {"fitness": {"metric": "correlation", "comparison": "spearman"}}
    eucl = {"fitness": {"metric": "euclidean", "comparison": "pearson"}}
    evolve(gene_fitness, SPACE, CFG, checkpoint=ckpt, identity=corr, progress=False)
    before = ckpt.read_bytes()
    with pytest.raises(ConfigError, match=r"fitness\.metric") as err:
        evolve(gene_fitness, SPACE, CFG, checkpoint=ckpt, identity=eucl, resume=True)
    assert str(ckpt) in str(err.value) and "fitness.comparison" in str(err.value)
    assert ckpt.read_bytes() == before  # refused, not touched
    # the notebooks name their checkpoints by the record's hash: never the same file
    assert with_hash(ckpt, corr) != with_hash(ckpt, eucl)


def test_darts_resume_under_another_record_names_the_field(tmp_path):
    ckpt = tmp_path / "s.pt"
    _darts_search(ckpt, epochs=1, identity={"data": {"dataset": "digits"}})
    before = ckpt.read_bytes()
    with pytest.raises(ConfigError, match=r"data\.dataset"):
        _darts_search(ckpt, epochs=1, identity={"data": {"dataset": "cifar10"}}, resume=True)
    assert ckpt.read_bytes() == before


# -- defect 3: no code from files -----------------------------------------------------------


def test_a_crafted_pickle_checkpoint_creates_no_file(tmp_path):
    target = tmp_path / "pwned"
    ckpt = tmp_path / "search.json"
    ckpt.write_bytes(pickle.dumps({"version": 1, "evil": _Evil(target)}))
    with pytest.raises(ConfigError, match=str(ckpt)):
        load_evolution_state(ckpt)
    with pytest.raises(ConfigError, match=str(ckpt)):
        evolve(gene_fitness, SPACE, CFG, checkpoint=ckpt, resume=True, progress=False)
    assert not target.exists()


def test_a_crafted_torch_checkpoint_creates_no_file(tmp_path):
    target = tmp_path / "pwned"
    ckpt = tmp_path / "search.pt"
    torch.save({"format": "snnlib.darts.search/1", "evil": _Evil(target)}, ckpt)
    with pytest.raises(ConfigError, match=str(ckpt)):
        load_bilevel_checkpoint(ckpt)
    assert not target.exists()
    with pytest.raises(ConfigError, match=str(ckpt)):
        _darts_search(ckpt, resume=True)
    assert not target.exists()


# -- defect 4: a plain rerun never destroys work --------------------------------------------


class Interrupt(Exception):
    pass


def _stop_at(n):
    def cb(gen, state):
        if gen == n:
            raise Interrupt()

    return cb


def test_a_plain_rerun_resumes_an_interrupted_search(tmp_path):
    ckpt = tmp_path / "search.json"
    full = evolve(gene_fitness, SPACE, CFG, progress=False)
    with pytest.raises(Interrupt):
        evolve(gene_fitness, SPACE, CFG, checkpoint=ckpt, callback=_stop_at(2), progress=False)
    calls = []
    again = evolve(  # no resume argument: what a plain rerun does
        gene_fitness,
        SPACE,
        CFG,
        checkpoint=ckpt,
        progress=False,
        callback=lambda g, s: calls.append(g),
    )
    assert calls == [3, 4] and _summary(again) == _summary(full)
    # a finished search resumes to the identical result (history and timings included)
    # (a stand-in fitness that fails when called, under gene_fitness's derived identity)
    same = {"fitness": fitness_identity(gene_fitness)}
    done = evolve(
        lambda g, s: pytest.fail("re-evaluated"), SPACE, CFG, checkpoint=ckpt, identity=same
    )
    assert _summary(done) == _summary(full) and done.history == again.history
    assert done.seconds == again.seconds


def test_an_incompatible_checkpoint_is_moved_aside_not_replaced(tmp_path, capsys):
    ckpt = tmp_path / "search.json"
    evolve(gene_fitness, SPACE, CFG, checkpoint=ckpt, identity={"scale": "smoke"}, progress=False)
    before = ckpt.read_bytes()
    with pytest.warns(UserWarning, match="incompatible") as rec:
        evolve(gene_fitness, SPACE, CFG, checkpoint=ckpt, identity={"scale": "cpu"})
    aside = list(tmp_path.glob("search.incompatible-*.json"))
    assert len(aside) == 1 and aside[0].read_bytes() == before
    assert str(aside[0]) in str(rec[0].message) and "scale" in str(rec[0].message)
    assert load_evolution_state(ckpt).identity["scale"] == "cpu"
    # resume=False starts afresh and keeps the old file, too
    with pytest.warns(UserWarning, match="kept"):
        evolve(gene_fitness, SPACE, CFG, checkpoint=ckpt, resume=False, identity={"scale": "cpu"})
    assert len(list(tmp_path.glob("search.*.json"))) == 2


def test_darts_plain_rerun_resumes_and_incompatible_is_kept(tmp_path):
    ckpt = tmp_path / "s.pt"
    full = _darts_search(ckpt, identity={"seed": 0})
    again = _darts_search(ckpt, identity={"seed": 0}, init_seed=99)  # plain rerun: resumes
    assert again.resumed_from_epoch == 2 and again.history == full.history
    assert again.arch_weights == full.arch_weights and again.seconds == full.seconds
    with pytest.warns(UserWarning, match="incompatible"):
        _darts_search(ckpt, identity={"seed": 1})
    assert len(list(tmp_path.glob("s.incompatible-*.pt"))) == 1


# -- defect 4 (corrupt files): clear errors naming the path ---------------------------------


def _good_mse_checkpoint(path):
    evolve(gene_fitness, SPACE, CFG, checkpoint=path, progress=False)
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("empty", b"", "empty"),
        ("blank", b"  \n", "empty"),
        ("garbage", b"\x00\x01binary\xff", "not a JSON text"),
        ("text", b"hello", "not valid JSON"),
        ("truncated", None, "not valid JSON"),
        ("list", b"[1, 2]", "not a JSON object"),
        ("version", {"version": 99}, "version"),
        ("missing", {"drop": "cache"}, "cache"),
        ("mistyped", {"set": ("generation", "three")}, "generation"),
        ("bad genome", {"set": ("population", [{"cells": "x"}])}, "cells"),
        ("bad rng", {"set": ("rng_state", {"bit_generator": "X"})}, "rng_state"),
    ],
)
def test_corrupt_mse_checkpoints_are_named(tmp_path, name, content, expected):
    ckpt = tmp_path / "search.json"
    good = _good_mse_checkpoint(ckpt)
    if content is None:
        raw = ckpt.read_bytes()
        content = raw[: len(raw) // 2]
    elif isinstance(content, dict):
        if "version" in content:
            good["version"] = content["version"]
        elif "drop" in content:
            del good[content["drop"]]
        else:
            key, value = content["set"]
            good[key] = value
        content = json.dumps(good).encode()
    ckpt.write_bytes(content)
    for load in (
        lambda: load_evolution_state(ckpt),
        lambda: evolve(gene_fitness, SPACE, CFG, checkpoint=ckpt, progress=False),
    ):
        with pytest.raises(ConfigError, match=expected) as err:
            load()
        assert str(ckpt) in str(err.value)
    assert ckpt.read_bytes() == content  # a corrupt file is reported, never replaced


@pytest.mark.parametrize("name", ["empty", "garbage", "truncated", "not a dict", "missing"])
def test_corrupt_darts_checkpoints_are_named(tmp_path, name):
    ckpt = tmp_path / "s.pt"
    _darts_search(ckpt, epochs=1)
    raw = ckpt.read_bytes()
    if name == "empty":
        ckpt.write_bytes(b"")
    elif name == "garbage":
        ckpt.write_bytes(b"garbage" * 10)
    elif name == "truncated":
        ckpt.write_bytes(raw[: len(raw) // 2])
    elif name == "not a dict":
        torch.save([1, 2, 3], ckpt)
    else:
        state = torch.load(ckpt, weights_only=True)
        del state["w_opt"]
        torch.save(state, ckpt)
    with pytest.raises(ConfigError) as err:
        load_bilevel_checkpoint(ckpt)
    assert str(ckpt) in str(err.value)
    if name == "missing":
        assert "w_opt" in str(err.value)
    with pytest.raises(ConfigError, match=str(ckpt)):
        _darts_search(ckpt, epochs=1, resume=True)


def test_a_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        load_evolution_state(tmp_path / "nope.json")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_bilevel_checkpoint(tmp_path / "nope.pt")
    with pytest.raises(ConfigError, match="resume"):
        evolve(gene_fitness, SPACE, CFG, checkpoint=tmp_path / "c.json", resume="yes")


# -- SIGKILL mid-search, then resume --------------------------------------------------------

MSE_CHILD = """
    import json, os, signal, sys
    import numpy as np
    from snnlib.mse.evolution import EvolutionConfig, evolve
    from snnlib.mse.genome import SearchSpace

    ckpt, out, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    calls = [0]

    def fitness(genome, seed):
        calls[0] += 1
        if calls[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        ops = [o for c in genome.cells for o in c.ops]
        score = sum(o.kernel == 5 for o in ops) / len(ops)
        score += sum(o.sign > 0 for o in ops) / len(ops)
        rng = np.random.default_rng([seed, int(genome.hash()[:8], 16)])
        return score + 0.01 * rng.random()

    cfg = EvolutionConfig(population=8, generations=4, elitism=1, seed=3)
    # the fitness reads kill_at, which differs between the two runs: its identity is given
    # (a derived one would refuse the resume, as it should for a fitness that changed)
    res = evolve(fitness, SearchSpace(n_cells=3), cfg, checkpoint=ckpt, progress=False,
                 identity={"fitness": "kernel5+excitatory"})
    hist = [{k: v for k, v in h.items() if k != "seconds"} for h in res.history]
    json.dump({"best": res.best.hash(), "best_fitness": res.best_fitness, "history": hist,
               "cache": res.cache, "evaluations": res.evaluations, "calls": calls[0]},
              open(out, "w"))
"""


def test_sigkill_mid_evolution_then_resume_equals_uninterrupted(tmp_path):
    ckpt, out = tmp_path / "search.json", tmp_path / "out.json"
    killed = _run_child(MSE_CHILD, ckpt, out, CFG.population + 3)  # inside generation 1
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert load_evolution_state(ckpt).generation == 0 and not out.exists()
    resumed = _run_child(MSE_CHILD, ckpt, out, 0)
    assert resumed.returncode == 0, resumed.stderr
    got = json.loads(out.read_text())
    full = json.loads(json.dumps(_summary(evolve(gene_fitness, SPACE, CFG, progress=False))))
    assert got.pop("calls") == full["evaluations"] - CFG.population  # generation 0 not redone
    assert got == full


DARTS_CHILD = """
    import json, os, signal, sys
    import torch
    from torch.utils.data import TensorDataset
    from snnlib.darts import SearchConfig, SearchNetwork, search
    from snnlib.darts.bilevel import spike_evaluation
    from snnlib.darts.search_data import search_loaders
    from snnlib.encoding import Encoder

    def main(ckpt, out, kill_at):
        torch.set_num_threads(1)
        calls = [0]

        def evaluate(run, loader):
            calls[0] += 1
            if calls[0] == int(kill_at):
                os.kill(os.getpid(), signal.SIGKILL)
            return spike_evaluation(run, loader)

        g = torch.Generator().manual_seed(0)
        y = torch.arange(48) % 3
        x = torch.rand(48, 1, 8, 8, generator=g) + y.view(-1, 1, 1, 1).float() * 0.5
        torch.manual_seed(0)
        net = SearchNetwork(1, 3, C=2, layers=3, steps=2, multiplier=2, time_steps=2)
        wl, al = search_loaders(TensorDataset(x, y), batch_size=8, seed=0)
        cfg = SearchConfig(epochs=3, arch_lr=3e-2, max_batches=2, spike_batches=1, eval_batches=1)
        res = search(net, wl, al, Encoder("direct", 2), cfg, val_loader=al, checkpoint=ckpt,
                     evaluate=evaluate, progress=False)
        keep = ("val_acc", "train_loss", "arch_loss", "nos_val", "alphas_normal", "genotype")
        json.dump({"arch_weights": res.arch_weights, "calls": calls[0],
                   "history": [{k: h[k] for k in keep} for h in res.history]}, open(out, "w"))

    if __name__ == "__main__":
        main(*sys.argv[1:4])
"""


def test_sigkill_mid_darts_search_then_resume_equals_uninterrupted(tmp_path):
    ckpt, out = tmp_path / "s.pt", tmp_path / "out.json"
    full_out = tmp_path / "full.json"
    child = {"__name__": "darts_child"}
    exec(textwrap.dedent(DARTS_CHILD), child)  # the uninterrupted run, in this process
    child["main"](tmp_path / "full.pt", full_out, 0)
    killed = _run_child(DARTS_CHILD, ckpt, out, 2)  # in epoch 2, after epoch 1's checkpoint
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert load_bilevel_checkpoint(ckpt)["epoch"] == 1 and not out.exists()
    resumed = _run_child(DARTS_CHILD, ckpt, out, 0)
    assert resumed.returncode == 0, resumed.stderr
    got, want = json.loads(out.read_text()), json.loads(full_out.read_text())
    assert got.pop("calls") == 2 and want.pop("calls") == 3  # epoch 1 not redone
    assert got == want  # bit for bit


# -- a killed Dask worker -------------------------------------------------------------------


def _kill_worker_once(marker):
    def fitness(genome, seed):
        if not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        return gene_fitness(genome, seed)

    return fitness


@pytest.mark.slow
def test_a_killed_dask_worker_is_recovered(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    import cloudpickle

    from snnlib.nas.executors import local_cluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        cluster = local_cluster(2)
    except Exception as exc:  # noqa: BLE001 (no cluster on this machine: say why)
        pytest.skip(f"a dask LocalCluster cannot start here: {exc}")
    try:
        with distributed.Client(cluster) as client:
            marker = tmp_path / "killed-once"
            cfg = EvolutionConfig(population=6, generations=1, elitism=1, seed=3)
            res = evolve(
                _kill_worker_once(str(marker)),
                SPACE,
                cfg,
                executor=client.get_executor(),
                checkpoint=tmp_path / "dask.json",
                progress=False,
            )
    finally:
        cluster.close()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert marker.exists()  # a worker really died
    want = evolve(gene_fitness, SPACE, cfg, progress=False)
    assert _summary(res) == _summary(want)


# -- helpers --------------------------------------------------------------------------------


def _darts_data(n=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = torch.rand(n, 1, 8, 8, generator=g) + y.view(-1, 1, 1, 1).float() * 0.5
    return torch.utils.data.TensorDataset(x, y)


def _darts_search(ckpt, epochs=2, init_seed=0, **kw):
    torch.manual_seed(init_seed)
    net = SearchNetwork(1, 3, C=2, layers=3, steps=2, multiplier=2, time_steps=2)
    wl, al = search_loaders(_darts_data(), batch_size=8, seed=0)
    cfg = SearchConfig(epochs=epochs, max_batches=1, spike_batches=1, eval_batches=1)
    return search(
        net, wl, al, Encoder("direct", 2), cfg, val_loader=al, checkpoint=ckpt, progress=False, **kw
    )
