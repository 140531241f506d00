"""The hig-oscillators page's claims (``claims`` registry) and their evidence at every
budget the book has: the page's short runs (seconds per method; its stored references)
and the long-budget records (minutes per method, ``record``).

The sources: on the nonlinear chain HIG reaches the lowest test loss of Adam, GN and SIP
at equal wall-clock time, 3,600 s per method on a GPU, where GN fails (Schnell et al.
2022); on the linear chain the source notebook's HIG ends at 2.3e-8 after 100 s where
Adam ends at 5.5e-5 (3.4 orders of magnitude).
"""

import math
import numbers

import numpy as np

from .. import claims, reference
from . import PAGE, SETTINGS, orders_of_magnitude
from . import record as hig_oscillators_record
from .._checks import check_choice, check_mapping, check_positive, check_sequence



def orders(lower, upper):
    """log10(upper / lower): how many orders of magnitude ``lower`` is below ``upper``
    (+inf where ``upper`` is infinite, a diverged run; else ``orders_of_magnitude``)."""
    check_positive("lower", lower)
    if isinstance(upper, (bool, np.bool_)) or not isinstance(upper, numbers.Real) or not upper > 0:
        raise ValueError(f"upper must be a positive number (+inf for a diverged run), got "
                         f"{upper!r}")
    return math.inf if math.isinf(upper) else orders_of_magnitude(lower, upper)


def _hig_lowest(evidence):
    medians = evidence["nonlinear"]
    others = {m: v for m, v in medians.items() if m != "HIG"}
    best = min(others, key=others.get)
    gap = orders(medians["HIG"], others[best])
    verdict, at = claims.ladder(gap, 0.3, 0.0) if gap > 0 else ("no", False)
    shown = (f"HIG {medians['HIG']:.2g}, best other {best} {others[best]:.2g} "
             f"({gap:+.2f} orders)")
    return claims.Verdict(gap if math.isfinite(gap) else 99.0, shown, verdict, at)


def _linear_orders(evidence):
    medians = evidence["linear"]
    gap = orders(medians["HIG"], medians["Adam"])
    verdict, at = claims.ladder(gap, 2.4, 1.0)
    return claims.Verdict(gap, f"{gap:.2f} orders (HIG {medians['HIG']:.2g}, Adam "
                          f"{medians['Adam']:.2g})", verdict, at)


def _gn_fails(evidence):
    runs = evidence.get("nonlinear GN runs")
    if runs is None:
        return claims.not_run("no stored value at this budget (the page asserts GN's "
                              "divergence on its runs)")
    failed = sum(1 for loss in runs["GN"] if not loss < 10 * runs["HIG median"])
    verdict = "yes" if failed == len(runs["GN"]) else "partly" if failed else "no"
    return claims.Verdict(failed, f"{failed} of {len(runs['GN'])} seeds diverged or ended "
                          f"≥ 10× above HIG's median", verdict)


CLAIMS = tuple(claims.register(claims.Claim(page=PAGE, **fields)) for fields in (
    dict(name="hig-oscillators/nonlinear-hig-lowest", judge=_hig_lowest,
         statement="nonlinear chain: HIG reaches the lowest test loss at equal wall-clock "
                   "time",
         source="HIG lowest of Adam, GN, SIP after 3,600 s per method on a GPU "
                "{cite:p}`schnell2022hig`",
         quantity="orders of magnitude from HIG's median final test loss (3 seeds) to the "
                  "lowest median of the other methods (a diverged run counts as infinite)",
         rule="yes if HIG is lowest by ≥ 0.3 orders (a factor 2, beyond the seed spread), "
              "partly if lowest by less, no if another method is lower"),
    dict(name="hig-oscillators/linear-orders",
         statement="linear chain: HIG ends about four orders of magnitude below Adam",
         source="HIG 2.3e-8, Adam 5.5e-5 after 100 s: 3.4 orders (source notebook "
                "{cite:p}`thuerey2021pbdl`)",
         quantity="log10(Adam's / HIG's median final test loss), 3 seeds", judge=_linear_orders,
         rule="yes if ≥ 2.4 orders (within one order of the source notebook's 3.4), partly "
              "if ≥ 1 order, else no"),
    dict(name="hig-oscillators/nonlinear-gn-fails", statement="nonlinear chain: Gauss-Newton fails",
         source="GN does not converge on the nonlinear chain {cite:p}`schnell2022hig`",
         quantity="seeds whose GN run diverged or ended ≥ 10× above HIG's median",
         rule="yes if every seed, partly if some, no if none", judge=_gn_fails),
))


def page_medians(values):
    """{setting: {method: median final test loss}} from the page's outcomes
    ({"<setting>/<method>/median": value}); methods without a stable value on a setting
    (GN and SIP on the nonlinear chain, which diverge or grow) count as infinite."""
    check_mapping("values", values)
    out = {}
    for setting in SETTINGS:
        found = {name.split("/")[1]: float(v) for name, v in values.items()
                 if name.startswith(f"{setting}/") and name.endswith("/median")}
        if "HIG" not in found or "Adam" not in found:
            raise ValueError(f"values must hold {setting}/HIG/median and {setting}/Adam/median")
        out[setting] = {m: found.get(m, math.inf) for m in ("Adam", "SIP", "GN", "HIG")}
    return out


def record_evidence(records):
    """The claims' evidence from the long-budget records ({setting: record})."""
    check_mapping("records", records)
    out = {}
    for setting, record in records.items():
        check_choice("setting", setting, SETTINGS)
        finals = hig_oscillators_record.final_losses(record)
        out[setting] = {m: float(np.median(v)) for m, v in finals.items()}
        if setting == "nonlinear":
            out["nonlinear GN runs"] = {"GN": finals["GN"].tolist(),
                                        "HIG median": out[setting]["HIG"]}
    return out


def available_records():
    """{setting: record} of the records the package holds."""
    return {s: hig_oscillators_record.load_record(s) for s in SETTINGS
            if hig_oscillators_record.RECORD_PATHS[s].exists()}


def budget_labels(page_seconds, records):
    """(the page's budget label, the records' label or None)."""
    check_mapping("page_seconds", page_seconds, keys=SETTINGS)
    for setting in SETTINGS:
        check_positive(f"page_seconds[{setting!r}]", page_seconds[setting])
    check_mapping("records", records, min_size=0, entry_keys=("seconds_per_run",))
    book = "book: " + ", ".join(f"{page_seconds[s]:g} s ({s})" for s in SETTINGS)
    if set(records) != set(SETTINGS):
        return book, None
    return book, "record: " + ", ".join(f"{records[s]['seconds_per_run']:g} s ({s})"
                                        for s in SETTINGS)


def evidence(values=None, gn_finals=None):
    """{budget label: evidence}: the page's budget (``values`` of its runs, or its stored
    references; ``gn_finals``, the final test losses of the page's GN runs on the
    nonlinear chain, inf where diverged, judge whether GN fails there), then the
    long-budget records where the package holds both."""
    from . import PAGE_SECONDS

    if values is None:
        stored = reference.load_references(PAGE)["quantities"]
        values = {name: entry["value"] for name, entry in stored.items()}
    records = available_records()
    book, long = budget_labels(PAGE_SECONDS, records)
    out = {book: page_medians(values)}
    if gn_finals is not None:
        gn = [float(v) for v in check_sequence("gn_finals", gn_finals)]
        if not gn or any(math.isnan(v) or v <= 0 for v in gn):
            raise ValueError(f"gn_finals must be positive final test losses (inf for a "
                             f"diverged run), got {gn_finals!r}")
        out[book]["nonlinear GN runs"] = {"GN": gn, "HIG median": out[book]["nonlinear"]["HIG"]}
    if long is not None:
        out[long] = record_evidence(records)
    return out
