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
from .genotype import Genotype
from .layout import Layout
from .monitor import spike_summary
from .network import Network


def train_genotype(genotype: Genotype, *, in_channels: int, num_classes: int, loaders: dict, encoder: Encoder,
                   train_cfg: TrainConfig, C: int = 16, layers: int | None = 8, layout: Layout | None = None,
                   time_steps: int = 2, attention: str = "tcsa", placement: str = "cell",
                   neuron: NeuronConfig | None = None, attention_kwargs: dict | None = None, seed: int = 0,
                   device="cpu", progress: bool = True, desc: str = "retrain") -> dict:
    """Build :class:`~snnlib.darts.network.Network` from ``genotype`` (seeded), train it on
    ``loaders["train"]`` (validating on ``loaders["val"]``), test on ``loaders["test"]``.

    Returns a dict: ``test_acc``, ``test_loss``, ``val_acc`` (last epoch), ``nos``,
    ``nos_per_cell``, ``firing_rate``, ``sops``, ``energy_uj`` (per test image), ``params``,
    ``seconds`` (training wall time) and ``history`` (learning curves).
    """
    seed_everything(seed)
    generator = getattr(loaders["train"], "generator", None)
    if generator is not None:
        generator.manual_seed(seed)   # same batch order for every candidate
    device = torch.device(device)
    net = Network(genotype, in_channels, num_classes, C=C, layers=layers, layout=layout, time_steps=time_steps,
                  attention=attention, placement=placement, neuron=neuron, attention_kwargs=attention_kwargs)
    t0 = time.perf_counter()
    hist = fit(net, loaders["train"], loaders.get("val"), encoder, train_cfg, device=device, progress=progress, desc=desc)
    seconds = time.perf_counter() - t0
    test = spike_summary(net, loaders["test"], encoder, device)
    return {"test_acc": test["acc"], "test_loss": test["loss"],
            "val_acc": hist.val_acc[-1] if hist.val_acc else None,
            "nos": test["nos"], "nos_per_cell": test["nos_per_cell"], "firing_rate": test["firing_rate"],
            "sops": test["sops"], "macs": test["macs"], "energy_uj": test["energy_uj"],
            "params": count_parameters(net), "seconds": seconds, "history": hist.to_dict()}


def _cells(row: dict, columns) -> list[str]:
    return [f.format(row[k]) if row.get(k) is not None else "-" for k, _, f in columns]


def html_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """The same table as :func:`markdown_table`, as HTML (what a book page can glue from
    another notebook: myst-nb renders ``text/html`` across documents, not ``text/markdown``)."""
    from html import escape

    align = ["left" if f == "{}" else "right" for _, _, f in columns]
    head = "".join(f'<th style="text-align:{a}">{escape(h)}</th>' for (_, h, _), a in zip(columns, align))
    body = "".join("<tr>" + "".join(f'<td style="text-align:{a}">{escape(c)}</td>'
                                    for c, a in zip(_cells(r, columns), align)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def markdown_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """A Markdown table: ``columns`` are ``(key, header, format)``, e.g. ``("test_acc", "test acc", "{:.3f}")``."""
    head = "| " + " | ".join(h for _, h, _ in columns) + " |"
    rule = "|" + "|".join("---:" if f != "{}" else ":---" for _, _, f in columns) + "|"
    body = ["| " + " | ".join(_cells(r, columns)) + " |" for r in rows]
    return "\n".join([head, rule, *body])
