"""The step cap of a dry run: every loop of snnlib stops after ``k`` steps and says what it cost.

A paper-scale run takes GPU days; before renting a GPU a user wants to know what it costs.
A *dry run* runs a notebook's real paper path (model construction, data at paper settings,
the first steps of every training, search and evaluation loop) with a process-wide cap of
``k`` steps per loop, and measures each loop's steps. One cap serves every loop, so no
notebook repeats it: :func:`snnlib.book.setup.start` sets it from the notebook's
``max_steps`` parameter (0: no cap, the normal run), and the loops consult it:

- :func:`snnlib.train.fit` (a step: one training batch, forward and backward) and
  :func:`snnlib.train.evaluate` (a step: one evaluation batch);
- :func:`snnlib.darts.bilevel.search` (a step: one architecture step and one weight step);
- :func:`snnlib.mse.evolution.evolve` (a step: one fitness evaluation; the search stops after
  the generation in which the cap was reached);
- :func:`snnlib.spikenas.ledger.run_ledger` (a step: one cell scored).

Each loop opens a :class:`Loop` with the number of steps the *uncapped* loop would take
(``planned``: epochs x batches, generations x population, ...), and wraps every step in
:meth:`Loop.step`. The first step of a loop runs under
:class:`torch.utils.flop_counter.FlopCounterMode` (the FLOPs of one step, forward and
backward; the counter knows the matrix products and convolutions, not elementwise work such
as the LIF update, which it does not count); its wall time is not used, because the counter
slows it down and it holds the one-time warm-up. The later steps are timed. A loop with the
cap off is a no-op object (two attribute reads per step).

A dry run never downloads: where a paper path would download a data set that is not on
disk (the full N-MNIST), the data set may stand in its embedded subset for it
(:func:`stand_in`): the cost of a step does not depend on which recordings fill the batch,
and :func:`planned_batches` plans the full data set's batches from the subset's loader. The
record lists every stand-in (``stand_ins``).

In a dry run, checkpoints go to a fresh temporary folder (:func:`snnlib.paths.checkpoints_dir`),
so a dry run neither resumes from a real run's checkpoint nor leaves one a real run would
resume from; and :class:`snnlib.book.results.ResultRun` writes a dry-run record instead of
the result file (``data/results/dryrun/``), so a capped run never looks like a result.

>>> set_cap(2)
>>> lp = loop("demo", planned=100)
>>> done = 0
>>> for i in range(100):
...     if lp.done():
...         break
...     with lp.step():
...         done += 1
>>> done, lp.steps, lp.planned
(2, 2, 100)
>>> set_cap(0)
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from .validation import ConfigError

_CAP = 0
_BATCH = 0  # a dry run's cap of the batch size (0: the paper's own), see batch_size
_DEPTH = 0  # steps running now: a loop opened inside a step is nested in it
_REPEAT = 1.0  # how often the loops opened now run in the full run (see repeated)
_LOOPS: list[Loop] = []
_STAND_INS: list[str] = []
_CHECKPOINTS: Path | None = None


def set_cap(steps: int) -> None:
    """Set the process-wide cap (``0``: no cap) and forget the loops measured so far.

    In a dry run, ``$SNNLIB_DRYRUN_BATCH`` (when above 0) caps the batch size of the data
    loaders too (:func:`batch_size`)."""
    global _CAP, _CHECKPOINTS, _BATCH
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ConfigError(f"max_steps={steps!r} must be an integer of at least 0 (0: no cap)")
    _CAP = steps
    text = os.environ.get("SNNLIB_DRYRUN_BATCH", "0") if steps else "0"
    if not text.isdigit():
        raise ConfigError(f"SNNLIB_DRYRUN_BATCH={text!r} must be an integer of at least 0")
    _BATCH = int(text)
    _LOOPS.clear()
    _STAND_INS.clear()
    _CHECKPOINTS = None


def cap() -> int:
    """The cap of steps per loop; ``0`` when no dry run is on."""
    return _CAP


def active() -> bool:
    """Whether a dry run is on (a cap above 0)."""
    return _CAP > 0


def cap_batches(max_batches: int | None) -> int | None:
    """``max_batches`` lowered to the cap in a dry run (an evaluation pass's batches)."""
    if not active():
        return max_batches
    return _CAP if max_batches is None else min(max_batches, _CAP)


def batch_size(size: int) -> int:
    """``size`` lowered to the dry run's batch cap (``$SNNLIB_DRYRUN_BATCH``), if any.

    A paper batch whose step needs more memory than a CPU machine has is measured at a
    smaller batch: the loops then plan proportionally more steps of proportionally fewer
    FLOPs each, so the full run's FLOPs (and the projection) stay those of the paper batch
    up to rounding of the last batch, while the seconds and FLOPs *per step* and the peak
    memory are those of the smaller batch (the record says which, ``batch_cap``)."""
    if not active() or _BATCH <= 0:
        return size
    return min(size, _BATCH)


def stand_in(note: str) -> None:
    """Record that data on disk stand in for a data set the paper path would download (a
    dry run never downloads); ``note`` says which and for what, and goes into the record."""
    if note not in _STAND_INS:
        _STAND_INS.append(note)


def planned_batches(loader, max_batches: int | None = None) -> int:
    """The batches of one pass over ``loader`` in the full run, at most ``max_batches``:
    ``len(loader)``, scaled by ``full_size / len(dataset)`` when the loader's data set stands
    in for a larger one (it has a ``dryrun_full_size``, see :func:`stand_in`)."""
    dataset = getattr(loader, "dataset", None)
    full = getattr(dataset, "dryrun_full_size", None)
    size = getattr(loader, "batch_size", None)
    if not full:
        n = len(loader)
    elif size:  # a torch DataLoader: full batches, the last one partial unless dropped
        n = int(full) // size if getattr(loader, "drop_last", False) else -(-int(full) // size)
    else:  # another loader: in proportion
        n = -(-len(loader) * int(full) // len(dataset))
    return n if max_batches is None else min(n, max_batches)


def checkpoints_folder() -> Path:
    """The dry run's own checkpoint folder: a temporary folder made once per dry run."""
    global _CHECKPOINTS
    if _CHECKPOINTS is None:
        _CHECKPOINTS = Path(tempfile.mkdtemp(prefix="snnlib-dryrun-checkpoints-"))
    return _CHECKPOINTS


@dataclass
class Loop:
    """One capped loop: its label, the steps the uncapped loop would take, and the measured
    steps (wall seconds of each step after the first, FLOPs of the first)."""

    label: str
    planned: int
    seconds: list[float] = field(default_factory=list)
    flops: int | None = None
    steps: int = 0
    nested: bool = False  # opened inside another loop's step: its cost is part of that step

    def done(self) -> bool:
        """Whether the loop has taken its ``cap()`` steps (stop it)."""
        return self.steps >= _CAP

    @contextmanager
    def step(self):
        """Measure one step: FLOPs of the first, wall seconds of the others."""
        global _DEPTH
        first = self.steps == 0
        counter = _flop_counter() if first else None
        t0 = time.perf_counter()
        _DEPTH += 1
        try:
            with counter or nullcontext():
                yield
        finally:
            _DEPTH -= 1
        if first:
            self.flops = int(counter.get_total_flops()) if counter is not None else None
        else:
            self.seconds.append(time.perf_counter() - t0)
        self.steps += 1

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "planned_steps": int(self.planned),
            "steps": self.steps,
            "seconds_per_step": (statistics.median(self.seconds) if self.seconds else None),
            "step_seconds": [round(s, 6) for s in self.seconds],
            "flops_per_step": self.flops,
            "nested": self.nested,
        }


class _Off:
    """The loop of a run without a cap: never done, steps are not measured."""

    steps = 0

    def done(self) -> bool:
        return False

    def step(self):
        return nullcontext()


_OFF = _Off()


def loop(label: str, planned: int) -> Loop | _Off:
    """Open a loop of ``planned`` steps (what it takes uncapped); a no-op without a cap.

    Inside :func:`repeated` the planned steps are multiplied by its factor."""
    if not active():
        return _OFF
    lp = Loop(label, round(int(planned) * _REPEAT), nested=_DEPTH > 0)
    _LOOPS.append(lp)
    return lp


@contextmanager
def repeated(times: float):
    """The loops opened inside run ``times`` times in the full run (the validation pass after
    every epoch, of which a dry run runs one): their planned steps are multiplied by it
    (rounded; a fraction where a dry run ran a share of independent items, :func:`sample`)."""
    global _REPEAT
    before = _REPEAT
    _REPEAT = before * max(float(times), 1.0)
    try:
        yield
    finally:
        _REPEAT = before


def sample(items, keep: int = 6) -> tuple[list, float]:
    """A loop over independent items (architectures to train and score, each with loops of
    its own): in a dry run its first ``keep`` items and ``len(items) / keep``, the factor
    by which the full run has more (open the items' loops inside :func:`repeated` of it);
    otherwise all items and 1.

    >>> set_cap(2)
    >>> few, factor = sample(list(range(200)))
    >>> with repeated(factor):
    ...     lp = loop("train one", planned=10)
    >>> len(few), factor, lp.planned
    (6, 33.333333333333336, 333)
    >>> set_cap(0)
    """
    items = list(items)
    if not active() or len(items) <= keep:
        return items, 1.0
    return items[:keep], len(items) / keep


def loops() -> list[Loop]:
    """The loops measured since the cap was set, in the order they opened."""
    return list(_LOOPS)


def peak_rss_bytes() -> int:
    """The peak resident set size of this process so far (``getrusage``; the whole process:
    Python, torch, the data set in memory and the largest step)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)  # bytes on macOS, KiB on Linux


def summary() -> dict:
    """The measurements of the dry run so far: the loops, their totals and the peak memory.

    ``full_run_steps``: the steps of every measured loop uncapped; ``full_run_flops``: each
    loop's planned steps x its FLOPs per step, summed; ``full_run_cpu_seconds``: the same
    with its seconds per step (loops without a timed step are left out of it);
    ``seconds_per_step`` and ``flops_per_step``: of the loop that dominates the full run's
    FLOPs (the training or search loop in practice). Nested loops (opened inside another
    loop's step, e.g. a training inside a fitness evaluation) are listed but not added: their
    cost is part of the outer step's.
    """
    listed = [lp.to_dict() for lp in _LOOPS]
    rows = [r for r in listed if not r["nested"]]
    flops = sum(r["planned_steps"] * (r["flops_per_step"] or 0) for r in rows)
    timed = [r for r in rows if r["seconds_per_step"] is not None]
    cpu = sum(r["planned_steps"] * r["seconds_per_step"] for r in timed)
    main = max(rows, key=lambda r: r["planned_steps"] * (r["flops_per_step"] or 0), default=None)
    return {
        "max_steps": _CAP,
        "batch_cap": _BATCH or None,
        "loops": listed,
        "full_run_steps": int(sum(r["planned_steps"] for r in rows)),
        "full_run_flops": float(flops),
        "full_run_cpu_seconds": float(cpu),
        "main_loop": main["label"] if main else None,
        "seconds_per_step": main["seconds_per_step"] if main else None,
        "flops_per_step": main["flops_per_step"] if main else None,
        "peak_rss_bytes": peak_rss_bytes(),
        "stand_ins": list(_STAND_INS),
    }


def _flop_counter():
    try:
        from torch.utils.flop_counter import FlopCounterMode
    except ImportError:  # an old torch: FLOPs are not measured
        return None
    return FlopCounterMode(display=False)
