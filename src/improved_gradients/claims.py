"""The book's claims: one record each, the one place verdicts come from.

A claim (``Claim``) holds what a paper or the source book states, the source's value
with its citation, the quantity of the book that tests it, the rule that turns that
quantity into a verdict (its thresholds and why these), and ``judge``: the computation of
the rule. Every page module registers its claims here when it is imported
(``register``); a page shows its claims with ``judge_page`` on the evidence of its own
runs and stores what it found with its references (``reference.record_verdicts``, when
the notebooks are written); the discussion page shows those stored verdicts
(``from_stored``), so a verdict is computed by one piece of code, once, and reads the same
wherever it appears. Prose refers to a claim
by its name (``glue_verdicts``), never by position.

Verdicts climb one ladder (``ladder``): "yes", "partly", "no"; a quantity within
``THRESHOLD_BAND`` of a threshold is marked "at the threshold", because another machine
can move it across (the smallest tolerance the book checks a training outcome with is
×1.05, see ``reference``).
"""

import dataclasses
import math
import re
from collections.abc import Callable, Mapping

from ._checks import check_choice, check_mapping, check_number, check_sequence, check_text

VERDICTS = ("yes", "partly", "no", "not run")
# The sources a claim may cite ({cite:p}`key` in its ``source``), as a table cell shows
# them: a cell printed by code is rendered without roles (GFM), so ``plain`` writes the
# citation out. The keys are those of references.bib (a test checks it).
CITATIONS = {"holl2022sip": "Holl et al. 2022", "schnell2022hig": "Schnell et al. 2022",
             "thuerey2021pbdl": "Thuerey et al. 2021"}
# A value within this factor of a threshold sits on it (the smallest tolerance of a
# checked training outcome, reference.MIN_FACTOR).
THRESHOLD_BAND = 1.05


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What a rule gives: the tested ``value``, its text ``shown``, the ``verdict`` (one of
    VERDICTS) and whether the value sits within THRESHOLD_BAND of a threshold."""

    value: float
    shown: str
    verdict: str
    at_threshold: bool = False

    def __post_init__(self):
        check_choice("verdict", self.verdict, VERDICTS)
        check_text("shown", self.shown)

    @property
    def label(self):
        """The verdict as the pages print it: "yes", or "yes (at the threshold)"."""
        return f"{self.verdict} (at the threshold)" if self.at_threshold else self.verdict


@dataclasses.dataclass(frozen=True)
class Claim:
    """One claim of a source, tested by the book.

    ``name`` (unique, "page/short-name"), ``page`` (the notebook's stem), ``statement``
    (the claim in words), ``source`` (the source's value, with a ``{cite}`` key),
    ``quantity`` (what the book measures), ``rule`` (thresholds and why), and ``judge``:
    evidence (a mapping of the numbers the rule needs) -> ``Verdict``."""

    name: str
    page: str
    statement: str
    source: str
    quantity: str
    rule: str
    judge: Callable[[Mapping], Verdict]

    def __post_init__(self):
        for field in ("name", "page", "statement", "source", "quantity", "rule"):
            check_text(field, getattr(self, field))
        if not self.name.startswith(self.page + "/"):
            raise ValueError(f"a claim's name must start with its page, "
                             f"'{self.page}/...', got {self.name!r}")
        if not callable(self.judge):
            raise ValueError(f"judge must be a function evidence -> Verdict, got {self.judge!r}")


@dataclasses.dataclass(frozen=True)
class Judgement:
    """A claim judged on the evidence of one budget (its label, e.g. "book, 200 steps")."""

    claim: Claim
    budget: str
    result: Verdict


_REGISTRY: dict[str, Claim] = {}


def register(claim):
    """Add ``claim`` to the registry (at import of its page module); returns it. A second
    claim with the same name is a ValueError unless it is the same record."""
    if not isinstance(claim, Claim):
        raise ValueError(f"claim must be a claims.Claim, got {type(claim).__name__}")
    known = _REGISTRY.get(claim.name)
    if known is not None and known != claim:
        raise ValueError(f"a different claim named {claim.name!r} is registered already")
    _REGISTRY[claim.name] = claim
    return claim


def claim(name):
    """The registered claim ``name`` (ValueError lists the known names)."""
    check_choice("claim", name, tuple(_REGISTRY))
    return _REGISTRY[name]


def page_claims(page):
    """The claims of ``page`` in the order its module registered them."""
    check_text("page", page)
    found = [c for c in _REGISTRY.values() if c.page == page]
    if not found:
        pages = sorted({c.page for c in _REGISTRY.values()})
        raise ValueError(f"no claims registered for page {page!r}; pages with claims: "
                         f"{', '.join(pages)}")
    return found


def judge(name, evidence, budget):
    """``Judgement`` of claim ``name`` on ``evidence`` (a mapping), labelled ``budget``."""
    check_mapping("evidence", evidence, min_size=0)
    result = claim(name).judge(evidence)
    if not isinstance(result, Verdict):
        raise ValueError(f"the judge of {name!r} must return a claims.Verdict, got {result!r}")
    return Judgement(claim(name), check_text("budget", budget), result)


def judge_page(page, evidence_by_budget):
    """Every claim of ``page`` at every budget: ``evidence_by_budget`` maps a budget label
    to the evidence of that budget (shortest first); returns {claim name: [Judgement per
    budget]}."""
    check_mapping("evidence_by_budget", evidence_by_budget)
    return {c.name: [judge(c.name, evidence, budget)
                     for budget, evidence in evidence_by_budget.items()]
            for c in page_claims(page)}


def to_stored(judgements):
    """``judge_page``'s result as plain data for a page's references file:
    {claim name: {budget: {"value", "shown", "verdict", "at_threshold"}}}."""
    check_mapping("judgements", judgements)
    stored = {}
    for name, row in judgements.items():
        check_sequence(f"judgements[{name!r}]", row)
        stored[name] = {j.budget: {"value": float(j.result.value), "shown": j.result.shown,
                                   "verdict": j.result.verdict,
                                   "at_threshold": bool(j.result.at_threshold)} for j in row}
    return stored


def from_stored(stored):
    """The judgements ``to_stored`` wrote, as ``judge_page`` returns them (each claim must
    still be registered: a stored verdict of a claim that no longer exists is an error)."""
    check_mapping("stored", stored)
    judgements = {}
    for name, by_budget in stored.items():
        check_mapping(f"stored[{name!r}]", by_budget)
        judgements[name] = [
            Judgement(claim(name), check_text("budget", budget),
                      Verdict(entry["value"], entry["shown"], entry["verdict"],
                              entry["at_threshold"]))
            for budget, entry in by_budget.items()]
    return judgements


def ladder(value, yes, partly=None, *, higher=True):
    """The verdict of ``value`` against two thresholds: with ``higher`` (a larger value is
    better) "yes" if value >= yes, "partly" if value >= partly, else "no"; with
    ``higher=False`` the same with <=. ``partly=None``: no middle rung. Returns (verdict,
    at_threshold), at_threshold when the value lies within THRESHOLD_BAND of a
    threshold."""
    value = check_number("value", value)
    yes = check_number("yes", yes)
    thresholds = [yes] if partly is None else [yes, check_number("partly", partly)]
    if partly is not None and (partly > yes if higher else partly < yes):
        raise ValueError(f"partly ({partly:g}) must be on the far side of yes ({yes:g}) "
                         f"from a good value (higher={higher})")

    def passes(threshold):
        return value >= threshold if higher else value <= threshold

    verdict = "yes" if passes(yes) else "partly" if partly is not None and passes(partly) else "no"
    return verdict, any(near(value, t) for t in thresholds)


def graded(value, shown, yes, partly=None, *, higher=True):
    """``Verdict(value, shown, *ladder(value, yes, partly, higher=higher))``: a claim whose
    verdict is its quantity against the two thresholds of a ladder."""
    return Verdict(check_number("value", value), check_text("shown", shown),
                   *ladder(value, yes, partly, higher=higher))


def near(value, threshold):
    """Whether ``value`` lies within THRESHOLD_BAND of ``threshold`` (a factor, both
    positive; for a threshold of zero or a value of another sign, never)."""
    value, threshold = check_number("value", value), check_number("threshold", threshold)
    if value <= 0 or threshold <= 0:
        return False
    return max(value / threshold, threshold / value) <= THRESHOLD_BAND


def within_factor(value, target, yes=2.0, partly=4.0):
    """Verdict of "value ≈ target": "yes" within a factor ``yes`` of it, "partly" within
    ``partly``; returns (verdict, at_threshold, factor)."""
    value, target = check_number("value", value), check_number("target", target)
    if value <= 0 or target <= 0:
        raise ValueError(f"value and target must be positive, got {value:g} and {target:g}")
    factor = max(value / target, target / value)
    verdict, at_threshold = ladder(factor, yes, partly, higher=False)
    return verdict, at_threshold, factor


def combine(*ladders):
    """One verdict from several rungs that must all hold (each (verdict, at_threshold)):
    the worst verdict; at the threshold if a rung that decides it is."""
    ladders = check_sequence("ladders", ladders)
    for k, rung in enumerate(ladders):
        if not (isinstance(rung, (tuple, list)) and len(rung) == 2
                and isinstance(rung[0], str) and rung[0] in ("yes", "partly", "no")):
            raise ValueError(f"ladders[{k}] must be a pair (verdict, at_threshold) with the "
                             f"verdict yes, partly or no (what ladder returns), got {rung!r}")
    order = {"yes": 0, "partly": 1, "no": 2}
    worst = max(order[v] for v, _ in ladders)
    verdict = next(v for v, o in order.items() if o == worst)
    return verdict, any(at for v, at in ladders if order[v] == worst or at and v != "yes")


def not_run(reason):
    """The verdict of a claim whose evidence this budget does not have."""
    return Verdict(math.nan, check_text("reason", reason), "not run")


def verdict_table(judgements, *, columns=None):
    """A GFM table (text) of ``judge_page``'s result: per claim the statement, the source,
    and per budget the value shown and the verdict. ``columns`` (optional) picks budgets."""
    check_mapping("judgements", judgements)
    budgets = [j.budget for j in next(iter(judgements.values()))]
    columns = budgets if columns is None else [check_choice("column", c, tuple(budgets))
                                               for c in check_sequence("columns", columns)]
    head = "| claim | source | " + " | ".join(columns) + " |"
    lines = [head, "|" + "---|" * (2 + len(columns))]
    for name, row in judgements.items():
        by_budget = {j.budget: j.result for j in row}
        cells = [f"{by_budget[b].shown}: **{by_budget[b].label}**" for b in columns]
        c = row[0].claim
        lines.append(f"| {markdown_cell(c.statement)} | {markdown_cell(c.source)} | "
                     + " | ".join(markdown_cell(x) for x in cells) + " |")
    return "\n".join(lines)


def rules_list(page):
    """The rules of ``page``'s claims as a Markdown list (claim: rule)."""
    return "\n".join(f"- *{markdown_cell(c.statement)}*: {c.rule}" for c in page_claims(page))


def glue_names(judgements):
    """{glue name: verdict label} for every judgement: ``glue_name(claim name, budget)``, so
    prose pastes a verdict by name."""
    check_mapping("judgements", judgements)
    names = {}
    for name, row in judgements.items():
        for j in row:
            key = glue_name(name, j.budget)
            if key in names:
                raise ValueError(f"two budgets of {name!r} share the short name of "
                                 f"{j.budget!r} (the part before ':' or '('): name them apart")
            names[key] = j.result.label
    return names


def glue_name(name, budget):
    """The glue name of a claim's verdict at a budget: "verdict_<page>_<claim>_<budget>"
    in letters, digits and single underscores (what ``notebook.glue`` accepts), the budget
    by its short name, the part of its label before a ':' or '(' ("book: batch 8, 200
    steps" -> "book"), so that prose does not change with a budget's details."""
    from .notebook import glue_key

    key = re.split(r"[:(]", check_text("budget", budget))[0].strip() or budget
    return glue_key(f"verdict_{check_text('name', name)}_{key}")


def plain(text):
    """``text`` with each {cite}`key` / {cite:p}`key` role written out as "(Author year)"."""
    def cite(match):
        keys = [k.strip() for k in match.group(1).split(",")]
        check_sequence("citation keys", [check_choice("citation key", k, tuple(CITATIONS))
                                         for k in keys])
        return "(" + "; ".join(CITATIONS[k] for k in keys) + ")"

    return re.sub(r"\{cite(?::[pt])?\}`([^`]+)`", cite, check_text("text", text, empty=True))


def markdown_cell(text):
    """``text`` (any value, as ``str``) as one cell of a GFM table: citations written out
    (``plain``), pipes escaped, line breaks as spaces."""
    return plain(str(text)).replace("|", "\\|").replace("\n", " ")
