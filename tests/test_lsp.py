"""The LSP scorer (snnlib.nas.lsp) against a plain-loop oracle written from its definition."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from snnlib.layers import TimeDistributed
from snnlib.nas.lsp import (
    LSP_FITNESS,
    MATRICES,
    SCALARS,
    VARIANTS,
    lsp_matrices,
    lsp_scalars,
    lsp_score,
)
from snnlib.neurons import LIF
from snnlib.spikes import record_spikes
from snnlib.validation import ConfigError

EPS = 1e-6  # nn.PairwiseDistance's eps, and nn.CosineSimilarity's
NAN = float("nan")


# -- the oracle: plain loops over layers, steps, stimulus pairs and neurons -----------------
def _call(x: list[list[int]], variant: str) -> dict[str, list[list[float]]]:
    """The five matrices of one hook call (one layer, one time step), entry by entry."""
    B, N = len(x), len(x[0])
    out = {k: [[0.0] * B for _ in range(B)] for k in MATRICES}
    for i in range(B):
        for j in range(B):
            k11 = k10 = k01 = k00 = 0
            manhattan = 0.0
            for k in range(N):
                a, b = x[i][k], x[j][k]
                k11 += a * b
                k10 += a * (1 - b)
                k01 += (1 - a) * b
                k00 += (1 - a) * (1 - b)
                manhattan += abs(b - a + EPS)  # PairwiseDistance(x_j, x_i), eps added
            ni, nj = sum(x[i]), sum(x[j])
            # CosineSimilarity: each norm clamped to eps, so a silent stimulus gives 0
            cosine = k11 / (max(math.sqrt(ni), EPS) * max(math.sqrt(nj), EPS))
            # Pearson: centre each row on its mean, dot product over the norms
            ci = [v - ni / N for v in x[i]]
            cj = [v - nj / N for v in x[j]]
            num = sum(p * q for p, q in zip(ci, cj))
            den = math.sqrt(sum(p * p for p in ci)) * math.sqrt(sum(q * q for q in cj))
            pearson = num / den if den > 0 else NAN
            k11_j = k00 if variant == "as_released" else k11  # the released K11 bug
            den = k01 + k10 + k11_j
            jaccard = (k11_j + k00) / den if den > 0 else NAN
            si, sj = ni / N, nj / N
            kernel = N - 0.5 / (N * (si * (1 - sj) + (1 - si) * sj) + 1e-3) * (k01 + k10)
            for key, v in zip(
                ("jaccard", "hamming", "cosine", "pearson", "kernel"),
                (jaccard, manhattan, cosine, pearson, kernel),
            ):
                out[key][i][j] = v
    return out


def oracle_matrices(spikes: dict[str, torch.Tensor], variant: str) -> dict[str, np.ndarray]:
    sums, calls = None, 0
    for s in spikes.values():
        for step in s.tolist():  # [B, ...] per time step
            x = [[1 if v > 0 else 0 for v in np.ravel(row)] for row in step]
            m = _call(x, variant)
            if sums is None:
                sums = m
            else:
                for key in MATRICES:
                    for i, row in enumerate(m[key]):
                        for j, v in enumerate(row):
                            sums[key][i][j] += v  # NaN + anything stays NaN
            calls += 1
    out = {}
    for key in MATRICES:
        doubled = variant == "as_released" and key in ("jaccard", "kernel")
        m = np.array(sums[key]) / (2 * calls if doubled else calls)
        if variant == "corrected" or key not in ("jaccard", "kernel"):
            m = np.where(np.isnan(m), 0.0, m)
        out[key] = m
    return out


def _logabsdet(m: np.ndarray) -> float:
    return NAN if np.isnan(m).any() else float(np.linalg.slogdet(m)[1])


def oracle_scalars(batches: list[dict[str, torch.Tensor]], variant: str) -> dict[str, float]:
    per = []
    for spikes in batches:
        m = oracle_matrices(spikes, variant)
        per.append(
            {
                "lsp_jaccard_sum": math.fsum(m["jaccard"].ravel()),
                "lsp_jaccard_logdet": _logabsdet(m["jaccard"]),
                "lsp_hamming_sum": math.fsum(m["hamming"].ravel()),
                "lsp_cosine_sum": math.fsum(m["cosine"].ravel()),
                "lsp_pearson_sum": math.fsum(m["pearson"].ravel()),
                "lsp_kernel_logdet": _logabsdet(m["kernel"]),
            }
        )
    return {k: sum(p[k] for p in per) / len(per) for k in SCALARS}


def assert_close(a: float, b: float, what: str = "") -> None:
    if math.isnan(a) or math.isnan(b):
        assert math.isnan(a) and math.isnan(b), (what, a, b)
    else:
        assert a == pytest.approx(b, rel=1e-5, abs=1e-5), (what, a, b)


def assert_scalars_close(got: dict[str, float], want: dict[str, float]) -> None:
    assert set(got) == set(SCALARS)
    for k in SCALARS:
        assert_close(got[k], want[k], k)


# -- hand-made spikes -----------------------------------------------------------------------
def make_spikes(seed: int, fires_everywhere: bool) -> dict[str, torch.Tensor]:
    """2 layers (N = 4 as 2x2, N = 7), T = 3, B = 5. Layer ``a`` holds real values (spikes are
    the positive ones); stimuli 0 and 1 are silent in it at step 1. With ``fires_everywhere``,
    stimulus 4 fires at every neuron of layer ``b`` at step 2; otherwise no stimulus does."""
    g = torch.Generator().manual_seed(seed)
    a = (torch.rand(3, 5, 2, 2, generator=g) < 0.5).float()
    b = (torch.rand(3, 5, 7, generator=g) < 0.5).float()
    for s in (a.flatten(2), b):  # views: no accidental all-firing pattern
        full = s.sum(-1) == s.shape[-1]
        s[..., 0][full] = 0.0
    a[1, 0] = 0.0
    a[1, 1] = 0.0
    if fires_everywhere:
        b[2, 4] = 1.0
    noise = torch.rand(a.shape, generator=g)
    a = torch.where(a > 0, 0.5 + noise, -noise)  # binarised by > 0
    return {"a": a, "b": b}


REGULAR = [make_spikes(0, False), make_spikes(1, False)]
DEGENERATE = [make_spikes(2, True), make_spikes(3, True)]


# -- against the oracle ---------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("batches", [REGULAR, DEGENERATE], ids=["regular", "degenerate"])
def test_scalars_match_oracle(variant, batches):
    assert_scalars_close(lsp_scalars(batches, variant), oracle_scalars(batches, variant))


@pytest.mark.parametrize("variant", VARIANTS)
def test_matrices_match_oracle(variant):
    spikes = DEGENERATE[0]
    got, want = lsp_matrices(spikes, variant), oracle_matrices(spikes, variant)
    assert set(got) == set(MATRICES)
    for key in MATRICES:
        assert got[key].shape == (5, 5) and got[key].dtype == torch.float64
        np.testing.assert_allclose(got[key].numpy(), want[key], rtol=1e-9, atol=1e-9)


def test_fixtures_exercise_the_nan_rule():
    # regular: every scalar finite in both variants, so the comparisons are not NaN == NaN
    for variant in VARIANTS:
        assert all(math.isfinite(v) for v in lsp_scalars(REGULAR, variant).values())
    # silent stimuli 0 and 1 (layer a, step 1): their Pearson rows are 0 after the NaN rule
    for variant in VARIANTS:
        p = lsp_matrices(REGULAR[0], variant)["pearson"]
        assert p[:2].abs().sum() == 0 and p[:, :2].abs().sum() == 0
        assert p[2:, 2:].abs().sum() > 0
        c = lsp_matrices(REGULAR[0], variant)["cosine"]  # eps-clamped: 0 at that call only
        assert (c[:2] > 0).all()
    # corrected: both silent at one call -> Jaccard undefined -> 0; others are not
    j = lsp_matrices(REGULAR[0], "corrected")["jaccard"]
    assert (j[:2, :2] == 0).all() and (j[2:, :] > 0).all()
    # stimulus 4 fires everywhere (layer b, step 2): released Jaccard 0/0 at (4, 4), kept NaN
    released = lsp_matrices(DEGENERATE[0], "as_released")
    assert torch.isnan(released["jaccard"][4, 4])
    assert torch.isnan(released["jaccard"]).sum() == 1
    s = lsp_scalars(DEGENERATE, "as_released")
    assert math.isnan(s["lsp_jaccard_sum"]) and math.isnan(s["lsp_jaccard_logdet"])
    assert all(math.isfinite(s[k]) for k in SCALARS if "jaccard" not in k)
    assert released["pearson"][4].abs().sum() == 0  # zero variance: NaN -> 0
    assert all(math.isfinite(v) for v in lsp_scalars(DEGENERATE, "corrected").values())


# -- every layer and every step counts ------------------------------------------------------
def _without_layer(spikes, name):
    return {k: v for k, v in spikes.items() if k != name}


def _without_step(spikes, name, t):
    keep = [i for i in range(spikes[name].shape[0]) if i != t]
    return {k: (v[keep] if k == name else v) for k, v in spikes.items()}


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_layer_and_step_counts(variant):
    full = lsp_scalars(REGULAR, variant)
    for name in ("a", "b"):
        reduced = [_without_layer(s, name) for s in REGULAR]
        got = lsp_scalars(reduced, variant)
        assert_scalars_close(got, oracle_scalars(reduced, variant))
        for k in ("lsp_hamming_sum", "lsp_cosine_sum", "lsp_kernel_logdet"):
            assert abs(got[k] - full[k]) > 1e-3, (name, k)
        # the oracle with a layer left out does not match the full implementation
        missing = oracle_scalars(reduced, variant)
        assert abs(missing[LSP_FITNESS] - full[LSP_FITNESS]) > 1e-3
        for t in range(3):
            reduced = [_without_step(s, name, t) for s in REGULAR]
            got = lsp_scalars(reduced, variant)
            assert abs(got[LSP_FITNESS] - full[LSP_FITNESS]) > 1e-3, (name, t)
            assert abs(got["lsp_kernel_logdet"] - full["lsp_kernel_logdet"]) > 1e-6, (name, t)
    assert_scalars_close(
        lsp_scalars(REGULAR[:1], variant), oracle_scalars(REGULAR[:1], variant)
    )  # each mini-batch on its own; the mean of two differs from either
    assert lsp_scalars(REGULAR[:1], variant) != full


def test_layer_order_and_shape_do_not_matter():
    spikes = REGULAR[0]
    swapped = {"b": spikes["b"], "a": spikes["a"].flatten(2)}
    for variant in VARIANTS:
        assert_scalars_close(lsp_scalars([swapped], variant), lsp_scalars([spikes], variant))


# -- the two released bugs ------------------------------------------------------------------
def test_variants_differ_by_the_documented_bugs():
    # one call, N = 4: x0 = 1110, x1 = 1100. (0, 1): K11 = 2, K10 = 1, K01 = 0, K00 = 1;
    # (0, 0): K11 = 3, K00 = 1; (1, 1): K11 = 2, K00 = 2
    x = torch.tensor([[[1.0, 1, 1, 0], [1, 1, 0, 0]]])
    released = lsp_matrices({"l": x}, "as_released")["jaccard"]
    corrected = lsp_matrices({"l": x}, "corrected")["jaccard"]
    # corrected (K11 + K00) / (K01 + K10 + K11); released 2 K00 / (K01 + K10 + K00) / 2
    assert corrected.flatten().tolist() == pytest.approx([4 / 3, 1.0, 1.0, 2.0])
    assert released.flatten().tolist() == pytest.approx([1.0, 0.5, 0.5, 1.0])
    for batches in (REGULAR, DEGENERATE):
        for spikes in batches:
            r = lsp_matrices(spikes, "as_released")
            c = lsp_matrices(spikes, "corrected")
            torch.testing.assert_close(r["kernel"], c["kernel"] / 2, rtol=1e-12, atol=0)
            for key in ("hamming", "cosine", "pearson"):
                torch.testing.assert_close(r[key], c[key], rtol=0, atol=0)
        # the doubled counter halves K: log|det(K / 2)| = log|det K| - B log 2
        r, c = lsp_scalars(batches, "as_released"), lsp_scalars(batches, "corrected")
        assert r["lsp_kernel_logdet"] == pytest.approx(c["lsp_kernel_logdet"] - 5 * math.log(2))
    r, c = lsp_scalars(REGULAR, "as_released"), lsp_scalars(REGULAR, "corrected")
    assert abs(r["lsp_jaccard_sum"] - c["lsp_jaccard_sum"]) > 1.0


def test_released_building_blocks():
    """The per-call matrices equal torch's modules that the released hook calls, row by row."""
    g = torch.Generator().manual_seed(5)
    x = (torch.rand(6, 40, generator=g) < 0.3).float()
    x[2] = 0.0  # silent: cosine 0 (eps clamp), Pearson NaN (-> 0 with one call)
    m = lsp_matrices({"l": x.unsqueeze(0)}, "corrected")
    man, cos = torch.zeros(6, 6), torch.zeros(6, 6)
    for i in range(6):
        temp = x[i].repeat(6, 1)
        man[i] = nn.PairwiseDistance(p=1)(x, temp)
        cos[i] = nn.CosineSimilarity(dim=1, eps=1e-6)(x, temp)
    pearson = torch.corrcoef(x / torch.norm(x, dim=-1, keepdim=True))
    pearson = torch.where(torch.isnan(pearson), torch.zeros_like(pearson), pearson)
    torch.testing.assert_close(m["hamming"].float(), man, rtol=1e-6, atol=1e-5)
    torch.testing.assert_close(m["cosine"].float(), cos, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(m["pearson"].float(), pearson, rtol=1e-5, atol=1e-5)
    assert m["cosine"][2].abs().sum() == 0 and m["pearson"][2].abs().sum() == 0
    # Pearson is unchanged by the L2 normalisation of the non-silent rows
    live = x[[0, 1, 3, 4, 5]].numpy()
    np.testing.assert_allclose(
        np.corrcoef(live), np.corrcoef(live / np.linalg.norm(live, axis=1, keepdims=True))
    )


# -- errors ---------------------------------------------------------------------------------
def test_bad_variant_names_field_and_choices():
    for call in (
        lambda: lsp_matrices(REGULAR[0], "fixed"),
        lambda: lsp_scalars(REGULAR, "fixed"),
        lambda: lsp_score(nn.Sequential(LIF()), [torch.rand(2, 3, 4)], "fixed"),
    ):
        with pytest.raises(ConfigError, match=r"variant='fixed'.*as_released.*corrected"):
            call()


def test_bad_inputs():
    with pytest.raises(ConfigError, match="at least one layer"):
        lsp_matrices({})
    with pytest.raises(ConfigError, match="stimuli"):
        lsp_matrices({"a": torch.ones(2, 3, 4), "b": torch.ones(2, 4, 4)})
    with pytest.raises(ConfigError, match=r"\[T, B, \.\.\.\]"):
        lsp_matrices({"a": torch.ones(2, 3)})
    with pytest.raises(ConfigError, match="mini-batch"):
        lsp_scalars([])


# -- a tiny real spiking network ------------------------------------------------------------
def test_score_of_a_tiny_untrained_network():
    torch.manual_seed(0)
    net = nn.Sequential(
        TimeDistributed(nn.Linear(6, 32), nn.BatchNorm1d(32)),
        LIF(),
        TimeDistributed(nn.Linear(32, 24), nn.BatchNorm1d(24)),
        LIF(),
    )
    batches = [torch.randn(4, 8, 6), torch.randn(4, 8, 6)]  # [T, B, features]
    before = [b.clone() for b in net.buffers()]
    for variant in VARIANTS:
        score = lsp_score(net, batches, variant)
        assert set(score) == set(SCALARS)
        assert all(math.isfinite(v) for v in score.values()), score
        recorded = [record_spikes(net, x) for x in batches]
        assert [tuple(s.shape) for s in recorded[0].values()] == [(4, 8, 32), (4, 8, 24)]
        assert score == lsp_scalars(recorded, variant)
        assert_scalars_close(score, oracle_scalars(recorded, variant))
    assert net.training  # left as it was; batch norm running statistics untouched
    assert all(torch.equal(a, b) for a, b in zip(before, net.buffers()))
    # batch statistics even when handed a model in eval mode: the same score
    net.eval()
    assert lsp_score(net, batches) == lsp_scalars([record_spikes(net, x) for x in batches])
    assert not net.training
