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
# # Reproduction report: this build's results against the committed reference
#
# `make book` writes every result file of its run to its own folder (`build/results-<scale>`)
# and never over the committed reference (`data/results`). This notebook runs last and compares
# the two: every metric of every result file (timing keys apart), the machines each side was
# computed on, and every verdict the pages state in words (`snnlib.book.verdicts`), marked where
# this build decides otherwise. The logic is `snnlib.book.reproduction`.

# %% tags=["parameters"]
scale = "cpu"  # smoke | cpu | paper: the committed reference is the cpu scale
dataset = "digits"  # names the run only: the report covers every run of the book
seed = 0
device = "auto"  # auto | cpu | cuda
overwrite = False  # replace an existing result file that other parameters wrote
confirm_paper_on_cpu = False  # run the paper scale on a CPU anyway
max_steps = 0  # a dry run: every loop stops after this many steps (0: no cap; snnlib.dryrun)

# %% tags=["hide-input"]
from snnlib.book import reproduction
from snnlib.book.glue import glue_all
from snnlib.book.params import declared_params
from snnlib.book.setup import start
from snnlib.book.tables import book_table
from snnlib.paths import reference_dir, results_dir

params = declared_params("52_reproduction", globals())
run, dev = start("52_reproduction", params)
report = reproduction.report(reference_dir(), results_dir(), scale, seed)
glue_all(report.values)
glue_all({name: book_table(table) for name, table in report.tables.items()})
print(report.values)

# %% [markdown]
# ## Metrics per run: equal, differing, in one folder only

# %%
book_table(report.tables["counts_table"])

# %% [markdown]
# ## Every metric that differs

# %%
book_table(report.tables["differing_table"])

# %% [markdown]
# ## The verdicts the pages state

# %%
book_table(report.tables["verdicts_table"])

# %%
path = run.write(report.metrics)
print("wrote", path)
