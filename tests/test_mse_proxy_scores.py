"""The proxy study's scoring loop and recommendation rule, against independent computations."""

import numpy as np
import pandas as pd
import pytest
import torch

from snnlib.mse.baselines import SAHDEvaluator
from snnlib.mse.decode import NetConfig
from snnlib.mse.fitness import DataSpec, RDMEvaluator
from snnlib.mse.genome import SearchSpace
from snnlib.mse.proxy_scores import (
    LEFT_OUT,
    ProxyScorer,
    default_variant,
    interval_table,
    probe_label,
    recommend_rdm,
    shown_name,
    study_proxies,
)
from snnlib.mse.sampling import sample_genomes
from snnlib.nas.proxies import (
    PROXIES,
    mean_firing_rate,
    parameter_count,
    random_score,
    register_proxy,
)
from snnlib.nas.ranking import kendall_tau, paired_difference, study_table
from snnlib.nas.rdm import RDM_VARIANTS, RDMConfig
from snnlib.spikes import record_spikes
from snnlib.validation import ConfigError

DATA = DataSpec(1, 4, "direct", 2)
NET = NetConfig(width=4, stem_stride=2)
DEFAULT = "rdm correlation/spearman/mean"
VARIANTS = {
    "rdm correlation/spearman/mean": RDMConfig(),
    "rdm euclidean/kendall/mean": RDMConfig(metric="euclidean", comparison="kendall"),
    "rdm hamming/spearman/last": RDMConfig(metric="hamming", aggregation="last"),
}


def _data(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(4).repeat(n // 4)
    return torch.randn(len(y), 1, 16, 16, generator=g) + y[:, None, None, None], y


def _scorer():
    x, y = _data()
    return ProxyScorer.of_probes(
        x, y, DATA, NET, probes=(2,), default_probe=3, num_classes=4, sahd_x=x[:9], seed=1
    )


def test_scores_equal_each_evaluator_called_on_its_own():
    scorer = _scorer()
    genomes = sample_genomes(np.random.default_rng(0), SearchSpace(n_cells=3), 3)
    out = scorer.score(genomes, seed=5, progress=False)
    small = probe_label(2, 4)
    shown = [shown_name(n) for n in study_proxies()[9:]]
    assert shown == ["sahd", "parameters", "firing rate", "random"]
    assert list(out.scores) == [*RDM_VARIANTS, small, *shown]
    assert scorer.default_name == "rdm correlation/spearman/mean"
    ev = scorer.evaluator
    assert len(ev.y) == 12 and ev.y.bincount().tolist() == [3, 3, 3, 3]
    for name, cfg in RDM_VARIANTS.items():  # one evaluator of that configuration per variant:
        own = RDMEvaluator(ev.x, ev.y, DATA, cfg, NET)  # equal to the last bit
        assert out.scores[name] == [own(g, 5) for g in genomes], name
    assert out.scores[small] == [scorer.probe_evaluators[2](g, 5) for g in genomes]
    sahd = SAHDEvaluator(_data()[0][:8], DATA, net=NET)  # 9 images: two batches of 4
    assert out.scores["sahd"] == [sahd(g, 5) for g in genomes]
    assert out.scores["random"] == [random_score(g.hash(), 5) for g in genomes]
    models = [ev.build(g, 5) for g in genomes]
    assert out.scores["parameters"] == [parameter_count(m) for m in models]
    fr = [mean_firing_rate(m, DATA.encoder()(ev.x)) for m in models]
    assert out.scores["firing rate"] == fr
    assert set(out.probe_seconds) == {3, 2} and all(s > 0 for s in out.probe_seconds.values())
    assert out.seconds >= sum(out.probe_seconds.values()) * len(genomes)
    assert out.non_finite() == {k: int((~np.isfinite(v)).sum()) for k, v in out.scores.items()}


def test_a_registered_score_reaches_the_study_with_one_call():
    genomes = sample_genomes(np.random.default_rng(0), SearchSpace(n_cells=3), 3)
    scorer = _scorer()
    assert "total_spikes" not in scorer.names()
    register_proxy(
        "total_spikes",
        lambda run: float(sum(c.sum() for c in run.counts.values())),
        ("counts",),
        "spikes of all LIF layers on the probe",
    )
    try:
        out = scorer.score(genomes, seed=5, progress=False)
        ev = scorer.evaluator
        spikes = [
            sum(
                float(s.sum()) for s in record_spikes(ev.build(g, 5), DATA.encoder()(ev.x)).values()
            )
            for g in genomes
        ]
        assert out.scores["total_spikes"] == spikes and min(spikes) >= 0
        assert list(out.scores)[-1] == "total_spikes"
        acc = np.array([0.2, 0.5, 0.9])
        table = study_table(out.scores, acc, n_boot=50)
        assert "total_spikes" in table.index
    finally:
        del PROXIES["total_spikes"]
    assert "total_spikes" not in _scorer().names()
    # a scorer given its registry names scores those only
    only = ProxyScorer(**{**_scorer().__dict__, "proxies": ["random", DEFAULT]})
    assert only.names() == [DEFAULT, probe_label(2, 4), "random"]
    values = only.score(genomes, seed=5, progress=False).scores
    assert values["random"] == out.scores["random"] and values[DEFAULT] == out.scores[DEFAULT]


def test_scorer_checks_its_evaluators():
    s = _scorer()
    bad = RDMEvaluator(s.evaluator.x, s.evaluator.y, DATA, RDMConfig(metric="hamming"), NET)
    with pytest.raises(ConfigError, match=r"probe_evaluators\[3\].*default configuration"):
        ProxyScorer(**{**s.__dict__, "probe_evaluators": {3: bad}})
    with pytest.raises(ConfigError, match="default probe 4"):
        ProxyScorer(**{**s.__dict__, "default_probe": 4})
    with pytest.raises(ConfigError, match="label-free"):
        ProxyScorer(
            **{**s.__dict__, "own_batches": {"rdm correlation/spearman/mean": [s.evaluator.x]}}
        )
    with pytest.raises(ConfigError, match="proxy='snip'"):
        ProxyScorer(**{**s.__dict__, "proxies": ["snip"]})
    with pytest.raises(ConfigError, match="RDMConfig()"):
        default_variant({"rdm x": RDMConfig(metric="euclidean")})
    assert shown_name("firing_rate") == "firing rate" and shown_name("naswot") == "naswot"
    assert not set(LEFT_OUT) & set(study_proxies()) and set(LEFT_OUT) <= set(PROXIES)


def _study(seed, best_noise, default_noise, n=40):
    rng = np.random.default_rng(seed)
    acc = rng.random(n)
    scores = {
        "rdm correlation/spearman/mean": acc + default_noise * rng.standard_normal(n),
        "rdm euclidean/kendall/mean": acc + best_noise * rng.standard_normal(n),
        "rdm hamming/spearman/last": np.ones(n),  # constant: NaN tau, never the best
        "sahd": acc,  # a perfect non-RDM score does not count
    }
    return study_table(scores, acc, n_boot=300, seed=0), scores, acc


def test_recommendation_rule():
    table, scores, acc = _study(0, best_noise=0.05, default_noise=1.0)
    rec = recommend_rdm(table, VARIANTS, scores, acc, n_boot=300, seed=0)
    assert rec.best == "rdm euclidean/kendall/mean" and rec.config == VARIANTS[rec.best]
    assert rec.difference == paired_difference(
        kendall_tau, scores[rec.best], scores[rec.default], acc, n_boot=300, seed=0
    )
    assert rec.difference["lo"] > 0
    assert rec.advice == (
        "switch the MSE-NAS default to RDMConfig(metric='euclidean', comparison='kendall', "
        "aggregation='mean')"
    )
    # a better variant on few architectures: its interval contains 0, keep the default
    table, scores, acc = _study(0, best_noise=0.30, default_noise=0.31, n=12)
    rec = recommend_rdm(table, VARIANTS, scores, acc, n_boot=300, seed=0)
    assert rec.best == "rdm euclidean/kendall/mean" and rec.difference["diff"] > 0
    assert rec.difference["lo"] <= 0 < rec.difference["hi"]
    assert rec.advice == (
        "keep the default RDMConfig(): the paired interval of the difference contains 0"
    )
    # the default is the best
    table, scores, acc = _study(2, best_noise=1.0, default_noise=0.05)
    rec = recommend_rdm(table, VARIANTS, scores, acc, n_boot=300, seed=0)
    assert rec.best == rec.default and rec.advice == "keep the default RDMConfig()"
    # no finite tau (a ground truth without spread): nothing to rank by, keep the default
    rec = recommend_rdm(table.drop(index=list(VARIANTS)), VARIANTS, scores, acc, n_boot=10)
    assert rec.best == rec.default and np.isnan(rec.difference["diff"])
    assert rec.advice.startswith("keep the default") and "finite" in rec.advice


def test_interval_table():
    table = pd.DataFrame(
        {
            "tau": [0.5, np.nan],
            "tau_lo": [0.25, np.nan],
            "tau_hi": [0.75, np.nan],
            "rho": [0.6, np.nan],
            "rho_lo": [0.4, np.nan],
            "rho_hi": [0.8, np.nan],
            "hit_rate": [1.0, 0.0],
        },
        index=["a", "b"],
    )
    shown = interval_table(table, "score", top=0.1)
    assert shown.index.name == "score" and list(shown.index) == ["a", "b"]
    assert shown.loc["a"].tolist() == ["+0.500 [+0.250, +0.750]", "+0.600 [+0.400, +0.800]", "1.00"]
    assert shown.loc["b", "Kendall tau [95% CI]"] == "NaN (constant score)"
    assert list(interval_table(table, "score").columns) == [
        "Kendall tau [95% CI]",
        "Spearman rho [95% CI]",
    ]
