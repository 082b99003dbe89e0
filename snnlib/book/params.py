"""The parameters every notebook declares, their defaults, and the checks of their values.

A notebook's papermill ``parameters`` cell is the source of its defaults; :data:`NOTEBOOKS`
repeats them here with a check per parameter, so that a run is refused *before* any work when

- papermill injected a name the notebook does not declare (``-p datset digits-dvs`` is only a
  papermill warning, and the run would use the default data set and overwrite its result);
- a value has the wrong type or is out of range (``seed=-1``, ``seed="abc"`` or ``seed=1.5``
  used to fail deep inside numpy); every problem is listed, each with the field named and the
  allowed values;
- ``scale="paper"`` would run on a CPU without ``confirm_paper_on_cpu=True`` (the message
  gives the projected time, see :data:`PAPER_ON_CPU`).

The defaults also name the result file: :func:`non_default` is what differs from them, and
:func:`name_hash` its short hash, which :mod:`snnlib.book.results` appends to the file name.
``tests/test_faults_inputs.py`` checks that this table equals every notebook's parameters
cell, name for name and default for default.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..validation import ConfigError

#: parameters that steer a run but do not change what it computes: never part of a result's
#: identity or its file name (``results_dir`` is the tests' folder override)
CONTROL = ("overwrite", "confirm_paper_on_cpu", "max_steps", "resume", "results_dir")
#: the parameters of every notebook (the result file name spells out the first four)
COMMON = (
    "scale",
    "dataset",
    "seed",
    "device",
    "overwrite",
    "confirm_paper_on_cpu",
    "max_steps",
)
SEED_MAX = 2**31 - 1  # seeds are derived by adding small offsets; numpy takes < 2**32

Check = Callable[[str, Any, Mapping[str, Any]], None]


@dataclass(frozen=True)
class Param:
    """One declared parameter: its default and the check of a value (raises ConfigError)."""

    default: Any
    check: Check


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def integer(low: int, high: int | None = None) -> Check:
    """An int in ``[low, high]`` (bools and floats such as 1.5 or 2.0 are refused)."""

    def check(field, value, params):
        if not _is_int(value) or value < low or (high is not None and value > high):
            hi = "" if high is None else f", at most {high}"
            raise ConfigError(f"{field}={value!r} must be an integer of at least {low}{hi}")

    return check


def number(low: float, high: float, *, open_low: bool = False) -> Check:
    """A finite int or float in ``[low, high]`` (``(low, high]`` when ``open_low``)."""

    def check(field, value, params):
        ok = (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and math.isfinite(value)
            and (value > low if open_low else value >= low)
            and value <= high
        )
        if not ok:
            bracket = "(" if open_low else "["
            raise ConfigError(f"{field}={value!r} must be a number in {bracket}{low}, {high}]")

    return check


def boolean(field, value, params):
    """``True`` or ``False`` (papermill turns ``-p x True`` into a bool; 1 or "yes" is refused)."""
    if not isinstance(value, bool):
        raise ConfigError(f"{field}={value!r} must be True or False")


def choice(*allowed: Any) -> Check:
    """One of ``allowed`` (compared by value and type: ``1`` is not ``"1"``)."""

    def check(field, value, params):
        if not any(type(value) is type(a) and value == a for a in allowed):
            raise ConfigError(f"{field}={value!r} is not allowed; choose one of {list(allowed)}")

    return check


def lazy_choice(allowed: Callable[[], Iterable[Any]]) -> Check:
    """:func:`choice` with the allowed values read when checking (a registry)."""

    def check(field, value, params):
        choice(*allowed())(field, value, params)

    return check


def device(field, value, params):
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (:func:`snnlib.runtime.resolve_device` then
    says whether the machine has it)."""
    ok = isinstance(value, str) and (
        value in ("auto", "cpu", "cuda", "mps")
        or (value.startswith("cuda:") and value[5:].isdigit())
    )
    if not ok:
        raise ConfigError(
            f"{field}={value!r} is not a device; choose one of ['auto', 'cpu', 'cuda', 'cuda:N']"
        )


def dataset(kind: str | None = None, optional: bool = False) -> Check:
    """A data set name of :mod:`snnlib.data` (built-in, registered or saved), of ``kind``
    (``static`` / ``events``) when given; ``""`` (skip) when ``optional``."""

    def check(field, value, params):
        from ..data import dataset_names

        if optional and value == "":
            return
        names = list(dataset_names())
        if kind is not None:
            names = [n for n in names if _kind(n) == kind]
        if optional:
            names.append("")
        if not isinstance(value, str) or value not in names:
            what = f"a {kind} data set" if kind else "a data set"
            raise ConfigError(f"{field}={value!r} is not {what}; choose one of {names}")

    def _kind(name):
        from ..data import dataset_info

        try:
            return dataset_info(name).kind
        except Exception:  # noqa: BLE001 - a data set that cannot describe itself is left out
            return None

    return check


def _rdm(name: str) -> Callable[[], tuple]:
    def values():
        from ..nas import rdm

        return getattr(rdm, name)

    return values


def _fitnesses():
    from ..mse.experiment import fitness_choices

    return fitness_choices()


def _attentions():
    from ..darts.attention import ATTENTION

    return tuple(ATTENTION)


def _at_most(other: str) -> Check:
    """An int in ``[0, params[other]]``."""

    def check(field, value, params):
        integer(0)(field, value, params)
        high = params.get(other)
        if _is_int(high) and value > high:
            raise ConfigError(f"{field}={value!r} must be at most {other}={high}")

    return check


_COMMON = {
    "scale": Param("cpu", choice("smoke", "cpu", "paper")),
    "dataset": Param("digits", dataset()),
    "seed": Param(0, integer(0, SEED_MAX)),
    "device": Param("auto", device),
    "overwrite": Param(False, boolean),
    "confirm_paper_on_cpu": Param(False, boolean),
    # a dry run (snnlib.dryrun): every loop stops after max_steps steps; 0: no cap
    "max_steps": Param(0, integer(0, 1_000_000)),
}
_THREADS = Param(1, integer(0, 1024))


def _spec(**specific: Param) -> dict[str, Param]:
    return {**_COMMON, **specific}


#: notebook -> parameter -> :class:`Param`; the order of each notebook's parameters cell
NOTEBOOKS: dict[str, dict[str, Param]] = {
    "00_substrate": _spec(threads=_THREADS),
    "01_nmnist_pipeline": _spec(dataset=Param("nmnist", dataset("events")), threads=_THREADS),
    "02_simulator_vs_sensor": _spec(
        dataset=Param("nmnist", choice("nmnist")),
        threads=_THREADS,
        time_steps=Param(4, integer(1, 10_000)),
        image_size=Param(17, integer(1, 34)),
    ),
    # the arrays of the user's own data set come from scikit-learn's digits
    "03_own_data": _spec(dataset=Param("digits", choice("digits")), threads=_THREADS),
    "10_mse_search": _spec(
        fitness=Param("lsp_hamming_sum", lazy_choice(_fitnesses)),
        repeats=Param(2, integer(1, 1000)),
        metric=Param("correlation", lazy_choice(_rdm("METRICS"))),
        comparison=Param("spearman", lazy_choice(_rdm("COMPARISONS"))),
        aggregation=Param("mean", lazy_choice(_rdm("AGGREGATIONS"))),
        workers=Param(0, integer(0, 1024)),
        threads=_THREADS,
        resume=Param(True, boolean),
    ),
    "11_mse_retrain": _spec(
        search_dataset=Param("", dataset(optional=True)),
        transfer_dataset=Param("digits-dvs", dataset(optional=True)),
        n_random=Param(5, integer(1, 10_000)),
        n_transfer_random=Param(2, _at_most("n_random")),
        threads=_THREADS,
    ),
    "12_mse_ablations": _spec(
        dataset=Param("digits", dataset("static")),
        event_dataset=Param("digits-dvs", dataset("events", optional=True)),
        fitness=Param("lsp_hamming_sum", lazy_choice(_fitnesses)),
        threads=_THREADS,
    ),
    "20_madarts_search": _spec(
        attention=Param("tcsa", lazy_choice(_attentions)),
        placement=Param("cell", choice("cell", "node")),
        gate=Param("scaled_sigmoid", choice("scaled_sigmoid", "sigmoid")),
        time_steps=Param(2, integer(1, 10_000)),
        order=Param("first", choice("first", "second")),
        macro=Param("none", choice("none", "depth")),
        compare_plain=Param(True, boolean),
        threads=_THREADS,
        resume=Param(True, boolean),
    ),
    "21_madarts_retrain": _spec(
        n_random=Param(5, integer(1, 10_000)),
        n_seeds=Param(0, integer(0, 10_000)),
        threads=_THREADS,
    ),
    "22_madarts_attention": _spec(compare_gates=Param(True, boolean), threads=_THREADS),
    "30_proxy_study": _spec(
        n_boot=Param(2000, integer(1, 10_000_000)),
        top_fraction=Param(0.1, number(0.0, 1.0, open_low=True)),
        threads=_THREADS,
    ),
    "40_comparison": _spec(threads=_THREADS),
    "50_performance": _spec(),
    "51_paper_scale": _spec(
        dataset=Param("cifar10", choice("cifar10")),
        precision=Param("tf32", choice("tf32", "fp32")),
        utilisation=Param(0.1, number(0.0, 1.0, open_low=True)),
    ),
    # the reproduction report compares every run; the data set only names its run
    "52_reproduction": _spec(dataset=Param("digits", choice("digits"))),
    "60_spikenas_ledger": _spec(
        dataset=Param("cifar10", choice("cifar10")),
        n_boot=Param(1000, integer(1, 10_000_000)),
        threads=_THREADS,
    ),
    "61_spikenas_search": _spec(dataset=Param("cifar10", choice("cifar10")), threads=_THREADS),
}
#: result files written by a notebook under another name, with that notebook's parameters
ALIASES = {"proxy_bench": "30_proxy_study"}

#: ``scale="paper"`` on a CPU, per notebook (where no dry run measured it, see
#: :func:`paper_on_cpu_message`): (wall seconds of the ``cpu`` scale, paper/cpu work
#: ratio). The seconds are only a fallback: the message reads the committed result files'
#: ``provenance.wall_seconds`` (:func:`committed_cpu_seconds`); the ratio is read off each
#: notebook's scale table as epochs (or generations x population) x width^2 x input pixels,
#: for digits-sized inputs. A rough number (a factor of a few either way); the papers' data
#: sets (CIFAR: 40x the images, 16x the pixels) make it hundreds of times longer still.
PAPER_ON_CPU: dict[str, tuple[float, float]] = {
    "00_substrate": (11.3, 270),  # 200/12 epochs x (64/16)^2 width
    "01_nmnist_pipeline": (600.0, 1000),  # 70x the recordings x 100/30 epochs x (64/16)^2 width
    # nmnist, one thread (its own cpu-scale run, 2026-12-02): a ~5x calibration grid, 10/3 seeds
    # x 60/30 epochs x 4 noise draws of each simulated image
    "02_simulator_vs_sensor": (167.4, 16),
    "10_mse_search": (46.3, 270),  # 50x100 / 30x20 evaluations x 2 probes x 4 width x 4 stride
    "11_mse_retrain": (151.9, 300),  # the found genome retrained at paper width and epochs
    "12_mse_ablations": (154.1, 1000),  # 600/6 retrain epochs x (64/16)^2 width
    "20_madarts_search": (317.8, 43),  # 50/30 epochs x (16/4)^2 width x 8/5 cells
    "21_madarts_retrain": (213.1, 1280),  # 300/8 epochs x (64/8)^2 width x 8/5 cells / 3 seeds
    "22_madarts_attention": (47.0, 1280),  # the retraining budget of 21
    "30_proxy_study": (122.0, 100),
    "40_comparison": (94.7, 100),
    "50_performance": (0.7, 2),  # 5/3 repeats of the benchmarks
    # SpikeNAS-Bench on CIFAR-10 (these two from their own cifar10 result files): 15,625/500
    # cells x (16x width)^2 x 2x probe; 8x evaluations x 16^2 width x 2x probe
    "60_spikenas_ledger": (900.0, 16_000),
    "61_spikenas_search": (700.0, 4_000),
}


def same_type(default: Any) -> Check:
    """A value of the default's type (a float default also takes an int; NaN is refused)."""

    def check(field, value, params):
        if isinstance(default, bool):
            return boolean(field, value, params)
        if isinstance(default, int):
            ok = _is_int(value)
        elif isinstance(default, float):
            ok = (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and math.isfinite(value)
            )
        else:
            ok = isinstance(value, type(default)) or default is None
        if not ok:
            raise ConfigError(
                f"{field}={value!r} must be of the type of its default {default!r} "
                f"({type(default).__name__})"
            )

    return check


def declared_in_file(notebook: str, folder: str | Path | None = None) -> dict[str, Any] | None:
    """``name -> default`` of the parameters cell of ``notebooks/<notebook>.py`` (jupytext
    percent format), ``None`` when there is no such file or cell."""
    from ..paths import REPO_ROOT

    path = Path(folder or REPO_ROOT / "notebooks") / f"{notebook}.py"
    if not path.is_file():
        return None
    parts = path.read_text().split('# %% tags=["parameters"]\n', 1)
    if len(parts) < 2:
        return None
    out = {}
    for node in ast.parse(parts[1].split("\n# %%", 1)[0]).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return out


def spec_of(notebook: str) -> dict[str, Param] | None:
    """The declared parameters of ``notebook`` (or of the notebook an alias belongs to): the
    table :data:`NOTEBOOKS`, else the notebook file's parameters cell with a type check per
    parameter (the common ones keep their checks), else ``None``."""
    name = ALIASES.get(notebook, notebook)
    if name in NOTEBOOKS:
        return NOTEBOOKS[name]
    declared = declared_in_file(name)
    if not declared:
        return None
    return {
        k: Param(v, _COMMON[k].check if k in _COMMON else same_type(v)) for k, v in declared.items()
    }


def identity(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters that determine a run's content: all of them but :data:`CONTROL`."""
    return {k: params[k] for k in params if k not in CONTROL}


def non_default(notebook: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The notebook-specific parameters whose value is not the declared default (a parameter
    the notebook does not declare has no default and always counts); sorted by name."""
    spec = spec_of(notebook) or {}
    named = ("scale", "dataset", "seed", "device")  # spelt out in the file name, or the device
    out = {}
    for k in sorted(identity(params)):
        if k in named:
            continue
        if k not in spec or not _same(params[k], spec[k].default):
            out[k] = params[k]
    return out


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def params_hash(record: Mapping[str, Any], n: int = 8) -> str:
    """The first ``n`` hex digits of the SHA-256 of ``record`` as canonical JSON."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def name_hash(notebook: str, params: Mapping[str, Any]) -> str | None:
    """The 8-digit hash a result file name gains, ``None`` when every notebook-specific
    parameter has its default (the plain ``<notebook>__<dataset>__<scale>__seed<seed>``)."""
    extra = non_default(notebook, params)
    return params_hash(extra) if extra else None


def injected_names(cells: Iterable[str]) -> set[str] | None:
    """The names papermill injected: the assignments of the last executed cell that begins
    with papermill's ``# Parameters`` comment; ``None`` when no cell does (not run by
    papermill)."""
    for source in reversed(list(cells)):
        if isinstance(source, str) and source.lstrip().startswith("# Parameters"):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return None
            return {
                t.id
                for node in tree.body
                if isinstance(node, ast.Assign)
                for t in node.targets
                if isinstance(t, ast.Name)
            }
    return None


def kernel_injected_names() -> set[str] | None:
    """:func:`injected_names` of the running IPython kernel's input history (``In``)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None:
        return None
    return injected_names(shell.user_ns.get("In") or [])


def validate_params(
    notebook: str,
    params: Mapping[str, Any],
    injected: Iterable[str] | None = None,
) -> None:
    """Raise one :class:`ConfigError` that lists every problem of a notebook's parameters.

    ``injected``: the names papermill put in (see :func:`kernel_injected_names`); any that
    the notebook does not declare is an error, with the declared names listed. A notebook
    without a declared table only gets the common checks.
    """
    spec = spec_of(notebook)
    problems = []
    declared = list(spec) if spec is not None else [*_COMMON, *params]
    unknown = sorted(set(injected or ()) - set(declared))
    if unknown:
        problems.append(
            f"unknown parameter(s) {unknown} for notebook {notebook}; "
            f"it declares {sorted(declared)}"
        )
    checks = spec if spec is not None else _COMMON
    for field, param in checks.items():
        if field not in params:
            continue  # a missing required parameter is ResultRun's message
        try:
            param.check(field, params[field], params)
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError(f"{notebook}: " + "; ".join(problems))


def committed_cpu_seconds(notebook: str) -> float | None:
    """The longest ``provenance.wall_seconds`` of ``notebook``'s committed ``cpu`` result
    files (``data/results/<notebook>__*__cpu__seed0.json``), ``None`` when there is none: the
    measured time the paper projection scales, rather than a number typed once."""
    import json

    from ..paths import results_dir

    walls = []
    for path in sorted(results_dir().glob(f"{notebook}__*__cpu__seed0.json")):
        try:
            walls.append(float(json.loads(path.read_text())["provenance"]["wall_seconds"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return max(walls) if walls else None


def paper_on_cpu_message(notebook: str, dataset: str | None = None) -> str:
    """Why ``scale='paper'`` on a CPU stops, with the projected time: measured by the
    notebook's dry run on ``dataset`` where its record exists
    (:func:`snnlib.book.paper_scale.projected_cpu_hours`), else the rough estimate of
    :data:`PAPER_ON_CPU`."""
    from .paper_scale import projected_cpu_hours

    name = ALIASES.get(notebook, notebook)
    measured = projected_cpu_hours(name, dataset) if dataset else None
    if measured is not None:
        return (
            f"scale='paper' on a CPU: {notebook} on {dataset} is projected to take "
            f"{measured:,.0f} hours on one CPU thread (its dry run: the measured seconds per "
            "step x the full run's steps, data/results/dryrun/). Run it on a GPU "
            "(device='cuda'), or pass confirm_paper_on_cpu=True to run it anyway"
        )
    typed, ratio = PAPER_ON_CPU.get(name, (100.0, 300))
    seconds = committed_cpu_seconds(name) or typed
    hours = seconds * ratio / 3600
    return (
        f"scale='paper' on a CPU: {notebook} is projected to take roughly {hours:.1f} hours "
        f"on 2 cores for digits-sized inputs (its cpu-scale wall time {seconds:.0f} s x the "
        f"paper/cpu work ratio ~{ratio:g}; the papers' data sets take far longer). Run it on "
        "a GPU (device='cuda'), or pass confirm_paper_on_cpu=True to run it anyway"
    )


def declared_params(notebook: str, namespace: dict) -> dict[str, Any]:
    """The values of ``notebook``'s declared parameters in ``namespace`` (a notebook passes
    ``globals()``), in the declared order: the ``params`` every result file records, without
    restating the parameters cell.

    >>> declared_params("50_performance", dict(scale="smoke", dataset="digits", seed=0,
    ...     device="cpu", overwrite=False, confirm_paper_on_cpu=False, max_steps=0,
    ...     other=1))["scale"]
    'smoke'
    """
    spec = spec_of(notebook)
    if spec is None:
        raise ConfigError(f"notebook {notebook!r} declares no parameters")
    missing = [k for k in spec if k not in namespace]
    if missing:
        raise ConfigError(f"notebook {notebook!r} lacks its declared parameters {missing}")
    return {k: namespace[k] for k in spec}
