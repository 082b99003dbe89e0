r"""A differentiable (DARTS) search over the SpikeNAS-Bench cells, judged by the benchmark's table.

The supernet (:class:`~snnlib.spikenas.supernet.SpikeNASSupernet`) is the benchmark's network
with every edge a softmax mixture of the five operations, one :math:`\alpha \in
\mathbb{R}^{6\times5}` for both cell positions, and optionally MA-DARTS' attention after each
cell. One search alternates, per step, one architecture step on a batch of the benchmark's
validation half and one weight step on a batch of its training half
(:mod:`snnlib.nas.bilevel_steps`: first or second order; DARTS' optimizers and defaults), for
``epochs`` passes over the smaller of the two subsets (:mod:`snnlib.spikenas.darts_data`).
After every epoch the derived cell (each edge's operation of largest weight,
NAS-Bench-201's rule) is recorded, with the softmax of :math:`\alpha`, the steps' losses and
accuracies and the seconds; given the table, also the derived cell's test accuracy and its
percentile in the space. The table judges the search; it never guides it.

**Determinism.** Everything random is a function of the seed: the supernet's initial weights
and :math:`\alpha` (``derive_seed(seed, "spikenas-darts/init")``), each epoch's order of both
subsets and the dropout masks drawn in it (seeded by ``(seed, epoch)``, inside
:func:`torch.random.fork_rng`, so the caller's generators are left as they were). The same
seed and data give the same search; a resumed search, the same result as an uninterrupted one.

**Checkpoint.** With ``checkpoint``, the supernet, both optimizers, the scheduler, the
records and the seconds are written after every epoch (``torch.save`` to a temporary file,
then a rename: :func:`snnlib.fileio.atomic_write`), with the record of every setting that
determines the search (:func:`run_identity`: method, config, seed, data) and its hash
(:mod:`snnlib.nas.identity`). A search finding its checkpoint continues after its last epoch
(a finished one returns without a step); a checkpoint written under other settings is a
:class:`~snnlib.validation.ConfigError` naming the differing fields. Checkpoints are read
with ``torch.load(weights_only=True)``: tensors and plain data only, nothing in a file runs.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from ..attention import ATTENTION
from ..fileio import atomic_write
from ..nas.bilevel_steps import (
    BilevelConfig,
    BilevelDiverged,
    arch_step,
    check_finite,
    make_search_optimizers,
    weight_step,
)
from ..nas.identity import check_checkpoint, differing_fields, identity_hash, plain
from ..nas.methods import register_search
from ..nas.seeding import derive_seed
from ..validation import ConfigError, check_choice, check_range
from .darts_data import DartsData
from .space import edges_of
from .supernet import SpikeNASSupernet
from .table import BenchTable

CHECKPOINT_FORMAT = "snnlib.spikenas.darts/1"
_FIELDS = {
    "format": str,
    "identity": dict,
    "identity_hash": str,
    "epoch": int,
    "model": dict,
    "w_opt": dict,
    "a_opt": dict,
    "scheduler": dict,
    "records": list,
    "seconds": (float, int),
}


class DartsDiverged(BilevelDiverged):
    """A search loss became NaN or infinite."""


#: The fields of :class:`DartsConfig` beyond :class:`~snnlib.nas.bilevel_steps.BilevelConfig`'s,
#: in the order of its record (then the optimizers' fields).
_LOOP_FIELDS = (
    "width",
    "time_steps",
    "epochs",
    "batch_size",
    "n_weight",
    "n_arch",
    "attention",
    "order",
    "dropout",
)


@dataclass(frozen=True)
class DartsConfig(BilevelConfig):
    """What determines a search besides its seed and data: the supernet (``width``,
    ``time_steps``, ``dropout``, ``attention``), the loop (``epochs``, ``batch_size``, the
    subset sizes ``n_weight`` and ``n_arch``) and the optimizers and ``order`` of the
    architecture gradient (:class:`~snnlib.nas.bilevel_steps.BilevelConfig`, DARTS'
    defaults: weights SGD lr 0.025 cosine to 0.001, momentum 0.9, weight decay 3e-4, gradient
    clip 5; architecture Adam lr 3e-4, betas (0.5, 0.999), weight decay 1e-3; second order:
    ``xi`` the virtual step, None for the current weight lr, and the finite-difference
    ``fd_eps``). Invalid values are a :class:`ConfigError` naming the field.
    """

    width: float = 1 / 16
    time_steps: int = 5
    epochs: int = 50
    batch_size: int = 64
    n_weight: int = 1000
    n_arch: int = 1000
    attention: str = "none"
    dropout: float = 0.5

    def __post_init__(self):
        check_range("width", self.width, 1e-3, 8.0)
        check_range("time_steps", self.time_steps, 1, None, integer=True)
        check_range("epochs", self.epochs, 1, None, integer=True)
        for name in ("n_weight", "n_arch"):
            check_range(name, getattr(self, name), 20, 25_000, integer=True)
            if getattr(self, name) % 10:
                raise ConfigError(f"{name}={getattr(self, name)} must be a multiple of 10")
        check_range("batch_size", self.batch_size, 2, min(self.n_weight, self.n_arch), integer=True)
        check_choice("attention", self.attention, ATTENTION)
        check_range("dropout", self.dropout, 0.0, 1.0)
        super().__post_init__()

    @property
    def steps_per_epoch(self) -> int:
        """Full batches per epoch: each step takes one batch of each subset."""
        return min(self.n_weight, self.n_arch) // self.batch_size

    def record(self) -> dict:
        """The config as plain JSON data (the result file's and the checkpoint's record)."""
        d = asdict(self)
        d["arch_betas"] = list(self.arch_betas)
        return {**{k: d.pop(k) for k in _LOOP_FIELDS}, **d}


@dataclass
class DartsRun:
    """One seeded search: per-epoch ``records`` (``epoch``, ``lr``, ``weight_loss`` /
    ``weight_acc`` and ``arch_loss`` / ``arch_acc`` (running means over the epoch's steps),
    the derived ``edges`` and ``arch_id``, ``arch_weights`` (softmax of alpha, 6 x 5), the
    epoch's ``seconds``; with a table ``test_acc`` and ``percentile``), the final derived
    cell, the final ``alpha``, the search's total ``seconds``, its ``config`` record and
    ``seed``, and the epoch a resumed run started from."""

    seed: int
    config: dict
    records: list[dict]
    arch_id: int
    edges: tuple[int, ...]
    alpha: list[list[float]]
    seconds: float
    resumed_from_epoch: int = 0
    identity_hash: str = ""
    data: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON data (for a result file)."""
        return plain(asdict(self))


def run_identity(config: DartsConfig, seed: int, data: DartsData) -> dict:
    """The record of every setting that determines a search's result."""
    return {
        "method": "spikenas-darts",
        "config": config.record(),
        "seed": int(seed),
        "data": data.identity(),
    }


def build_supernet(config: DartsConfig, seed: int) -> SpikeNASSupernet:
    """The supernet of ``config`` with weights and alpha drawn from ``seed`` (the caller's
    generator state is kept)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "spikenas-darts/init"))
        return SpikeNASSupernet(
            width=config.width,
            time_steps=config.time_steps,
            dropout=config.dropout,
            attention=config.attention,
        )


def epoch_order(seed: int, epoch: int, n: int, subset: str) -> torch.Tensor:
    """The order of a subset (``"weight"`` or ``"arch"``) in epoch ``epoch`` (from 0): a
    permutation that depends on ``(seed, epoch, subset)`` only."""
    g = torch.Generator().manual_seed(derive_seed(seed, f"spikenas-darts/{subset}-order", epoch))
    return torch.randperm(n, generator=g)


# -- checkpoint ------------------------------------------------------------------------------


def save_checkpoint(path: Path, state: dict) -> Path:
    """``torch.save`` ``state`` to ``path`` atomically."""
    return atomic_write(path, lambda f: torch.save(state, f), binary=True)


def load_checkpoint(path: Path, identity: dict) -> dict:
    """The checkpoint at ``path`` read as data only, checked (format, keys, types, hash) and
    written under ``identity``; otherwise a :class:`ConfigError` naming the path and what is
    wrong (the differing fields of another search's checkpoint)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 (UnpicklingError, RuntimeError, EOFError, ...)
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ConfigError(
            f"checkpoint {path} cannot be read as a torch file of tensors and plain data "
            f"(truncated, or not a checkpoint; nothing in it was run): {type(exc).__name__}: "
            f"{first}"
        ) from None
    check_checkpoint(state, path, CHECKPOINT_FORMAT, _FIELDS, version_key="format")
    diff = differing_fields(state["identity"], plain(identity))
    if diff:
        raise ConfigError(
            f"checkpoint {path} was written by another search (differing: {', '.join(diff)}); "
            "move it away or give this search a checkpoint path of its own"
        )
    return state


# -- the search ------------------------------------------------------------------------------


def _check_finite(loss: torch.Tensor, what: str, epoch: int, step: int, checkpoint) -> None:
    kept = f"the last checkpoint is kept at {checkpoint}" if checkpoint else "no checkpoint"
    check_finite(loss, what, f"epoch {epoch + 1}, step {step + 1}", kept, DartsDiverged)


def _run_epoch(model, data, config, seed, epoch, opts, device, checkpoint, on_step) -> dict:
    """The steps of epoch ``epoch`` (from 0): per step one architecture step and one weight
    step, then one scheduler step. Returns the epoch's running means."""
    w_opt, sched, a_opt = opts
    criterion = nn.CrossEntropyLoss()
    w_order = epoch_order(seed, epoch, len(data.weight.y), "weight")
    a_order = epoch_order(seed, epoch, len(data.arch.y), "arch")
    lr = float(w_opt.param_groups[0]["lr"])
    xi = config.xi if config.xi is not None else lr
    sums = {"weight_loss": 0.0, "weight_acc": 0.0, "arch_loss": 0.0, "arch_acc": 0.0}
    n = 0
    model.train()
    b = config.batch_size
    for step in range(config.steps_per_epoch):
        wi, ai = w_order[step * b : (step + 1) * b], a_order[step * b : (step + 1) * b]
        xw, yw = data.weight.x[wi].to(device), data.weight.y[wi].to(device)
        xa, ya = data.arch.x[ai].to(device), data.arch.y[ai].to(device)
        a_loss, a_out = arch_step(
            model,
            a_opt,
            criterion,
            xa,
            ya,
            order=config.order,
            x_train=xw,
            y_train=yw,
            xi=xi,
            fd_eps=config.fd_eps,
        )
        _check_finite(a_loss, "architecture", epoch, step, checkpoint)
        w_loss, w_out = weight_step(model, w_opt, criterion, xw, yw, config.grad_clip)
        _check_finite(w_loss, "weight", epoch, step, checkpoint)
        sums["arch_loss"] += float(a_loss) * b
        sums["arch_acc"] += float((a_out.argmax(1) == ya).sum())
        sums["weight_loss"] += float(w_loss) * b
        sums["weight_acc"] += float((w_out.argmax(1) == yw).sum())
        n += b
        on_step()
    sched.step()
    return {"lr": lr, **{k: v / n for k, v in sums.items()}}


def _judge(record: dict, table: BenchTable | None) -> dict:
    """The record with the table's test accuracy of its derived cell and that accuracy's
    percentile in the space (unchanged without a table)."""
    if table is None:
        return record
    acc = float(table.test_acc[record["arch_id"]])
    return {**record, "test_acc": acc, "percentile": table.percentile(acc)}


def run_darts_search(
    config: DartsConfig,
    seed: int,
    data: DartsData,
    table: BenchTable | None = None,
    checkpoint: str | Path | None = None,
    progress: bool = False,
    device: str | torch.device = "cpu",
) -> DartsRun:
    """One seeded DARTS search over the SpikeNAS-Bench cells (see the module docstring).

    Args:
        config: the supernet, loop and optimizer settings.
        seed: draws the initial weights and alpha, the epoch orders and the dropout masks.
        data: the weight and architecture images
            (:func:`~snnlib.spikenas.darts_data.load_darts_data` with ``config.n_weight`` and
            ``config.n_arch``).
        table: the benchmark's table (:func:`~snnlib.spikenas.table.load_table`), to record
            each epoch's derived cell's test accuracy and percentile; it never guides.
        checkpoint: file written after every epoch, resumed from when it exists.
        progress: a tqdm bar over the steps.
        device: where the supernet runs (the data stay on the CPU; batches are moved).
    """
    if not isinstance(config, DartsConfig):
        raise ConfigError(f"config must be a DartsConfig, got {type(config).__name__}")
    check_range("seed", seed, 0, None, integer=True)
    if not isinstance(data, DartsData):
        raise ConfigError(f"data must be a DartsData, got {type(data).__name__}")
    for name, probe, n in (
        ("weight", data.weight, config.n_weight),
        ("arch", data.arch, config.n_arch),
    ):
        if len(probe.y) != n:
            raise ConfigError(f"data.{name} holds {len(probe.y)} images, config.n_{name} says {n}")
    identity = run_identity(config, seed, data)
    path = Path(checkpoint) if checkpoint is not None else None
    device = torch.device(device)
    model = build_supernet(config, seed).to(device)
    opts = make_search_optimizers(model, config)
    records: list[dict] = []
    seconds, start = 0.0, 0
    if path is not None and path.exists():
        state = load_checkpoint(path, identity)
        try:
            model.load_state_dict(state["model"])
            for obj, key in zip(opts, ("w_opt", "scheduler", "a_opt")):
                obj.load_state_dict(state[key])
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"checkpoint {path} does not fit this search: {exc}") from None
        records, seconds, start = list(state["records"]), float(state["seconds"]), state["epoch"]

    n_steps = config.steps_per_epoch
    bar = tqdm(
        total=n_steps * config.epochs,
        initial=n_steps * start,
        desc="spikenas-darts",
        disable=not progress,
        leave=False,
    )
    rng_devices = [device.index or 0] if device.type == "cuda" else []
    try:
        for epoch in range(start, config.epochs):
            t0 = time.perf_counter()
            with torch.random.fork_rng(devices=rng_devices):
                torch.manual_seed(derive_seed(seed, "spikenas-darts/epoch", epoch))
                stats = _run_epoch(
                    model, data, config, seed, epoch, opts, device, path, lambda: bar.update(1)
                )
            record = {
                "epoch": epoch + 1,
                **stats,
                "edges": list(model.derive()),
                "arch_id": model.derived_arch_id(),
                "arch_weights": model.arch_weights().cpu().tolist(),
                "seconds": time.perf_counter() - t0,
            }
            records.append(record)
            seconds += record["seconds"]
            judged = _judge(record, table)
            bar.set_postfix(arch=judged["arch_id"], acc=judged.get("test_acc", "-"))
            if path is not None:
                w_opt, sched, a_opt = opts
                state = {
                    "format": CHECKPOINT_FORMAT,
                    "identity": identity,
                    "identity_hash": identity_hash(identity),
                    "epoch": epoch + 1,
                    "model": model.state_dict(),
                    "w_opt": w_opt.state_dict(),
                    "a_opt": a_opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "records": records,
                    "seconds": seconds,
                }
                save_checkpoint(path, state)
    finally:
        bar.close()
    arch_id = model.derived_arch_id()
    return DartsRun(
        seed=int(seed),
        config=config.record(),
        records=[_judge(r, table) for r in records],
        arch_id=arch_id,
        edges=edges_of(arch_id),
        alpha=model.alpha.detach().cpu().tolist(),
        seconds=seconds,
        resumed_from_epoch=start,
        identity_hash=identity_hash(identity),
        data=_data_summary(identity["data"]),
    )


def _data_summary(data_identity: dict) -> dict:
    """The data's identity without the label lists: split rule, seed, sizes, checksums."""
    out = {k: data_identity[k] for k in ("split", "seed")}
    for name in ("weight", "arch"):
        out[name] = {k: data_identity[name][k] for k in ("n", "pixels_sha256", "source")}
    return out


register_search(
    "spikenas-darts",
    run_darts_search,
    space="spikenas",
    summary="DARTS over the SpikeNAS-Bench cells (one alpha for both cells, first or second "
    "order, MA-DARTS attention optional), judged by the benchmark's table",
)
