"""The hig-oscillators page's long-budget records: every method trained for minutes, not
seconds, on both chains, stored as package data with their provenance.

``python -m improved_gradients hig-oscillators-reproduce --setting S --seconds T`` trains
each method for T seconds of measured training time per seed; ``hig-oscillators-record``
turns one or more of its output folders into ``data/hig_oscillators_<setting>.json``
(``record_from_outputs``): per method and seed the final test loss, the steps and seconds,
the test-loss curve thinned to ``CURVE_POINTS`` points spaced evenly in log time, the
value at the page's step budget (the prefix the page re-runs, ``prefix_values``) and, for a
run that diverged, the step it diverged at.

The page reads the records (it does not re-run them), draws them next to its short runs,
says when HIG's loss falls below Adam's (``crossing_times``), and checks that its own short
runs are the records' prefixes: on the machine that wrote a record the ratio is 1.
"""

import json
import os
import pathlib

import numpy as np

from .._checks import (check_array, check_choice, check_mapping, check_positive_int,
                       check_records, check_sequence)
from ..common import PACKAGE_DIR
from . import SETTINGS

RECORD_PATHS = {s: PACKAGE_DIR / "data" / f"hig_oscillators_{s}.json" for s in SETTINGS}
CURVE_POINTS = 120


def thin_indices(times, points=CURVE_POINTS):
    """Indices of about ``points`` entries of an increasing array, spaced evenly in log
    time, the first and last included."""
    check_array("times", times, (None,), min_size=1)
    check_positive_int("points", points)
    times = np.asarray(times, float)
    if times.ndim != 1 or times.size < 1 or np.any(np.diff(times) < 0):
        raise ValueError(f"times must be a non-empty increasing 1-D array, got shape "
                         f"{times.shape}")
    if times.size <= points:
        return np.arange(times.size)
    positive = np.maximum(times, times[times > 0].min() if np.any(times > 0) else 1.0)
    grid = np.geomspace(positive[1], positive[-1], points)
    chosen = np.searchsorted(positive, grid).clip(0, times.size - 1)
    return np.unique(np.concatenate([[0], chosen, [times.size - 1]]))


def _run_entry(arrays, name, seed, page_steps):
    prefix = f"{name}/seed{seed}/"
    step, time, loss = (np.asarray(arrays[prefix + k]) for k in ("step", "time", "test_loss"))
    keep = thin_indices(time)
    at_page = np.flatnonzero(step == page_steps)
    return {"seed": seed, "steps": int(step[-1]), "seconds": float(time[-1]),
            "final_test_loss": float(loss[-1]),
            "page_prefix": {"step": int(page_steps),
                            "test_loss": float(loss[at_page[0]]) if at_page.size else None},
            "curve": {"step": step[keep].tolist(), "time": np.round(time[keep], 4).tolist(),
                      "test_loss": [float(f"{v:.6g}") for v in loss[keep]]}}


def _diverged_entry(failure):
    """A diverged run as ``hig-oscillators-reproduce`` stored it: its seed, the step
    (``TrainingDiverged.step``) and the message."""
    return {"seed": failure["seed"], "diverged": failure["error"], "step": failure["step"]}


def record_from_outputs(setting, folders, page_steps, method_settings):
    """The record of ``setting`` from ``hig-oscillators-reproduce`` output folders (each
    holding <setting>_results.json/.npz and provenance.json); ``page_steps`` and
    ``method_settings`` are the page's {method: steps} and {method: settings}."""
    check_choice("setting", setting, SETTINGS)
    check_mapping("page_steps", page_steps)
    check_mapping("method_settings", method_settings)
    folders = [pathlib.Path(f) for f in check_sequence("folders", folders)]
    methods, provenances, seconds = {}, [], set()
    for folder in folders:
        summary_path = folder / f"{setting}_results.json"
        if not summary_path.exists():
            raise ValueError(f"{folder} holds no {setting}_results.json "
                             f"(an output folder of hig-oscillators-reproduce)")
        summary = json.loads(summary_path.read_text())
        arrays = np.load(folder / f"{setting}_results.npz")
        seconds.add(summary["seconds_per_method"])
        provenances.append(json.loads((folder / "provenance.json").read_text()))
        for name, runs in summary["methods"].items():
            entries = methods.setdefault(name, [])
            entries += [_run_entry(arrays, name, seed, page_steps[name]) for seed in runs["seeds"]]
        for name, failures in summary["diverged"].items():
            entries = methods.setdefault(name, [])
            entries += [_diverged_entry(failure) for failure in failures]
    if len(seconds) != 1:
        raise ValueError(f"the folders hold runs of different budgets: {sorted(seconds)} s")
    for entries in methods.values():
        entries.sort(key=lambda e: e["seed"])
    return {"setting": setting, "seconds_per_run": seconds.pop(),
            "methods": {name: {"settings": method_settings[name], "runs": methods[name]}
                        for name in method_settings if name in methods},
            "provenance": provenances}


def write_record(record, path=None):
    """Write a record as JSON (default: the package's data file of its setting)."""
    check_mapping("record", record, keys=("setting", "methods", "provenance"))
    check_choice("record['setting']", record["setting"], SETTINGS)
    if path is not None and (not isinstance(path, (str, os.PathLike))
                             or not pathlib.Path(path).parent.is_dir()):
        raise ValueError(f"path must be None or a file path in an existing directory, got "
                         f"{path!r}")
    path = RECORD_PATHS[record["setting"]] if path is None else pathlib.Path(path)
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return path


def load_record(setting):
    """The stored record of ``setting`` (see the module docstring), curves as arrays."""
    check_choice("setting", setting, SETTINGS)
    path = RECORD_PATHS[setting]
    if not path.exists():
        raise ValueError(f"no record of the {setting} chain at {path}; make it with "
                         f"hig-oscillators-reproduce and hig-oscillators-record")
    record = json.loads(path.read_text())
    for method in record["methods"].values():
        for run in method["runs"]:
            if "curve" in run:
                run["curve"] = {k: np.asarray(v, float) for k, v in run["curve"].items()}
    return record


def _check_record(record):
    return check_mapping("record", record, keys=("setting", "seconds_per_run", "methods"))


def completed_runs(record, method):
    """The runs of ``method`` in the record that did not diverge."""
    _check_record(record)
    check_choice("method", method, tuple(record["methods"]))
    return [run for run in record["methods"][method]["runs"] if "diverged" not in run]


def final_losses(record):
    """{method: array of final test losses over the seeds}; +inf for a diverged run."""
    _check_record(record)
    return {name: np.array([np.inf if "diverged" in run else run["final_test_loss"]
                            for run in method["runs"]])
            for name, method in record["methods"].items()}


def loss_curve_at(run, times):
    """The test loss of ``run`` at each of ``times`` (the last logged value at or before)."""
    check_mapping("run", run, keys=("curve",))
    check_mapping("run['curve']", run["curve"], keys=("time", "test_loss"))
    check_array("times", times)
    curve = run["curve"]
    index = np.searchsorted(curve["time"], np.asarray(times, float), side="right") - 1
    return curve["test_loss"][np.maximum(index, 0)]


def crossing_times(record, lower="HIG", upper="Adam"):
    """Per seed, the first logged time at which ``lower``'s test loss is below ``upper``'s
    at the same measured time, and stays below to the end of the budget; None where it
    never does. Returns {seed: seconds or None}."""
    _check_record(record)
    ours = {run["seed"]: run for run in completed_runs(record, lower)}
    theirs = {run["seed"]: run for run in completed_runs(record, upper)}
    out = {}
    for seed in sorted(set(ours) & set(theirs)):
        times = ours[seed]["curve"]["time"]
        below = ours[seed]["curve"]["test_loss"] < loss_curve_at(theirs[seed], times)
        never_above_after = np.flip(np.cumprod(np.flip(below))).astype(bool)
        out[seed] = float(times[np.argmax(never_above_after)]) if never_above_after.any() else None
    return out


def prefix_ratios(record, page_runs):
    """The page's short runs against the record's prefix: {method: [page test loss /
    record's test loss at the page's step count, per seed]} for the methods and seeds both
    have (``page_runs``: {method: [result per seed]} with "step" and "test_loss")."""
    _check_record(record)
    check_mapping("page_runs", page_runs)
    for name, results in page_runs.items():
        check_records(f"page_runs[{name!r}]", results, ("step", "test_loss"), min_size=0)
    out = {}
    for name, results in page_runs.items():
        if name not in record["methods"]:
            continue
        stored = {run["seed"]: run["page_prefix"] for run in completed_runs(record, name)}
        ratios = []
        for seed, result in enumerate(results):
            prefix = stored.get(seed)
            if "diverged" in result or prefix is None or prefix["test_loss"] is None:
                continue
            if int(result["step"][-1]) != prefix["step"]:
                raise ValueError(f"page_runs[{name!r}] ran {int(result['step'][-1])} steps; "
                                 f"the record kept step {prefix['step']}")
            ratios.append(float(result["test_loss"][-1]) / prefix["test_loss"])
        if ratios:
            out[name] = ratios
    return out


def record_table(record):
    """Markdown table: per method and seed the steps, measured seconds and final test
    loss, or the step a diverged run stopped at."""
    _check_record(record)
    lines = ["| method | seed | steps | measured time [s] | final test loss |",
             "|---|---|---|---|---|"]
    for name, method in record["methods"].items():
        for run in method["runs"]:
            if "diverged" in run:
                lines.append(f"| {name} | {run['seed']} | diverged at step {run['step']} | | |")
            else:
                lines.append(f"| {name} | {run['seed']} | {run['steps']:,} | "
                             f"{run['seconds']:.0f} | {run['final_test_loss']:.3g} |")
    return "\n".join(lines)
