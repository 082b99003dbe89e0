"""The NAS core's one bilevel-search configuration and divergence check, shared by the DARTS
search of MA-DARTS (``darts.bilevel.SearchConfig``) and of SpikeNAS-Bench
(``spikenas.darts_search.DartsConfig``)."""

from dataclasses import fields

import pytest
import torch

from snnlib.darts.bilevel import SearchConfig, SearchDiverged, _check_finite
from snnlib.nas.bilevel_steps import BilevelConfig, BilevelDiverged, check_finite
from snnlib.spikenas.darts_search import DartsConfig, DartsDiverged
from snnlib.spikenas.darts_search import _check_finite as spikenas_check_finite
from snnlib.validation import ConfigError

OPTIMISER = [f.name for f in fields(BilevelConfig)]


def test_both_search_configs_take_the_optimiser_defaults_from_the_core():
    assert issubclass(SearchConfig, BilevelConfig) and issubclass(DartsConfig, BilevelConfig)
    core, darts, spikenas = BilevelConfig(), SearchConfig(), DartsConfig()
    for name in OPTIMISER:
        assert getattr(darts, name) == getattr(core, name) == getattr(spikenas, name), name
    assert (core.w_lr, core.w_lr_min, core.w_momentum, core.w_weight_decay) == (
        0.025,
        0.001,
        0.9,
        3e-4,
    )
    assert (core.arch_lr, core.arch_betas, core.arch_weight_decay, core.grad_clip) == (
        3e-4,
        (0.5, 0.999),
        1e-3,
        5.0,
    )


def test_records_keep_their_field_order():
    """The result files' and checkpoints' records list their fields as before the shared base."""
    assert list(SearchConfig().to_dict()) == [
        "epochs",
        *OPTIMISER,
        "arch_start_epoch",
        "label_smoothing",
        "max_batches",
        "spike_batches",
        "eval_batches",
        "eval_bn",
    ]
    loop = ["width", "time_steps", "epochs", "batch_size", "n_weight", "n_arch", "attention"]
    optimiser = [n for n in OPTIMISER if n != "order"]
    assert list(DartsConfig().record()) == [*loop, "order", "dropout", *optimiser]
    assert SearchConfig().to_dict()["arch_betas"] == [0.5, 0.999]


@pytest.mark.parametrize("config", [BilevelConfig, SearchConfig, DartsConfig])
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("order", "third", r"order='third' is not allowed; choose one of \['first', 'second'\]"),
        ("w_optimizer", "adam", r"w_optimizer='adam' is not allowed; choose one of \['sgd'"),
        ("w_lr_min", 0.5, r"w_lr_min=0.5 is out of range \[0.0, 0.025\]"),
        ("w_momentum", 1.5, "w_momentum=1.5 is out of range"),
        ("arch_betas", (0.5,), "arch_betas must be two numbers"),
        ("arch_betas", (0.5, 1.0), "arch_betas=1.0 is out of range"),
        ("xi", -1.0, "xi=-1.0 is out of range"),
        ("fd_eps", 0.0, "fd_eps=0.0 is out of range"),
    ],
)
def test_a_bad_optimiser_field_is_named_by_every_config(config, field, value, message):
    with pytest.raises(ConfigError, match=message):
        config(**{field: value})


def test_each_config_keeps_its_own_checks():
    with pytest.raises(ConfigError, match="eval_bn='x'"):
        SearchConfig(eval_bn="x")
    with pytest.raises(ConfigError, match="epochs=0 is out of range"):
        DartsConfig(epochs=0)
    assert SearchConfig(epochs=0).epochs == 0  # the MA-DARTS search allows 0 epochs, SpikeNAS not


def test_one_divergence_check_raises_each_methods_error():
    nan, fine = torch.tensor(float("nan")), torch.tensor(1.0)
    assert check_finite(fine, "weight", "here", "nothing") is None
    with pytest.raises(BilevelDiverged, match="weight loss became nan at here; the search was"):
        check_finite(nan, "weight", "here", "nothing")
    with pytest.raises(SearchDiverged, match=r"after epoch 3\) is kept at ck.pt. Lower the"):
        _check_finite(nan, "architecture", "epoch 4, step 2", "ck.pt", 3)
    with pytest.raises(DartsDiverged, match=r"architecture loss became inf at epoch 2, step 5"):
        spikenas_check_finite(torch.tensor(float("inf")), "architecture", 1, 4, None)
    assert issubclass(SearchDiverged, BilevelDiverged) and issubclass(
        DartsDiverged, BilevelDiverged
    )
    assert issubclass(BilevelDiverged, FloatingPointError)  # callers catching it still do
