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
from myst_nb import glue

from snnlib.book import paper_scale
from snnlib.book.glue import glue_all
from snnlib.book.params import declared_params
from snnlib.book.scales import pick_scale
from snnlib.book.setup import start
from snnlib.book.tables import book_table
from snnlib.paths import reference_dir

params = declared_params("51_paper_scale", globals())
run, dev = start("51_paper_scale", params)

# every scale reads the committed records of the paper-scale dry runs
cfg = pick_scale(scale, {s: dict(records="paper") for s in ("smoke", "cpu", "paper")})
records = paper_scale.read_records(cfg["records"], reference_dir())
print(f"{len(records)} dry-run records:", paper_scale.record_names(records))

# %% [markdown]
# ## The projection

# %%
table = paper_scale.projection_table(records, precision, utilisation)
shown = paper_scale.shown_table(table)
glue("projection_table", book_table(shown), display=False)
book_table(shown)

# %%
glue_all(paper_scale.page_values(records, table, precision, utilisation))
print(paper_scale.totals(table))

# %%
metrics = paper_scale.page_metrics(records, table, precision, utilisation)
path = run.write(metrics)
print("wrote", path)
