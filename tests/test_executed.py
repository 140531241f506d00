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
import copy
import json
import pathlib
import re

import pytest
import yaml
from myst_nb.core.utils import coalesce_streams

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


# myst-nb moves glued values out of the executed copies into the page (the prose formats
# them at their stated precision), so the stored records have no counterpart there.
GLUE_RECORD = "application/papermill.record/"


def _without_glue(outputs):
    kept = []
    for out in copy.deepcopy(outputs):
        if out["output_type"] == "stream":
            out["text"] = "".join(out["text"])
        elif "data" in out:
            out["data"] = {m: v for m, v in out["data"].items() if not m.startswith(GLUE_RECORD)}
            if not out["data"]:
                continue
        kept.append(out)
    return kept


def shown_outputs(cell, executed):
    """The outputs of a code cell as the page shows them (``nb_merge_streams``: myst-nb
    merges each stream into its first output), as sanitised text: streams and every
    non-image mime type except glue records (images are not compared, as in nbval).

    myst-nb merges in place, so in its executed copy the first output of a stream already
    holds the merged text and the stream's later outputs are leftovers; the stored outputs
    are merged here with myst-nb's own function."""
    outputs = _without_glue(cell.get("outputs", []))
    if executed:
        names = set()
        outputs = [o for o in outputs if o["output_type"] != "stream"
                   or not (o["name"] in names or names.add(o["name"]))]
    else:
        outputs = coalesce_streams(outputs)
    shown = []
    for out in outputs:
        kind = out["output_type"]
        if kind == "stream":
            shown.append((out["name"], _sanitize(out["text"])))
        elif kind in ("execute_result", "display_data"):
            shown += [(mime, _sanitize(value if isinstance(value, str) else "".join(value)))
                      for mime, value in sorted(out["data"].items())
                      if "image/" not in mime and isinstance(value, (str, list))]
        elif kind == "error":
            shown.append(("error", out.get("ename", "")))
    return shown


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
        if kind == "exact":
            page, built = shown_outputs(old, executed=False), shown_outputs(new, executed=True)
            if page != built:
                mismatches.append(f"code cell {index}:\n  stored:   {page!r:.600}"
                                  f"\n  executed: {built!r:.600}")
    print(f"{stored.name}: {counts['exact']} cells compared exactly, "
          f"{counts['training-outcome']} tolerance-checked, {counts['timing']} timing")
    assert not mismatches, "\n".join(mismatches)


def test_the_comparison_reads_the_book_s_merged_streams():
    """``shown_outputs`` reads the executed copies as myst-nb leaves them with
    ``nb_merge_streams``; without it the copies would hold every stream unmerged."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["sphinx"]["config"].get("nb_merge_streams") is True
    stored = {"outputs": [{"output_type": "stream", "name": "stdout", "text": ["a\n"]},
                          {"output_type": "display_data", "metadata": {},
                           "data": {GLUE_RECORD + "text/plain": "1.0"}},
                          {"output_type": "stream", "name": "stdout", "text": "b\n"}]}
    executed = {"outputs": [{"output_type": "stream", "name": "stdout", "text": "a\nb\n"},
                            {"output_type": "stream", "name": "stdout", "text": "b\n"}]}
    assert shown_outputs(stored, executed=False) == [("stdout", "a\nb\n")]
    assert shown_outputs(executed, executed=True) == [("stdout", "a\nb\n")]
    executed["outputs"][0]["text"] = "a\nc\n"
    assert shown_outputs(executed, executed=True) != shown_outputs(stored, executed=False)
