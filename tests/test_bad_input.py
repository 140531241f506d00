"""Bad input at every public boundary: a clear ValueError naming the argument, never a
silent NaN, a usage error (exit status 2) on the command line.

The suite is a table. ``ROWS`` holds one ``Row`` per public function of every module of
the package (the modules are found with ``pkgutil``, so a new module is covered the day
it lands): a valid call and, per argument, the kinds of bad values to try. Each kind
(``KINDS``) is derived from the argument's valid value, so a row only names the kinds
that apply:

    "type"      a string or None where a number/array/function/dict is wanted (a number
                where a name is wanted)
    "shape"     an extra coordinate on the last axis (or an array instead of a number)
    "rank"      an extra leading axis, for arguments of a fixed rank
    "nan", "inf"   a non-finite entry
    "negative", "zero"   for numbers that must be positive
    "fraction"  a non-integer where an integer is wanted
    "empty"     an empty array, list or dict
    "name"      an unknown name (the message must list the known ones)
    "int"       an integer array where floats are needed: promoted to float (the policy of
                the package), so the result must equal the call with float input

Every bad value must raise ValueError whose message names the argument (the word in
``Row.names``, default the argument's name). Explicit cases are ``(label, value)`` or
``(label, value, expect)`` with ``expect`` a word the message must contain, or a function
checking the documented result of a degenerate case (a tested fallback).

Kernels (``*_kernel``, for jit/vmap) do not validate values: ``KERNEL_CASES`` checks their
documented behaviour. ``test_every_public_function_is_covered`` fails when a public
function of any module has no row and no kernel case, and is not one of the validated
exceptions: functions without arguments (nothing to get wrong), the command line
(``COMMAND_LINE``: every command has usage-error cases, ``test_every_command_has_usage_
error_cases``), the check helpers of ``_checks`` (``HELPER_CASES``) and ``GAPS``, each
with its reason in one line.

``python tests/test_bad_input.py`` prints how many bad inputs the table tries and how
many are answered correctly.
"""

import argparse
import dataclasses
import importlib
import inspect
import json
import math
import os
import pathlib
import pkgutil
import re
import tempfile
import types
from typing import Callable
from unittest import mock

import matplotlib

matplotlib.use("Agg")

import jax  # noqa: E402
import jax.flatten_util  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import improved_gradients  # noqa: E402
from improved_gradients import __main__ as cli  # noqa: E402
from improved_gradients import (_checks, heat_experiments, hig_experiments,  # noqa: E402
                                hig_oscillators_experiments, physics, sip_experiments,
                                theory_experiments, toy_experiments, training, updates)
from improved_gradients import claims, common, reference  # noqa: E402
from improved_gradients.heat_experiments import record as heat_record  # noqa: E402
from improved_gradients.hig_oscillators_experiments import record as osc_record  # noqa: E402
from improved_gradients.errors import TrainingDiverged  # noqa: E402
from improved_gradients.models import init_mlp_glorot  # noqa: E402

# Every module of the package, found on disk: a new module is in the table's scope at once.
MODULES = tuple(info.name.removeprefix("improved_gradients.") for info in
                pkgutil.walk_packages(improved_gradients.__path__, "improved_gradients."))


def resolve(qualified):
    """``"module.name"`` -> the function, imported through ``improved_gradients.<module>``."""
    module, name = qualified.rsplit(".", 1)
    return getattr(importlib.import_module(f"improved_gradients.{module}"), name)


# ---------------------------------------------------------------------------------------
# Kinds of bad values, derived from a valid value
# ---------------------------------------------------------------------------------------


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _with_entry(valid, entry):
    array = np.array(valid, dtype=np.float64)
    array.reshape(-1)[0] = entry
    return array


def _kind_type(valid):
    if isinstance(valid, str):
        return [("a number instead of a name", 3), ("None", None)]
    return [("a string", "abc"), ("None", None)]


def _kind_shape(valid):
    if _is_number(valid):
        return [("an array instead of a number", np.array([valid, valid], dtype=float))]
    array = np.asarray(valid, dtype=np.float64)
    return [("an extra coordinate", np.concatenate([array, array[..., :1]], axis=-1))]


KINDS = {
    "type": _kind_type,
    "shape": _kind_shape,
    "rank": lambda v: [("an extra leading axis", np.asarray(v, dtype=np.float64)[None])],
    "nan": lambda v: [("NaN", math.nan if _is_number(v) else _with_entry(v, math.nan))],
    "inf": lambda v: [("infinity", math.inf if _is_number(v) else _with_entry(v, -math.inf))],
    "negative": lambda v: [("negative", -abs(v) if v else -1)],
    "zero": lambda v: [("zero", 0 if isinstance(v, (int, np.integer)) else 0.0)],
    "fraction": lambda v: [("a fraction", v + 0.5)],
    "empty": lambda v: [("empty", {} if isinstance(v, dict) else [] if isinstance(v, (list, tuple))
                         else np.asarray(v, dtype=np.float64)[:0])],
    "name": lambda v: [("an unknown name", "no-such-name")],
    "int": lambda v: [("integer dtype", np.round(np.asarray(v, dtype=np.float64) * 2).astype(np.int32),
                       "promoted")],
}


@dataclasses.dataclass
class Row:
    """One public entry point: a valid call and the bad values to try per argument."""

    function: str                                   # "module.name"
    valid: dict                                     # keyword arguments of a valid call
    bad: dict                                       # argument -> kinds and explicit cases
    call: Callable = None                           # how to call it (default f(**kwargs))
    names: dict = dataclasses.field(default_factory=dict)  # argument -> word in the message
    run_valid: bool = True                          # False where a valid call trains long

    def invoke(self, **kwargs):
        if self.call is not None:
            return self.call(**kwargs)
        return resolve(self.function)(**kwargs)

    def cases(self):
        for argument, entries in self.bad.items():
            for entry in entries:
                if isinstance(entry, str):
                    for case in KINDS[entry](self.valid[argument]):
                        yield (argument, *case) if len(case) == 3 else (argument, *case, None)
                else:
                    yield (argument, *entry) if len(entry) == 3 else (argument, *entry, None)


# ---------------------------------------------------------------------------------------
# Valid values shared by the rows
# ---------------------------------------------------------------------------------------

X2 = np.array([3.0, 3.0])
SIN_X = np.array([[0.1, 0.2], [0.3, -0.1]])
SIN_Y = np.array([[0.3, -0.5], [-0.2, 0.4]])
JACOBIAN = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.2], [0.3, 0.0, 1.0],
                     [0.1, 0.1, 0.1], [0.5, -0.2, 0.3], [0.0, 0.4, -0.1]])
G6 = np.array([0.5, -1.0, 0.25, 0.0, 1.0, -0.5])
KEY = jax.random.PRNGKey(0)
MLP = [(np.ones((2, 3)) * 0.1, np.zeros(3)), (np.ones((3, 2)) * 0.1, np.zeros(2))]
NAN_MLP = ("a NaN weight", [(np.full((2, 3), np.nan), np.zeros(3)), MLP[1]], "params")
HIG_DATA = tuple(np.asarray(a) for a in physics.hig_data(0, 16, 8))
NUMBER = ["type", "shape", "nan", "inf"]
POSITIVE = NUMBER + ["negative", "zero"]
COUNT = ["type", "negative", "zero", "fraction"]
SEED = ["type", "negative", "fraction", ("larger than 2^32 - 1", 2**40)]
ARRAY = ["type", "shape", "nan", "inf"]
# Arguments whose default is None (None is valid there): the same kinds without None.
A_STRING = ("a string", "abc")
OPTIONAL_POSITIVE = [A_STRING, "shape", "nan", "inf", "negative", "zero"]
OPTIONAL_COUNT = [A_STRING, "negative", "zero", "fraction"]


def sin_loss_x(x_i, y_i):
    return physics.sin_loss(x_i, y_i, 2.0, 15.0)


def toy_inverse_of(y, x):
    return physics.toy_inverse(y)


def zeros_like_theta(result):
    assert np.all(np.asarray(result) == 0) and np.asarray(result).shape == (3,)


def hig_net(params, x):
    return jnp.tanh(x @ params[0][0] + params[0][1]) @ params[1][0] + params[1][1]


HIG_PARAMS = [(np.ones((1, 3)) * 0.2, np.zeros(3)), (np.ones((3, 2)) * 0.3, np.zeros(2))]
FAKE_RUN = {"step": np.array([0, 10, 20]), "val_loss": np.array([1.0, 0.5, 0.25]),
            "params": np.zeros(3)}


# Axes to draw on (not registered with pyplot: the table opens no windows); a row that
# draws gets fresh axes, so that no row sees another row's scales.


def new_ax():
    return Figure().subplots()


AX = new_ax()
AXES2 = list(Figure().subplots(1, 2))
AXES3 = list(Figure().subplots(1, 3))
X2T = (1.5, 1.0)  # the theory page's start point
GRID8 = physics.heat_rectangles(0, 1, n=8, max_half_size=2.0)  # (1, 8, 8) ground truths
GRID64 = physics.heat_rectangles(0, 1)  # (1, 64, 64): the heat page's grid


def heat_run(scale):
    """A fake result of training.train_heat on GRID8."""
    return {"step": np.array([0, 1]), "time": np.array([0.0, 0.1 * scale]),
            "x_l1": np.array([2.0, scale]), "x_l2": np.array([1.0, 0.5 * scale]),
            "y_l2": np.array([0.1, 0.05 * scale]), "train_y_l2": np.array([0.1]),
            "x_val_pred": GRID8 * (1 - 0.1 * scale)}


HEAT_RESULTS = {"SIP": heat_run(1.0), "Adam": heat_run(2.0)}
HEAT_SOLVED = {"x_l1": np.array([2.0, 1.5]), "x_l2": np.array([1.0, 0.7]),
               "y_l2": np.array([0.1, 0.01]), "x": GRID8 * 0.7}
HEAT_SOLVERS = {"bayes": HEAT_SOLVED, "gradient": HEAT_SOLVED}
SPECTRUM = physics.radial_power_spectrum(GRID8 - GRID8.mean())


def heat_batches(step):
    return physics.heat_rectangles((0, step), 2, n=16, max_half_size=4.0)


THETA_LIN = np.asarray(hig_oscillators_experiments.initial_theta("linear", 0))
STATE0 = (0.1, 0.2, 0.3, 0.4)
OSC_RUN = {"step": np.array([0, 2]), "time": np.array([0.0, 0.1]),
           "test_loss": np.array([1.0, 0.5]), "train_loss": np.array([0.7, 0.6]),
           "params": THETA_LIN}
OSC_RUNS = {"HIG": [OSC_RUN]}
OSC_BATCH = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.1, 0.2, 0.3]])


def control_network(params, x):
    return jnp.tanh(x @ params[0][0] + params[0][1]) @ params[1][0] + params[1][1]


def control_physics(x, u):
    return x + u


CONTROL_PARAMS = [(np.full((2, 3), 0.1, np.float32), np.zeros(3, np.float32)),
                  (np.full((3, 2), 0.1, np.float32), np.zeros(2, np.float32))]
CONTROL_X = np.random.default_rng(0).uniform(size=(4, 2)).astype(np.float32)
CONTROL_DATA = (CONTROL_X, CONTROL_X, CONTROL_X, CONTROL_X)


def chunk_program(state, inputs):
    """A stand-in for a compiled chunk of run_chunks: two steps, no divergence."""
    return state._replace(params=state.params + 1.0, count=state.count + 2), state.params.sum()


CHUNK_STATE = training.LoopState(jnp.zeros(3), None, None, jnp.int32(-1), jnp.int32(0))

HIG_RUN = {"step": np.array([0, 10]), "time": np.array([0.0, 0.1]),
           "val_loss": np.array([1.0, 0.5]), "act_mean": np.array([0.0, 0.1]),
           "act_std": np.array([0.5, 0.4]), "probe": np.array([[0.0, 0.0], [0.5, -0.5]])}
SEED_RESULTS = {(0.01, "HIG"): {"val_loss": np.array([0.1, 0.2]), "act_mean": np.zeros(2),
                                "act_std": np.ones(2), "steps": 100},
                (0.01, "Adam"): {"val_loss": np.array([0.3, 0.4]), "act_mean": np.zeros(2),
                                 "act_std": np.ones(2), "steps": 100,
                                 "val_loss_short": np.array([0.5, 0.6])}}

# The SIP page's results, records and views, with made-up values of the right structure.
SIP_SETTINGS = sip_experiments.experiment_settings()
N_SETTINGS = len(SIP_SETTINGS[0])
SIN_METHODS = sip_experiments.SIN_METHODS
SIP_RESULTS = {"settings": SIP_SETTINGS,
               "steps": {m: np.array([100, 200]) for m in SIN_METHODS},
               **{m: {"val_x_dist": np.full((N_SETTINGS, 2), 0.01 * (k + 1))}
                  for k, m in enumerate(SIN_METHODS)}}
SIP_RUNS = {"all": SIP_RESULTS, "log_every": 100,
            "curves": {"settings": (np.array([1.0, 32.0]), np.array([45.0, 45.0]),
                                    {"curves": [0, 1]}), "steps": {}}}
SIP_BUDGET = {m: 200 for m in SIN_METHODS}
SIP_VIEW = sip_experiments.budget_view(SIP_RUNS, SIP_BUDGET)
SIP_OUTCOMES = sip_experiments.outcomes(SIP_VIEW)
SIP_RECORD = {"settings": SIP_SETTINGS, "log_every": 100,
              "steps": {m: np.array([1000, 2000, 3000, 4000]) for m in SIN_METHODS},
              "budget": {m: 4000 for m in SIN_METHODS},
              "curve_steps": {m: np.array([500, 1000]) for m in SIN_METHODS},
              "curves": {m: np.full((2, 2), 0.1) for m in SIN_METHODS},
              **{m: {"final": np.full((N_SETTINGS, 4), 0.01 * (k + 1)) / np.arange(1, 5)}
                 for k, m in enumerate(SIN_METHODS)}}
SIP_ABLATION = {"steps": np.array([100, 200]), "l1": {"val_x_dist": np.full((2, 2), 0.1)},
                "l2": {"val_x_dist": np.full((2, 2), 0.2)}}
SIP_STORED = {q: {"value": 0.5} for q in
              [f"book_xi{xi:g}_{m}" for xi in (1, 32) for m in SIN_METHODS] + ["book_adam_rotation"]}
SIP_CONVERGENCE = sip_experiments.adam_convergence(SIP_RECORD, {"SIP": 1000, "Adam": 1000})
LANDSCAPE = (np.linspace(-1.0, 1.0, 5), np.linspace(-0.5, 0.5, 4), np.ones((4, 5)))

# The discussion page: a fake experiments module (the hig-toy page's stored costs).
FAKE_PAGE = types.ModuleType("fake_experiments")
FAKE_PAGE.PAGE = "hig-toy"
SUMMARY_ROW = {"experiment": "toy", "method": "HIG", "metric": "loss", "value": 0.1, "note": ""}
FAKE_PAGE.discussion_summary = lambda: [dict(SUMMARY_ROW)]
FAKE_PAGE.measure_cost_per_update = lambda repeats=3: {"Adam": 1.0}
FAKE_PAGE.evidence = lambda: {"book": {"ratio": 4.0}}
TIMINGS = [{"rows": 4, "params": 8, "svd": 1e-4, "adam": 1e-5},
           {"rows": 8, "params": 8, "svd": 4e-4, "adam": 1e-5}]


def discussion_tables():
    from improved_gradients import discussion_experiments as discussion

    checked = discussion.check_row(SUMMARY_ROW, "p")
    table = discussion.experiment_table([checked], {"p": {"Adam": 1.0, "HIG": 2.0}})
    claim_rows = [{"page": "p", "claim": "HIG wins", "source": "10×", "value": "4",
                   "budget": "book", "verdict": "partly", "label": "partly", "short": None,
                   "changed": False}]
    return checked, table, claim_rows


CHECKED_ROW, TABLE, CLAIMS = discussion_tables()

# Files the valid calls write (provenance, figures, records) go to a scratch directory,
# removed when the process ends; never to the package's data or references.
SCRATCH = tempfile.TemporaryDirectory(prefix="test-bad-input-")
SCRATCH_DIR = pathlib.Path(SCRATCH.name)

# The claims registry: the toy page's one claim, judged on made-up distances.
TOY_CLAIM = toy_experiments.CLAIM.name
TOY_EVIDENCE = {"distance": {"GD": 0.5, "Newton": 0.1, "Inverse simulator": 0.01}}
TOY_JUDGED = claims.judge_page(toy_experiments.PAGE, {"book: 3 steps": TOY_EVIDENCE})
TOY_STORED = claims.to_stored(TOY_JUDGED)
TOY_RUNS = {"GD": np.array([[3.0, 3.0], [1.0, 1.0]]), "Inverse simulator": np.array([[3.0, 3.0], [0.1, 0.1]])}


def fresh_subparsers():
    return argparse.ArgumentParser().add_subparsers()


def add_record_command(subparsers, **kwargs):
    """common.add_record_command on a fresh sub-command group (as add_reproduce_command)."""
    subparsers = fresh_subparsers() if subparsers is fresh_subparsers else subparsers
    return common.add_record_command(subparsers, **kwargs)


def add_reproduce_command(subparsers, **kwargs):
    """common.add_reproduce_command on a fresh sub-command group for the valid call (a
    group takes each name once)."""
    subparsers = fresh_subparsers() if subparsers is fresh_subparsers else subparsers
    return common.add_reproduce_command(subparsers, **kwargs)


def record_verdicts(**kwargs):
    """reference.record_verdicts in "check" mode: the table never writes references."""
    with mock.patch.dict(os.environ, {reference.MODE_VARIABLE: "check"}):
        return reference.record_verdicts(**kwargs)


def is_infinite(result):
    assert result == math.inf


# The long-budget records of the heat and oscillator pages (package data), as loaded and
# as stored, and the stored references of their pages.
HEAT_RECORD = heat_record.load_record()
HEAT_RECORD_STORED = json.loads(heat_record.RECORD_PATH.read_text())
HEAT_VALUES = {name: entry["value"] for name, entry in
               reference.load_references(heat_experiments.PAGE)["quantities"].items()}
HEAT_HIGH = heat_experiments.claims.HIGH_FREQUENCY
OSC_RECORDS = {s: osc_record.load_record(s) for s in osc_record.SETTINGS}
OSC_RECORD = OSC_RECORDS["linear"]
OSC_RECORD_STORED = json.loads(osc_record.RECORD_PATHS["linear"].read_text())
OSC_VALUES = {name: entry["value"] for name, entry in
              reference.load_references(hig_oscillators_experiments.PAGE)["quantities"].items()}
OSC_CURVE_RUN = osc_record.completed_runs(OSC_RECORD, "HIG")[0]
OSC_PAGE_RUNS = {"HIG": [{"step": np.array([0, OSC_CURVE_RUN["page_prefix"]["step"]]),
                          "test_loss": np.array([1.0, OSC_CURVE_RUN["page_prefix"]["test_loss"]])}]}


def without(mapping, key):
    return {k: v for k, v in mapping.items() if k != key}


def fake_heat_output(name, batch):
    """A sip-heat-reproduce output folder of one SIP run on GRID8 (the record's input)."""
    folder = SCRATCH_DIR / name
    folder.mkdir()
    (folder / "heat_results.json").write_text(json.dumps({"batch": batch, "steps": {"SIP": 1},
                                                          "val_size": 1}))
    run = heat_run(1.0)
    np.savez(folder / "heat_results.npz", x_val=GRID8,
             **{f"SIP/{k}": run[k] for k in ("step", "time", "x_l1", "x_l2", "y_l2", "x_val_pred")})
    (folder / "provenance.json").write_text("{}")
    return str(folder)


def fake_oscillator_output(name, seconds):
    """A hig-oscillators-reproduce output folder (linear chain): one HIG run, one Adam run
    that diverged."""
    folder = SCRATCH_DIR / name
    folder.mkdir()
    (folder / "linear_results.json").write_text(json.dumps(
        {"setting": "linear", "seconds_per_method": seconds, "methods": {"HIG": {"seeds": [0]}},
         "diverged": {"Adam": [{"seed": 0, "step": 3, "error": "Adam: not finite at step 3"}]}}))
    np.savez(folder / "linear_results.npz",
             **{f"HIG/seed0/{k}": OSC_RUN[k] for k in ("step", "time", "test_loss")})
    (folder / "provenance.json").write_text("{}")
    return str(folder)


HEAT_OUTPUTS = [fake_heat_output("heat-batch2", 2), fake_heat_output("heat-batch4", 4)]
OSC_OUTPUTS = [fake_oscillator_output("osc-1s", 1.0), fake_oscillator_output("osc-2s", 2.0)]
OSC_SETTINGS = {"HIG": {"method": "svd"}, "Adam": {"method": "adam"}}

ROWS = [
    # physics: the forward problems
    Row("physics.toy_physics", {"x": X2}, {"x": ARRAY + ["rank", "empty", "int"]}),
    Row("physics.toy_loss_y", {"y": X2}, {"y": ARRAY + ["rank", "empty", "int"]}),
    Row("physics.toy_loss_x", {"x": X2}, {"x": ARRAY + ["rank", "empty", "int"]}),
    Row("physics.toy_inverse", {"y": np.array([0.5, 0.25])},
        {"y": ARRAY + ["rank", "empty", ("y1 < 0 (no real square root)", [0.5, -0.25], "y1 >= 0")]}),
    Row("physics.toy_lbfgs_inverse",
        {"y": np.array([0.5, 0.25]), "x_start": np.array([1.0, 1.0]), "max_iterations": 200,
         "tolerance": 1e-6},
        {"y": ARRAY + ["rank", ("y1 < 0 (no exact solution)", [0.5, -0.25], "found no x")],
         "x_start": ARRAY, "max_iterations": COUNT + ["type"], "tolerance": POSITIVE}),
    Row("physics.check_sin_setting", {"xi": 2.0, "phi_deg": 15.0},
        {"xi": ["type", "nan", "inf", "negative", "zero"], "phi_deg": ["type", "nan", "inf"]}),
    Row("physics.rotate", {"x": SIN_X, "phi_deg": 15.0},  # a kernel-level helper: no values
        {"x": ["type", "shape", ("a scalar", 1.0)], "phi_deg": ["type"]}),
    Row("physics.sin_physics", {"x": SIN_X, "xi": 2.0, "phi_deg": 15.0},
        {"x": ARRAY + ["int"], "xi": ["type", "nan", "inf", "negative", "zero"],
         "phi_deg": ["type", "nan", "inf"]}),
    Row("physics.sin_loss", {"x": SIN_X, "y_target": SIN_Y, "xi": 2.0, "phi_deg": 15.0},
        {"x": ARRAY + [("a third sample for two targets", np.zeros((3, 2)))],
         "y_target": ARRAY, "xi": ["type", "nan", "negative", "zero"], "phi_deg": ["nan"]}),
    Row("physics.sin_closest_solution", {"x": SIN_X, "y_target": SIN_Y, "xi": 2.0, "phi_deg": 15.0},
        {"x": ARRAY + [("a third sample for two targets", np.zeros((3, 2)))],
         "y_target": ARRAY + [("outside [-1, 1]", [[2.0, 0.0], [0.0, 0.0]])],
         "xi": ["nan", "zero", "negative"], "phi_deg": ["nan", "type"]}),
    Row("physics.x_distance", {"x": SIN_X, "y_target": SIN_Y, "xi": 2.0, "phi_deg": 15.0},
        {"x": ARRAY, "y_target": ARRAY + [("outside [-1, 1]", [[0.0, -1.5], [0.0, 0.0]])],
         "xi": ["nan", "inf", "zero"], "phi_deg": ["inf"]}),
    Row("physics.hig_target", {"x": np.array([0.1, 0.5])}, {"x": ["type", "nan", "inf", "int"]}),
    Row("physics.hig_physics", {"z": SIN_X, "lam": 0.01}, {"z": ARRAY, "lam": POSITIVE}),
    Row("physics.hig_sample_loss", {"y": SIN_X, "y_target": SIN_Y},
        {"y": ARRAY, "y_target": ARRAY + ["rank"]}),
    Row("physics.hig_data", {"seed": 0, "n_train": 8, "n_val": 4},
        {"seed": SEED, "n_train": COUNT + [("one sample", 1)], "n_val": COUNT}),
    # updates: the update rules
    Row("updates.gd_step", {"loss_x": physics.toy_loss_x, "x": X2, "eta": 0.1},
        {"loss_x": ["type", ("a vector-valued function", physics.toy_physics, "scalar")],
         "x": ARRAY + ["rank", "empty", "int"], "eta": POSITIVE}),
    Row("updates.newton_step", {"loss_x": physics.toy_loss_x, "x": X2, "eta": 1 / 3},
        {"loss_x": ["type", ("a vector-valued function", physics.toy_physics, "scalar")],
         "x": ARRAY + ["rank", "empty", "int",
                       ("x1 = 0: singular Hessian", [1.0, 0.0], "singular")],
         "eta": POSITIVE}),
    Row("updates.inverse_simulator_step",
        {"physics": physics.toy_physics, "loss_y": physics.toy_loss_y,
         "inverse": toy_inverse_of, "x": X2, "eta": 0.5},
        {"physics": ["type"], "loss_y": ["type"],
         "inverse": ["type", ("an inverse of the wrong shape", lambda y, x: jnp.ones(3))],
         "x": ARRAY + ["rank", "empty"], "eta": POSITIVE},
        names={"physics": "loss_y(physics(x))", "loss_y": "loss_y(physics(x))"}),
    Row("updates.diagonal_length", {"u": np.array([1.0, 2.0])},
        {"u": ["type", "rank", "nan", "inf", "empty", ("zero update", [0.0, 0.0], "non-zero")]}),
    Row("updates.symmetric_eigh", {"hessian": np.array([[2.0, 1.0], [1.0, 3.0]])},
        {"hessian": ["type", "shape", "nan", "inf"]}),
    Row("updates.sip_inverse_step",
        {"loss_x": sin_loss_x, "x": SIN_X, "y_target": SIN_Y, "max_loss_change": 0.2},
        {"loss_x": ["type", ("a vector-valued function", lambda x, y: x, "scalar")],
         "x": ARRAY + ["empty", ("one sample without a batch axis", [0.1, 0.2])],
         "y_target": ["type", "nan", "inf", ("a third target for two samples", np.zeros((3, 2)))],
         "max_loss_change": POSITIVE}),
    Row("updates.sip_proxy_loss", {"x": SIN_X, "x_target": SIN_Y, "norm": "l1"},
        {"x": ARRAY + ["empty"], "x_target": ARRAY, "norm": ["type", "name"]}),
    Row("updates.batch_jacobian", {"fn": hig_net, "params": HIG_PARAMS, "xs": np.array([[0.1], [0.4]])},
        {"fn": ["type", ("a function that fails on a sample", lambda p, x: p[5], "fn")],
         "params": ["type", "empty", ("integer parameters", [(np.ones((1, 3), int), np.zeros(3, int)),
                                                             (np.ones((3, 2), int), np.zeros(2, int))])],
         "xs": ["type", "nan", "inf", "empty"]}),
    Row("updates.svd_power_update",
        {"jacobian": JACOBIAN, "g": G6, "kappa": -0.5, "tau": 1e-6, "eta": 1.0, "mode": "truncate"},
        {"jacobian": ["type", "rank", "nan", "inf", "empty", "int",
                      ("zero Jacobian: a zero step (documented)", np.zeros((6, 3)), zeros_like_theta)],
         "g": ARRAY + ["int", ("zero g: a zero step (documented)", np.zeros(6), zeros_like_theta)],
         "kappa": NUMBER + [("above 1", 2.0)], "tau": NUMBER + ["zero", ("1", 1.0)],
         "eta": POSITIVE, "mode": ["type", "name"]},
        names={"jacobian": "jacobian", "g": "g"}),
    Row("updates.gram_resolution", {"k": 30}, {"k": COUNT + ["type"]}),
    Row("updates.check_svd_setting", {"kappa": -0.5, "tau": 1e-3, "eta": 1.0, "mode": "clamp"},
        {"kappa": NUMBER + [("below -1", -1.5)], "tau": NUMBER + ["zero", "negative"],
         "eta": POSITIVE, "mode": ["type", "name"]}),
    # models
    Row("models.init_mlp_torch", {"key": KEY, "sizes": [2, 3, 2]},
        {"key": ["type", ("a seed instead of a key", 0)],
         "sizes": ["type", "empty", ("one size", [2]), ("a zero size", [2, 0, 2]),
                   ("a fractional size", [2, 1.5, 2], "sizes[1]")]}),
    Row("models.init_mlp_glorot", {"key": KEY, "sizes": [1, 7, 2]},
        {"key": ["type"], "sizes": ["type", "empty", ("a negative size", [1, -7, 2], "sizes[1]")]}),
    Row("models.perturb_initial", {"params": MLP, "key": KEY},
        {"params": ["type", "empty", NAN_MLP], "key": ["type", ("a seed instead of a key", 0)]}),
    Row("models.parameter_count", {"params": MLP},
        {"params": ["type", "empty", ("integer leaves", [np.ones((2, 3), int)])]}),
    Row("models.mlp_apply", {"params": MLP, "x": SIN_Y, "activation": jnp.tanh},
        {"params": ["type", "empty", ("layers that do not chain", [MLP[0], MLP[0]], "params[1]")],
         "x": ARRAY, "activation": ["type"]}),
    Row("models.mlp_hidden", {"params": MLP, "x": SIN_Y, "activation": jnp.tanh},
        {"params": ["type", "empty"], "x": ARRAY, "activation": ["type"]}),
    # training loops
    Row("training.iterate",
        {"step": lambda x: updates.gd_step(physics.toy_loss_x, x, 0.1), "x0": X2, "steps": 3},
        {"step": ["type", ("a step returning one array", lambda x: x, "pair")],
         "x0": ["type", "nan", "inf", "rank", "empty",
                ("an extra coordinate (the loss takes 2)", [3.0, 3.0, 3.0], "x must have shape")],
         "steps": COUNT + ["type"]}),
    Row("training.iterate",
        {"step": lambda x: updates.newton_step(physics.toy_loss_x, x, 1 / 3), "x0": X2, "steps": 2},
        {"x0": [("Newton from x1 = 0: singular Hessian", [1.0, 0.0], "singular")],
         "step": [("a step that overflows", lambda x: (x * 1e30 * 1e30, x), "not finite")]}),
    Row("training.optax_trajectory",
        {"optimizer": optax.sgd(0.05), "loss_x": physics.toy_loss_x, "x0": X2, "steps": 5},
        {"optimizer": ["type", ("a plain function", lambda g: g)], "loss_x": ["type"],
         "x0": ["type", "nan", "inf", "rank", "empty",
                ("an extra coordinate (the loss takes 2)", [3.0, 3.0, 3.0], "x must have shape")],
         "steps": COUNT + ["type"]}),
    Row("training.optax_trajectory",
        {"optimizer": optax.sgd(1e30), "loss_x": physics.toy_loss_x, "x0": X2, "steps": 5},
        {"steps": [("a learning rate that diverges", 5, "not finite")]}, run_valid=False),
    Row("sip_experiments.sweep.sin_optimizer", {"method": "SGD", "xi": 2.0},
        {"method": ["type", "name"], "xi": ["type", "nan", "inf", "negative", "zero"]}),
    Row("sip_experiments.sweep.sin_targets", {"key": KEY, "batch_size": 4},
        {"key": ["type", ("a seed instead of a key", 0)], "batch_size": COUNT + ["type"]}),
    Row("sip_experiments.sweep.sin_batch_loss",
        {"method": "SIP", "params": MLP, "y_target": SIN_Y, "xi": 2.0, "phi_deg": 15.0,
         "proxy": "l1"},
        {"method": ["type", "name"], "params": ["type", "empty"],
         "y_target": ["type", "shape", "nan", "inf", "empty"], "xi": ["nan", "zero", "negative"],
         "phi_deg": ["nan"], "proxy": ["type", "name"]}),
    Row("sip_experiments.sweep.sin_initial_state", {"seed": 0}, {"seed": SEED}),
    Row("sip_experiments.sweep.run_sin_sweep",
        {"method": "Adam", "xis": [1.0, 2.0], "phis": [0.0, 15.0], "steps": 10, "log_every": 5,
         "proxy": "l1", "seed": 0, "batch_size": 8},
        {"method": ["type", "name"],
         "xis": ["type", "nan", "inf", "empty", ("zero", [0.0, 1.0]), ("negative", [-1.0, 1.0]),
                 ("three settings for two angles", [1.0, 2.0, 3.0])],
         "phis": ["type", "nan", "inf"], "steps": COUNT,
         "log_every": COUNT + [("not a divisor of steps", 3, "multiple of log_every")],
         "proxy": ["type", "name"], "seed": SEED, "batch_size": COUNT},
        run_valid=False),
    Row("sip_experiments.sweep.sin_sweep_program",
        {"method": "SIP", "xis": [1.0], "phis": [0.0], "steps": 10, "log_every": 10},
        {"method": ["name"], "xis": ["nan", "empty"], "phis": ["nan"], "steps": COUNT,
         "log_every": ["zero", ("not a divisor of steps", 4, "multiple of log_every")]},
        run_valid=False),
    Row("sip_experiments.sweep.sin_step_timer", {"method": "Adam", "xi": 2.0, "phi_deg": 0.0, "steps": 10},
        {"method": ["type", "name"], "xi": ["type", "nan", "inf", "zero", "negative"],
         "phi_deg": ["nan", "inf"], "steps": COUNT},
        run_valid=False),
    Row("hig_experiments.hig_toy_init", {"seed": 0, "hidden": 7},
        {"seed": SEED, "hidden": COUNT + ["type"]}),
    Row("hig_experiments.train_hig_toy",
        {"data": HIG_DATA, "lam": 0.01, "method": "svd", "steps": 2, "log_every": 1,
         "batch_size": 4, "seed": 0, "hidden": 3, "kappa": -0.5, "tau": 1e-5, "eta": 1.0,
         "mode": "truncate", "lr": 1e-2, "time_budget": None, "max_steps": None},
        {"data": ["type", ("three arrays", HIG_DATA[:3]),
                  ("NaN in the training inputs", (_with_entry(HIG_DATA[0], math.nan), *HIG_DATA[1:]), "x_train"),
                  ("NaN in the validation targets", (*HIG_DATA[:3], _with_entry(HIG_DATA[3], math.nan)), "y_val"),
                  ("an empty validation set", (*HIG_DATA[:2], HIG_DATA[2][:0], HIG_DATA[3][:0]), "x_val"),
                  ("targets for other samples", (HIG_DATA[0], HIG_DATA[1][:5], *HIG_DATA[2:]), "y_train"),
                  ("an extra input coordinate", (np.hstack([HIG_DATA[0]] * 2), *HIG_DATA[1:]), "x_train")],
         "lam": POSITIVE, "method": ["type", "name"], "steps": COUNT,
         "log_every": COUNT + [("not a divisor of steps", 3, "multiple of log_every")],
         "batch_size": COUNT, "seed": SEED, "hidden": COUNT,
         "kappa": NUMBER + [("above 1", 1.5)], "tau": NUMBER + ["zero"], "eta": POSITIVE,
         "mode": ["type", "name"], "lr": POSITIVE,
         "time_budget": [("zero", 0.0), ("NaN", math.nan), ("negative", -1.0), ("a string", "abc")],
         "max_steps": [("zero (with a time budget)", 0)]},
        call=lambda max_steps=None, time_budget=None, **kw: hig_experiments.train_hig_toy(
            time_budget=1.0 if max_steps == 0 else time_budget, max_steps=max_steps, **kw),
        names={"data": "data"}),
    # notebook, reference, machine
    Row("notebook.show_source", {"functions": [physics.toy_physics]},
        {"functions": ["empty", ("a string", ["abc"]), ("a built-in without source", [len])]},
        call=lambda functions: resolve("notebook.show_source")(*functions),
        names={"functions": "functions"}),
    Row("notebook.rule_source", {"function": physics.toy_physics},
        {"function": [("a string", "abc"), ("a built-in without source", len)]}),
    Row("reference.reference_path", {"page": "hig-toy"},
        {"page": ["type", ("empty", ""), ("a path", "a/b")]}),
    Row("reference.load_references", {"page": "hig-toy"}, {"page": ["type", ("a path", "../x")]}),
    Row("reference.within", {"value": 1.0, "entry": {"value": 1.0, "tolerance": 1.1}},
        {"value": ["type", "nan", "inf"],
         "entry": ["type", ("no value", {"tolerance": 1.1}), ("an unknown kind", {"value": 1, "kind": "x"}, "kind")]}),
    Row("reference.describe_tolerance", {"entry": {"value": 1.0, "tolerance": 1.1}},
        {"entry": ["type", "empty"]}),
    Row("reference.check_outcomes", {"page": "no-page", "values": {"a": 1.0}, "absolute": ()},
        {"page": ["type", ("a path", "a/b")],
         "values": ["type", "empty", ("a NaN value", {"a": math.nan}, "'a'"),
                    ("a string value", {"a": "x"}, "'a'")],
         "absolute": [("a string", "a"), ("a name not in values", ("b",))]},
        run_valid=False),
    Row("reference.deviation", {"value": 1.0, "reference": 1.2, "kind": "factor"},
        {"value": ["type", "nan"], "reference": ["type", "inf"], "kind": ["type", "name"]}),
    Row("reference.set_tolerances", {"record_files": ["x.jsonl"]},
        {"record_files": ["type", "empty", ("a file that does not exist", ["/no/such/file.jsonl"])]},
        run_valid=False),
    Row("machine.configuration", {"name": "avx"},
        {"name": ["type", "name", ("a list", ["avx"])]}, names={"name": "configuration"}),
    Row("machine.command_prefix", {"name": "one-core"},
        {"name": ["type", "name"]}, names={"name": "configuration"}),
    # sip_experiments (what its callees validate; see EXEMPT for its own gaps)
    Row("sip_experiments.figures.exact_solutions", {"y_target": (0.3, -0.5), "xi": 1.0, "phi_deg": 15.0},
        {"y_target": ["shape", "nan", ("outside [-1, 1]", (1.5, 0.0))],
         "xi": ["nan", "zero", "negative"], "phi_deg": ["nan", "inf"]}),
    Row("sip_experiments.runs.measure_step_times",
        {"methods": ("Adam",), "steps": 10, "repeats": 1, "xi": 2.0, "phi_deg": 0.0},
        {"methods": [("an unknown method", ("Newton",), "method")], "steps": ["zero", "negative"],
         "repeats": COUNT, "xi": ["nan", "zero"], "phi_deg": ["nan"]}, run_valid=False),
    Row("sip_experiments.runs.sweep_values", {"results": {}, "sweep": "xi_sweep"},
        {"sweep": ["type", "name"]}, run_valid=False),
    # hig_experiments
    Row("hig_experiments.run_method", {"name": "HIG", "lam": 0.01, "steps": 100},
        {"name": ["type", "name"], "lam": POSITIVE,
         "steps": ["negative", "zero", "fraction", ("a string", "abc")]},
        names={"name": "method"}, run_valid=False),
    Row("hig_experiments.run_comparison", {"lam": 0.01, "time_budget": 1.0},
        {"lam": POSITIVE, "time_budget": ["zero", "negative", "nan"]}, run_valid=False),
    Row("hig_experiments.value_at_step", {"run": FAKE_RUN, "key": "val_loss", "step": 10},
        {"run": ["type", "empty"], "key": ["type", "name", ("params (not logged)", "params")],
         "step": ["type", "negative", "fraction", ("a step that was not logged", 15, "not logged")]}),
    Row("hig_experiments.run_seeds", {"comparisons": {}, "seeds": (0, 1)},
        {"comparisons": ["type", "empty"], "seeds": ["type", "empty", ("a negative seed", (0, -1))]},
        run_valid=False),
    Row("hig_experiments.step_table", {"runs": {}},
        {"runs": ["type", "empty", ("a λ missing", {1.0: {}})]}, run_valid=False),
    Row("hig_experiments.summary_table", {"seed_results": {}},
        {"seed_results": ["type", "empty", ("entries without values", {(1.0, "HIG"): {}})]},
        run_valid=False),
    Row("hig_experiments.run_kappa_sweep", {"lam": 0.01, "kappas": (-0.5,), "steps": 100},
        {"lam": ["zero", "nan"], "kappas": ["type", "empty", ("κ = 2", (2.0,)), ("NaN", (math.nan,))],
         "steps": COUNT}, run_valid=False),
    Row("hig_experiments.run_gn_tau_sweep", {"taus": (1e-3,), "seeds": (0,), "steps": 100},
        {"taus": ["type", "empty", ("τ = 0", (0.0,))], "seeds": ["empty", ("a negative seed", (-1,))],
         "steps": COUNT}, run_valid=False),
    Row("hig_experiments.gn_tau_table", {"sweep": {}, "taus": (1e-3,)},
        {"sweep": ["type", "empty"], "taus": ["empty", ("τ = 1", (1.0,))]}, run_valid=False),
    Row("hig_experiments.run_clamp_comparison", {"lam": 0.01, "taus": (1e-3,), "steps": 100},
        {"lam": ["negative"], "taus": ["type", "empty", ("NaN", (math.nan,))], "steps": COUNT},
        run_valid=False),
    Row("hig_experiments.timings.measure_step_time", {"name": "HIG", "steps": 10, "repeats": 1, "lam": 0.01},
        {"name": ["type", "name"], "steps": COUNT, "repeats": COUNT, "lam": POSITIVE},
        run_valid=False),
    Row("hig_experiments.timings.measure_method_times", {"steps": 10, "repeats": 1},
        {"steps": COUNT, "repeats": COUNT}, run_valid=False),
    Row("hig_experiments.timings.measure_decomposition_times", {"rows": 8, "cols": 4, "steps": 3, "repeats": 1},
        {"rows": COUNT, "cols": COUNT + [("more columns than rows", 9, "cols")], "steps": COUNT,
         "repeats": COUNT}),
    Row("hig_experiments.timings.svd_cost_model", {"batch_size": 128, "hidden": 7},
        {"batch_size": COUNT + ["type"], "hidden": COUNT + ["type"]}),
    Row("hig_experiments.timings.measure_hig_growth",
        {"batch_sizes": [16], "widths": [7], "steps": 10, "repeats": 1},
        {"batch_sizes": ["type", "empty", ("a zero size", [0])],
         "widths": ["type", "empty", ("a negative width", [-7])], "steps": ["zero"],
         "repeats": ["zero"]}, run_valid=False),
    Row("hig_experiments.timings.growth_table", {"rows": [(16, 30, 1e-4, 100), (32, 30, 2e-4, 200)],
                                         "size_name": "B"},
        {"rows": ["type", "empty", ("zero seconds", [(16, 30, 0.0, 100)])]}),
    # physics: the crux (scale-invariance), the oscillators, the heat equation
    Row("physics.crux_inverse", {"y": (0.5, 0.25), "alpha": 2.0},
        {"y": ARRAY + ["rank", "empty"], "alpha": POSITIVE}),
    Row("physics.crux_squared_inverse", {"y": (0.5, 0.25), "alpha": 2.0},
        {"y": ARRAY + ["rank", ("y2 < 0 (no real x2)", (0.5, -0.25), "y1 >= 0")],
         "alpha": POSITIVE}),
    Row("physics.check_oscillator_system", {"system": physics.LINEAR_CHAIN},
        {"system": ["type", ("a dict of settings", {"masses": 2})]}),
    Row("physics.oscillator_simulate",
        {"system": physics.OscillatorSystem(steps=6, dt=0.5), "state0": np.array(STATE0),
         "controls": np.zeros(6), "trajectory": False},
        {"system": ["type"],
         "state0": ARRAY + [("three coordinates for two masses", np.zeros(3), "state0")],
         "controls": ["type", "nan", "inf", ("one value too few", np.zeros(5), "one value per time step"),
                      ("another leading shape", np.zeros((2, 6)), "leading")]}),
    Row("physics.oscillator_data", {"seed": 0, "n_train": 4, "n_test": 2,
                                    "system": physics.OscillatorSystem(steps=6, dt=0.5)},
        {"seed": SEED, "n_train": COUNT, "n_test": COUNT, "system": ["type"]}),
    Row("physics.heat.check_heat_grid", {"name": "x", "value": GRID8},
        {"name": ["type", ("empty", "")],
         "value": ["type", "nan", "inf", ("one row", np.zeros(8), "x"),
                   ("non-square grids", np.zeros((1, 8, 4)), "x")]},
        names={"value": "x"}),
    Row("physics.heat.heat_physics", {"x": GRID8, "nu_t": 8.0},
        {"x": ["type", "nan", "inf", ("one row", np.zeros(8)), ("non-square", np.zeros((8, 4)))],
         "nu_t": POSITIVE}),
    Row("physics.heat.heat_loss", {"x": GRID8, "y_target": GRID8, "nu_t": 8.0},
        {"x": ["type", "nan"], "y_target": ["type", "nan", ("another batch", np.zeros((2, 8, 8)))],
         "nu_t": POSITIVE}),
    Row("physics.heat.heat_damping", {"n": 8, "nu_t": 8.0}, {"n": COUNT, "nu_t": POSITIVE}),
    Row("physics.heat.radial_power_spectrum", {"e": GRID8},
        {"e": ["type", "nan", "inf", ("one row", np.zeros(8))]}),
    Row("physics.heat.heat_rectangles",
        {"seed": 0, "batch_size": 1, "n": 8, "count_range": (4, 10), "max_half_size": 2.0},
        {"seed": [("negative", -1), ("a fraction", 0.5), ("a string", "abc"), ("None", None)],
         "batch_size": COUNT, "n": COUNT + [("fewer than 8 cells", 4, "at least 8")],
         "count_range": [("zero rectangles", (0, 5)), ("too many", (4, 30)), ("reversed", (6, 5)),
                         ("letters", "ab")],
         "max_half_size": POSITIVE + [("beyond half the grid", 40.0)]}),
    # updates: the heat equation's inverse step
    Row("updates.heat_inverse_step",
        {"residual": GRID8[0], "log_kernel": physics.heat_log_kernel(8, 8.0), "inverse": "bayes"},
        {"residual": ["type", "nan", "inf", ("one row", np.zeros(8))],
         "log_kernel": ["type", "nan", ("negative exponents", -physics.heat_log_kernel(8, 8.0)),
                        ("another grid", physics.heat_log_kernel(4, 8.0), "residual")],
         "inverse": ["type", "name"]}),
    # models (the U-Net; its parameters are not built here: the bad values fail first)
    Row("models.unet_init", {"seed": 0, "n": 16, "levels": 4, "filters": 16, "padding": "SAME"},
        {"seed": ["type", "negative", "fraction"],
         "n": COUNT + [("not divisible by 2^(levels-1)", 60)],
         "levels": COUNT, "filters": COUNT, "padding": ["type", "name"]},
        run_valid=False),
    # training: the generic loops of the hig-oscillators and sip-heat pages
    Row("training.run_chunks",
        {"chunk": chunk_program, "state": CHUNK_STATE, "inputs": {}, "chunk_steps": 2, "steps": 4,
         "time_budget": None, "max_steps": None, "label": "toy"},
        {"chunk": ["type"], "state": ["type", ("a plain tuple", tuple(CHUNK_STATE))],
         "chunk_steps": COUNT, "steps": COUNT + [("not a multiple of chunk_steps", 3, "multiple")],
         "time_budget": [("zero", 0.0), ("NaN", math.nan), ("a string", "abc")],
         "label": [("a number", 3)]},
        call=lambda **kw: list(training.run_chunks(**kw))),
    Row("training.run_chunks",
        {"chunk": chunk_program, "state": CHUNK_STATE, "inputs": {}, "chunk_steps": 2, "steps": 2,
         "time_budget": 1.0, "max_steps": 4, "label": "toy"},
        {"max_steps": [("missing with a time budget", None), ("zero", 0)]},
        call=lambda **kw: list(training.run_chunks(**kw))),
    Row("training.initial_state", {"params": np.zeros(3, np.float32), "opt_state": None, "seed": 0},
        {"params": ["type", "nan", "inf", "empty", "rank"], "seed": SEED}),
    Row("training.sampled_chunk", {"update": chunk_program, "metrics": chunk_program,
                                   "batch_size": 2, "chunk_steps": 2},
        {"update": ["type"], "metrics": ["type"], "batch_size": COUNT, "chunk_steps": COUNT}),
    Row("training.compile_chunk", {"chunk": chunk_program, "state": CHUNK_STATE, "inputs": {}},
        {"chunk": ["type"], "state": ["type", ("a plain tuple", tuple(CHUNK_STATE))]},
        run_valid=False),
    Row("training.check_budget",
        {"steps": 4, "chunk_steps": 2, "time_budget": 1.0, "max_steps": 8,
         "chunk_name": "log_every", "max_factor": 10},
        {"steps": COUNT + [("not a multiple of the chunk", 3, "multiple of log_every")],
         "chunk_steps": COUNT, "time_budget": [("zero", 0.0), ("NaN", math.nan)],
         "max_steps": [("zero", 0)]},
        names={"chunk_steps": "log_every"}),
    Row("training.train_chunks",
        {"chunk": lambda state, inputs: (chunk_program(state, inputs)[0],
                                         {"loss": state.params.sum()}),
         "state": CHUNK_STATE, "inputs": {}, "metrics0": {"loss": 0.0},
         "chunk_steps": 2, "steps": 4, "progress": None},
        {"chunk": ["type"], "state": ["type"], "metrics0": ["type", "empty"],
         "chunk_steps": COUNT, "steps": COUNT, "progress": [("a number", 3)]}),
    Row("training.control_template", {"params": CONTROL_PARAMS},
        {"params": ["type", "empty", ("integer parameters", [(np.ones((2, 3), int), np.zeros(3, int))])]}),
    Row("training.control_test_loss",
        {"network": control_network, "physics": control_physics, "params": CONTROL_PARAMS,
         "x_test": CONTROL_X, "y_test": CONTROL_X},
        {"network": ["type"], "physics": ["type"], "params": ["type", "empty"],
         "x_test": ["type", "nan", "empty"],
         "y_test": ["type", "nan", ("targets for other samples", np.zeros((3, 2)))]}),
    Row("training.train_control_network",
        {"network": control_network, "physics": control_physics, "params": CONTROL_PARAMS,
         "data": CONTROL_DATA, "method": "svd", "steps": 2, "chunk_steps": 1, "batch_size": 2,
         "seed": 0, "kappa": -0.5, "tau": 1e-6, "eta": 1.0, "mode": "truncate",
         "time_budget": None, "name": None, "progress": None},
        {"network": ["type"], "physics": ["type"],
         "params": [("NaN parameters", [(w * np.nan, b) for w, b in CONTROL_PARAMS])],
         "data": ["type", ("two arrays", CONTROL_DATA[:2]),
                  ("targets for other samples", (CONTROL_X, CONTROL_X[:3], CONTROL_X, CONTROL_X), "x_train"),
                  ("NaN in the test targets", (*CONTROL_DATA[:3], CONTROL_X * np.nan), "y_test")],
         "method": ["type", "name"], "steps": COUNT,
         "chunk_steps": COUNT + [("not a divisor of steps", 3, "multiple of chunk_steps")],
         "batch_size": COUNT, "seed": SEED, "kappa": NUMBER + [("above 1", 2.0)],
         "tau": NUMBER + ["zero", ("above 1", 1.5)], "eta": POSITIVE, "mode": ["type", "name"],
         "time_budget": [("negative", -1.0), ("NaN", math.nan)], "name": [("a number", 3)],
         "progress": [("a number", 3)]},
        run_valid=False),
    Row("training.train_control_network",
        {"network": control_network, "physics": control_physics, "params": CONTROL_PARAMS,
         "data": CONTROL_DATA, "method": "adam", "steps": 2, "chunk_steps": 1, "batch_size": 2,
         "lr": 1e-3},
        {"lr": POSITIVE}, run_valid=False),
    Row("heat_experiments.heat_optimizer", {"method": "SIP", "batch_size": 8},
        {"method": ["type", "name"], "batch_size": COUNT}),
    Row("training.heat_direction_index", {"method": "SIP", "inverse": "bayes"},
        {"method": ["type", "name"], "inverse": ["type", "name"]}),
    Row("training.train_heat",
        {"method": "SIP", "params": {"unused": np.zeros(1)}, "batches": heat_batches,
         "x_val": physics.heat_rectangles(1, 1, n=16, max_half_size=4.0), "steps": 2,
         "log_every": 1, "nu_t": 8.0, "inverse": "bayes", "chunk": 1, "loop": "jit",
         "progress": None, "optimizer": heat_experiments.heat_optimizer("SIP", 1)},
        {"method": ["type", "name"], "steps": COUNT, "optimizer": ["type"],
         "log_every": COUNT + [("not a divisor of steps", 3, "multiple of log_every")],
         "chunk": COUNT, "nu_t": POSITIVE, "inverse": ["type", "name"], "loop": ["type", "name"],
         "batches": ["type", ("a non-finite batch", lambda step: np.full((2, 16, 16), np.nan),
                              "batch of step 0")],
         "x_val": ["type", "nan", ("a 32 × 32 set for 16 × 16 batches", np.zeros((1, 32, 32))),
                   ("one grid without a batch axis", np.zeros((16, 16)))],
         "progress": [("a number", 3)]},
        run_valid=False),
    # plotting
    Row("plotting.method_color", {"name": "GD"}, {"name": ["type", "name", ("a list", ["GD"])]},
        names={"name": "method"}),
    Row("plotting.diagram_box",
        {"ax": new_ax(), "left": 0.0, "bottom": 0.0, "width": 1.0, "height": 1.0, "text": "x",
         "title": None, "facecolor": "#f4f4f4"},
        {"ax": ["type"], "left": NUMBER, "bottom": NUMBER, "width": POSITIVE, "height": POSITIVE,
         "text": ["type"], "title": [("a number", 3)],
         "facecolor": [("not a colour", "no-such-colour"), ("None", None)]}),
    Row("plotting.diagram_arrow",
        {"ax": new_ax(), "start": (0.0, 0.0), "end": (1.0, 1.0), "color": "black", "rad": 0.0},
        {"ax": ["type"], "start": ARRAY, "end": ARRAY, "color": [("not a colour", "no-such-colour")],
         "rad": NUMBER}),
    Row("plotting.loss_contours",
        {"ax": new_ax(), "loss": physics.toy_loss_x, "xlim": (-1.0, 1.0), "ylim": (-1.0, 1.0),
         "levels": 5, "resolution": 10},
        {"ax": ["type"], "loss": ["type"],
         "xlim": ARRAY + [("reversed", (1.0, -1.0), "low < high")], "ylim": ARRAY,
         "levels": ["type", "zero", "negative", ("decreasing values", [2.0, 1.0], "increasing"),
                    ("no values", [])],
         "resolution": COUNT + [("one point", 1)]}),
    Row("plotting.plot_trajectory",
        {"ax": new_ax(), "points": [[0.0, 0.0], [1.0, 1.0]], "method": "GD"},
        {"ax": ["type"], "points": ARRAY + ["rank", "empty"], "method": ["type", "name"]}),
    Row("notebook.glue_key", {"name": "median loss, lam 0.01"},
        {"name": ["type", ("empty", ""), ("only punctuation", "..", "letter")]}),
    Row("notebook.glue_values", {"values": {"median loss, lam 0.01": 1.0}},
        {"values": ["type", "empty", ("a NaN value", {"a": math.nan}, "must be finite"),
                    ("a name without a letter", {"..": 1.0}, "letter")]},
        run_valid=False),
    Row("notebook.glue", {"name": "x", "value": 1.0, "display": False},
        {"name": ["type", ("empty", ""), ("a space", "a b")],
         "value": [("NaN", math.nan, "must be finite"), ("a float32 infinity", np.float32("inf"),
                                                          "must be finite")]},
        run_valid=False),
    # reference
    Row("reference.recorded_costs", {"page": "hig-toy"}, {"page": ["type", ("a path", "a/b")]}),
    Row("reference.stored_spread", {"page": "hig-toy", "name": "median loss, lam 1, Adam"},
        {"page": ["type", ("a path", "a/b")],
         "name": [("an unknown quantity", "no-such-quantity", "no measured spread"),
                  ("a number", 3, "no measured spread")]}),
    Row("reference.record_costs", {"page": "no-page", "seconds_per_update": {"Adam": 1e-3}},
        {"seconds_per_update": ["type", "empty", ("a zero cost", {"Adam": 0.0}, "cost of 'Adam'"),
                                ("a string cost", {"Adam": "fast"}, "cost of 'Adam'")]}),
    Row("reference.record_verdicts", {"page": toy_experiments.PAGE, "judgements": TOY_JUDGED},
        {"page": ["type", ("another page", "sip-heat")], "judgements": ["type", "empty"]},
        call=record_verdicts),
    Row("reference.stored_verdicts", {"page": "sip-heat"}, {"page": ["type", ("a path", "a/b")]}),
    Row("reference.tolerance", {"page": "hig-toy", "name": "median loss, lam 1, Adam"},
        {"page": ["type", ("a path", "a/b")],
         "name": [("an unknown quantity", "no-such-quantity", "no factor tolerance"),
                  ("an unstable quantity", "median loss, lam 1, HIG", "no factor tolerance"),
                  ("a number", 3, "no factor tolerance")]}),
    # claims: the registry and its rules
    Row("claims.register", {"claim": toy_experiments.CLAIM},
        {"claim": ["type", ("another claim of a registered name",
                            dataclasses.replace(toy_experiments.CLAIM, rule="yes always, never no"))]}),
    Row("claims.claim", {"name": TOY_CLAIM}, {"name": ["type", "name"]}, names={"name": "claim"}),
    Row("claims.page_claims", {"page": toy_experiments.PAGE},
        {"page": ["type", ("empty", ""), ("a page without claims", "no-page")]}),
    Row("claims.judge", {"name": TOY_CLAIM, "evidence": TOY_EVIDENCE, "budget": "book"},
        {"name": ["type", "name"], "evidence": ["type"], "budget": ["type", ("empty", "")]},
        names={"name": "claim"}),
    Row("claims.judge_page", {"page": toy_experiments.PAGE, "evidence_by_budget": {"book": TOY_EVIDENCE}},
        {"page": ["type", ("a page without claims", "no-page")],
         "evidence_by_budget": ["type", "empty", ("a budget's evidence no dict", {"book": 3}, "evidence")]}),
    Row("claims.to_stored", {"judgements": TOY_JUDGED},
        {"judgements": ["type", "empty", ("a claim's judgements not in a list", {TOY_CLAIM: 3})]}),
    Row("claims.from_stored", {"stored": TOY_STORED},
        {"stored": ["type", "empty", ("an unknown claim", {"no/such-claim": TOY_STORED[TOY_CLAIM]}, "claim"),
                    ("a claim without budgets", {TOY_CLAIM: {}})]}),
    Row("claims.ladder", {"value": 1.5, "yes": 2.0, "partly": 1.0},
        {"value": NUMBER, "yes": NUMBER,
         "partly": [A_STRING, "shape", "nan", "inf", ("beyond yes", 3.0)]}),
    Row("claims.graded", {"value": 1.5, "shown": "1.5", "yes": 2.0, "partly": 1.0},
        {"value": NUMBER, "shown": ["type", ("empty", "")], "yes": NUMBER,
         "partly": [A_STRING, "nan", "inf", ("beyond yes", 3.0)]}),
    Row("claims.markdown_cell", {"text": "a | b {cite:p}`holl2022sip`"},
        {"text": [("an unknown citation", "{cite:p}`nobody2000`", "citation key")]}),
    Row("claims.near", {"value": 1.0, "threshold": 1.02}, {"value": NUMBER, "threshold": NUMBER}),
    Row("claims.within_factor", {"value": 1.0, "target": 1.5, "yes": 2.0, "partly": 4.0},
        {"value": POSITIVE, "target": POSITIVE, "yes": NUMBER,
         "partly": [A_STRING, "shape", "nan", "inf", ("nearer than yes", 1.5)]}),
    Row("claims.combine", {"ladders": [("yes", False), ("partly", True)]},
        {"ladders": ["empty", ("an unknown verdict", [("maybe", False)]), ("a number", [3]),
                     ("within_factor's triple", [("yes", False, 1.2)])]},
        call=lambda ladders: claims.combine(*ladders)),
    Row("claims.not_run", {"reason": "no record"}, {"reason": ["type", ("empty", "")]}),
    Row("claims.verdict_table", {"judgements": TOY_JUDGED, "columns": None},
        {"judgements": ["type", "empty"],
         "columns": [A_STRING, ("empty", []), ("an unknown budget", ["no-such-budget"], "column")]}),
    Row("claims.rules_list", {"page": toy_experiments.PAGE},
        {"page": ["type", ("a page without claims", "no-page")]}),
    Row("claims.glue_names", {"judgements": TOY_JUDGED}, {"judgements": ["type", "empty"]}),
    Row("claims.glue_name", {"name": TOY_CLAIM, "budget": "book: 3 steps"},
        {"name": ["type", ("empty", "")], "budget": ["type", ("empty", "")]}),
    Row("claims.plain", {"text": "as {cite:p}`holl2022sip` shows"},
        {"text": ["type", ("an unknown citation key", "{cite:p}`nobody2020`", "citation key")]}),
    # common: what every page module shares
    Row("common.best_seconds", {"call": lambda: jnp.ones(2), "repeats": 1},
        {"call": ["type"], "repeats": COUNT + ["type"]}),
    Row("common.provenance", {"extra": {"seconds": 1.0}},
        {"extra": [("a key provenance sets", {"commit": "abc"})]},
        call=lambda extra: common.provenance(**extra)),
    Row("common.write_provenance", {"out": SCRATCH_DIR, "command": "sip-heat-record", "wall_seconds": 1.0},
        {"out": ["type", ("a file", pathlib.Path(__file__)), ("a missing directory", "/no/such/dir")],
         "command": ["type", ("empty", "")], "wall_seconds": NUMBER + ["negative"]}),
    Row("common.save_figures", {"out": SCRATCH_DIR, "figures": {"empty_figure": Figure}, "formats": ("png",)},
        {"out": ["type", ("a file", pathlib.Path(__file__)), ("a missing directory", "/no/such/dir")],
         "figures": ["type", "empty", ("a value that is no figure", {"f": 3})],
         "formats": [A_STRING, ("None", None), "empty", ("an unknown format", ("gif",), "format")]}),
    Row("common.check_format", {"suffix": "png"},
        {"suffix": [("an unknown format", "gif"), ("a number", 3), ("None", None)]},
        names={"suffix": "format"}),
    Row("common.add_reproduce_command",
        {"subparsers": fresh_subparsers, "name": "x-reproduce", "help": "h", "description": "d",
         "run": lambda args: 0, "out": "out", "check": None},
        {"subparsers": [("a parser instead of its sub-commands", argparse.ArgumentParser()), ("None", None)],
         "name": ["type", ("empty", "")], "run": ["type"], "check": [A_STRING, ("a number", 3)]},
        call=add_reproduce_command),
    Row("common.add_record_command",
        {"subparsers": fresh_subparsers, "name": "x-record", "source": "x-reproduce",
         "contents": "one budget", "run": lambda args: 0},
        {"subparsers": [("a parser instead of its sub-commands", argparse.ArgumentParser()), ("None", None)],
         "name": ["type", ("empty", "")], "source": ["type", ("empty", "")],
         "contents": ["type", ("empty", "")], "run": ["type"]},
        call=add_record_command),
    # theory_experiments (scale-invariance)
    Row("theory_experiments.crux_problem", {"alpha": 1.0, "power": 1, "units": 1.0},
        {"alpha": POSITIVE, "power": ["type", "name", ("3", 3)], "units": POSITIVE}),
    Row("theory_experiments.crux_step",
        {"method": "GD", "alpha": 1.0, "x": X2T, "eta": 0.1, "power": 1, "units": 1.0},
        {"method": ["type", "name"], "alpha": POSITIVE, "x": ARRAY + ["rank", "empty", "int"],
         "eta": OPTIONAL_POSITIVE, "power": ["name"], "units": POSITIVE}),
    Row("theory_experiments.scaling_table", {"alpha": 1.0, "x": X2T},
        {"alpha": POSITIVE, "x": ARRAY + ["rank", ("a zero coordinate", (1.5, 0.0), "non-zero")]}),
    Row("theory_experiments.format_table",
        {"table": {"GD": {"a": 1.0}}, "columns": ["a"], "row_title": "method", "width": 10,
         "fmt": "{:.4g}"},
        {"table": ["type", "empty", ("a row without the column", {"GD": {}})],
         "columns": ["type", "empty", ("a number", [1])], "row_title": ["type"],
         "width": COUNT, "fmt": ["type", ("no placeholder for a number", "{x}")]}),
    Row("theory_experiments.contraction_factors",
        {"method": "GD", "alpha": 1.0, "eta": 0.1, "x": X2T},
        {"method": ["type", "name"], "alpha": POSITIVE, "eta": OPTIONAL_POSITIVE,
         "x": ARRAY + [("a zero coordinate", (0.0, 1.0), "non-zero")]}),
    Row("theory_experiments.steps_to_tolerance",
        {"method": "GD", "alpha": 1.0, "eta": 0.1, "tolerance": 1e-3},
        {"method": ["type", "name"], "alpha": POSITIVE, "eta": OPTIONAL_POSITIVE,
         "tolerance": POSITIVE + [("1", 1.0)]}),
    Row("theory_experiments.iterate_to_tolerance",
        {"method": "Newton", "alpha": 1.0, "eta": 0.5, "tolerance": 0.1, "max_steps": 5, "x": X2T},
        {"method": ["type", "name"], "alpha": POSITIVE, "eta": OPTIONAL_POSITIVE,
         "tolerance": NUMBER + ["zero", ("1", 1.0)], "max_steps": COUNT, "x": ARRAY + ["rank"]}),
    Row("theory_experiments.best_gd_eta", {"alpha": 1.0}, {"alpha": POSITIVE}),
    Row("theory_experiments.steps_table", {"alphas": (1.0,), "tolerance": 1e-3},
        {"alphas": ["type", "empty", ("a zero alpha", (0.0,)), ("NaN", (math.nan,))],
         "tolerance": NUMBER + ["zero", ("1", 1.0)]}),
    Row("theory_experiments.format_steps_table",
        {"table": {"alpha = 1": {c: 3 for c in theory_experiments.STEP_COLUMNS}}},
        {"table": ["type", "empty", ("a missing column", {"alpha = 1": {}}),
                   ("a negative count", {"alpha = 1": {c: -1 for c in theory_experiments.STEP_COLUMNS}})]}),
    Row("theory_experiments.path_average", {"alpha": 1.0, "x": X2T, "eta": 0.5, "nodes": 4},
        {"alpha": POSITIVE, "x": ARRAY + [("x2 = 0", (1.5, 0.0), "x2 > 0")], "eta": OPTIONAL_POSITIVE,
         "nodes": COUNT}),
    Row("theory_experiments.draw_crux_updates", {"axes": [AX], "alphas": (1.0,), "x": X2T, "box": 2.0},
        {"axes": ["type", ("two axes for one alpha", [AX, AX])],
         "alphas": ["type", "empty", ("a negative alpha", (-1.0,))], "x": ARRAY, "box": POSITIVE}),
    Row("theory_experiments.figure_crux_updates", {"alphas": (1.0,)},
        {"alphas": ["type", "empty", ("a negative alpha", (-1.0,))]}),
    # toy_experiments (toy-comparison)
    Row("toy_experiments.draw_three_spaces", {"ax": new_ax()}, {"ax": ["type"]}),
    Row("toy_experiments.analytic_inverse", {"y": (0.5, 0.25), "x_start": X2},
        {"y": ARRAY + ["rank", "empty", ("y1 < 0", (0.5, -0.25), "y1 >= 0")]}),
    Row("toy_experiments.step_function", {"method": "GD", "inverse": toy_experiments.analytic_inverse},
        {"method": ["type", "name"], "inverse": ["type"]}),
    Row("toy_experiments.run_methods", {"steps": 2}, {"steps": COUNT}),
    Row("toy_experiments.measure_cost_per_update", {"repeats": 1}, {"repeats": COUNT}),
    Row("toy_experiments.final_distances", {"runs": TOY_RUNS},
        {"runs": ["type", "empty", ("a method without iterates", {"GD": np.zeros((0, 2))}),
                  ("a NaN iterate", {"GD": [[np.nan, 0.0]]}), ("three coordinates", {"GD": np.zeros((2, 3))})]}),
    Row("toy_experiments.evidence", {"runs": TOY_RUNS}, {"runs": [A_STRING, ("empty", {})]}),
    # heat_experiments (sip-heat)
    Row("heat_experiments.check_runs", {"names": ["SIP"]},
        {"names": ["type", "empty", ("an unknown run", ["Newton"], "method")]},
        names={"names": "runs"}),
    Row("heat_experiments.validation_set", {"size": 1, "seed": 0},
        {"size": COUNT, "seed": [("negative", -1), ("a fraction", 0.5), ("a string", "abc")]}),
    Row("heat_experiments.batch_sequence", {"batch_size": 1, "seed": 0},
        {"batch_size": COUNT, "seed": ["type", "negative", "fraction"]}),
    Row("heat_experiments.initial_network", {"seed": 0},
        {"seed": ["type", "negative", "fraction"]}, run_valid=False),
    Row("heat_experiments.check_validation_set", {"x_val": GRID64},
        {"x_val": ["type", "nan", "inf", ("a 32 × 32 set for the 64 × 64 network", np.zeros((1, 32, 32))),
                   ("one grid without a batch axis", GRID64[0]), ("no grid", np.zeros((0, 64, 64)))]}),
    Row("heat_experiments.run_methods",
        {"names": ["Adam"], "steps": 1, "batch_size": 1, "log_every": 1, "x_val": GRID64,
         "progress": None, "batches": None},
        {"names": ["type", "empty", ("an unknown run", ["Newton"], "method")],
         "steps": COUNT, "batch_size": COUNT,
         "log_every": COUNT + [("not a divisor of steps", 2, "multiple of log_every")],
         "x_val": [A_STRING, "nan", ("a 32 × 32 set for the 64 × 64 network", np.zeros((1, 32, 32))),
                   ("one grid without a batch axis", GRID64[0])],
         "progress": [("a number", 3)], "batches": [("a string", "abc")]},
        names={"names": "runs"}, run_valid=False),
    Row("heat_experiments.value_at_time", {"result": heat_run(1.0), "seconds": 0.05, "metric": "x_l1"},
        {"result": ["type", "empty"], "seconds": NUMBER + ["negative"], "metric": ["type", "name"]}),
    Row("heat_experiments.solve_per_sample",
        {"x_val": GRID8, "direction": "bayes", "iterations": 2, "rate": 1.0, "stop_y_loss": 1e-20},
        {"x_val": ["type", "nan", ("one grid without a batch axis", GRID8[0]),
                   ("non-square grids", np.zeros((1, 8, 4)))],
         "direction": ["type", "name"], "iterations": COUNT, "rate": POSITIVE,
         "stop_y_loss": POSITIVE}),
    Row("heat_experiments.run_solvers", {"x_val": GRID64, "iterations": 2},
        {"x_val": [A_STRING, "nan", ("a 32 × 32 set for the 64 × 64 network", np.zeros((1, 32, 32)))],
         "iterations": COUNT}, run_valid=False),
    Row("heat_experiments.error_spectra", {"results": HEAT_RESULTS, "x_val": GRID8, "solvers": HEAT_SOLVERS},
        {"results": ["type", "empty", ("an unknown run", {"Newton": heat_run(1.0)}, "method"),
                     ("predictions of another shape",
                      {"SIP": {**heat_run(1.0), "x_val_pred": np.zeros((2, 8, 8))}}, "x_val_pred")],
         "x_val": ["type", "nan"],
         "solvers": [A_STRING, ("an unknown solver", {"newton": HEAT_SOLVED}, "solver direction")]}),
    Row("heat_experiments.band_power", {"spectrum": SPECTRUM, "band": (0.04, 0.15)},
        {"spectrum": ["type", ("one array", np.zeros(5)),
                      ("arrays of different lengths", (np.zeros(5), np.zeros(4)), "spectrum[1]")],
         "band": ARRAY + [("reversed", (0.15, 0.04), "low < high"),
                          ("a band without bins", (0.9, 0.95), "no frequency")]}),
    Row("heat_experiments.common_time", {"results": HEAT_RESULTS, "names": ("SIP", "Adam")},
        {"results": ["type", "empty", ("without Adam", {"SIP": heat_run(1.0)}, "'Adam'")],
         "names": ["type", "empty", ("an unknown run", ("Newton",), "'Newton'")]}),
    Row("heat_experiments.equal_time_ratio", {"results": HEAT_RESULTS},
        {"results": ["type", "empty", ("without SIP", {"Adam": heat_run(1.0)}, "'SIP'")]}),
    Row("heat_experiments.outcomes", {"results": HEAT_RESULTS, "solvers": HEAT_SOLVERS, "x_val": GRID8},
        {"results": ["type", ("without SIP", {"Adam": heat_run(1.0)}, "'SIP'")],
         "solvers": ["type", "empty"], "x_val": [("another batch", np.zeros((2, 8, 8)))]}),
    Row("heat_experiments.summary_table", {"results": HEAT_RESULTS, "solvers": HEAT_SOLVERS},
        {"results": ["type", "empty", ("a run without y_l2",
                                       {"SIP": {k: v for k, v in heat_run(1.0).items() if k != "y_l2"}},
                                       "y_l2")],
         "solvers": ["type", "empty"]}),
    Row("heat_experiments.measure_step_times", {"batch_size": 1, "repeats": 1, "loop": "jit", "chunk": 1},
        {"batch_size": COUNT, "repeats": COUNT, "loop": ["type", "name"], "chunk": COUNT},
        run_valid=False),
    Row("heat_experiments.measure_cost_per_update", {"repeats": 1}, {"repeats": COUNT},
        run_valid=False),
    Row("heat_experiments.measure_loop_strategies", {"batch_size": 1, "chunk": 1, "repeats": 1},
        {"batch_size": COUNT, "chunk": COUNT, "repeats": COUNT}, run_valid=False),
    Row("heat_experiments.figures.figure_damping", {"nu_t": 8.0, "n": 8}, {"nu_t": POSITIVE, "n": COUNT}),
    Row("heat_experiments.figures.figure_curves", {"results": HEAT_RESULTS},
        {"results": ["type", "empty", ("an unknown run", {"Newton": heat_run(1.0)}, "method")]}),
    Row("heat_experiments.figures.figure_reconstructions",
        {"results": HEAT_RESULTS, "x_val": GRID8, "samples": (0,), "names": ("Adam", "SIP")},
        {"results": ["type", ("without SIP", {"Adam": heat_run(1.0)}, "'SIP'")],
         "x_val": ["type", ("one grid without a batch axis", GRID8[0])],
         "samples": ["type", "empty", ("a sample beyond x_val", (1,))],
         "names": ["type", "empty"]}),
    Row("heat_experiments.figures.figure_spectra", {"spectra": {"SIP": SPECTRUM}, "names": ("SIP",)},
        {"spectra": ["type", "empty", ("not a pair", {"SIP": np.zeros(3)}, "spectra['SIP']")],
         "names": ["type", "empty"]}),
    Row("heat_experiments.figures.figure_solvers", {"results": HEAT_RESULTS, "solvers": HEAT_SOLVERS},
        {"results": ["type", ("without Adam", {"SIP": heat_run(1.0)}, "'Adam'")],
         "solvers": ["type", "empty"]}),
    Row("heat_experiments.figures.figure_inverse_ablation", {"residual_sample": GRID8[0] - GRID8.mean(), "nu_t": 8.0},
        {"residual_sample": ["type", "nan", ("a batch", GRID8)], "nu_t": POSITIVE}),
    Row("heat_experiments.figures.figure_record", {"record": HEAT_RECORD, "short_runs": HEAT_RESULTS},
        {"record": ["type", "empty", ("without methods", without(HEAT_RECORD, "methods"), "'methods'")],
         "short_runs": [A_STRING, ("a run without x_l1", {"SIP": {"step": [0, 1]}}, "'x_l1'")]}),
    # heat_experiments (sip-heat): its long-budget record and its claims' evidence
    Row("heat_experiments.record.record_from_outputs", {"folders": HEAT_OUTPUTS[:1]},
        {"folders": ["type", "empty", ("a folder without results", [str(SCRATCH_DIR)], "output folder"),
                     ("runs of two batch sizes", HEAT_OUTPUTS)]}),
    Row("heat_experiments.record.write_record",
        {"record": HEAT_RECORD_STORED, "path": SCRATCH_DIR / "sip_heat_record.json"},
        {"record": ["type", "empty", ("without provenance", without(HEAT_RECORD_STORED, "provenance"),
                                      "'provenance'")],
         "path": [("a number", 3), ("None", None), ("a missing directory", "/no/such/dir/record.json")]}),
    Row("heat_experiments.record.final", {"record": HEAT_RECORD, "name": "SIP", "metric": "x_l1"},
        {"record": ["type", "empty"], "name": ["type", "name"], "metric": ["type", "name"]},
        names={"name": "method"}),
    Row("heat_experiments.record.value_at_step",
        {"record": HEAT_RECORD, "name": "SIP", "step": heat_record.PREFIX_STEPS, "metric": "x_l1"},
        {"record": ["type", "empty"], "name": ["type", "name"],
         "step": ["type", "negative", "fraction", ("a step the record did not log", 7, "logged")],
         "metric": ["type", "name"]},
        names={"name": "method"}),
    Row("heat_experiments.record.record_table", {"record": HEAT_RECORD, "paper": {"SIP": 50.4}},
        {"record": ["type", "empty"],
         "paper": [A_STRING, ("a string value", {"SIP": "fifty"}), ("NaN", {"SIP": math.nan})]}),
    Row("heat_experiments.claims.evidence_from", {"values": HEAT_VALUES},
        {"values": ["type", "empty", ("without the high-frequency ratio", without(HEAT_VALUES, HEAT_HIGH)),
                    ("a string value", {**HEAT_VALUES, "SIP final x_l1": "x"}),
                    ("a NaN value", {**HEAT_VALUES, HEAT_HIGH: math.nan})]}),
    Row("heat_experiments.claims.record_evidence", {"record": HEAT_RECORD},
        {"record": ["type", "empty",
                    ("without SGD", {**HEAT_RECORD, "methods": without(HEAT_RECORD["methods"], "SGD")},
                     "'SGD'")]}),
    Row("heat_experiments.claims.budget_labels", {"record": HEAT_RECORD},
        {"record": [A_STRING, "empty", ("without steps", without(HEAT_RECORD, "steps"), "'steps'")]}),
    Row("heat_experiments.claims.evidence", {"values": None},
        {"values": [A_STRING, ("empty", {})]}),
    # hig_experiments (hig-toy): its tables and figures
    Row("hig_experiments.claims.evidence_from_runs",
        {"seed_results": {**SEED_RESULTS, (0.01, "GN"): SEED_RESULTS[(0.01, "HIG")]},
         "clamp": {("GN", 1e-3, "clamp"): np.array([0.1, 0.2])},
         "comparison": {"Adam": FAKE_RUN}},
        {"seed_results": ["type", "empty"], "clamp": ["type", ("without GN clamped", {})],
         "comparison": ["type", ("without Adam", {"HIG": FAKE_RUN})]}),
    Row("hig_experiments.seed_outcomes", {"seed_results": SEED_RESULTS},
        {"seed_results": ["type", "empty",
                          ("Adam without val_loss_short",
                           {(0.01, "Adam"): {k: v for k, v in SEED_RESULTS[(0.01, "Adam")].items()
                                             if k != "val_loss_short"}})]}),
    Row("hig_experiments.plateau_exit_step", {"run": FAKE_RUN, "level": 0.6},
        {"run": ["type", "empty"], "level": POSITIVE}),
    Row("hig_experiments.timings.measure_cost_per_update", {"repeats": 1}, {"repeats": COUNT}, run_valid=False),
    Row("hig_experiments.figures.plot_hig_panels",
        {"axes": AXES3, "runs": {"HIG": HIG_RUN}, "lam": 0.01, "target": (0.8, -1.0), "time_limit": None},
        {"axes": ["type", ("two axes", AXES2)],
         "runs": ["type", "empty", ("a method without a colour", {"Newton-Raphson": HIG_RUN}, "method"),
                  ("a run without probe", {"HIG": {k: v for k, v in HIG_RUN.items() if k != "probe"}},
                   "probe")],
         "lam": POSITIVE, "target": ARRAY, "time_limit": [("zero", 0.0), ("NaN", math.nan)]}),
    Row("hig_experiments.figures.plot_hig_trajectory",
        {"ax": new_ax(), "runs": {"HIG": HIG_RUN}, "target": (0.8, -1.0), "time_limit": None,
         "max_step": None},
        {"ax": ["type"], "runs": ["type", "empty"], "target": ARRAY,
         "time_limit": [("zero", 0.0)], "max_step": [("negative", -1), ("a fraction", 0.5)]}),
    Row("hig_experiments.figures.plot_hig_loss_vs_steps",
        {"ax": new_ax(), "runs": {"HIG": HIG_RUN}, "max_step": None, "title": None},
        {"ax": ["type"],
         "runs": ["type", "empty", ("a run without val_loss", {"x": {"step": [0]}}, "val_loss")],
         "max_step": [("negative", -1)], "title": [("a number", 3)]}),
    Row("hig_experiments.figures.plot_hig_kappa_sweep", {"ax": new_ax(), "runs": {-0.5: HIG_RUN}},
        {"ax": ["type"], "runs": ["type", "empty", ("κ = 2", {2.0: HIG_RUN}, "κ")]}),
    Row("hig_experiments.figures.draw_hig_spaces", {"ax": new_ax()}, {"ax": ["type"]}),
    Row("hig_experiments.figures.figure_panels", {"runs": {lam: {"HIG": HIG_RUN} for lam in (1.0, 0.01)}},
        {"runs": ["type", "empty", ("a λ missing", {0.01: {"HIG": HIG_RUN}}, "1.0"),
                  ("a method without a colour", {lam: {"Newton-Raphson": HIG_RUN} for lam in (1.0, 0.01)},
                   "method")]}),
    Row("hig_experiments.figures.figure_early_steps",
        {"runs": {lam: {"HIG": HIG_RUN} for lam in (1.0, 0.01)}},
        {"runs": ["type", "empty", ("a λ missing", {1.0: {"HIG": HIG_RUN}}, "0.01")]}),
    Row("hig_experiments.figures.figure_kappa_sweep", {"runs": {-0.5: HIG_RUN}},
        {"runs": ["type", "empty", ("κ = 2", {2.0: HIG_RUN}, "κ")]}),
    # hig_oscillators_experiments (hig-oscillators)
    Row("hig_oscillators_experiments.relu_controller",
        {"params": init_mlp_glorot(KEY, [4, 3, 96]), "state0": np.array(STATE0)},
        {"params": ["type", "empty"], "state0": ARRAY + [("a state of 3", np.zeros(3), "state0")]}),
    Row("hig_oscillators_experiments.tanh_controller",
        {"params": init_mlp_glorot(KEY, [4, 3, 24]), "state0": np.array(STATE0)},
        {"params": ["type", "empty"], "state0": ARRAY}),
    Row("hig_oscillators_experiments.check_setting", {"setting": "linear"}, {"setting": ["type", "name"]}),
    Row("hig_oscillators_experiments.check_method", {"setting": "linear", "name": "HIG"},
        {"setting": ["type", "name"], "name": ["type", "name"]}, names={"name": "method"}),
    Row("hig_oscillators_experiments.page_data", {"setting": "linear"}, {"setting": ["type", "name"]},
        run_valid=False),
    Row("hig_oscillators_experiments.network_sizes", {"setting": "linear"}, {"setting": ["type", "name"]}),
    Row("hig_oscillators_experiments.initial_params", {"setting": "linear", "seed": 0},
        {"setting": ["type", "name"], "seed": SEED}),
    Row("hig_oscillators_experiments.initial_theta", {"setting": "linear", "seed": 0},
        {"setting": ["type", "name"], "seed": SEED}),
    Row("hig_oscillators_experiments.parameter_count", {"setting": "linear"}, {"setting": ["type", "name"]}),
    Row("hig_oscillators_experiments.run_method",
        {"setting": "linear", "name": "HIG", "seed": 0, "steps": 2, "time_budget": None,
         "progress": None, "overrides": {}},
        {"setting": ["type", "name"], "name": ["type", "name"], "seed": SEED, "steps": OPTIONAL_COUNT,
         "time_budget": [("zero", 0.0), ("NaN", math.nan), ("a string", "abc")],
         "progress": [("a number", 3)],
         "overrides": [("an unknown override", {"learning_rate": 1.0}, "override")]},
        call=lambda overrides, **kw: hig_oscillators_experiments.run_method(**kw, **overrides),
        names={"name": "method"}, run_valid=False),
    Row("hig_oscillators_experiments.diverged_run",  # its valid result holds inf by design
        {"error": TrainingDiverged("HIG: not finite at step 3", method="HIG", step=3)},
        {"error": [("a plain ValueError", ValueError("bad"), "TrainingDiverged"), ("a string", "abc")]},
        run_valid=False),
    Row("hig_oscillators_experiments.run_seeds",
        {"setting": "linear", "seeds": (0,), "methods": ["HIG"], "progress": None},
        {"setting": ["type", "name"], "seeds": ["type", "empty", ("a negative seed", (-1,))],
         "methods": [A_STRING, "empty", ("an unknown method", ["BFGS"], "method")],
         "progress": [("a number", 3)]}, run_valid=False),
    Row("hig_oscillators_experiments.completed", {"results": [OSC_RUN]},
        {"results": ["type", ("a list of numbers", [1, 2], "results[0]")]}),
    Row("hig_oscillators_experiments.final_test_losses", {"runs": OSC_RUNS},
        {"runs": ["type", "empty", ("a method without runs", {"HIG": []}, "runs['HIG']"),
                  ("a run without test_loss", {"HIG": [{"step": 1}]}, "test_loss")]}),
    Row("hig_oscillators_experiments.seed_table", {"runs": OSC_RUNS},
        {"runs": ["type", "empty", ("a run without time", {"HIG": [{"step": 1, "test_loss": 1.0}]},
                                    "time")]}),
    Row("hig_oscillators_experiments.loss_at_time", {"run": OSC_RUN, "seconds": 1.0},
        {"run": ["type", "empty"], "seconds": NUMBER + ["negative"]}),
    Row("hig_oscillators_experiments.controls_and_states",
        {"setting": "linear", "theta": THETA_LIN, "state0": STATE0},
        {"setting": ["type", "name"],
         "theta": ARRAY + [("the other setting's network",
                            np.asarray(hig_oscillators_experiments.initial_theta("nonlinear", 0)))],
         "state0": ARRAY + ["rank"]}),
    Row("hig_oscillators_experiments.joint_jacobian",
        {"setting": "linear", "theta": THETA_LIN, "batch": OSC_BATCH},
        {"setting": ["type", "name"], "theta": ["type", "shape", "nan"],
         "batch": ARRAY + ["empty"]}, run_valid=False),
    Row("hig_oscillators_experiments.jacobian_spectrum",
        {"setting": "linear", "theta": THETA_LIN, "batch": OSC_BATCH},
        {"setting": ["type", "name"], "theta": ["type", "nan"], "batch": ARRAY + ["empty"]},
        run_valid=False),
    Row("hig_oscillators_experiments.figures.figure_losses", {"runs": {"linear": OSC_RUNS}},
        {"runs": ["type", "empty", ("an unknown setting", {"quadratic": OSC_RUNS}, "setting"),
                  ("a method without runs", {"linear": {"HIG": []}}, "runs['linear']['HIG']")]}),
    Row("hig_oscillators_experiments.figures.figure_controls",
        {"setting": "linear", "runs": OSC_RUNS, "state0": STATE0},
        {"setting": ["type", "name"],
         "runs": ["type", "empty", ("a run without theta",
                                    {"HIG": [{k: v for k, v in OSC_RUN.items() if k != "params"}]},
                                    "params")],
         "state0": ARRAY}),
    Row("hig_oscillators_experiments.figures.figure_spectra",
        {"spectra": {("start", "-"): np.array([1.0, 0.1])}, "tau": 1e-6},
        {"spectra": ["type", "empty", ("a label without a line style", {"start": np.ones(2)}),
                     ("no singular values", {("start", "-"): np.zeros(0)})],
         "tau": POSITIVE}),
    Row("hig_oscillators_experiments.figures.figure_record",
        {"records": {"linear": OSC_RECORD}, "page_seconds": {"linear": 2.5}},
        {"records": ["type", "empty", ("an unknown setting", {"quadratic": OSC_RECORD}, "setting"),
                     ("a record without methods", {"linear": without(OSC_RECORD, "methods")}, "'methods'")],
         "page_seconds": [A_STRING, ("zero", {"linear": 0.0}), ("NaN", {"linear": math.nan})]}),
    # hig_oscillators_experiments (hig-oscillators): its long-budget records and claims
    Row("hig_oscillators_experiments.record.thin_indices",
        {"times": np.array([0.0, 0.1, 0.5, 1.0, 2.0, 4.0]), "points": 3},
        {"times": ARRAY + ["rank", "empty", ("decreasing", [1.0, 0.5], "increasing")],
         "points": COUNT + ["type"]}),
    Row("hig_oscillators_experiments.record.record_from_outputs",
        {"setting": "linear", "folders": OSC_OUTPUTS[:1], "page_steps": {"HIG": 2, "Adam": 2},
         "method_settings": OSC_SETTINGS},
        {"setting": ["type", "name"],
         "folders": ["type", "empty", ("a folder without results", [str(SCRATCH_DIR)], "output folder"),
                     ("runs of two budgets", OSC_OUTPUTS)],
         "page_steps": ["type", "empty"], "method_settings": ["type", "empty"]}),
    Row("hig_oscillators_experiments.record.write_record",
        {"record": OSC_RECORD_STORED, "path": SCRATCH_DIR / "hig_oscillators_record.json"},
        {"record": ["type", "empty", ("without provenance", without(OSC_RECORD_STORED, "provenance"),
                                      "'provenance'"),
                    ("an unknown setting", {**OSC_RECORD_STORED, "setting": "quadratic"})],
         "path": [("a number", 3), ("a missing directory", "/no/such/dir/record.json")]}),
    Row("hig_oscillators_experiments.record.load_record", {"setting": "linear"},
        {"setting": ["type", "name"]}),
    Row("hig_oscillators_experiments.record.completed_runs", {"record": OSC_RECORD, "method": "HIG"},
        {"record": ["type", "empty"], "method": ["type", "name"]}),
    Row("hig_oscillators_experiments.record.final_losses", {"record": OSC_RECORD},
        {"record": ["type", "empty", ("without methods", without(OSC_RECORD, "methods"), "'methods'")]}),
    Row("hig_oscillators_experiments.record.loss_curve_at",
        {"run": OSC_CURVE_RUN, "times": np.array([1.0, 10.0])},
        {"run": ["type", "empty", ("a diverged run (no curve)", {"seed": 0, "diverged": "x", "step": 4},
                                   "'curve'")],
         "times": ["type", "nan", "inf"]}),
    Row("hig_oscillators_experiments.record.crossing_times",
        {"record": OSC_RECORD, "lower": "HIG", "upper": "Adam"},
        {"record": ["type", "empty"], "lower": ["type", "name"], "upper": ["type", "name"]},
        names={"lower": "method", "upper": "method"}),
    Row("hig_oscillators_experiments.record.prefix_ratios", {"record": OSC_RECORD, "page_runs": OSC_PAGE_RUNS},
        {"record": ["type", "empty"],
         "page_runs": ["type", "empty", ("runs not in a list", {"HIG": 3}),
                       ("a run of another step count",
                        {"HIG": [{"step": np.array([0, 7]), "test_loss": np.array([1.0, 0.5])}]}),
                       ("a run without test_loss", {"HIG": [{"step": np.array([0, 7])}]}, "'test_loss'")]}),
    Row("hig_oscillators_experiments.record.record_table", {"record": OSC_RECORD},
        {"record": ["type", "empty"]}),
    Row("hig_oscillators_experiments.claims.orders", {"lower": 1e-3, "upper": 1e-1},
        {"lower": POSITIVE,
         "upper": ["type", "shape", "nan", "negative", "zero",
                   ("infinite: a diverged run (documented)", math.inf, is_infinite)]}),
    Row("hig_oscillators_experiments.claims.page_medians",  # every method: no inf for a missing one
        {"values": {**OSC_VALUES, "nonlinear/SIP/median": 1.0, "nonlinear/GN/median": 1.0}},
        {"values": ["type", "empty", ("without Adam's linear median", without(OSC_VALUES, "linear/Adam/median"),
                                      "linear/Adam/median")]}),
    Row("hig_oscillators_experiments.claims.record_evidence", {"records": {"linear": OSC_RECORD}},
        {"records": ["type", "empty", ("an unknown setting", {"quadratic": OSC_RECORD}, "setting"),
                     ("a record that is none", {"linear": {}}, "record")]}),
    Row("hig_oscillators_experiments.claims.budget_labels",
        {"page_seconds": hig_oscillators_experiments.PAGE_SECONDS, "records": OSC_RECORDS},
        {"page_seconds": ["type", "empty", ("without linear", {"nonlinear": 5.0}, "'linear'"),
                          ("a zero budget", {"nonlinear": 5.0, "linear": 0.0})],
         "records": ["type", ("a record without its budget", {"linear": {}}, "seconds_per_run")]}),
    Row("hig_oscillators_experiments.claims.evidence",  # its valid result holds inf by design
        {"values": None, "gn_finals": None},
        {"values": [A_STRING, ("empty", {})],
         "gn_finals": [A_STRING, ("empty", []), ("a NaN loss", [math.nan]), ("a zero loss", [0.0])]},
        run_valid=False),
    Row("hig_oscillators_experiments.measure_hig_split", {"setting": "linear", "batch_size": 4, "repeats": 1},
        {"setting": ["type", "name"],
         "batch_size": OPTIONAL_COUNT + [("more than the training set", 10**6)],
         "repeats": OPTIONAL_COUNT},
        run_valid=False),
    Row("hig_oscillators_experiments.measure_step_times",
        {"setting": "linear", "steps": 2, "repeats": 1, "methods": ["HIG"]},
        {"setting": ["type", "name"], "steps": OPTIONAL_COUNT, "repeats": COUNT,
         "methods": [A_STRING, "empty", ("an unknown method", ["BFGS"], "method")]}, run_valid=False),
    Row("hig_oscillators_experiments.measure_cost_per_update", {"repeats": 1}, {"repeats": COUNT},
        run_valid=False),
    Row("hig_oscillators_experiments.chunk_sweep",
        {"name": "HIG", "chunk_sizes": (1,), "setting": "linear", "total_steps": 2, "repeats": 1},
        {"name": ["type", "name"], "chunk_sizes": ["type", "empty", ("a zero chunk", (0,))],
         "setting": ["type", "name"], "total_steps": OPTIONAL_COUNT, "repeats": COUNT},
        names={"name": "method"}, run_valid=False),
    Row("hig_oscillators_experiments.orders_of_magnitude", {"loss_a": 1e-3, "loss_b": 1e-1},
        {"loss_a": POSITIVE, "loss_b": POSITIVE}),
    # sip_experiments (sip-training): its runs, views, claims, tables and figures
    Row("sip_experiments.runs.paper_budget", {"factor": 1.0, "log_every": 100, "methods": ("SIP",)},
        {"factor": POSITIVE, "log_every": COUNT,
         "methods": ["type", "empty", ("an unknown method", ("Newton",), "method")]}),
    Row("sip_experiments.runs.run_methods",
        {"steps": 100, "log_every": 100, "methods": ("SIP",), "progress": None},
        {"steps": [("zero", 0)], "log_every": COUNT,
         "methods": ["type", "empty", ("an unknown method", ("Bogus",), "unknown methods 'Bogus'")],
         "progress": [("a number", 3)]}, run_valid=False),
    Row("sip_experiments.runs.run_methods", {"steps": {"SIP": 100}, "methods": ("SIP", "Adam")},
        {"steps": [("no budget for Adam", {"SIP": 100}, "steps has no budget for Adam")]},
        run_valid=False),
    Row("sip_experiments.runs.run_proxy_ablation", {"results": SIP_RESULTS, "log_every": 100},
        {"results": ["type", "empty",
                     ("without SIP", {k: v for k, v in SIP_RESULTS.items() if k != "SIP"}, "'SIP'")],
         "log_every": COUNT + [("not a divisor of the steps", 300)]}, run_valid=False),
    Row("sip_experiments.runs.learning_curves", {"results": SIP_RESULTS, "xi": 1.0, "metric": "val_x_dist"},
        {"results": ["type", "empty"], "xi": [("not a curve setting", 7.0, "xi must be one of")]}),
    Row("sip_experiments.runs.final_value", {"series": [1.0, 2.0], "end": None},
        {"series": ["type", ("empty", [], "series must hold")],
         "end": [("beyond the series", 5, "end (5) must not exceed"), ("zero", 0, "end must be"),
                 ("a fraction", 1.5)]}),
    Row("sip_experiments.runs.final_x_distance", {"results": SIP_RESULTS, "xi": 1.0},
        {"results": ["type", "empty"], "xi": [("not a curve setting", 7.0, "xi must be one of")]}),
    Row("sip_experiments.runs.summary_table", {"results": SIP_RESULTS},
        {"results": ["type", "empty", ("without settings", {"steps": {}}, "'settings'")]}),
    Row("sip_experiments.runs.page_budgets", {"book_steps": 8000, "factor": 0.5, "log_every": 100},
        {"book_steps": COUNT, "factor": POSITIVE, "log_every": COUNT}),
    Row("sip_experiments.runs.run_page", {"book_steps": 100, "factor": 0.5, "log_every": 100, "progress": None},
        {"book_steps": COUNT, "factor": POSITIVE, "log_every": COUNT, "progress": [("a number", 3)]},
        run_valid=False),
    Row("sip_experiments.runs.budget_view", {"runs": SIP_RUNS, "budget": SIP_BUDGET},
        {"runs": ["type", "empty", ("without curves", {"all": SIP_RESULTS, "log_every": 100}, "'curves'")],
         "budget": ["type", "empty", ("an unknown method", {"Newton": 100}, "method"),
                    ("zero steps", {"SIP": 0}), ("beyond the runs", {"SIP": 10**6}, "reaches")]}),
    Row("sip_experiments.runs.outcomes", {"view": SIP_VIEW},
        {"view": ["type", "empty", ("without budget", {k: v for k, v in SIP_VIEW.items() if k != "budget"},
                                    "'budget'")]}),
    Row("sip_experiments.runs.record_view", {"record": SIP_RECORD, "budget": {"SIP": 1000}},
        {"record": ["type", "empty"],
         "budget": ["type", "empty", ("between checkpoints", {"SIP": 1500}, "checkpoint")]}),
    Row("sip_experiments.runs.adam_doubling_change", {"values_half": [1.0, 2.0], "values_full": [1.0, 1.0]},
        {"values_half": ["type", "nan", "inf", "empty", ("a zero distance", [0.0, 1.0], "positive")],
         "values_full": ["type", "nan", ("another length", [1.0, 1.0, 1.0])]}),
    Row("sip_experiments.runs.adam_ahead", {"values": {"Adam": np.ones(8), "SIP": np.full(8, 2.0)}},
        {"values": ["type", "empty", ("too few ξ", {"Adam": np.ones(3), "SIP": np.ones(3)},
                                      "values['Adam']")]}),
    Row("sip_experiments.runs.xi_list", {"values": [1.0, 3.0]},
        {"values": ["type", ("a name in the list", ["a"])]}),
    Row("sip_experiments.claims.evidence_from", {"columns": {"book": SIP_OUTCOMES}},
        {"columns": ["type", "empty", ("an entry that is no outcomes", {"book": {}}, "columns['book']"),
                     ("without phi_sweep", {"book": {k: v for k, v in SIP_OUTCOMES.items()
                                                     if k != "phi_sweep"}}, "'phi_sweep'")]}),
    Row("sip_experiments.claims.stored_column",
        {"quantities": SIP_STORED, "label": "book", "budget": SIP_BUDGET},
        {"quantities": ["type", "empty", ("a missing quantity", {"x": {"value": 1.0}},
                                          "book_xi1_SIP")],
         "label": ["type", "name"], "budget": ["type", "empty"]}),
    Row("sip_experiments.record.rerun_record_prefix", {"record": SIP_RECORD},
        {"record": ["type", "empty", ("a record without runs", {"steps": {}, "settings": (),
                                                                 "log_every": 100})]},
        run_valid=False),
    Row("sip_experiments.record.rerun_ratio", {"rerun": [1.0, 2.0], "recorded": [1.0, 2.0]},
        {"rerun": ["type", "nan", ("a zero distance", [0.0, 1.0], "positive")],
         "recorded": ["type", "nan", ("another length", [1.0])]}),
    Row("sip_experiments.convergence.decay_exponents",
        {"record": SIP_RECORD, "method": "SIP", "start": 1000, "end": 2000},
        {"record": ["type", "empty"], "method": ["type", "name"],
         "start": ["type", "negative", "nan"],
         "end": [("before start", 500, "fewer than 2 checkpoints")]}),
    Row("sip_experiments.convergence.adam_convergence", {"record": SIP_RECORD, "budget": {"SIP": 1000, "Adam": 1000}},
        {"record": ["type", "empty"],
         "budget": ["type", "empty", ("without SIP", {"Adam": 1000}, "'SIP'"),
                    ("no doubling in the record", {"SIP": 3000, "Adam": 3000}, "twice")]}),
    Row("sip_experiments.convergence.convergence_table", {"rows": SIP_CONVERGENCE},
        {"rows": ["type", "empty", ("a row without lag_2n", [{"xi": 1.0}], "rows[0]")]}),
    Row("sip_experiments.figures.landscape_grid",
        {"xi": 1.0, "phi_deg": 0.0, "y_target": (0.3, -0.5), "box": ((-1.2, 1.2), (-0.6, 0.6)),
         "resolution": 5, "power": 0.2},
        {"xi": ["nan", "zero"], "phi_deg": ["nan", "type"], "y_target": ARRAY,
         "box": ["type", ("reversed", ((1, 0), (0, 1))), ("flat", (1, 2))],
         "resolution": COUNT + [("one point", 1)], "power": POSITIVE}),
    Row("sip_experiments.figures.plot_sip_landscape",
        {"ax": new_ax(), "x1": LANDSCAPE[0], "x2": LANDSCAPE[1], "loss_grid": LANDSCAPE[2],
         "solutions": None, "levels": 5},
        {"ax": ["type"], "x1": ["type", "nan", ("one point", [0.0])], "x2": ["type", ("one point", [0.0])],
         "loss_grid": ["type", "nan", ("transposed", np.ones((5, 4)))],
         "solutions": [("one point without a batch axis", [0.1, 0.2])], "levels": COUNT}),
    Row("sip_experiments.figures.plot_sip_curves",
        {"ax": new_ax(), "curves": {"SIP": (np.array([1, 2]), np.array([1.0, 0.5]))},
         "seconds_per_step": None, "ylabel": "x-distance"},
        {"ax": ["type"],
         "curves": ["type", "empty", ("an unknown method", {"Newton": ([1, 2], [1.0, 0.5])}, "method"),
                    ("values of another length", {"SIP": ([1, 2], [1.0])}, "values")],
         "seconds_per_step": [("without SIP", {"Adam": 1e-3}, "'SIP'"), ("zero", {"SIP": 0.0})],
         "ylabel": ["type"]}),
    Row("sip_experiments.figures.plot_sip_sweep",
        {"ax": new_ax(), "values": {"SIP": np.array([1.0, 2.0, 4.0])}, "sweep": [1.0, 2.0, 3.0],
         "xlabel": "x", "ylabel": "y"},
        {"ax": ["type"],
         "values": ["type", "empty", ("another length", {"SIP": np.ones(2)}, "values['SIP']")],
         "sweep": ["type", "empty"], "xlabel": ["type"], "ylabel": ["type"]}),
    Row("sip_experiments.figures.draw_sip_spaces", {"ax": new_ax()}, {"ax": ["type"]}),
    Row("sip_experiments.figures.plot_sip_step_diagram",
        {"axes": AXES2, "x1": LANDSCAPE[0], "x2": LANDSCAPE[1], "loss_grid": LANDSCAPE[2],
         "x": np.array([0.1, 0.1]), "x_target": np.array([0.2, 0.1]),
         "gradient_step": np.array([0.01, 0.0]), "y": np.array([0.0, 0.0]),
         "y_new": np.array([0.1, 0.1]), "y_target": np.array([0.1, 0.1])},
        {"axes": ["type", ("one axis", [AX])], "loss_grid": [("transposed", np.ones((5, 4)))],
         "x": ARRAY, "x_target": ARRAY, "gradient_step": ["nan"], "y": ["shape"], "y_new": ["type"],
         "y_target": ["inf"]}),
    Row("sip_experiments.figures.figure_sip_step", {"xi": 2.0, "phi_deg": 15.0, "y_target": (0.3, -0.5),
                                            "x": (0.12, 0.02)},
        {"xi": ["nan", "zero"], "phi_deg": ["nan"], "y_target": ARRAY, "x": ARRAY + ["rank"]},
        run_valid=False),
    Row("sip_experiments.figures.figure_curves",
        {"results": SIP_RESULTS, "seconds_per_step": {m: 1e-3 for m in SIN_METHODS}},
        {"results": ["type", "empty"],
         "seconds_per_step": ["type", ("without Adam", {"SIP": 1e-3}, "'Adam'")]}),
    Row("sip_experiments.figures.figure_sweeps", {"results": SIP_RESULTS}, {"results": ["type", "empty"]}),
    Row("sip_experiments.figures.figure_budget_curves", {"view": SIP_VIEW, "book_steps": 100},
        {"view": ["type", "empty"], "book_steps": COUNT}),
    Row("sip_experiments.figures.figure_budget_sweeps", {"columns": {"book": SIP_OUTCOMES}},
        {"columns": ["type", "empty", ("a label of no budget kind", {"best": SIP_OUTCOMES}, "first word")]}),
    Row("sip_experiments.figures.figure_record", {"record": SIP_RECORD},
        {"record": ["type", "empty",
                    ("without curves", {k: v for k, v in SIP_RECORD.items() if k != "curves"},
                     "'curves'")]}),
    Row("sip_experiments.figures.figure_proxy_ablation", {"ablation": SIP_ABLATION},
        {"ablation": ["type", "empty", ("without l2", {k: v for k, v in SIP_ABLATION.items() if k != "l2"},
                                        "'l2'")]}),
    Row("sip_experiments.record.long_budget_record",
        {"results": SIP_RESULTS, "ablation": None, "steps": {"SIP": 1000}, "log_every": 100,
         "provenance": {}},
        {"results": ["type", "empty"], "ablation": [("a string", "abc")],
         "steps": ["type", "empty", ("zero", {"SIP": 0})],
         "log_every": COUNT + [("not a divisor of 1000", 300)], "provenance": ["type"]}),
    Row("sip_experiments.record.record_from_output", {"outs": ["."]},
        {"outs": [("none", [], "outs"), ("a directory without results", ["/"], "outs"),
                  ("a number", [3], "outs")]},
        call=lambda outs: sip_experiments.record_from_output(*outs), run_valid=False),
    Row("sip_experiments.record.load_long_budget_record", {"path": None},
        {"path": [("a missing file", "/no/such/record.json", "no long-budget record")]}),
    Row("sip_experiments.command.estimate_run_time",
        {"steps": {"SIP": 100}, "log_every": 100, "timing_steps": 10, "ablation": True},
        {"steps": ["type", "empty", ("an unknown method", {"Newton": 100}, "method")],
         "log_every": COUNT, "timing_steps": COUNT}, run_valid=False),
    Row("sip_experiments.runs.measure_cost_per_update", {"repeats": 1}, {"repeats": COUNT}, run_valid=False),
    # discussion_experiments (discussion)
    Row("discussion_experiments.load_modules", {"modules": [FAKE_PAGE]},
        {"modules": ["type", "empty", ("a name instead of a module", ["toy_experiments"]),
                     ("a module without the interface", [math], "discussion interface")]}),
    Row("discussion_experiments.page_name", {"module": FAKE_PAGE},
        {"module": [("a module without PAGE", math, "PAGE"), ("None", None, "PAGE")]}),
    Row("discussion_experiments.check_row", {"row": SUMMARY_ROW, "page": "p"},
        {"row": ["type", "empty", ("a NaN value", {**SUMMARY_ROW, "value": math.nan}, "not finite"),
                 ("a note that is no string", {**SUMMARY_ROW, "note": 3}, "note")],
         "page": ["type", ("empty", "")]}),
    Row("discussion_experiments.summary_rows", {"modules": [FAKE_PAGE]},
        {"modules": ["type", "empty", ("a module without PAGE", [math], "PAGE")]}),
    Row("discussion_experiments.measure_costs", {"modules": [FAKE_PAGE]},
        {"modules": ["type", "empty", ("a module without PAGE", [math], "PAGE")]}),
    Row("discussion_experiments.cost_provenance", {"modules": [FAKE_PAGE]},
        {"modules": ["type", "empty", ("a module without PAGE", [math], "PAGE")]}),
    Row("discussion_experiments.relative_costs", {"costs": {"p": {"Adam": 1.0, "SIP": 2.0}}},
        {"costs": ["type", "empty", ("costs without Adam", {"p": {"SIP": 1.0}}, "'Adam'"),
                   ("a zero cost", {"p": {"Adam": 0.0}})]}),
    Row("discussion_experiments.experiment_table", {"rows": [CHECKED_ROW], "costs": {"p": {"Adam": 1.0}}},
        {"rows": ["type", "empty", ("a row without page", [{"method": "Adam"}], "rows[0]")],
         "costs": ["type", "empty"]}),
    Row("discussion_experiments.format_table", {"table": TABLE},
        {"table": ["type", "empty", ("a row without cost", [CHECKED_ROW], "cost")]}),
    Row("discussion_experiments.page_judgements", {"modules": [FAKE_PAGE]},
        {"modules": ["type", "empty", ("a module without PAGE", [math], "PAGE")]},
        run_valid=False),
    Row("discussion_experiments.claim_rows", {"judgements": {"p": {}}},
        {"judgements": ["type", "empty", ("a page without claims", {"p": {}}, "judgements")]},
        run_valid=False),
    Row("discussion_experiments.format_claims", {"rows": CLAIMS, "verdicts": ("yes",)},
        {"rows": ["type", ("a row without its claim", [{"page": "p"}], "rows[0]")],
         "verdicts": ["type", ("an unknown verdict", ("maybe",), "verdict")]}),
    Row("discussion_experiments.verdict_counts", {"rows": CLAIMS},
        {"rows": ["type", ("a row without its verdict", [{}], "rows[0]")]}),
    Row("discussion_experiments.cost_range", {"table": TABLE, "prefix": "HIG"},
        {"table": ["type", "empty"], "prefix": ["type", ("empty", "")]}),
    Row("discussion_experiments.svd_timings", {"sizes": ((4, 8),), "repeats": 1, "seed": 0},
        {"sizes": ["type", "empty", ("a zero size", ((0, 8),)), ("one number", (4,))],
         "repeats": COUNT, "seed": SEED}),
    Row("discussion_experiments.svd_scaling_exponents", {"timings": TIMINGS, "params": 8},
        {"timings": ["type", "empty", ("one row count", TIMINGS[:1], "two or more"),
                     ("a zero time", [{**TIMINGS[0], "svd": 0.0}, TIMINGS[1]])],
         "params": COUNT + [("no timings at that size", 16, "two or more")]}),
    Row("discussion_experiments.format_svd_timings", {"timings": TIMINGS},
        {"timings": ["type", "empty", ("a timing without adam", [{"rows": 1, "params": 1, "svd": 1.0}],
                                       "timings[0]")]}),
]

# Kernels for jit/vmap: no value checks, documented behaviour instead.
KERNEL_CASES = {
    "physics.sin_z_kernel": lambda f: np.isnan(f(jnp.array([np.nan, 0.0]), 2.0, 0.0)).any(),
    "physics.sin_physics_kernel": lambda f: np.isnan(f(jnp.array([np.nan, 0.0]), 2.0, 0.0)).any(),
    "physics.sin_loss_kernel": lambda f: np.isnan(f(jnp.array([np.nan, 0.0]), jnp.zeros(2), 2.0, 0.0)),
    "physics.sin_closest_solution_kernel":  # outside [-1, 1]² arcsin is NaN (documented)
        lambda f: np.isnan(f(jnp.zeros(2), jnp.array([2.0, 0.0]), 2.0, 0.0)).any(),
    "physics.x_distance_kernel": lambda f: np.isnan(f(jnp.zeros(2), jnp.array([2.0, 0.0]), 2.0, 0.0)),
    "physics.hig_physics_kernel":  # extra entries of the last axis are dropped (documented)
        lambda f: f(jnp.array([1.0, 2.0, 3.0]), 0.5).shape == (2,),
    "physics.hig_sample_loss_kernel": lambda f: float(f(jnp.ones(2), jnp.zeros(2))) == 1.0,
    "updates.sip_inverse_step_kernel":
        lambda f: np.isnan(f(sin_loss_x, jnp.array([[np.nan, 0.0]]), jnp.zeros((1, 2)))).any(),
    "updates.batch_jacobian_kernel":
        lambda f: f(hig_net, HIG_PARAMS, jnp.array([[0.1], [0.4]]))[0].shape == (4, 14),
    "updates.svd_power_update_kernel":  # a zero J gives a zero step (documented)
        lambda f: np.all(np.asarray(f(jnp.zeros((6, 3)), jnp.ones(6), -0.5, 1e-6, 1.0, "truncate")) == 0),
    "updates.saddle_free_newton_direction":  # NaN in, NaN out (a kernel helper)
        lambda f: np.isnan(f(jnp.array([np.nan, 1.0]), jnp.eye(2))).any(),
}

def _raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
    return True


def _x64(call):
    with jax.enable_x64(True):
        return call()


SHORT_CHAIN = physics.OscillatorSystem(steps=6, dt=0.5)
UNET16 = jax.eval_shape(lambda: __import__("improved_gradients.models").models.unet_init(0, n=16))
KERNEL_CASES.update({
    "physics.crux_squared_physics_kernel":  # P(x) = (x1, α x2²); α unchecked: α = 0 gives 0
        lambda f: np.allclose(f(jnp.array([1.0, 2.0]), 3.0), [1.0, 12.0])
        and float(f(jnp.array([1.0, 2.0]), 0.0)[1]) == 0.0,
    "physics.oscillator_rhs_kernel":
        lambda f: np.isnan(f(SHORT_CHAIN, jnp.array([np.nan, 0.0, 0.0, 0.0]), 0.0)).any(),
    "physics.oscillator_rk4_step_kernel":
        lambda f: np.all(f(SHORT_CHAIN, jnp.zeros(4), 0.0, 0.5) == 0),  # rest stays at rest
    "physics.oscillator_simulate_kernel":
        lambda f: f(SHORT_CHAIN, jnp.zeros(4), jnp.zeros(6), trajectory=True).shape == (7, 4),
    "physics.oscillator_sample_loss_kernel": lambda f: float(f(jnp.ones(4), jnp.zeros(4))) == 4.0,
    "physics.oscillator_energy_kernel": lambda f: float(f(SHORT_CHAIN, jnp.zeros(4))) == 0.0,
    # computed from Python numbers, so it checks them (the exception among the kernels)
    "physics.heat.heat_log_kernel":
        lambda f: f(8, 8.0)[0, 0] == 0 and _raises(lambda: f(0, 8.0), "n must be")
        and _raises(lambda: f(8, -1.0), "nu_t"),
    "physics.heat.heat_physics_kernel":
        lambda f: _x64(lambda: np.isnan(f(jnp.full((8, 8), np.nan), 8.0)).all()),
    "physics.heat.heat_loss_kernel":
        lambda f: _x64(lambda: float(f(jnp.zeros((8, 8)), jnp.ones((8, 8)), 8.0))) == 32.0,
    "updates.heat_inverse_step_kernel":
        lambda f: _x64(lambda: np.isnan(f(jnp.full((8, 8), np.nan),
                                          physics.heat_log_kernel(8, 8.0))).all()),
    "updates.heat_tikhonov_step_kernel":
        lambda f: _x64(lambda: np.isnan(f(jnp.full((8, 8), np.nan),
                                          physics.heat_log_kernel(8, 8.0))).all()),
    "updates.control_sample_loss_kernel": lambda f: float(f(jnp.ones(2), jnp.zeros(2))) == 2.0,
    "updates.sip_control_step_kernel":  # x + u: one exact Gauss-Newton step to the target
        lambda f: np.allclose(f(control_physics, jnp.zeros((1, 2)), jnp.zeros((1, 2)),
                                jnp.ones((1, 2)), 1e-6)[0], 1.0, atol=1e-5),
    "updates.control_update_kernel":
        lambda f: jax.eval_shape(
            lambda t: f(control_network, control_physics, "svd", "truncate", 2,
                        jax.flatten_util.ravel_pytree(CONTROL_PARAMS)[1], t, None,
                        jnp.zeros((2, 2)), jnp.zeros((2, 2)),
                        {"kappa": -0.5, "tau": 1e-6, "eta": 1.0, "lr": 1e-3}),
            jax.ShapeDtypeStruct((17,), jnp.float32))[1].shape == (17,),
    "training.heat_prediction_kernel":
        lambda f: jax.eval_shape(f, UNET16, jax.ShapeDtypeStruct((2, 16, 16), jnp.float32)).shape
        == (2, 16, 16),
    "training.heat_direction_kernel":
        lambda f: _x64(lambda: np.isnan(f(jnp.full((1, 8, 8), np.nan), jnp.zeros((1, 8, 8)), 8.0,
                                           0)).all()),
    "updates.heat_x_direction_kernel":  # direction 1: the inverse of the residual y* − P(x)
        lambda f: float(f(jnp.zeros(2), jnp.ones(2), 1, lambda x: x,
                          lambda x, y: 0.5 * jnp.sum((x - y) ** 2), [lambda r: 2.0 * r])[0]) == 2.0,
    "training.heat_metrics_kernel":
        lambda f: jax.eval_shape(lambda p, x: f(p, x, 8.0), UNET16,
                                 jax.ShapeDtypeStruct((2, 16, 16), jnp.float32))["x"].shape
        == (2, 16, 16),
    "models.unet_apply_kernel":
        lambda f: jax.eval_shape(f, UNET16, jax.ShapeDtypeStruct((2, 16, 16), jnp.float32)).shape
        == (2, 16, 16),
})

# ---------------------------------------------------------------------------------------
# What has no row, and why: each category is checked below, so none hides a function
# ---------------------------------------------------------------------------------------

# Known gaps: public functions that do not validate their arguments yet, one line each.
GAPS = {}

# The command line: every command has usage-error cases (test_every_command_has_usage_error_cases).
COMMAND_LINE = {"__main__.main", "reference.main"} | {
    f"{name}.{function}" for name in MODULES
    for function in ("add_commands", "reproduce", "benchmark", "make_record")
    if callable(getattr(importlib.import_module(f"improved_gradients.{name}"), "add_commands", None))}

# The validation helpers themselves: HELPER_CASES, test_argparse_types, test_writable_directory.
HELPER_EXEMPT = {"is_traced": "a predicate: every value is valid input"}


def _public_functions():
    """Every public function (no leading underscore, defined there) of every module."""
    for module_name in MODULES:
        module = importlib.import_module(f"improved_gradients.{module_name}")
        for name, obj in vars(module).items():
            if (inspect.isfunction(obj) and not name.startswith("_")
                    and obj.__module__ == module.__name__):
                yield f"{module_name}.{name}", obj


def _takes_no_arguments(function):
    return not inspect.signature(function).parameters


def coverage():
    """{category: [qualified names]} over every public function of the package."""
    rows = {row.function for row in ROWS}
    out = {"row": [], "kernel case": [], "no arguments": [], "command line": [],
           "check helper": [], "gap": [], "missing": []}
    for qualified, function in _public_functions():
        category = ("row" if qualified in rows else
                    "kernel case" if qualified in KERNEL_CASES else
                    "no arguments" if _takes_no_arguments(function) else
                    "command line" if qualified in COMMAND_LINE else
                    "check helper" if qualified.startswith("_checks.") else
                    "gap" if qualified in GAPS else "missing")
        out[category].append(qualified)
    return out


def test_every_public_function_is_covered():
    """A public function of any module without a row, a kernel case or a validated
    exception fails here: add its row to ROWS."""
    missing = coverage()["missing"]
    assert not missing, f"public functions without a bad-input row: {missing}"


def test_gaps_are_public_functions_with_a_reason():
    public = dict(_public_functions())
    for name, reason in GAPS.items():
        assert name in public, f"{name} is no public function any more: drop its GAP entry"
        assert name not in {row.function for row in ROWS}, f"{name} has a row: drop its GAP entry"
        assert reason.startswith("GAP: ") and "\n" not in reason


def test_every_kernel_is_a_kernel_case():
    for qualified, _ in _public_functions():
        if qualified.endswith("_kernel"):
            assert qualified in KERNEL_CASES, qualified


def test_every_command_has_usage_error_cases():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command")
    for name in MODULES:
        module = importlib.import_module(f"improved_gradients.{name}")
        if getattr(getattr(module, "add_commands", None), "__module__", None) == module.__name__:
            module.add_commands(commands)
    tried = {argv[0] for argv, _ in CLI_USAGE_ERRORS if argv}
    assert set(commands.choices) <= tried, set(commands.choices) - tried


def test_every_check_helper_has_a_case():
    tested = {case[0].__name__ for case in HELPER_CASES} | set(HELPER_EXEMPT) | {
        "int_in_range", "positive_int", "positive_float", "float_in_range",  # test_argparse_types
        "writable_directory", "existing_directory"}  # test_writable_directory
    helpers = {q.split(".", 1)[1] for q, _ in _public_functions() if q.startswith("_checks.")}
    assert helpers <= tested, helpers - tested


@pytest.fixture(autouse=True)
def _close_figures():
    """The figure functions of the valid calls open pyplot figures: close them."""
    yield
    plt.close("all")

def _row_cases():
    for row in ROWS:
        for argument, label, value, expect in row.cases():
            yield pytest.param(row, argument, value, expect,
                               id=f"{row.function}-{argument}-{label}")


def _word(row, argument):
    return row.names.get(argument, argument)


def check_case(row, argument, value, expect):
    """Run one bad input; raise AssertionError if it is not answered as the table says."""
    kwargs = {**row.valid, argument: value}
    if expect == "promoted":  # integer input: the same result as for the same floats
        as_float = {**row.valid, argument: np.asarray(value, dtype=np.float64)}
        got, wanted = row.invoke(**kwargs), row.invoke(**as_float)
        for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(wanted)):
            np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                                       rtol=1e-6)
            assert np.asarray(a).dtype.kind == "f", "an integer result from integer input"
        return
    if callable(expect):  # a documented fallback
        expect(row.invoke(**kwargs))
        return
    try:
        result = row.invoke(**kwargs)
    except ValueError as error:
        message = str(error)
        word = expect if expect is not None else _word(row, argument)
        pattern = re.escape(word) if not word.isidentifier() else rf"(?<![\w]){re.escape(word)}(?![\w])"
        assert re.search(pattern, message, re.IGNORECASE), (
            f"the message does not name {word!r}: {message}")
        return
    except Exception as error:  # noqa: BLE001 - the point: anything else is a failure
        raise AssertionError(f"{type(error).__name__} instead of ValueError: {error}") from error
    raise AssertionError(f"no error; returned {str(result)[:200]}")


@pytest.mark.parametrize("row, argument, value, expect", list(_row_cases()))
def test_bad_input_is_answered_by_a_value_error_naming_the_argument(row, argument, value, expect):
    check_case(row, argument, value, expect)


def _finite_leaves(result):
    for leaf in jax.tree_util.tree_leaves(result):
        if isinstance(leaf, (np.ndarray, jax.Array, float, np.floating)):
            array = np.asarray(leaf)
            if array.dtype.kind == "f":
                assert np.all(np.isfinite(array)), f"a non-finite result: {array}"


@pytest.mark.parametrize("row", [r for r in ROWS if r.run_valid], ids=lambda r: r.function)
def test_valid_call_returns_finite_values(row):
    """The valid call of each row works and returns no NaN (so the bad cases differ from it
    only in the bad argument)."""
    _finite_leaves(row.invoke(**row.valid))


@pytest.mark.parametrize("name, behaviour", KERNEL_CASES.items(), ids=list(KERNEL_CASES))
def test_kernels_behave_as_documented(name, behaviour):
    function = resolve(name)
    assert behaviour(function)
    assert function.__doc__ and len(function.__doc__) > 40, f"{name} needs a docstring"


# ---------------------------------------------------------------------------------------
# The check helpers, the argparse types and the command line
# ---------------------------------------------------------------------------------------

HELPER_CASES = [
    (_checks.check_shape, ("arg", np.ones(3), (2,))),
    (_checks.check_finite, ("arg", [1.0, math.nan])),
    (_checks.check_array, ("arg", "abc")),
    (_checks.check_array, ("arg", np.ones((2, 3)), (..., 2))),
    (_checks.check_array, ("arg", np.ones((0, 2)), (None, 2)), {"min_size": 1}),
    (_checks.check_array, ("arg", np.array([1 + 2j]))),
    (_checks.check_number, ("arg", 2.0, 0.0, 1.0)),
    (_checks.check_number, ("arg", 0.0, 0.0, 1.0), {"low_open": True}),
    (_checks.check_positive, ("arg", -1.0)),
    (_checks.check_positive, ("arg", True)),
    (_checks.check_int, ("arg", 2.5)),
    (_checks.check_positive_int, ("arg", 0)),
    (_checks.check_seed, ("arg", -1)),
    (_checks.check_key, ("arg", 3)),
    (_checks.check_choice, ("arg", "x", ("a", "b"))),
    (_checks.check_choice, ("arg", ["a"], {"a": 1})),
    (_checks.check_callable, ("arg", 3)),
    (_checks.check_floating_tree, ("arg", [np.ones(2, int)])),
    (_checks.check_text, ("arg", "")),
    (_checks.check_text, ("arg", 3), {"empty": True}),
    (_checks.check_sequence, ("arg", "abc")),
    (_checks.check_sequence, ("arg", []), {"min_size": 1}),
    (_checks.check_mapping, ("arg", [1, 2])),
    (_checks.check_mapping, ("arg", {"a": 1}), {"keys": ("b",)}),
    (_checks.check_mapping, ("arg", {"a": {}}), {"entry_keys": ("b",)}),
    (_checks.check_records, ("arg", [{"a": 1}], ("b",))),
    (_checks.check_progress_bar, ("arg", 3)),
    (_checks.check_axes, ("arg", "abc")),
    (_checks.check_axes, ("arg", [AX], 2)),
    (_checks.check_optional, (_checks.check_positive, "arg", -1.0)),
]


@pytest.mark.parametrize("case", HELPER_CASES, ids=lambda c: c[0].__name__)
def test_check_helpers_name_the_argument(case):
    helper, args, kwargs = (*case, {}) if len(case) == 2 else case
    with pytest.raises(ValueError, match=r"\barg\b"):
        helper(*args, **kwargs)


def test_checks_are_trace_safe_and_cost_nothing_under_jit():
    """Shapes are checked when tracing; value checks are skipped for tracers."""
    @jax.jit
    def f(x):
        return physics.sin_physics(x, 2.0, 15.0)

    assert f(jnp.ones((3, 2))).shape == (3, 2)
    with pytest.raises(ValueError, match="x must have shape"):
        f(jnp.ones((3, 3)))
    with pytest.raises(ValueError, match="x must be finite"):
        physics.sin_physics(jnp.array([np.nan, 0.0]), 2.0, 15.0)


@pytest.mark.parametrize("factory, good, bad", [
    (_checks.positive_int(10), "3", ["0", "-1", "11", "2.5", "x"]),
    (_checks.int_in_range(2, None), "2", ["1", "x"]),
    (_checks.float_in_range(0.01, 1000), "32", ["0", "1e-30", "nan", "inf", "1e4", "x"]),
    (_checks.float_in_range(0, 10, low_open=True), "1", ["0"]),
    (_checks.positive_float, "1.5", ["0", "-1", "nan", "inf", "x"]),
])
def test_argparse_types(factory, good, bad):
    factory(good)
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError, match="must be"):
            factory(text)


def test_writable_directory(tmp_path):
    assert _checks.writable_directory(str(tmp_path)) == tmp_path
    assert _checks.writable_directory(str(tmp_path / "new" / "deeper")) == tmp_path / "new" / "deeper"
    (tmp_path / "file").write_text("x")
    for text in (str(tmp_path / "file"), str(tmp_path / "file" / "sub"), "/proc/no-such-dir"):
        with pytest.raises(argparse.ArgumentTypeError, match="directory"):
            _checks.writable_directory(text)
    assert _checks.existing_directory(str(tmp_path)) == tmp_path
    for text in (str(tmp_path / "file"), str(tmp_path / "missing")):
        with pytest.raises(argparse.ArgumentTypeError, match="directory"):
            _checks.existing_directory(text)


CLI_USAGE_ERRORS = [
    (["sip-heat-record", "/no/such/folder"], "does not exist or is not a directory"),
    (["hig-oscillators-record", "--setting", "linear", "/no/such/folder"],
     "does not exist or is not a directory"),
    (["sip-bench", "--xi", "1e-30"], "--xi: must be a finite number in [0.01, 1000]"),
    (["sip-bench", "--xi", "nan"], "--xi"),
    (["sip-bench", "--xi", "-1"], "--xi"),
    (["sip-bench", "--phi", "inf"], "--phi"),
    (["sip-bench", "--steps", "0"], "--steps: must be an integer in [1,"),
    (["sip-bench", "--steps", "abc"], "--steps"),
    (["sip-bench", "--repeats", "-3"], "--repeats"),
    (["sip-reproduce", "--steps", "0"], "--steps"),
    (["sip-reproduce", "--steps", "150", "--log-every", "100"], "multiple of --log-every"),
    (["sip-reproduce", "--seconds", "0"], "--seconds"),
    (["sip-reproduce", "--seconds", "nan"], "--seconds"),
    (["sip-reproduce", "--log-every", "0"], "--log-every"),
    (["sip-reproduce", "--timing-steps", "-5"], "--timing-steps"),
    (["sip-reproduce", "--methods", "Newton"], "invalid choice"),
    (["sip-reproduce", "--out", "/proc/not-writable"], "not a writable directory"),
    (["sip-reproduce", "--out", "/etc/hostname"], "not a directory"),
    (["hig-bench", "--steps", "0"], "--steps"),
    (["hig-bench", "--growth-steps", "-1"], "--growth-steps"),
    (["hig-bench", "--repeats", "0"], "--repeats"),
    (["hig-bench", "--batch-sizes", "16", "0"], "--batch-sizes"),
    (["hig-bench", "--widths", "1e9"], "--widths"),
    (["sip-heat-reproduce", "--batch", "0"], "--batch"),
    (["sip-heat-reproduce", "--steps", "-5"], "--steps"),
    (["sip-heat-reproduce", "--seconds", "nan"], "--seconds"),
    (["sip-heat-reproduce", "--methods", "Newton"], "invalid choice"),
    (["sip-heat-reproduce", "--steps", "30", "--log-every", "7"], "multiple of --log-every"),
    (["sip-heat-reproduce", "--out", "/proc/not-writable"], "not a writable directory"),
    (["sip-heat-reproduce", "--test-diverge-at", "-1"], "--test-diverge-at"),
    (["sip-heat-bench", "--repeats", "0"], "--repeats"),
    (["sip-heat-bench", "--batch", "two"], "--batch"),
    (["sip-heat-bench", "--chunk", "0"], "--chunk"),
    (["hig-oscillators-reproduce", "--seconds", "0"], "--seconds"),
    (["hig-oscillators-reproduce", "--seconds", "nan"], "--seconds"),
    (["hig-oscillators-reproduce", "--seeds", "-1"], "--seeds"),
    (["hig-oscillators-reproduce", "--methods", "BFGS"], "invalid choice"),
    (["hig-oscillators-reproduce", "--setting", "quadratic"], "invalid choice"),
    (["hig-oscillators-reproduce", "--out", "/etc/hostname"], "not a directory"),
    (["sip-heat-record"], "the following arguments are required: folders"),
    (["sip-heat-record", "--out"], "--out: expected one argument"),
    (["hig-oscillators-record", "--setting", "linear"], "the following arguments are required: folders"),
    (["hig-oscillators-record", "."], "the following arguments are required: --setting"),
    (["hig-oscillators-record", "--setting", "quadratic", "."], "invalid choice"),
    (["hig-oscillators-bench", "--repeats", "0"], "--repeats"),
    (["hig-oscillators-bench", "--steps", "-3"], "--steps"),
    (["no-such-command"], "invalid choice"),
    ([], "required"),
]


@pytest.mark.parametrize("argv, fragment", CLI_USAGE_ERRORS, ids=lambda a: " ".join(a) if isinstance(a, list) else None)
def test_command_line_rejects_bad_values_when_parsing(argv, fragment, capsys, monkeypatch):
    """Exit status 2 with the allowed range, before any computation (the run functions
    are replaced by ones that fail if called)."""
    def must_not_run(args):
        raise AssertionError("the command ran despite a bad argument")

    for module in map(importlib.import_module, (f"improved_gradients.{n}" for n in MODULES)):
        for name in ("reproduce", "benchmark", "make_record"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, must_not_run)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert fragment in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["tolerances"], ["tolerances", "--bogus", "x.jsonl"]])
def test_reference_command_line_rejects_bad_arguments(argv, capsys):
    from improved_gradients import reference

    with pytest.raises(SystemExit) as exit_info:
        reference.main(argv)
    assert exit_info.value.code == 2


def test_a_diverged_run_fails_the_command_naming_step_and_method(capsys, monkeypatch):
    def diverges(args):
        raise TrainingDiverged("SGD: the loss became non-finite at step 3 (xi = 0.01)")

    for module in map(importlib.import_module, (f"improved_gradients.{n}" for n in MODULES)):
        for name in ("reproduce", "benchmark"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, diverges)
    for command in ("sip-bench", "sip-reproduce", "hig-bench", "sip-heat-reproduce",
                    "sip-heat-bench", "hig-oscillators-reproduce", "hig-oscillators-bench"):
        assert cli.main([command]) == 1, command
        err = capsys.readouterr().err
        assert f"{command}: error: SGD" in err and "step 3" in err and "Traceback" not in err


def test_a_timed_run_that_diverges_raises_naming_step_and_method():
    """sip-bench's timings check every run: SGD's learning rate 1e-2/ξ² diverges at ξ = 0.01."""
    timer = sip_experiments.sin_step_timer("SGD", 0.01, 0.0, 20)
    with pytest.raises(TrainingDiverged, match=r"SGD: the loss became non-finite at step \d+"):
        timer()


def count_cases():
    """(bad inputs tried, answered correctly) over the whole table and the command line."""
    tried = answered = 0
    for row in ROWS:
        for argument, _, value, expect in row.cases():
            tried += 1
            try:
                check_case(row, argument, value, expect)
                answered += 1
            except AssertionError as error:
                print(f"NOT ANSWERED: {row.function}({argument}=...): {error}")
    for argv, fragment in CLI_USAGE_ERRORS:
        tried += 1
        try:
            cli.main(argv)
        except SystemExit as exit_info:
            answered += exit_info.code == 2
    return tried, answered


if __name__ == "__main__":
    import contextlib
    import io

    with contextlib.redirect_stderr(io.StringIO()):
        tried, answered = count_cases()
    print(f"{tried} bad inputs tried ({len(ROWS)} rows, {len(CLI_USAGE_ERRORS)} command lines); "
          f"{answered} answered correctly")
    for category, names in coverage().items():
        print(f"{category:<14} {len(names):>4} public functions"
              + (f": {', '.join(names)}" if category in ("gap", "missing") and names else ""))
    for name, reason in GAPS.items():
        print(f"  {name}: {reason}")
