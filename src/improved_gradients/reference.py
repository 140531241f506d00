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

The environment variable ``IMPROVED_GRADIENTS_REFERENCES`` selects the mode:
``check`` (the default) raises ``ReferenceMismatch`` for a value outside its tolerance;
``write`` stores the values as the new references (``make notebooks``), keeping the
tolerances; ``record`` only records. With ``IMPROVED_GRADIENTS_RECORD=<file>`` every value
is also appended to that JSON-lines file (``make spread`` collects them).
"""

import datetime
import json
import math
import os
import pathlib
import subprocess

from . import machine

REFERENCE_DIR = pathlib.Path(__file__).resolve().parent / "references"
MODE_VARIABLE = "IMPROVED_GRADIENTS_REFERENCES"
RECORD_VARIABLE = "IMPROVED_GRADIENTS_RECORD"
CONFIG_VARIABLE = "IMPROVED_GRADIENTS_CONFIG"
MODES = ("check", "write", "record")

# tolerance = max(MARGIN × largest deviation seen between configurations, floor)
MARGIN = 2.0
FACTOR_FLOOR = 1.05
FACTOR_CEILING = 1.8


class ReferenceMismatch(AssertionError):
    """A training outcome left its tolerance around the stored reference value."""


def _mode():
    mode = os.environ.get(MODE_VARIABLE, "check")
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


def _git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=REFERENCE_DIR, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _save(page, stored):
    stored["provenance"] = {
        "written_by": "make notebooks (IMPROVED_GRADIENTS_REFERENCES=write)",
        "date": datetime.date.today().isoformat(),
        "commit": _git_commit(),
        "machine": machine.describe(),
    }
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


class OutcomeCheck:
    """The result of ``check_outcomes``: a table of value, reference and tolerance."""

    def __init__(self, page, rows, mode):
        self.page, self.rows, self.mode = page, rows, mode

    def __repr__(self):
        width = max(len(name) for name, *_ in self.rows)
        lines = [f"{'quantity':<{width}}  {'this run':>10}  {'reference':>10}  tolerance"]
        for name, value, entry, ok in self.rows:
            reference = "(new)" if entry is None else f"{entry['value']:.4g}"
            tolerance = "" if entry is None else describe_tolerance(entry)
            mark = ""
            if self.mode == "check" and not (entry or {}).get("unstable"):
                mark = "  ok" if ok else "  OUTSIDE"
            lines.append(f"{name:<{width}}  {value:>10.4g}  {reference:>10}  {tolerance}{mark}")
        return "\n".join(lines)


def check_outcomes(page, values, *, absolute=()):
    """Check training outcomes of ``page`` against their stored references.

    values: {name: float}. Names in ``absolute`` are compared by absolute difference, the
    others (positive) by a factor. In "check" mode raises ``ReferenceMismatch`` listing
    every value outside its tolerance, and for a quantity without a stored reference or
    tolerance; returns an ``OutcomeCheck`` whose repr is the table.
    """
    reference_path(page)
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
    mode = _mode()
    _record(page, numbers, absolute)
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
    return OutcomeCheck(page, rows, mode)


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


def recorded_costs(page):
    """{"seconds_per_update": {method: seconds}, "machine", "date"} as stored by
    ``record_costs``, or None if the page recorded none."""
    return load_references(page).get("costs")


def _record(page, numbers, absolute):
    path = os.environ.get(RECORD_VARIABLE)
    if not path:
        return
    config = os.environ.get(CONFIG_VARIABLE, "default")
    with open(path, "a") as out:
        for name, value in numbers.items():
            out.write(json.dumps({"page": page, "name": name, "value": value, "config": config,
                                  "kind": "abs" if name in absolute else "factor"}) + "\n")


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


def set_tolerances(record_files, abs_floors=None):
    """Set every recorded quantity's tolerance from the spread in ``record_files``.

    For each page and quantity the spread is the largest deviation of any configuration's
    value from the stored reference (written under the pins); the tolerance is
    max(MARGIN × spread, floor), floor FACTOR_FLOOR for factors and ``abs_floors[name]``
    (default 1e-3) for absolute quantities. A factor above FACTOR_CEILING would not detect
    a doubling: the quantity is marked unstable instead (tolerance None). Returns the rows
    (page, name, spread, tolerance or None, configs).
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
            spread = max(deviation(item["value"], entry["value"], kind) for item in seen)
            configs = sorted({item["config"] for item in seen})
            if kind == "abs":
                tolerance = max(MARGIN * spread, abs_floors.get(name, 1e-3))
            else:
                tolerance = math.exp(max(MARGIN * spread, math.log(FACTOR_FLOOR)))
            entry["spread"] = {"value": spread if kind == "abs" else math.exp(spread),
                               "configs": configs}
            entry["unstable"] = kind == "factor" and tolerance > FACTOR_CEILING
            entry["tolerance"] = None if entry["unstable"] else tolerance
            rows.append((page, name, spread, entry["tolerance"], configs))
        reference_path(page).write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n")
    return rows


def main(argv=None):
    """``python -m improved_gradients.reference tolerances FILE...``: set the tolerances."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m improved_gradients.reference")
    sub = parser.add_subparsers(dest="command", required=True)
    tol = sub.add_parser("tolerances", help="set tolerances from recorded spread files")
    tol.add_argument("records", nargs="+")
    args = parser.parse_args(argv)
    for page, name, spread, tolerance, configs in set_tolerances(args.records):
        shown = "UNSTABLE, not checked" if tolerance is None else f"tolerance {tolerance:.3g}"
        print(f"{page:<18} {name:<44} spread {spread:.3g}  {shown}  ({', '.join(configs)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
