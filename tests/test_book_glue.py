"""The glue-key rule and glue_all (snnlib.book.glue)."""

import numpy as np
import pytest

from snnlib.book import glue as g


@pytest.mark.parametrize(
    "parts, key",
    [
        (("tcsa, sigmoid gate",), "tcsa_sigmoid_gate"),
        (("B3", "speed-up"), "B3_speed_up"),
        (("  found - CNN (pp) ",), "found_CNN_pp"),
        (("acc", 10), "acc_10"),
    ],
)
def test_glue_key_rule(parts, key):
    assert g.glue_key(*parts) == key
    assert g.check_key(key) == key


@pytest.mark.parametrize("bad", ["", "a b", "a__b", "_a", "a-b", "é", None])
def test_check_key_refuses_keys_off_the_rule(bad):
    with pytest.raises(ValueError, match="glue-key rule"):
        g.check_key(bad)


def test_glue_key_refuses_nothing():
    with pytest.raises(ValueError, match="no letter or digit"):
        g.glue_key(", ")


def test_glue_all_plain_values_percent_and_skip(monkeypatch):
    seen = {}
    monkeypatch.setattr("myst_nb.glue", lambda k, v, display=True: seen.__setitem__(k, v))
    out = g.glue_all(
        {"acc": np.float32(0.5), "n": np.int64(3), "name": "x", "raw": 1.0},
        percent=["acc"],
        skip=["raw"],
    )
    assert out == {"acc": 0.5, "acc_pct": 50.0, "n": 3, "name": "x"}
    assert seen == out
    assert type(seen["acc"]) is float and type(seen["n"]) is int


@pytest.mark.parametrize("value", [np.zeros(3), [1, 2], {"a": 1}, (1,)])
def test_glue_all_refuses_what_a_page_cannot_show(value, monkeypatch):
    monkeypatch.setattr("myst_nb.glue", lambda *a, **k: None)
    with pytest.raises(TypeError, match="'k'"):
        g.glue_all({"k": value})


def test_glue_all_names_unknown_percent_keys(monkeypatch):
    monkeypatch.setattr("myst_nb.glue", lambda *a, **k: None)
    with pytest.raises(KeyError, match="nope"):
        g.glue_all({"a": 1}, percent=["nope"])
    with pytest.raises(ValueError, match="'bad key'"):
        g.glue_all({"bad key": 1})
