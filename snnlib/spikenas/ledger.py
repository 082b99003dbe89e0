r"""The proxy ledger: training-free scores of SpikeNAS-Bench cells on real CIFAR-10 probe images.

For every architecture of a sample, one untrained :class:`~snnlib.spikenas.SpikeNASNet`
(weights seeded by ``derive_seed(seed, "spikenas:<arch id>")``, so a cell's scores do not
depend on which process computes it or in what order) is run once on a class-balanced probe
batch with batch-norm batch statistics, and every score named in ``LedgerConfig.proxies`` (any
entry of the NAS core's registry, :data:`snnlib.nas.proxies.PROXIES`) reads that one
recording (:class:`snnlib.nas.proxies.ProbeRun`): the RDM fitness variants, SAHD, NASWOT and
the MSE-NAS authors' released scorer from one Gram matrix of spike patterns per layer and
step, the firing rate, and, with their own passes, grad-norm (one backward on ``grad_batch``
probe images) and SynFlow; the parameter count and a random score are the baselines a proxy
must beat. Seconds are recorded per candidate and per proxy (shared work is charged in full
to every proxy that needs it). The proxy list is part of the ledger's identity: a checkpoint
written under another list is refused, never resumed with a missing column.

The ledger runs through any executor (:class:`snnlib.nas.executors.SyncExecutor`, a Dask
client) in chunks; after every chunk its rows are written to a JSON checkpoint (never a
pickle) that carries the full record of the settings; a rerun with the same settings resumes
from it, and a checkpoint written under other settings is an error that names the differing
fields.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import dryrun
from ..data.splits import class_balanced_positions
from ..fileio import atomic_write
from ..nas.executors import SyncExecutor
from ..nas.identity import differing_fields, identity_hash, plain, read_checkpoint, with_hash
from ..nas.lsp import SCALARS as LSP_SCALARS
from ..nas.proxies import PROXIES, ProbeRun, check_proxies, output_spikes, score_proxies
from ..nas.rdm import RDM_VARIANTS
from ..nas.seeding import derive_seed
from ..runtime import torch_threads
from ..validation import ConfigError, check_range
from .network import SpikeNASNet
from .space import N_ARCHS, check_arch_id, edges_of

BENCH_MEAN = (0.4913, 0.4821, 0.4465)
BENCH_STD = (0.2470, 0.2434, 0.2615)
DEFAULT_RDM = "rdm correlation/spearman/mean"
LEDGER_PROXIES = (
    "sahd",
    "naswot",
    *RDM_VARIANTS,
    *(f"{s}{v}" for s in LSP_SCALARS for v in ("", "/corrected")),
    "firing_rate",
    "grad_norm",
    "synflow",
    "params",
    "random",
)
"""The ledger's built-in scores (registry names), in the order they are computed."""


def ledger_proxies() -> tuple[str, ...]:
    """The ledger's default scores: :data:`LEDGER_PROXIES`, then every other score of the
    proxy registry in the order it was registered, so that one ``register_proxy`` call puts a
    new score into the ledger (and, through the ledger's identity, refuses a checkpoint
    written without it)."""
    return (*LEDGER_PROXIES, *(name for name in PROXIES if name not in LEDGER_PROXIES))


CHECKPOINT_VERSION = 2  # 1: no identity_hash, rows not validated on resume
_CHECKPOINT_FIELDS = {"version": int, "identity": dict, "identity_hash": str, "rows": list}


@dataclass(frozen=True)
class Probe:
    """Class-balanced probe images ``x`` [B, 3, 32, 32] (normalised as the benchmark) and labels."""

    x: torch.Tensor
    y: torch.Tensor
    source: str = "unknown"

    def identity(self) -> dict:
        """What identifies the probe: its size, labels and a checksum of its pixels."""
        import hashlib

        digest = hashlib.sha256(self.x.numpy().tobytes()).hexdigest()[:16]
        return {
            "n": len(self.y),
            "labels": self.y.tolist(),
            "pixels_sha256": digest,
            "source": self.source,
        }


def make_probe(
    images_uint8: np.ndarray,
    labels: Sequence[int],
    n_per_class: int,
    seed: int,
    source: str = "unknown",
) -> Probe:
    """``n_per_class`` images of each class (drawn by ``seed``, ordered by class) from uint8
    ``[N, 32, 32, 3]`` images, normalised with the benchmark's mean and std."""
    check_range("n_per_class", n_per_class, 2, None, integer=True)
    labels = np.asarray(labels)
    idx = class_balanced_positions(labels, n_per_class, seed=seed)
    x = torch.from_numpy(np.ascontiguousarray(images_uint8[idx])).permute(0, 3, 1, 2).float() / 255
    x = (x - torch.tensor(BENCH_MEAN).view(1, 3, 1, 1)) / torch.tensor(BENCH_STD).view(1, 3, 1, 1)
    return Probe(x.contiguous(), torch.as_tensor(labels[idx], dtype=torch.long), source)


def cifar_probe(n_per_class: int, seed: int, root=None) -> Probe:
    """A class-balanced probe of CIFAR-10 training images (``load_dataset("cifar10", "train")``:
    torchvision's files when present, else the embedded copy), normalised as the benchmark."""
    from ..data import load_dataset

    ds = load_dataset("cifar10", "train", root=root)
    return make_probe(ds.images_uint8(), ds.targets, n_per_class, seed, source=ds.source)


@dataclass(frozen=True)
class LedgerConfig:
    """What determines a ledger row: network width and time steps, the seed of the weights,
    which scores (registry names, :func:`ledger_proxies` by default) and the gradient batch."""

    width: float = 1 / 16
    time_steps: int = 5
    seed: int = 0
    proxies: tuple[str, ...] = field(default_factory=ledger_proxies)
    grad_batch: int = 20
    threads: int | None = 1

    def __post_init__(self):
        check_range("width", self.width, 1e-3, 8.0)
        check_range("time_steps", self.time_steps, 1, None, integer=True)
        check_range("seed", self.seed, 0, None, integer=True)
        check_range("grad_batch", self.grad_batch, 2, None, integer=True)
        object.__setattr__(self, "proxies", check_proxies(self.proxies))

    def record(self) -> dict:
        d = asdict(self)
        d["proxies"] = list(self.proxies)
        d.pop("threads")  # how fast, not what
        return d


def build(arch_id: int, cfg: LedgerConfig) -> SpikeNASNet:
    """The untrained network of ``arch_id``, seeded by the cell's identity (no dropout)."""
    torch.manual_seed(derive_seed(cfg.seed, f"spikenas:{check_arch_id(arch_id)}"))
    return SpikeNASNet(edges_of(arch_id), width=cfg.width, time_steps=cfg.time_steps, dropout=0.0)


def score_cell(arch_id: int, probe: Probe, cfg: LedgerConfig) -> dict:
    """Every score of ``cfg.proxies`` for one cell, and the seconds each took (see the module
    docstring), with the output layer's spike count over the probe (``output_spikes``)."""
    with torch_threads(cfg.threads):
        net = build(arch_id, cfg)
        run = ProbeRun(
            net,
            probe.x,
            probe.y,
            key=f"spikenas:{int(arch_id)}",
            seed=cfg.seed,
            grad_batch=cfg.grad_batch,
        )
        out_spikes = output_spikes(run.counts)
        values, seconds = score_proxies(run, cfg.proxies)
        return {"arch_id": int(arch_id), **values, "output_spikes": out_spikes, "seconds": seconds}


def score_chunk(arch_ids: Sequence[int], probe: Probe, cfg: LedgerConfig) -> list[dict]:
    """:func:`score_cell` for each id of a chunk (one executor task)."""
    return [score_cell(a, probe, cfg) for a in arch_ids]


@dataclass
class Ledger:
    """Rows by architecture id, with the record of the settings that produced them."""

    identity: dict
    rows: dict[int, dict] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "version": CHECKPOINT_VERSION,
            "identity": self.identity,
            "identity_hash": identity_hash(self.identity),
            "rows": [self.rows[a] for a in sorted(self.rows)],
        }

    def column(self, name: str, arch_ids: Sequence[int]) -> np.ndarray:
        return np.array([self.rows[int(a)][name] for a in arch_ids], dtype=np.float64)


def ledger_identity(cfg: LedgerConfig, probe: Probe) -> dict:
    """The full record of what determines a row: the configuration and the probe."""
    return {"config": cfg.record(), "probe": probe.identity()}


def checkpoint_name(stem: str, identity: dict) -> str:
    """``<stem>__<12 hex digits of the identity's hash>.json``: settings never share a file
    (:func:`snnlib.nas.identity.with_hash`)."""
    return with_hash(f"{stem}.json", identity).name


def _check_rows(rows: list, proxies: Sequence[str], path) -> dict[int, dict]:
    """Ledger rows by id, each checked before it is trusted: a cell of the space, listed once,
    with a number (or null) for every score of the ledger and the seconds of each."""
    out: dict[int, dict] = {}
    for i, r in enumerate(rows):
        where = f"ledger checkpoint {path}: rows[{i}]"
        if not isinstance(r, dict):
            raise ConfigError(f"{where} is a {type(r).__name__}, not an object")
        try:
            a = check_arch_id(r.get("arch_id"))
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if a in out:
            raise ConfigError(f"{where}: cell {a} is listed twice")
        seconds = r.get("seconds")
        for name in proxies:
            v = r.get(name, "<missing>")
            if isinstance(v, bool) or not (v is None or isinstance(v, (int, float))):
                raise ConfigError(f"{where} (cell {a}): score {name!r} is {v!r}, not a number")
            if not isinstance(seconds, dict) or not isinstance(seconds.get(name), (int, float)):
                raise ConfigError(f"{where} (cell {a}): no seconds for score {name!r}")
        out[a] = r
    return out


def load_ledger(path: Path, identity: dict) -> Ledger:
    """The checkpoint at ``path`` if it was written under ``identity`` (its proxy list
    included), its rows checked; a clear error naming the path and what is wrong otherwise."""
    data = read_checkpoint(path, CHECKPOINT_VERSION, _CHECKPOINT_FIELDS, what="ledger checkpoint")
    diff = differing_fields(data["identity"], plain(identity))
    if diff:
        raise ConfigError(
            f"ledger checkpoint {path} was written under other settings (differing: "
            f"{', '.join(diff)}); move it away or use a checkpoint path of its own"
        )
    proxies = identity.get("config", {}).get("proxies", [])
    return Ledger(identity, _check_rows(data["rows"], proxies, path))


def run_ledger(
    arch_ids: Sequence[int],
    probe: Probe,
    cfg: LedgerConfig,
    *,
    checkpoint: Path | None = None,
    executor=None,
    chunk: int = 20,
    in_flight: int = 1,
    progress: bool = True,
) -> Ledger:
    """Score every id of ``arch_ids`` (resuming from ``checkpoint`` when it holds rows).

    Chunks of ``chunk`` ids are submitted to ``executor`` with at most ``in_flight`` of them
    pending (1 for the in-process executor, about twice the workers for a Dask client); the
    checkpoint is rewritten after every finished chunk, so a killed run loses at most the
    chunks in flight.
    """
    ids = [check_arch_id(a) for a in arch_ids]
    if len(set(ids)) != len(ids):
        raise ConfigError("arch_ids must be distinct")
    check_range("chunk", chunk, 1, None, integer=True)
    check_range("in_flight", in_flight, 1, None, integer=True)
    identity = ledger_identity(cfg, probe)
    if checkpoint and Path(checkpoint).exists():
        ledger = load_ledger(checkpoint, identity)
    else:
        ledger = Ledger(identity)
    todo = [a for a in ids if a not in ledger.rows]
    if dryrun.active():  # a dry run: the first cells, one at a time, measured, no checkpoint
        meter = dryrun.loop("score cell", len(todo))
        for a in todo:
            if meter.done():
                break
            with meter.step():
                (row,) = score_chunk([a], probe, cfg)
            ledger.rows[row["arch_id"]] = row
        return ledger
    chunks = [todo[i : i + chunk] for i in range(0, len(todo), chunk)]
    executor = executor or SyncExecutor()
    from collections import deque

    from tqdm.auto import tqdm

    bar = tqdm(total=len(ids), initial=len(ids) - len(todo), desc="ledger", disable=not progress)
    pending: deque = deque()

    def drain(keep: int) -> None:
        while len(pending) > keep:
            rows = pending.popleft().result()
            for row in rows:
                ledger.rows[row["arch_id"]] = row
            bar.update(len(rows))
            if checkpoint:
                atomic_write(checkpoint, lambda f: json.dump(ledger.to_json(), f))

    for c in chunks:
        pending.append(executor.submit(score_chunk, c, probe, cfg))
        drain(in_flight - 1)
    drain(0)
    bar.close()
    return ledger


def stratified_sample(test_acc: np.ndarray, n: int, seed: int, bins: int = 10) -> np.ndarray:
    """``n`` distinct architecture ids, allocated to ``bins`` test-accuracy quantile bins in
    proportion to their size (the dead cells, at 10 %, are a bin of their own), drawn by
    ``seed`` within each bin; sorted. The sample spans the whole accuracy range with the
    space's own proportions."""
    check_range("n", n, 2, N_ARCHS, integer=True)
    rng = np.random.default_rng(seed)
    acc = np.asarray(test_acc)
    dead = np.flatnonzero(acc <= 10.0)
    live = np.flatnonzero(acc > 10.0)
    edges = np.quantile(acc[live], np.linspace(0, 1, bins + 1))
    groups = [dead] + [
        live[(acc[live] >= lo) & ((acc[live] < hi) if i < bins - 1 else True)]
        for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:]))
    ]
    sizes = np.array([len(g) for g in groups], dtype=float)
    quota = np.floor(n * sizes / sizes.sum()).astype(int)
    for i in np.argsort(-(n * sizes / sizes.sum() - quota))[: n - quota.sum()]:
        quota[i] += 1
    picks = [rng.choice(g, q, replace=False) for g, q in zip(groups, quota) if q]
    return np.sort(np.concatenate(picks))
