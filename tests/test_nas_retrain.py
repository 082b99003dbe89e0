"""One retraining path (snnlib.nas.retrain) for MSE genomes and DARTS genotypes.

The references below are the three retraining functions as they were before the unified path
(``mse.experiment.train_genome``, ``mse.baselines.train_genome``, ``darts.train_genotype``),
written out with the substrate's pieces: the unified path must give bit-identical numbers.
"""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from snnlib.darts import random_genotype, train_genotype
from snnlib.darts.cell_spikes import nos_per_cell
from snnlib.darts.network import Network
from snnlib.darts.retrain import RetrainableGenotype
from snnlib.encoding import Encoder
from snnlib.models import count_parameters
from snnlib.mse import NetConfig, RetrainableGenome, SearchSpace, build_network, random_genome
from snnlib.mse.experiment import (
    RETRAIN_WEIGHT_SALT,
    TensorData,
    retrain_on,
    tensor_budget,
    train_genome,
)
from snnlib.mse.fitness import DataSpec
from snnlib.nas.retrain import (
    RetrainBudget,
    RetrainResult,
    RetrainRun,
    SeedRule,
    as_retrainable,
    retrain,
)
from snnlib.nas.seeding import derive_seed
from snnlib.runtime import seed_everything
from snnlib.train import TrainConfig, evaluate, fit, spike_summary
from snnlib.validation import ConfigError

SPEC = DataSpec(1, 4, "direct", 2)
NET = NetConfig(width=4, stem_stride=2)
CFG = TrainConfig(epochs=2, max_batches=2, lr=1e-2)
MEASURED = ("test_acc", "test_loss", "nos", "firing_rate", "sops", "macs", "energy_uj")


def _data() -> TensorData:
    g = torch.Generator().manual_seed(0)
    y = torch.arange(4).repeat_interleave(8)
    x = torch.randn(len(y), 1, 12, 12, generator=g) + y[:, None, None, None]
    return TensorData("toy", SPEC, (x, y), (x[:16], y[:16]), (x, y))


def _genome(seed=3):
    return random_genome(np.random.default_rng(seed), SearchSpace(n_cells=3))


def _fit_and_test(model, loaders, encoder, test):
    hist = fit(model, loaders["train"], loaders.get("val"), encoder, CFG, progress=False)
    return hist, test(model, loaders["test"], encoder)


def _evaluate(model, loader, encoder):
    ev = evaluate(model, loader, encoder, spikes=True)
    rep = ev["spikes"]
    return dict(
        test_acc=ev["acc"],
        test_loss=ev["loss"],
        nos=rep.nos,
        firing_rate=rep.mean_firing_rate,
        sops=rep.sops,
        macs=rep.macs,
        energy_uj=rep.energy_uj,
    )


def _old_mse_experiment(genome, data, seed):
    """``mse.experiment.train_genome`` as it was: weights from (seed, hash, salt), train
    loader shuffled by a fresh generator seeded by ``seed``."""
    torch.manual_seed(derive_seed(seed, genome.hash(), 1_000_003))
    model = build_network(genome, 1, 4, NET)
    loaders = {
        "train": data.loader("train", 8, seed),
        "val": data.loader("val", 256),
        "test": data.loader("test", 256),
    }
    hist, out = _fit_and_test(model, loaders, SPEC.encoder(), _evaluate)
    return out | {"val_acc": list(hist.val_acc), "params": count_parameters(model)}


def _old_mse_baselines(genome, loaders, seed):
    """``mse.baselines.train_genome`` as it was: seed_everything, loaders as given."""
    seed_everything(seed)
    model = build_network(genome, 1, 4, NET)
    hist, out = _fit_and_test(model, loaders, SPEC.encoder(), _evaluate)
    return out | {"history": hist.to_dict(), "params": count_parameters(model)}


def _old_darts(genotype, loaders, seed):
    """``darts.train_genotype`` as it was: seed_everything, train generator re-seeded."""
    seed_everything(seed)
    loaders["train"].generator.manual_seed(seed)
    net = Network(genotype, 1, 4, C=2, layers=3, time_steps=2, attention="tcsa")

    def test(model, loader, encoder):
        s = spike_summary(model, loader, encoder, per_cell=nos_per_cell)
        s["test_acc"], s["test_loss"] = s.pop("acc"), s.pop("loss")
        return s

    hist, out = _fit_and_test(net, loaders, SPEC.encoder(), test)
    return out | {"history": hist.to_dict(), "params": count_parameters(net)}


def _same(new: RetrainRun, old: dict, keys=MEASURED):
    for k in keys:
        assert getattr(new, k) == old[k], k  # bit-identical, not approximately equal


def test_mse_genome_reproduces_the_experiment_path():
    data, g = _data(), _genome()
    old = _old_mse_experiment(g, data, seed=3)
    budget = tensor_budget(data, CFG, batch_size=8, seed=3, progress=False)
    (run,) = retrain(RetrainableGenome(g, NET), budget, [3]).runs
    _same(run, old, ("test_acc", "nos", "sops", "energy_uj", "params"))
    assert run.history["val_acc"] == old["val_acc"]
    # the notebooks' helper is one run of the same path
    out = train_genome(g, data, NET, CFG, batch_size=8, seed=3, progress=False)
    assert out.test_acc == old["test_acc"] and out.nos == old["nos"]
    assert out.history["val_acc"] == old["val_acc"] and out.best_val_acc == max(old["val_acc"])
    # and over seeds, one RetrainResult whose runs are those single runs
    over = retrain_on(RetrainableGenome(g, NET), data, [3, 4], CFG, batch_size=8, progress=False)
    assert over.seeds == [3, 4] and over.runs[0].test_acc == old["test_acc"]
    assert over.runs[1].test_acc == train_genome(g, data, NET, CFG, 8, 4, progress=False).test_acc


def test_mse_genome_with_the_comparison_rule_reproduces_the_baselines_path():
    """Notebook 40's rule: seed_everything, the train loader's generator left running."""
    data, g = _data(), _genome()
    rule = SeedRule(weights="seed", data_order="as_given")

    def loaders():
        d = {"train": data.loader("train", 8, 5), "test": data.loader("test", 16)}
        next(iter(d["train"]))  # a generator already advanced, as in the notebook
        return d

    old_loaders, new_loaders = loaders(), loaders()
    olds = [_old_mse_baselines(g, old_loaders, seed=4) for _ in range(2)]
    budget = RetrainBudget(CFG, new_loaders, SPEC.encoder(), 1, 4, progress=False)
    runs = [retrain(RetrainableGenome(g, NET, seeding=rule), budget, [4]).runs[0] for _ in "ab"]
    for run, old in zip(runs, olds):
        _same(run, old, MEASURED + ("params",))
        assert run.history["train_loss"] == old["history"]["train_loss"]
    # the data order goes on between runs: the two retrainings differ
    assert runs[0].history["train_loss"] != runs[1].history["train_loss"]


def test_darts_genotype_reproduces_the_darts_path():
    data, geno = _data(), random_genotype(1)

    def loaders():
        return {
            "train": data.loader("train", 8, 0),
            "val": data.loader("val", 16),
            "test": data.loader("test", 16),
        }

    old = _old_darts(geno, loaders(), seed=5)
    budget = RetrainBudget(CFG, loaders(), SPEC.encoder(), 1, 4, progress=False)
    arch = RetrainableGenotype(geno, C=2, layers=3, time_steps=2, attention="tcsa")
    (run,) = retrain(arch, budget, [5]).runs
    _same(run, old, MEASURED + ("params",))
    assert run.spike_groups == old["nos_per_cell"] and run.val_acc == old["history"]["val_acc"][-1]
    kw = dict(in_channels=1, num_classes=4, loaders=loaders(), encoder=SPEC.encoder())
    kw |= dict(train_cfg=CFG, C=2, layers=3, time_steps=2, attention="tcsa", progress=False)
    single = train_genotype(geno, seed=5, **kw)
    assert single["test_acc"] == old["test_acc"] and single["nos_per_cell"] == old["nos_per_cell"]


def test_identity_rule_gives_each_genome_its_own_weights():
    rule = SeedRule(weights="identity", salt=RETRAIN_WEIGHT_SALT)
    a, b = RetrainableGenome(_genome(3), NET), RetrainableGenome(_genome(4), NET)
    assert a.seeding == rule

    def first_weight(arch, seed):
        rule.seed_weights(arch, seed)
        return torch.randn(3)

    assert torch.equal(first_weight(a, 0), first_weight(a, 0))
    assert not torch.equal(first_weight(a, 0), first_weight(b, 0))
    assert not torch.equal(first_weight(a, 0), first_weight(a, 1))


def _run(seed, acc, nos=100.0, groups=None):
    return RetrainRun(
        seed=seed,
        test_acc=acc,
        test_loss=1 - acc,
        val_acc=acc,
        best_val_acc=acc,
        nos=nos,
        firing_rate=0.1,
        sops=10.0,
        macs=5.0,
        energy_uj=0.5 + seed,
        params=123,
        seconds=2.0,
        test_seconds=0.5,
        history={"s": seed},
        spike_groups=groups,
    )


def test_result_aggregates_over_seeds():
    runs = [
        _run(s, a, 100.0 * (s + 1), {"cell0": float(s), "head": 1.0})
        for s, a in zip([0, 1, 2], [0.90, 0.94, 0.92])
    ]
    r = RetrainResult("toy", runs)
    assert r.seeds == [0, 1, 2] and r.test_accs == [0.90, 0.94, 0.92]
    assert r.test_acc == pytest.approx(0.92) and r.test_acc_sd == pytest.approx(0.02)
    lo, hi = r.test_acc_ci95
    ref = stats.t.interval(0.95, 2, loc=np.mean(r.test_accs), scale=stats.sem(r.test_accs))
    assert (lo, hi) == pytest.approx(ref)
    assert r.nos == pytest.approx(200.0) and r.energy_uj == pytest.approx(1.5)
    assert r.spike_groups == {"cell0": pytest.approx(1.0), "head": pytest.approx(1.0)}
    assert r.seconds == pytest.approx(6.0) and r.params == 123
    assert r.histories == [{"s": 0}, {"s": 1}, {"s": 2}]
    d = r.to_dict()
    assert d["test_acc"] == r.test_acc and d["test_acc_ci95"] == [lo, hi]
    assert len(d["runs"]) == 3 and d["runs"][1]["test_acc"] == 0.94
    one = RetrainResult("toy", [_run(1, 0.94)])
    assert one.test_acc_sd == 0.0 and one.test_acc_ci95 is None and one.spike_groups is None
    with pytest.raises(ConfigError, match="seed"):
        RetrainResult("toy", [])
    assert math.isclose(RetrainResult("x", runs[:2]).mean("val_acc"), 0.92)


def test_registered_kinds_and_errors():
    g, geno = _genome(), random_genotype(0)
    assert as_retrainable(g) == RetrainableGenome(g)  # the method's default network
    assert as_retrainable(geno).genotype == geno and as_retrainable(geno).C == 16
    arch = RetrainableGenome(g, NET)
    assert as_retrainable(arch) is arch
    with pytest.raises(ConfigError, match=r"registered kinds \['Genome', 'Genotype'\]"):
        as_retrainable("not an architecture")
    budget = tensor_budget(_data(), CFG, batch_size=8, seed=0, progress=False)
    with pytest.raises(ConfigError, match="at least one seed"):
        retrain(arch, budget, [])
    with pytest.raises(ConfigError, match="missing \\['test'\\]"):
        RetrainBudget(CFG, {"train": budget.loaders["train"]}, Encoder("direct", 2), 1, 4)
    with pytest.raises(ConfigError, match="TrainConfig"):
        RetrainBudget({"epochs": 1}, budget.loaders, Encoder("direct", 2), 1, 4)
    assert budget.batch_size == 8
