"""The discussion page (book/discussion): one table over every experiment of the book and
one table of the book's claims.

Each experiments page's module provides (the interface of the book):

- ``discussion_summary()``: rows {"experiment", "method", "metric", "value", optional
  "note"} read from that page's stored, tolerance-checked reference values
  (``references/<page>.json``), so the table does not depend on the order in which the
  pages are built and runs no training;
- ``measure_cost_per_update(repeats=3)``: {method: seconds per update}, "Adam" included,
  measured side by side on the machine that builds the book (recorded with the
  references);
- ``evidence()``: {budget label: evidence} of its claims (``claims``), shortest budget
  first, the last the largest the book has evidence for (the long-budget records
  included), from stored values only.

This module checks that they provide it (``load_modules``), joins rows and costs
(``experiment_table``), judges every claim with the registry's rule at the largest budget,
the shortest beside it (``claim_rows``), and times HIG's update at a few sizes
(``svd_timings``).
"""

import math
import types

import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import claims as registry
from .claims import markdown_cell as _cell
from . import (heat_experiments, hig_experiments, hig_oscillators_experiments, sip_experiments,
               toy_experiments, updates)
from ._checks import (check_choice, check_mapping, check_positive, check_positive_int,
                      check_records, check_seed, check_sequence, check_text)
from .common import best_seconds
from .reference import recorded_costs, stored_verdicts

PAGE = "discussion"
# The experiments modules of the pages that train, in the book's reading order.
EXPERIMENT_MODULES = (
    toy_experiments,
    sip_experiments,
    heat_experiments,
    hig_experiments,
    hig_oscillators_experiments,
)
INTERFACE = ("discussion_summary", "measure_cost_per_update", "evidence")
ROW_KEYS = ("experiment", "method", "metric", "value")
BASELINE = "Adam"
# (rows of the stacked Jacobian B·dim_y, parameters): the sizes HIG's update is timed at,
# from wide Jacobians (rows < parameters) to tall ones.
SVD_SIZES = ((32, 1024), (128, 1024), (512, 1024), (1024, 1024), (2048, 1024), (128, 8192))


def load_modules(modules=EXPERIMENT_MODULES):
    """The experiments modules whose rows the page shows (default: every page's, in book
    order), as a list, each checked for the discussion interface: ValueError for something
    that is not a module or a module without ``discussion_summary`` and
    ``measure_cost_per_update``."""
    modules = check_sequence("modules", modules)
    for module in modules:
        if not isinstance(module, types.ModuleType):
            raise ValueError(f"modules must hold experiments modules (such as "
                             f"improved_gradients.toy_experiments), got {module!r}")
        missing = [f for f in INTERFACE if not callable(getattr(module, f, None))]
        if missing:
            raise ValueError(f"{module.__name__} lacks the discussion interface: "
                             f"{', '.join(missing)}")
    return modules


def page_name(module):
    """The page a module belongs to: its ``PAGE`` constant (the notebook's stem)."""
    page = getattr(module, "PAGE", None)
    if not isinstance(page, str) or not page:
        raise ValueError(f"module {getattr(module, '__name__', repr(module))} must define "
                         f"PAGE, the name of its notebook")
    return page


def _check_modules(modules):
    modules = check_sequence("modules", modules)
    for module in modules:
        page_name(module)
    return modules


TABLE_KEYS = ROW_KEYS + ("note", "page", "cost")
CLAIM_KEYS = ("page", "claim", "source", "value", "budget", "verdict", "label", "short",
              "changed")
TIMING_KEYS = ("rows", "params", "svd", "adam")


def _check_timings(timings):
    """The list of ``svd_timings``: dicts with "rows", "params" and positive seconds "svd"
    and "adam"."""
    timings = check_records("timings", timings, TIMING_KEYS)
    for k, t in enumerate(timings):
        for key in ("svd", "adam"):
            check_positive(f"timings[{k}][{key!r}]", t[key])
    return timings


def check_row(row, page):
    """Validate one row of ``discussion_summary()``; returns a clean copy (the row's keys
    ROW_KEYS, "note" and "page")."""
    check_text("page", page)
    if not isinstance(row, dict):
        raise ValueError(f"{page}: a summary row must be a dict, got {type(row).__name__}")
    missing = [key for key in ROW_KEYS if key not in row]
    if missing:
        raise ValueError(f"{page}: summary row {row!r} lacks {', '.join(missing)}")
    for key in ("experiment", "method", "metric"):
        if not isinstance(row[key], str) or not row[key].strip():
            raise ValueError(f"{page}: summary row field {key!r} must be a non-empty string")
    try:
        value = float(row["value"])
    except (TypeError, ValueError):
        raise ValueError(f"{page}: summary value must be a number, got {row['value']!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{page}: summary value of {row['method']} is not finite ({value})")
    note = row.get("note", "") or ""
    if not isinstance(note, str):
        raise ValueError(f"{page}: note must be a string, got {note!r}")
    return {**{key: row[key] for key in ROW_KEYS}, "value": value, "note": note, "page": page}


def summary_rows(modules):
    """All rows of every module's ``discussion_summary()``, validated, each with its page."""
    modules = _check_modules(modules)
    rows = []
    for module in modules:
        page = page_name(module)
        page_rows = module.discussion_summary()
        if not isinstance(page_rows, (list, tuple)) or not page_rows:
            raise ValueError(f"{page}: discussion_summary() must return a non-empty list")
        rows.extend(check_row(row, page) for row in page_rows)
    return rows


def measure_costs(modules):
    """{page: {method: seconds per update}}: the costs each page measured side by side and
    stored with its references when they were written (``reference.record_costs``), so
    this page measures nothing itself; {} for a page that records none (the toy)."""
    modules = _check_modules(modules)
    costs = {}
    for module in modules:
        page = page_name(module)
        stored = recorded_costs(page)
        measured = {} if stored is None else stored["seconds_per_update"]
        if measured and BASELINE not in measured:
            raise ValueError(f"{page}: the recorded costs must include {BASELINE!r}, got {measured!r}")
        costs[page] = {method: float(seconds) for method, seconds in measured.items()}
    return costs


def cost_provenance(modules):
    """{page: "machine, date"} of the recorded costs."""
    modules = _check_modules(modules)
    provenance = {}
    for module in modules:
        stored = recorded_costs(page_name(module))
        if stored is not None:
            provenance[page_name(module)] = f"{stored['machine']}, {stored['date']}"
    return provenance


def relative_costs(costs):
    """{page: {method: seconds / seconds of Adam on the same page}}: ``costs`` as
    ``measure_costs`` returns them ({page: {method: seconds > 0}}, each non-empty page with
    Adam)."""
    check_mapping("costs", costs)
    for page, measured in costs.items():
        check_mapping(f"costs[{page!r}]", measured, min_size=0)
        if measured and BASELINE not in measured:
            raise ValueError(f"costs[{page!r}] must include {BASELINE!r}, got {measured!r}")
        for method, seconds in measured.items():
            check_positive(f"costs[{page!r}][{method!r}]", seconds)
    return {page: {method: seconds / measured[BASELINE] for method, seconds in measured.items()}
            for page, measured in costs.items() if measured}


def experiment_table(rows, costs):
    """The rows with the cost per update relative to Adam of the same page ("cost": None
    where a page did not measure that method)."""
    check_records("rows", rows, ("page", "method"))
    relative = relative_costs(costs)
    return [{**row, "cost": relative.get(row["page"], {}).get(row["method"])} for row in rows]


def format_table(table):
    """The table as Markdown: page, problem, method, metric, value, cost; the page,
    problem and metric are written once per group of rows that share them."""
    check_records("table", table, TABLE_KEYS)
    lines = ["| page | problem | method | metric | value | cost per update (× Adam) |",
             "|---|---|---|---|---:|---:|"]
    previous = None
    for row in table:
        group = (row["page"], row["experiment"], row["metric"])
        page, problem, metric = ("", "", "") if group == previous else group
        cost = "not measured" if row["cost"] is None else f"{row['cost']:.2g}"
        lines.append(f"| {_cell(page)} | {_cell(problem)} | {_cell(row['method'])} "
                     f"| {_cell(metric)} | {row['value']:.3g} | {cost} |")
        previous = group
    return "\n".join(lines)


def page_judgements(modules):
    """{page: judgements}: every claim of every page at every budget that page has evidence
    for, as the page judged and stored them (``reference.stored_verdicts``), or judged here
    by the registry's rules on ``module.evidence()`` where the page stored none."""
    modules = _check_modules(modules)
    judgements = {}
    for module in modules:
        page = page_name(module)
        stored = stored_verdicts(page)
        judgements[page] = (stored if stored is not None
                            else registry.judge_page(page, module.evidence()))
    return judgements


def claim_rows(judgements):
    """One row per claim: its page, statement and source, the value shown and the verdict
    at the largest budget ("budget", "value", "verdict", "label"), "short": the shortest
    budget's "<value>: <verdict>" where the page has a shorter budget too (else None), and
    "changed": whether the shortest budget's verdict differs from the largest's."""
    check_mapping("judgements", judgements)
    rows = []
    for page, by_claim in judgements.items():
        check_mapping(f"judgements[{page!r}]", by_claim)
        for row in by_claim.values():
            largest, shortest = row[-1], row[0]
            short = (None if len(row) == 1 else
                     f"{shortest.budget}: {shortest.result.shown}, {shortest.result.label}")
            rows.append({"page": page, "claim": largest.claim.statement,
                         "source": largest.claim.source, "value": largest.result.shown,
                         "budget": largest.budget, "verdict": largest.result.verdict,
                         "label": largest.result.label, "short": short,
                         "changed": shortest.result.verdict != largest.result.verdict})
    return rows


def format_claims(rows, verdicts=registry.VERDICTS):
    """The claims whose largest-budget verdict is in ``verdicts`` as a Markdown table:
    claim with its page, source value, book value, budget, verdict, and the shortest
    budget's verdict."""
    check_records("rows", rows, CLAIM_KEYS, min_size=0)
    verdicts = [check_choice("verdict", v, registry.VERDICTS)
                for v in check_sequence("verdicts", verdicts, min_size=0)]
    lines = ["| claim (page) | source | book value | budget | verdict | shortest budget |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        if row["verdict"] in verdicts:
            lines.append(f"| {_cell(row['claim'])} (*{row['page']}*) | {_cell(row['source'])} "
                         f"| {_cell(row['value'])} | {_cell(row['budget'])} "
                         f"| **{row['label']}** | {_cell(row['short'] or 'the same')} |")
    return "\n".join(lines)


def verdict_counts(rows):
    """{verdict: number of claims with that verdict at their largest budget}."""
    check_records("rows", rows, ("verdict",), min_size=0)
    return {verdict: sum(row["verdict"] == verdict for row in rows) for verdict in registry.VERDICTS}


def cost_range(table, prefix):
    """(lowest, highest) measured cost relative to Adam of the methods whose name starts
    with ``prefix`` (e.g. "SIP", "HIG"), over all pages; None if none was measured."""
    check_records("table", table, ("method", "cost"))
    check_text("prefix", prefix)
    values = [row["cost"] for row in table
              if row["method"].startswith(prefix) and row["cost"] is not None]
    return (min(values), max(values)) if values else None


def hig_crossing_times():
    """{seed: measured seconds after which HIG's test loss stays below Adam's, or None}
    on the paper's nonlinear chain of coupled oscillators, from the page's long-budget
    record (``hig_oscillators_experiments.record``)."""
    from .hig_oscillators_experiments import record

    return record.crossing_times(record.load_record("nonlinear"))


def svd_timings(sizes=SVD_SIZES, repeats=3, seed=0):
    """Seconds per HIG update (``updates.svd_power_update_kernel``, jitted: the float64
    Gram-matrix eigendecomposition of a random float32 Jacobian) and per Adam update of
    the same number of parameters, at each (rows, parameters) size; the best of
    ``repeats`` after one warm-up call. Returns [{"rows", "params", "svd", "adam"}]."""
    repeats = check_positive_int("repeats", repeats)
    seed = check_seed("seed", seed)
    checked = []
    for size in check_sequence("sizes", sizes):
        if (not isinstance(size, (tuple, list)) or len(size) != 2
                or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1
                           for s in size)):
            raise ValueError(f"sizes must be (rows, parameters) pairs of integers >= 1, got {size!r}")
        checked.append((int(size[0]), int(size[1])))
    hig = jax.jit(lambda jac, g: updates.svd_power_update_kernel(jac, g, -0.5, 1e-6, 1.0,
                                                                 "truncate"))
    adam = optax.adam(1e-3)
    adam_step = jax.jit(lambda grad, state: adam.update(grad, state))
    key = jax.random.PRNGKey(seed)
    results = []
    for rows, params in checked:
        key, k_jac, k_g = jax.random.split(key, 3)
        jac = jax.random.normal(k_jac, (rows, params), jnp.float32)
        g = jax.random.normal(k_g, (rows,), jnp.float32)
        grad = jac.T @ g
        state = adam.init(grad)
        results.append({"rows": rows, "params": params,
                        "svd": best_seconds(lambda: hig(jac, g), repeats),
                        "adam": best_seconds(lambda: adam_step(grad, state), repeats)})
    return results


def svd_scaling_exponents(timings, params):
    """Local exponents p of t ∝ rows^p between successive row counts at ``params``
    parameters: [(rows_from, rows_to, p)]. The Gram-matrix route predicts p between 2 (J Jᵀ)
    and 3 (its eigendecomposition) while rows < parameters, and about 1 beyond (the
    parameter-side Gram matrix JᵀJ has a fixed size; only forming it grows with the rows)."""
    timings = _check_timings(timings)
    params = check_positive_int("params", params)
    points = sorted((t["rows"], t["svd"]) for t in timings if t["params"] == params)
    if len(points) < 2:
        raise ValueError(f"need timings at two or more row counts with {params} parameters")
    return [(r0, r1, float(np.log(t1 / t0) / np.log(r1 / r0)))
            for (r0, t0), (r1, t1) in zip(points, points[1:])]


def format_svd_timings(timings):
    """The timings as a Markdown table (rows, parameters, ms per update, × Adam, and the
    local exponent from the previous row count at the same parameters)."""
    timings = _check_timings(timings)
    exponents = {(t["params"], r1): p for t in timings
                 for r0, r1, p in (svd_scaling_exponents(timings, t["params"])
                                   if sum(u["params"] == t["params"] for u in timings) > 1 else [])}
    lines = ["| Jacobian rows B·dim_y | parameters | HIG update (ms) | × Adam update "
             "| local exponent p |", "|---:|---:|---:|---:|---:|"]
    for t in timings:
        p = exponents.get((t["params"], t["rows"]))
        lines.append(f"| {t['rows']} | {t['params']} | {1e3 * t['svd']:.3g} "
                     f"| {t['svd'] / t['adam']:.3g} | {'' if p is None else f'{p:.2g}'} |")
    return "\n".join(lines)
