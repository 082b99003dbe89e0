"""MSE-NAS genome and motif registry: validity under variation, serialisation, clear errors."""

import hashlib
import json

import numpy as np
import pytest

from snnlib.mse.genome import (
    DEFAULT_FAN_IN,
    DEFAULT_MOTIF,
    DEFAULT_TAU,
    DEFAULT_THRESHOLD,
    FAN_INS,
    CellGene,
    Genome,
    OpGene,
    SearchSpace,
    crossover,
    default_genome,
    default_ops,
    from_dict,
    from_json,
    gene_distance,
    mutate,
    random_genome,
    with_cell,
)
from snnlib.mse.motifs import MOTIFS, Edge, get_motif, motif
from snnlib.validation import ConfigError

SPACES = {
    "micro": SearchSpace(micro=True, meso=False, macro=False),
    "micro+meso": SearchSpace(micro=True, meso=True, macro=False),
    "all": SearchSpace(),
}


def test_registry_has_required_motifs():
    assert len(MOTIFS) >= 6
    for name in ("chain", "convergent", "divergent", "lateral_inhibition"):
        assert name in MOTIFS
    feedback = [m for m in MOTIFS.values() if m.has_feedback]
    assert len(feedback) >= 2
    assert any(-1 in m.default_signs for m in MOTIFS.values())
    for m in MOTIFS.values():
        assert m.validate() is m
        assert m.n_ops == len(m.default_signs) >= 1


def test_motif_validation_names_the_problem():
    with pytest.raises(ConfigError, match="feed-forward edge 1->0"):
        motif("bad", 2, [Edge("in0", 0), Edge(1, 0)])
    with pytest.raises(ConfigError, match="no feed-forward input"):
        motif("bad", 2, [Edge("in0", 0), Edge(1, 0, feedback=True)])
    with pytest.raises(ConfigError, match="src='x'"):
        motif("bad", 1, [Edge("x", 0)])
    with pytest.raises(ConfigError, match="not registered"):
        get_motif("nope")


@pytest.mark.parametrize("scales", list(SPACES))
def test_1000_mutations_and_crossovers_stay_valid(scales):
    space = SPACES[scales]
    rng = np.random.default_rng(1)
    pop = [random_genome(rng, space) for _ in range(10)]
    for k in range(1000):
        a, b = pop[rng.integers(len(pop))], pop[rng.integers(len(pop))]
        mode = "cell" if k % 2 else "gene"
        child = mutate(crossover(a, b, rng, space, mode), rng, 0.3, space)
        child.validate(space)  # raises if invalid or off the space
        pop[rng.integers(len(pop))] = child
    if scales != "all":
        for g in pop:
            assert all(c.fan_in == DEFAULT_FAN_IN and c.skips == () for c in g.cells)
    if scales == "micro":
        assert all(c.motif == DEFAULT_MOTIF for g in pop for c in g.cells)


def test_unsearched_scales_hold_defaults_and_searched_ones_vary():
    rng = np.random.default_rng(0)
    micro_only = [random_genome(rng, SPACES["micro"]) for _ in range(30)]
    assert {c.motif for g in micro_only for c in g.cells} == {DEFAULT_MOTIF}
    assert len({c.threshold for g in micro_only for c in g.cells}) > 1
    full = [random_genome(rng, SPACES["all"]) for _ in range(30)]
    assert len({c.motif for g in full for c in g.cells}) > 3
    assert {c.fan_in for g in full for c in g.cells} == set(FAN_INS)
    assert any(c.skips for g in full for c in g.cells)
    none = SearchSpace(micro=False, meso=False, macro=False)
    g = random_genome(rng, none)
    assert g == default_genome(none)
    c = g.cells[0]
    assert (c.threshold, c.tau) == (DEFAULT_THRESHOLD, DEFAULT_TAU)
    assert c.ops == default_ops(get_motif(DEFAULT_MOTIF))


def test_mutation_rate_zero_is_identity_and_one_changes():
    rng = np.random.default_rng(3)
    g = random_genome(rng, SPACES["all"])
    assert mutate(g, rng, 0.0, SPACES["all"]) == g
    assert gene_distance(mutate(g, rng, 1.0, SPACES["all"]), g) > 0.5
    with pytest.raises(ConfigError, match="mutation rate"):
        mutate(g, rng, 1.5, SPACES["all"])


def test_crossover_takes_genes_from_parents():
    rng = np.random.default_rng(4)
    space = SPACES["all"]
    a, b = random_genome(rng, space), random_genome(rng, space)
    for _ in range(20):
        child = crossover(a, b, rng, space, "cell")
        assert all(c in (ca, cb) for c, ca, cb in zip(child.cells, a.cells, b.cells))
        child = crossover(a, b, rng, space, "gene")
        for c, ca, cb in zip(child.cells, a.cells, b.cells):
            assert c.motif in (ca.motif, cb.motif)
            assert c.threshold in (ca.threshold, cb.threshold)
            assert c.fan_in in (ca.fan_in, cb.fan_in)
    assert crossover(a, a, rng, space) == a


def test_json_round_trip_and_stable_hash():
    rng = np.random.default_rng(5)
    for _ in range(50):
        g = random_genome(rng, SPACES["all"])
        text = g.to_json()
        back = from_json(text)
        assert back == g
        assert back.hash() == g.hash()
        assert from_json(json.loads(text)) == g
    canonical = json.dumps(g.to_dict(), sort_keys=True, separators=(",", ":"))
    assert g.hash() == hashlib.sha1(canonical.encode()).hexdigest()
    # equal genomes built separately hash equally; a one-gene change changes the hash
    g2 = Genome(
        tuple(
            CellGene(
                c.motif,
                tuple(OpGene(o.kernel, o.sign) for o in c.ops),
                c.threshold,
                c.tau,
                c.fan_in,
                tuple(c.skips),
            )
            for c in g.cells
        )
    )
    assert g2 == g and g2.hash() == g.hash() and hash(g2) == hash(g)
    flipped = with_cell(
        g, 0, threshold=[t for t in (0.25, 0.5, 1.0) if t != g.cells[0].threshold][0]
    )
    assert flipped.hash() != g.hash()
    # int vs float thresholds in a dict give the same genome and hash
    d = default_genome(SPACES["all"]).to_dict()
    d["cells"][0]["threshold"] = 1
    assert from_dict(d).hash() == with_cell(default_genome(SPACES["all"]), 0, threshold=1.0).hash()


def _base() -> dict:
    return default_genome(SearchSpace(n_cells=3)).to_dict()


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda d: d["cells"][2]["ops"][1].update(kernel=7),
            r"cells\[2\]\.ops\[1\]\.kernel=7 not in \(3, 5\)",
        ),
        (
            lambda d: d["cells"][0]["ops"][0].update(sign=0),
            r"cells\[0\]\.ops\[0\]\.sign=0 not in \(1, -1\)",
        ),
        (lambda d: d["cells"][1]["ops"][0].pop("kernel"), r"cells\[1\]\.ops\[0\]\.kernel: missing"),
        (
            lambda d: d["cells"][1]["ops"][0].update(kernel="3"),
            r"cells\[1\]\.ops\[0\]\.kernel='3' must be an integer",
        ),
        (
            lambda d: d["cells"][1].update(motif="blob"),
            r"cells\[1\]\.motif='blob' is not registered",
        ),
        (lambda d: d["cells"][1].update(threshold=0.3), r"cells\[1\]\.threshold=0.3 not in"),
        (lambda d: d["cells"][1].update(tau="fast"), r"cells\[1\]\.tau='fast' must be a number"),
        (lambda d: d["cells"][0].update(fan_in=5), r"cells\[0\]\.fan_in=5 not in \(2, 3, 4\)"),
        (lambda d: d["cells"][2].update(skips=[1]), r"cells\[2\]\.skips contains 1"),
        (lambda d: d["cells"][2].update(skips="0"), r"cells\[2\]\.skips must be a list"),
        (
            lambda d: d["cells"][0]["ops"].pop(),
            r"cells\[0\]\.ops has 3 entries; motif 'chain' has 4",
        ),
        (
            lambda d: d["cells"][0].update(colour="red"),
            r"cells\[0\]: unknown field\(s\) \['colour'\]",
        ),
        (lambda d: d["cells"][0].pop("fan_in"), r"cells\[0\]\.fan_in: missing"),
        (lambda d: d.update(cells=[]), r"genome\.cells must be a non-empty list"),
        (lambda d: d.pop("cells"), r"genome\.cells: missing"),
        (lambda d: d.update(format="v0"), r"genome\.format='v0'"),
    ],
)
def test_malformed_genome_names_the_field(edit, message):
    d = _base()
    edit(d)
    with pytest.raises(ConfigError, match=message):
        from_dict(d)
    with pytest.raises(ConfigError, match=message):
        from_json(json.dumps(d))


def test_invalid_json_text_and_types():
    with pytest.raises(ConfigError, match="not valid JSON"):
        from_json("{cells: ")
    with pytest.raises(ConfigError, match="must be a JSON object"):
        from_json("[1, 2]")


def test_validate_with_space_checks_scales_and_size():
    rng = np.random.default_rng(6)
    g = random_genome(rng, SPACES["all"])
    with pytest.raises(ConfigError, match="n_cells=4"):
        g.validate(SearchSpace(n_cells=4))
    changed = with_cell(default_genome(SPACES["micro"]), 0, fan_in=3)
    with pytest.raises(ConfigError, match="macro is not searched"):
        changed.validate(SPACES["micro"])
    with pytest.raises(ConfigError, match="kernel=7"):
        Genome((CellGene("residual", (OpGene(7, 1),) * 3),)).validate()
    with pytest.raises(ConfigError, match="n_cells"):
        SearchSpace(n_cells=0)
    with pytest.raises(ConfigError, match="not registered"):
        SearchSpace(motifs=("chain", "nope"))


def test_summary_and_distance():
    rng = np.random.default_rng(7)
    a, b = random_genome(rng, SPACES["all"]), random_genome(rng, SPACES["all"])
    assert gene_distance(a, a) == 0.0
    assert 0 < gene_distance(a, b) <= 1
    assert len(a.summary().splitlines()) == len(a.cells)
