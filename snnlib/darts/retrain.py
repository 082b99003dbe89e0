"""Retraining a discrete architecture at a fixed budget, with its spike and energy numbers.

One function serves the retraining notebook (derived cells vs plain spiking DARTS vs random
cells) and the attention ablation (one genotype, four attention types): every candidate is
built from the same seed, sees the training data in the same order (the train loader's
generator is re-seeded), is trained by :func:`snnlib.train.fit` with the same
:class:`~snnlib.train.TrainConfig`, and is measured on the test split with a spike monitor.
"""

from __future__ import annotations

import time

import torch

from ..encoding import Encoder
from ..models import count_parameters
from ..neurons import NeuronConfig
from ..runtime import seed_everything
from ..train import TrainConfig, fit
from .cell_spikes import spike_summary
from .genotype import Genotype
from .layout import Layout
from .network import Network


def train_genotype(
    genotype: Genotype,
    *,
    in_channels: int,
    num_classes: int,
    loaders: dict,
    encoder: Encoder,
    train_cfg: TrainConfig,
    C: int = 16,
    layers: int | None = 8,
    layout: Layout | None = None,
    time_steps: int = 2,
    attention: str = "tcsa",
    placement: str = "cell",
    neuron: NeuronConfig | None = None,
    attention_kwargs: dict | None = None,
    seed: int = 0,
    device="cpu",
    progress: bool = True,
    desc: str = "retrain",
) -> dict:
    """Build :class:`~snnlib.darts.network.Network` from ``genotype`` (seeded), train it on
    ``loaders["train"]`` (validating on ``loaders["val"]``), test on ``loaders["test"]``.

    Returns a dict: ``test_acc``, ``test_loss``, ``val_acc`` (last epoch), ``nos``,
    ``nos_per_cell``, ``firing_rate``, ``sops``, ``energy_uj`` (per test image), ``params``,
    ``seconds`` (training wall time) and ``history`` (learning curves).
    """
    seed_everything(seed)
    generator = getattr(loaders["train"], "generator", None)
    if generator is not None:
        generator.manual_seed(seed)  # same batch order for every candidate
    device = torch.device(device)
    net = Network(
        genotype,
        in_channels,
        num_classes,
        C=C,
        layers=layers,
        layout=layout,
        time_steps=time_steps,
        attention=attention,
        placement=placement,
        neuron=neuron,
        attention_kwargs=attention_kwargs,
    )
    t0 = time.perf_counter()
    hist = fit(
        net,
        loaders["train"],
        loaders.get("val"),
        encoder,
        train_cfg,
        device=device,
        progress=progress,
        desc=desc,
    )
    seconds = time.perf_counter() - t0
    test = spike_summary(net, loaders["test"], encoder, device)
    return {
        "test_acc": test["acc"],
        "test_loss": test["loss"],
        "val_acc": hist.val_acc[-1] if hist.val_acc else None,
        "nos": test["nos"],
        "nos_per_cell": test["nos_per_cell"],
        "firing_rate": test["firing_rate"],
        "sops": test["sops"],
        "macs": test["macs"],
        "energy_uj": test["energy_uj"],
        "params": count_parameters(net),
        "seconds": seconds,
        "history": hist.to_dict(),
    }


SEED_AVERAGED = (
    "test_acc",
    "test_loss",
    "val_acc",
    "nos",
    "firing_rate",
    "sops",
    "macs",
    "energy_uj",
)


def train_genotype_seeds(genotype: Genotype, seeds: list[int] | tuple[int, ...], **kwargs) -> dict:
    """:func:`train_genotype` once per seed (initialisation and data order); the mean over seeds.

    On small test sets one retraining resolves about one binomial standard error (1.1 points
    for 359 images at 95%), which is the size of the differences between cells; averaging
    over seeds is what makes "derived cells vs random cells" a comparison at all.

    Returns the numbers of :func:`train_genotype` averaged over seeds (``SEED_AVERAGED``;
    ``nos_per_cell`` averaged per cell), ``params``, ``seconds`` summed, and per seed
    ``seeds``, ``test_accs`` with their sample standard deviation ``test_acc_sd`` (0 for one
    seed) and the first seed's ``history``.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds: give at least one seed")
    runs = [train_genotype(genotype, seed=s, **kwargs) for s in seeds]
    out = {
        k: (sum(r[k] for r in runs) / len(runs) if all(r[k] is not None for r in runs) else None)
        for k in SEED_AVERAGED
    }
    cells = runs[0]["nos_per_cell"] or {}
    out["nos_per_cell"] = {c: sum(r["nos_per_cell"][c] for r in runs) / len(runs) for c in cells}
    accs = [r["test_acc"] for r in runs]
    mean = out["test_acc"]
    out["test_acc_sd"] = (
        (sum((a - mean) ** 2 for a in accs) / (len(accs) - 1)) ** 0.5 if len(accs) > 1 else 0.0
    )
    out.update(
        params=runs[0]["params"],
        seconds=sum(r["seconds"] for r in runs),
        seeds=seeds,
        test_accs=accs,
        history=runs[0]["history"],
    )
    return out
