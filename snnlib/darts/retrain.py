"""Retraining a discrete architecture at a fixed budget, with its spike and energy numbers.

One function serves the retraining notebook (derived cells vs plain spiking DARTS vs random
cells) and the attention ablation (one genotype, four attention types): every candidate is
built from the same seed, sees the training data in the same order (the train loader's
generator is re-seeded), is trained by :func:`snnlib.train.fit` with the same
:class:`~snnlib.train.TrainConfig`, and is measured on the test split with a spike monitor.
"""

from __future__ import annotations

import time

import numpy as np
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


SEED_AVERAGED = ("test_acc", "test_loss", "val_acc", "nos", "firing_rate", "sops", "macs", "energy_uj")


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
    out = {k: (sum(r[k] for r in runs) / len(runs) if all(r[k] is not None for r in runs) else None)
           for k in SEED_AVERAGED}
    cells = runs[0]["nos_per_cell"] or {}
    out["nos_per_cell"] = {c: sum(r["nos_per_cell"][c] for r in runs) / len(runs) for c in cells}
    accs = [r["test_acc"] for r in runs]
    mean = out["test_acc"]
    out["test_acc_sd"] = (sum((a - mean) ** 2 for a in accs) / (len(accs) - 1)) ** 0.5 if len(accs) > 1 else 0.0
    out.update(params=runs[0]["params"], seconds=sum(r["seconds"] for r in runs), seeds=seeds,
               test_accs=accs, history=runs[0]["history"])
    return out


def cell_effect(per_seed: list[list[float]]) -> dict:
    r"""Does the cell explain test accuracy beyond seed noise? A one-way ANOVA over candidates.

    ``per_seed[k]`` are candidate ``k``'s accuracies over retraining seeds. With :math:`K`
    candidates of :math:`n_k` seeds, :math:`N = \sum n_k`, group means :math:`\bar a_k` and
    grand mean :math:`\bar a`:

    .. math::

        F = \frac{\sum_k n_k (\bar a_k - \bar a)^2 / (K - 1)}
                 {\sum_k \sum_i (a_{ki} - \bar a_k)^2 / (N - K)}

    and ``p`` is the upper tail of :math:`F(K - 1, N - K)`. A large ``p`` says the differences
    between candidates are of the size the seeds alone produce: "derived beats the median
    random cell" is then decided by noise. Also returns the spread of the candidate means
    (``sd_between``) and the one it would have from seed noise alone
    (``sd_within / sqrt(mean n_k)``). ``F`` and ``p`` are ``None`` with fewer than two
    candidates or without two seeds somewhere (no within-candidate variance to compare with).
    """
    from scipy.stats import f as f_dist

    groups = [np.asarray(g, dtype=np.float64) for g in per_seed if len(g)]
    k, n = len(groups), sum(len(g) for g in groups)
    out = {"F": None, "p": None, "n_candidates": k, "n_runs": n, "sd_between": None, "sd_within": None,
           "sd_between_from_noise": None}
    if k < 2 or n - k < 1:
        return out
    grand = np.concatenate(groups).mean()
    means = np.array([g.mean() for g in groups])
    ss_between = float(sum(len(g) * (m - grand) ** 2 for g, m in zip(groups, means)))
    ss_within = float(sum(((g - g.mean()) ** 2).sum() for g in groups))
    ms_within = ss_within / (n - k)
    out.update(sd_between=float(means.std(ddof=1)), sd_within=ms_within ** 0.5,
               sd_between_from_noise=(ms_within / (n / k)) ** 0.5)
    if ms_within > 0:
        F = (ss_between / (k - 1)) / ms_within
        out.update(F=F, p=float(f_dist.sf(F, k - 1, n - k)))
    return out


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
