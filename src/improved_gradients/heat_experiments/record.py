"""The sip-heat page's long-budget record: SIP, Adam and SGD trained at batch 32 for
thousands of steps, stored as package data with its provenance.

``python -m improved_gradients sip-heat-reproduce --batch 32 --steps 3000 --val-size 32``
trains the runs on the page's validation set; ``sip-heat-record`` turns its output folders
into ``data/sip_heat_batch32.json`` (``record_from_outputs``): per method the validation
curves (x error Σ|x − x*|, x loss, y loss per logged step, measured seconds), the final
values, and the radially binned power spectrum of the final error x − x*.

The page reads the record (it does not re-run it), draws and tabulates it beside its
short runs, and re-runs the first ``PREFIX_STEPS`` steps of the record's setting to check
that its code computes what the record stored (ratio 1 on the machine that wrote it).
"""

import json
import os
import pathlib

import numpy as np

from .._checks import check_choice, check_int, check_mapping, check_number, check_sequence
from ..common import PACKAGE_DIR
from ..physics import radial_power_spectrum

RECORD_PATH = PACKAGE_DIR / "data" / "sip_heat_batch32.json"
CURVES = ("x_l1", "x_l2", "y_l2")
# The prefix the page re-runs: the record's first logged step.
PREFIX_STEPS = 50


def _method_entry(arrays, name, x_val):
    step = np.asarray(arrays[f"{name}/step"])
    entry = {"step": step.tolist(), "time": np.round(arrays[f"{name}/time"], 3).tolist()}
    for key in CURVES:
        entry[key] = [float(f"{v:.6g}") for v in arrays[f"{name}/{key}"]]
    f, power = radial_power_spectrum(np.asarray(arrays[f"{name}/x_val_pred"]) - x_val)
    entry["spectrum"] = {"f": np.round(f, 6).tolist(), "power": [float(f"{p:.5g}") for p in power]}
    return entry


def record_from_outputs(folders):
    """The record from ``sip-heat-reproduce`` output folders (each holding heat_results.json
    and .npz, and provenance.json), all of one batch size, step budget and validation set."""
    folders = [pathlib.Path(f) for f in check_sequence("folders", folders)]
    methods, provenances, settings, x_val = {}, [], set(), None
    for folder in folders:
        if not (folder / "heat_results.json").exists():
            raise ValueError(f"{folder} holds no heat_results.json "
                             f"(an output folder of sip-heat-reproduce)")
        summary = json.loads((folder / "heat_results.json").read_text())
        arrays = np.load(folder / "heat_results.npz")
        if x_val is not None and not np.array_equal(x_val, arrays["x_val"]):
            raise ValueError(f"{folder} used another validation set than the folders before it")
        x_val = np.asarray(arrays["x_val"])
        steps = set(summary["steps"].values())
        settings.add((summary["batch"], *steps, summary["val_size"]))
        provenances.append(json.loads((folder / "provenance.json").read_text()))
        for name in summary["steps"]:
            methods[name] = _method_entry(arrays, name, x_val)
    if len(settings) != 1:
        raise ValueError(f"the folders hold runs of different settings (batch, steps, "
                         f"validation size): {sorted(settings)}")
    batch, steps, val_size = settings.pop()
    f, power = radial_power_spectrum(x_val - x_val.mean(axis=(-2, -1), keepdims=True))
    return {"batch": batch, "steps": steps, "val_size": val_size, "methods": methods,
            "reference_spectrum": {"f": np.round(f, 6).tolist(),
                                   "power": [float(f"{p:.5g}") for p in power]},
            "provenance": provenances}


def write_record(record, path=RECORD_PATH):
    """Write the record as JSON (default: the package's data file)."""
    check_mapping("record", record, keys=("batch", "steps", "methods", "provenance"))
    if not isinstance(path, (str, os.PathLike)) or not pathlib.Path(path).parent.is_dir():
        raise ValueError(f"path must be a file path in an existing directory, got {path!r}")
    pathlib.Path(path).write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return path


def load_record():
    """The stored record with its curves as arrays (see the module docstring)."""
    if not RECORD_PATH.exists():
        raise ValueError(f"no heat record at {RECORD_PATH}; make it with sip-heat-reproduce "
                         f"and sip-heat-record")
    record = json.loads(RECORD_PATH.read_text())
    for entry in record["methods"].values():
        for key in ("step", "time", *CURVES):
            entry[key] = np.asarray(entry[key], float)
        entry["spectrum"] = (np.asarray(entry["spectrum"]["f"]), np.asarray(entry["spectrum"]["power"]))
    spectrum = record["reference_spectrum"]
    record["reference_spectrum"] = (np.asarray(spectrum["f"]), np.asarray(spectrum["power"]))
    return record


def _check_record(record):
    return check_mapping("record", record, keys=("batch", "steps", "methods"))


def final(record, name, metric="x_l1"):
    """The record's final validation value of one method and metric."""
    _check_record(record)
    check_choice("method", name, tuple(record["methods"]))
    check_choice("metric", metric, CURVES)
    return float(record["methods"][name][metric][-1])


def value_at_step(record, name, step, metric="x_l1"):
    """The record's validation value of one method at a logged step."""
    _check_record(record)
    check_choice("method", name, tuple(record["methods"]))
    check_int("step", step, low=0)
    check_choice("metric", metric, CURVES)
    steps = record["methods"][name]["step"]
    found = np.flatnonzero(steps == step)
    if not found.size:
        raise ValueError(f"the record logged {name} at steps {int(steps[0])}, "
                         f"{int(steps[1])}, …, {int(steps[-1])}, not at {step}")
    return float(record["methods"][name][metric][found[0]])


def record_table(record, paper=None):
    """Markdown table: per method the steps, measured seconds and final validation metrics
    (with the paper's x error beside it where ``paper`` maps a method to it)."""
    _check_record(record)
    if paper is not None:
        check_mapping("paper", paper, min_size=0)
        for name, value in paper.items():
            check_number(f"paper[{name!r}]", value)
    head = "| method | steps | measured time [s] | x error Σ\\|x − x*\\| | x loss | y loss |"
    lines = [head + (" paper's x error |" if paper else ""),
             "|---" * (6 + bool(paper)) + "|"]
    for name, entry in record["methods"].items():
        row = (f"| {name} | {int(entry['step'][-1]):,} | {entry['time'][-1]:.0f} | "
               f"{entry['x_l1'][-1]:.4g} | {entry['x_l2'][-1]:.4g} | {entry['y_l2'][-1]:.3g} |")
        if paper:
            row += f" {paper[name]:g} |" if name in paper else " |"
        lines.append(row)
    return "\n".join(lines)
