"""The hig-toy page's claims (registry ``claims``), their evidence from the page's runs
and from the stored references, and the page's rows of the discussion page.
"""

import numpy as np

from .. import claims
from .._checks import check_mapping
from . import METHODS, PAGE, SEEDS, STEPS, TIME_BUDGET, _check_seed_results

# The evidence of one budget: {"HIG", "GN", "Adam after HIG's steps": medians at λ = 0.01 over
# the seeds; "GN clamped": GN's median with τ = 1e-3 clamped; "Adam at equal time":
# Adam's loss after the steps it affords in TIME_BUDGET s, "GN act std": the median std
# of GN's hidden activations (None where not stored)}.

BUDGET = f"{STEPS['HIG']} steps, {len(SEEDS)} seeds"
# y₁ fitted, y₂ not: the plateau of the paper's Adam and GN lies at this loss level.
PLATEAU_LOSS = 0.2
SATURATED_STD = 0.1  # a std of the tanh activations below this: saturated units


def _hig_level(evidence):
    hig = evidence["HIG"]
    verdict, at = claims.ladder(hig, 3e-3, 1.2e-2, higher=False)
    return claims.Verdict(hig, f"HIG {hig:.2g}", verdict, at)


def _gn_level(evidence):
    gn = evidence["GN"]
    verdict, at, factor = claims.within_factor(gn, 0.40)
    return claims.Verdict(gn, f"GN {gn:.2g} (×{factor:.1f} from 0.40)", verdict, at)


def _gn_saturated(evidence):
    std = evidence.get("GN act std")
    if std is None:
        return claims.not_run("the activations are measured on the page, not stored")
    verdict, at = claims.ladder(std, SATURATED_STD, higher=False)
    return claims.Verdict(std, f"GN activation std {std:.2f}", verdict, at)


def _adam_plateau(evidence):
    adam = evidence["Adam at equal time"]
    verdict, at = claims.ladder(adam, PLATEAU_LOSS, higher=True)
    return claims.Verdict(adam, f"Adam {adam:.2g} ({evidence['Adam read at']})", verdict, at)


def _hig_ahead_of_clamped_gn(evidence):
    ratio = evidence["GN clamped"] / evidence["HIG"]
    return claims.graded(ratio, f"GN clamped / HIG = {ratio:.2g}", 10.0, 2.0)


_PAPER = "{cite:p}`schnell2022hig`, figure of the toy (λ = 0.01, 20 s per method)"
CLAIMS = tuple(claims.register(claims.Claim(page=PAGE, **fields)) for fields in (
    dict(name="hig-toy/hig-level", statement="HIG reaches a low loss at λ = 0.01",
         source=f"HIG ≈ 3e-3 and falling, {_PAPER}",
         quantity=f"HIG's median validation loss after {STEPS['HIG']} steps",
         rule="yes if at most the paper's 3e-3, partly within 4× above it (the paper reads "
              "its value off a log-scale figure), else no", judge=_hig_level),
    dict(name="hig-toy/gn-loss-level", statement="Gauss-Newton stalls at the paper's level",
         source=f"GN ≈ 0.40, {_PAPER}",
         quantity=f"GN's median validation loss (τ = {METHODS['GN']['tau']:g}) after "
                  f"{STEPS['GN']} steps",
         rule="yes within a factor 2 of 0.40, partly within 4 (a level read off a figure), "
              "else no",
         judge=_gn_level),
    dict(name="hig-toy/gn-saturated", statement="Gauss-Newton's hidden units saturate",
         source=f"GN's activations near ±1 with spread near 0, {_PAPER}",
         quantity="median std of GN's hidden tanh activations over the validation set",
         rule=f"yes if below {SATURATED_STD:g} (units pinned at ±1), else no",
         judge=_gn_saturated),
    dict(name="hig-toy/adam-plateau-equal-time",
         statement="Adam stays on the y₁-only plateau at equal wall-clock time",
         source=f"Adam ≈ 0.24 after 20 s, {_PAPER}",
         quantity=f"Adam's loss after the steps it affords in {TIME_BUDGET:g} s (the page's "
                  "equal budget)",
         rule=f"yes if at least {PLATEAU_LOSS:g} (still on the plateau, whose level is "
              "≈ 0.25), else no", judge=_adam_plateau),
    dict(name="hig-toy/hig-ahead-of-clamped-gn",
         statement="HIG is far ahead of Gauss-Newton, even with clamping",
         source=f"HIG ≈ 3e-3 against GN ≈ 0.40, two orders apart, {_PAPER}",
         quantity="GN's median loss with τ = 1e-3 clamped, divided by HIG's median",
         rule="yes if the ratio is at least 10 (an order of magnitude), partly at least 2, "
              "else no; GN's clamped median is unstable across machines (the reference "
              "table's spread), so this verdict can differ on another CPU", judge=_hig_ahead_of_clamped_gn),
))
def _evidence_entry(hig, gn, adam_short, gn_clamped, adam_equal_time, read_at, gn_act_std=None):
    return {"HIG": float(hig), "GN": float(gn), "Adam after HIG's steps": float(adam_short),
            "GN clamped": float(gn_clamped), "Adam at equal time": float(adam_equal_time),
            "Adam read at": read_at, "GN act std": None if gn_act_std is None else float(gn_act_std)}


def evidence_from_runs(seed_results, clamp, comparison):
    """{BUDGET: evidence} from the page's runs: ``run_seeds``' table, ``run_clamp_comparison``'s
    losses and ``run_comparison(0.01)``'s runs (Adam's loss at the end of its time budget)."""
    _check_seed_results(seed_results)
    missing = [name for name in METHODS if (0.01, name) not in seed_results]
    if missing:
        raise ValueError(f"seed_results must hold λ = 0.01 for every method, lacks {missing}")
    check_mapping("clamp", clamp, keys=(("GN", 1e-3, "clamp"),))
    check_mapping("comparison", comparison, entry_keys=("val_loss",), keys=("Adam",))
    median = {name: np.median(seed_results[(0.01, name)]["val_loss"]) for name in METHODS}
    return {BUDGET: _evidence_entry(
        median["HIG"], median["GN"], np.median(seed_results[(0.01, "Adam")]["val_loss_short"]),
        np.median(clamp[("GN", 1e-3, "clamp")]), comparison["Adam"]["val_loss"][-1],
        f"seed 0 at the end of {TIME_BUDGET:g} s", np.median(seed_results[(0.01, "GN")]["act_std"]))}


def evidence():
    """{BUDGET: evidence} from the stored references (no training). Adam's loss at equal
    time is read where the stored cost per step puts it: TIME_BUDGET / (Adam's seconds per
    step) steps, the stored median after STEPS["Adam"] steps when that many fit (else
    after HIG's steps); GN's activations are not stored (None)."""
    from ..reference import load_references

    stored = load_references(PAGE)
    values = {name: entry["value"] for name, entry in stored["quantities"].items()}
    affordable = TIME_BUDGET / stored["costs"]["seconds_per_update"]["Adam"]
    steps = STEPS["Adam"] if affordable >= STEPS["Adam"] else STEPS["HIG"]
    adam_long = f"median loss, lam 0.01, Adam{'' if steps == STEPS['Adam'] else f' after {steps} steps'}"
    return {BUDGET: _evidence_entry(
        values["median loss, lam 0.01, HIG"], values["median loss, lam 0.01, GN"],
        values[f"median loss, lam 0.01, Adam after {STEPS['HIG']} steps"],
        values["GN tau 0.001 clamp, median loss"], values[adam_long],
        f"median after {steps} steps, which take less than {TIME_BUDGET:g} s at the stored cost")}


def discussion_summary():
    """Rows for the discussion page from this page's stored, build-checked references: the
    median validation losses at λ = 0.01 over the seeds."""
    from ..reference import load_references

    values = {name: entry["value"] for name, entry in load_references(PAGE)["quantities"].items()}
    metric = f"median validation loss, {len(SEEDS)} seeds"
    experiment = "HIG toy, λ = 0.01"
    return [
        {"experiment": experiment, "method": "HIG", "metric": metric,
         "value": values["median loss, lam 0.01, HIG"], "note": f"{STEPS['HIG']} steps"},
        {"experiment": experiment, "method": "Gauss-Newton", "metric": metric,
         "value": values["median loss, lam 0.01, GN"],
         "note": f"τ = {METHODS['GN']['tau']:g}, {STEPS['GN']} steps"},
        {"experiment": experiment, "method": "Adam", "metric": metric,
         "value": values[f"median loss, lam 0.01, Adam after {STEPS['HIG']} steps"],
         "note": f"{STEPS['HIG']} steps (after {STEPS['Adam']}: "
                 f"{values['median loss, lam 0.01, Adam']:.2g})"},
    ]
