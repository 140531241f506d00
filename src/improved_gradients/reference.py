"""Reference values of the book's training outcomes, checked with measured tolerances.

The reproducibility policy (README, "Reproducibility"): deterministic outputs are compared
exactly by nbval; outcomes of long float32 training runs, which differ between CPUs in
their last digits and, after thousands of steps, in their second or third digit, are
checked here against reference values stored in ``references/<page>.json`` (package
data, so a Colab runtime has them too), each with a tolerance derived from the spread
measured over machine configurations (``make spread``).

A quantity is positive by default and compared by a factor: it passes if
reference / f ≤ value ≤ reference · f. Quantities named in ``absolute`` (signed, or
near zero) pass if |value − reference| ≤ a. The tolerance is
``max(MARGIN × measured spread, floor)``. A quantity whose factor would exceed
``FACTOR_CEILING`` cannot be checked so that a result that really changes (doubles,
halves) still fails: it is marked unstable (its measured spread is kept and shown) and not
checked; a page states which of its numbers are unstable across machines, and asserts
only what holds for all of them.

The spread behind each tolerance is measured by ``make spread`` over the configurations
of ``machine.SPREAD_CONFIGURATIONS`` (four few-ulp perturbations of the initial
parameters, another instruction set and the test build's configuration), together with
the pins' own values that ``make notebooks`` records on the measuring CPU. Such a
perturbation moves a chaotic training outcome about as much as another CPU does; a spread
over instruction sets on one CPU does not (``machine``). Where a page runs several seeds,
it passes the per-seed values too, and their spread is stored and shown beside the
tolerance.

The environment variable ``IMPROVED_GRADIENTS_REFERENCES`` selects the mode:
``check`` (``make book``, ``make test`` and CI set it) raises ``ReferenceMismatch`` for a
value outside its tolerance; ``note`` (the default: a reader in Colab, on a GPU or in their
own Jupyter) shows such a value as a visible note beside the result and goes on;
``write`` stores the values as the new references (``make notebooks``), keeping the
tolerances; ``record`` only records. With ``IMPROVED_GRADIENTS_RECORD=<file>`` every value
is also appended to that JSON-lines file (``make spread`` collects them).
"""

import datetime
import html
import json
import math
import os
import pathlib

from . import machine
from .common import provenance

REFERENCE_DIR = pathlib.Path(__file__).resolve().parent / "references"
MODE_VARIABLE = "IMPROVED_GRADIENTS_REFERENCES"
RECORD_VARIABLE = "IMPROVED_GRADIENTS_RECORD"
CONFIG_VARIABLE = "IMPROVED_GRADIENTS_CONFIG"
MODES = ("check", "note", "write", "record")
DEFAULT_MODE = "note"

# tolerance = max(MARGIN × largest deviation seen between configurations, floor)
MARGIN = 2.0
FACTOR_FLOOR = 1.05
FACTOR_CEILING = 1.8


class ReferenceMismatch(AssertionError):
    """A training outcome left its tolerance around the stored reference value."""


def _mode():
    mode = os.environ.get(MODE_VARIABLE) or DEFAULT_MODE
    if mode not in MODES:
        raise ValueError(f"{MODE_VARIABLE}={mode!r} is not a mode; known: {', '.join(MODES)}")
    return mode


def reference_path(page):
    if not isinstance(page, str) or not page or "/" in page:
        raise ValueError(f"page must be a page name such as 'hig-toy', got {page!r}")
    return REFERENCE_DIR / f"{page}.json"


def load_references(page):
    """The stored references of ``page``: {"provenance": {...}, "quantities": {name: {...}}}."""
    path = reference_path(page)
    if not path.exists():
        return {"page": page, "provenance": {}, "quantities": {}}
    return json.loads(path.read_text())


def _save(page, stored):
    stored["provenance"] = provenance(
        written_by="make notebooks (IMPROVED_GRADIENTS_REFERENCES=write)")
    REFERENCE_DIR.mkdir(exist_ok=True)
    reference_path(page).write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n")


def _check_entry(entry):
    if not isinstance(entry, dict) or "value" not in entry:
        raise ValueError(f"entry must be a stored quantity {{'value': ..., 'tolerance': ...}}, "
                         f"got {entry!r}")
    if entry.get("kind", "factor") not in ("factor", "abs"):
        raise ValueError(f"unknown entry kind {entry.get('kind')!r}; known: factor, abs")


def _check_real(name, value):
    if isinstance(value, (bool, str, bytes)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def within(value, entry):
    """Whether ``value`` lies within the tolerance of the stored ``entry`` (an unstable
    entry is not checked and passes)."""
    value = _check_real("value", value)
    _check_entry(entry)
    if entry.get("unstable"):
        return True
    tolerance, reference = entry.get("tolerance"), entry["value"]
    if tolerance is None:
        return False
    if entry.get("kind", "factor") == "abs":
        return abs(value - reference) <= tolerance
    return value > 0 and reference > 0 and abs(math.log(value / reference)) <= math.log(tolerance)


def describe_tolerance(entry):
    _check_entry(entry)
    if entry.get("unstable"):
        return f"not checked: unstable, ×{entry['spread']['value']:.3g} across machines"
    tolerance = entry.get("tolerance")
    if tolerance is None:
        return "not measured"
    return f"± {tolerance:.2g}" if entry.get("kind", "factor") == "abs" else f"×/÷ {tolerance:.3g}"


TOLERANCE_NOTE = (
    f"Each tolerance is twice the largest deviation measured when the page ran on simulated "
    f"other machines (few-ulp perturbations of the initial networks and another instruction "
    f"set: make spread), at least ×{FACTOR_FLOOR}. The seed spread is max/min of the same "
    f"quantity over the page's seeds; a tolerance narrower than it is no contradiction: each "
    f"seed's run is repeatable up to the machine's last bits, and the statistic (a median) "
    f"is measured as a whole.")


class OutcomeCheck:
    """The result of ``check_outcomes``. Its text and HTML show one line a reader can act
    on (how many outcomes lie within their measured tolerance, or a note naming each one
    that does not) and fold the table of value, reference, tolerance and seed spread."""

    def __init__(self, page, rows, mode, seed_spreads=None):
        self.page, self.rows, self.mode = page, rows, mode
        self.seed_spreads = seed_spreads or {}

    def outside(self):
        """The rows (name, value, entry) outside their tolerance (unstable ones excluded)."""
        return [(name, value, entry) for name, value, entry, ok in self.rows
                if entry is not None and not ok and not entry.get("unstable")]

    def summary(self):
        """One line: the count within tolerance, and what is not checked by value."""
        checked = [row for row in self.rows if row[2] is not None and not row[2].get("unstable")]
        unstable = len([row for row in self.rows if (row[2] or {}).get("unstable")])
        if self.mode == "write":
            return f"{len(self.rows)} training outcomes written as the new references"
        if self.mode == "record":
            return f"{len(self.rows)} training outcomes recorded (not checked)"
        text = (f"{len(checked) - len(self.outside())} of {len(checked)} training outcomes "
                f"within the tolerance measured across machines")
        if unstable:
            text += f"; {unstable} not checked by value (their spread across machines is too wide)"
        return text

    def notes(self):
        """One sentence per outcome outside its tolerance (shown, in "note" mode)."""
        return [f"Note: your value of {name} is {value:.4g}; it differs from the book's "
                f"{entry['value']:.4g} beyond the spread measured across machines "
                f"({describe_tolerance(entry)})." for name, value, entry in self.outside()]

    def table_rows(self):
        """[(quantity, this run, reference, tolerance, seed spread, status)] as strings."""
        rows = []
        for name, value, entry, ok in self.rows:
            reference = "(new)" if entry is None else f"{entry['value']:.4g}"
            tolerance = "" if entry is None else describe_tolerance(entry)
            spread = self.seed_spreads.get(name, (entry or {}).get("seed_spread"))
            seeds = "" if spread is None else f"×{spread:.3g}"
            status = ""
            if self.mode in ("check", "note") and entry is not None and not entry.get("unstable"):
                status = "ok" if ok else "OUTSIDE"
            rows.append((name, f"{value:.4g}", reference, tolerance, seeds, status))
        return rows

    HEADER = ("quantity", "this run", "reference", "tolerance", "seed spread", "")

    def __repr__(self):
        rows = [self.HEADER, *self.table_rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(self.HEADER))]
        lines = [self.summary(), *self.notes()]
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                  for row in rows]
        return "\n".join(lines)

    def _repr_html_(self):
        def row(cells, tag="td"):
            return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"

        notes = "".join(f'<p class="outcome-note"><strong>{html.escape(note)}</strong></p>'
                        for note in self.notes())
        table = ("<table>" + row(self.HEADER, "th")
                 + "".join(row(cells) for cells in self.table_rows()) + "</table>")
        return (f"{notes}<details><summary>{html.escape(self.summary())} (details)</summary>"
                f"{table}<p>{html.escape(TOLERANCE_NOTE)}</p></details>")


def _seed_spread(name, values, kind):
    try:
        numbers = [_check_real(f"seed_values[{name!r}]", v) for v in values]
    except TypeError:
        raise ValueError(f"seed_values[{name!r}] must be a list of numbers, got {values!r}") from None
    if len(numbers) < 2:
        raise ValueError(f"seed_values[{name!r}] must hold at least two seeds' values")
    if kind == "abs":
        return max(numbers) - min(numbers)
    if min(numbers) <= 0:
        raise ValueError(f"seed_values[{name!r}] must be positive (a factor quantity)")
    return max(numbers) / min(numbers)


def _outcome_numbers(values, absolute, seed_values):
    """``check_outcomes``'s arguments checked: ({name: float}, {name: seed spread})."""
    if not isinstance(values, dict) or not values:
        raise ValueError("values must be a non-empty dict {name: number}")
    if isinstance(absolute, (str, bytes)) or not all(isinstance(n, str) for n in absolute):
        raise ValueError(f"absolute must be a tuple of quantity names, got {absolute!r}")
    unknown = set(absolute) - set(values)
    if unknown:
        raise ValueError(f"absolute names quantities that are not in values: {sorted(unknown)}")
    numbers = {}
    for name, value in values.items():
        try:
            numbers[name] = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"value of {name!r} must be a number, got {value!r}") from None
        if not math.isfinite(numbers[name]):
            raise ValueError(f"value of {name!r} is not finite ({value!r}): the run diverged")
    if seed_values is not None and not isinstance(seed_values, dict):
        raise ValueError(f"seed_values must be a dict {{name: [value per seed]}}, got {seed_values!r}")
    unknown = set(seed_values or {}) - set(values)
    if unknown:
        raise ValueError(f"seed_values names quantities that are not in values: {sorted(unknown)}")
    seed_spreads = {name: _seed_spread(name, per_seed, "abs" if name in absolute else "factor")
                    for name, per_seed in (seed_values or {}).items()}
    return numbers, seed_spreads


def check_outcomes(page, values, *, absolute=(), seed_values=None):
    """Check training outcomes of ``page`` against their stored references.

    values: {name: float}. Names in ``absolute`` are compared by absolute difference, the
    others (positive) by a factor. seed_values: {name: [value per seed]} for quantities
    that are statistics over seeds (their max/min is stored and shown). In "check" mode
    raises ``ReferenceMismatch`` listing every value outside its tolerance, and for a
    quantity without a stored reference or tolerance; in "note" mode returns them as
    notes. Returns an ``OutcomeCheck`` (its display: a summary line, the folded table).
    """
    reference_path(page)
    numbers, seed_spreads = _outcome_numbers(values, absolute, seed_values)
    mode = _mode()
    _record(page, numbers, absolute, seed_spreads)
    stored = load_references(page)
    quantities = stored.setdefault("quantities", {})
    rows = []
    for name, value in numbers.items():
        entry = quantities.get(name)
        rows.append((name, value, entry, entry is not None and within(value, entry)))
    if mode == "write":
        for name, value in numbers.items():
            entry = quantities.setdefault(name, {"tolerance": None, "spread": None})
            entry.update(value=value, kind="abs" if name in absolute else "factor")
            if name in seed_spreads:
                entry["seed_spread"] = seed_spreads[name]
        _save(page, stored)
        rows = [(name, value, quantities[name], True) for name, value in numbers.items()]
    elif mode == "check":
        failed = [(name, value, entry) for name, value, entry, ok in rows if not ok]
        if failed:
            lines = []
            for name, value, entry in failed:
                if entry is None:
                    lines.append(f"{name}: no stored reference (run `make notebooks`)")
                elif entry.get("tolerance") is None:
                    lines.append(f"{name}: no measured tolerance (run `make spread`)")
                else:
                    lines.append(f"{name}: {value:.4g}, reference {entry['value']:.4g} "
                                 f"{describe_tolerance(entry)}")
            raise ReferenceMismatch(f"{page}: training outcomes outside their tolerance:\n  "
                                    + "\n  ".join(lines))
    return OutcomeCheck(page, rows, mode, seed_spreads)


def record_costs(page, seconds_per_update):
    """Store a page's measured seconds per update ({method: seconds}) with its references,
    in "write" mode only (``make notebooks``), with the machine that measured them; the
    discussion page reads them from there. Timings are never checked. Returns the dict."""
    if not isinstance(seconds_per_update, dict) or not seconds_per_update:
        raise ValueError("seconds_per_update must be a non-empty dict {method: seconds}")
    costs = {}
    for method, seconds in seconds_per_update.items():
        try:
            costs[str(method)] = float(seconds)
        except (TypeError, ValueError):
            raise ValueError(f"the cost of {method!r} must be a number, got {seconds!r}") from None
        if not math.isfinite(costs[str(method)]) or costs[str(method)] <= 0:
            raise ValueError(f"the cost of {method!r} must be positive and finite, got {seconds!r}")
    if _mode() == "write":
        stored = load_references(page)
        stored["costs"] = {"seconds_per_update": costs, "machine": machine.describe(),
                           "date": datetime.date.today().isoformat()}
        _save(page, stored)
    return seconds_per_update


def record_verdicts(page, judgements):
    """Store the verdicts a page computed (``claims.judge_page`` on its own runs and
    records) with its references, in "write" mode only (``make notebooks``); the
    discussion page shows them (``stored_verdicts``). Returns ``judgements``."""
    from . import claims

    stored = claims.to_stored(judgements)
    for name in stored:
        if claims.claim(name).page != page:
            raise ValueError(f"the claim {name!r} is not a claim of the page {page!r}")
    if _mode() == "write":
        references = load_references(page)
        references["verdicts"] = stored
        _save(page, references)
    return judgements


def stored_verdicts(page):
    """The judgements the page stored (``record_verdicts``), or None if it stored none."""
    from . import claims

    stored = load_references(page).get("verdicts")
    return None if stored is None else claims.from_stored(stored)


def stored_spread(page, name):
    """The spread of quantity ``name`` of ``page`` measured across machines (``make
    spread``): the largest factor (or absolute difference) by which it moved; for prose
    about a quantity that is too chaotic to check by value."""
    entry = load_references(page)["quantities"].get(name)
    if entry is None or not entry.get("spread"):
        raise ValueError(f"{page}: no measured spread of {name!r} (run `make spread`)")
    return float(entry["spread"]["value"])


def tolerance(page, name):
    """The factor tolerance of quantity ``name`` of ``page`` (a checked-by-value quantity):
    how far, as a factor, another machine may move it; for checks that compare like with
    like, such as a re-run of a stored record's prefix."""
    entry = load_references(page)["quantities"].get(name)
    if entry is None or entry.get("unstable") or entry.get("kind", "factor") != "factor" \
            or entry.get("tolerance") is None:
        raise ValueError(f"{page}: {name!r} has no factor tolerance (a stored quantity "
                         f"checked by value is needed)")
    return float(entry["tolerance"])


def recorded_costs(page):
    """{"seconds_per_update": {method: seconds}, "machine", "date"} as stored by
    ``record_costs``, or None if the page recorded none."""
    return load_references(page).get("costs")


def _record(page, numbers, absolute, seed_spreads):
    path = os.environ.get(RECORD_VARIABLE)
    if not path:
        return
    config = os.environ.get(CONFIG_VARIABLE, "default")
    with open(path, "a") as out:
        for name, value in numbers.items():
            item = {"page": page, "name": name, "value": value, "config": config,
                    "kind": "abs" if name in absolute else "factor",
                    "machine": machine.describe()}
            if name in seed_spreads:
                item["seed_spread"] = seed_spreads[name]
            out.write(json.dumps(item) + "\n")


def deviation(value, reference, kind):
    """How far ``value`` is from ``reference``: |log ratio| (factor) or |difference| (abs)."""
    value, reference = _check_real("value", value), _check_real("reference", reference)
    if kind not in ("abs", "factor"):
        raise ValueError(f"unknown kind {kind!r}; known: factor, abs")
    if kind == "abs":
        return abs(value - reference)
    if value <= 0 or reference <= 0:
        return math.inf
    return abs(math.log(value / reference))


def _stored_deviations(entry):
    """{configuration: deviation} already stored with ``entry`` (log factor or absolute).
    An entry from before per-configuration spreads keeps its maximum under one label."""
    spread = entry.get("spread") or {}
    kind = entry.get("kind", "factor")
    to_deviation = (lambda v: v) if kind == "abs" else math.log
    if "by_config" in spread:
        return {config: to_deviation(v) for config, v in spread["by_config"].items()}
    if spread.get("value") is not None:
        return {"earlier: " + ", ".join(spread.get("configs", [])): to_deviation(spread["value"])}
    return {}


def set_tolerances(record_files, abs_floors=None, keep_stored=True):
    """Set every recorded quantity's tolerance from the spread in ``record_files``.

    For each page and quantity, the deviation of each configuration is its largest
    deviation from the stored reference; deviations stored earlier for configurations not
    in these files are kept (``keep_stored``). The tolerance is max(MARGIN × largest
    deviation, floor), floor FACTOR_FLOOR for factors and ``abs_floors[name]`` (default
    1e-3) for absolute quantities. A factor above FACTOR_CEILING would not detect a
    doubling: the quantity is marked unstable instead (tolerance None). A seed spread in
    the records is stored too. Returns the rows (page, name, spread, tolerance or None,
    configs).
    """
    abs_floors = abs_floors or {}
    if isinstance(record_files, (str, bytes, pathlib.Path)) or not record_files:
        raise ValueError(f"record_files must be a non-empty list of files, got {record_files!r}")
    records = {}
    for file in record_files:
        if not pathlib.Path(file).is_file():
            raise ValueError(f"record_files: {str(file)!r} is not a file")
        for line in pathlib.Path(file).read_text().splitlines():
            if line.strip():
                item = json.loads(line)
                records.setdefault((item["page"], item["name"]), []).append(item)
    rows = []
    for page in sorted({page for page, _ in records}):
        stored = load_references(page)
        for name, entry in stored["quantities"].items():
            seen = records.get((page, name))
            if not seen:
                continue
            kind = entry.get("kind", "factor")
            by_config = _stored_deviations(entry) if keep_stored else {}
            for config in sorted({item["config"] for item in seen}):
                by_config[config] = max(deviation(item["value"], entry["value"], kind)
                                        for item in seen if item["config"] == config)
            spread = max(by_config.values())
            if kind == "abs":
                tolerance = max(MARGIN * spread, abs_floors.get(name, 1e-3))
            else:
                tolerance = math.exp(max(MARGIN * spread, math.log(FACTOR_FLOOR)))
            shown = (lambda d: d) if kind == "abs" else math.exp
            entry["spread"] = {"value": shown(spread), "configs": sorted(by_config),
                               "by_config": {c: shown(d) for c, d in sorted(by_config.items())}}
            seed_spreads = [item["seed_spread"] for item in seen if "seed_spread" in item]
            if seed_spreads:
                entry["seed_spread"] = max(seed_spreads)
            entry["unstable"] = kind == "factor" and tolerance > FACTOR_CEILING
            entry["tolerance"] = None if entry["unstable"] else tolerance
            rows.append((page, name, spread, entry["tolerance"], sorted(by_config)))
        reference_path(page).write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n")
    return rows


def summary():
    """Counts over every page's stored references: {"checked": n, "unstable": n,
    "factor_range": (lowest, highest factor tolerance), "pages": n}."""
    checked, unstable, factors, pages = 0, 0, [], 0
    for path in sorted(REFERENCE_DIR.glob("*.json")):
        pages += 1
        for entry in json.loads(path.read_text()).get("quantities", {}).values():
            if entry.get("unstable"):
                unstable += 1
            elif entry.get("tolerance") is not None:
                checked += 1
                if entry.get("kind", "factor") == "factor":
                    factors.append(entry["tolerance"])
    return {"checked": checked, "unstable": unstable, "pages": pages,
            "factor_range": (min(factors), max(factors)) if factors else None}


def main(argv=None):
    """``python -m improved_gradients.reference tolerances FILE...``: set the tolerances."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m improved_gradients.reference")
    sub = parser.add_subparsers(dest="command", required=True)
    tol = sub.add_parser("tolerances", help="set tolerances from recorded spread files")
    tol.add_argument("records", nargs="+")
    tol.add_argument("--fresh", action="store_true",
                     help="forget the deviations stored earlier (default: keep those of "
                          "configurations these files do not cover)")
    args = parser.parse_args(argv)
    for page, name, spread, tolerance, configs in set_tolerances(args.records,
                                                                 keep_stored=not args.fresh):
        entry = load_references(page)["quantities"][name]
        factor = entry.get("kind", "factor") == "factor"
        measured = f"×{math.exp(spread):.3g}" if factor else f"± {spread:.2g}"
        shown = ("UNSTABLE, not checked" if tolerance is None
                 else f"tolerance {'×' if factor else '± '}{tolerance:.3g}")
        print(f"{page:<16} {name:<44} spread {measured:<7} {shown}  ({', '.join(configs)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
