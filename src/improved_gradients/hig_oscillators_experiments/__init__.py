"""The hig-oscillators page (HIG on coupled oscillators): settings, runs, tables and the
cost per update; its sub-modules ``figures``, ``record`` (the long-budget records),
``claims`` (the page's claims in the book's registry and their evidence per budget) and
``command`` (``hig-oscillators-reproduce``, ``-bench`` and ``-record``), their public names
re-exported here.

Two settings of one simulator (``physics.OscillatorSystem``): the HIG paper's nonlinear
chain (Schnell et al. 2022; two masses, cubic coupling, control gain 3, 96 RK4 steps of
0.125) and the source book's linear chain (coupling 0.2·L, gain 1, 24 steps of 0.5). A
network maps the initial state s₀ to the controls u; the loss asks the chain to return to
s₀ at the end. Four methods share one training loop (``training.train_control_network``):
Adam, Gauss-Newton and HIG (``updates.svd_power_update_kernel`` with κ = −1 and −½) and
SIP (control targets from the per-sample pseudo-inverse of ∂s_T/∂u, then Adam).
"""

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .._checks import (check_array, check_callable, check_choice, check_mapping,
                      check_number, check_optional, check_positive, check_positive_int,
                      check_records, check_seed, check_sequence)
from ..common import best_seconds
from ..errors import TrainingDiverged
from ..models import init_mlp_glorot, mlp_apply
from ..physics import LINEAR_CHAIN, PAPER_OSCILLATORS, oscillator_data, oscillator_simulate_kernel
from ..training import train_control_network
from ..updates import batch_jacobian_kernel, svd_power_update_kernel

PAGE = "hig-oscillators"
SETTINGS = ("nonlinear", "linear")
SYSTEMS = {"nonlinear": PAPER_OSCILLATORS, "linear": LINEAR_CHAIN}

# Data (both settings): 4096 training and 4096 test initial states s₀ ~ U[0, 1)⁴, seeded;
# the target of every sample is its own initial state.
N_TRAIN = 4096
N_TEST = 4096
DATA_SEED = 0
SEEDS = (0, 1, 2)


def relu_controller(params, state0):
    """The paper's network: s₀ (4) → 20 → 20 → 20 (ReLU) → controls (linear output)."""
    check_array("state0", state0, (..., PAPER_OSCILLATORS.state_size))
    return mlp_apply(params, state0, jax.nn.relu)


def tanh_controller(params, state0):
    """The source book's network: s₀ (4) → 20 → 20 → 20 (tanh) → controls."""
    check_array("state0", state0, (..., LINEAR_CHAIN.state_size))
    return mlp_apply(params, state0, jnp.tanh)


def _simulate_nonlinear(state0, controls):
    return oscillator_simulate_kernel(PAPER_OSCILLATORS, state0, controls)


def _simulate_linear(state0, controls):
    return oscillator_simulate_kernel(LINEAR_CHAIN, state0, controls)


NETWORKS = {"nonlinear": relu_controller, "linear": tanh_controller}
PHYSICS = {"nonlinear": _simulate_nonlinear, "linear": _simulate_linear}
HIDDEN = (20, 20, 20)

# The methods. Nonlinear chain: the paper's settings (Adam lr 3e-4, B = 512; GN and HIG
# B = 128, τ = 1e-6, η = 1). SIP is not in the paper: the network follows the control
# targets with the same Adam as the baseline; its physics step is a full Gauss-Newton
# step per sample (η = 1), truncated at τ = 1e-6 like GN's.
METHODS = {
    "nonlinear": {
        "Adam": dict(method="adam", lr=3e-4, batch_size=512),
        "SIP": dict(method="sip", lr=3e-4, batch_size=512, tau=1e-6, eta=1.0),
        "GN": dict(method="svd", kappa=-1.0, tau=1e-6, eta=1.0, batch_size=128),
        "HIG": dict(method="svd", kappa=-0.5, tau=1e-6, eta=1.0, batch_size=128),
    },
    # Linear chain: the source notebook's settings (Adam and SIP lr 1e-3, B = 256; HIG
    # B = 32, a 128 × 1,444 Jacobian) with τ = 1e-6 instead of its 1e-10 (which in its
    # float32 SVD truncated nothing; the float64 Gram route resolves about 7e-7).
    "linear": {
        "Adam": dict(method="adam", lr=1e-3, batch_size=256),
        "SIP": dict(method="sip", lr=1e-3, batch_size=256, tau=1e-6, eta=1.0),
        "GN": dict(method="svd", kappa=-1.0, tau=1e-6, eta=1.0, batch_size=32),
        "HIG": dict(method="svd", kappa=-0.5, tau=1e-6, eta=1.0, batch_size=32),
    },
}
# Steps per chunk: the loop evaluates the test loss between compiled chunks. Measured with
# ``chunk_sweep`` on the build machine (2 cores, under a load of about 7): Adam 17.3, 8.1,
# 7.4, 6.8 ms per step with 1, 5, 25, 50 steps per chunk (one chunk pays one test-loss
# evaluation); HIG 205, 200, 211 ms with 1, 2, 4. So 25–50 cheap steps, 2 HIG steps.
CHUNK = {"Adam": 50, "SIP": 25, "GN": 2, "HIG": 2}
# The page's deterministic step budgets, chosen so that every method of a setting uses
# about the same measured training time on the build machine (2-core CPU): about
# PAGE_SECONDS[setting] seconds each. Printed, with the measured times, on the page.
PAGE_SECONDS = {"nonlinear": 5.0, "linear": 2.5}
PAGE_STEPS = {
    "nonlinear": {"Adam": 900, "SIP": 500, "GN": 50, "HIG": 50},
    "linear": {"Adam": 2200, "SIP": 400, "GN": 300, "HIG": 300},
}
# The paper trained every method for 3600 s of measured time (on a GPU).
PAPER_SECONDS = 3600.0
# The command's runs end at their time budget, not at a step count (this cap is never reached).
RECORD_MAX_STEPS = 2**31 - 1
SPECTRUM_BATCH = 128


def check_setting(setting):
    """ValueError unless ``setting`` is one of SETTINGS (the message lists them)."""
    return check_choice("setting", setting, SETTINGS)


def check_method(setting, name):
    """ValueError unless ``name`` is a method of ``METHODS[setting]`` (listed)."""
    check_setting(setting)
    return check_choice("method", name, tuple(METHODS[setting]))


# What ``run_method``'s overrides may replace in a method's settings.
OVERRIDABLE = ("method", "lr", "batch_size", "kappa", "tau", "eta", "mode", "max_steps")


def _check_runs(name, runs, keys=("step", "time", "test_loss")):
    """{method: [result per seed]} of ``run_seeds``: a non-empty dict of non-empty lists of
    results, each holding ``keys`` (a diverged run's record holds them too)."""
    check_mapping(name, runs)
    for method, results in runs.items():
        check_records(f"{name}[{method!r}]", results, keys)
    return runs


def _check_theta(setting, theta):
    """The flat parameters of ``setting``'s network; returns the unravel function."""
    theta0, unravel = ravel_pytree(initial_params(setting, 0))
    check_array("theta", theta, theta0.shape)
    return unravel


@functools.lru_cache(maxsize=None)
def _data(setting):
    train, test = oscillator_data(DATA_SEED, N_TRAIN, N_TEST, SYSTEMS[setting])
    return train, train, test, test


def page_data(setting):
    """(x_train, y_train, x_test, y_test): seeded initial states; targets = inputs."""
    return _data(check_setting(setting))


def network_sizes(setting):
    """Layer sizes: 4 → 20 → 20 → 20 → number of time steps."""
    system = SYSTEMS[check_setting(setting)]
    return [system.state_size, *HIDDEN, system.steps]


def initial_params(setting, seed):
    """Glorot-uniform kernels and zero biases (Keras' default), seeded."""
    sizes = network_sizes(setting)
    return init_mlp_glorot(jax.random.PRNGKey(check_seed("seed", seed)), sizes)


def initial_theta(setting, seed):
    """The initial network of ``seed`` as a flat parameter vector (ravel_pytree order)."""
    return ravel_pytree(initial_params(setting, seed))[0]


def parameter_count(setting):
    """Number of parameters of ``setting``'s network."""
    return int(ravel_pytree(initial_params(setting, 0))[0].size)


def run_method(setting, name, *, seed=0, steps=None, time_budget=None, progress=None,
               **overrides):
    """Train one method of ``METHODS[setting]`` from the seed's initial network (the same
    for every method), with the page's steps unless ``steps`` is given; see
    ``training.train_control_network`` for the result."""
    check_method(setting, name)
    unknown = [key for key in overrides if key not in OVERRIDABLE]
    if unknown:
        raise ValueError(f"unknown override {', '.join(unknown)}; overrides may set "
                         f"{', '.join(OVERRIDABLE)}")
    check_seed("seed", seed)
    check_optional(check_positive, "time_budget", time_budget)
    check_optional(check_callable, "progress", progress)
    settings = {**METHODS[setting][name], **overrides}
    steps = PAGE_STEPS[setting][name] if steps is None else steps
    steps = check_positive_int("steps", steps)
    chunk = min(CHUNK[name], steps)
    if steps % chunk:
        steps += chunk - steps % chunk
    return train_control_network(
        NETWORKS[setting], PHYSICS[setting], initial_params(setting, seed), page_data(setting),
        steps=steps, chunk_steps=chunk, seed=seed, time_budget=time_budget, name=name,
        progress=progress, **settings)


def diverged_run(error):
    """The record of a run that stopped with a non-finite loss or parameters: its final
    test loss counts as +inf, "diverged" holds the message (naming the step)."""
    if not isinstance(error, TrainingDiverged):
        raise ValueError(f"error must be the TrainingDiverged a run stopped with, got "
                         f"{error!r}")
    return {"diverged": str(error), "step": np.array([0]), "time": np.array([np.nan]),
            "test_loss": np.array([np.inf]), "train_loss": np.array([np.nan]), "params": None}


def run_seeds(setting, seeds=SEEDS, methods=None, progress=None):
    """{method: [result per seed]} with the page's step budgets; a run that diverges is
    kept as ``diverged_run`` (a result, not a crash)."""
    methods = list(METHODS[check_setting(setting)]) if methods is None else methods
    methods = [check_method(setting, name) for name in check_sequence("methods", methods)]
    seeds = [check_seed("seeds", seed) for seed in check_sequence("seeds", seeds)]
    check_optional(check_callable, "progress", progress)
    out = {}
    for name in methods:
        out[name] = []
        for seed in seeds:
            try:
                out[name].append(run_method(setting, name, seed=seed))
            except TrainingDiverged as error:
                out[name].append(diverged_run(error))
            if progress is not None:
                progress()
    return out


def completed(results):
    """The runs of a list that did not diverge."""
    check_records("results", results, (), min_size=0)
    return [r for r in results if "diverged" not in r]


def final_test_losses(runs):
    """{method: array of final test losses over the seeds} (+inf for a diverged run)."""
    _check_runs("runs", runs, ("test_loss",))
    return {name: np.array([r["test_loss"][-1] for r in results]) for name, results in runs.items()}


def seed_table(runs):
    """Text table: per method the steps, the median measured time, the final test loss
    (median and range over the seeds; a diverged run counts as inf) and how many seeds
    diverged."""
    lines = [f"{'method':<6} {'steps':>6} {'time [s]':>9}  {'test loss median':>16}  "
             f"{'range over seeds':<22} diverged"]
    _check_runs("runs", runs)
    for name, results in runs.items():
        losses = np.array([r["test_loss"][-1] for r in results])
        done = completed(results)
        steps = done[0]["step"][-1] if done else 0
        seconds = np.median([r["time"][-1] for r in done]) if done else np.nan
        lines.append(f"{name:<6} {steps:>6} {seconds:>9.1f}  {np.median(losses):>16.3g}  "
                     f"{f'[{losses.min():.3g}, {losses.max():.3g}]':<22} "
                     f"{len(results) - len(done)} of {len(results)}")
    return "\n".join(lines)


def loss_at_time(run, seconds):
    """The test loss of the last logged point at or before ``seconds`` of training."""
    check_mapping("run", run, keys=("time", "test_loss"))
    check_number("seconds", seconds, 0.0)
    index = np.searchsorted(run["time"], seconds, side="right") - 1
    return float(run["test_loss"][max(index, 0)])


def controls_and_states(setting, theta, state0):
    """The network's controls u (steps,) for one initial state and the trajectory
    (steps + 1, 4) it produces."""
    check_setting(setting)
    unravel = _check_theta(setting, theta)
    check_array("state0", state0, (SYSTEMS[setting].state_size,))
    state0 = jnp.asarray(state0, jnp.float32)
    controls = NETWORKS[setting](unravel(jnp.asarray(theta)), state0)
    states = oscillator_simulate_kernel(SYSTEMS[setting], state0, controls, trajectory=True)
    return np.asarray(controls), np.asarray(states)


def joint_jacobian(setting, theta, batch):
    """The stacked Jacobian ∂s_T/∂θ of a batch of initial states, (4·B, n_θ), float32."""
    check_setting(setting)
    unravel = _check_theta(setting, theta)
    check_array("batch", batch, (None, SYSTEMS[setting].state_size), min_size=1)
    network, physics = NETWORKS[setting], PHYSICS[setting]

    def output(t, x):
        return physics(x, network(unravel(t), x))

    jac, _ = jax.jit(lambda t, x: batch_jacobian_kernel(output, t, x))(
        jnp.asarray(theta, jnp.float32), jnp.asarray(batch, jnp.float32))
    return jac


def jacobian_spectrum(setting, theta, batch):
    """Singular values of the joint Jacobian relative to the largest, descending
    (float64 SVD of the float32 Jacobian)."""
    sigma = np.linalg.svd(np.asarray(joint_jacobian(setting, theta, batch), np.float64),
                          compute_uv=False)
    return sigma / sigma[0]


# ---------------------------------------------------------------------------------------
# Cost per update
# ---------------------------------------------------------------------------------------


def _one_step_programs(setting, batch_size):
    """Jitted single pieces of HIG's update at a batch size: the joint Jacobian with the
    outputs, the κ/τ update from a given Jacobian, and the whole update."""
    _, unravel = ravel_pytree(initial_params(setting, 0))
    network, physics = NETWORKS[setting], PHYSICS[setting]

    def jacobian(theta, xb):
        return batch_jacobian_kernel(lambda t, x: physics(x, network(unravel(t), x)), theta, xb)

    def decomposition(jac, g):
        return svd_power_update_kernel(jac, g, -0.5, 1e-6, 1.0, "truncate")

    def whole(theta, xb):
        jac, y = jacobian(theta, xb)
        g = (2.0 * (y - xb) / batch_size).reshape(-1)
        return theta + decomposition(jac, g)

    return jax.jit(jacobian), jax.jit(decomposition), jax.jit(whole)


SPLIT_SECONDS = 0.5  # measuring time per part when measure_hig_split picks the repeats


def measure_hig_split(setting, batch_size=None, repeats=None):
    """Seconds of one HIG update split into its parts, measured in one run so that they add
    up: per repeat the "jacobian" program (joint Jacobian and outputs) and then the
    "decomposition" program (``svd_power_update_kernel`` from that Jacobian: float64 Gram
    matrix of the short side, eigh, products) run back to back and are timed in turn; the
    repeat with the smallest sum gives both parts and their sum "total". "fused" is the
    update compiled as one program (best of the same number of repeats; XLA may fuse across
    the parts, so it can differ from "total"). Plus the Jacobian's "shape" and "repeats".
    ``repeats=None`` takes as many as fit in about SPLIT_SECONDS (at least 5): a
    millisecond update needs hundreds to find its best time on a shared machine."""
    check_setting(setting)
    check_optional(check_positive_int, "batch_size", batch_size)
    if batch_size is not None and batch_size > N_TRAIN:
        raise ValueError(f"batch_size must be at most the {N_TRAIN} training samples, got "
                         f"{batch_size}")
    batch_size = batch_size or METHODS[setting]["HIG"]["batch_size"]
    if repeats is not None:
        repeats = check_positive_int("repeats", repeats)
    theta = ravel_pytree(initial_params(setting, 0))[0]
    xb = page_data(setting)[0][:batch_size]
    jacobian, decomposition, whole = _one_step_programs(setting, batch_size)
    jac, y = jax.block_until_ready(jacobian(theta, xb))
    g = (2.0 * (y - xb) / batch_size).reshape(-1)
    jax.block_until_ready(decomposition(jac, g))
    if repeats is None:
        once = best_seconds(lambda: whole(theta, xb), 1)
        repeats = max(5, int(SPLIT_SECONDS / max(once, 1e-6)))
    best = (np.inf, np.inf)
    for _ in range(repeats):
        begin = time.perf_counter()
        jac, y = jax.block_until_ready(jacobian(theta, xb))
        middle = time.perf_counter()
        jax.block_until_ready(decomposition(jac, g))
        parts = (middle - begin, time.perf_counter() - middle)
        if sum(parts) < sum(best):
            best = parts
    return {"jacobian": best[0], "decomposition": best[1], "total": sum(best),
            "fused": best_seconds(lambda: whole(theta, xb), repeats),
            "shape": tuple(int(s) for s in jac.shape), "repeats": repeats}


def measure_step_times(setting="nonlinear", steps=None, repeats=2, methods=None):
    """Measured seconds per training step of each method inside the training loop (one
    chunk of ``steps`` steps, or the method's chunk size, compilation excluded; best of
    ``repeats``), taking turns: {method: seconds}."""
    check_setting(setting)
    methods = list(METHODS[setting]) if methods is None else methods
    methods = [check_method(setting, name) for name in check_sequence("methods", methods)]
    check_optional(check_positive_int, "steps", steps)
    best = {name: np.inf for name in methods}
    for _ in range(check_positive_int("repeats", repeats)):
        for name in methods:
            n = steps or CHUNK[name]
            run = run_method(setting, name, steps=n)
            best[name] = min(best[name], run["time"][-1] / run["step"][-1])
    return best


def measure_cost_per_update(repeats=3):
    """{method: measured seconds per update} of the page's four methods on the paper's
    nonlinear chain (Adam included), measured side by side, one chunk each per repeat
    (about 1 s of measurement). Compilation is excluded from the times but not free: the
    chunk programs are cached per process (shared with the page's runs); in a fresh
    process compiling them took about 45 s on the loaded 2-core build machine."""
    return measure_step_times("nonlinear", repeats=check_positive_int("repeats", repeats))


def chunk_sweep(name, chunk_sizes, setting="nonlinear", total_steps=None, repeats=2):
    """Per-step seconds of one method for several steps-per-chunk (the same number of
    steps in total): {chunk size: seconds}."""
    check_method(setting, name)
    chunk_sizes = [check_positive_int("chunk_sizes", chunk)
                   for chunk in check_sequence("chunk_sizes", chunk_sizes)]
    check_optional(check_positive_int, "total_steps", total_steps)
    check_positive_int("repeats", repeats)
    total = total_steps or max(chunk_sizes)
    out = {}
    for chunk in chunk_sizes:
        best = np.inf
        for _ in range(check_positive_int("repeats", repeats)):
            run = train_control_network(
                NETWORKS[setting], PHYSICS[setting], initial_params(setting, 0),
                page_data(setting), steps=-(-total // chunk) * chunk, chunk_steps=chunk,
                **METHODS[setting][name])
            best = min(best, run["time"][-1] / run["step"][-1])
        out[chunk] = best
    return out


# ---------------------------------------------------------------------------------------
# The discussion page's rows
# ---------------------------------------------------------------------------------------

# Typed from the sources.
SOURCE_NOTEBOOK = {"HIG": 2.3e-8, "Adam": 5.5e-5, "SIP": 8.7e-5, "hig_update_ms": 26.0}


def orders_of_magnitude(loss_a, loss_b):
    """log10(loss_b / loss_a): how many orders of magnitude a is below b (both losses
    positive and finite)."""
    check_positive("loss_a", loss_a)
    check_positive("loss_b", loss_b)
    return float(np.log10(loss_b / loss_a))


def discussion_summary():
    """Rows for the discussion page: each method's median final test loss per setting, from
    the stored, tolerance-checked references (the verdicts come from ``claims``)."""
    from ..reference import load_references

    stored = load_references(PAGE)["quantities"]
    rows = []
    for setting, problem in (("nonlinear", "coupled oscillators, nonlinear (paper)"),
                             ("linear", "coupled oscillators, linear (source book)")):
        for name in METHODS[setting]:
            key = f"{setting}/{name}/median"
            if key not in stored:
                continue
            rows.append({
                "experiment": problem, "method": name,
                "metric": f"median final test loss over {len(SEEDS)} seeds, "
                          f"{PAGE_SECONDS[setting]:g} s budget",
                "value": float(stored[key]["value"]),
                "note": ("GN diverges and SIP's loss grows on every seed (no stable value)"
                         if setting == "nonlinear" else "source notebook: 100 s per method")})
    return rows


from .figures import (figure_controls, figure_losses,  # noqa: E402, F401 (re-exported)
                      figure_record, figure_spectra)
from .claims import evidence  # noqa: E402, F401 (re-exported)
from .command import add_commands, benchmark, reproduce  # noqa: E402, F401 (re-exported)
