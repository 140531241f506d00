"""The sip-heat page (SIP on a PDE: learning to invert heat conduction): settings, runs,
solvers, spectra, tables and timings; its sub-modules ``figures``, ``record`` (the
long-budget record at batch 32), ``claims`` (the page's claims in the book's registry and
their evidence per budget) and ``command`` (``sip-heat-reproduce``, ``sip-heat-bench``),
their public names re-exported here.

The notebook ``book/sip-heat.ipynb`` and the commands call the same functions; only the
batch size and the step budget differ.
"""

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import reference
from .._checks import check_progress_bar
from .._checks import (check_array, check_callable, check_choice, check_int, check_mapping,
                      check_number, check_optional, check_positive, check_positive_int,
                      check_sequence)
from ..errors import TrainingDiverged
from ..models import unet_init
from ..physics import (
    HEAT_GRID,
    HEAT_NU_T,
    check_heat_grid,
    heat_loss_kernel,
    heat_physics_kernel,
    heat_rectangles,
    radial_power_spectrum,
)
from ..plotting import method_color
from ..training import (HEAT_DIRECTIONS, HEAT_LOOPS, HEAT_METHODS, heat_direction_index,
                       heat_step_program, train_heat)

PAGE = "sip-heat"

# The page's budget (fits a 2-core CPU); the command's default is the paper's batch.
BOOK_BATCH = 8
BOOK_STEPS = 200
BOOK_LOG_EVERY = 25
PAPER_BATCH = 128
VAL_SIZE = 32
DATA_SEED = 0  # training batches: heat_rectangles((DATA_SEED, step), batch)
VAL_SEED = 2022  # the fixed validation set, drawn once
NET_SEED = 0  # the one initial network every method starts from
SHOWN_SAMPLES = (0, 1, 2)  # validation samples drawn side by side

# Runs: name -> (training method, SIP's inverse). "SIP-Tikhonov" is the inverse ablation.
RUNS = {
    "SIP": ("SIP", "bayes"),
    "Adam": ("Adam", "bayes"),
    "SGD": ("SGD", "bayes"),
    "SIP-Tikhonov": ("SIP", "tikhonov"),
}
COMPARED = ("SIP", "Adam", "SGD")
HEAT_ADAM = {"learning_rate": 1e-3, "eps": 1e-7}  # the sources' library default eps
HEAT_SGD_RATE_PER_SAMPLE = 2e-6 * 128  # the paper's lr 2e-6 at batch 128, summed losses


def heat_optimizer(method, batch_size):
    """Adam (lr 1e-3, eps 1e-7) for SIP and Adam; SGD with lr 2e-6 · 128 / batch_size (the
    paper's rate at its batch of 128, for losses summed over the batch). One object per
    setting, so SIP and Adam share one compiled step program."""
    check_choice("method", method, HEAT_METHODS)
    batch_size = check_positive_int("batch_size", batch_size)
    return _heat_optimizer("SGD", batch_size) if method == "SGD" else _heat_optimizer("Adam", 0)


@functools.lru_cache(maxsize=None)
def _heat_optimizer(kind, batch_size):
    if kind == "SGD":
        return optax.sgd(HEAT_SGD_RATE_PER_SAMPLE / batch_size)
    return optax.adam(**HEAT_ADAM)
RUN_STYLE = {
    "SIP": dict(color=method_color("SIP")),
    "Adam": dict(color=method_color("Adam")),
    "SGD": dict(color=method_color("SGD")),
    "SIP-Tikhonov": dict(color=method_color("SIP"), linestyle="--"),
}

# Per-sample solvers without a network, on the validation set.
SOLVER_ITERATIONS = 100
GD_RATE = 1.0  # GD on x: x ← x − η P(P(x) − y*); P's eigenvalues lie in (0, 1]
# A sample's solver stops once its y loss ½‖P(x) − y*‖² is below this (the discrepancy
# principle with float64 round-off as the noise level): iterating the inverse further
# only amplifies round-off (semi-convergence).
STOP_Y_LOSS = 1e-20
METRICS = {"x_l1": "x error Σ|x − x*|", "x_l2": "x loss ½Σ(x − x*)²", "y_l2": "y loss ½Σ(P(x) − y*)²"}
# |f| range (cycles per cell) of the high-frequency error measure: where k(f) falls from
# about 0.6 to 1e-3 (beyond it no method recovers anything: the error is x* itself)
HIGH_BAND = (0.04, 0.15)

# Numbers of the sources (typed, cited on the page).
SOURCE_NOTEBOOK = {"steps": 50, "batch": 128, "x_l2": {"SIP": 21.0, "Adam": 29.0}}
PAPER = {"seconds": 6000, "batch": 128, "x_l1": {"Adam": 125.0, "SIP": 50.4, "SGD": 118.9}}


def check_runs(names):
    """Validate run names (a list); ValueError lists the known ones."""
    if isinstance(names, str) or not names:
        raise ValueError(f"runs must be a non-empty list of names, got {names!r}")
    return [check_choice("method", name, tuple(RUNS)) for name in names]


def _check_results(results, keys, x_val=None):
    """{run name: result of ``train_heat``}: a non-empty dict of known runs, each holding
    ``keys``; with ``x_val`` the predictions "x_val_pred" must match its shape."""
    check_mapping("results", results, entry_keys=keys)
    check_runs(list(results))
    if x_val is not None:
        x_val = check_heat_grid("x_val", x_val)
        for name, result in results.items():
            if "x_val_pred" in keys and np.shape(result["x_val_pred"]) != x_val.shape:
                raise ValueError(f"results[{name!r}]['x_val_pred'] must have x_val's shape "
                                 f"{x_val.shape}, got {np.shape(result['x_val_pred'])}")
    return results


def _check_solvers(solvers, keys, x_val=None, optional=False):
    """{direction: result of ``solve_per_sample``} for directions of SOLVER_LABELS."""
    if optional and solvers is None:
        return None
    check_mapping("solvers", solvers, entry_keys=keys)
    for direction, solved in solvers.items():
        check_choice("solver direction", direction, tuple(SOLVER_LABELS))
        if x_val is not None and np.shape(solved["x"]) != np.shape(x_val):
            raise ValueError(f"solvers[{direction!r}]['x'] must have x_val's shape "
                             f"{np.shape(x_val)}, got {np.shape(solved['x'])}")
    return solvers


def validation_set(size=VAL_SIZE, seed=VAL_SEED):
    """The fixed validation ground truths x* (size, 64, 64), float64, drawn with VAL_SEED."""
    return heat_rectangles(seed, check_positive_int("size", size))


def batch_sequence(batch_size, seed=DATA_SEED):
    """step -> the ground truths of that training step (a fresh batch per step, the same
    sequence for every method)."""
    batch_size = check_positive_int("batch_size", batch_size)
    check_int("seed", seed, low=0)
    return lambda step: heat_rectangles((seed, step), batch_size)


def initial_network(seed=NET_SEED):
    """The U-Net every method starts from (``models.unet_init`` on the 64 × 64 grid)."""
    return unet_init(seed, HEAT_GRID)


def check_validation_set(x_val):
    """A validation set for the page's network: (N, 64, 64) ground truths, N >= 1, finite."""
    x_val = check_heat_grid("x_val", x_val)
    if x_val.ndim != 3 or x_val.shape[0] < 1 or x_val.shape[1:] != (HEAT_GRID, HEAT_GRID):
        raise ValueError(f"x_val must be (N, {HEAT_GRID}, {HEAT_GRID}) ground truths, N >= 1 "
                         f"(the grid the network trains on), got shape {x_val.shape}")
    return x_val



def run_methods(names=tuple(RUNS), *, steps=BOOK_STEPS, batch_size=BOOK_BATCH,
                log_every=BOOK_LOG_EVERY, x_val=None, progress=None, batches=None):
    """Train each named run from the same initial network on the same batch sequence
    (``batch_sequence(batch_size)`` unless ``batches``, step -> (batch_size, 64, 64)
    ground truths, is given). Returns {name: result of ``train_heat``}."""
    names = check_runs(check_sequence("runs", names))
    steps = check_positive_int("steps", steps)
    batch_size = check_positive_int("batch_size", batch_size)
    log_every = check_positive_int("log_every", log_every)
    if steps % log_every:
        raise ValueError(f"steps ({steps}) must be a multiple of log_every ({log_every})")
    x_val = validation_set() if x_val is None else check_validation_set(x_val)
    check_progress_bar("progress", progress)
    check_optional(check_callable, "batches", batches)
    params = initial_network()
    batches = batch_sequence(batch_size) if batches is None else batches
    results = {}
    for name in names:
        method, inverse = RUNS[name]
        results[name] = train_heat(method, params, batches, x_val,
                                   optimizer=heat_optimizer(method, batch_size), steps=steps,
                                   log_every=log_every, nu_t=HEAT_NU_T, inverse=inverse,
                                   progress=progress)
    return results


def value_at_time(result, seconds, metric="x_l1"):
    """A run's validation metric at ``seconds`` of measured training time (linear
    interpolation between logs)."""
    check_choice("metric", metric, tuple(METRICS))
    check_mapping("result", result, keys=("time", metric))
    check_number("seconds", seconds, 0.0)
    return float(np.interp(seconds, result["time"], result[metric]))


# ---------------------------------------------------------------------------------------
# Per-sample solvers without a network
# ---------------------------------------------------------------------------------------


def solve_per_sample(x_val, direction, iterations=SOLVER_ITERATIONS, rate=GD_RATE,
                     stop_y_loss=STOP_Y_LOSS):
    """Iterate x ← x + Δx on every validation sample from x₀ = the mean of y* (a constant
    field), with Δx from ``direction``: "gradient" (plain GD on x with step ``rate``) or an
    inverse ("bayes", "tikhonov"); a sample whose y loss is below ``stop_y_loss`` keeps
    its x. Returns {"x_l1", "x_l2", "y_l2"} per iteration (means over samples,
    iterations + 1 values) and the final "x"."""
    from ..training import heat_direction_kernel

    check_choice("direction", direction, HEAT_DIRECTIONS)
    iterations = check_positive_int("iterations", iterations)
    check_positive("rate", rate)
    check_positive("stop_y_loss", stop_y_loss)
    x_val = check_heat_grid("x_val", x_val)
    if x_val.ndim != 3:
        raise ValueError(f"x_val must be a batch of grids (N, n, n), got shape {x_val.shape}")
    index = HEAT_DIRECTIONS.index(direction)
    scale = rate if direction == "gradient" else 1.0
    with jax.enable_x64(True):
        x_true = jnp.asarray(x_val, jnp.float64)
        y_target = heat_physics_kernel(x_true, HEAT_NU_T)
        x0 = jnp.broadcast_to(y_target.mean(axis=(-2, -1), keepdims=True), y_target.shape)

        def metrics(x):
            error = x - x_true
            return jnp.stack([jnp.mean(jnp.sum(jnp.abs(error), axis=(-2, -1))),
                              jnp.mean(0.5 * jnp.sum(error**2, axis=(-2, -1))),
                              jnp.mean(heat_loss_kernel(x, y_target, HEAT_NU_T))])

        @jax.jit
        def run(x):
            def body(x, _):
                done = heat_loss_kernel(x, y_target, HEAT_NU_T) < stop_y_loss
                step = scale * heat_direction_kernel(x, y_target, HEAT_NU_T, index)
                x = jnp.where(done[:, None, None], x, x + step)
                return x, metrics(x)

            x_final, logs = jax.lax.scan(body, x, length=iterations)
            return x_final, jnp.concatenate([metrics(x)[None], logs])

        x_final, logs = run(x0)
    logs = np.asarray(logs)
    if not np.all(np.isfinite(logs)):
        bad = int(np.argmin(np.all(np.isfinite(logs), axis=1)))
        raise TrainingDiverged(f"per-sample solver {direction!r} diverged: non-finite "
                               f"metrics at iteration {bad}", method=direction, step=bad)
    return {"x_l1": logs[:, 0], "x_l2": logs[:, 1], "y_l2": logs[:, 2], "x": np.asarray(x_final)}


def run_solvers(x_val=None, iterations=SOLVER_ITERATIONS):
    """The per-sample baselines: the inverse step iterated ("bayes", "tikhonov") and plain
    GD on x ("gradient")."""
    check_positive_int("iterations", iterations)
    x_val = validation_set() if x_val is None else check_validation_set(x_val)
    return {direction: solve_per_sample(x_val, direction, iterations)
            for direction in ("bayes", "tikhonov", "gradient")}


SOLVER_LABELS = {"bayes": "inverse step iterated", "tikhonov": "Tikhonov division iterated",
                 "gradient": "GD on x"}


# ---------------------------------------------------------------------------------------
# Analysis: spectra, outcomes, summary
# ---------------------------------------------------------------------------------------


def error_spectra(results, x_val, solvers=None):
    """{name: (|f| bin centres, radially binned power of x − x*)} for each run's final
    predictions (and each solver's result), plus "zero error reference" = power of x* − mean."""
    check_heat_grid("x_val", x_val)
    _check_results(results, ("x_val_pred",), x_val)
    _check_solvers(solvers, ("x",), x_val, optional=True)
    spectra = {name: radial_power_spectrum(result["x_val_pred"] - x_val)
               for name, result in results.items()}
    for direction, solved in (solvers or {}).items():
        spectra[SOLVER_LABELS[direction]] = radial_power_spectrum(solved["x"] - x_val)
    spectra["x* itself"] = radial_power_spectrum(x_val - x_val.mean(axis=(-2, -1), keepdims=True))
    return spectra


def band_power(spectrum, band=HIGH_BAND):
    """Mean error power of a radial spectrum (|f| bin centres, power), as
    ``physics.radial_power_spectrum`` returns it, within the |f| band [low, high)."""
    if not isinstance(spectrum, (tuple, list)) or len(spectrum) != 2:
        raise ValueError(f"spectrum must be the pair (|f| bin centres, power), got {spectrum!r:.80}")
    f = check_array("spectrum[0] (|f|)", spectrum[0], (None,), min_size=1)
    check_array("spectrum[1] (power)", spectrum[1], f.shape)
    band = check_array("band", band, (2,))
    if not band[0] < band[1]:
        raise ValueError(f"band must be (low, high) with low < high, got {tuple(band)}")
    f, power = spectrum
    inside = (f >= band[0]) & (f < band[1])
    if not np.any(inside):
        raise ValueError(f"band {tuple(band)} holds no frequency bin of the spectrum "
                         f"(|f| from {np.min(f):g} to {np.max(f):g})")
    return float(power[inside].mean())


def common_time(results, names=("SIP", "Adam")):
    """The largest measured training time every named run reached."""
    names = check_sequence("names", names)
    check_mapping("results", results, keys=names, entry_keys=("time",))
    return min(float(results[name]["time"][-1]) for name in names)


def equal_time_ratio(results):
    """(seconds, Adam's / SIP's validation x error at that measured training time), at the
    largest time both runs reached. Depends on the machine's speed and load."""
    check_mapping("results", results, keys=("SIP", "Adam"))
    _check_results({name: results[name] for name in ("SIP", "Adam")}, ("time", "x_l1"))
    seconds = common_time(results)
    return seconds, value_at_time(results["Adam"], seconds) / value_at_time(results["SIP"], seconds)


def outcomes(results, solvers, x_val):
    """The page's tolerance-checked training outcomes {name: value} (nothing that depends
    on measured time: see ``equal_time_ratio``)."""
    check_mapping("results", results, keys=("SIP", "Adam"))
    _check_results(results, ("x_l1", "x_l2", "x_val_pred"), x_val)
    _check_solvers(solvers, ("x_l1",))
    spectra = error_spectra(results, x_val)
    values = {}
    for name, result in results.items():
        values[f"{name} final x_l1"] = float(result["x_l1"][-1])
        values[f"{name} final x_l2"] = float(result["x_l2"][-1])
    values["Adam / SIP x_l1 at equal steps"] = values["Adam final x_l1"] / values["SIP final x_l1"]
    values["Adam / SIP high-frequency error power"] = (band_power(spectra["Adam"])
                                                      / band_power(spectra["SIP"]))
    for direction, solved in solvers.items():
        values[f"{SOLVER_LABELS[direction]} x_l1"] = float(solved["x_l1"][-1])
    return values


def summary_table(results, solvers):
    """The page's summary as text: final validation metrics per run and per solver."""
    _check_results(results, ("step", "x_l1", "x_l2", "y_l2"))
    _check_solvers(solvers, ("x_l1", "x_l2", "y_l2"))
    lines = [f"{'':<34}{'x error Σ|x−x*|':>17}{'x loss ½Σ(x−x*)²':>19}{'y loss':>10}"]
    steps = int(next(iter(results.values()))["step"][-1])
    for name, result in results.items():
        lines.append(f"{name + f' ({steps} steps)':<34}{result['x_l1'][-1]:>17.3g}"
                     f"{result['x_l2'][-1]:>19.3g}{result['y_l2'][-1]:>10.3g}")
    for direction, solved in solvers.items():
        label = f"{SOLVER_LABELS[direction]} (≤ {len(solved['x_l1']) - 1})"
        lines.append(f"{label:<34}{solved['x_l1'][-1]:>17.3g}{solved['x_l2'][-1]:>19.3g}"
                     f"{solved['y_l2'][-1]:>10.3g}")
    return "\n".join(lines)


def discussion_summary():
    """Rows for the discussion page: each method's final validation x error and Adam / SIP,
    from this page's stored, tolerance-checked references (the verdicts come from
    ``claims``)."""
    quantities = reference.load_references(PAGE)["quantities"]
    if not quantities:
        return []
    note = f"batch {BOOK_BATCH}, {BOOK_STEPS} steps; paper: batch 128, 6000 s on a GPU"
    rows = [{"experiment": "heat inversion", "method": name,
             "metric": "final validation x error Σ|x−x*|",
             "value": float(quantities[f"{name} final x_l1"]["value"]), "note": note}
            for name in COMPARED]
    rows.append({"experiment": "heat inversion", "method": "Adam / SIP",
                 "metric": "ratio of final x errors",
                 "value": float(quantities["Adam / SIP x_l1 at equal steps"]["value"]),
                 "note": note})
    return rows


# ---------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------


def _timed_programs(batch_size, loop="jit", chunk=1):
    """{method: run()} each timing ``chunk`` training steps of the shared step program."""
    params = initial_network()
    x_true = np.stack([heat_rectangles((DATA_SEED, k), batch_size) for k in range(chunk)])
    timers = {}
    with jax.enable_x64(True):
        x_true = jnp.asarray(x_true)
        for method in ("SIP", "Adam", "SGD"):
            optimizer = heat_optimizer(method, batch_size)
            program = heat_step_program(optimizer, HEAT_NU_T, loop, chunk)
            direction = jnp.int32(heat_direction_index(method))
            state = (params, optimizer.init(params))

            def run(program=program, state=state, direction=direction):
                with jax.enable_x64(True):
                    begin = time.perf_counter()
                    jax.block_until_ready(program(*state, x_true, direction))
                    return (time.perf_counter() - begin) / chunk

            run()  # compile
            timers[method] = run
    return timers


def measure_step_times(batch_size=BOOK_BATCH, repeats=5, loop="jit", chunk=1):
    """Seconds per training step of SIP, Adam and SGD, measured side by side: the methods
    take turns ``repeats`` times and each keeps its best time."""
    repeats = check_positive_int("repeats", repeats)
    check_choice("loop", loop, HEAT_LOOPS)
    chunk = check_positive_int("chunk", chunk)
    timers = _timed_programs(check_positive_int("batch_size", batch_size), loop, chunk)
    best = {method: np.inf for method in timers}
    for _ in range(repeats):
        for method, run in timers.items():
            best[method] = min(best[method], run())
    return best


def measure_cost_per_update(repeats=3):
    """{method: measured seconds per update} for SIP, Adam and SGD at the page's batch,
    side by side (compilation, cached per process, is not counted)."""
    return measure_step_times(BOOK_BATCH, repeats=check_positive_int("repeats", repeats))


def measure_loop_strategies(batch_size=BOOK_BATCH, chunk=5, repeats=3):
    """Seconds per Adam step for each way of compiling the loop: one jitted step driven by
    Python, a lax.fori_loop(unroll=True) chunk and a lax.scan chunk of ``chunk`` steps."""
    batch_size = check_positive_int("batch_size", batch_size)
    chunk = check_positive_int("chunk", chunk)
    repeats = check_positive_int("repeats", repeats)
    times = {}
    for loop, size in (("jit", 1), ("unroll", chunk), ("scan", chunk)):
        run = _timed_programs(batch_size, loop, size)["Adam"]
        times[f"{loop} ({size} step{'s' if size > 1 else ''})"] = min(run() for _ in range(repeats))
    return times


from .figures import (figure_curves, figure_damping, figure_inverse_ablation,  # noqa: E402, F401  (re-exported)
                      figure_reconstructions, figure_record, figure_solvers,
                      figure_spectra)
from .claims import evidence  # noqa: E402, F401  (re-exported)
from .command import add_commands, benchmark, reproduce  # noqa: E402, F401  (re-exported)
