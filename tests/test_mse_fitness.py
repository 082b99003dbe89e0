"""MSE-NAS's search fitness: the authors' scorer by default (a score of the NAS core's proxy
registry), this book's label-target RDM as a named variant."""

import numpy as np
import pytest
import torch

from snnlib.mse.decode import NetConfig
from snnlib.mse.experiment import (
    TensorData,
    fitness_choices,
    probe_batches,
    rdm_evaluator,
    search_fitness,
    silent_share,
)
from snnlib.mse.fitness import DEFAULT_FITNESS, DataSpec, ProxyEvaluator, build_candidate
from snnlib.mse.genome import SearchSpace, random_genome
from snnlib.nas.lsp import lsp_score
from snnlib.nas.rdm import RDMConfig
from snnlib.validation import ConfigError

NET = NetConfig(width=4, stem_stride=2)


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(4).repeat(30)  # 30 items of each of 4 classes, interleaved
    x = torch.rand(len(y), 1, 12, 12, generator=g) + 0.3 * y[:, None, None, None]
    return TensorData("toy", DataSpec(1, 4, "direct", 3), (x, y), (x[:8], y[:8]), (x[:8], y[:8]))


@pytest.fixture(scope="module")
def genomes():
    rng = np.random.default_rng(3)
    return [random_genome(rng, SearchSpace(n_cells=3)) for _ in range(3)]


def test_probe_batches_are_disjoint_class_balanced_and_ordered_by_class(data):
    xs, ys = probe_batches(data, n_per_class=3, repeats=2, seed=5)
    assert [len(y) for y in ys] == [12, 12]
    for y in ys:
        assert y.tolist() == sorted(y.tolist())
        assert torch.bincount(y, minlength=4).tolist() == [3, 3, 3, 3]
    rows = [tuple(r.flatten().tolist()) for x in xs for r in x]
    assert len(set(rows)) == 24  # no image in both batches
    again = probe_batches(data, 3, 2, seed=5)
    assert all(torch.equal(a, b) for a, b in zip(xs, again[0]))
    assert not torch.equal(xs[0], probe_batches(data, 3, 2, seed=6)[0][0])


def test_default_fitness_is_the_authors_hamming_sum_over_two_mini_batches(data, genomes):
    """Oracle: snnlib.nas.lsp.lsp_score (tested against a plain loop over stimuli, layers and
    steps in tests/test_lsp.py) on the same untrained network and the same two batches."""
    ev, record = search_fitness(data, DEFAULT_FITNESS, NET, n_per_class=3, seed=1)
    assert DEFAULT_FITNESS == "lsp_hamming_sum"
    assert record == {"fitness": "lsp_hamming_sum", "n_per_class": 3, "repeats": 2}
    xs, _ = probe_batches(data, 3, 2, seed=1)
    for g in genomes:
        model = build_candidate(g, 7, data.spec, NET)
        encoded = [data.spec.encoder()(x) for x in xs]
        expected = lsp_score(model, encoded)["lsp_hamming_sum"]
        assert ev(g, 7) == pytest.approx(expected, rel=1e-9)
        one = lsp_score(model, encoded[:1])["lsp_hamming_sum"]
        assert one != pytest.approx(expected, rel=1e-9)  # the second batch counts


def test_default_fitness_reads_no_labels_and_is_seeded(data, genomes):
    ev, _ = search_fitness(data, DEFAULT_FITNESS, NET, n_per_class=3, seed=1)
    assert ev.label_free and ev.target_panels() == {}
    shuffled = ProxyEvaluator(ev.batches, [y.flip(0) for y in ev.labels], ev.data, net=NET)
    g = genomes[0]
    assert shuffled(g, 0) == ev(g, 0)
    assert ev(g, 0) == ev(g, 0)
    assert ev(g, 0) != ev(g, 1)  # the seed draws the weights
    m = ev.matrix(g, 0)
    assert m.shape == (12, 12) and len(ev.picture_labels) == 12


def test_a_registry_score_that_reads_labels_and_the_rdm_variant(data, genomes):
    ev, _ = search_fitness(data, "rdm correlation/spearman/mean", NET, n_per_class=3, seed=1)
    assert not ev.label_free
    g = genomes[1]
    assert np.isfinite(ev(g, 0))
    rdm, record = search_fitness(data, "rdm", NET, n_per_class=3, rdm=RDMConfig(), seed=1)
    assert record["fitness"] == "rdm" and record["n_per_class"] == 3
    direct = rdm_evaluator(data, RDMConfig(n_per_class=3), NET, seed=1)
    assert rdm(g, 0) == direct(g, 0)
    assert set(rdm.target_panels()) == {"target: ideal categorical RDM"}


def test_bad_fitness_settings_are_refused_by_name(data):
    assert "rdm" in fitness_choices() and DEFAULT_FITNESS in fitness_choices()
    with pytest.raises(ConfigError, match="fitness"):
        search_fitness(data, "accuracy", NET, n_per_class=3)
    with pytest.raises(ConfigError, match="repeats"):
        search_fitness(data, DEFAULT_FITNESS, NET, n_per_class=3, repeats=0)
    with pytest.raises(ConfigError, match="n_per_class"):
        search_fitness(data, DEFAULT_FITNESS, NET, n_per_class=0)
    with pytest.raises(ConfigError, match="batches"):
        ProxyEvaluator([], [], data.spec)


def test_silent_share_counts_networks_whose_output_never_fires(data, genomes):
    ev, _ = search_fitness(data, DEFAULT_FITNESS, NET, n_per_class=3, seed=1)
    fires = [ev.output_fires(g, 0) for g in genomes]
    assert silent_share(ev, genomes, 0) == pytest.approx(1 - np.mean(fires))
    with pytest.raises(ConfigError, match="at least one"):
        silent_share(ev, [], 0)
