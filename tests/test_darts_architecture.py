"""DartsArchitecture: the one record of an MA-DARTS architecture, written by the search and read
by the retraining notebooks; the committed search results read back unchanged."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from snnlib.darts import (
    BilevelResult,
    DartsArchitecture,
    SupernetSpec,
    darts_layout,
    genotype_to_dict,
    layout_to_dict,
    random_genotype,
    stage_layout,
)
from snnlib.darts.architecture import ARCHITECTURE_KEYS
from snnlib.validation import ConfigError

RESULTS = Path(__file__).resolve().parent.parent / "data" / "results"
G = random_genotype(0, steps=2, multiplier=2)
P = random_genotype(1, steps=2, multiplier=2)


def _arch(**kw):
    base = dict(genotype=G, layout=darts_layout(5), steps=2, search_C=4, search_image_size=8)
    return DartsArchitecture(**{**base, **kw})


@pytest.mark.parametrize("dataset", ["digits", "cifar10"])
def test_committed_search_results_read_back_to_the_same_dict(dataset):
    d = json.loads((RESULTS / f"20_madarts_search__{dataset}__cpu__seed0.json").read_text())
    entry = d["architecture"]
    a = DartsArchitecture.from_dict(entry)
    assert a.to_dict() == entry and list(a.to_dict()) == list(entry)  # same keys, same order
    assert (a.attention, a.gate, a.steps, a.time_steps, a.search_C) == (
        "tcsa",
        "scaled_sigmoid",
        4,
        2,
        4,
    )
    plain = a.plain()
    assert plain.attention == "none" and plain.genotype != a.genotype
    assert genotype_to_dict(plain.genotype) == entry["plain_darts"]["genotype"]


def test_round_trip_with_and_without_plain_search():
    a = _arch()
    assert DartsArchitecture.from_dict(a.to_dict()) == a
    assert list(a.to_dict()) == [k for k in ARCHITECTURE_KEYS if k != "plain_darts"]
    b = _arch(plain_genotype=P, plain_layout=darts_layout(5))
    assert DartsArchitecture.from_dict(b.to_dict()) == b
    assert b.to_dict()["plain_darts"] == {
        "genotype": genotype_to_dict(P),
        "layout": layout_to_dict(darts_layout(5)),
        "attention": "none",
    }
    assert b.plain() == replace(a, genotype=P, attention="none")
    unknown = _arch(search_C=None, search_image_size=None).to_dict()
    assert "search_C" not in unknown and "search_image_size" not in unknown


def test_old_forms_read_with_their_defaults():
    d = _arch().to_dict()
    del d["gate"]  # written before the scaled gate
    assert DartsArchitecture.from_dict(d).gate == "sigmoid"
    d["plain_darts"] = {"genotype": genotype_to_dict(P)}  # no layout: the main one
    assert DartsArchitecture.from_dict(d).plain().layout == darts_layout(5)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("attention", "se", "architecture.attention='se' is not allowed; choose one of"),
        ("placement", "edge", "architecture.placement='edge' is not allowed; choose one of"),
        ("gate", "relu", r"architecture.gate='relu' is not allowed; choose one of \['sigmoid'"),
        ("steps", 0, r"architecture.steps=0 is out of range"),
        ("time_steps", 1.5, "architecture.time_steps=1.5 must be an integer"),
        ("search_C", -1, "architecture.search_C=-1 is out of range"),
        ("steps", 3, "architecture.genotype has 4 normal edges; steps=3"),
        ("layout", {"cells": ["normal", "wide"], "reduce_inputs": "pair"}, "layout.cells"),
        ("genotype", {"normal": []}, "architecture.genotype: genotype keys must be"),
        ("colour", "red", r"unknown keys \['colour'\]"),
        ("plain_darts", {"genotype": {}, "width": 3}, r"plain_darts: unknown keys \['width'\]"),
        ("plain_darts", {"genotype": genotype_to_dict(P), "attention": "eca"}, "plain_darts.att"),
    ],
)
def test_a_bad_field_is_named_with_its_allowed_values(field, value, message):
    d = {**_arch().to_dict(), field: value}
    with pytest.raises(ConfigError, match=message):
        DartsArchitecture.from_dict(d)


def test_a_missing_field_and_a_wrong_type_are_named():
    d = _arch().to_dict()
    del d["time_steps"]
    with pytest.raises(ConfigError, match=r"missing keys \['time_steps'\]"):
        DartsArchitecture.from_dict(d)
    with pytest.raises(ConfigError, match="architecture must be a JSON object, got list"):
        DartsArchitecture.from_dict([])
    with pytest.raises(ConfigError, match="plain_genotype and plain_layout come together"):
        _arch(plain_genotype=P)


def test_from_search_records_the_spec_and_both_results():
    spec = SupernetSpec(C=4, layers=5, steps=2, time_steps=3, attention="eca", placement="node")
    res = BilevelResult(genotype=G, layout=stage_layout((1, 1)), history=[], seconds=1.0)
    plain = BilevelResult(genotype=P, layout=darts_layout(5), history=[], seconds=1.0)
    a = DartsArchitecture.from_search(spec, res, image_size=16, plain=plain)
    assert (a.attention, a.placement, a.gate, a.steps, a.time_steps) == (
        "eca",
        "node",
        "scaled_sigmoid",
        2,
        3,
    )
    assert (a.search_C, a.search_image_size, a.layout) == (4, 16, stage_layout((1, 1)))
    assert a.plain().genotype == P and a.plain().layout == darts_layout(5)
    assert a.retrain_layout(8) == stage_layout((1, 1))  # a macro search keeps its depths
    assert DartsArchitecture.from_search(spec, res).plain() is None
    opts = replace(a, layout=darts_layout(5)).network_options(8)
    assert opts["layout"] == darts_layout(8) and opts["attention_kwargs"] == {
        "gate": "scaled_sigmoid"
    }
    assert (opts["time_steps"], opts["placement"]) == (3, "node")
