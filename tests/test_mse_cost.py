"""Fitness cost timing: the calls it makes (order, warm-up), the values and seconds it keeps."""

import time

import numpy as np
import pytest

from snnlib.mse.cost import time_fitnesses
from snnlib.mse.genome import SearchSpace
from snnlib.mse.sampling import sample_genomes
from snnlib.validation import ConfigError

GENOMES = sample_genomes(np.random.default_rng(0), SearchSpace(n_cells=3), 2)


class Recorder:
    """A fitness that logs its calls and returns a number of the genome; ``pause`` seconds long."""

    def __init__(self, name, log, pause=0.0):
        self.name, self.log, self.pause = name, log, pause

    def __call__(self, genome, seed):
        self.log.append((self.name, genome.short, seed))
        if self.pause:
            time.sleep(self.pause)
        return int(genome.hash()[:6], 16) + len(self.name) + seed


def test_calls_rotate_and_warm_up_only_on_the_first_genome():
    log = []
    fits = {"a": Recorder("a", log), "bb": Recorder("bb", log)}
    costs = time_fitnesses(fits, GENOMES, seed=4, repeats=3, warmup=1)
    g0, g1 = (g.short for g in GENOMES)
    assert log == [
        ("a", g0, 4), ("bb", g0, 4),  # warm-up, untimed
        ("a", g0, 4), ("bb", g0, 4), ("bb", g0, 4), ("a", g0, 4), ("a", g0, 4), ("bb", g0, 4),
        ("a", g1, 4), ("bb", g1, 4), ("bb", g1, 4), ("a", g1, 4), ("a", g1, 4), ("bb", g1, 4),
    ]  # fmt: skip
    assert costs.genomes == [g0, g1] and costs.repeats == 3
    assert {k: len(v) for k, v in costs.seconds.items()} == {"a": 6, "bb": 6}
    for name, fit in fits.items():
        assert costs.values[name] == [fit(g, 4) for g in GENOMES]


def test_seconds_rows_and_medians():
    log = []
    fits = {"slow": Recorder("slow", log, pause=0.02), "fast": Recorder("fast", log)}
    costs = time_fitnesses(fits, GENOMES, seed=0, repeats=2)
    assert all(s >= 0.02 for s in costs.seconds["slow"])  # the timed span covers the call
    assert costs.median_seconds() == {k: float(np.median(v)) for k, v in costs.seconds.items()}
    rows = costs.rows()
    assert [list(r) for r in rows] == [
        ["genome", "slow_fitness", "slow_seconds", "fast_fitness", "fast_seconds"]
    ] * 2
    for i, (g, row) in enumerate(zip(GENOMES, rows)):
        assert row["genome"] == g.short and row["fast_fitness"] == fits["fast"](g, 0)
        assert row["slow_seconds"] == pytest.approx(
            np.median(costs.seconds["slow"][2 * i : 2 * i + 2])
        )


def test_argument_errors():
    fit = {"a": Recorder("a", [])}
    with pytest.raises(ConfigError, match="at least one"):
        time_fitnesses({}, GENOMES, 0)
    with pytest.raises(ConfigError, match="repeats"):
        time_fitnesses(fit, GENOMES, 0, repeats=0)
    with pytest.raises(ConfigError, match="warmup"):
        time_fitnesses(fit, GENOMES, 0, warmup=-1)
