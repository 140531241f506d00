"""The sip-heat page (SIP on a PDE: learning to invert heat conduction): settings, runs,
figures, tables and the commands ``sip-heat-reproduce`` and ``sip-heat-bench``.

The notebook ``book/sip-heat.ipynb`` and the commands call the same functions; only the
batch size and the step budget differ.
"""

import json
import pathlib
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from . import reference
from ._checks import check_progress_bar
from ._checks import (check_array, check_callable, check_choice, check_int, check_mapping,
                      check_number, check_optional, check_positive, check_positive_int,
                      check_sequence, int_in_range, positive_float, positive_int,
                      writable_directory)
from .errors import TrainingDiverged
from .models import unet_init
from .physics import (
    HEAT_GRID,
    HEAT_NU_T,
    check_heat_grid,
    heat_damping,
    heat_loss_kernel,
    heat_physics,
    heat_physics_kernel,
    heat_rectangles,
    radial_power_spectrum,
)
from .plotting import method_color, use_book_style
from .training import (HEAT_DIRECTIONS, HEAT_LOOPS, heat_direction_index, heat_step_program,
                       train_heat)

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
        results[name] = train_heat(method, params, batches, x_val, steps=steps,
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
    from .training import heat_x_direction_kernel

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
                step = scale * heat_x_direction_kernel(x, y_target, HEAT_NU_T, index)
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
    """Rows for the discussion page, from this page's stored, tolerance-checked references.
    Rule for "reproduced": the paper's claim is "SIP's x error is about 2.5× below Adam's";
    "yes" if Adam / SIP ≥ 2, "partly" if ≥ 1.2, else "no"."""
    quantities = reference.load_references(PAGE)["quantities"]
    if not quantities:
        return []

    def value(name):
        return float(quantities[name]["value"])

    ratio = value("Adam / SIP x_l1 at equal steps")
    verdict = "yes" if ratio >= 2.0 else ("partly" if ratio >= 1.2 else "no")
    claim = ("SIP's x error about 2.5× below Adam's (Σ|x − x*|: SIP 50.4, Adam 125.0, "
             "SGD 118.9 after 6000 s)")
    note = f"batch {BOOK_BATCH}, {BOOK_STEPS} steps; paper: batch 128, 6000 s on a GPU"
    rows = [
        {"experiment": "heat inversion", "method": name, "metric": "final validation x error Σ|x−x*|",
         "value": value(f"{name} final x_l1"), "claim": claim, "reproduced": verdict, "note": note}
        for name in COMPARED
    ]
    rows.append({"experiment": "heat inversion", "method": "Adam / SIP",
                 "metric": "ratio of final x errors", "value": ratio, "claim": claim,
                 "reproduced": verdict, "note": "rule: yes ≥ 2, partly ≥ 1.2"})
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
            program, optimizer = heat_step_program("SGD" if method == "SGD" else "Adam",
                                                   batch_size, HEAT_NU_T, loop, chunk)
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


# ---------------------------------------------------------------------------------------
# Figures (the notebook shows them; sip-heat-reproduce saves them)
# ---------------------------------------------------------------------------------------


def figure_damping(nu_t=HEAT_NU_T, n=HEAT_GRID):
    """The damping factor of every Fourier coefficient against |f|, and the same factor
    applied twice (what the gradient of the y-loss carries), with float32's and float64's
    smallest normal numbers."""
    radius, damping = heat_damping(n, nu_t)
    order = np.argsort(radius.ravel())
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    ax.semilogy(radius.ravel()[order], damping.ravel()[order], ".", ms=2, color="black",
                label="P: $e^{-\\nu t (2\\pi)^2 |f|^2}$ (forward, one application)")
    ax.semilogy(radius.ravel()[order], damping.ravel()[order] ** 2, ".", ms=2, color="0.6",
                label="$P^\\top P$ (what the gradient of the y-loss sees)")
    for value, label in ((np.finfo(np.float32).tiny, "float32 smallest normal"),
                         (np.finfo(np.float32).eps, "float32 machine epsilon")):
        ax.axhline(value, color="#1f77b4", linewidth=0.8, linestyle=":")
        ax.text(0.45, value * 1e3, label, fontsize=8, color="#1f77b4")
    ax.set_xlabel("radial frequency |f| [cycles per cell]")
    ax.set_ylabel("amplitude factor")
    ax.set_ylim(1e-150, 1e5)
    ax.set_title(f"{n} × {n} periodic grid, $\\nu t$ = {nu_t:g}")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def figure_curves(results):
    """Validation x error against steps and against measured training time."""
    _check_results(results, ("step", "time", "x_l1", "y_l2"))
    fig, axes = plt.subplots(1, 3, figsize=(12.0, 3.6))
    for name, result in results.items():
        axes[0].plot(result["step"], result["x_l1"], label=name, **RUN_STYLE[name])
        axes[1].plot(result["time"], result["x_l1"], label=name, **RUN_STYLE[name])
        axes[2].plot(result["step"], result["y_l2"], label=name, **RUN_STYLE[name])
    for ax, xlabel, ylabel in zip(axes, ("training step", "measured training time [s]",
                                         "training step"),
                                  ("validation x error Σ|x − x*|", "validation x error Σ|x − x*|",
                                   "validation y loss ½Σ(P(x) − y*)²")):
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    axes[0].legend()
    fig.tight_layout()
    return fig


def figure_reconstructions(results, x_val, samples=SHOWN_SAMPLES, names=("Adam", "SIP")):
    """The same validation samples side by side: x*, y*, each method's x and x − x*."""
    x_val = check_heat_grid("x_val", x_val)
    if x_val.ndim != 3:
        raise ValueError(f"x_val must be a batch of grids (N, n, n), got shape {x_val.shape}")
    samples = [check_int("samples", k, 0, x_val.shape[0] - 1)
               for k in check_sequence("samples", samples)]
    names = check_sequence("names", names)
    check_mapping("results", results, keys=names)
    _check_results({name: results[name] for name in names}, ("x_val_pred",), x_val)
    y_val = heat_physics(x_val[list(samples)])
    columns = ["target $x^*$", "observation $y^*$"] + list(names) + [f"{n} − $x^*$" for n in names]
    fig, axes = plt.subplots(len(samples), len(columns), figsize=(2.0 * len(columns), 2.1 * len(samples)))
    axes = np.atleast_2d(axes)
    for row, k in enumerate(samples):
        top = x_val[k].max()
        fields = [x_val[k], y_val[row]] + [results[n]["x_val_pred"][k] for n in names]
        errors = [results[n]["x_val_pred"][k] - x_val[k] for n in names]
        limit = max(np.abs(e).max() for e in errors)
        for col, field in enumerate(fields):
            axes[row, col].imshow(field, cmap="magma", vmin=min(0.0, field.min()), vmax=top)
        for col, error in enumerate(errors, start=len(fields)):
            axes[row, col].imshow(error, cmap="RdBu_r", vmin=-limit, vmax=limit)
        for col, title in enumerate(columns):
            axes[row, col].set_xticks([])
            axes[row, col].set_yticks([])
            axes[row, col].grid(False)
            if row == 0:
                axes[row, col].set_title(title, fontsize=9)
        axes[row, 0].set_ylabel(f"validation sample {k}", fontsize=9)
    fig.tight_layout()
    return fig


def figure_spectra(spectra, names=("x* itself", "Adam", "SGD", "SIP", "SIP-Tikhonov")):
    """Radially binned power spectrum of x − x* per method (x* − mean for scale)."""
    check_mapping("spectra", spectra)
    for name, spectrum in spectra.items():
        if not isinstance(spectrum, (tuple, list)) or len(spectrum) != 2:
            raise ValueError(f"spectra[{name!r}] must be the pair (|f| bin centres, power)")
    names = check_sequence("names", names)
    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    styles = {"x* itself": dict(color="black", linestyle=":"), **RUN_STYLE,
              "inverse step iterated": dict(color="0.4"), "GD on x": dict(color="0.7")}
    for name in names:
        if name in spectra:
            f, power = spectra[name]
            ax.semilogy(f[1:], power[1:], label=name, **styles.get(name, {}))
    ax.axvspan(*HIGH_BAND, color="0.92", zorder=0, label="band of the high-frequency measure")
    ax.set_xlabel("radial frequency |f| [cycles per cell]")
    ax.set_ylabel("error power per coefficient")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_solvers(results, solvers):
    """Per-sample solvers (x error per iteration) next to the trained networks' final error."""
    check_mapping("results", results, keys=("SIP", "Adam"))
    _check_results({name: results[name] for name in ("SIP", "Adam")}, ("x_l1",))
    _check_solvers(solvers, ("x_l1",))
    fig, ax = plt.subplots(figsize=(7.0, 3.8))
    styles = {"bayes": dict(color="black"), "tikhonov": dict(color="black", linestyle="--"),
              "gradient": dict(color="0.6")}
    for direction, solved in solvers.items():
        ax.plot(np.arange(len(solved["x_l1"])), solved["x_l1"], label=SOLVER_LABELS[direction],
                **styles[direction])
    for name in ("SIP", "Adam"):
        ax.axhline(results[name]["x_l1"][-1], label=f"{name} network (final)", linewidth=1.2,
                   **RUN_STYLE[name])
    ax.set_yscale("log")
    ax.set_xlabel("iteration on each sample (no network)")
    ax.set_ylabel("validation x error Σ|x − x*|")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_inverse_ablation(residual_sample, nu_t=HEAT_NU_T):
    """What each inverse does to each frequency of one residual: the factor Δx̂ / r̂ against
    |f| (computed from the residual's own spectrum)."""
    from .updates import heat_inverse_step

    residual_sample = check_heat_grid("residual_sample", residual_sample)
    if residual_sample.ndim != 2:
        raise ValueError(f"residual_sample must be one grid (n, n), got shape "
                         f"{residual_sample.shape}")
    radius, damping = heat_damping(residual_sample.shape[-1], nu_t)
    a = np.fft.fft2(residual_sample)
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    for inverse, style in (("bayes", dict(color=method_color("SIP"), marker=".", ms=3,
                                          linestyle="none")),
                           ("tikhonov", dict(color="0.4", marker=".", ms=2, linestyle="none"))):
        step = np.fft.fft2(heat_inverse_step(residual_sample, nu_t, inverse))
        factor = np.abs(step) / np.maximum(np.abs(a), 1e-300)
        ax.semilogy(radius.ravel(), factor.ravel(), label=f"{inverse} inverse", **style)
    order = np.argsort(radius.ravel())
    ax.semilogy(radius.ravel()[order], 1 / damping.ravel()[order], color="black", linewidth=0.8,
                label="exact inverse $1/k(f)$")
    ax.set_ylim(1e-8, 1e12)
    ax.set_xlabel("radial frequency |f| [cycles per cell]")
    ax.set_ylabel("amplification |Δx̂| / |r̂|")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------
# Command line: sip-heat-reproduce and sip-heat-bench
# ---------------------------------------------------------------------------------------


def _save_figures(out, results, solvers, x_val):
    use_book_style()
    spectra = error_spectra(results, x_val, solvers)
    figures = {
        "heat_damping": figure_damping,
        "heat_curves": lambda: figure_curves(results),
        "heat_reconstructions": lambda: figure_reconstructions(results, x_val),
        "heat_spectra": lambda: figure_spectra(spectra),
        "heat_solvers": lambda: figure_solvers(results, solvers),
    }
    for name, make in figures.items():
        fig = make()
        fig.savefig(out / f"{name}.png", bbox_inches="tight")
        plt.close(fig)


def reproduce(args):
    """sip-heat-reproduce: every run at the chosen batch and budget, files and figures."""
    from tqdm.auto import tqdm

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = check_runs(args.methods)
    if args.seconds is not None:
        print("measuring the per-step time of each method ...", flush=True)
        times = measure_step_times(args.batch, repeats=2)
        steps = {name: max(1, round(args.seconds / times[RUNS[name][0]] / args.log_every))
                 * args.log_every for name in names}
    else:
        steps = {name: args.steps for name in names}
    print("steps per run: " + ", ".join(f"{n} {s}" for n, s in steps.items()), flush=True)
    x_val = validation_set(args.val_size)
    batches = batch_sequence(args.batch)
    if args.test_diverge_at is not None:
        batches = _diverging(batches, args.test_diverge_at)
    results = {}
    with tqdm(total=sum(steps.values()), desc="sip-heat-reproduce", unit="step") as progress:
        for name in names:
            results.update(run_methods([name], steps=steps[name], batch_size=args.batch,
                                       log_every=args.log_every, x_val=x_val, progress=progress,
                                       batches=batches))
    solvers = run_solvers(x_val)
    arrays = {f"{name}/{key}": result[key] for name, result in results.items()
              for key in ("step", "time", "x_l1", "x_l2", "y_l2", "train_y_l2", "x_val_pred")}
    arrays.update({f"solver_{d}/{key}": s[key] for d, s in solvers.items()
                   for key in ("x_l1", "x_l2", "y_l2")})
    np.savez(out / "heat_results.npz", x_val=x_val, **arrays)
    summary = {"batch": args.batch, "steps": steps, "val_size": args.val_size,
               "final": {name: {m: float(r[m][-1]) for m in METRICS} for name, r in results.items()},
               "solvers": {d: {m: float(s[m][-1]) for m in METRICS} for d, s in solvers.items()},
               "seconds": {name: float(r["time"][-1]) for name, r in results.items()}}
    if {"SIP", "Adam"} <= set(results):
        summary["outcomes"] = outcomes(results, solvers, x_val)
        summary["equal_time"] = dict(zip(("seconds", "Adam / SIP x_l1"), equal_time_ratio(results)))
    (out / "heat_results.json").write_text(json.dumps(summary, indent=2) + "\n")
    table = summary_table(results, solvers)
    (out / "heat_summary.txt").write_text(table + "\n")
    _save_figures(out, results, solvers, x_val)
    print(table)
    print(f"results and figures written to {out}")
    return 0


# Test hook of sip-heat-reproduce (--test-diverge-at): the ground truths of one step are
# scaled by this factor, finite in float64 but infinite once the network reads them in
# float32, so the loss of that step is NaN and the run stops with TrainingDiverged there.
TEST_DIVERGE_FACTOR = 1e200


def _diverging(batches, step):
    """``batches`` with the batch of ``step`` blown up by TEST_DIVERGE_FACTOR."""
    return lambda k: batches(k) * TEST_DIVERGE_FACTOR if k == step else batches(k)


def benchmark(args):
    """sip-heat-bench: per-step times of SIP, Adam and SGD side by side; loop strategies."""
    times = measure_step_times(args.batch, repeats=args.repeats)
    print(f"per-step time at batch {args.batch} (one jitted step, best of {args.repeats}, "
          f"methods taking turns; device: {jax.devices()[0].platform})")
    for method, seconds in times.items():
        print(f"{method:<6}{seconds * 1e3:9.1f} ms/step   {seconds / times['Adam']:.2f} x Adam")
    print(f"SIP / Adam: {times['SIP'] / times['Adam']:.2f}")
    if args.strategies:
        print(f"Adam per step by loop compilation (chunks of {args.chunk} steps):")
        for label, seconds in measure_loop_strategies(args.batch, args.chunk, args.repeats).items():
            print(f"  {label:<20}{seconds * 1e3:9.1f} ms/step")
    return 0


def add_commands(subparsers):
    """Register ``sip-heat-reproduce`` and ``sip-heat-bench``."""
    parser = subparsers.add_parser(
        "sip-heat-reproduce",
        help="heat inversion at full scale: SIP, Adam, SGD and the inverse ablation")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=positive_int(), default=1000,
                        help="training steps per run (default %(default)s)")
    budget.add_argument("--seconds", type=positive_float, default=None,
                        help="wall-clock budget per run instead, converted to steps from the "
                             "measured per-step time")
    parser.add_argument("--batch", type=positive_int(), default=PAPER_BATCH,
                        help="batch size (default: the paper's %(default)s)")
    parser.add_argument("--log-every", type=positive_int(), default=50,
                        help="steps per validation (default %(default)s)")
    parser.add_argument("--val-size", type=positive_int(), default=128,
                        help="validation samples (default %(default)s)")
    parser.add_argument("--methods", nargs="+", choices=tuple(RUNS), default=list(RUNS),
                        help="runs (default: all)")
    parser.add_argument("--out", type=writable_directory, default="sip-heat-results",
                        help="output directory")
    parser.add_argument("--test-diverge-at", type=int_in_range(0), default=None, metavar="STEP",
                        help="for tests only: blow up the training batch of step STEP "
                             f"(×{TEST_DIVERGE_FACTOR:g}, infinite in float32) so that every run "
                             "diverges there and the command ends with exit status 1")
    parser.set_defaults(run=_reproduce_checked(parser))

    bench = subparsers.add_parser("sip-heat-bench",
                                  help="per-step time of SIP, Adam and SGD, side by side")
    bench.add_argument("--batch", type=positive_int(), default=BOOK_BATCH,
                       help="batch size (default %(default)s)")
    bench.add_argument("--repeats", type=positive_int(), default=10,
                       help="timed steps per method, taking turns; the best counts "
                            "(default %(default)s)")
    bench.add_argument("--strategies", action="store_true",
                       help="also time jit-per-step against unrolled and scanned chunks")
    bench.add_argument("--chunk", type=positive_int(), default=5,
                       help="steps per chunk for --strategies (default %(default)s)")
    bench.set_defaults(run=benchmark)


def _reproduce_checked(parser):
    def run(args):
        if args.seconds is None and args.steps % args.log_every:
            parser.error(f"--steps ({args.steps}) must be a multiple of --log-every "
                         f"({args.log_every})")
        return reproduce(args)

    return run
