"""The verdicts the book's pages state in words, as functions of a run's metrics.

A page glues numbers, but its sentences also *decide*: "the found genome is below the
hand-designed CNN", "the selection rule adopts tau 4", "significant at 5 %", "the parameter
count is the best proxy". Each such decision is a :class:`Verdict` here: its name, the page
that states it, the run whose result file decides it, and a function of that result's
``metrics`` returning a label (``"found < CNN"``, ``"recipe: default, tau 4"``, ``"rank 1:
params"``). The reproduction report (:mod:`snnlib.book.reproduction`, notebook
``52_reproduction``) evaluates every verdict on the reference and on the fresh results and
marks those whose label differs: a rebuild on another machine then says which sentences no
longer hold, instead of a page asserting them silently.

A sign verdict may carry a ``noise`` function (the number's interval holds 0): a flip where
both records are within noise is marked ``differs (within noise)``; the page's text should
call such a difference within noise rather than assert a sign.

>>> sign("d", "found", "CNN")({"d": -0.02}), sign("d", "found", "CNN")({})
('found < CNN', 'n/a')
>>> significance(p="p")({"p": 0.01}), interval("lo", "hi")({"lo": -1.0, "hi": 2.0})
('significant at 5 %', 'interval holds 0')
>>> ranking({"none": "a", "tcsa": "b"})({"a": 0.38, "b": 0.36})
'rank 1: none'
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

Label = Callable[[dict], str]
NA = "n/a"
ALPHA = 0.05


@dataclass(frozen=True)
class Verdict:
    """One decision a page states: ``label(metrics)`` names the outcome; ``noise(metrics)``
    (optional) says whether the number behind it is within noise in that record."""

    name: str
    page: str
    run: str
    label: Label
    noise: Callable[[dict], bool] | None = None


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def get(metrics: Any, key: str) -> Any:
    """``metrics["a"]["b"][0]`` for ``key="a.b[0]"``; ``None`` when any level is missing.

    >>> get({"a": {"b": [5, 6]}}, "a.b[1]"), get({"a": 1}, "x.y")
    (6, None)
    """
    node = metrics
    for name, index in _PART.findall(key):
        if name and isinstance(node, dict):
            node = node.get(name)
        elif index and isinstance(node, list) and int(index) < len(node):
            node = node[int(index)]
        else:
            return None
    return node


def _num(metrics: dict, key: str) -> float | None:
    v = get(metrics, key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def sign(key: str, a: str, b: str) -> Label:
    """``"a > b"``, ``"a < b"`` or ``"a = b"`` by the sign of the difference ``key``."""

    def label(m: dict) -> str:
        v = _num(m, key)
        if v is None:
            return NA
        return f"{a} {'>' if v > 0 else '<' if v < 0 else '='} {b}"

    return label


def above(key: str, threshold: float, yes: str, no: str) -> Label:
    """``yes`` when ``key`` exceeds ``threshold``, else ``no``."""

    def label(m: dict) -> str:
        v = _num(m, key)
        return NA if v is None else (yes if v > threshold else no)

    return label


def significance(p: str, alpha: float = ALPHA) -> Label:
    """``"significant at 5 %"`` when the p-value ``p`` is below ``alpha``, else ``"not ..."``."""
    pct = f"{100 * alpha:g} %"

    def label(m: dict) -> str:
        v = _num(m, p)
        if v is None:
            return NA
        return f"significant at {pct}" if v < alpha else f"not significant at {pct}"

    return label


def interval(lo: str, hi: str) -> Label:
    """``"interval excludes 0"`` or ``"interval holds 0"`` for the interval ``[lo, hi]``."""

    def label(m: dict) -> str:
        low, high = _num(m, lo), _num(m, hi)
        if low is None or high is None:
            return NA
        return "interval excludes 0" if low > 0 or high < 0 else "interval holds 0"

    return label


def holds_zero(lo: str, hi: str) -> Callable[[dict], bool]:
    """Whether ``[lo, hi]`` holds 0 (the difference is within noise in that record)."""
    return lambda m: interval(lo, hi)(m) == "interval holds 0"


def value(key: str, prefix: str) -> Label:
    """``"<prefix>: <value>"`` (a chosen recipe, the best proxy, a rank)."""

    def label(m: dict) -> str:
        v = get(m, key)
        return NA if v is None else f"{prefix}: {v}"

    return label


def ranking(candidates: Mapping[str, str], higher: bool = True) -> Label:
    """``"rank 1: <name>"``: the candidate (name -> metric key) with the best value."""

    def label(m: dict) -> str:
        scored = {n: _num(m, k) for n, k in candidates.items()}
        scored = {n: v for n, v in scored.items() if v is not None}
        if not scored:
            return NA
        best = (max if higher else min)(scored, key=scored.get)
        return f"rank 1: {best}"

    return label


def paired(
    name: str,
    page: str,
    run: str,
    key: str,
    a: str,
    b: str,
    lo: str | None = None,
    hi: str | None = None,
    p: str | None = None,
) -> list[Verdict]:
    """The two verdicts of a paired difference ``key`` (``a`` minus ``b``): its sign (within
    noise where ``[lo, hi]`` holds 0), and whether it excludes 0 (``lo``/``hi``) or is
    significant (``p``)."""
    lo, hi = lo or f"{key}_lo", hi or f"{key}_hi"
    out = [Verdict(f"{name}: sign", page, run, sign(key, a, b), holds_zero(lo, hi))]
    if p:
        out.append(Verdict(f"{name}: significance", page, run, significance(p)))
    else:
        out.append(Verdict(f"{name}: interval", page, run, interval(lo, hi)))
    return out


def _mse_retrain(dataset: str, page: str) -> list[Verdict]:
    run = f"11_mse_retrain__{dataset}"
    out = []
    for other, label in (
        ("cnn", "CNN"),
        ("random", "random genome"),
        ("best_random", "best random genome"),
    ):
        key = f"found_minus_{other}"
        out += paired(
            f"found minus {label} ({dataset})",
            page,
            run,
            key,
            "found",
            label,
            p=f"{key}_p_boot",
        )
    out.append(
        Verdict(
            f"found genome's rank among random genomes ({dataset})",
            page,
            run,
            value("found_rank_among_random", "rank"),
        )
    )
    return out


def _comparisons_62() -> list[Verdict]:
    run, page = "62_spikenas_darts__cifar10", "comparison"
    names = {"darts": "plain DARTS", "eca": "ECA", "cbam": "CBAM", "tcsa": "TCSA"}
    others = {"rand": "random cell", "free": "best training-free", "re": "regularized evolution"}
    out = [Verdict("best training-free method", page, run, value("best_free", "best"))]
    for m, label in names.items():
        for o, olabel in others.items():
            key = f"{m}_vs_{o}"
            out += paired(f"{label} minus {olabel}", page, run, key, label, olabel, p=f"{key}_p")
        if m != "darts":
            key = f"{m}_vs_darts"
            out += paired(
                f"{label} minus plain DARTS", page, run, key, label, "plain DARTS", p=f"{key}_p"
            )
    out.append(
        Verdict(
            "best DARTS variant",
            page,
            run,
            ranking({label: f"{m}_acc" for m, label in names.items()}),
        )
    )
    return out


def _search_61() -> list[Verdict]:
    run, page = "61_spikenas_search__cifar10", "comparison"
    pairs = {
        "evo_vs_rand": ("evolution (RDM)", "random cell"),
        "evo_vs_rsrdm": ("evolution (RDM)", "random search (RDM)"),
        "rsrdm_vs_rand": ("random search (RDM)", "random cell"),
        "re_vs_evo": ("regularized evolution", "evolution (RDM)"),
        "lsp_vs_rand": ("evolution (LSP)", "random cell"),
        "lsp_vs_rdm": ("evolution (LSP)", "evolution (RDM)"),
        "val10_vs_lsp": ("evolution (10-epoch val)", "evolution (LSP)"),
    }
    out = []
    for key, (a, b) in pairs.items():
        out += paired(
            f"{a} minus {b}",
            page,
            run,
            f"{key}_diff",
            a,
            b,
            lo=f"{key}_lo",
            hi=f"{key}_hi",
            p=f"{key}_t_p",
        )
    methods = (
        "evo_rdm",
        "evo_lsp",
        "evo_val10",
        "rs_rdm",
        "rs_sahd",
        "rs_naswot",
        "re_val",
        "rs_val",
        "rand",
    )
    free = ("evo_rdm", "evo_lsp", "rs_rdm", "rs_sahd", "rs_naswot", "rand")
    out.append(Verdict("best search method", page, run, ranking({m: f"{m}_acc" for m in methods})))
    out.append(
        Verdict("best training-free search", page, run, ranking({m: f"{m}_acc" for m in free}))
    )
    return out


def _ledger_60() -> list[Verdict]:
    run, page = "60_spikenas_ledger__cifar10", "spikenas_bench"
    return [
        Verdict("best proxy (cells that learn)", page, run, value("best_proxy_learned", "best")),
        Verdict("best proxy (every cell)", page, run, value("best_proxy_all", "best")),
        Verdict(
            "MSE-NAS default fitness: rank among proxies",
            page,
            run,
            value("default_rank_learned", "rank"),
        ),
        Verdict(
            "MSE-NAS default fitness: Kendall tau sign",
            page,
            run,
            sign("default_tau_learned", "tau", "0"),
            holds_zero("default_tau_learned_lo", "default_tau_learned_hi"),
        ),
        Verdict(
            "MSE-NAS default fitness: tau interval",
            page,
            run,
            interval("default_tau_learned_lo", "default_tau_learned_hi"),
        ),
        Verdict(
            "authors' scorer (LSP): tau interval",
            page,
            run,
            interval("lsp_tau_learned_lo", "lsp_tau_learned_hi"),
        ),
        Verdict(
            "SAHD: tau interval", page, run, interval("sahd_tau_learned_lo", "sahd_tau_learned_hi")
        ),
        Verdict(
            "best proxy against 10 epochs of training",
            page,
            run,
            ranking({"best proxy": "best_tau_learned", "10 epochs": "val10_tau_learned"}),
        ),
    ]


def _attention_22() -> list[Verdict]:
    run, page = "22_madarts_attention__cifar10", "madarts"
    kinds = ("none", "eca", "cbam", "tcsa", "tcsa_sigmoid_gate")
    out = [Verdict("attention ranking", page, run, ranking({k: f"{k}_test_acc" for k in kinds}))]
    for k in kinds[1:]:
        key = f"{k}_minus_none"
        out += paired(f"{k} minus none", page, run, key, k, "none", p=f"{key}_p_boot")
    return out


def _madarts_21() -> list[Verdict]:
    run, page = "21_madarts_retrain__cifar10", "madarts"
    out = []
    for key, a, b in (
        ("derived_minus_plain", "derived cell", "plain DARTS cell"),
        ("derived_minus_random", "derived cell", "random cells"),
        ("derived_minus_best_random", "derived cell", "best random cell"),
        ("plain_minus_random", "plain DARTS cell", "random cells"),
    ):
        out += paired(f"{a} minus {b}", page, run, key, a, b, p=f"{key}_p_boot")
    out.append(
        Verdict("cell effect (ANOVA over candidates)", page, run, significance("cell_effect.p"))
    )
    return out


def _registry() -> tuple[Verdict, ...]:
    nm = "01_nmnist_pipeline__nmnist"
    sim = "02_simulator_vs_sensor__nmnist"
    abl = "12_mse_ablations__digits"
    out = [
        Verdict(
            "N-MNIST recipe the selection rule adopts", "nmnist", nm, value("adopted", "recipe")
        ),
        Verdict(
            "SNN minus logistic regression (N-MNIST): sign",
            "nmnist",
            nm,
            sign("snn_minus_logistic", "SNN", "logistic regression"),
            holds_zero("snn_minus_logistic_ci95[0]", "snn_minus_logistic_ci95[1]"),
        ),
        Verdict(
            "SNN minus logistic regression (N-MNIST): significance",
            "nmnist",
            nm,
            significance("snn_minus_logistic_p_boot"),
        ),
        Verdict(
            "calibrated simulator against the default (accuracy on the real sensor)",
            "sensor",
            sim,
            sign_of_two("acc_cal", "acc_default", "calibrated", "default"),
        ),
        Verdict(
            "calibrated simulator against count-matched (accuracy on the real sensor)",
            "sensor",
            sim,
            sign_of_two("acc_cal", "acc_cm", "calibrated", "count-matched"),
        ),
        Verdict(
            "training-free fitness cheaper than training",
            "mse_nas",
            abl,
            above("cost_ratio", 1.0, "cheaper", "not cheaper"),
        ),
        Verdict(
            "training-free fitness against accuracy (Kendall tau sign)",
            "mse_nas",
            abl,
            sign("fitness_kendall_tau", "tau", "0"),
        ),
        Verdict(
            "accuracy-guided search against training-free search",
            "mse_nas",
            abl,
            sign_of_two(
                "acc_search_test_acc", "free_search_test_acc", "accuracy-guided", "training-free"
            ),
        ),
    ]
    out += _mse_retrain("digits", "mse_nas")
    out += _mse_retrain("cifar10", "mse_nas")
    out += _mse_retrain("cifar10-dvs-sim", "cifar10_dvs_sim")
    out += _madarts_21() + _attention_22() + _ledger_60() + _search_61() + _comparisons_62()
    return tuple(out)


def sign_of_two(a_key: str, b_key: str, a: str, b: str) -> Label:
    """``"a > b"`` etc. by the sign of ``metrics[a_key] - metrics[b_key]``."""

    def label(m: dict) -> str:
        x, y = _num(m, a_key), _num(m, b_key)
        return NA if x is None or y is None else sign("d", a, b)({"d": x - y})

    return label


#: every verdict the pages state, in page order
VERDICTS: tuple[Verdict, ...] = _registry()


def mark(v: Verdict, reference: dict | None, fresh: dict | None) -> tuple[str, str, str]:
    """(reference label, fresh label, mark) of one verdict; the mark is ``""`` (same),
    ``"differs"``, ``"differs (within noise)"`` (both records within noise) or ``"not in
    both"`` (a run missing on one side)."""
    ref = v.label(reference) if reference is not None else "no result"
    new = v.label(fresh) if fresh is not None else "no result"
    if reference is None or fresh is None:
        return ref, new, "not in both"
    if ref == new:
        return ref, new, ""
    if v.noise is not None and v.noise(reference) and v.noise(fresh):
        return ref, new, "differs (within noise)"
    return ref, new, "differs"


def verdict_table(
    reference: Mapping[str, dict],
    fresh: Mapping[str, dict],
    verdicts: tuple[Verdict, ...] = VERDICTS,
) -> pd.DataFrame:
    """One row per verdict whose run has a result on either side: page, run, verdict, the
    reference's label, the fresh run's label and the mark (:func:`mark`). ``reference`` and
    ``fresh``: result records (with ``metrics``) by run name."""
    rows = []
    for v in verdicts:
        if v.run not in reference and v.run not in fresh:
            continue
        ref = reference[v.run]["metrics"] if v.run in reference else None
        new = fresh[v.run]["metrics"] if v.run in fresh else None
        r, n, m = mark(v, ref, new)
        rows.append(
            {"page": v.page, "run": v.run, "verdict": v.name, "reference": r, "fresh": n, "mark": m}
        )
    return pd.DataFrame(rows, columns=["page", "run", "verdict", "reference", "fresh", "mark"])
