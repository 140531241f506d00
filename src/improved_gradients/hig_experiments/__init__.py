"""The hig-toy page (the HIG toy): settings, training, experiments and tables; its
sub-modules ``claims`` (the page's claims, their evidence, its rows of the discussion
page), ``timings`` (cost per step, ``hig-bench``) and ``figures``, their public names
re-exported here.

The notebook ``book/hig-toy.ipynb`` calls these functions; the paper (Schnell et al.
2022) leaves the data size, batch sizes, η, τ, Adam's learning rate and the number of
steps of its toy open, so every one of them is chosen and stated here.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from .._checks import (check_array, check_choice, check_int, check_mapping, check_number,
                       check_positive, check_positive_int, check_seed)
from ..models import init_mlp_glorot, mlp_apply, mlp_hidden
from ..physics import HIG_PROBE_X, hig_data, hig_physics_kernel, hig_sample_loss_kernel, hig_target
from ..training import check_budget, compile_chunk, initial_state, sampled_chunk, train_chunks
from ..updates import batch_jacobian_kernel, check_svd_setting, svd_power_update_kernel

PAGE = "hig-toy"

# Data: a fixed training set (uniform in [−1, 1], seeded) and an evaluation grid.
N_TRAIN = 1024
N_VAL = 512
DATA_SEED = 0
LAMBDAS = (1.0, 0.01)

# The three methods of the paper's figure. HIG and GN: stacked Jacobian of B = 128
# samples, η = 1, relative truncation τ; Adam: optax defaults (β = 0.9, 0.999), lr 1e-2,
# B = 512. HIG's τ = 1e-5 keeps every direction the toy's Jacobian resolves with signal
# (the update computes the spectrum in float64, so τ is not limited by float32 rounding).
METHODS = {
    "Adam": dict(method="adam", lr=1e-2, batch_size=512),
    "GN": dict(method="svd", kappa=-1.0, tau=1e-3, eta=1.0, batch_size=128),
    "HIG": dict(method="svd", kappa=-0.5, tau=1e-5, eta=1.0, batch_size=128),
}
# Deterministic step budgets (the per-step results and the seed table) ...
STEPS = {"Adam": 30_000, "GN": 3_000, "HIG": 3_000}
LOG_EVERY = {"Adam": 100, "GN": 100, "HIG": 100}
# ... and the equal wall-clock budget of the figure (the paper gave every method 20 s).
TIME_BUDGET = 2.0
SEEDS = (0, 1, 2, 3, 4)

# Beyond the paper: the κ family at λ = 0.01 (τ and η of HIG), GN's τ sensitivity, and
# truncation against clamping.
KAPPAS = (1.0, 0.5, 0.0, -0.25, -0.5, -0.75, -1.0)
SWEEP_STEPS = 3_000
GN_TAUS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
TAU_SEEDS = (0, 1, 2)
TAU_STEPS = 2_000
CLAMP_TAUS = (1e-3, 1e-5)

# Reference levels of the loss: a zero output and a perfect y1 with y2 = 0.
ZERO_OUTPUT_LOSS = 0.5 * (0.5 - np.sin(12.0) / 24.0) + 0.5 * (0.5 + np.sin(18.0) / 36.0)
Y1_ONLY_LOSS = 0.5 * (0.5 + np.sin(18.0) / 36.0)


# ---------------------------------------------------------------------------------------
# Training: flat parameter vector θ (ravel_pytree of the 1 → 7 tanh → 2 MLP), physical
# output y = P(f(x; θ)). The SVD family (HIG / GN / κ) and Adam are step functions of
# the one compiled loop of ``training`` (``log_every`` steps per chunk, metrics after each).
# ---------------------------------------------------------------------------------------


HIG_METHODS = ("svd", "adam")


def _hig_physical_output(unravel, theta, x, lam):
    """y = P(f(x; θ)) = (f1, λ f2) for one sample x of shape (1,); returns shape (2,)."""
    return hig_physics_kernel(mlp_apply(unravel(theta), x, jnp.tanh), lam)


def _hig_metrics(unravel, theta, x_val, y_val, lam, probe_x):
    y = jax.vmap(lambda x: _hig_physical_output(unravel, theta, x, lam))(x_val)
    hidden = mlp_hidden(unravel(theta), x_val, jnp.tanh)[0]
    probe = _hig_physical_output(unravel, theta, probe_x, lam)
    return {
        "val_loss": jnp.mean(hig_sample_loss_kernel(y, y_val)),
        "act_mean": jnp.mean(hidden),
        "act_std": jnp.std(hidden),
        "probe": probe,
    }


def _hig_update(unravel, method, mode, batch_size):
    """The step of ``method`` on a batch: (θ, Adam state, xb, yb, inputs) -> (batch loss, θ',
    Adam state'). "adam": optax Adam on the batch-mean loss; "svd": θ' = θ − η V Λ^κ Uᵀ g
    (``updates.svd_power_update_kernel``) with g = (y − ŷ)/B row-stacked, (B·2,), the
    gradient of the batch-mean loss ½‖y − ŷ‖² in y."""
    def update(theta, opt_state, xb, yb, inputs):
        lam = inputs["lam"]
        if method == "adam":
            def batch_loss(t):
                y = jax.vmap(lambda x: _hig_physical_output(unravel, t, x, lam))(xb)
                return jnp.mean(hig_sample_loss_kernel(y, yb))

            loss, grad = jax.value_and_grad(batch_loss)(theta)
            updates, opt_state = optax.adam(inputs["lr"]).update(grad, opt_state, theta)
            return loss, theta + updates, opt_state
        jac, y = batch_jacobian_kernel(lambda t, x: _hig_physical_output(unravel, t, x, lam), theta, xb)
        loss = jnp.mean(hig_sample_loss_kernel(y, yb))
        g = ((y - yb) / batch_size).reshape(-1)
        step = svd_power_update_kernel(jac, g, inputs["kappa"], inputs["tau"], inputs["eta"], mode)
        return loss, theta + step, opt_state

    return update


@functools.lru_cache(maxsize=None)
def _hig_chunk_program(hidden, method, mode, batch_size, chunk_steps, n_train, n_val):
    """The compiled chunk (``training.sampled_chunk``): ``chunk_steps`` training steps fused
    in one lax.scan, then the metrics. Cached per structure, so every κ, τ, η, λ, lr and
    seed reuses one compilation."""
    theta, unravel = hig_toy_init(0, hidden)

    def metrics(theta, inputs, losses):
        return _hig_metrics(unravel, theta, inputs["x_val"], inputs["y_val"], inputs["lam"],
                            inputs["probe_x"])

    f32 = jax.ShapeDtypeStruct((), jnp.float32)
    inputs = {
        "x_train": jax.ShapeDtypeStruct((n_train, 1), jnp.float32),
        "y_train": jax.ShapeDtypeStruct((n_train, 2), jnp.float32),
        "x_val": jax.ShapeDtypeStruct((n_val, 1), jnp.float32),
        "y_val": jax.ShapeDtypeStruct((n_val, 2), jnp.float32),
        "probe_x": jax.ShapeDtypeStruct((1,), jnp.float32),
        **{name: f32 for name in ("lam", "kappa", "tau", "eta", "lr")},
    }
    chunk = sampled_chunk(_hig_update(unravel, method, mode, batch_size), metrics, batch_size,
                          chunk_steps)
    state = initial_state(theta, optax.adam(1e-3).init(theta), 0)
    return compile_chunk(chunk, state, inputs), unravel


def hig_toy_init(seed, hidden=7):
    """Glorot-uniform 1 → hidden (tanh) → 2 network as a flat vector; returns (θ0, unravel)."""
    seed = check_seed("seed", seed)
    hidden = check_positive_int("hidden", hidden)
    return ravel_pytree(init_mlp_glorot(jax.random.PRNGKey(seed), [1, hidden, 2]))


def _check_hig_data(data):
    if not isinstance(data, (tuple, list)) or len(data) != 4:
        raise ValueError("data must be the tuple (x_train, y_train, x_val, y_val) of "
                         f"physics.hig_data, got {type(data).__name__}")
    x_train = check_array("x_train (data[0])", data[0], (None, 1), min_size=1)
    y_train = check_array("y_train (data[1])", data[1], (x_train.shape[0], 2))
    x_val = check_array("x_val (data[2])", data[2], (None, 1), min_size=1)
    y_val = check_array("y_val (data[3])", data[3], (x_val.shape[0], 2))
    return dict(zip(("x_train", "y_train", "x_val", "y_val"),
                    (jnp.asarray(a, dtype=jnp.float32) for a in (x_train, y_train, x_val, y_val))))


def train_hig_toy(data, lam, method, *, steps, log_every, batch_size, seed=0, hidden=7,
                  kappa=-0.5, tau=1e-6, eta=1.0, mode="truncate", lr=1e-2, time_budget=None,
                  max_steps=None):
    """Train the HIG toy network with an SVD step (``method="svd"``) or Adam (``"adam"``).

    data = (x_train, y_train, x_val, y_val) from ``physics.hig_data``. The SVD step is
    θ ← θ − η V Λ^κ Uᵀ g on the stacked Jacobian of a mini-batch of ``batch_size``
    samples (drawn uniformly with replacement) with g = ∂(mean batch loss)/∂y, shape
    (batch_size·2,); Adam (optax, default betas) uses learning rate ``lr``. ``seed``
    sets the initial network and the batches. Runs ``steps`` steps in the compiled loop
    of ``training`` (chunks of ``log_every`` steps, compiled before the clock starts);
    with ``time_budget`` (seconds) it goes on, chunk by chunk, until that much measured
    time has passed or ``max_steps`` steps are done. The first ``steps`` steps are
    deterministic; what a time budget adds depends on the machine.

    Returns ``training.train_chunks``' layout over the logged points, the start included:
    "step", "time" (measured seconds of training; compilation and logging not counted),
    "params" (the final flat θ), "val_loss", "act_mean", "act_std" (of the hidden tanh
    activations over the validation set), "probe" (physical output (y1, y2) = (z1, λ·z2)
    of x = π/9, shape (n_logs, 2)). Raises ``TrainingDiverged`` naming the method and the
    first step whose loss or parameters are not finite.
    """
    check_choice("method", method, HIG_METHODS)
    check_choice("mode", mode, ("truncate", "clamp"))
    seed = check_seed("seed", seed)
    hidden = check_positive_int("hidden", hidden)
    lam = check_positive("lam", lam)
    batch_size = check_positive_int("batch_size", batch_size)
    steps, log_every, time_budget, max_steps = check_budget(
        steps, log_every, time_budget, max_steps, chunk_name="log_every", max_factor=100)
    inputs = _check_hig_data(data)
    kappa, tau, eta = check_svd_setting(kappa, tau, eta, mode)
    lr = check_positive("lr", lr)
    chunk, unravel = _hig_chunk_program(hidden, method, mode if method == "svd" else "truncate",
                                        batch_size, log_every, inputs["x_train"].shape[0],
                                        inputs["x_val"].shape[0])
    theta, _ = hig_toy_init(seed, hidden)
    inputs["probe_x"] = jnp.array([HIG_PROBE_X], dtype=jnp.float32)
    inputs.update({name: jnp.float32(value) for name, value in
                   (("lam", lam), ("kappa", kappa), ("tau", tau), ("eta", eta), ("lr", lr))})
    metrics0 = _hig_metrics(unravel, theta, inputs["x_val"], inputs["y_val"], lam, inputs["probe_x"])
    return train_chunks(chunk, initial_state(theta, optax.adam(lr).init(theta), seed), inputs,
                        metrics0, chunk_steps=log_every, steps=steps, time_budget=time_budget,
                        max_steps=max_steps, label=f"method {method!r}, lam {lam}")


def _check_list(name, values, check):
    """A non-empty list/tuple of values, each passing ``check(name, value)``."""
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__len__") or not len(values):
        raise ValueError(f"{name} must be a non-empty list, got {values!r}")
    return [check(name, value) for value in values]


def _check_kappa(name, kappa):
    return check_number(name, kappa, -1.0, 1.0)


def _check_tau(name, tau):
    return check_number(name, tau, 0.0, 1.0, low_open=True, high_open=True)


def _check_run(name, run, keys):
    """A result of ``train_hig_toy`` holding ``keys``."""
    return check_mapping(name, run, keys=keys)


def _check_seed_results(seed_results):
    """The dict of ``run_seeds``: {(λ, method): {"val_loss", "act_mean", "act_std",
    "steps"}}, Adam's entries with "val_loss_short"."""
    if not isinstance(seed_results, dict) or not seed_results or any(
            not isinstance(key, tuple) or len(key) != 2 or not isinstance(entry, dict)
            or {"val_loss", "act_mean", "act_std", "steps"} - set(entry)
            or (key[1] == "Adam" and "val_loss_short" not in entry)
            for key, entry in seed_results.items()):
        raise ValueError("seed_results must be the non-empty dict of run_seeds, "
                         "{(λ, method): {\"val_loss\", \"act_mean\", \"act_std\", \"steps\"}}")
    return seed_results


def toy_data():
    """The page's fixed data: (x_train, y_train, x_val, y_val), see ``physics.hig_data``."""
    return hig_data(DATA_SEED, N_TRAIN, N_VAL)


def probe_target():
    """The physical target of the probe sample x = π/9, ŷ(π/9) = (sin 6x, cos 9x) ≈ (0.866, −1).

    The loss compares P(z) = (z1, λ z2) with ŷ, so this is the target in the physical
    coordinates (y1, y2) = (z1, λ·z2) for every λ."""
    return np.asarray(hig_target(HIG_PROBE_X))


def run_method(name, lam, *, seed=0, steps=None, time_budget=None, data=None, **overrides):
    """Train one of ``METHODS`` at λ with the page's settings (``overrides`` replace any)."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; known: {', '.join(METHODS)}")
    settings = {**METHODS[name], **overrides}
    return train_hig_toy(
        toy_data() if data is None else data, lam, steps=STEPS[name] if steps is None else steps,
        log_every=LOG_EVERY[name], seed=seed, time_budget=time_budget, **settings)


def run_comparison(lam, time_budget=TIME_BUDGET, data=None):
    """Adam, GN and HIG at λ with seed 0, each for its deterministic ``STEPS`` and then on
    until ``time_budget`` seconds of measured training time; {method: result}."""
    data = toy_data() if data is None else data
    return {name: run_method(name, lam, time_budget=time_budget, data=data, max_steps=10**6)
            for name in METHODS}


def value_at_step(run, key, step):
    """The logged ``run[key]`` at training step ``step`` (which must be a logged step)."""
    if not isinstance(run, dict) or "step" not in run:
        raise ValueError(f"run must be a result of train_hig_toy / run_method, got {type(run).__name__}")
    check_choice("key", key, [name for name in run if name not in ("step", "params")])
    step = check_int("step", step, low=0)
    where = np.flatnonzero(run["step"] == step)
    if where.size == 0:
        raise ValueError(f"step {step} was not logged; logged steps run to {run['step'][-1]}")
    return run[key][where[0]]


def step_table(runs):
    """One text row per λ and method of ``run_comparison``'s runs after each method's
    deterministic steps: loss, hidden activations (mean ± std) and the probe output; for
    Adam also the loss after HIG's step count."""
    if not isinstance(runs, dict) or set(runs) != set(LAMBDAS) or any(
            not isinstance(runs[lam], dict) or set(runs[lam]) != set(METHODS) for lam in LAMBDAS):
        raise ValueError(f"runs must map every λ in {LAMBDAS} to a run of every method in "
                         f"{tuple(METHODS)} (run_comparison's result)")
    lines = []
    for lam in LAMBDAS:
        for name in METHODS:
            def at(key):
                return value_at_step(runs[lam][name], key, STEPS[name])

            probe = at("probe")
            lines.append(f"λ = {lam:<4g} {name:<5} after {STEPS[name]:>5} steps: "
                         f"loss {at('val_loss'):.3g}, activations {at('act_mean'):+.2f} "
                         f"± {at('act_std'):.2f}, probe ({probe[0]:.2f}, {probe[1]:.2f})")
        short = value_at_step(runs[lam]["Adam"], "val_loss", STEPS["HIG"])
        lines.append(f"λ = {lam:<4g} Adam  after {STEPS['HIG']:>5} steps: loss {short:.3g}")
    return "\n".join(lines)


def run_seeds(comparisons, seeds=SEEDS, data=None):
    """Final values of every method and λ after its ``STEPS``, for each seed.

    ``comparisons`` {λ: {method: result}} supplies seed 0 (its first ``STEPS`` are
    deterministic); the other seeds are trained here. Returns {(λ, method): {"val_loss",
    "act_mean", "act_std": arrays over seeds, "steps"}}; Adam also reports its loss after
    the HIG step count as "val_loss_short"."""
    seeds = _check_list("seeds", seeds, check_seed)
    if not isinstance(comparisons, dict) or any(
            not isinstance(comparisons.get(lam), dict) or set(METHODS) - set(comparisons[lam])
            for lam in LAMBDAS):
        raise ValueError(f"comparisons must be {{λ: {{method: result}}}} from run_comparison for "
                         f"every λ in {LAMBDAS} and method in {tuple(METHODS)}")
    data = toy_data() if data is None else data
    table = {}
    for lam in LAMBDAS:
        for name in METHODS:
            runs = [comparisons[lam][name] if seed == 0 else run_method(name, lam, seed=seed, data=data)
                    for seed in seeds]
            entry = {key: np.array([value_at_step(r, key, STEPS[name]) for r in runs])
                     for key in ("val_loss", "act_mean", "act_std")}
            entry["steps"] = STEPS[name]
            if name == "Adam":
                entry["val_loss_short"] = np.array(
                    [value_at_step(r, "val_loss", STEPS["HIG"]) for r in runs])
            table[(lam, name)] = entry
    return table


def summary_table(seed_results):
    """One text row per λ and method: final loss median [min, max] over the seeds, the
    medians of the final activation mean and std, and the steps taken."""
    _check_seed_results(seed_results)
    lines = [f"{'λ':>5} {'method':<6} {'steps':>6}  {'loss median':>11}  {'range over seeds':<21}"
             f" {'act. mean':>9} {'act. std':>8}"]
    for (lam, name), entry in seed_results.items():
        loss = entry["val_loss"]
        lines.append(
            f"{lam:>5g} {name:<6} {entry['steps']:>6}  {np.median(loss):>11.3g}  "
            f"[{loss.min():.3g}, {loss.max():.3g}]".ljust(50)
            + f" {np.median(entry['act_mean']):>9.2f} {np.median(entry['act_std']):>8.2f}")
    return "\n".join(lines)


def run_kappa_sweep(lam=0.01, kappas=KAPPAS, steps=SWEEP_STEPS, seeds=TAU_SEEDS, data=None):
    """The SVD family Δθ = −η V Λ^κ Uᵀ g for each κ with HIG's τ, η and batch, for every
    seed: {κ: [result per seed]}."""
    _check_list("kappas", kappas, _check_kappa)
    _check_list("seeds", seeds, check_seed)
    steps = check_positive_int("steps", steps)
    data = toy_data() if data is None else data
    return {kappa: [run_method("HIG", lam, steps=steps, data=data, kappa=kappa, seed=seed)
                    for seed in seeds] for kappa in kappas}


def run_gn_tau_sweep(taus=GN_TAUS, seeds=TAU_SEEDS, steps=TAU_STEPS, data=None):
    """GN's final loss for every τ, λ and seed: {(λ, τ): array over seeds} (plus activations
    under ("act_std", λ, τ))."""
    _check_list("taus", taus, _check_tau)
    _check_list("seeds", seeds, check_seed)
    steps = check_positive_int("steps", steps)
    data = toy_data() if data is None else data
    out = {}
    for lam in LAMBDAS:
        for tau in taus:
            runs = [run_method("GN", lam, seed=seed, steps=steps, data=data, tau=tau) for seed in seeds]
            out[(lam, tau)] = np.array([r["val_loss"][-1] for r in runs])
            out[("act_std", lam, tau)] = np.array([r["act_std"][-1] for r in runs])
    return out


def gn_tau_table(sweep, taus=GN_TAUS):
    """Text table of GN's final loss per τ and λ (one column per seed) and the median std
    of the hidden activations (a std near 0 means saturated units)."""
    _check_list("taus", taus, _check_tau)
    if not isinstance(sweep, dict) or any((lam, tau) not in sweep or ("act_std", lam, tau) not in sweep
                                          for lam in LAMBDAS for tau in taus):
        raise ValueError("sweep must be the dict of run_gn_tau_sweep, with every λ and tau of taus")
    seeds = len(next(iter(sweep.values())))
    width = 9 * seeds
    lines = [f"{'τ':>7}  " + "  ".join(f"{'λ = ' + format(lam, 'g') + ': loss per seed':<{width}} {'act. std':>8}"
                                    for lam in LAMBDAS)]
    for tau in taus:
        cells = [" ".join(f"{v:8.2g}" for v in sweep[(lam, tau)]).ljust(width)
                 + f" {np.median(sweep[('act_std', lam, tau)]):>8.2f}" for lam in LAMBDAS]
        lines.append(f"{tau:>7.0e}  " + "  ".join(cells))
    return "\n".join(lines)


def run_clamp_comparison(lam=0.01, taus=CLAMP_TAUS, steps=SWEEP_STEPS, seeds=TAU_SEEDS,
                         data=None):
    """Truncation against clamping for HIG (κ = −½) and GN (κ = −1) at each τ, for every
    seed: {(method, τ, mode): array of final validation losses over the seeds}."""
    _check_list("taus", taus, _check_tau)
    _check_list("seeds", seeds, check_seed)
    steps = check_positive_int("steps", steps)
    data = toy_data() if data is None else data
    out = {}
    for name, kappa in (("HIG", -0.5), ("GN", -1.0)):
        for tau in taus:
            for mode in ("truncate", "clamp"):
                out[(name, tau, mode)] = np.array([
                    run_method(name, lam, steps=steps, data=data, kappa=kappa, tau=tau,
                               mode=mode, seed=seed)["val_loss"][-1] for seed in seeds])
    return out


# ---------------------------------------------------------------------------------------
# Training outcomes checked against the stored references (README, reproducibility policy)
# ---------------------------------------------------------------------------------------


def seed_outcomes(seed_results):
    """The seed table's outcomes that the page checks: {name: value}.

    Medians over the seeds of the final validation loss per λ and method (and Adam's after
    HIG's step count); medians are what reproduces across machines, single seeds of the
    ill-conditioned runs do not always."""
    _check_seed_results(seed_results)
    outcomes = {}
    for (lam, name), entry in seed_results.items():
        outcomes[f"median loss, lam {lam:g}, {name}"] = float(np.median(entry["val_loss"]))
        if name == "Adam":
            outcomes[f"median loss, lam {lam:g}, Adam after {STEPS['HIG']} steps"] = float(
                np.median(entry["val_loss_short"]))
    return outcomes


def plateau_exit_step(run, level):
    """The first logged step at which the validation loss is below ``level`` (None if never)."""
    _check_run("run", run, ("step", "val_loss"))
    check_positive("level", level)
    below = np.flatnonzero(np.asarray(run["val_loss"]) < level)
    return None if below.size == 0 else int(run["step"][below[0]])


# The sub-modules' public names, for the notebook, the discussion page and the command line.
from .claims import discussion_summary as discussion_summary  # noqa: E402
from .claims import evidence as evidence  # noqa: E402
from .claims import evidence_from_runs as evidence_from_runs  # noqa: E402
from .figures import draw_hig_spaces as draw_hig_spaces  # noqa: E402
from .figures import figure_early_steps as figure_early_steps  # noqa: E402
from .figures import figure_kappa_sweep as figure_kappa_sweep  # noqa: E402
from .figures import figure_panels as figure_panels  # noqa: E402
from .figures import figure_spaces as figure_spaces  # noqa: E402
from .figures import plot_hig_kappa_sweep as plot_hig_kappa_sweep  # noqa: E402
from .figures import plot_hig_loss_vs_steps as plot_hig_loss_vs_steps  # noqa: E402
from .figures import plot_hig_panels as plot_hig_panels  # noqa: E402
from .figures import plot_hig_trajectory as plot_hig_trajectory  # noqa: E402
from .timings import add_commands as add_commands  # noqa: E402
from .timings import growth_table as growth_table  # noqa: E402
from .timings import measure_cost_per_update as measure_cost_per_update  # noqa: E402
from .timings import measure_decomposition_times as measure_decomposition_times  # noqa: E402
from .timings import measure_hig_growth as measure_hig_growth  # noqa: E402
from .timings import measure_method_times as measure_method_times  # noqa: E402
from .timings import measure_step_time as measure_step_time  # noqa: E402
from .timings import svd_cost_model as svd_cost_model  # noqa: E402
