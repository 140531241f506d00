"""The sip-training page's claims, one registry record each (``improved_gradients.claims``),
the evidence they are judged on at each budget, and the page's rows of the discussion.

Evidence of one budget is a mapping {"budget": {method: steps}, "curves": {ξ: {method:
final x-distance}} at φ = 45°, "adam_rotation": Adam's x-distance at φ = 45° / at φ = 0
(ξ = 32), and, where the sweeps are at hand, "xi_sweep" (x-distance/ξ) and "phi_sweep"
({method: array})}. The page builds it from its runs and the record (``evidence_from``),
the discussion page from stored values only (``evidence``): the page's references for the
book's and the emulated budget (which hold no sweeps: the sweep claims are "not run"
there), the long-budget record for the paper's budget and twice it.
"""

import numpy as np

from .. import claims as registry
from .._checks import check_choice, check_mapping
from . import PAGE
from .record import load_long_budget_record
from .runs import (CURVE_XIS, PAPER_ADAM_ROTATION, PAPER_XI1, PAPER_XI32, WEAK_METHODS,
                   XI_SWEEP, _check_budget, _check_outcomes, adam_ahead, outcomes,
                   page_budgets, paper_budget, record_view, xi_list)
from .sweep import SIN_METHODS

PAPER_XI1_SLOWEST = 2.1e-3
CITE = "{cite:p}`holl2022sip`"
# The budgets of the page, shortest first; "paper" and "record" are read off the record.
BUDGETS = ("book", "emulated", "paper", "record")


def _sweep_needed(evidence, sweep):
    return None if sweep in evidence else registry.not_run(
        f"the {sweep.replace('_', ' ')} of this budget is not stored")


def _xi32_ordering(evidence):
    c32 = evidence["curves"][32.0]
    ratio = c32["Adam"] / c32["SIP"]
    others = min(c32[m] for m in WEAK_METHODS) / c32["Adam"]
    verdict, at = registry.combine(registry.ladder(ratio, 10, 3),
                                   registry.ladder(others, 3, 1))
    return registry.Verdict(ratio, f"Adam/SIP {ratio:.3g}, others/Adam ≥ {others:.2g}",
                            verdict, at)


def _xi1_adam_lowest(evidence):
    c1 = evidence["curves"][1.0]
    rival = min(v for m, v in c1.items() if m != "Adam")
    best = min(c1, key=c1.get)
    verdict = ("yes" if best == "Adam" else "partly" if c1["Adam"] < c1["SIP"] else "no")
    decisive = rival if verdict == "yes" else c1["SIP"]
    return registry.Verdict(c1["Adam"] / c1["SIP"],
                            f"Adam/SIP {c1['Adam'] / c1['SIP']:.2g}, lowest {best}", verdict,
                            registry.near(c1["Adam"], decisive))


def _xi1_all_converge(evidence):
    c1 = evidence["curves"][1.0]
    slowest = max(c1, key=c1.get)
    verdict, at = registry.ladder(c1[slowest], PAPER_XI1_SLOWEST, 2 * PAPER_XI1_SLOWEST,
                                  higher=False)
    return registry.Verdict(c1[slowest], f"slowest {slowest} {c1[slowest]:.4g}", verdict, at)


def _sip_flat(sweep, points):
    """The judge of "SIP is flat" in ``sweep`` over the sweep's ``points`` (positions)."""
    def judge(evidence):
        missing = _sweep_needed(evidence, sweep)
        if missing:
            return missing
        sip = np.asarray(evidence[sweep]["SIP"])[points]
        spread = float(sip.max() / sip.min())
        verdict, at = registry.ladder(spread, 2, 4, higher=False)
        return registry.Verdict(spread, f"max/min {spread:.3g}", verdict, at)
    return judge


def _adam_ahead(evidence):
    missing = _sweep_needed(evidence, "xi_sweep")
    if missing:
        return missing
    values = evidence["xi_sweep"]
    ratio = np.asarray(values["Adam"]) / np.asarray(values["SIP"])
    ahead = adam_ahead(values)
    upper = max(ahead) if ahead else 0.0
    loses_above = bool(np.all(ratio[[k for k, xi in enumerate(XI_SWEEP) if xi >= 48]] > 1))
    verdict = ("yes" if 20 <= upper < 48 and loses_above else
               "partly" if 5 <= upper < 48 and loses_above else "no")
    # the ranking at the crossover decides: Adam/SIP within the band of 1 there
    k = XI_SWEEP.index(upper) if ahead else 0
    at = any(registry.near(float(r), 1.0) for r in ratio[k:k + 2])
    return registry.Verdict(upper, f"Adam ahead at {xi_list(ahead)}", verdict, at)


def _adam_rotation(evidence):
    rotation = float(evidence["adam_rotation"])
    verdict, at, _ = registry.within_factor(rotation, PAPER_ADAM_ROTATION)
    return registry.Verdict(rotation, f"{rotation:.3g}×", verdict, at)


def _others_fail_phi(evidence):
    missing = _sweep_needed(evidence, "phi_sweep")
    if missing:
        return missing
    weak = [m for m in WEAK_METHODS if m in evidence["phi_sweep"]]
    if not weak:
        return registry.not_run("the other optimisers ran at the curve settings only")
    lowest = float(min(np.asarray(evidence["phi_sweep"][m])[1:].min() for m in weak))
    verdict, at = registry.ladder(lowest, 0.5, 0.2)
    return registry.Verdict(lowest, f"lowest {lowest:.3g}", verdict, at)


def _value_judge(xi, method, paper):
    def judge(evidence):
        value = evidence["curves"][xi][method]
        verdict, at, factor = registry.within_factor(value, paper)
        return registry.Verdict(value, f"{value:.2g} (×{factor:.3g} from the paper)", verdict, at)
    return judge


FACTOR_RULE = ("yes within a factor 2 of the paper's value, partly within a factor 4, else "
               "no: the paper's values are read off log-scale figures, and a factor 2 is "
               "about the spread of one method between the budgets of this page")
CLAIMS = {
    "xi32-ordering": (
        "at ξ = 32, φ = 45°, only SIP and Adam make progress: SIP ≪ Adam ≪ the other four",
        f"SIP ≈ 1.3e-2, Adam ≈ 0.3, the others ≈ 1.4–1.9 {CITE}",
        "Adam/SIP and (lowest other)/Adam at ξ = 32",
        "yes if Adam/SIP ≥ 10 and every other optimiser ≥ 3× Adam; partly if Adam/SIP ≥ 3 "
        "and the others are no better than Adam; else no (an order of magnitude is what "
        "'≪' means in the paper's log-scale figure)", _xi32_ordering),
    "xi1-adam-lowest": (
        "at ξ = 1, φ = 45°, Adam ends lowest of the six methods",
        f"Adam 3.6e-4, SIP 8.4e-4 (Adam/SIP 0.43) {CITE}",
        "the final x-distances at ξ = 1", "yes if Adam has the lowest final x-distance; "
        "partly if it only beats SIP; else no (the claim is a ranking)", _xi1_adam_lowest),
    "xi1-all-converge": (
        "at ξ = 1 every method converges", f"the slowest, SGD, ends at ≈ 2e-3 {CITE}",
        "the largest final x-distance at ξ = 1",
        "yes if it is below 2.1e-3 (the paper's slowest, with its reading error), partly "
        "below twice that, else no", _xi1_all_converge),
    "sip-flat-xi": (
        "SIP's relative x-distance is flat in ξ from ξ ≈ 5 on",
        f"≈ 4e-4 for ξ ≥ 5 {CITE}", "max/min of SIP's x-distance/ξ over ξ ≥ 5 (φ = 0)",
        "yes if ≤ 2, partly if ≤ 4, else no (flat on the paper's log axis spanning four "
        "decades)", _sip_flat("xi_sweep", [k for k, xi in enumerate(XI_SWEEP) if xi >= 5])),
    "adam-ahead": (
        "Adam beats SIP in the ξ sweep up to ξ ≈ 25–30 and loses above",
        f"crossover at ξ ≈ 25–30 {CITE}", "the ξ of the sweep where Adam's x-distance/ξ is "
        "below SIP's (φ = 0)", "yes if the largest such ξ is 20 or 32 and Adam loses at 48 "
        "and 64; partly if that ξ is at least 5 and Adam loses at 48 and 64; else no (the "
        "sweep's neighbours of 25–30)", _adam_ahead),
    "adam-rotation": (
        "rotating the problem from φ = 0 to 45° makes Adam ≈ 25× worse (ξ = 32)",
        f"≈ 25× {CITE}", "Adam's x-distance at φ = 45° / at φ = 0, ξ = 32",
        FACTOR_RULE, _adam_rotation),
    "sip-flat-phi": (
        "SIP is flat in φ (ξ = 32)", f"≈ 1.2e-2 for every φ {CITE}",
        "max/min of SIP's x-distance over the φ sweep", "yes if ≤ 2, partly if ≤ 4, else no",
        _sip_flat("phi_sweep", slice(None))),
    "others-fail-phi": (
        "SGD, Adadelta, Adagrad and RMSprop stay at ≈ 1–2 for φ ≥ 1° (ξ = 32)",
        f"≈ 1–2 {CITE}", "the lowest x-distance of the four for φ ≥ 1°",
        "yes if ≥ 0.5 (still a quarter of the paper's level: no progress), partly if ≥ "
        "0.2, else no", _others_fail_phi),
    **{f"value-xi{xi:g}-{method.lower()}": (
        f"{method} reaches ≈ {paper:g} at ξ = {xi:g}, φ = 45°", f"{paper:g} {CITE}",
        f"{method}'s final x-distance at ξ = {xi:g}, φ = 45°", FACTOR_RULE,
        _value_judge(xi, method, paper))
       for xi, paper_values in ((32.0, PAPER_XI32), (1.0, PAPER_XI1))
       for method, paper in paper_values.items() if method in ("SIP", "Adam")},
}
for _short, (_statement, _source, _quantity, _rule, _judge) in CLAIMS.items():
    registry.register(registry.Claim(
        name=f"{PAGE}/{_short}", page=PAGE, statement=_statement, source=_source,
        quantity=_quantity, rule=_rule, judge=_judge))


def evidence_from(columns):
    """{budget label: evidence} from {budget label: ``outcomes(...)``} (the page's runs or
    the record) or from mappings {"budget", "curves", "adam_rotation"} (stored values);
    "adam_rotation" is computed from the φ sweep where it is not given."""
    check_mapping("columns", columns)
    evidence = {}
    for label, column in columns.items():
        check_mapping(f"columns[{label!r}]", column, keys=("budget", "curves"))
        check_mapping(f"columns[{label!r}]['curves']", column["curves"], keys=CURVE_XIS)
        if "adam_rotation" in column:
            item = dict(column)
        else:
            _check_outcomes(f"columns[{label!r}]", column)
            adam = np.asarray(column["phi_sweep"]["Adam"])
            item = {**column, "adam_rotation": float(adam[-1] / adam[0])}
        evidence[label] = item
    return evidence


def stored_column(quantities, label, budget):
    """The evidence mapping of the book's or the emulated budget (``label`` "book" or
    "emulated") from the page's stored references ``quantities``."""
    check_mapping("quantities", quantities)
    check_choice("label", label, ("book", "emulated"))
    _check_budget("budget", budget)
    names = [f"{label}_xi{xi:g}_{m}" for xi in CURVE_XIS for m in SIN_METHODS]
    check_mapping("quantities", quantities, keys=(*names, f"{label}_adam_rotation"))
    return {"budget": dict(budget), "adam_rotation": quantities[f"{label}_adam_rotation"]["value"],
            "curves": {xi: {m: quantities[f"{label}_xi{xi:g}_{m}"]["value"] for m in SIN_METHODS}
                       for xi in CURVE_XIS}}


def evidence():
    """{budget label: evidence} of every budget the book has, shortest first, from stored
    values only: the book's and the emulated budget from the page's references, the
    paper's budget and twice it (the largest, last) from the long-budget record."""
    from ..reference import load_references

    quantities = load_references(PAGE)["quantities"]
    budgets = page_budgets()
    record = load_long_budget_record()
    columns = {label: stored_column(quantities, label, budgets[label])
               for label in ("book", "emulated")}
    columns["paper"] = outcomes(record_view(record, paper_budget(1.0)))
    columns["record"] = outcomes(record_view(record, record["budget"]))
    return evidence_from(columns)


# (claim, experiment, method, metric) of the discussion's rows: the value claims
_DISCUSSION_ROWS = (
    ("value-xi32-sip", "sin benchmark, ξ = 32, φ = 45°", "SIP"),
    ("value-xi32-adam", "sin benchmark, ξ = 32, φ = 45°", "Adam"),
    ("value-xi1-sip", "sin benchmark, ξ = 1, φ = 45°", "SIP"),
    ("value-xi1-adam", "sin benchmark, ξ = 1, φ = 45°", "Adam"),
)


def discussion_summary():
    """Rows for the discussion page from stored values (no training): the final validation
    x-distances of SIP and Adam at ξ = 1 and 32 and Adam's rotation penalty, at the
    emulated equal-time budget (the page's references) and at the record's budget."""
    evidence_by_budget = evidence()
    rows = []
    for label in ("emulated", "record"):
        found = evidence_by_budget[label]
        steps = ", ".join(f"{m} {found['budget'][m]:,}" for m in ("SIP", "Adam"))
        for short, experiment, method in _DISCUSSION_ROWS:
            xi = 32.0 if "xi32" in short else 1.0
            rows.append({"experiment": experiment, "method": method,
                         "metric": f"final validation x-distance, {label} budget",
                         "value": float(found["curves"][xi][method]),
                         "note": f"{steps} steps"})
        rows.append({"experiment": "sin benchmark, ξ = 32, φ sweep", "method": "Adam",
                     "metric": f"x-distance at φ = 45° / at φ = 0°, {label} budget",
                     "value": float(found["adam_rotation"]), "note": f"{steps} steps"})
    return rows
