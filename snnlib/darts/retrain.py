"""Retraining a discrete DARTS architecture at a fixed budget, with its spike and energy numbers.

A :class:`RetrainableGenotype` is a genotype with the options of the
:class:`~snnlib.darts.network.Network` it is built into; it is what
:func:`snnlib.nas.retrain.retrain` retrains (a bare :class:`~snnlib.darts.genotype.Genotype`
is registered too, with the network's defaults). The DARTS seed rule: every candidate is built
after :func:`snnlib.runtime.seed_everything` ``(seed)`` and sees the training data in the same
order (the train loader's generator is re-seeded with ``seed``); the test pass reports NoS per
cell (:func:`~snnlib.darts.cell_spikes.nos_per_cell`).

:func:`retrain_genotype` retrains over seeds and returns the core's one result type,
:class:`~snnlib.nas.retrain.RetrainResult`; :func:`train_genotype` (one seed, :func:`run_dict`)
and :func:`train_genotype_seeds` (the mean over seeds, :func:`seed_averaged`) are its dict views
with the keys the retraining notebook and the attention ablation write.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..encoding import Encoder
from ..nas.retrain import (
    SEED_AVERAGED,
    RetrainBudget,
    RetrainResult,
    RetrainRun,
    SeedRule,
    register_architecture,
    retrain,
)
from ..neurons import NeuronConfig
from ..train import TrainConfig
from ..validation import ConfigError
from .cell_spikes import nos_per_cell
from .genotype import Genotype, format_genotype
from .layout import Layout
from .network import Network

DARTS_SEEDING = SeedRule(weights="seed", data_order="seed")


@dataclass
class RetrainableGenotype:
    """A genotype and the network options it is retrained with (those of :class:`Network`)."""

    genotype: Genotype
    C: int = 16
    layers: int | None = 8
    layout: Layout | None = None
    time_steps: int = 2
    attention: str = "tcsa"
    placement: str = "cell"
    neuron: NeuronConfig | None = None
    attention_kwargs: dict | None = None
    seeding: SeedRule = DARTS_SEEDING

    def build(self, in_channels: int, num_classes: int) -> Network:
        return Network(
            self.genotype,
            in_channels,
            num_classes,
            C=self.C,
            layers=self.layers,
            layout=self.layout,
            time_steps=self.time_steps,
            attention=self.attention,
            placement=self.placement,
            neuron=self.neuron,
            attention_kwargs=self.attention_kwargs,
        )

    def identity(self) -> str:
        return format_genotype(self.genotype)

    def label(self) -> str:
        return "retrain"

    def spike_groups(self, report) -> dict[str, float]:
        """NoS per cell (and the head)."""
        return nos_per_cell(report)


register_architecture(Genotype, RetrainableGenotype)


def _budget_and_architecture(
    genotype: Genotype,
    in_channels: int,
    num_classes: int,
    loaders: dict,
    encoder: Encoder,
    train_cfg: TrainConfig,
    device="cpu",
    progress: bool = True,
    keep_predictions: bool = False,
    **network,
) -> tuple[RetrainBudget, RetrainableGenotype]:
    budget = RetrainBudget(
        train_cfg,
        loaders,
        encoder,
        in_channels,
        num_classes,
        device=device,
        progress=progress,
        keep_predictions=keep_predictions,
    )
    return budget, RetrainableGenotype(genotype, **network)


def retrain_genotype(
    genotype: Genotype, seeds: list[int] | tuple[int, ...], *, desc: str = "retrain", **kwargs
) -> RetrainResult:
    """Retrain ``genotype`` once per seed: the core's retraining over seeds
    (:func:`snnlib.nas.retrain.retrain`) with the DARTS seed rule, its result type
    :class:`~snnlib.nas.retrain.RetrainResult` (runs, means, spread over seeds).

    Keywords: ``in_channels``, ``num_classes``, ``loaders`` (``train``, ``test``, optional
    ``val``), ``encoder``, ``train_cfg``, ``device``, ``progress``, ``keep_predictions`` and the
    network options of :class:`RetrainableGenotype`. :func:`train_genotype` and
    :func:`train_genotype_seeds` are its dict views."""
    budget, arch = _budget_and_architecture(genotype, **kwargs)
    return retrain(arch, budget, seeds, desc=desc)


def run_dict(run: RetrainRun) -> dict:
    """One retraining run as the dict of :func:`train_genotype`."""
    out = {
        "test_acc": run.test_acc,
        "test_loss": run.test_loss,
        "val_acc": run.val_acc,
        "nos": run.nos,
        "nos_per_cell": run.spike_groups,
        "firing_rate": run.firing_rate,
        "sops": run.sops,
        "macs": run.macs,
        "energy_uj": run.energy_uj,
        "params": run.params,
        "seconds": run.seconds,
        "history": run.history,
    }
    if run.predictions is not None:
        out["predictions"] = list(run.predictions)
    return out


def train_genotype(genotype: Genotype, *, seed: int = 0, desc: str = "retrain", **kwargs) -> dict:
    """Retrain ``genotype`` once at ``seed`` (:func:`retrain_genotype`), as a dict.

    Keywords: those of :func:`retrain_genotype`. Returns a dict (:func:`run_dict`):
    ``test_acc``, ``test_loss``, ``val_acc`` (last epoch), ``nos``, ``nos_per_cell``,
    ``firing_rate``, ``sops``, ``macs``, ``energy_uj`` (per test image), ``params``,
    ``seconds`` (training wall time) and ``history`` (learning curves); with
    ``keep_predictions=True`` also ``predictions``, the predicted class of every test item in
    order (for paired comparisons over test items).
    """
    return run_dict(retrain_genotype(genotype, [seed], desc=desc, **kwargs).runs[0])


def seed_averaged(result: RetrainResult) -> dict:
    """The dict of :func:`train_genotype_seeds` from a retraining over seeds."""
    out = {k: result.mean(k) for k in SEED_AVERAGED}
    out["nos_per_cell"] = result.spike_groups or {}
    out["test_acc_sd"] = result.test_acc_sd
    out.update(
        params=result.params,
        seconds=result.seconds,
        seeds=result.seeds,
        test_accs=result.test_accs,
        history=result.histories[0],
    )
    if all(run.predictions is not None for run in result.runs):
        out["predictions"] = [list(run.predictions) for run in result.runs]  # [seed][item]
    return out


def train_genotype_seeds(
    genotype: Genotype, seeds: list[int] | tuple[int, ...], *, desc: str = "retrain", **kwargs
) -> dict:
    """:func:`train_genotype` once per seed (initialisation and data order); the mean over seeds.

    On small test sets one retraining resolves about one binomial standard error (1.1 points
    for 359 images at 95%), which is the size of the differences between cells; averaging
    over seeds is what makes "derived cells vs random cells" a comparison at all.

    Returns the numbers of :func:`train_genotype` averaged over seeds (``SEED_AVERAGED``;
    ``nos_per_cell`` averaged per cell), ``params``, ``seconds`` summed, and per seed
    ``seeds``, ``test_accs`` with their sample standard deviation ``test_acc_sd`` (0 for one
    seed) and the first seed's ``history`` (:func:`seed_averaged`); with
    ``keep_predictions=True`` also ``predictions``, per seed the test predictions in order.
    """
    if not list(seeds):
        raise ConfigError("seeds: give at least one seed")
    return seed_averaged(retrain_genotype(genotype, seeds, desc=desc, **kwargs))
