"""What a paper-scale run costs: the dry-run records projected to GPU hours.

A dry run (:mod:`snnlib.dryrun`, ``make paper-dry-run``) runs every notebook's paper path for
a few steps per loop on the CPU and records, per loop, the steps the full run takes, the
seconds per step on this CPU and the FLOPs of one step. This module reads those records
(``data/results/dryrun/*.json``) and projects each notebook's full run:

- CPU hours: planned steps x measured seconds per step, per loop, summed (this machine,
  one torch thread);
- GPU hours: planned steps x FLOPs per step, summed, over an assumed sustained rate, which
  is a GPU's dense peak (:data:`GPUS`, from the vendors' data sheets) times an assumed
  utilisation. The utilisation is an assumption, not a measurement (spiking networks at
  small batch and T time steps run far below peak: elementwise LIF updates, small
  convolutions, Python overhead); it is a parameter of the projection. The FLOPs are those
  :class:`torch.utils.flop_counter.FlopCounterMode` counts (convolutions and matrix products,
  forward and backward), not the elementwise work, so the GPU hours are a lower bound at the
  assumed utilisation.

>>> gpu_hours(3.6e15, peak_tflops=100.0, utilisation=0.1)
0.1
"""

from __future__ import annotations

import json
from pathlib import Path

from ..paths import results_dir
from ..validation import ConfigError

#: GPU -> precision -> dense peak TFLOP/s (no sparsity), from NVIDIA's data sheets: A100 80GB
#: SXM (FP32 19.5, TF32 tensor cores 156) and H100 SXM (FP32 67, TF32 tensor cores 494.7)
GPUS: dict[str, dict[str, float]] = {
    "A100 80GB": {"fp32": 19.5, "tf32": 156.0},
    "H100 SXM": {"fp32": 67.0, "tf32": 494.7},
}


def dryrun_folder(root: str | Path | None = None) -> Path:
    """Where the dry-run records lie: ``<results>/dryrun``."""
    return Path(root or results_dir()) / "dryrun"


def read_records(scale: str = "paper", root: str | Path | None = None) -> list[dict]:
    """Every dry-run record of ``scale``, sorted by notebook (each a dict with ``notebook``,
    ``dataset``, ``params``, ``provenance`` and ``metrics``)."""
    out = []
    for path in sorted(dryrun_folder(root).glob(f"*__{scale}.json")):
        data = json.loads(path.read_text())
        if not data.get("dry_run"):
            raise ConfigError(f"{path} is not a dry-run record (no 'dry_run': true)")
        notebook, dataset, _ = path.stem.split("__")
        out.append({"notebook": notebook, "dataset": dataset, **data})
    return out


def gpu_hours(flops: float, peak_tflops: float, utilisation: float) -> float:
    """Hours to do ``flops`` at ``utilisation`` x ``peak_tflops`` TFLOP/s."""
    if not (0 < utilisation <= 1) or peak_tflops <= 0:
        raise ConfigError(
            f"utilisation={utilisation!r} must be in (0, 1] and peak_tflops={peak_tflops!r} > 0"
        )
    return round(flops / (peak_tflops * 1e12 * utilisation) / 3600, 12)


def projection_row(record: dict, precision: str = "tf32", utilisation: float = 0.1) -> dict:
    """One notebook's row: what the dry run measured and the projected full run."""
    m = record["metrics"]
    row = {
        "notebook": record["notebook"],
        "dataset": record["dataset"],
        # "stand-in": an embedded subset stood in for a data set the dry run would download;
        # "paper": the paper scale's own data
        "data": "stand-in" if m.get("stand_ins") else "paper",
        "main loop": m.get("main_loop"),
        # the batch the steps were measured at: the paper's own, or the dry run's batch cap
        "batch": f"<= {m['batch_cap']}" if m.get("batch_cap") else "paper",
        "s/step (CPU)": m.get("seconds_per_step"),
        "GFLOP/step": None if m.get("flops_per_step") is None else m["flops_per_step"] / 1e9,
        "peak RSS (GB)": m["peak_rss_bytes"] / 1e9,
        "full-run steps": m["full_run_steps"],
        "full-run PFLOP": m["full_run_flops"] / 1e15,
        "CPU hours": m["full_run_cpu_seconds"] / 3600,
    }
    for gpu, peaks in GPUS.items():
        if precision not in peaks:
            raise ConfigError(f"precision={precision!r}: choose one of {sorted(peaks)}")
        row[f"{gpu} hours"] = gpu_hours(m["full_run_flops"], peaks[precision], utilisation)
    return row


def projection_table(records: list[dict], precision: str = "tf32", utilisation: float = 0.1):
    """The rows of :func:`projection_row` as a pandas DataFrame, one per record."""
    import pandas as pd

    return pd.DataFrame([projection_row(r, precision, utilisation) for r in records])


def projected_cpu_hours(notebook: str, dataset: str, root: str | Path | None = None):
    """The measured CPU hours of ``notebook``'s full paper run from its dry-run record, or
    ``None`` without one (the warning of a paper run on a CPU then uses its rough estimate)."""
    path = dryrun_folder(root) / f"{notebook}__{dataset}__paper.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())["metrics"]["full_run_cpu_seconds"] / 3600
    except (KeyError, TypeError, ValueError):
        return None


# -- the cost page (notebook 51) ---------------------------------------------------------------


def record_names(records: list[dict]) -> list[str]:
    """``<notebook>__<dataset>`` of each record, in order."""
    return [f"{r['notebook']}__{r['dataset']}" for r in records]


def _fmt(spec: str, blank_nan: bool = False):
    import pandas as pd

    return lambda v: "" if blank_nan and pd.isna(v) else format(v, spec)


def shown_table(table):
    """The projection table as the page shows it: every number formatted as text (a blank
    where a dry run measured no seconds or FLOPs per step)."""
    formats = {
        "s/step (CPU)": _fmt(".2f", True),
        "GFLOP/step": _fmt(",.1f", True),
        "peak RSS (GB)": _fmt(".1f"),
        "full-run steps": _fmt(","),
        "full-run PFLOP": _fmt(",.1f"),
        "CPU hours": _fmt(",.0f"),
        **{f"{g} hours": _fmt(",.2f") for g in GPUS},
    }
    return table.assign(**{col: table[col].map(f) for col, f in formats.items()})


def totals(table) -> dict[str, float]:
    """The whole paper run: CPU hours and each GPU's hours, summed over the notebooks."""
    return {
        "cpu_hours": float(table["CPU hours"].sum()),
        **{f"{g}_hours": float(table[f"{g} hours"].sum()) for g in GPUS},
    }


def page_values(records: list[dict], table, precision: str, utilisation: float) -> dict:
    """The numbers and strings the cost page glues (names as the page reads them)."""
    wall = [r["provenance"].get("wall_seconds") or 0.0 for r in records]
    steps = sorted({int(r["metrics"]["max_steps"]) for r in records})
    cpus = sorted({str(r["provenance"].get("device")) for r in records})
    stand_ins = sorted({n for r in records for n in r["metrics"].get("stand_ins", [])})
    total = totals(table)
    return {
        "n_records": len(records),
        "dry_run_total_min": sum(wall) / 60,
        "dry_run_max_min": max(wall, default=0.0) / 60,
        "stand_ins": "; ".join(stand_ins) or "none",
        "dry_run_steps": ", ".join(map(str, steps)),
        "dry_run_cpu": "; ".join(cpus),
        "precision": precision.upper(),
        "utilisation_pct": 100 * utilisation,
        "a100_peak_tflops": GPUS["A100 80GB"][precision],
        "h100_peak_tflops": GPUS["H100 SXM"][precision],
        "total_cpu_hours": total["cpu_hours"],
        "total_a100_hours": total["A100 80GB_hours"],
        "total_h100_hours": total["H100 SXM_hours"],
        "max_peak_rss_gb": float(table["peak RSS (GB)"].max()),
    }


def page_metrics(records: list[dict], table, precision: str, utilisation: float) -> dict:
    """The cost page's result file: the count, the assumptions, the totals and every row."""
    return {
        "n_records": len(records),
        "precision": precision,
        "utilisation": utilisation,
        **totals(table),
        "rows": table.to_dict(orient="records"),
    }
