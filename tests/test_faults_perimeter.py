"""The perimeter: inputs that used to give a silently wrong result or a raw error are refused
where they enter, with an error naming the field and what it takes."""

from __future__ import annotations

import dataclasses
import importlib.util

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from snnlib.data.base import DatasetInfo
from snnlib.nas.retrain import RetrainBudget, _example_budget, check_seeds, retrain
from snnlib.paths import REPO_ROOT
from snnlib.runtime import resolve_device
from snnlib.validation import ConfigError

_spec = importlib.util.spec_from_file_location("run_book", REPO_ROOT / "tools" / "run_book.py")
run_book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_book)


@pytest.mark.parametrize("jobs", ["abc", "", "-1", "1.5", " 2"])
def test_make_book_jobs_must_be_a_positive_integer(jobs):
    with pytest.raises(SystemExit, match=r"JOBS=.* must be a positive integer"):
        run_book.main([jobs, "build/x"])


@pytest.mark.parametrize("device", ["mps", "xpu", "meta", "cuda:7", "gpu", "cpu:x"])
def test_a_device_this_machine_lacks_is_refused_at_the_parameters(device):
    if device.startswith("cuda") and torch.cuda.device_count() > 7:
        pytest.skip("this machine has that many GPUs")
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(ConfigError, match=r"device="):
        resolve_device(device)
    assert resolve_device("cpu").type == "cpu"


GOOD = dict(name="x", kind="static", num_classes=10, in_channels=3, size=(32, 32))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("num_classes", 0, "num_classes"),
        ("num_classes", 1, "num_classes"),
        ("num_classes", 2.5, "num_classes"),
        ("num_classes", True, "num_classes"),
        ("kind", "video", "kind"),
        ("in_channels", -1, "in_channels"),
        ("in_channels", 0, "in_channels"),
        ("size", (0, 32), "size"),
        ("size", (32,), "size"),
        ("size", "32x32", "size"),
    ],
)
def test_dataset_info_refuses_what_no_model_can_take(field, value, message):
    with pytest.raises(ConfigError, match=message):
        DatasetInfo(**{**GOOD, field: value})
    assert DatasetInfo(**GOOD).num_classes == 10


@pytest.mark.parametrize(
    "seeds, message",
    [
        ("01", "list of integers"),
        (1.7, "list of integers"),
        ([0, 0], "repeat"),
        ([], "at least one"),
        ([0.5, 1], "not integers"),
        ([True], "not integers"),
        (["0"], "not integers"),
    ],
)
def test_retrain_refuses_seeds_that_are_not_distinct_integers(seeds, message):
    with pytest.raises(ConfigError, match=message):
        check_seeds(seeds)


class _Tiny:
    from snnlib.nas.retrain import SeedRule

    seeding = SeedRule()

    def build(self, in_channels, num_classes):
        from snnlib.nas.retrain import _TinySNN

        return _TinySNN(in_channels, num_classes)


def test_retrain_refuses_an_empty_loader_and_zero_epochs():
    budget = _example_budget()
    empty = DataLoader(TensorDataset(torch.zeros(0, 1, 4, 4), torch.zeros(0, dtype=torch.long)))
    for split in ("train", "test"):
        with pytest.raises(ConfigError, match=rf"loaders\['{split}'\] holds no item"):
            RetrainBudget(**{**budget.__dict__, "loaders": {**budget.loaders, split: empty}})
    zero = dataclasses.replace(budget.train, epochs=0)
    with pytest.raises(ConfigError, match="epochs=0"):
        RetrainBudget(**{**budget.__dict__, "train": zero})
    with pytest.raises(ConfigError, match="repeat"):
        retrain(_Tiny(), budget, [1, 1])


@pytest.mark.parametrize(
    "make_x, message",
    [
        (lambda x: x.to(torch.complex64), "complex"),
        (lambda x: x.index_put_((torch.tensor([3]),), torch.tensor(float("nan"))), "non-finite"),
        (lambda x: x.index_put_((torch.tensor([0]),), torch.tensor(float("inf"))), "non-finite"),
        (lambda x: x.reshape(40, 8, 8, 1), "channels-last"),
        (lambda x: x.reshape(40, 8, 8, 1).expand(40, 8, 8, 3), "channels-last"),
    ],
)
def test_from_tensors_refuses_items_it_cannot_represent(make_x, message):
    from snnlib.data import dataset_names, from_tensors

    x = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ConfigError, match=message):
        from_tensors(make_x(x.clone()), torch.arange(40) % 4, name="refused")
    assert "refused" not in dataset_names()  # nothing was registered


def test_val_fraction_zero_carves_no_validation_set():
    from snnlib.data import from_tensors, load_dataset, unregister_dataset

    x, y = torch.rand(40, 1, 6, 6), torch.arange(40) % 4
    from_tensors(x, y, name="noval", val_fraction=0.0, test_fraction=0.25)
    try:
        assert len(load_dataset("noval", "train")) == 32  # every item not in test (40 - 4 x 2)
        with pytest.raises(ConfigError, match="val split .* is empty"):
            load_dataset("noval", "val")
    finally:
        unregister_dataset("noval")
