"""The reproduction report: make book's results go beside the committed reference, a result
read as input is the run asked for, a user's data set has its own folder, and the report
compares every metric and marks every verdict that a fresh run decides otherwise."""

from __future__ import annotations

import copy
import json
import re

import pytest

from snnlib import paths
from snnlib.book import reproduction as rep
from snnlib.book import verdicts as V
from snnlib.book.results import ResultRun, load_result, result_path
from snnlib.validation import ConfigError

REFERENCE = rep.read_folder(paths.reference_dir(), "cpu", 0)


def _makefile_runs() -> list[str]:
    text = (paths.REPO_ROOT / "Makefile").read_text().replace("\\\n", " ")
    runs = []
    for name in ("BOOK_RUNS", "EXTRA_RUNS"):
        m = re.search(rf"^{name}\s*:=(.*)$", text, flags=re.M)
        runs += [t for t in m.group(1).split() if "__" in t]
    return runs


def test_the_book_datasets_are_those_of_the_makefile_runs():
    assert set(paths.BOOK_DATASETS) == {r.split("__")[1] for r in _makefile_runs()}
    assert paths.is_book_dataset("digits") and not paths.is_book_dataset("my-mnist")


def test_results_dir_is_the_environment_or_the_reference(monkeypatch, tmp_path):
    monkeypatch.setenv("SNNLIB_RESULTS", str(tmp_path))
    assert paths.results_dir() == tmp_path
    assert paths.reference_dir() == paths.REPO_ROOT / "data" / "results"  # whatever the env
    monkeypatch.delenv("SNNLIB_RESULTS")
    assert paths.results_dir() == paths.reference_dir()


def test_a_user_data_set_writes_to_the_user_folder(tmp_path):
    params = dict(scale="smoke", dataset="my-mnist", seed=0, device="cpu")
    path = ResultRun("00_substrate", params).write({"test_acc": 0.5})
    assert path == tmp_path / "results" / "user" / "00_substrate__my-mnist__smoke__seed0.json"
    book = ResultRun("00_substrate", {**params, "dataset": "digits"}).path
    assert book.parent == tmp_path / "results"
    assert "data/results/user/" in (paths.REPO_ROOT / ".gitignore").read_text().split()


def _write(params: dict, notebook: str = "10_mse_search", name_params: dict | None = None):
    """A result file with ``params`` stored under the name of ``name_params``."""
    target = result_path(notebook, **(name_params or params))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"params": params, "provenance": {}, "metrics": {"best": 1}}))
    return target


def test_load_result_refuses_a_file_of_other_parameters_naming_file_and_field():
    asked = dict(dataset="digits", scale="cpu", seed=0)
    path = _write({**asked, "scale": "smoke"}, name_params=asked)  # smoke stored as cpu
    with pytest.raises(ConfigError) as err:
        load_result("10_mse_search", "digits", "cpu", 0)
    assert str(path) in str(err.value) and "params.scale is 'smoke', asked for 'cpu'" in str(
        err.value
    )
    _write({**asked, "seed": 3}, name_params=asked)
    with pytest.raises(ConfigError, match="params.seed is 3, asked for 0"):
        load_result("10_mse_search", "digits", "cpu", 0)
    _write({**asked, "dataset": "cifar10"}, name_params=asked)
    with pytest.raises(ConfigError, match="params.dataset is 'cifar10', asked for 'digits'"):
        load_result("10_mse_search", "digits", "cpu", 0)


def test_load_result_reads_the_run_asked_for_and_checks_further_parameters():
    asked = dict(dataset="digits", scale="cpu", seed=0)
    _write({**asked, "fitness": "rdm", "device": "cpu"}, name_params=asked)
    assert load_result("10_mse_search", "digits", "cpu", 0)["metrics"] == {"best": 1}
    assert load_result("10_mse_search", "digits", "cpu", 0, fitness="rdm")["metrics"]["best"] == 1
    with pytest.raises(ConfigError, match="params.fitness is 'rdm', asked for 'sahd'"):
        load_result("10_mse_search", "digits", "cpu", 0, fitness="sahd")


# -- the comparison ------------------------------------------------------------------------


def test_compare_metrics_equal_differs_one_side_and_timing_apart():
    ref = {"acc": 0.5, "n": 3, "t_seconds": 1.0, "hist": [1, 2], "gone": 1, "same": None}
    new = {"acc": 0.51, "n": 3, "t_seconds": 2.0, "hist": [1, 3], "new": True, "same": None}
    rows = {r.key: r for r in rep.compare_metrics("r", ref, new)}
    assert rows["acc"].status == "differs" and (rows["acc"].reference, rows["acc"].fresh) == (
        0.5,
        0.51,
    )
    assert rows["n"].status == "equal" and rows["same"].status == "equal"
    assert rows["hist[0]"].status == "equal" and rows["hist[1]"].status == "differs"
    assert rows["gone"].status == "only reference" and rows["new"].status == "only fresh"
    assert rows["t_seconds"].timing and not rows["acc"].timing
    assert rep.same_value(1, 1.0) and not rep.same_value(True, 1)
    assert rep.same_value(float("nan"), float("nan"))


def _result(metrics: dict, device: str = "cpu (x86_64, 2 cores)", isa: str = "AVX2") -> dict:
    return {
        "params": {},
        "provenance": {
            "device": device,
            "machine": {"cpu_model": "Test CPU", "vector_isa": isa},
            "torch": "2.0",
            "python": "3.11",
        },
        "metrics": metrics,
    }


def _folder(root, files: dict[str, dict]):
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (root / f"{name}.json").write_text(json.dumps(data))
    return root


def test_compare_folders_counts_tables_and_both_machines(tmp_path):
    ref = _folder(
        tmp_path / "ref",
        {
            "00_substrate__digits__cpu__seed0": _result({"acc": 0.9, "train_seconds": 3.0}),
            "10_mse_search__digits__cpu__seed0": _result({"best": 7}),
            "bench__b1_forward": _result({"x": 1}),  # make bench's: not a book run
            "00_substrate__digits__smoke__seed0": _result({"acc": 0.1}),  # another scale
        },
    )
    new = _folder(
        tmp_path / "new",
        {
            "00_substrate__digits__cpu__seed0": _result(
                {"acc": 0.8, "train_seconds": 4.0}, isa="AVX512"
            ),
            "10_mse_search__digits__cpu__seed0": _result({"best": 7}, isa="AVX512"),
            "52_reproduction__digits__cpu__seed0": _result({"n": 1}),  # the report itself
            "03_own_data__digits__cpu__seed0": _result({"acc": 0.7}),  # a new run
        },
    )
    c = rep.compare_folders(ref, new, "cpu")
    assert c.note == "" and not c.same_folder
    assert set(c.fresh) == {"00_substrate__digits", "10_mse_search__digits", "03_own_data__digits"}
    assert c.runs_only_fresh == ["03_own_data__digits"] and c.runs_only_reference == []
    assert {r.run for r in c.rows} == {"00_substrate__digits", "10_mse_search__digits"}
    counts = rep.run_counts(c)
    assert counts.loc["00_substrate__digits"].tolist() == [0, 1, 0, 0, 1]
    assert counts.loc["10_mse_search__digits"].tolist() == [1, 0, 0, 0, 0]
    diff = rep.differing_table(c)
    assert diff.to_dict(orient="records") == [
        {
            "run": "00_substrate__digits",
            "metric": "acc",
            "status": "differs",
            "reference": 0.9,
            "fresh": 0.8,
        }
    ]
    capped = rep.differing_table(c, limit=0)  # the page's cap: the rest counted in a last row
    assert capped["metric"].tolist() == ["1 more (all in the report's result file)"]
    assert "vector ISA AVX2" in rep.machines_text(c.reference)
    assert "vector ISA AVX512, torch 2.0, Python 3.11 (2 files)" in rep.machines_text(c.fresh)
    assert "vector ISA AVX2, torch 2.0, Python 3.11 (1 file)" in rep.machines_text(c.fresh)
    s = rep.summary(c)
    assert (s["n_metrics_equal"], s["n_metrics_differ"], s["n_timing_keys"]) == (1, 1, 1)
    assert s["runs_differing"] == ["00_substrate__digits"]


def test_same_folder_and_a_scale_without_reference_say_so(tmp_path):
    folder = _folder(tmp_path / "r", {"00_substrate__digits__cpu__seed0": _result({"a": 1})})
    same = rep.compare_folders(folder, folder, "cpu")
    assert same.same_folder and same.rows == [] and "nothing to compare" in same.note
    smoke = _folder(tmp_path / "s", {"00_substrate__digits__smoke__seed0": _result({"a": 1})})
    c = rep.compare_folders(smoke, smoke.parent / "fresh", "smoke")
    assert c.reference == {} and "No reference result files exist at scale 'smoke'" in c.note


def test_the_report_marks_a_flipped_verdict_and_glues_plain_values(tmp_path):
    run = "01_nmnist_pipeline__nmnist"
    good = copy.deepcopy(REFERENCE[run])
    flipped = copy.deepcopy(good)
    flipped["metrics"]["adopted"] = "span binning"
    ref = _folder(tmp_path / "ref", {f"{run}__cpu__seed0": good})
    new = _folder(tmp_path / "new", {f"{run}__cpu__seed0": flipped})
    report = rep.report(ref, new, "cpu")
    table = report.tables["verdicts_table"]
    row = table[table["verdict"] == "N-MNIST recipe the selection rule adopts"].iloc[0]
    assert (row["reference"], row["fresh"], row["mark"]) == (
        "recipe: default, tau 4",
        "recipe: span binning",
        "differs",
    )
    assert report.values["n_verdicts_differ"] == 1
    assert "N-MNIST recipe" in report.values["verdicts_differing"]
    assert report.values["n_metrics_differ"] == 1
    assert all(not isinstance(v, (list, dict)) for v in report.values.values())
    json.dumps(report.metrics)  # the result file can hold it


# -- the verdicts ----------------------------------------------------------------------------


def test_every_verdict_is_decided_by_the_committed_reference():
    assert len(V.VERDICTS) >= 80
    assert len({(v.run, v.name) for v in V.VERDICTS}) == len(V.VERDICTS)
    book_runs = set(_makefile_runs())
    for v in V.VERDICTS:
        assert v.run in book_runs, v.run
        assert (paths.REPO_ROOT / "book" / f"{v.page}.md").exists(), v.page
        assert v.label(REFERENCE[v.run]["metrics"]) != V.NA, (v.run, v.name)


def _leaves(metrics, prefix=""):
    if isinstance(metrics, dict):
        for k, val in metrics.items():
            yield from _leaves(val, f"{prefix}.{k}" if prefix else k)
    elif not isinstance(metrics, list):
        yield prefix


def _with(metrics: dict, key: str, val) -> dict:
    """``metrics`` with the leaf ``key`` (``a.b``) set to ``val``, copying only that path."""
    head, _, rest = key.partition(".")
    return {**metrics, head: _with(metrics[head], rest, val) if rest else val}


def _perturbed(value):
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, (int, float)):
        return [-value, value + 1, -1, 0.5, 1e-6, 1e3, 0]
    if isinstance(value, str):
        return [value + " (another)"]
    return []


@pytest.mark.parametrize("verdict", V.VERDICTS, ids=lambda v: f"{v.run}:{v.name}")
def test_every_verdict_is_marked_when_one_metric_flips_it(verdict):
    """Some change of one metric of the reference record changes the verdict's label, and the
    report's table marks it (``differs``, or ``differs (within noise)`` for a sign whose
    interval holds 0 on both sides)."""
    ref = REFERENCE[verdict.run]
    base = verdict.label(ref["metrics"])
    for key in _leaves(ref["metrics"]):
        for val in _perturbed(V.get(ref["metrics"], key)):
            fresh = {**ref, "metrics": _with(ref["metrics"], key, val)}
            if verdict.label(fresh["metrics"]) == base:
                continue
            table = V.verdict_table({verdict.run: ref}, {verdict.run: fresh}, (verdict,))
            assert table["mark"].iloc[0].startswith("differs")
            unchanged = V.verdict_table({verdict.run: ref}, {verdict.run: ref}, (verdict,))
            assert unchanged["mark"].iloc[0] == ""
            return
    pytest.fail(f"no single metric changes {verdict.name!r} ({base})")


def test_verdict_label_factories():
    assert V.sign("d", "a", "b")({"d": 0.0}) == "a = b"
    assert V.sign("d", "a", "b")({"d": float("nan")}) == V.NA
    assert V.significance("p")({"p": 0.05}) == "not significant at 5 %"
    assert V.interval("l", "h")({"l": 0.1, "h": 0.3}) == "interval excludes 0"
    assert V.interval("l", "h")({"l": -0.3, "h": -0.1}) == "interval excludes 0"
    assert V.ranking({"x": "a", "y": "b"}, higher=False)({"a": 1, "b": 2}) == "rank 1: x"
    assert V.value("k", "best")({"k": "params"}) == "best: params"
    assert V.above("r", 1.0, "cheaper", "not")({"r": 0.9}) == "not"
    assert V.sign_of_two("a", "b", "A", "B")({"a": 1, "b": 2}) == "A < B"
    assert V.get({"c": {"p": 0.2}}, "c.p") == 0.2 and V.get({"l": [1]}, "l[3]") is None


def test_a_sign_flip_within_noise_on_both_sides_is_marked_so():
    v = V.Verdict("d", "nmnist", "r", V.sign("d", "a", "b"), V.holds_zero("lo", "hi"))
    noisy_up = {"d": 0.01, "lo": -0.02, "hi": 0.04}
    noisy_down = {"d": -0.01, "lo": -0.04, "hi": 0.02}
    clear_down = {"d": -0.05, "lo": -0.08, "hi": -0.02}
    assert V.mark(v, noisy_up, noisy_down)[2] == "differs (within noise)"
    assert V.mark(v, noisy_up, clear_down)[2] == "differs"
    assert V.mark(v, noisy_up, None) == ("a > b", "no result", "not in both")


# -- make book's folders -----------------------------------------------------------------------


def _recipe(target_line: str) -> str:
    text = (paths.REPO_ROOT / "Makefile").read_text()
    start = text.index(target_line)
    end = text.find("\n\n", start)
    return text[start:end]


def test_make_book_writes_its_results_beside_the_reference_in_an_ignored_folder():
    import shutil
    import subprocess

    text = (paths.REPO_ROOT / "Makefile").read_text()
    assert "RUN_RESULTS := build/results-$(SCALE)" in text
    recipe = _recipe("$(EXEC_DIR)/%.ipynb:")
    assert "SNNLIB_RESULTS=$(CURDIR)/$(RUN_RESULTS)" in recipe
    reference = _recipe("\nreference:")
    assert "cp -v $(RUN_RESULTS)/*__$(SCALE)__seed*.json data/results/" in reference
    if shutil.which("git") and (paths.REPO_ROOT / ".git").exists():
        ignored = subprocess.run(
            [
                "git",
                "check-ignore",
                "-q",
                "build/results-cpu/00_substrate__digits__cpu__seed0.json",
            ],
            cwd=paths.REPO_ROOT,
        )
        assert ignored.returncode == 0
        user = subprocess.run(
            ["git", "check-ignore", "-q", "data/results/user/00_substrate__x__cpu__seed0.json"],
            cwd=paths.REPO_ROOT,
        )
        assert user.returncode == 0
