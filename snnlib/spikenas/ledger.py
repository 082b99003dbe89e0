r"""The proxy ledger: training-free scores of SpikeNAS-Bench cells on real CIFAR-10 probe images.

For every architecture of a sample, one untrained :class:`~snnlib.spikenas.SpikeNASNet`
(weights seeded by ``derive_seed(seed, "spikenas:<arch id>")``, so a cell's scores do not
depend on which process computes it or in what order) is run once on a class-balanced probe
batch with batch-norm batch statistics. From that one recording of every LIF layer come

- the **RDM fitness** of MSE-NAS in its default and variant configurations
  (:mod:`snnlib.nas.rdm`);
- **SAHD** (SNASNet) and **NASWOT** (the activation-kernel score of which SAHD is the spiking
  variant), from one Hamming matrix per layer and step;
- the **mean firing rate**;

and, with their own passes, **grad-norm** (one backward on the first ``grad_batch`` probe
images) and **SynFlow** (data-free). The **parameter count** and a **random score** are the
baselines a proxy must beat. Seconds are recorded per candidate and per proxy (the shared
forward pass is charged to every proxy that uses it).

The ledger runs through any executor (:class:`snnlib.nas.executors.SyncExecutor`, a Dask
client) in chunks; after every chunk its rows are written to a JSON checkpoint (never a
pickle) that carries the full record of the settings; a rerun with the same settings resumes
from it, and a checkpoint written under other settings is an error that names the differing
fields.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import dryrun
from ..fileio import atomic_write
from ..models import count_parameters
from ..nas.executors import SyncExecutor
from ..nas.proxies import random_score
from ..nas.rdm import RDM_VARIANTS, RDMConfig, aggregate, categorical_rdm, compare_rows, upper
from ..nas.seeding import derive_seed
from ..nas.zero_cost import grad_norm, synflow
from ..runtime import torch_threads
from ..spikes import record_spikes
from ..validation import ConfigError, check_range
from .network import SpikeNASNet
from .space import N_ARCHS, check_arch_id, edges_of

BENCH_MEAN = (0.4913, 0.4821, 0.4465)
BENCH_STD = (0.2470, 0.2434, 0.2615)
DEFAULT_RDM = "rdm correlation/spearman/mean"
CHECKPOINT_VERSION = 1


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
    rng = np.random.default_rng(seed)
    idx = []
    for c in np.unique(labels):
        pool = np.flatnonzero(labels == c)
        if len(pool) < n_per_class:
            raise ConfigError(f"class {c} has {len(pool)} images; n_per_class={n_per_class}")
        idx.extend(sorted(rng.choice(pool, n_per_class, replace=False).tolist()))
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
    the RDM variants, which proxies, and the grad-norm batch."""

    width: float = 1 / 16
    time_steps: int = 5
    seed: int = 0
    rdm_variants: tuple[str, ...] = tuple(RDM_VARIANTS)
    gradient_proxies: bool = True
    grad_batch: int = 20
    threads: int | None = 1

    def __post_init__(self):
        check_range("width", self.width, 1e-3, 8.0)
        check_range("time_steps", self.time_steps, 1, None, integer=True)
        check_range("seed", self.seed, 0, None, integer=True)
        check_range("grad_batch", self.grad_batch, 2, None, integer=True)
        unknown = [v for v in self.rdm_variants if v not in RDM_VARIANTS]
        if unknown:
            raise ConfigError(
                f"rdm_variants {unknown} are unknown; choose from {list(RDM_VARIANTS)}"
            )

    def record(self) -> dict:
        d = asdict(self)
        d["rdm_variants"] = list(self.rdm_variants)
        d.pop("threads")  # how fast, not what
        return d


def build(arch_id: int, cfg: LedgerConfig) -> SpikeNASNet:
    """The untrained network of ``arch_id``, seeded by the cell's identity (no dropout)."""
    torch.manual_seed(derive_seed(cfg.seed, f"spikenas:{check_arch_id(arch_id)}"))
    return SpikeNASNet(edges_of(arch_id), width=cfg.width, time_steps=cfg.time_steps, dropout=0.0)


def _hamming_kernels(
    spikes: dict[str, torch.Tensor], hamming_rdms: dict | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""SAHD's and NASWOT's kernels from one Hamming matrix per layer and step (exact integer
    counts in float32 matrix products, the kernels in float64). With ``hamming_rdms`` (a dict)
    it also receives each layer's Hamming RDM over all steps, :math:`\sum_t H_t / (T N)`:
    exactly :func:`snnlib.nas.rdm.rdm` ``(patterns, "hamming")``, from the same products."""
    K_sahd = K_nwot = None
    calls = 0
    for name, s in spikes.items():
        b = (s > 0).to(torch.float32)  # [T, B, N]; counts < 2**24 are exact
        n = b.shape[-1]
        ones = b.sum(-1).to(torch.float64)
        H = ones[:, :, None] + ones[:, None, :] - 2 * (b @ b.transpose(1, 2)).to(torch.float64)
        r = ones / n
        E = n * (r[:, :, None] * (1 - r[:, None, :]) + (1 - r[:, :, None]) * r[:, None, :])
        ks = (n - 0.5 / (E + 1e-3) * H).sum(0)
        kn = (n - H).sum(0)
        K_sahd = ks if K_sahd is None else K_sahd + ks
        K_nwot = kn if K_nwot is None else K_nwot + kn
        calls += b.shape[0]
        if hamming_rdms is not None:
            D = H.sum(0) / (b.shape[0] * n)
            D.fill_diagonal_(0.0)
            hamming_rdms[name] = D
    return K_sahd / calls, K_nwot


def _score_rdms(
    rdms: dict[str, torch.Tensor], target: torch.Tensor, rc: RDMConfig, output_spikes: bool
) -> float:
    """:func:`snnlib.nas.rdm.aggregate` for RDMs already computed (``mean``, ``last``, ``max``;
    0 under ``require_output_spikes`` when the last spiking layer emitted no spike)."""
    if rc.aggregation not in ("mean", "last", "max"):
        raise ConfigError(f"rdm.aggregation={rc.aggregation!r} needs the responses themselves")
    if not rdms:
        return 0.0
    names = list(rdms)
    if rc.require_output_spikes and not output_spikes:
        return 0.0
    if rc.aggregation == "last":
        names = names[-1:]
    n = target.shape[0]
    i, j = torch.triu_indices(n, n, offset=1)
    uppers = torch.stack([rdms[k][i, j] for k in names])
    scores = compare_rows(uppers, upper(target), rc.comparison).tolist()
    return float(max(scores)) if rc.aggregation == "max" else float(sum(scores) / len(scores))


def score_cell(arch_id: int, probe: Probe, cfg: LedgerConfig) -> dict:
    """Every proxy of one cell, and the seconds each took (see the module docstring)."""
    with torch_threads(cfg.threads):
        net = build(arch_id, cfg)
        row: dict = {"arch_id": int(arch_id)}
        sec: dict = {}
        t0 = time.perf_counter()
        with torch.no_grad():
            spikes = record_spikes(net, probe.x)
        t_fwd = time.perf_counter() - t0
        t = time.perf_counter()
        hamming: dict = {}
        K_sahd, K_nwot = _hamming_kernels(spikes, hamming)
        row["sahd"] = float(torch.linalg.slogdet(K_sahd)[1])
        row["naswot"] = float(torch.linalg.slogdet(K_nwot)[1])
        t_kernels = time.perf_counter() - t
        sec["sahd"] = sec["naswot"] = t_fwd + t_kernels / 2
        counts = {k: v.sum(0).flatten(1).to(torch.float64) for k, v in spikes.items()}
        row["output_spikes"] = float(counts[list(counts)[-1]].sum()) if counts else 0.0
        target = categorical_rdm(probe.y)
        for name in cfg.rdm_variants:
            rc: RDMConfig = RDM_VARIANTS[name]
            t = time.perf_counter()
            if rc.temporal:
                row[name] = _score_rdms(hamming, target, rc, row["output_spikes"] > 0)
                sec[name] = t_fwd + t_kernels + time.perf_counter() - t
            else:
                row[name] = float(aggregate(counts, target, rc))
                sec[name] = t_fwd + time.perf_counter() - t
        total = sum(float(s.sum()) for s in spikes.values())
        row["firing_rate"] = total / max(sum(s.numel() for s in spikes.values()), 1)
        sec["firing_rate"] = t_fwd
        del spikes, counts, hamming
        if cfg.gradient_proxies:
            t = time.perf_counter()
            n = min(cfg.grad_batch, len(probe.y))
            sel = torch.linspace(0, len(probe.y) - 1, n).round().long()  # every class
            row["grad_norm"] = grad_norm(net, probe.x[sel], probe.y[sel])
            sec["grad_norm"] = time.perf_counter() - t
            t = time.perf_counter()
            row["synflow"] = synflow(net, (1, 3, *probe.x.shape[-2:]))
            sec["synflow"] = time.perf_counter() - t
        row["params"] = float(count_parameters(net))
        sec["params"] = 0.0
        row["random"] = random_score(f"spikenas:{int(arch_id)}", cfg.seed)
        sec["random"] = 0.0
        row["seconds"] = sec
        return row


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
            "rows": [self.rows[a] for a in sorted(self.rows)],
        }

    def column(self, name: str, arch_ids: Sequence[int]) -> np.ndarray:
        return np.array([self.rows[int(a)][name] for a in arch_ids], dtype=np.float64)


def ledger_identity(cfg: LedgerConfig, probe: Probe) -> dict:
    """The full record of what determines a row: the configuration and the probe."""
    return {"config": cfg.record(), "probe": probe.identity()}


def checkpoint_name(stem: str, identity: dict) -> str:
    """``<stem>__<12 hex digits of the identity's sha256>.json``: settings never share a file."""
    import hashlib

    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    return f"{stem}__{digest}.json"


def _differing(a: dict, b: dict, prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += _differing(va, vb, f"{prefix}{k}.")
        elif va != vb:
            out.append(f"{prefix}{k}")
    return out


def load_ledger(path: Path, identity: dict) -> Ledger:
    """The checkpoint at ``path`` if it was written under ``identity``; a clear error otherwise."""
    try:
        data = json.loads(Path(path).read_text())
        if data.get("version") != CHECKPOINT_VERSION:
            raise ValueError(f"version {data.get('version')!r}, expected {CHECKPOINT_VERSION}")
        rows = {int(r["arch_id"]): r for r in data["rows"]}
        stored = data["identity"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"ledger checkpoint {path} is unreadable: {exc}") from exc
    diff = _differing(stored, identity)
    if diff:
        raise ConfigError(
            f"ledger checkpoint {path} was written under other settings (differing: "
            f"{', '.join(diff)}); move it away or use a checkpoint path of its own"
        )
    return Ledger(identity, rows)


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
