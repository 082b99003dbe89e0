"""Fault injection, inputs: bad notebook parameters, bad API inputs, corrupt result files,
concurrent writers. Every bad input must raise a named exception class whose message names
the field or file, and must leave every file that was there before untouched."""

from __future__ import annotations

import ast
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from snnlib import data
from snnlib.book.params import (
    NOTEBOOKS,
    injected_names,
    name_hash,
    paper_on_cpu_message,
    validate_params,
)
from snnlib.book.results import ResultRun, load_result, read_result
from snnlib.book.setup import start
from snnlib.darts.genotype import genotype_from_dict, random_genotype, validate_genotype
from snnlib.encoding import Encoder
from snnlib.fileio import atomic_write, stale_temp_files
from snnlib.paths import REPO_ROOT
from snnlib.train import TrainConfig
from snnlib.validation import ConfigError

BASE = dict(scale="smoke", dataset="digits", seed=0, device="cpu")
PY = sys.executable


def _params(nb: str, **changes) -> dict:
    """The declared defaults of ``nb`` at smoke scale on the CPU, with ``changes``."""
    p = {k: v.default for k, v in NOTEBOOKS[nb].items()}
    return {**p, **BASE, **changes}


@pytest.fixture
def results(tmp_path, monkeypatch):
    """A results folder with an earlier run's file in it, and a snapshot to compare with."""
    folder = tmp_path / "results"
    monkeypatch.setenv("SNNLIB_RESULTS", str(folder))
    ResultRun("00_substrate", _params("00_substrate")).write({"test_acc": 0.5})
    ResultRun("10_mse_search", _params("10_mse_search")).write({"best": 1.0})
    return folder


def _snapshot(folder: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _tiny_no_val():
    from torch.utils.data import TensorDataset

    def factory(split, **kwargs):
        n = {"train": 8, "val": 0, "test": 4}[split]
        return TensorDataset(torch.rand(n, 1, 4, 4), torch.arange(n) % 2)

    info = data.DatasetInfo("noval", "static", num_classes=2, in_channels=1, size=(4, 4))
    data.register_dataset("noval", factory, info=info)
    try:
        data.make_loaders("noval", batch_size=4)
    finally:
        data.unregister_dataset("noval")


def _conflicting_result(folder: Path):
    """A result file under the default name, written by a run with another metric (as files
    written before names carried a hash would be); a default run must not replace it."""
    path = folder / "10_mse_search__digits__smoke__seed0.json"
    doc = json.loads(path.read_text())
    doc.pop("identity")
    doc["params"]["metric"] = "euclidean"
    path.write_text(json.dumps(doc))


# (case id, call(results folder), text the message must contain); the class: OTHER_CLASS
CASES = [
    # -- notebook parameters, checked by start() before anything runs ---------------------
    ("seed -1", lambda f: start("00_substrate", _params("00_substrate", seed=-1)), "seed=-1"),
    ("seed abc", lambda f: start("00_substrate", _params("00_substrate", seed="abc")), "seed"),
    ("seed 1.5", lambda f: start("00_substrate", _params("00_substrate", seed=1.5)), "seed=1.5"),
    ("seed True", lambda f: start("00_substrate", _params("00_substrate", seed=True)), "seed"),
    ("seed 2**40", lambda f: start("00_substrate", _params("00_substrate", seed=2**40)), "seed"),
    ("seed nan", lambda f: start("00_substrate", _params("00_substrate", seed=math.nan)), "seed"),
    ("scale big", lambda f: start("00_substrate", _params("00_substrate", scale="big")), "scale"),
    ("scale None", lambda f: start("00_substrate", _params("00_substrate", scale=None)), "scale"),
    (
        "dataset typo",
        lambda f: start("00_substrate", _params("00_substrate", dataset="digts")),
        "dataset='digts'",
    ),
    ("dataset int", lambda f: start("00_substrate", _params("00_substrate", dataset=3)), "dataset"),
    (
        "device tpu",
        lambda f: start("00_substrate", _params("00_substrate", device="tpu")),
        "device",
    ),
    ("device int", lambda f: start("00_substrate", _params("00_substrate", device=0)), "device"),
    (
        "unknown injected",
        lambda f: start("00_substrate", _params("00_substrate"), injected={"scale", "datset"}),
        "datset",
    ),
    (
        "metric",
        lambda f: start("10_mse_search", _params("10_mse_search", metric="cosine")),
        "metric",
    ),
    (
        "comparison",
        lambda f: start("10_mse_search", _params("10_mse_search", comparison="rank")),
        "comparison",
    ),
    (
        "aggregation",
        lambda f: start("10_mse_search", _params("10_mse_search", aggregation="sum")),
        "aggregation",
    ),
    (
        "workers -1",
        lambda f: start("10_mse_search", _params("10_mse_search", workers=-1)),
        "workers",
    ),
    (
        "threads 1.5",
        lambda f: start("10_mse_search", _params("10_mse_search", threads=1.5)),
        "threads",
    ),
    (
        "resume str",
        lambda f: start("10_mse_search", _params("10_mse_search", resume="yes")),
        "resume",
    ),
    (
        "n_random 0",
        lambda f: start("11_mse_retrain", _params("11_mse_retrain", n_random=0)),
        "n_random",
    ),
    (
        "n_transfer > n_random",
        lambda f: start(
            "11_mse_retrain", _params("11_mse_retrain", n_random=2, n_transfer_random=3)
        ),
        "n_transfer_random",
    ),
    (
        "transfer_dataset",
        lambda f: start("11_mse_retrain", _params("11_mse_retrain", transfer_dataset="nope")),
        "transfer_dataset",
    ),
    (
        "12 event data as static",
        lambda f: start("12_mse_ablations", _params("12_mse_ablations", dataset="digits-dvs")),
        "static",
    ),
    (
        "12 static as events",
        lambda f: start("12_mse_ablations", _params("12_mse_ablations", event_dataset="digits")),
        "event_dataset",
    ),
    (
        "attention",
        lambda f: start("20_madarts_search", _params("20_madarts_search", attention="se")),
        "attention",
    ),
    (
        "placement",
        lambda f: start("20_madarts_search", _params("20_madarts_search", placement="edge")),
        "placement",
    ),
    (
        "gate",
        lambda f: start("20_madarts_search", _params("20_madarts_search", gate="relu")),
        "gate",
    ),
    (
        "time_steps 0",
        lambda f: start("20_madarts_search", _params("20_madarts_search", time_steps=0)),
        "time_steps",
    ),
    (
        "order",
        lambda f: start("20_madarts_search", _params("20_madarts_search", order="third")),
        "order",
    ),
    (
        "macro",
        lambda f: start("20_madarts_search", _params("20_madarts_search", macro="width")),
        "macro",
    ),
    (
        "compare_plain str",
        lambda f: start("20_madarts_search", _params("20_madarts_search", compare_plain="True")),
        "compare_plain",
    ),
    (
        "n_seeds -1",
        lambda f: start("21_madarts_retrain", _params("21_madarts_retrain", n_seeds=-1)),
        "n_seeds",
    ),
    (
        "compare_gates 1",
        lambda f: start("22_madarts_attention", _params("22_madarts_attention", compare_gates=1)),
        "compare_gates",
    ),
    ("n_boot 0", lambda f: start("30_proxy_study", _params("30_proxy_study", n_boot=0)), "n_boot"),
    (
        "top_fraction 0",
        lambda f: start("30_proxy_study", _params("30_proxy_study", top_fraction=0)),
        "top_fraction",
    ),
    (
        "top_fraction nan",
        lambda f: start("30_proxy_study", _params("30_proxy_study", top_fraction=math.nan)),
        "top_fraction",
    ),
    (
        "overwrite str",
        lambda f: start("40_comparison", _params("40_comparison", overwrite="no")),
        "overwrite",
    ),
    (
        "paper on cpu",
        lambda f: start("20_madarts_search", _params("20_madarts_search", scale="paper")),
        "confirm_paper_on_cpu",
    ),
    (
        "other params' result",
        lambda f: ResultRun("10_mse_search", _params("10_mse_search")),
        "metric",
    ),
    # -- result files ------------------------------------------------------------------------
    (
        "truncated result",
        lambda f: read_result(_write(f.parent / "cut.json", '{"params": {')),
        "cut.json",
    ),
    ("empty result", lambda f: read_result(_write(f.parent / "empty.json", "")), "empty.json"),
    (
        "result is a list",
        lambda f: read_result(_write(f.parent / "list.json", "[1, 2]")),
        "list.json",
    ),
    (
        "result lacks keys",
        lambda f: read_result(_write(f.parent / "keys.json", '{"params": {}}')),
        "metrics",
    ),
    (
        "missing result",
        lambda f: load_result("20_madarts_search", "digits", "smoke", 0),
        "20_madarts_search__digits__smoke__seed0.json",
    ),
    # -- training configuration -------------------------------------------------------------
    ("lr nan", lambda f: TrainConfig(lr=math.nan), "lr"),
    ("lr inf", lambda f: TrainConfig(lr=math.inf), "lr"),
    ("epochs -1", lambda f: TrainConfig(epochs=-1), "epochs"),
    ("weight_decay -0.1", lambda f: TrainConfig(weight_decay=-0.1), "weight_decay"),
    ("momentum 1.5", lambda f: TrainConfig(momentum=1.5), "momentum"),
    ("warmup_epochs -1", lambda f: TrainConfig(warmup_epochs=-1), "warmup_epochs"),
    ("grad_clip -1", lambda f: TrainConfig(grad_clip=-1.0), "grad_clip"),
    ("max_batches 0", lambda f: TrainConfig(max_batches=0), "max_batches"),
    ("label_smoothing nan", lambda f: TrainConfig(label_smoothing=math.nan), "label_smoothing"),
    ("optimizer", lambda f: TrainConfig(optimizer="adam"), "optimizer"),
    # -- data and encoding -------------------------------------------------------------------
    (
        "limit < classes",
        lambda f: data.load_dataset("digits", "train", limit=3, every_class=True),
        "limit=3",
    ),
    (
        "loaders limit < classes",
        lambda f: data.make_loaders("digits", batch_size=8, limit={"val": 5}, splits=("val",)),
        "limit=5",
    ),
    ("empty val split", lambda f: _tiny_no_val(), "val"),
    (
        "events T mismatch",
        lambda f: Encoder("events", 4)(torch.rand(2, 10, 2, 4, 4)),
        "time_steps=4",
    ),
    ("encoder time_steps 0", lambda f: Encoder("direct", 0), "time_steps"),
    ("encoder time_steps str", lambda f: Encoder("direct", "4"), "time_steps"),
    # -- genotypes ---------------------------------------------------------------------------
    (
        "genotype op list",
        lambda f: validate_genotype(
            (
                ((["conv_3x3"], 0), ("skip_connect", 1)) * 4,
                (2, 3, 4, 5),
                (("skip_connect", 0), ("skip_connect", 1)) * 4,
                (2, 3, 4, 5),
            )
        ),
        "genotype.normal[0]",
    ),
    (
        "genotype op None",
        lambda f: genotype_from_dict({**_gdict(), "reduce": [[None, 0]] + _gdict()["reduce"][1:]}),
        "genotype.reduce[0]",
    ),
    ("genotype of 3 parts", lambda f: validate_genotype(tuple(random_genotype(0))[:3]), "genotype"),
]


def _gdict() -> dict:
    from snnlib.darts.genotype import genotype_to_dict

    return genotype_to_dict(random_genotype(0))


def test_the_table_is_large_enough():
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


#: the exception class of a case when it is not ConfigError
OTHER_CLASS = {"missing result": FileNotFoundError}
#: what a case puts in the results folder before the snapshot
PREPARE = {"other params' result": _conflicting_result}


@pytest.mark.parametrize("case, call, needle", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_named_and_changes_no_file(results, case, call, needle):
    PREPARE.get(case, lambda f: None)(results)
    before = _snapshot(results)
    expected = OTHER_CLASS.get(case, ConfigError)
    with pytest.raises(Exception) as info:
        call(results)
    assert type(info.value) is expected or (
        expected is ConfigError and isinstance(info.value, ConfigError)
    ), f"{type(info.value).__name__}: {info.value}"
    assert needle in str(info.value)
    assert _snapshot(results) == before


# -- parameters: the table equals the notebooks, injected names, paper on a CPU --------------


def _declared(path: Path) -> dict:
    """The parameters cell of a jupytext percent notebook, as ``name -> default``."""
    text = path.read_text()
    cell = text.split('# %% tags=["parameters"]\n', 1)[1].split("\n# %%", 1)[0]
    out = {}
    for node in ast.parse(cell).body:
        if isinstance(node, ast.Assign):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


@pytest.mark.parametrize("nb", sorted(NOTEBOOKS))
def test_the_declared_table_is_the_notebooks_parameters_cell(nb):
    declared = _declared(REPO_ROOT / "notebooks" / f"{nb}.py")
    assert list(declared) == list(NOTEBOOKS[nb])
    assert declared == {k: p.default for k, p in NOTEBOOKS[nb].items()}
    validate_params(nb, declared, injected=set(declared))  # the defaults are valid


def test_every_notebook_passes_all_its_parameters_to_start():
    """Each notebook collects its own declared parameters (all of them, in the declared order)
    from its namespace; a missing one is an error naming it."""
    from snnlib.book.params import declared_params

    for nb in NOTEBOOKS:
        text = (REPO_ROOT / "notebooks" / f"{nb}.py").read_text()
        assert f'params = declared_params("{nb}", globals())' in text, nb
        namespace = {k: p.default for k, p in NOTEBOOKS[nb].items()} | {"unrelated": 1}
        assert list(declared_params(nb, namespace)) == list(NOTEBOOKS[nb]), nb
    with pytest.raises(ConfigError, match=r"lacks its declared parameters \['seed'\]"):
        declared_params("00_substrate", {k: 0 for k in NOTEBOOKS["00_substrate"] if k != "seed"})


def test_injected_names_are_read_from_papermills_cell():
    cells = ["import x", '# Parameters\nscale = "smoke"\ndatset = "digits-dvs"\n', "y = 1"]
    assert injected_names(cells) == {"scale", "datset"}
    assert injected_names(["a = 1"]) is None


def test_paper_on_cpu_runs_when_confirmed_and_says_the_time(tmp_path):
    assert "hours" in paper_on_cpu_message("10_mse_search")
    run, dev = start(
        "00_substrate", _params("00_substrate", scale="paper", confirm_paper_on_cpu=True)
    )
    assert dev.type == "cpu" and run.path.name == "00_substrate__digits__paper__seed0.json"


# -- result identity, overwrite, concurrent writers ------------------------------------------


def test_non_default_parameters_name_their_own_file(results):
    plain = ResultRun("10_mse_search", _params("10_mse_search")).path
    assert plain.name == "10_mse_search__digits__smoke__seed0.json"
    other = ResultRun("10_mse_search", _params("10_mse_search", metric="euclidean")).path
    tag = name_hash("10_mse_search", {"metric": "euclidean"})
    assert other.name == f"10_mse_search__digits__smoke__seed0__{tag}.json"
    # control parameters do not change the name
    same = ResultRun("10_mse_search", _params("10_mse_search", resume=True, overwrite=True)).path
    assert same == plain


def test_rerun_replaces_its_own_file_overwrite_replaces_another(results):
    path = ResultRun("10_mse_search", _params("10_mse_search")).write({"best": 2.0})
    assert read_result(path)["metrics"] == {"best": 2.0}
    doc = json.loads(path.read_text())
    doc.pop("identity")
    doc["params"]["comparison"] = "pearson"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="comparison"):
        ResultRun("10_mse_search", _params("10_mse_search"))
    ResultRun("10_mse_search", _params("10_mse_search", overwrite=True)).write({"best": 3.0})
    assert read_result(path)["metrics"] == {"best": 3.0}


def test_execution_choices_do_not_block_a_rerun(results):
    """A result written with ``device=cpu``, without ``threads`` or with ``search_dataset``
    spelt out is the same run as ``make book``'s (device auto on this CPU machine, threads 1,
    search_dataset ""): a fresh clone's book replaces it; a real difference still refuses."""
    p = _params("11_mse_retrain", device="auto")
    path = ResultRun("11_mse_retrain", p).write({"acc": 0.5})
    doc = json.loads(path.read_text())
    record = doc["identity"]["record"]
    record.pop("threads")
    record.update(device="cpu", search_dataset="digits")
    path.write_text(json.dumps(doc))
    ResultRun("11_mse_retrain", p).write({"acc": 0.6})
    assert read_result(path)["metrics"] == {"acc": 0.6}
    doc = json.loads(path.read_text())
    doc["identity"]["record"]["search_dataset"] = "digits-dvs"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="search_dataset"):
        ResultRun("11_mse_retrain", p)


WRITER = textwrap.dedent(
    """
    import sys, time
    from snnlib.book.params import NOTEBOOKS
    from snnlib.book.results import ResultRun
    p = {k: v.default for k, v in NOTEBOOKS["10_mse_search"].items()}
    p.update(scale="smoke", device="cpu", metric=sys.argv[1])
    run = ResultRun("10_mse_search", p)
    time.sleep(float(sys.argv[2]))
    print(run.write({"metric": sys.argv[1]}))
    """
)


def test_two_concurrent_runs_with_different_metrics_keep_both(tmp_path):
    env = {**os.environ, "SNNLIB_RESULTS": str(tmp_path / "r")}
    procs = [
        subprocess.Popen([PY, "-c", WRITER, m, "1.0"], env=env, stdout=subprocess.PIPE, text=True)
        for m in ("correlation", "euclidean")
    ]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(outs)) == 2
    got = {read_result(o)["metrics"]["metric"] for o in outs}
    assert got == {"correlation", "euclidean"}


def test_concurrent_writers_of_one_file_are_serialised(tmp_path):
    """Two processes that write the same file: the lock makes it one complete file, never a
    mix, and both succeed (same parameters, a re-run replaces its own file)."""
    env = {**os.environ, "SNNLIB_RESULTS": str(tmp_path / "r")}
    procs = [
        subprocess.Popen([PY, "-c", WRITER, "hamming", "0.5"], env=env, stdout=subprocess.PIPE)
        for _ in range(3)
    ]
    for p in procs:
        p.communicate(timeout=120)
    assert all(p.returncode == 0 for p in procs)
    files = list((tmp_path / "r").iterdir())
    assert len(files) == 1 and read_result(files[0])["metrics"] == {"metric": "hamming"}


# -- files: mode, stale temp files -----------------------------------------------------------


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_umasks_mode(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = atomic_write(tmp_path / "a.json", lambda f: f.write("{}"))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == mode


def test_a_killed_writers_temp_file_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "r.json"
    code = (
        "import os, time, sys; from snnlib.fileio import atomic_write\n"
        "def w(f):\n    f.write('{'); f.flush(); print('writing', flush=True); time.sleep(60)\n"
        f"atomic_write({str(target)!r}, w)\n"
    )
    proc = subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    live = list(tmp_path.glob("r.json.*.tmp"))
    assert len(live) == 1 and stale_temp_files(target) == []  # a live writer's file is kept
    proc.kill()
    proc.wait()
    assert stale_temp_files(target) == live
    atomic_write(target, lambda f: f.write("{}"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


# -- tools: run_notebook (unknown names), check_executed (error outputs), make notebook -----


def _nb(tmp_path, outputs=()) -> Path:
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "cells": [
            {
                "cell_type": "code",
                "id": "p",
                "metadata": {"tags": ["parameters"]},
                "source": "scale = 'cpu'\nseed = 0\n",
                "outputs": [],
                "execution_count": None,
            },
            {
                "cell_type": "code",
                "id": "c",
                "metadata": {},
                "source": "x = 1",
                "outputs": list(outputs),
                "execution_count": None,
            },
        ],
    }
    return _write(tmp_path / "nb.ipynb", json.dumps(nb))


def test_run_notebook_refuses_an_unknown_parameter_before_running(tmp_path):
    out = tmp_path / "out.ipynb"
    cmd = [
        PY,
        str(REPO_ROOT / "tools" / "run_notebook.py"),
        str(_nb(tmp_path)),
        str(out),
        "-p",
        "scale",
        "smoke",
        "-p",
        "datset",
        "digits-dvs",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "datset" in res.stderr and "seed" in res.stderr
    assert not out.exists()


def test_check_executed_fails_on_an_error_output(tmp_path):
    tool = [PY, str(REPO_ROOT / "tools" / "check_executed.py")]
    ok = _nb(tmp_path)
    assert subprocess.run([*tool, str(ok)], capture_output=True).returncode == 0
    bad = _nb(
        tmp_path,
        [{"output_type": "error", "ename": "ValueError", "evalue": "boom", "traceback": []}],
    )
    res = subprocess.run([*tool, str(bad)], capture_output=True, text=True)
    assert res.returncode == 1 and "nb.ipynb" in res.stderr and "ValueError" in res.stderr


def test_make_notebook_without_nb_prints_its_usage():
    res = subprocess.run(
        ["make", "-s", "notebook"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NB": ""},
    )
    assert res.returncode != 0 and "usage: make notebook NB=" in res.stdout + res.stderr
    res = subprocess.run(
        ["make", "-s", "notebook", "NB=no_such_notebook"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode != 0 and "no_such_notebook" in res.stdout + res.stderr
    assert "00_substrate" in res.stdout + res.stderr
