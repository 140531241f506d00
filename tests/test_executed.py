"""The notebooks as the book build executed them, under another machine's configuration.

`make test` builds the book under ``machine.TEST_PERTURBATION`` (another instruction set
for XLA, other OpenBLAS kernels), while nbval re-runs the notebooks under the pins. Here
every cell of the executed notebooks is held against the stored outputs, with the
reproducibility policy of the README:

- cells without ``nbval-ignore-output`` must match exactly (the same masking as nbval:
  memory addresses only), so deterministic results are the same on another machine;
- ``training-outcome`` cells are checked by tolerance inside the cell (``check_outcomes``
  raises, so the build itself fails when an outcome leaves its tolerance);
- ``timing`` cells print measured times and are not compared.
"""

import configparser
import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "_build" / "jupyter_execute" / "book"
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def _sanitizers():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "nbval_sanitize.cfg")
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


SANITIZERS = _sanitizers()


def _sanitize(text):
    for pattern, replacement in SANITIZERS:
        text = pattern.sub(replacement, text)
    return text


def comparable_outputs(cell):
    """The outputs nbval compares, as sanitised text: streams and every non-image mime
    type, glued values included (images are not compared, as in nbval)."""
    shown = []
    for out in cell.get("outputs", []):
        kind = out["output_type"]
        if kind == "stream":
            shown.append((out["name"], _sanitize("".join(out["text"]))))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            shown += [(mime, _sanitize(value if isinstance(value, str) else "".join(value)))
                      for mime, value in sorted(data.items())
                      if "image/" not in mime and isinstance(value, (str, list))]
        elif kind == "error":
            shown.append(("error", out.get("ename", "")))
    # nbval merges consecutive stream outputs; so does this comparison
    merged = []
    for name, text in shown:
        if merged and merged[-1][0] == name and name in ("stdout", "stderr"):
            merged[-1] = (name, merged[-1][1] + text)
        else:
            merged.append((name, text))
    return merged


def cell_kind(cell):
    tags = cell.get("metadata", {}).get("tags", [])
    if "nbval-ignore-output" not in tags:
        return "exact"
    return "training-outcome" if "training-outcome" in tags else "timing"


def code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


@pytest.mark.executed
@pytest.mark.parametrize("stored", NOTEBOOKS, ids=lambda p: p.name)
def test_build_under_another_configuration_matches_the_stored_outputs(stored):
    executed = EXECUTED / stored.name
    if not executed.exists():
        pytest.fail(f"{executed} is missing: run `make book` first")
    stored_cells, executed_cells = code_cells(stored), code_cells(executed)
    assert [c["source"] for c in stored_cells] == [c["source"] for c in executed_cells], (
        "the built notebook has other code than the stored one")
    counts = {"exact": 0, "training-outcome": 0, "timing": 0}
    mismatches = []
    for index, (old, new) in enumerate(zip(stored_cells, executed_cells)):
        kind = cell_kind(old)
        counts[kind] += 1
        if kind == "exact" and comparable_outputs(old) != comparable_outputs(new):
            mismatches.append(f"code cell {index}:\n  stored:   {comparable_outputs(old)!r:.600}"
                              f"\n  executed: {comparable_outputs(new)!r:.600}")
    print(f"{stored.name}: {counts['exact']} cells compared exactly, "
          f"{counts['training-outcome']} tolerance-checked, {counts['timing']} timing")
    assert not mismatches, "\n".join(mismatches)
