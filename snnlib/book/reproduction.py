"""The reproduction report: a fresh run's result files against the committed reference.

``make book`` writes its result files to its own folder (``build/results-<scale>``,
:func:`snnlib.paths.results_dir`) and never over the committed reference
(:func:`snnlib.paths.reference_dir`). Same code and seeds give the same numbers on one
machine, but another CPU's kernels round differently and trainings diverge, so a rebuild
elsewhere differs; this module says exactly where:

- :func:`compare_folders`: every metric of every result file of the fresh folder against the
  file of the same name in the reference: ``equal``, ``differs`` (both values kept), ``only
  fresh`` or ``only reference`` (a key one file lacks); a run with a file on one side only
  is listed as a run (``runs_only_fresh``, ``runs_only_reference``: e.g. the runs that left
  the book but keep their committed files), not metric by metric; timing keys
  (:func:`is_timing`: seconds, wall times, throughputs) are kept apart, since they differ
  on every run;
- :func:`machines`: the machines both folders were computed on, from each file's
  ``provenance``;
- :func:`run_counts` and :func:`differing_table`: the page's tables.

The verdicts the pages state are :mod:`snnlib.book.verdicts`.

>>> flatten({"a": 1, "b": {"c": [2, 3]}})
{'a': 1, 'b.c[0]': 2, 'b.c[1]': 3}
>>> is_timing("b.wall_seconds"), is_timing("rs_rdm_seconds"), is_timing("test_acc")
(True, True, False)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

#: the report's own notebook: its result file is the report, not a run to compare
REPORT = "52_reproduction"
#: the scales the committed reference holds (``data/results/*__cpu__*``; ``smoke`` files
#: there are git-ignored leftovers of local runs, never a reference)
REFERENCE_SCALES = ("cpu",)
#: parts of a metric's name that mark a timing (differs on every run, even on one machine)
TIMING_PARTS = ("seconds", "wall", "_time", "per_second", "throughput", "cost_ratio", "hours")
#: result files ``make book`` does not write (``make bench``, the proxy bench, the full ledger)
NOT_BOOK_RUNS = ("bench__", "bench_before_fix__", "proxy_bench__", "ledger_full")


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts and lists as ``{"a.b[0]": leaf}`` (a leaf: a number, string, bool or None)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
        if not value:
            out[prefix] = []
    else:
        out[prefix] = value
    return out


def is_timing(key: str) -> bool:
    """Whether a flattened metric name is a timing (seconds, wall times, throughput, a cost
    ratio of measured seconds): reported apart, never counted as a difference."""
    low = key.lower()
    last = low.split(".")[-1].split("[")[0]
    return (
        any(part in low for part in TIMING_PARTS)
        or last.endswith("_s")
        or "_s_" in last
        or last.endswith("_min")
    )


def same_value(a: Any, b: Any) -> bool:
    """Equal as written to JSON (NaN equals NaN; ``1`` equals ``1.0``; no tolerance)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b or (_number(a) and _number(b) and a == b)


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


@dataclass(frozen=True)
class MetricRow:
    """One metric of one run: its status and both values (``None`` where absent)."""

    run: str
    key: str
    status: str  # equal | differs | only fresh | only reference
    reference: Any
    fresh: Any
    timing: bool


def compare_metrics(run: str, reference: dict | None, fresh: dict | None) -> list[MetricRow]:
    """Every metric of ``run`` in either record (``metrics`` dicts, ``None``: no file)."""
    ref, new = flatten(reference or {}), flatten(fresh or {})
    rows = []
    for key in [*ref, *(k for k in new if k not in ref)]:
        if key not in new:
            status = "only reference"
        elif key not in ref:
            status = "only fresh"
        else:
            status = "equal" if same_value(ref[key], new[key]) else "differs"
        rows.append(MetricRow(run, key, status, ref.get(key), new.get(key), is_timing(key)))
    return rows


def result_files(folder: str | Path, scale: str, seed: int) -> dict[str, Path]:
    """The book's result files of ``scale`` and ``seed`` in ``folder``, by run name
    (``<notebook>__<dataset>``, plus ``__<tag>`` for a run with non-default parameters),
    without the report's own file and the files ``make book`` does not write."""
    folder = Path(folder)
    marker = f"__{scale}__seed{seed}"
    out = {}
    for path in sorted(folder.glob(f"*{marker}*.json")) if folder.is_dir() else []:
        stem = path.name[: -len(".json")]
        head, _, tag = stem.partition(marker)
        if path.name.startswith(NOT_BOOK_RUNS) or head.startswith(REPORT):
            continue
        if tag and not tag.startswith("__"):
            continue
        out[head + tag] = path
    return out


def read_folder(folder: str | Path, scale: str, seed: int) -> dict[str, dict]:
    """The result files of :func:`result_files`, read (JSON only), by run name."""
    return {run: json.loads(p.read_text()) for run, p in result_files(folder, scale, seed).items()}


@dataclass(frozen=True)
class Comparison:
    """A fresh folder against the reference: one :class:`MetricRow` per metric, and what
    the page says when there is nothing to compare (``note``)."""

    rows: list[MetricRow]
    reference: dict[str, dict]
    fresh: dict[str, dict]
    same_folder: bool
    note: str

    @property
    def runs_only_fresh(self) -> list[str]:
        """Runs with a fresh file and no reference file (none when nothing is compared)."""
        return [r for r in self.fresh if r not in self.reference] if self.reference else []

    @property
    def runs_only_reference(self) -> list[str]:
        """Runs with a reference file that this build did not write."""
        return [r for r in self.reference if r not in self.fresh] if self.fresh else []


def compare_folders(
    reference: str | Path, fresh: str | Path, scale: str, seed: int = 0
) -> Comparison:
    """Compare every result file of ``fresh`` with the reference file of the same name."""
    same = Path(reference).resolve() == Path(fresh).resolve()
    ref = read_folder(reference, scale, seed) if scale in REFERENCE_SCALES else {}
    new = read_folder(fresh, scale, seed)
    if same:
        note = (
            f"The run's results folder is the reference folder ({reference}): these results "
            "are the committed ones, so there is nothing to compare. make book writes a fresh "
            "run to build/results-<scale> and compares that."
        )
    elif not ref:
        note = (
            f"No reference result files exist at scale {scale!r} (the committed reference is "
            "the cpu scale): the fresh results are listed, nothing is compared."
        )
    elif not new:
        note = f"The folder {fresh} holds no result files at scale {scale!r} yet."
    else:
        note = ""
    rows = []
    if not same:
        for run in (r for r in new if r in ref):
            rows += compare_metrics(run, ref[run]["metrics"], new[run]["metrics"])
    return Comparison(rows, ref, new, same, note)


def machine_of(provenance: dict) -> str:
    """One machine's description from a result's provenance (the CPU model and its vector
    extensions where recorded, the device, torch and Python)."""
    machine = provenance.get("machine") or {}
    cpu = machine.get("cpu_model")
    isa = machine.get("vector_isa")
    parts = [
        str(provenance.get("device") or "unknown device"),
        *([cpu] if cpu else []),
        *([f"vector ISA {isa}"] if isa else []),
        f"torch {provenance.get('torch')}",
        f"Python {provenance.get('python')}",
    ]
    return ", ".join(parts)


def machines(results: dict[str, dict]) -> dict[str, int]:
    """Each machine the result files were computed on, with the number of files."""
    out: dict[str, int] = {}
    for data in results.values():
        name = machine_of(data.get("provenance") or {})
        out[name] = out.get(name, 0) + 1
    return out


def machines_text(results: dict[str, dict]) -> str:
    """:func:`machines` as one line: ``"<machine> (<n> files); ..."`` or ``"none"``."""
    found = machines(results)
    return "; ".join(f"{m} ({n} file{'s' * (n != 1)})" for m, n in found.items()) or "none"


def run_counts(comparison: Comparison) -> pd.DataFrame:
    """Per run: metrics equal, differing, only in one folder, and timing keys (apart)."""
    columns = ["equal", "differs", "only fresh", "only reference", "timing (not compared)"]
    counts: dict[str, dict[str, int]] = {}
    for row in comparison.rows:
        c = counts.setdefault(row.run, dict.fromkeys(columns, 0))
        c["timing (not compared)" if row.timing else row.status] += 1
    table = pd.DataFrame.from_dict(counts, orient="index", columns=columns)
    table.index.name = "run"
    return table


#: The most rows the page's table of differing metrics shows (another machine can differ in
#: thousands); the report's result file keeps them all (``differing_metrics``).
PAGE_ROWS = 300


def differing_table(comparison: Comparison, limit: int | None = None) -> pd.DataFrame:
    """Every metric (timing keys left out) that differs or is in one folder only; with
    ``limit``, the first ``limit`` of them and a last row that counts the rest."""
    rows = [
        {
            "run": r.run,
            "metric": r.key,
            "status": r.status,
            "reference": r.reference,
            "fresh": r.fresh,
        }
        for r in comparison.rows
        if not r.timing and r.status != "equal"
    ]
    if limit is not None and len(rows) > limit:
        more = len(rows) - limit
        rows = rows[:limit] + [
            {
                "run": "...",
                "metric": f"{more} more (all in the report's result file)",
                "status": "",
                "reference": "",
                "fresh": "",
            }
        ]
    return pd.DataFrame(rows, columns=["run", "metric", "status", "reference", "fresh"])


def summary(comparison: Comparison) -> dict[str, Any]:
    """The counts the page glues and the report's result file keeps."""
    compared = [r for r in comparison.rows if not r.timing]
    count = {s: sum(r.status == s for r in compared) for s in ("equal", "differs")}
    runs_differing = sorted({r.run for r in compared if r.status == "differs"})
    return {
        "n_runs_fresh": len(comparison.fresh),
        "n_runs_reference": len(comparison.reference),
        "n_metrics_equal": count["equal"],
        "n_metrics_differ": count["differs"],
        "n_metrics_one_side": sum(r.status.startswith("only") for r in compared),
        "n_timing_keys": sum(r.timing for r in comparison.rows),
        "n_runs_differing": len(runs_differing),
        "runs_differing": runs_differing,
        "runs_only_fresh": comparison.runs_only_fresh,
        "runs_only_reference": comparison.runs_only_reference,
        "same_folder": comparison.same_folder,
    }


@dataclass(frozen=True)
class Report:
    """What the reproduction page shows: ``values`` to glue (numbers and strings),
    ``tables`` by glue name, and ``metrics`` for the report's own result file."""

    values: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    metrics: dict[str, Any]


def report(reference: str | Path, fresh: str | Path, scale: str, seed: int = 0) -> Report:
    """The whole page: the machines, the counts per run, the differing metrics, and every
    verdict of :data:`snnlib.book.verdicts.VERDICTS` on both sides with its mark."""
    from .verdicts import verdict_table

    comparison = compare_folders(reference, fresh, scale, seed)
    ref = {} if comparison.same_folder else comparison.reference
    verdicts = verdict_table(ref, comparison.fresh)
    marks = verdicts["mark"]
    flipped = verdicts[marks == "differs"]
    noise = verdicts[marks == "differs (within noise)"]
    counts = summary(comparison)
    values = {
        "scale": scale,
        "reference_folder": str(reference),
        "fresh_folder": str(fresh),
        "note": comparison.note or "Both folders hold results of this scale: compared below.",
        "machines_reference": machines_text(ref),
        "machines_fresh": machines_text(comparison.fresh),
        **{k: v for k, v in counts.items() if not isinstance(v, list)},
        "runs_differing": ", ".join(counts["runs_differing"]) or "none",
        "runs_only_fresh": ", ".join(counts["runs_only_fresh"]) or "none",
        "runs_only_reference": ", ".join(counts["runs_only_reference"]) or "none",
        "n_verdicts": len(verdicts),
        "n_verdicts_differ": len(flipped),
        "n_verdicts_within_noise": len(noise),
        "verdicts_differing": "; ".join(
            f"{r.verdict} ({r.run}: {r.reference} -> {r.fresh})" for r in flipped.itertuples()
        )
        or "none",
    }
    metrics = {
        **{k: v for k, v in values.items() if k not in ("reference_folder", "fresh_folder")},
        "runs_differing": counts["runs_differing"],
        "runs_only_fresh": counts["runs_only_fresh"],
        "runs_only_reference": counts["runs_only_reference"],
        "verdicts": verdicts.to_dict(orient="records"),
        "differing_metrics": differing_table(comparison).to_dict(orient="records"),
    }
    tables = {
        "counts_table": run_counts(comparison),
        "differing_table": differing_table(comparison, limit=PAGE_ROWS),
        "verdicts_table": verdicts,
    }
    return Report(values, tables, metrics)
