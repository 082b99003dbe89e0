"""RDM fitness: RDMs and comparisons cross-checked against rsatoolbox and scipy; behaviour on
ideal, separated and shuffled responses; the evaluator is deterministic."""

import numpy as np
import pytest
import rsatoolbox
import torch
from scipy.spatial.distance import pdist, squareform
from scipy.stats import kendalltau, rankdata

from snnlib.mse.decode import NetConfig, build_network
from snnlib.mse.fitness import DataSpec, RDMEvaluator, class_balanced
from snnlib.mse.genome import SearchSpace, random_genome
from snnlib.nas.rdm import (
    RDMConfig,
    aggregate,
    average_ranks,
    categorical_rdm,
    compare,
    compare_rows,
    layer_scores,
    rank_rows,
    rdm,
    record_responses,
    upper,
    upper_stack,
)
from snnlib.nas.seeding import derive_seed
from snnlib.spikes import ResponseRecorder, SpikeMonitor
from snnlib.validation import ConfigError


def _rsa_rdm(r: np.ndarray, method: str):
    return rsatoolbox.rdm.calc_rdm(rsatoolbox.data.Dataset(r), method=method)


def _rsa_vec(D: np.ndarray):
    return rsatoolbox.rdm.RDMs(squareform(D, checks=False)[None, :])


@pytest.fixture
def responses():
    rng = np.random.default_rng(0)
    # spike-count-like responses: non-negative integers with varied rates
    return rng.poisson(rng.uniform(0.2, 3.0, size=(40, 1)), size=(40, 60)).astype(float)


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
def test_rdm_matches_rsatoolbox(responses, metric):
    ours = rdm(torch.tensor(responses), metric).numpy()
    ref = _rsa_rdm(responses, metric).get_matrices()[0]
    np.testing.assert_allclose(ours, ref, atol=1e-9)
    np.testing.assert_allclose(
        upper(torch.tensor(ours)).numpy(), _rsa_rdm(responses, metric).get_vectors()[0], atol=1e-9
    )


def test_hamming_matches_scipy():
    rng = np.random.default_rng(1)
    b = (rng.random((30, 200)) < 0.2).astype(float)
    ours = rdm(torch.tensor(b), "hamming").numpy()
    np.testing.assert_allclose(ours, squareform(pdist(b, "hamming")), atol=1e-12)


def test_silent_sample_has_correlation_distance_one():
    r = torch.zeros(3, 5, dtype=torch.float64)
    r[1, 0] = r[2, 1] = 1.0
    D = rdm(r, "correlation")
    assert torch.isfinite(D).all()
    assert D[0, 1] == 1.0 and D[0, 2] == 1.0 and D[0, 0] == 0.0


def test_average_ranks_match_scipy_rankdata_with_ties():
    v = torch.tensor([3.0, 1.0, 2.0, 3.0, 1.0, 1.0, 5.0])
    np.testing.assert_array_equal(average_ranks(v).numpy(), rankdata(v.numpy()))


def test_rank_rows_matches_scipy_row_by_row():
    rng = np.random.default_rng(3)
    v = rng.integers(0, 6, size=(8, 50)).astype(float)  # many ties, as in spike-count RDMs
    v[2] = 4.0  # a constant row
    np.testing.assert_array_equal(rank_rows(torch.tensor(v)).numpy(), rankdata(v, axis=1))


@pytest.mark.parametrize("method", ["spearman", "pearson", "kendall"])
def test_compare_rows_equals_compare_of_each_row(method):
    rng = np.random.default_rng(4)
    target = upper(categorical_rdm(torch.tensor(np.repeat(np.arange(4), 6))))
    u = torch.tensor(rng.integers(0, 5, size=(5, target.numel())).astype(float))
    u[1] = 2.0  # constant: scores 0
    got = compare_rows(u, target, method)
    want = [compare(row, target, method) for row in u]
    np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
    assert got[1] == 0.0 and bool((got[[0, 2, 3, 4]] != 0).all())
    assert (compare_rows(u, torch.ones_like(target), method) == 0).all()  # constant target


def test_layer_scores_equal_one_rdm_per_layer(responses):
    rng = np.random.default_rng(5)
    layers = {
        "a": torch.tensor(responses),
        "b": torch.tensor(rng.poisson(1.0, size=(40, 17)).astype(float)),
        "c": torch.tensor(responses[:, :13]),
    }
    target = categorical_rdm(torch.tensor(np.repeat(np.arange(4), 10)))
    for metric in ("correlation", "euclidean", "hamming"):
        stack = upper_stack(layers, metric)
        assert stack.shape == (3, 40 * 39 // 2)
        for row, r in zip(stack, layers.values()):
            assert torch.equal(row, upper(rdm(r, metric)))
        cfg = RDMConfig(metric=metric)
        scores = layer_scores(layers, target, cfg)
        assert list(scores) == ["a", "b", "c"]
        for k, r in layers.items():
            assert scores[k] == pytest.approx(
                compare(upper(rdm(r, metric)), upper(target)), abs=1e-12
            )


@pytest.mark.parametrize(
    "method, rsa_method", [("spearman", "spearman"), ("kendall", "tau-a"), ("pearson", "corr")]
)
def test_comparisons_match_rsatoolbox(responses, method, rsa_method):
    labels = np.repeat(np.arange(4), 10)
    target = categorical_rdm(torch.tensor(labels)).numpy()
    model = _rsa_rdm(responses, "correlation")
    ours = compare(upper(rdm(torch.tensor(responses))), upper(torch.tensor(target)), method)
    ref = rsatoolbox.rdm.compare(model, _rsa_vec(target), method=rsa_method)[0, 0]
    assert ours == pytest.approx(ref, abs=1e-6)
    # two continuous RDMs (the general, all-pairs path of tau-a)
    other = _rsa_rdm(np.random.default_rng(2).random((40, 30)), "euclidean")
    ours = compare(
        torch.tensor(model.get_vectors()[0]), torch.tensor(other.get_vectors()[0]), method
    )
    ref = rsatoolbox.rdm.compare(model, other, method=rsa_method)[0, 0]
    assert ours == pytest.approx(ref, abs=1e-6)


def test_kendall_fast_and_pairwise_paths_agree():
    rng = np.random.default_rng(3)
    m = 150
    a = rng.integers(0, 6, m).astype(float)  # few levels -> Mann-Whitney path
    b = rng.normal(size=m)
    i, j = np.triu_indices(m, 1)
    con_dis = (np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])).sum()
    a, b = torch.tensor(a), torch.tensor(b)
    assert compare(a, b, "kendall") == pytest.approx(float(con_dis) / (m * (m - 1) / 2), abs=1e-9)
    c = torch.tensor(rng.normal(size=m))  # no ties -> tau-a = tau-b (scipy)
    assert compare(c, b, "kendall") == pytest.approx(kendalltau(c.numpy(), b.numpy())[0], abs=1e-9)


def test_ideal_categorical_rdm():
    y = torch.tensor([0, 0, 1, 2, 1])
    D = categorical_rdm(y)
    expected = torch.tensor(
        [[0, 0, 1, 1, 1], [0, 0, 1, 1, 1], [1, 1, 0, 1, 0], [1, 1, 1, 0, 1], [1, 1, 0, 1, 0]],
        dtype=torch.float64,
    )
    assert torch.equal(D, expected)


def test_constant_rdm_scores_zero():
    t = upper(categorical_rdm(torch.arange(10) % 2))
    assert compare(torch.ones_like(t), t, "spearman") == 0.0
    with pytest.raises(ConfigError, match="differ in length"):
        compare(t[:-1], t)


@pytest.mark.parametrize("comparison", ["spearman", "kendall", "pearson"])
def test_separated_responses_score_near_max_and_shuffled_near_zero(comparison):
    rng = np.random.default_rng(4)
    n_cls, per = 10, 10
    y = torch.arange(n_cls).repeat_interleave(per)
    proto = rng.normal(size=(n_cls, 50)) * 3
    r = torch.tensor(proto[y.numpy()] + 0.1 * rng.normal(size=(len(y), 50)))
    target = categorical_rdm(y)
    t = upper(target)
    best = compare(t + 1e-9 * torch.arange(t.numel()), t, comparison)  # the maximum given the ties
    cfg = RDMConfig(comparison=comparison)
    score = aggregate({"layer": r}, target, cfg)
    # rank comparisons reach their maximum; Pearson also sees the spread of between-class distances
    assert score >= (0.99 * best if comparison != "pearson" else 0.8)
    shuffled = [
        aggregate(
            {"layer": r[torch.randperm(len(y), generator=torch.Generator().manual_seed(k))]},
            target,
            cfg,
        )
        for k in range(5)
    ]
    assert abs(float(np.mean(shuffled))) < 0.03


def test_aggregations():
    y = torch.arange(4).repeat_interleave(5)
    target = categorical_rdm(y)
    rng = np.random.default_rng(5)
    good = torch.tensor(np.eye(4)[y.numpy()] + 0.01 * rng.normal(size=(20, 4)))
    bad = torch.tensor(rng.normal(size=(20, 8)))
    resp = {"a": good, "b": bad}
    s = {
        a: aggregate(resp, target, RDMConfig(aggregation=a))
        for a in ("mean", "last", "max", "concat")
    }
    sg = aggregate({"a": good}, target, RDMConfig())
    sb = aggregate({"b": bad}, target, RDMConfig())
    assert s["mean"] == pytest.approx((sg + sb) / 2)
    assert s["last"] == pytest.approx(sb)
    assert s["max"] == pytest.approx(sg)
    assert -1 <= s["concat"] <= 1
    # a silent output layer (the last one) makes the whole network score 0, unless the gate is off
    silent = {"a": good, "head": torch.zeros(20, 6, dtype=torch.float64)}
    assert aggregate(silent, target, RDMConfig()) == 0.0
    assert aggregate(silent, target, RDMConfig(require_output_spikes=False)) == pytest.approx(
        sg / 2
    )


def test_config_errors():
    for kw, name in [
        ({"metric": "cosine"}, "rdm.metric"),
        ({"comparison": "tau-b"}, "rdm.comparison"),
        ({"aggregation": "sum"}, "rdm.aggregation"),
        ({"target": "input"}, "rdm.target"),
        ({"n_inits": 0}, "rdm.n_inits"),
        ({"n_per_class": 1}, "rdm.n_per_class"),
    ]:
        with pytest.raises(ConfigError, match=name):
            RDMConfig(**kw)


def _net(seed=0):
    g = random_genome(np.random.default_rng(seed), SearchSpace(n_cells=3))
    torch.manual_seed(seed)
    return g, build_network(g, 1, 4, NetConfig(width=4, stem_stride=2))


def test_recorded_responses_agree_with_spike_monitor():
    _, net = _net()
    x = torch.randn(4, 6, 1, 16, 16)
    net.train()
    with torch.no_grad(), SpikeMonitor(net) as mon:
        net(x)
    resp = record_responses(net, x)
    total = sum(float(v.sum()) for v in resp.values())
    assert total == pytest.approx(mon.report().nos * 6, rel=1e-6)
    assert all(v.shape[0] == 6 for v in resp.values())
    assert list(resp)[-1] == "head.lif"  # the last spiking layer comes last
    pat = record_responses(net, x, temporal=True)
    for k in resp:
        assert pat[k].shape[1] == 4 * resp[k].shape[1]
        assert set(pat[k].unique().tolist()) <= {0.0, 1.0}
        assert torch.equal(pat[k].view(6, 4, -1).sum(1), resp[k])
    with pytest.raises(ConfigError, match="temporal"):
        with ResponseRecorder(net) as rec:
            pass
        rec.patterns()


def test_evaluator_is_deterministic_and_seeded_by_genome():
    g, _ = _net(1)
    g2, _ = _net(2)
    x = torch.randn(12, 1, 16, 16)
    y = torch.arange(4).repeat_interleave(3)
    for cfg in (
        RDMConfig(n_per_class=3),
        RDMConfig(metric="hamming", comparison="kendall", n_inits=2, n_per_class=3),
    ):
        ev = RDMEvaluator(x, y, DataSpec(1, 4, "direct", 4), cfg, NetConfig(width=4, stem_stride=2))
        torch.manual_seed(123)
        f = ev(g, 0)
        torch.manual_seed(999)  # global RNG state must not matter
        assert ev(g, 0) == f
        assert -1 <= f <= 1
        assert ev(g, 1) != f or ev(g2, 0) != f
    assert derive_seed(0, g.hash()) != derive_seed(1, g.hash())
    assert derive_seed(0, g.hash(), 1) != derive_seed(0, g.hash(), 0)


def test_class_balanced_probe():
    y = torch.tensor([0, 1, 2] * 10)
    x = torch.arange(30.0)[:, None]
    px, py = class_balanced(x, y, 4, seed=0)
    assert py.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert torch.equal(y[px.flatten().long()], py)
    px2, _ = class_balanced(x, y, 4, seed=0)
    assert torch.equal(px, px2)
    with pytest.raises(ConfigError, match="class"):
        class_balanced(x, y, 11)
