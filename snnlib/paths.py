"""Where the project keeps data and results (overridable by environment variables).

Two result folders matter to the book:

- the **reference** (:func:`reference_dir`, always ``<repo>/data/results``): the committed
  result files the pages were written against, plus the inputs only ``make bench``
  (``bench__*.json``) and ``make paper-dry-run`` (``dryrun/``) write. ``make book`` never
  writes there; ``make reference`` copies a finished run over it, deliberately.
- the **run's** folder (:func:`results_dir`, ``$SNNLIB_RESULTS`` or the reference): where a
  notebook writes its result file and reads the results of the runs before it. ``make book``
  sets ``SNNLIB_RESULTS=build/results-<scale>`` (git-ignored), so a rebuild reads its own
  fresh results and the reproduction page compares them with the reference.

Results of data sets outside the book (a user's own data) go to :func:`user_results_dir`, a
git-ignored ``user/`` folder inside the run's folder, so they are never mistaken for the
book's (:func:`snnlib.book.results.result_path`).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

#: the data sets of the book's runs (the Makefile's ``BOOK_RUNS`` and ``EXTRA_RUNS``;
#: ``tests/test_book_reproduction.py`` checks the two agree)
BOOK_DATASETS = ("cifar10", "cifar10-dvs-sim", "digits", "digits-dvs", "nmnist")


def reference_dir() -> Path:
    """``<repo>/data/results``: the committed reference results (whatever
    ``$SNNLIB_RESULTS`` says), and the folder ``make bench`` / ``make paper-dry-run`` fill."""
    return REPO_ROOT / "data" / "results"


def results_dir() -> Path:
    """The run's results folder: ``$SNNLIB_RESULTS`` or the reference folder."""
    return Path(os.environ.get("SNNLIB_RESULTS", reference_dir()))


def is_book_dataset(name: str) -> bool:
    """Whether ``name`` is a data set of the book's runs (:data:`BOOK_DATASETS`); results
    of any other (a user's own data set) go to :func:`user_results_dir`.

    >>> is_book_dataset("cifar10"), is_book_dataset("my-mnist")
    (True, False)
    """
    return name in BOOK_DATASETS


def user_results_dir(root: str | Path | None = None) -> Path:
    """``<results>/user``: the results of data sets outside the book (git-ignored)."""
    return Path(root or results_dir()) / "user"


def checkpoints_dir() -> Path:
    """``$SNNLIB_CHECKPOINTS`` or ``<repo>/data/checkpoints`` (git-ignored); in a dry run
    (:mod:`snnlib.dryrun`) a temporary folder of its own, so that it neither resumes from nor
    leaves a checkpoint a real run would read."""
    from . import dryrun

    if dryrun.active():
        return dryrun.checkpoints_folder()
    return Path(os.environ.get("SNNLIB_CHECKPOINTS", REPO_ROOT / "data" / "checkpoints"))
