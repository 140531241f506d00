"""The long-budget record of the sip-training page: written by ``sip-reproduce
--record`` (twice the paper's budget in steps, every method and setting), shipped as
package data, loaded by the page, and checked there by a re-run of a prefix by the code
path that wrote it.
"""

import json
import pathlib

import numpy as np

from .._checks import check_array, check_mapping, check_positive_int
from .runs import FINAL_WINDOW, _check_budget, _check_results, experiment_settings, final_value
from .sweep import SIN_METHODS, run_sin_sweep

RECORD_PATH = pathlib.Path(__file__).resolve().parent.parent / "data" / "sip_long_budget.json"
# The record's re-run on the page: SIP's runs on every setting, for a prefix of the record
# (cheap; the shorter the prefix, the less the chaos between machines).
RECORD_CHECK = {"method": "SIP", "steps": 4_000}


def load_record_or_none():
    """The shipped long-budget record, or None where it is missing."""
    return load_long_budget_record() if RECORD_PATH.exists() else None


def rerun_record_prefix(record):
    """Re-run the first RECORD_CHECK["steps"] steps of the record's RECORD_CHECK["method"]
    runs by the code path that wrote the record (``run_sin_sweep`` over all the record's
    settings at once, its logging interval); returns (this run's final x-distances, the
    record's values at that checkpoint), each of shape (n_settings,). On the machine that
    wrote the record the two agree to the record's 4 stored digits."""
    method, steps = RECORD_CHECK["method"], RECORD_CHECK["steps"]
    if (not isinstance(record, dict) or not {"steps", "settings", "log_every", method} <= set(record)
            or method not in record["steps"]):
        raise ValueError(f"record must be a long-budget record as load_long_budget_record "
                         f"returns it (with the runs of {method}), got {type(record).__name__}")
    checkpoints = list(record["steps"][method])
    if steps not in checkpoints:
        raise ValueError(f"the record has no checkpoint of {method} at {steps} steps "
                         f"(it has {checkpoints[0]} ... {checkpoints[-1]})")
    xis, phis, _ = record["settings"]
    values = run_sin_sweep(method, xis, phis, steps, int(record["log_every"]))
    stored = record[method]["final"][:, checkpoints.index(steps)]
    return final_value(values["val_x_dist"]), np.asarray(stored, dtype=np.float64)


def rerun_ratio(rerun, recorded):
    """Geometric mean of rerun / recorded over the settings: 1 where a re-run reproduces
    the record, a factor ×f where every setting moved by f."""
    rerun = np.asarray(check_array("rerun", rerun, (None,)), dtype=np.float64)
    recorded = np.asarray(check_array("recorded", recorded, rerun.shape), dtype=np.float64)
    if rerun.size == 0 or np.any(rerun <= 0) or np.any(recorded <= 0):
        raise ValueError("rerun and recorded must be non-empty arrays of positive distances")
    return float(np.exp(np.mean(np.log(rerun / recorded))))


RECORD_CHECKPOINT = 1000   # the record keeps final values every this many steps
RECORD_CURVE_EVERY = 500   # and the curve settings' validation x-distance this often


def _to_jsonable(results, ablation, steps, seconds_per_step):
    xis, phis, index = results["settings"]
    methods = [method for method in SIN_METHODS if method in results]
    summary = {
        "steps": steps,
        "seconds_per_step": seconds_per_step,
        "settings": {"xi": xis.tolist(), "phi_deg": phis.tolist(), "index": index},
        "final_val_x_dist": {m: final_value(results[m]["val_x_dist"]).tolist() for m in methods},
    }
    if ablation is not None:
        summary["proxy_ablation_final_val_x_dist"] = {
            proxy: final_value(ablation[proxy]["val_x_dist"]).tolist() for proxy in ("l1", "l2")
        }
    return summary


def _round(values, digits=4):
    return [float(f"{v:.{digits}g}") for v in np.asarray(values, dtype=np.float64).ravel()]


def long_budget_record(results, ablation, steps, log_every, provenance):
    """The record shipped as package data: per method and setting the final validation
    x-distance (mean of the FINAL_WINDOW logs ending there) every RECORD_CHECKPOINT steps,
    the curve settings' validation x-distance every RECORD_CURVE_EVERY steps, the proxy
    ablation's finals, and ``provenance`` (command, commit, date, machine, run time)."""
    _check_results("results", results)
    if ablation is not None:
        check_mapping("ablation", ablation, keys=("l1", "l2"))
    _check_budget("steps", steps)
    log_every = check_positive_int("log_every", log_every)
    check_mapping("provenance", provenance, min_size=0)
    xis, phis, index = results["settings"]
    if RECORD_CHECKPOINT % log_every or RECORD_CURVE_EVERY % log_every:
        raise ValueError(f"log_every ({log_every}) must divide {RECORD_CHECKPOINT} and "
                         f"{RECORD_CURVE_EVERY}")
    record = {"provenance": provenance, "log_every": log_every, "final_window": FINAL_WINDOW,
              "steps": {m: int(n) for m, n in steps.items()},
              "settings": {"xi": xis.tolist(), "phi_deg": phis.tolist(), "index": index},
              "checkpoint_every": RECORD_CHECKPOINT, "curve_every": RECORD_CURVE_EVERY,
              "final_val_x_dist": {}, "curves": {}}
    per_checkpoint = RECORD_CHECKPOINT // log_every
    per_curve = RECORD_CURVE_EVERY // log_every
    for method in (m for m in SIN_METHODS if m in results):
        values = results[method]["val_x_dist"]
        ends = range(per_checkpoint, values.shape[-1] + 1, per_checkpoint)
        record["final_val_x_dist"][method] = [_round([final_value(row, end) for end in ends])
                                              for row in values]
        record["curves"][method] = [_round(values[k, per_curve - 1::per_curve])
                                    for k in index["curves"]]
    if ablation is not None:
        record["proxy_ablation_final_val_x_dist"] = {
            proxy: _round(final_value(ablation[proxy]["val_x_dist"])) for proxy in ("l1", "l2")}
    return record


def record_from_output(*outs):
    """The long-budget record of finished ``sip-reproduce`` output directories (each with
    sip_results.npz and sip_results.json), for runs made without ``--record``: several
    directories (e.g. one ``--methods`` run per method, run in parallel) are merged, their
    commands listed and the run time taken as the longest of them."""
    if not outs:
        raise ValueError("outs: give one or more sip-reproduce output directories")
    for out in outs:
        if not isinstance(out, (str, pathlib.Path)) or not all(
                (pathlib.Path(out) / name).is_file() for name in ("sip_results.json",
                                                                   "sip_results.npz")):
            raise ValueError(f"outs must be sip-reproduce output directories (with "
                             f"sip_results.json and sip_results.npz), got {out!r}")
    results = {"settings": experiment_settings(), "steps": {}}
    steps, ablation, provenances, log_every = {}, None, [], None
    for out in map(pathlib.Path, outs):
        summary = json.loads((out / "sip_results.json").read_text())
        steps.update(summary["steps"])
        provenances.append(summary["provenance"])
        with np.load(out / "sip_results.npz") as arrays:
            for m in SIN_METHODS:
                if f"{m}/val_x_dist" in arrays:
                    results[m] = {"val_x_dist": arrays[f"{m}/val_x_dist"]}
                    results["steps"][m] = arrays[f"{m}/steps"]
                    log_every = int(results["steps"][m][0])
            if "ablation_l1/val_x_dist" in arrays:
                ablation = {p: {"val_x_dist": arrays[f"ablation_{p}/val_x_dist"]}
                            for p in ("l1", "l2")}
    provenance = dict(provenances[0])
    if len(provenances) > 1:
        provenance["command"] = " & ".join(p["command"] for p in provenances) + " (in parallel)"
        provenance["run_seconds"] = max(p["run_seconds"] for p in provenances)
        provenance["date"] = min(p["date"] for p in provenances)
    steps = {m: steps[m] for m in SIN_METHODS if m in steps}
    return long_budget_record(results, ablation, steps, log_every, provenance)


def load_long_budget_record(path=None):
    """The long-budget record shipped with the package (``sip-reproduce --record``), as a
    results-like dict: {"settings", "steps": {method: checkpoint steps}, method:
    {"final": (17, checkpoints)}, "curve_steps", "curves": {method: (2, logs)},
    "provenance", "budget"}."""
    path = RECORD_PATH if path is None else pathlib.Path(path)
    if not path.exists():
        raise ValueError(f"no long-budget record at {path}; run "
                         "`python -m improved_gradients sip-reproduce --record PATH`")
    raw = json.loads(path.read_text())
    index = {name: list(pos) for name, pos in raw["settings"]["index"].items()}
    record = {"settings": (np.array(raw["settings"]["xi"], np.float32),
                           np.array(raw["settings"]["phi_deg"], np.float32), index),
              "provenance": raw["provenance"], "budget": raw["steps"], "steps": {},
              "log_every": raw["log_every"],
              "curve_steps": {}, "curves": {}}
    for method, rows in raw["final_val_x_dist"].items():
        finals = np.array(rows)
        record[method] = {"final": finals}
        record["steps"][method] = raw["checkpoint_every"] * np.arange(1, finals.shape[1] + 1)
        curves = np.array(raw["curves"][method])
        record["curves"][method] = curves
        record["curve_steps"][method] = raw["curve_every"] * np.arange(1, curves.shape[1] + 1)
    record["ablation"] = raw.get("proxy_ablation_final_val_x_dist")
    return record
