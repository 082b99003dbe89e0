# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Running at paper scale: the cost of each notebook, projected from its dry run
#
# `make paper-dry-run` runs every notebook at `scale=paper` on the CPU with `max_steps=2`:
# the paper path really runs (data at the paper's settings, the paper's widths and T, the
# first two steps of every training, search and evaluation loop) and each notebook writes a
# dry-run record to `data/results/dryrun/` instead of its result file (`snnlib.dryrun`). This
# notebook only reads those committed records and projects each full run: on this CPU (the
# measured seconds per step x the full run's steps) and on two GPUs (the FLOPs of the full run
# over an assumed sustained rate). It computes nothing else, so it is the same at every scale.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper: the same table at every scale (it reads records only)
dataset = "cifar10"  # the data set of the dry runs (N-MNIST notebooks use their own)
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)
precision = "tf32"  # the GPU peak assumed: tf32 (tensor cores) | fp32
utilisation = 0.1  # an assumption, not a measurement: the fraction of that peak sustained

# %% tags=["hide-input"]
import pandas as pd
from myst_nb import glue

from snnlib.book.paper_scale import GPUS, projection_table, read_records
from snnlib.book.params import declared_params
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.tables import book_table
from snnlib.paths import REPO_ROOT

params = declared_params("51_paper_scale", globals())
run, dev = start("51_paper_scale", params)

# every scale reads the committed records of the paper-scale dry runs
cfg = pick_scale(scale, {s: dict(records="paper") for s in ("smoke", "cpu", "paper")})
records = read_records(cfg["records"], REPO_ROOT / "data" / "results")
print(f"{len(records)} dry-run records:", [f"{r['notebook']}__{r['dataset']}" for r in records])

# %% [markdown]
# ## The projection

# %%
table = projection_table(records, precision, utilisation)
shown = table.assign(
    **{
        "s/step (CPU)": table["s/step (CPU)"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}"),
        "GFLOP/step": table["GFLOP/step"].map(lambda v: "" if pd.isna(v) else f"{v:,.1f}"),
        "peak RSS (GB)": table["peak RSS (GB)"].map("{:.1f}".format),
        "full-run steps": table["full-run steps"].map("{:,}".format),
        "full-run PFLOP": table["full-run PFLOP"].map("{:,.1f}".format),
        "CPU hours": table["CPU hours"].map("{:,.0f}".format),
        **{f"{g} hours": table[f"{g} hours"].map("{:,.2f}".format) for g in GPUS},
    }
)
glue("projection_table", book_table(shown), display=False)
book_table(shown)

# %%
steps = sorted({int(r["metrics"]["max_steps"]) for r in records})
cpus = sorted({str(r["provenance"].get("device")) for r in records})
totals = {
    "cpu_hours": float(table["CPU hours"].sum()),
    **{f"{g}_hours": float(table[f"{g} hours"].sum()) for g in GPUS},
}
glue("n_records", len(records), display=False)
wall = [r["provenance"].get("wall_seconds") or 0.0 for r in records]
glue("dry_run_total_min", sum(wall) / 60, display=False)
glue("dry_run_max_min", max(wall, default=0.0) / 60, display=False)
stand_ins = sorted({note for r in records for note in r["metrics"].get("stand_ins", [])})
glue("stand_ins", "; ".join(stand_ins) or "none", display=False)
glue("dry_run_steps", ", ".join(map(str, steps)), display=False)
glue("dry_run_cpu", "; ".join(cpus), display=False)
glue("precision", precision.upper(), display=False)
glue("utilisation_pct", 100 * utilisation, display=False)
glue("a100_peak_tflops", GPUS["A100 80GB"][precision], display=False)
glue("h100_peak_tflops", GPUS["H100 SXM"][precision], display=False)
glue("total_cpu_hours", totals["cpu_hours"], display=False)
glue("total_a100_hours", totals["A100 80GB_hours"], display=False)
glue("total_h100_hours", totals["H100 SXM_hours"], display=False)
glue("max_peak_rss_gb", float(table["peak RSS (GB)"].max()), display=False)
print(totals)

# %%
metrics = {
    "n_records": len(records),
    "precision": precision,
    "utilisation": utilisation,
    **totals,
    "rows": table.to_dict(orient="records"),
}
path = run.write(metrics)
print("wrote", path)
