"""Transfer accuracy: the fixed spiking CNN trained on one set of event frames and tested on
others (e.g. trained on simulated recordings, tested on real ones), over training seeds.

One run (:func:`frames_run`): everything is seeded from the seed, a
:class:`~snnlib.models.SpikingCNN` is built, trained and measured by
:func:`snnlib.seed_runs.train_and_test` (:func:`snnlib.train.fit` on in-memory frames
``[N, T, P, H, W]``, event counts fed by the ``events`` encoder; accuracy, spikes and energy on
the first test set); its accuracy on every test set is the run's ``extra["test_accs"]`` (name ->
accuracy, :func:`snnlib.train.evaluate`) and its last training accuracy ``extra["train_acc"]``.
:func:`retrain_frames` repeats it over seeds into one
:class:`~snnlib.seed_runs.RetrainResult` (the result type of every retraining over seeds);
:func:`set_accuracies` reads one test set's accuracy per seed, which
``snnlib.nas.statistics`` (``t_interval``, ``paired_by_seed``) summarises.

:func:`frames_record` is one run as the record a result file keeps (seed, accuracy per test
set, last training accuracy, seconds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch.utils.data import DataLoader, TensorDataset

from .encoding import Encoder
from .models import SpikingCNN
from .runtime import seed_everything
from .seed_runs import RetrainBudget, RetrainResult, RetrainRun, train_and_test
from .train import TrainConfig, evaluate
from .validation import ConfigError


def _check_frames(train_x: torch.Tensor, train_y: torch.Tensor, tests: Mapping) -> None:
    if train_x.dim() != 5 or len(train_x) != len(train_y):
        raise ConfigError(
            f"train_x must be frames [N, T, P, H, W] with one label each: {tuple(train_x.shape)}"
            f" for {len(train_y)} labels"
        )
    if not tests:
        raise ConfigError("tests: give at least one test set, name -> (frames, labels)")


def _test_loader(x: torch.Tensor, y: torch.Tensor) -> DataLoader:
    return DataLoader(TensorDataset(x.float(), y.long()), batch_size=256)


def frames_run(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    tests: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    *,
    seed: int,
    width: int = 16,
    train: TrainConfig | None = None,
    batch_size: int = 32,
    device: torch.device | str = "cpu",
    num_classes: int | None = None,
    progress: bool = False,
    desc: str = "transfer",
) -> RetrainRun:
    """Train a :class:`~snnlib.models.SpikingCNN` of ``width`` on frames ``train_x``
    ``[N, T, P, H, W]`` with labels ``train_y`` at ``seed`` and test it on each
    ``tests[name] = (x, y)``: one :class:`~snnlib.seed_runs.RetrainRun` measured on the first
    test set, with ``extra["test_accs"]`` (every test set) and ``extra["train_acc"]`` (last
    epoch).

    ``seed_everything(seed)`` comes first, so the weights and the shuffling (a generator
    seeded by ``seed``) are fixed by ``seed`` alone.

    No validation set: the epochs are part of ``train`` (default
    :class:`~snnlib.train.TrainConfig`).
    """
    _check_frames(train_x, train_y, tests)
    train = train or TrainConfig()
    T, P = int(train_x.shape[1]), int(train_x.shape[2])
    classes = num_classes or int(
        max(int(train_y.max()), *(int(y.max()) for _, y in tests.values())) + 1
    )
    encoder = Encoder("events", T)
    loader = DataLoader(
        TensorDataset(train_x.float(), train_y.long()),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    first = next(iter(tests.values()))
    budget = RetrainBudget(
        train,
        {"train": loader, "test": _test_loader(*first)},
        encoder,
        P,
        classes,
        device,
        progress,
    )
    seed_everything(seed)  # the weights (and the shuffling's generator above) from seed alone
    model = SpikingCNN(P, classes, width=width)
    run = train_and_test(model, budget, int(seed), desc=desc)
    # the first test set was measured by train_and_test (same loader): not evaluated twice
    first_name = next(iter(tests))
    run.extra["test_accs"] = {first_name: float(run.test_acc)}
    for name, (x, y) in list(tests.items())[1:]:
        run.extra["test_accs"][name] = float(
            evaluate(model, _test_loader(x, y), encoder, device)["acc"]
        )
    train_accs = run.history["train_acc"]
    run.extra["train_acc"] = float(train_accs[-1]) if train_accs else math.nan
    return run


def retrain_frames(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    tests: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    seeds: Sequence[int],
    **options,
) -> RetrainResult:
    """:func:`frames_run` once per seed (``options`` passed on), as one
    :class:`~snnlib.seed_runs.RetrainResult`."""
    if isinstance(seeds, (str, bytes)) or not len(seeds):
        raise ConfigError(f"seeds={seeds!r}: give a list of at least one integer seed")
    runs = [frames_run(train_x, train_y, tests, seed=int(s), **options) for s in seeds]
    return RetrainResult(options.get("desc", "transfer"), runs)


def set_accuracies(result: RetrainResult, name: str) -> list[float]:
    """The accuracy on test set ``name`` of every run of ``result``, in seed order; an unknown
    name is a :class:`ConfigError` naming the test sets there are."""
    sets = result.values("test_accs")
    if name not in sets[0]:
        raise ConfigError(f"no test set {name!r}; the runs were tested on {sorted(sets[0])}")
    return [s[name] for s in sets]


def frames_record(run: RetrainRun) -> dict:
    """One :func:`frames_run` run as a result file keeps it: ``seed``, ``test_acc`` (test set ->
    accuracy), ``train_acc`` (last epoch) and ``seconds`` (training)."""
    return {
        "seed": run.seed,
        "test_acc": dict(run.extra["test_accs"]),
        "train_acc": run.extra["train_acc"],
        "seconds": run.history["seconds"],
    }
