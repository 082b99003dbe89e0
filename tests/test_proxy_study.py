import math

import numpy as np
import pytest
from scipy import stats

from snnlib.nas.ranking import (
    bootstrap,
    finite_floor,
    kendall_tau,
    percentile_ci,
    rank_study,
    spearman_rho,
    study_table,
    top_hit_rate,
)
from snnlib.validation import ConfigError


def _data(n=40, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    a = rng.random(n)
    s = a + 0.5 * rng.standard_normal(n)
    if ties:
        a, s = np.round(a, 1), np.round(s, 1)
    return s, a


@pytest.mark.parametrize("ties", [False, True])
def test_tau_rho_match_scipy(ties):
    s, a = _data(ties=ties)
    assert kendall_tau(s, a) == pytest.approx(stats.kendalltau(s, a).statistic, abs=1e-12)
    assert spearman_rho(s, a) == pytest.approx(stats.spearmanr(s, a).statistic, abs=1e-12)


def test_batched_equals_rowwise():
    rng = np.random.default_rng(1)
    S, A = rng.integers(0, 5, (6, 15)).astype(float), rng.random((6, 15))
    for i in range(6):
        assert kendall_tau(S, A)[i] == pytest.approx(stats.kendalltau(S[i], A[i]).statistic)
        assert spearman_rho(S, A)[i] == pytest.approx(stats.spearmanr(S[i], A[i]).statistic)


def test_perfect_and_reversed():
    a = np.linspace(0.1, 0.9, 30)
    r = rank_study(a**3, a, n_boot=200)
    assert r["tau"] == 1.0 and r["rho"] == pytest.approx(1.0) and r["hit_rate"] == 1.0
    r = rank_study(-a, a, n_boot=200)
    assert r["tau"] == -1.0 and r["rho"] == pytest.approx(-1.0) and r["hit_rate"] == 0.0


def test_perfect_score_with_tied_accuracies_hits_all():
    a = np.array([0.1, 0.5, 0.5, 0.5, 0.2, 0.3, 0.1, 0.4, 0.2, 0.3, 0.1, 0.2])
    assert top_hit_rate(a, a, 0.1) == 1.0


def test_constant_score_is_nan_and_chance():
    a = np.linspace(0, 1, 20)
    r = rank_study(np.ones(20), a, n_boot=100)
    assert (
        math.isnan(r["tau"]) and math.isnan(r["rho"]) and math.isnan(r["tau_lo"]) and r["constant"]
    )
    assert r["hit_rate"] == pytest.approx(r["chance"]) == pytest.approx(0.1)


def test_ci_contains_estimate_and_narrows():
    widths = []
    for n in (20, 320):
        s, a = _data(n, seed=3)
        r = rank_study(s, a, n_boot=1000, seed=0)
        assert r["tau_lo"] <= r["tau"] <= r["tau_hi"]
        assert r["rho_lo"] <= r["rho"] <= r["rho_hi"]
        widths.append(r["tau_hi"] - r["tau_lo"])
    assert widths[1] < 0.6 * widths[0]


def test_determinism_by_seed():
    s, a = _data(25)
    b1 = bootstrap(kendall_tau, s, a, 300, seed=7)
    assert np.array_equal(b1, bootstrap(kendall_tau, s, a, 300, seed=7))
    assert not np.array_equal(b1, bootstrap(kendall_tau, s, a, 300, seed=8))
    assert rank_study(s, a, 300, seed=7) == rank_study(s, a, 300, seed=7)


def test_chunking_does_not_change_bootstrap():
    s, a = _data(25)
    assert np.array_equal(
        bootstrap(spearman_rho, s, a, 300, seed=1, chunk=7),
        bootstrap(spearman_rho, s, a, 300, seed=1, chunk=1000),
    )


def test_hit_rate_counts():
    a = np.arange(20.0)  # top-2 = items 18, 19
    s = a.copy()
    s[19] = -1  # score keeps 18, replaces 19 by 17
    assert top_hit_rate(s, a, 0.1) == 0.5


def test_table_sorted_nan_last_and_floor():
    s, a = _data(30)
    df = study_table({"good": a, "noisy": s, "const": np.zeros(30)}, a, n_boot=100)
    assert list(df.index) == ["good", "noisy", "const"]
    v = finite_floor([1.0, -np.inf, 3.0])
    assert np.isfinite(v).all() and v[1] < 1.0
    assert percentile_ci(np.array([np.nan])) != percentile_ci(np.array([0.0]))


def test_bad_input():
    with pytest.raises(ConfigError):
        kendall_tau([1.0, 2.0], [1.0])
    with pytest.raises(ConfigError):
        spearman_rho([1.0, np.inf], [1.0, 2.0])


def test_paired_difference():
    from snnlib.nas.ranking import paired_difference

    s, a = _data(60, seed=5)
    d = paired_difference(kendall_tau, a, s, a, n_boot=500, seed=0)
    assert d["diff"] == pytest.approx(1.0 - kendall_tau(s, a))
    assert 0 < d["lo"] <= d["diff"] <= d["hi"]
    same = paired_difference(kendall_tau, s, s, a, n_boot=200)
    assert same == {"diff": 0.0, "lo": 0.0, "hi": 0.0}


def test_kendall_tau_of_many_architectures_equals_the_pairwise_formula(monkeypatch):
    """Above PAIRWISE_MAX_N the tau comes from scipy's sort-based algorithm, row by row: the
    same tau_b as all pairs, ties (and bootstrap duplicates) included."""
    from snnlib.nas import ranking

    rng = np.random.default_rng(1)
    s = rng.normal(size=(4, 300))
    a = np.round(s + rng.normal(size=(4, 300)), 1)
    s[:, :40] = np.round(s[:, :40])
    fast = ranking.kendall_tau(s, a)
    monkeypatch.setattr(ranking, "PAIRWISE_MAX_N", 10**9)
    assert np.allclose(fast, ranking.kendall_tau(s, a), atol=1e-12, rtol=0)
