"""Result files: the contract between experiment notebooks and everything that reads them.

Every experiment notebook writes ``<results>/<notebook>__<dataset>__<scale>__seed<seed>.json``
(``<results>``: :func:`snnlib.paths.results_dir`, ``build/results-<scale>`` under ``make book``,
never the committed reference ``data/results``; a data set outside the book's writes to
``<results>/user/``) with three top-level keys, always present:

- ``params``: every papermill parameter of the run;
- ``provenance``: git commit (and whether the tree was dirty), versions of snnlib, torch,
  snntorch and tonic, Python, device name, the machine (CPU model, the vector instruction set
  torch's kernels use: :func:`snnlib.provenance.machine`), start and end UTC, wall seconds;
- ``metrics``: named numbers (floats / ints, or small dicts and lists of them).

Optional keys: ``architecture`` (a found genome or genotype) and ``artifacts`` (larger
series such as histories). Files are written atomically (temp file + rename), so an
interrupted run never leaves a half-written result behind.

Dry runs (:mod:`snnlib.dryrun`, a notebook run with ``max_steps > 0``) never write a
result file: :meth:`ResultRun.write` writes ``data/results/dryrun/<notebook>__<dataset>__
<scale>.json`` instead (:func:`dryrun_path`), with ``dry_run: true``, the measurements of the
capped loops as ``metrics`` (:func:`snnlib.dryrun.summary`) and what the run would have
written under ``would_write`` (its metrics and architecture), which :func:`load_result`
reads in a dry run, so that a retraining's dry run follows its search's dry run.

Identity: a run's file also holds ``identity`` (``record``: every parameter that determines
its content, i.e. all but :data:`snnlib.book.params.CONTROL`; ``hash``: the short hash of that
record). When a notebook-specific parameter differs from its declared default (e.g.
``metric="euclidean"``) the name gains ``__<hash8>`` of those parameters, so two runs that
differ only there write two files. An existing file of another record is never replaced
without ``overwrite=True`` (checked when the run opens, and again, under a lock on the
folder, when it writes); a re-run with the same record replaces its own file.
"""

from __future__ import annotations

import json
import math
import platform
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import dryrun
from ..fileio import atomic_write, folder_lock
from ..paths import REPO_ROOT, is_book_dataset, results_dir, user_results_dir
from ..provenance import machine, reads, record_result
from ..validation import ConfigError
from .params import identity, name_hash, params_hash

REQUIRED_PARAMS = ("scale", "dataset", "seed", "device")
TOP_LEVEL_KEYS = ("params", "provenance", "metrics")


def result_path(
    notebook: str,
    dataset: str,
    scale: str,
    seed: int,
    root: str | Path | None = None,
    tag: str | None = None,
) -> Path:
    """The path of a result file, by the naming contract (``tag``: the hash of the
    non-default parameters, :func:`snnlib.book.params.name_hash`). A data set outside the
    book (:func:`snnlib.paths.is_book_dataset`: a user's own) has its results in the
    ``user/`` folder of ``root`` (git-ignored), never beside the book's.

    >>> result_path("00_substrate", "digits", "cpu", 0, root="r").as_posix()
    'r/00_substrate__digits__cpu__seed0.json'
    >>> result_path("00_substrate", "my-mnist", "cpu", 0, root="r").as_posix()
    'r/user/00_substrate__my-mnist__cpu__seed0.json'
    """
    suffix = f"__{tag}" if tag else ""
    folder = Path(root or results_dir())
    if not is_book_dataset(dataset):
        folder = user_results_dir(folder)
    return folder / f"{notebook}__{dataset}__{scale}__seed{seed}{suffix}.json"


def dryrun_path(notebook: str, dataset: str, scale: str, root: str | Path | None = None) -> Path:
    """The path of a dry run's record: ``<results>/dryrun/<notebook>__<dataset>__<scale>.json``
    (one per notebook, data set and scale: a later dry run replaces it)."""
    return Path(root or results_dir()) / "dryrun" / f"{notebook}__{dataset}__{scale}.json"


CODE_PATHS = (
    "snnlib",
    "notebooks",
    "tools",
    "benchmarks",
    "Makefile",
    "pyproject.toml",
    "constraints.txt",
)
"""What ``git_dirty`` looks at: code and notebooks, not the result files a run writes."""


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip() if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except Exception:  # noqa: BLE001 - a missing optional package is recorded as None
        return None


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _jsonable(obj: Any) -> Any:
    """Convert numpy / torch scalars and containers to plain JSON; NaN/inf become None."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return _jsonable(obj.tolist())
    if hasattr(obj, "to_dict"):
        return _jsonable(obj.to_dict())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def atomic_write_json(path: str | Path, data: Any) -> Path:
    """Write JSON to ``path`` atomically (see :func:`atomic_write`)."""

    def write(f):
        json.dump(_jsonable(data), f, indent=2, sort_keys=False)
        f.write("\n")

    return atomic_write(path, write)


class ResultRun:
    """Open at the start of a notebook, ``write`` at the end.

    >>> run = ResultRun("00_substrate", dict(scale="smoke", dataset="digits", seed=0, device="cpu"))
    >>> # ... experiment ...
    >>> # path = run.write({"test_acc": 0.93})
    """

    def __init__(
        self,
        notebook: str,
        params: dict,
        device_name: str | None = None,
        overwrite: bool | None = None,
    ):
        missing = [k for k in REQUIRED_PARAMS if k not in params]
        if missing:
            raise ConfigError(
                f"result params lack required keys {missing}; "
                f"every notebook has {list(REQUIRED_PARAMS)}"
            )
        self.notebook = notebook
        self.params = dict(params)
        self.device_name = device_name
        self.overwrite = bool(params.get("overwrite", False) if overwrite is None else overwrite)
        self.started = _utc_now()
        self._t0 = time.perf_counter()
        self.check_target()  # fail now, not after hours of work

    @property
    def dry_run(self) -> bool:
        """Whether this is a dry run (``max_steps > 0``): it writes a dry-run record only."""
        return bool(self.params.get("max_steps", 0))

    @property
    def path(self) -> Path:
        p = self.params
        if self.dry_run:
            return dryrun_path(self.notebook, p["dataset"], p["scale"], p.get("results_dir"))
        return result_path(
            self.notebook,
            p["dataset"],
            p["scale"],
            p["seed"],
            self.params.get("results_dir"),
            tag=name_hash(self.notebook, p),
        )

    @property
    def identity(self) -> dict:
        """``record`` (the parameters that determine the content) and its ``hash``."""
        record = _plain(identity(self.params))
        return {"hash": params_hash(record), "record": record}

    def check_target(self) -> None:
        """Raise :class:`ConfigError` when :attr:`path` holds another run's result (another
        record, or a file that cannot be read) and ``overwrite`` is not set."""
        path = self.path
        if self.overwrite or self.dry_run or not path.exists():
            return
        try:
            theirs = read_result(path)
        except ConfigError as exc:
            raise ConfigError(
                f"{exc}; it would be replaced by this run: pass overwrite=True to replace it"
            ) from exc
        record = theirs.get("identity", {}).get("record")
        if record is None:  # written before result files carried their identity
            record = _plain(identity(theirs.get("params", {})))
        record, ours = comparable(record), comparable(self.identity["record"])
        differ = sorted(
            k for k in {*record, *ours} if record.get(k, _MISSING) != ours.get(k, _MISSING)
        )
        if differ:
            shown = {k: (record.get(k, "<absent>"), ours.get(k, "<absent>")) for k in differ}
            raise ConfigError(
                f"result file {path} was written by a run with other parameters "
                f"(field: (theirs, this run's)): {shown}; it is kept. Pass overwrite=True "
                "(papermill: -p overwrite True) to replace it"
            )

    def provenance(self) -> dict:
        import torch

        from .. import __version__

        status = _git("status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS)
        changed = [
            ln.strip().split(None, 1)[-1] for ln in (status or "").splitlines() if ln.strip()
        ]
        return {
            "git_commit": _git("rev-parse", "HEAD"),
            "git_dirty": bool(changed) if status is not None else None,
            "git_dirty_files": changed[:20],
            **{f"{k}_read": v for k, v in reads().items()},
            "snnlib": __version__,
            "torch": torch.__version__,
            "snntorch": _version("snntorch"),
            "tonic": _version("tonic"),
            "python": platform.python_version(),
            "device": self.device_name,
            "machine": machine(),
            "start_utc": self.started,
            "end_utc": _utc_now(),
            "wall_seconds": round(time.perf_counter() - self._t0, 3),
        }

    def write(self, metrics: dict, **extra: Any) -> Path:
        """Write params, provenance, metrics (+ ``architecture``/``artifacts`` ...) atomically."""
        if not isinstance(metrics, dict):
            raise ConfigError("metrics must be a dict of named numbers")
        if self.dry_run:
            return self.write_dry_run(metrics, **extra)
        data = {
            "params": self.params,
            "identity": self.identity,
            "provenance": self.provenance(),
            "metrics": metrics,
            **extra,
        }
        with folder_lock(self.path.parent):
            self.check_target()  # another process may have written it since this run opened
            return atomic_write_json(self.path, data)

    def write_dry_run(self, metrics: dict, **extra: Any) -> Path:
        """The record of a dry run (never a result file): params, provenance, the capped
        loops' measurements as ``metrics``, and what the run would have written (its metrics
        and architecture, without artifacts) as ``would_write``."""
        would = {"metrics": metrics}
        if "architecture" in extra:
            would["architecture"] = extra["architecture"]
        data = {
            "dry_run": True,
            "params": self.params,
            "identity": self.identity,
            "provenance": self.provenance(),
            "metrics": dryrun.summary(),
            "would_write": would,
        }
        return atomic_write_json(self.path, data)


_MISSING = object()


def _plain(obj: Any) -> Any:
    """``obj`` as it reads back from JSON (tuples become lists, NaN None), for comparisons."""
    return json.loads(json.dumps(_jsonable(obj), default=repr))


def read_result(path: str | Path) -> dict:
    """Read a result file and check that it keeps the contract."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"result file {path} does not exist; run the notebook that writes it first"
        )
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"result file {path} is not valid JSON ({exc}); it is truncated or corrupt: "
            "run the notebook that writes it again"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"result file {path} holds a JSON {type(data).__name__}, not an object with keys "
            f"{list(TOP_LEVEL_KEYS)}"
        )
    missing = [k for k in TOP_LEVEL_KEYS if k not in data]
    if missing:
        raise ConfigError(f"result file {path} lacks keys {missing}")
    return data


#: parameters that choose how a run executes, not what it computes: torch's intra-op threads
#: (every reduction of snnlib's kernels is thread-independent, see :mod:`snnlib.native`)
EXECUTION = ("threads",)


def comparable(record: dict) -> dict:
    """The identity ``record`` as :meth:`ResultRun.check_target` compares it: without
    :data:`EXECUTION` parameters, ``device="auto"`` as the device it picks on this machine
    (``"cpu"`` or ``"cuda"``: a ``make book`` run, ``auto``, replaces a run with
    ``device=cpu`` on a CPU machine), and ``search_dataset=""`` (the default: the run's own
    data set) spelt out, so that equal runs written by different callers compare equal.

    >>> comparable({"device": "cpu", "threads": 1, "dataset": "digits", "search_dataset": ""})
    {'device': 'cpu', 'dataset': 'digits', 'search_dataset': 'digits'}
    >>> comparable({"device": "auto"})["device"] in ("cpu", "cuda")
    True
    """
    out = {k: v for k, v in record.items() if k not in EXECUTION}
    if out.get("device") == "auto":
        from ..runtime import resolve_device

        out["device"] = resolve_device("auto").type
    if out.get("search_dataset") == "" and "dataset" in out:
        out["search_dataset"] = out["dataset"]
    return out


def check_asked(path: str | Path, data: dict, asked: dict) -> None:
    """Raise :class:`ConfigError` when the ``params`` of the result ``data`` read from
    ``path`` differ from the parameters ``asked`` for (e.g. a retraining of the ``cpu``
    search handed a file whose ``params.scale`` is ``smoke``), naming the file and each field.

    >>> check_asked("f.json", {"params": {"scale": "cpu", "seed": 0}}, {"scale": "cpu", "seed": 0})
    >>> check_asked("f.json", {"params": {"scale": "smoke"}}, {"scale": "cpu"})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snnlib.validation.ConfigError: result file f.json is not the run asked for: params.scale ...
    """
    params = data.get("params")
    params = params if isinstance(params, dict) else {}
    wrong = [
        f"params.{k} is {params.get(k, '<absent>')!r}, asked for {v!r}"
        for k, v in asked.items()
        if _plain(params.get(k, _ABSENT)) != _plain(v)
    ]
    if wrong:
        raise ConfigError(
            f"result file {path} is not the run asked for: {'; '.join(wrong)}; run the "
            "notebook that writes it with these parameters (or point SNNLIB_RESULTS at the "
            "folder that holds that run)"
        )


_ABSENT = "<absent>"


def load_result(
    notebook: str, dataset: str, scale: str, seed: int, root=None, **asked: Any
) -> dict:
    """Read the result file of another notebook's run (e.g. a search for a retrain).

    The file's ``params`` must be those asked for (``scale``, ``dataset``, ``seed`` and any
    further ``asked`` parameter, e.g. ``fitness="rdm"``); otherwise :func:`check_asked`
    refuses it, naming the file and the field, so that a file copied or stored under another
    run's name is never read silently. In a dry run (:func:`snnlib.dryrun.active`) it reads
    that notebook's dry-run record instead, returning what the dry run would have written
    (``metrics``, ``architecture``), so that a dry run never builds on a real result, nor
    fails for want of one."""
    wanted = {"scale": scale, "dataset": dataset, "seed": seed, **asked}
    if dryrun.active():
        path = dryrun_path(notebook, dataset, scale, root)
        record = read_result(path)
        check_asked(path, record, {k: v for k, v in wanted.items() if k != "seed"})
        return {**record, **record.get("would_write", {})}
    path = result_path(notebook, dataset, scale, seed, root)
    data = read_result(path)
    check_asked(path, data, wanted)
    record_result(str(path), data.get("identity", {}).get("hash"))
    return data
