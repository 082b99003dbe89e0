"""The scores that guide searches over SpikeNAS-Bench, computed once per cell and cached.

A training-free guide (``rdm``, ``lsp``, ``sahd``, ``naswot``) scores the untrained network of a
cell on the probe (:func:`snnlib.spikenas.ledger.score_cell`, one forward pass for all four) and
costs the seconds that took; ``val_acc`` reads the table's validation accuracy and costs the
benchmark's recorded training seconds (one GPU run; a different machine, so reported apart);
``val_acc@10`` reads the benchmark's learning curve after 10 epochs and costs that share of
the recorded seconds; ``random`` is a hash of the id and costs nothing. Scored cells can be
kept in a JSON checkpoint (the ledger's format and identity check), so an interrupted
notebook resumes without rescoring.

In a dry run (:mod:`snnlib.dryrun`) scoring a new cell is a step of the loop "score cell",
planned at ``planned`` cells (the full run's distinct scored cells,
:func:`snnlib.spikenas.search.scored_cells_bound`); once the cap is reached, new cells get NaN
scores at no cost, so the searches run through their budgets quickly and the chapter's
analysis still runs (on meaningless picks: a dry run writes no result).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from .. import dryrun
from ..fileio import atomic_write
from ..nas.lsp import LSP_FITNESS
from ..nas.proxies import random_score
from ..validation import check_choice
from .ledger import (
    DEFAULT_RDM,
    Ledger,
    LedgerConfig,
    Probe,
    ledger_identity,
    load_ledger,
    score_cell,
)
from .search import GUIDES
from .space import check_arch_id
from .table import BenchTable

GUIDE_PROXIES = (DEFAULT_RDM, "sahd", LSP_FITNESS, "naswot")
TRAINING_FREE = {"rdm": DEFAULT_RDM, "lsp": LSP_FITNESS, "sahd": "sahd", "naswot": "naswot"}


class Guides:
    """``guides.score("rdm")`` is an ``arch_id -> (value, seconds)`` for :mod:`.search`."""

    def __init__(
        self,
        probe: Probe,
        config: LedgerConfig,
        table: BenchTable,
        checkpoint: str | Path | None = None,
        planned: int = 0,
    ):
        self.probe, self.table = probe, table
        self.config = self.guide_config(config)
        self.checkpoint = Path(checkpoint) if checkpoint else None
        identity = ledger_identity(self.config, probe)
        if self.checkpoint and self.checkpoint.exists():
            self._ledger = load_ledger(self.checkpoint, identity)
        else:
            self._ledger = Ledger(identity)
        self.rows: dict[int, dict] = self._ledger.rows
        self._meter = dryrun.loop("score cell", planned)  # a no-op outside a dry run

    @staticmethod
    def guide_config(config: LedgerConfig) -> LedgerConfig:
        """``config`` reduced to what the guides need: the default RDM, the authors' scorer,
        SAHD and NASWOT (one pass)."""
        return LedgerConfig(**{**config.__dict__, "proxies": GUIDE_PROXIES})

    def row(self, arch_id: int) -> dict:
        if arch_id in self.rows:
            return self.rows[arch_id]
        if self._meter.done():  # a dry run past its cap: unscored, never cached
            nan = float("nan")
            return {
                **dict.fromkeys(GUIDE_PROXIES, nan),
                "seconds": dict.fromkeys(GUIDE_PROXIES, 0.0),
            }
        with self._meter.step():
            self.rows[arch_id] = score_cell(arch_id, self.probe, self.config)
        return self.rows[arch_id]

    def save(self) -> None:
        """Write the scored cells to the checkpoint (JSON, atomically), if there is one."""
        if self.checkpoint:
            atomic_write(self.checkpoint, lambda f: json.dump(self._ledger.to_json(), f))

    def score(self, guide: str) -> Callable[[int], tuple[float, float]]:
        """``arch_id -> (value, seconds)`` of ``guide``; every guide refuses an id that is not
        a cell of the space (-1 or 1.5 would otherwise index or hash as another cell)."""
        check_choice("guide", guide, GUIDES)
        fn = self._score(guide)
        return lambda a: fn(check_arch_id(a))

    def _score(self, guide: str) -> Callable[[int], tuple[float, float]]:
        if guide == "val_acc":
            return lambda a: (
                float(self.table.final_val_acc[a]),
                float(self.table.train_seconds[a]),
            )
        if guide == "val_acc@10":
            from .curves import early_stop_seconds, load_curves

            curves = load_curves()
            seconds = early_stop_seconds(curves, self.table, 10)
            return lambda a: (float(curves.val_acc_at(a, 10)), float(seconds[a]))
        if guide == "random":
            return lambda a: (random_score(f"spikenas:{a}", self.config.seed), 0.0)
        key = TRAINING_FREE[guide]
        return lambda a: (self.row(a)[key], self.row(a)["seconds"][key])
