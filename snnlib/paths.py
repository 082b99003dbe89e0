"""Where the project keeps data and results (overridable by environment variables)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def results_dir() -> Path:
    """``$SNNLIB_RESULTS`` or ``<repo>/data/results``."""
    return Path(os.environ.get("SNNLIB_RESULTS", REPO_ROOT / "data" / "results"))


def checkpoints_dir() -> Path:
    """``$SNNLIB_CHECKPOINTS`` or ``<repo>/data/checkpoints`` (git-ignored); in a dry run
    (:mod:`snnlib.dryrun`) a temporary folder of its own, so that it neither resumes from nor
    leaves a checkpoint a real run would read."""
    from . import dryrun

    if dryrun.active():
        return dryrun.checkpoints_folder()
    return Path(os.environ.get("SNNLIB_CHECKPOINTS", REPO_ROOT / "data" / "checkpoints"))
