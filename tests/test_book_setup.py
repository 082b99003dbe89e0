"""snnlib.book.setup.start: the notebook setup block as one call, with the same seeding."""

import random

import numpy as np
import pytest
import torch

from snnlib.book.setup import start
from snnlib.runtime import device_name, seed_everything
from snnlib.validation import ConfigError

PARAMS = dict(scale="smoke", dataset="digits", seed=7, device="cpu", threads=1)


def _draws():
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


@pytest.fixture
def keep_threads():
    old = torch.get_num_threads()
    yield
    torch.set_num_threads(old)


def test_seeds_exactly_like_seed_everything(keep_threads):
    seed_everything(7)
    expected = _draws()
    random.seed(123), np.random.seed(123), torch.manual_seed(123)  # anything else first
    start("00_substrate", PARAMS, threads=1)
    assert _draws() == expected


def test_opens_the_result_file_of_the_notebook_on_the_device(keep_threads, tmp_path):
    run, dev = start("21_madarts_retrain", {**PARAMS, "results_dir": str(tmp_path)})
    assert dev == torch.device("cpu")
    assert run.notebook == "21_madarts_retrain" and run.params["seed"] == 7
    assert run.path == tmp_path / "21_madarts_retrain__digits__smoke__seed7.json"
    assert run.provenance()["device"] == device_name(dev)


def test_threads_set_when_given_left_alone_when_zero_or_none(keep_threads):
    torch.set_num_threads(2)
    start("00_substrate", PARAMS, threads=1)
    assert torch.get_num_threads() == 1
    for threads in (0, None):
        torch.set_num_threads(2)
        start("00_substrate", PARAMS, threads=threads)
        assert torch.get_num_threads() == 2


def test_missing_parameter_and_bad_device_are_config_errors():
    with pytest.raises(ConfigError, match="device"):
        start("00_substrate", dict(scale="smoke", dataset="digits", seed=0))
    with pytest.raises(ConfigError, match="not a device"):
        start("00_substrate", {**PARAMS, "device": "abacus"})
