"""SpikeNAS-Bench learning curves: loading, validation, queries, early-stop scores, ceiling."""

from __future__ import annotations

import lzma
import math
import shutil

import numpy as np
import pytest

from snnlib.spikenas import curves as C
from snnlib.spikenas import load_table
from snnlib.validation import ConfigError

HEADER = ",".join(C.HEADER)

# Three cells of a partial, synthetic file: id 0 (3 epochs), 5 (2 epochs), 7 (4 epochs).
# Columns: arch_id, epoch, train_acc, train_loss, val_acc, val_loss.
ROWS = [
    (0, 0, 20.0, 2.0, 25.0, 1.9),
    (0, 1, 40.0, 1.5, 45.0, 1.4),
    (0, 2, 60.0, 1.0, 55.5, 1.2),
    (5, 0, 10.0, 2.3, 10.0, 2.3),
    (5, 1, 10.5, 2.25, 10.2, 2.3),
    (7, 0, 30.0, 1.8, 35.0, 1.7),
    (7, 1, 50.0, 1.2, 52.0, 1.3),
    (7, 2, 70.0, 0.8, 66.0, 1.0),
    (7, 3, 80.0, 0.5, 71.25, 0.9),
]


def write_curves(path, rows, header=HEADER):
    lines = [header] + [
        ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in r) for r in rows
    ]
    with lzma.open(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    return path


def load_tiny(tmp_path, rows=ROWS, name="tiny.csv.xz", **kw):
    path = write_curves(tmp_path / name, rows)
    kw = {"expected_sha256": None, "require_all": False, "cache_dir": tmp_path / "cache", **kw}
    return C._load_curves.__wrapped__(path, **kw)  # unmemoised: every test reads its own file


# --- the synthetic file ------------------------------------------------------------------
def test_parse_pads_and_sorts(tmp_path):
    shuffled = [ROWS[i] for i in (8, 3, 0, 6, 2, 4, 1, 5, 7)]  # order in the file is free
    c = load_tiny(tmp_path, shuffled)
    assert c.val_acc.shape == (C.N_ARCHS, 4)
    assert c.n_epochs[[0, 5, 7]].tolist() == [3, 2, 4]
    assert int((c.n_epochs > 0).sum()) == 3 and int(c.n_epochs.sum()) == len(ROWS)
    np.testing.assert_array_equal(c.val_acc[0, :3], [25.0, 45.0, 55.5])
    assert np.isnan(c.val_acc[0, 3]) and np.isnan(c.train_loss[5, 2:]).all()
    assert np.isnan(c.val_acc[1]).all()  # a cell the partial file lacks
    np.testing.assert_array_equal(c.train_acc[7], [30.0, 50.0, 70.0, 80.0])
    np.testing.assert_array_equal(c.val_loss[5, :2], [2.3, 2.3])
    assert not c.val_acc.flags.writeable


def test_queries_against_hand_values(tmp_path):
    c = load_tiny(tmp_path)
    assert c.val_acc_at(0, 1) == 25.0
    assert c.val_acc_at(np.int64(7), 4) == 71.25
    np.testing.assert_array_equal(c.val_acc_at([0, 7, 5], 2), [45.0, 52.0, 10.2])
    assert c.train_loss_at(7, 3) == 0.8
    assert c.train_acc_at(5, 2) == 10.5 and c.val_loss_at(0, 3) == 1.2
    assert c.train_loss_sum(0, 3) == pytest.approx(2.0 + 1.5 + 1.0)
    assert c.train_loss_sum(7, 2) == pytest.approx(1.8 + 1.2)
    np.testing.assert_allclose(c.train_loss_sum(np.array([7, 0]), 1), [1.8, 2.0])
    last = c.final_val_acc()
    assert last[[0, 5, 7]].tolist() == [55.5, 10.2, 71.25] and np.isnan(last[1])
    q = c.query(5)
    assert q["arch_id"] == 5 and q["n_epochs"] == 2
    np.testing.assert_array_equal(q["val_acc"], [10.0, 10.2])
    assert set(q) == {"arch_id", "n_epochs", "train_acc", "train_loss", "val_acc", "val_loss"}
    p = c.provenance()
    assert p["curves"] == "tiny.csv.xz" and p["rows"] == len(ROWS) and p["cells"] == 3
    assert p["source"] == {
        "repository": "tju-sun-lab/SpikeNAS-Bench",
        "commit": "9994ce3999eded92c104fa7ce7082d4747cce3c3",
    }


def test_k_beyond_a_cells_epochs_and_bad_k_refused(tmp_path):
    c = load_tiny(tmp_path)
    with pytest.raises(ConfigError, match=r"k=3 exceeds .* 5 \(2 epochs\)"):
        c.val_acc_at([0, 5], 3)
    with pytest.raises(ConfigError, match=r"1 \(0 epochs\)"):
        c.val_acc_at(1, 1)
    for k in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="k="):
            c.val_acc_at(0, k)
    with pytest.raises(ConfigError, match="exceeds"):
        C.early_stop_cost_share(c, 1)  # partial file: most cells have no epochs


@pytest.mark.parametrize("bad", [-1, 1.5, 15625, True, "3", [0, -1], [0, 1.5], np.array([2.0])])
def test_bad_arch_ids_refused(tmp_path, bad):
    c = load_tiny(tmp_path)
    with pytest.raises(ConfigError, match="arch_id"):
        c.val_acc_at(bad, 1)
    if np.ndim(bad) == 0:
        with pytest.raises(ConfigError, match="arch_id"):
            c.query(bad)


def test_message_names_the_offending_id(tmp_path):
    c = load_tiny(tmp_path)
    with pytest.raises(ConfigError, match=r"1\.5"):
        c.val_acc_at([0.0, 1.5], 1)
    with pytest.raises(ConfigError, match="-1"):
        c.train_loss_sum(-1, 1)


def test_require_all_refuses_a_partial_file(tmp_path):
    with pytest.raises(
        ConfigError, match=r"tiny\.csv\.xz: 15622 architecture id\(s\) have no rows"
    ):
        load_tiny(tmp_path, require_all=True)


@pytest.mark.parametrize(
    "change, problem",
    [
        ({2: (0, 2, 60.0, 1.0, math.nan, 1.2)}, r"line 4.*val_acc=nan is not a finite number"),
        ({6: (7, 1, 50.0, 1.2, 150.0, 1.3)}, r"arch_id 7, epoch 1.*val_acc=150 % .*\[0, 100\]"),
        ({0: (0, 0, -3.0, 2.0, 25.0, 1.9)}, r"train_acc=-3 % is outside \[0, 100\]"),
        ({3: (5, 0, 10.0, -0.1, 10.0, 2.3)}, r"train_loss=-0.1 is negative"),
        ({4: (5, 0, 10.5, 2.25, 10.2, 2.3)}, r"duplicate \(arch_id, epoch\)"),
        ({7: (7, 4, 70.0, 0.8, 66.0, 1.0)}, r"arch_id 7 lacks epoch 2"),
        ({1: (0, 1.5, 40.0, 1.5, 45.0, 1.4)}, r"epoch=1.5 is not an integer"),
        ({5: (15625, 0, 30.0, 1.8, 35.0, 1.7)}, r"arch_id is out of range"),
        ({5: (7, -1, 30.0, 1.8, 35.0, 1.7)}, r"epoch is negative"),
    ],
)
def test_bad_rows_refused_naming_file_and_problem(tmp_path, change, problem):
    rows = [change.get(i, r) for i, r in enumerate(ROWS)]
    with pytest.raises(ConfigError, match=r"tiny\.csv\.xz.*" + problem):
        load_tiny(tmp_path, rows)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_missing_first_epoch_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"tiny\.csv\.xz: arch_id 5 lacks epoch 0"):
        load_tiny(tmp_path, [r for r in ROWS if r[:2] != (5, 0)])


def test_malformed_files_refused(tmp_path):
    bad_header = write_curves(tmp_path / "h.csv.xz", ROWS, header="id,epoch,a,b,c,d")
    with pytest.raises(ConfigError, match=r"h\.csv\.xz: header"):
        C._load_curves.__wrapped__(bad_header, expected_sha256=None, require_all=False)
    text = tmp_path / "t.csv.xz"
    text.write_text(HEADER + "\n0,0,1,1,1,1\n")  # not xz-compressed
    with pytest.raises(ConfigError, match=r"t\.csv\.xz: not a readable curves CSV"):
        C._load_curves.__wrapped__(text, expected_sha256=None, require_all=False)
    short = tmp_path / "s.csv.xz"
    with lzma.open(short, "wt") as f:
        f.write(HEADER + "\n0,0,1,1,1,1\n0,1,abc,1,1,1\n")
    with pytest.raises(ConfigError, match=r"s\.csv\.xz: not a readable curves CSV.*abc"):
        C._load_curves.__wrapped__(short, expected_sha256=None, require_all=False)
    with pytest.raises(ConfigError, match="not found"):
        C._load_curves.__wrapped__(tmp_path / "absent.csv.xz")


def test_expected_sha256_checked_on_tiny_file(tmp_path):
    path = write_curves(tmp_path / "tiny.csv.xz", ROWS)
    digest = C.file_sha256(path)
    c = C._load_curves.__wrapped__(path, digest, require_all=False, cache_dir=tmp_path / "c")
    assert c.sha256 == digest
    with pytest.raises(ConfigError, match=f"sha256 {digest} does not match"):
        C._load_curves.__wrapped__(path, "0" * 64, require_all=False, cache_dir=tmp_path / "c")
    C._load_curves.__wrapped__(path, "0" * 64, verify=False, require_all=False, use_cache=False)


def test_cache_written_reused_and_rebuilt_when_damaged(tmp_path):
    first = load_tiny(tmp_path)
    cached = C.cache_path(first.sha256, tmp_path / "cache")
    assert cached.is_file()
    with np.load(cached, allow_pickle=False) as f:
        assert str(f["archive_sha256"]) == first.sha256
        n_epochs, values = f["n_epochs"], f["values"]
    again = load_tiny(tmp_path)
    np.testing.assert_array_equal(again.val_acc, first.val_acc)
    # arrays changed behind the cache's own checksum: refused and rebuilt from the archive
    tampered = values.copy()
    tampered[0, 2] = 99.0
    np.savez(
        cached,
        format=np.array(C.CACHE_FORMAT),
        archive_sha256=np.array(first.sha256),
        arrays_sha256=np.array(C.arrays_sha256(n_epochs, values)),
        n_epochs=n_epochs,
        values=tampered,
    )
    with pytest.warns(RuntimeWarning, match="fails its own sha256"):
        rebuilt = load_tiny(tmp_path)
    assert rebuilt.val_acc_at(0, 1) == 25.0
    cached.write_bytes(b"not a zip")
    with pytest.warns(RuntimeWarning, match="unreadable"):
        load_tiny(tmp_path)
    with np.load(cached, allow_pickle=False) as f:  # rewritten
        np.testing.assert_array_equal(f["values"], values)


def test_use_cache_false_leaves_no_cache(tmp_path):
    load_tiny(tmp_path, use_cache=False)
    assert not (tmp_path / "cache").exists()


# --- the committed file ------------------------------------------------------------------
@pytest.fixture(scope="module")
def curves():
    return C.load_curves()


@pytest.fixture(scope="module")
def table():
    return load_table()


def test_checksum_refusal_names_the_file(tmp_path):
    copy = tmp_path / "curves-copy.csv.xz"
    shutil.copyfile(C.CURVES_PATH, copy)
    blob = bytearray(copy.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    copy.write_bytes(bytes(blob))
    with pytest.raises(ConfigError) as err:
        C._load_curves.__wrapped__(copy, cache_dir=tmp_path / "cache")
    msg = str(err.value)
    assert str(copy) in msg and C.CURVES_SHA256 in msg and C.file_sha256(copy) in msg


def test_real_curves_shape_and_long_runs(curves):
    assert curves.val_acc.shape == (15625, 200) and curves.n_epochs.shape == (15625,)
    assert curves.sha256 == C.CURVES_SHA256
    assert sorted(np.unique(curves.n_epochs).tolist()) == [100, 200]
    long = np.flatnonzero(curves.n_epochs == 200)
    assert long.size == 690 and (long.min(), long.max()) == (3276, 14178)
    assert int(curves.hundred_epochs().sum()) == 14935
    assert int(curves.n_epochs.sum()) == 1_631_500
    filled = np.arange(200)[None, :] < curves.n_epochs[:, None]
    for name in C.VALUES:
        arr = getattr(curves, name)
        assert np.isfinite(arr[filled]).all() and np.isnan(arr[~filled]).all()
    q = curves.query(3276)
    assert q["n_epochs"] == 200 and q["val_acc"][-1] == 81.092
    with pytest.raises(ConfigError, match="k=101 exceeds .* 14935 cell"):
        curves.val_acc_at(None, 101)


def test_last_epoch_is_the_tables_final_val_acc(curves, table):
    np.testing.assert_array_equal(curves.final_val_acc(), table.final_val_acc)  # exact
    np.testing.assert_array_equal(np.nanmax(curves.val_acc, 1), table.best_val_acc)


def test_early_stop_scores(curves, table):
    scores = C.early_stop_scores(curves)
    ks = C.EARLY_STOP_EPOCHS
    assert list(scores) == [f"val_acc@{k}" for k in ks] + [f"neg_train_loss_sum@{k}" for k in ks]
    for v in scores.values():
        assert v.shape == (15625,) and np.isfinite(v).all()
    np.testing.assert_array_equal(scores["val_acc@10"], curves.val_acc[:, 9])
    np.testing.assert_allclose(scores["neg_train_loss_sum@2"], -curves.train_loss[:, :2].sum(1))
    assert (scores["neg_train_loss_sum@10"] < 0).all()  # negated: higher is better
    share = C.early_stop_cost_share(curves, 10)
    assert set(share[curves.n_epochs == 100]) == {0.1}
    assert set(share[curves.n_epochs == 200]) == {0.05}
    np.testing.assert_allclose(C.early_stop_seconds(curves, table, 10), share * table.train_seconds)


def test_noise_ceiling(curves, table):
    nc = C.noise_ceiling(table, curves, n_boot=100, seed=0)
    assert nc.val_source == "table.final_val_acc" and nc.curve_max_abs_diff == 0.0
    assert nc.learning.n == 15625 - 341 and nc.all_cells.n == 15625
    for t in (nc.learning, nc.all_cells):
        assert 0.0 < t.tau < 1.0 and t.lo <= t.tau <= t.hi
    assert 0.80 < nc.learning.tau < 0.85  # measured: 0.8257
    only100 = C.noise_ceiling(table, mask=curves.hundred_epochs(), n_boot=20)
    assert only100.learning.n == 14935 - 341 and only100.curve_max_abs_diff is None


def test_rank_correlation_by_epoch(curves, table):
    df = C.rank_correlation_by_epoch(table, curves, epochs=(1, 10, 60, 100))
    assert df.index.tolist() == [1, 10, 60, 100] and (df["n"] == 14935 - 341).all()
    assert df["tau"].is_monotonic_increasing and (df["tau"] > 0).all()
    # after 100 epochs val_acc@k *is* the final validation accuracy: the noise ceiling
    nc = C.noise_ceiling(table, mask=curves.hundred_epochs(), n_boot=20)
    assert df.loc[100, "tau"] == pytest.approx(nc.learning.tau)
    every = C.rank_correlation_by_epoch(
        table, curves, epochs=(10,), mask=np.ones(15625, bool), learning_only=False
    )
    assert every.loc[10, "n"] == 15625
    with pytest.raises(ConfigError, match="mask"):
        C.rank_correlation_by_epoch(table, curves, mask=np.ones(3, bool))


def test_benchmark_epochs_and_tau_at_budget():
    import pandas as pd

    from snnlib.spikenas.curves import benchmark_epochs, tau_at_budget

    assert benchmark_epochs(4, 25_000) == 4.0
    assert benchmark_epochs(3, 2_000) == pytest.approx(0.24)
    curve = pd.DataFrame({"tau": [0.1, 0.3, 0.35, 0.6]}, index=pd.Index([1, 2, 10, 100]))
    assert tau_at_budget(curve, 9.99) == {"epochs": 9.99, "k": 2, "tau": 0.3, "bound": "at"}
    assert tau_at_budget(curve, 10)["tau"] == 0.35
    assert tau_at_budget(curve, 500)["k"] == 100
    low = tau_at_budget(curve, 0.24)
    assert (low["k"], low["tau"], low["bound"]) == (1, 0.1, "at most")
    with pytest.raises(ConfigError, match="n_train"):
        benchmark_epochs(3, 0)
    with pytest.raises(ConfigError, match="equivalent_epochs"):
        tau_at_budget(curve, -1)
