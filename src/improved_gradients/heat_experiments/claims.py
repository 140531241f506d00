"""The sip-heat page's claims (``claims`` registry) and their evidence at every budget the
book has: the page's short runs (batch 8, its stored references) and the long-budget
record (batch 32, ``heat_record``).

The source: Holl et al. 2022, heat inversion, x error Σ|x − x*| after 6,000 s at batch 128
on a GPU: SIP 50.4, SGD 118.9, Adam 125.0; SIP's reconstructions keep the sharp edges the
others blur.
"""

from .. import claims, reference
from . import COMPARED, PAGE
from . import record as heat_record
from .._checks import check_mapping, check_positive

HIGH_FREQUENCY = "Adam / SIP high-frequency error power"


def _sip_below_adam(evidence):
    ratio = evidence["Adam"] / evidence["SIP"]
    verdict, at = claims.ladder(ratio, 2.0, 1.2)
    return claims.Verdict(ratio, f"Adam / SIP {ratio:.3g}", verdict, at)


def _adam_sgd_close(evidence):
    verdict, at, factor = claims.within_factor(evidence["SGD"], evidence["Adam"], 1.25, 2.0)
    ahead = "SGD ahead" if evidence["SGD"] < evidence["Adam"] else "Adam ahead"
    return claims.Verdict(factor, f"SGD / Adam {evidence['SGD'] / evidence['Adam']:.3g} "
                          f"({ahead})", verdict, at)


def _sip_sharper(evidence):
    return claims.graded(evidence[HIGH_FREQUENCY], f"Adam / SIP {evidence[HIGH_FREQUENCY]:.3g}",
                         2.0, 1.2)


SOURCE = "{cite:p}`holl2022sip`, 6,000 s at batch 128"
CLAIMS = tuple(claims.register(claims.Claim(page=PAGE, **fields)) for fields in (
    dict(name="sip-heat/sip-below-adam", statement="SIP's x error is about 2.5× below Adam's",
         source=f"SIP 50.4, Adam 125.0, ratio 2.48 {SOURCE}",
         quantity="Adam's / SIP's final validation x error Σ|x − x*|", judge=_sip_below_adam,
         rule="yes if Adam / SIP ≥ 2 (within a factor 1.25 of the paper's 2.48), partly if "
              "≥ 1.2 (SIP clearly ahead), else no"),
    dict(name="sip-heat/adam-sgd-close", judge=_adam_sgd_close,
         statement="Adam and SGD end close together, far above SIP",
         source=f"SGD 118.9, Adam 125.0 (SGD / Adam 0.95) {SOURCE}",
         quantity="SGD's / Adam's final validation x error",
         rule="yes if the two are within a factor 1.25 of each other, partly within 2, else "
              "no (the paper's ordering SGD < Adam is a 5 % difference, inside the seed "
              "spread of one run)"),
    dict(name="sip-heat/sip-sharper", source=f"reconstructions in Fig. 5 {SOURCE}",
         statement="SIP keeps the sharp edges (high frequencies) that Adam blurs",
         quantity="Adam's / SIP's error power in the high-frequency band of the radial "
                  "spectrum",
         rule="yes if Adam's high-frequency error power is ≥ 2× SIP's, partly if ≥ 1.2×, "
              "else no", judge=_sip_sharper),
))


def evidence_from(values):
    """The claims' evidence from the page's outcomes ({"<method> final x_l1", …,
    HIGH_FREQUENCY: ratio}, as ``heat_experiments.outcomes`` names them)."""
    keys = [f"{m} final x_l1" for m in COMPARED] + [HIGH_FREQUENCY]
    check_mapping("values", values, keys=keys)
    for key in keys:
        check_positive(f"values[{key!r}]", values[key])
    return {**{m: float(values[f"{m} final x_l1"]) for m in COMPARED},
            HIGH_FREQUENCY: float(values[HIGH_FREQUENCY])}


def record_evidence(record):
    """The claims' evidence from the long-budget record (``heat_record.load_record``)."""
    from . import band_power

    heat_record._check_record(record)
    check_mapping("record['methods']", record["methods"], keys=COMPARED,
                  entry_keys=("x_l1", "spectrum"))
    methods = record["methods"]
    power = {m: band_power(methods[m]["spectrum"]) for m in ("Adam", "SIP")}
    return {**{m: float(methods[m]["x_l1"][-1]) for m in COMPARED},
            HIGH_FREQUENCY: power["Adam"] / power["SIP"]}


def budget_labels(record=None):
    """(the page's budget label, the record's) as the claims tables print them."""
    from . import BOOK_BATCH, BOOK_STEPS

    if record is not None:
        heat_record._check_record(record)
    book = f"book: batch {BOOK_BATCH}, {BOOK_STEPS} steps"
    if record is None:
        return book, None
    return book, f"record: batch {record['batch']}, {record['steps']:,} steps"


def evidence(values=None):
    """{budget label: evidence}: the page's budget (``values`` of its run, or its stored
    references), then the long-budget record where the package has it."""
    if values is None:
        stored = reference.load_references(PAGE)["quantities"]
        values = {name: entry["value"] for name, entry in stored.items()}
    record = heat_record.load_record() if heat_record.RECORD_PATH.exists() else None
    book, long = budget_labels(record)
    out = {book: evidence_from(values)}
    if record is not None:
        out[long] = record_evidence(record)
    return out

