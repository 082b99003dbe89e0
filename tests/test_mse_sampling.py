"""Random genomes from one sampler: the same draws as the loops it replaced, every exhaustion
policy, the acceptance predicate."""

import numpy as np
import pytest

from snnlib.mse.genome import SearchSpace, random_genome
from snnlib.mse.sampling import first_genome, sample_genomes
from snnlib.validation import ConfigError

SPACE = SearchSpace(n_cells=4)
# 2 motifs x 1 fixed cell = 4 genomes in all (micro and macro genes held at their defaults)
FOUR = SearchSpace(n_cells=2, micro=False, macro=False, motifs=("chain", "residual"))


def _hashes(genomes):
    return [g.hash() for g in genomes]


def _until_distinct(rng, space, n):
    """The proxy study's and benchmark B3's former loop: draw until n distinct genomes."""
    out, seen = [], set()
    while len(out) < n:
        g = random_genome(rng, space)
        if g.hash() not in seen:
            seen.add(g.hash())
            out.append(g)
    return out


def _keep_after(rng, space, n, tries):
    """The evolution's former generation 0: a duplicate is kept after ``tries`` draws."""
    out, seen = [], set()
    while len(out) < n:
        for _ in range(tries):
            g = random_genome(rng, space)
            if g.hash() not in seen:
                break
        seen.add(g.hash())
        out.append(g)
    return out


def _skip_after(rng, space, n, tries):
    """Random search's former loop: a slot without a new genome after ``tries`` draws is dropped."""
    out = {}
    for _ in range(n):
        for _ in range(tries):
            g = random_genome(rng, space)
            if g.hash() not in out:
                out[g.hash()] = g
                break
    return list(out.values())


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("space", [SPACE, FOUR], ids=["4 cells", "4 genomes"])
@pytest.mark.parametrize(
    "former, n, kw",
    [
        (lambda rng, space, n: _until_distinct(rng, space, n), 4, {}),
        (lambda rng, space, n: _keep_after(rng, space, n, 3), 6, {"max_tries": 3}),
        (
            lambda rng, space, n: _skip_after(rng, space, n, 100),
            9,
            {"max_tries": 100, "on_exhausted": "skip"},
        ),
        (
            lambda rng, space, n: [random_genome(rng, space) for _ in range(n)],
            5,
            {"distinct": False},
        ),
    ],
    ids=["until distinct", "keep after 3", "skip after 100", "plain"],
)
def test_same_draws_as_the_former_loops(seed, space, former, n, kw):
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    assert _hashes(sample_genomes(b, space, n, **kw)) == _hashes(former(a, space, n))
    assert a.random() == b.random()  # and the generator is left at the same place


def test_exhaustion_policies_in_a_space_of_four_genomes():
    rng = np.random.default_rng(0)
    kept = sample_genomes(rng, FOUR, 6, max_tries=30)
    assert len(kept) == 6 and len(set(_hashes(kept))) == 4  # two duplicates kept
    assert len(set(_hashes(kept[:4]))) == 4  # after the four distinct ones
    skipped = sample_genomes(np.random.default_rng(0), FOUR, 6, max_tries=30, on_exhausted="skip")
    assert len(skipped) == 4 and len(set(_hashes(skipped))) == 4
    with pytest.raises(ConfigError, match="no new genome for slot 4 of 6 in 30 draws"):
        sample_genomes(np.random.default_rng(0), FOUR, 6, max_tries=30, on_exhausted="raise")
    assert sample_genomes(np.random.default_rng(0), FOUR, 0) == []


def test_accept_is_asked_only_about_new_genomes():
    asked = []

    def has_residual(g):
        asked.append(g.hash())
        return any(c.motif == "residual" for c in g.cells)

    got = sample_genomes(np.random.default_rng(3), FOUR, 3, accept=has_residual)
    assert len(got) == 3 and all(has_residual(g) for g in got)
    assert len(set(_hashes(got))) == 3  # the 3 genomes of FOUR with a residual cell
    asked = asked[: -len(got)]  # drop the check above
    assert len(asked) == len(set(asked))  # a duplicate draw never reached the predicate


def test_first_genome_is_the_first_accepted_draw():
    rng = np.random.default_rng(5)
    draws = [random_genome(rng, SPACE) for _ in range(50)]
    accept = lambda g: g.cells[0].fan_in == 4  # noqa: E731
    expected = next(g for g in draws if accept(g))
    assert first_genome(np.random.default_rng(5), SPACE, accept) == expected
    with pytest.raises(ConfigError, match="no accepted genome for slot 0 of 1 in 7 draws"):
        first_genome(np.random.default_rng(5), SPACE, lambda g: False, max_tries=7)


def test_argument_errors():
    rng = np.random.default_rng(0)
    for kw, name in [
        ({"n": -1}, "n="),
        ({"n": 2, "max_tries": 0}, "max_tries"),
        ({"n": 2, "on_exhausted": "retry"}, "on_exhausted"),
    ]:
        with pytest.raises(ConfigError, match=name):
            sample_genomes(rng, SPACE, **kw)
