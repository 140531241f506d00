"""The hig-toy page (the HIG toy): settings, training loop, experiments, tables, figures,
``hig-bench``.

The notebook ``book/hig-toy.ipynb`` calls these functions; the paper (Schnell et al.
2022) leaves the data size, batch sizes, η, τ, Adam's learning rate and the number of
steps of its toy open, so every one of them is chosen and stated here.
"""

import functools
import os
import time

import jax
import jax.numpy as jnp
import matplotlib as mpl
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from ._checks import (check_array, check_axes, check_choice, check_int, check_mapping,
                      check_number, check_optional, check_positive, check_positive_int,
                      check_seed, check_text, int_in_range, positive_int)
from .models import init_mlp_glorot, mlp_apply, mlp_hidden
from .physics import HIG_PROBE_X, hig_data, hig_physics_kernel, hig_sample_loss_kernel, hig_target
from .plotting import METHOD_COLORS, START_STYLE, TARGET_STYLE, diagram_arrow, diagram_box, method_color
from .training import run_chunks
from .updates import batch_jacobian_kernel, check_svd_setting, svd_power_update_kernel

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
# Training: flat parameter vector θ (ravel_pytree of the 1 → 7 tanh → 2 MLP),
# physical output y = P(f(x; θ)); the SVD family (HIG / GN / κ) and Adam share one loop
# that runs ``log_every`` steps per jitted lax.scan chunk and logs after each chunk.
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


@functools.lru_cache(maxsize=None)
def _hig_chunk_program(hidden, method, mode, batch_size, chunk_steps, n_train, n_val):
    """The compiled chunk: ``chunk_steps`` training steps fused in one lax.scan, then the
    metrics. Cached per structure, so every κ, τ, η, λ, lr and seed reuses one compilation."""
    _, unravel = hig_toy_init(0, hidden)

    def step(carry, _):
        theta, opt_state, key, first_bad, count, hyper = carry
        key, k_batch = jax.random.split(key)
        idx = jax.random.randint(k_batch, (batch_size,), 0, n_train)
        xb, yb = hyper["x_train"][idx], hyper["y_train"][idx]
        lam = hyper["lam"]

        if method == "adam":
            def batch_loss(t):
                y = jax.vmap(lambda x: _hig_physical_output(unravel, t, x, lam))(xb)
                return jnp.mean(hig_sample_loss_kernel(y, yb))

            loss, grad = jax.value_and_grad(batch_loss)(theta)
            updates, opt_state = optax.adam(hyper["lr"]).update(grad, opt_state, theta)
            theta = theta + updates
        else:
            jac, y = batch_jacobian_kernel(
                lambda t, x: _hig_physical_output(unravel, t, x, lam), theta, xb)
            loss = jnp.mean(hig_sample_loss_kernel(y, yb))
            g = ((y - yb) / batch_size).reshape(-1)
            theta = theta + svd_power_update_kernel(jac, g, hyper["kappa"], hyper["tau"], hyper["eta"], mode)
        finite = jnp.isfinite(loss) & jnp.all(jnp.isfinite(theta))
        first_bad = jnp.where((first_bad < 0) & ~finite, count, first_bad)
        return (theta, opt_state, key, first_bad, count + 1, hyper), None

    def chunk(theta, opt_state, key, first_bad, count, hyper):
        carry, _ = jax.lax.scan(step, (theta, opt_state, key, first_bad, count, hyper),
                                length=chunk_steps)
        theta, opt_state, key, first_bad, count, _ = carry
        metrics = _hig_metrics(unravel, theta, hyper["x_val"], hyper["y_val"], hyper["lam"],
                               hyper["probe_x"])
        return theta, opt_state, key, first_bad, count, metrics

    theta, _ = hig_toy_init(0, hidden)
    f32 = jax.ShapeDtypeStruct((), jnp.float32)
    hyper = {
        "x_train": jax.ShapeDtypeStruct((n_train, 1), jnp.float32),
        "y_train": jax.ShapeDtypeStruct((n_train, 2), jnp.float32),
        "x_val": jax.ShapeDtypeStruct((n_val, 1), jnp.float32),
        "y_val": jax.ShapeDtypeStruct((n_val, 2), jnp.float32),
        "probe_x": jax.ShapeDtypeStruct((1,), jnp.float32),
        **{name: f32 for name in ("lam", "kappa", "tau", "eta", "lr")},
    }
    state = (theta, optax.adam(1e-3).init(theta), jax.random.PRNGKey(0), jnp.int32(-1), jnp.int32(0))
    return jax.jit(chunk).lower(*state, hyper).compile(), unravel


def hig_toy_init(seed, hidden=7):
    """Glorot-uniform 1 → hidden (tanh) → 2 network as a flat vector; returns (θ0, unravel)."""
    seed = check_seed("seed", seed)
    hidden = check_positive_int("hidden", hidden)
    return ravel_pytree(init_mlp_glorot(jax.random.PRNGKey(seed), [1, hidden, 2]))


def train_hig_toy(data, lam, method, *, steps, log_every, batch_size, seed=0, hidden=7,
                  kappa=-0.5, tau=1e-6, eta=1.0, mode="truncate", lr=1e-2, time_budget=None,
                  max_steps=None):
    """Train the HIG toy network with an SVD step (``method="svd"``) or Adam (``"adam"``).

    data = (x_train, y_train, x_val, y_val) from ``physics.hig_data``. The SVD step is
    θ ← θ − η V Λ^κ Uᵀ g on the stacked Jacobian of a mini-batch of ``batch_size``
    samples (drawn uniformly with replacement) with g = ∂(mean batch loss)/∂y, shape
    (batch_size·2,); Adam (optax, default betas) uses learning rate ``lr``. ``seed``
    sets the initial network and the batches. Runs ``steps`` steps as jitted lax.scan
    chunks of ``log_every`` steps (compiled before the clock starts); with
    ``time_budget`` (seconds) it goes on, chunk by chunk, until that much measured time
    has passed or ``max_steps`` steps are done. The first ``steps`` steps are
    deterministic; what a time budget adds depends on the machine.

    Returns a dict of numpy arrays over the logged points, the start included: "step",
    "time" (measured seconds of training since the start; compilation and logging not
    counted), "val_loss", "act_mean", "act_std" (of the hidden tanh activations over
    the validation set), "probe" (physical output (y1, y2) = (z1, λ·z2) of x = π/9, shape
    (n_logs, 2)), and "theta" (the final parameters). Raises ``TrainingDiverged`` naming
    the method and the first step whose loss or parameters are not finite.
    """
    check_choice("method", method, HIG_METHODS)
    check_choice("mode", mode, ("truncate", "clamp"))
    seed = check_seed("seed", seed)
    hidden = check_positive_int("hidden", hidden)
    lam = check_positive("lam", lam)
    steps = check_positive_int("steps", steps)
    log_every = check_positive_int("log_every", log_every)
    batch_size = check_positive_int("batch_size", batch_size)
    if steps % log_every:
        raise ValueError(f"steps ({steps}) must be a multiple of log_every ({log_every})")
    if time_budget is not None:
        time_budget = check_positive("time_budget", time_budget)
        max_steps = check_positive_int("max_steps", max_steps if max_steps is not None else 100 * steps)
    if not isinstance(data, (tuple, list)) or len(data) != 4:
        raise ValueError("data must be the tuple (x_train, y_train, x_val, y_val) of "
                         f"physics.hig_data, got {type(data).__name__}")
    x_train = check_array("x_train (data[0])", data[0], (None, 1), min_size=1)
    y_train = check_array("y_train (data[1])", data[1], (x_train.shape[0], 2))
    x_val = check_array("x_val (data[2])", data[2], (None, 1), min_size=1)
    y_val = check_array("y_val (data[3])", data[3], (x_val.shape[0], 2))
    x_train, y_train, x_val, y_val = (jnp.asarray(a, dtype=jnp.float32)
                                      for a in (x_train, y_train, x_val, y_val))
    kappa, tau, eta = check_svd_setting(kappa, tau, eta, mode)
    lr = check_positive("lr", lr)

    chunk, unravel = _hig_chunk_program(hidden, method, mode if method == "svd" else "truncate",
                                        batch_size, log_every, x_train.shape[0], x_val.shape[0])
    theta, _ = hig_toy_init(seed, hidden)
    hyper = {
        "x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val,
        "probe_x": jnp.array([HIG_PROBE_X], dtype=jnp.float32),
        **{name: jnp.float32(value) for name, value in
           (("lam", lam), ("kappa", kappa), ("tau", tau), ("eta", eta), ("lr", lr))},
    }
    state = (theta, optax.adam(lr).init(theta), jax.random.PRNGKey(seed), jnp.int32(-1), jnp.int32(0))
    logs = [jax.device_get(_hig_metrics(unravel, theta, hyper["x_val"], hyper["y_val"], lam,
                                        hyper["probe_x"]))]
    times, done = [0.0], 0
    for done, elapsed, state, (metrics,) in run_chunks(
            chunk, state, hyper, log_every, steps, time_budget, max_steps,
            f"method {method!r}, lam {lam}"):
        logs.append(jax.device_get(metrics))
        times.append(elapsed)
    result = {key: np.array([np.asarray(log[key]) for log in logs]) for key in logs[0]}
    result["step"] = np.arange(0, done + 1, log_every)
    result["time"] = np.array(times)
    result["theta"] = np.asarray(state[0])
    return result


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


def _check_runs(runs, keys):
    """{method: result of ``train_hig_toy``} for methods with a colour, each holding ``keys``."""
    check_mapping("runs", runs, entry_keys=keys)
    for method in runs:
        check_choice("method", method, tuple(METHOD_COLORS))
    return runs


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
    check_choice("key", key, [name for name in run if name not in ("step", "theta")])
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


def discussion_summary():
    """Rows for the discussion page from this page's stored, build-checked references.

    The paper's claim on its toy: at λ = 0.01 HIG reaches a low loss where Adam and GN
    stall (its figure: HIG ≈ 3e-3, Adam ≈ 0.24 and GN ≈ 0.40 after 20 s). Reproduced ("yes")
    when HIG's median is at least 10× below both Adam's (equal steps) and GN's."""
    from .reference import load_references

    values = {name: entry["value"] for name, entry in load_references(PAGE)["quantities"].items()}
    hig = values["median loss, lam 0.01, HIG"]
    adam_short = values[f"median loss, lam 0.01, Adam after {STEPS['HIG']} steps"]
    gn = values["median loss, lam 0.01, GN"]
    verdict = "yes" if hig * 10 < min(adam_short, gn) else "no"
    claim = "λ = 0.01: HIG ≈ 3e-3 where Adam (≈ 0.24) and GN (≈ 0.40) stall (paper's figure)"
    metric = "median validation loss, 5 seeds"
    return [
        {"experiment": "HIG toy, λ = 0.01", "method": "HIG", "metric": metric, "value": hig,
         "claim": claim, "reproduced": verdict, "note": f"{STEPS['HIG']} steps"},
        {"experiment": "HIG toy, λ = 0.01", "method": "Gauss-Newton", "metric": metric,
         "value": gn, "claim": claim, "reproduced": verdict,
         "note": f"τ = {METHODS['GN']['tau']:g}, {STEPS['GN']} steps"},
        {"experiment": "HIG toy, λ = 0.01", "method": "Adam", "metric": metric,
         "value": adam_short, "claim": claim, "reproduced": verdict,
         "note": f"{STEPS['HIG']} steps (after {STEPS['Adam']}: "
                 f"{values['median loss, lam 0.01, Adam']:.2g})"},
    ]


def measure_cost_per_update(repeats=3):
    """{"Adam", "Gauss-Newton", "HIG": measured seconds per update} with the page's
    settings, measured side by side (200-step runs, best of ``repeats``)."""
    repeats = check_positive_int("repeats", repeats)
    times = measure_method_times(steps=200, repeats=repeats)
    return {"Adam": times["Adam"], "Gauss-Newton": times["GN"], "HIG": times["HIG"]}


# ---------------------------------------------------------------------------------------
# Cost per step
# ---------------------------------------------------------------------------------------


def measure_step_time(name, *, steps, repeats=3, lam=0.01, data=None, **overrides):
    """Measured seconds per training step of one method (compilation excluded; best of
    ``repeats`` runs of ``steps`` steps fused in one chunk)."""
    check_choice("name", name, METHODS)
    steps = check_positive_int("steps", steps)
    repeats = check_positive_int("repeats", repeats)
    data = toy_data() if data is None else data
    settings = {**METHODS[name], **overrides}
    best = np.inf
    for _ in range(repeats):
        run = train_hig_toy(data, lam, steps=steps, log_every=steps, **settings)
        best = min(best, run["time"][-1] / steps)
    return best


def measure_method_times(steps=1000, repeats=3, data=None):
    """Per-step seconds of Adam, GN and HIG with the page's settings, measured in turns
    (one round of all three per repeat, best per method); {method: seconds}."""
    data = toy_data() if data is None else data
    best = {name: np.inf for name in METHODS}
    for _ in range(check_positive_int("repeats", repeats)):
        for name in METHODS:
            best[name] = min(best[name], measure_step_time(name, steps=steps, repeats=1, data=data))
    return best


def measure_decomposition_times(rows, cols, steps=1000, repeats=3):
    """Measured seconds per call, inside a jitted lax.scan like the training step (best of
    ``repeats``), of: the whole update from a given (rows, cols) float32 Jacobian as the
    package computes it (float64 Gram matrix, eigh and products,
    ``updates.svd_power_update_kernel``); the float64 eigendecomposition of a (cols, cols)
    matrix alone (LAPACK syevd, the floor of that route); a float32 thin SVD of the
    Jacobian alone (LAPACK gesdd, the direct route). Returns {description: seconds}."""
    import jax
    import jax.numpy as jnp

    from .updates import svd_power_update_kernel

    rows, cols = check_positive_int("rows", rows), check_positive_int("cols", cols)
    steps, repeats = check_positive_int("steps", steps), check_positive_int("repeats", repeats)
    if cols > rows:
        raise ValueError(f"cols ({cols}) must not exceed rows ({rows}): the routes time a tall Jacobian")
    matrix = jax.random.normal(jax.random.PRNGKey(0), (rows, cols))
    g = jax.random.normal(jax.random.PRNGKey(1), (rows,))

    def update(a):
        return svd_power_update_kernel(a, g, -0.5, 1e-5, 1.0, "truncate")[0]

    def eigh_only(a):
        with jax.enable_x64(True):
            eigenvalues, vectors = jnp.linalg.eigh(a[:cols].astype(jnp.float64) + 30.0 * jnp.eye(cols))
            return (eigenvalues[0] + vectors[0, 0]).astype(a.dtype)

    def svd_only(a):
        u, s, vt = jnp.linalg.svd(a, full_matrices=False)
        return s[0] + u[0, 0] + vt[0, 0]

    routes = ((f"HIG's update from the {rows} × {cols} Jacobian (float64 Gram + eigh)", update),
              (f"float64 eigh of a {cols} × {cols} matrix alone", eigh_only),
              (f"float32 thin SVD of the {rows} × {cols} Jacobian alone", svd_only))
    times = {}
    for name, one in routes:
        @jax.jit
        def many(a, one=one):
            def body(a, _):
                return a * 1.0000001, one(a)

            return jax.lax.scan(body, a, length=steps)[1]

        many(matrix).block_until_ready()
        best = np.inf
        for _ in range(check_positive_int("repeats", repeats)):
            begin = time.perf_counter()
            many(matrix).block_until_ready()
            best = min(best, (time.perf_counter() - begin) / steps)
        times[name] = best
    return times


def svd_cost_model(batch_size, hidden):
    """Flop-count proxy m·n·min(m, n) of the update's decomposition (the Gram matrix of the
    shorter side, then its k³ eigendecomposition, k = min(m, n)), the same order as a thin
    SVD: m = 2·B rows, n = 4·hidden + 2 parameters of the 1 → hidden → 2 network."""
    m = 2 * check_positive_int("batch_size", batch_size)
    n = 4 * check_positive_int("hidden", hidden) + 2
    return m * n * min(m, n)


def measure_hig_growth(batch_sizes, widths, steps=200, repeats=2, data=None):
    """HIG's measured per-step seconds as B grows (width 7) and as the hidden width grows
    (B = 128): returns two lists of (size, n_params, seconds, cost model)."""
    data = toy_data() if data is None else data
    for name, sizes in (("batch_sizes", batch_sizes), ("widths", widths)):
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__") or not len(sizes):
            raise ValueError(f"{name} must be a non-empty list of positive integers, got {sizes!r}")
        for size in sizes:
            check_positive_int(name, size)
    by_batch = []
    for batch in batch_sizes:
        seconds = measure_step_time("HIG", steps=steps, repeats=repeats, data=data, batch_size=batch)
        by_batch.append((batch, 30, seconds, svd_cost_model(batch, 7)))
    by_width = []
    for width in widths:
        seconds = measure_step_time("HIG", steps=steps, repeats=repeats, data=data, hidden=width)
        by_width.append((width, 4 * width + 2, seconds, svd_cost_model(128, width)))
    return by_batch, by_width


def growth_table(rows, size_name):
    """Text table of measured per-step time against the SVD cost model, both relative to
    the first row."""
    if not isinstance(rows, (list, tuple)) or not rows or any(len(row) != 4 for row in rows):
        raise ValueError("rows must be a non-empty list of (size, n_params, seconds, cost) "
                         f"from measure_hig_growth, got {rows!r}")
    if not all(row[2] > 0 and row[3] > 0 for row in rows):
        raise ValueError(f"rows must hold positive seconds and costs, got {rows!r}")
    lines = [f"{size_name:>6} {'params':>6} {'µs/step':>8} {'× first':>8} {'model × first':>13}"]
    t0, c0 = rows[0][2], rows[0][3]
    for size, n_params, seconds, cost in rows:
        lines.append(f"{size:>6} {n_params:>6} {seconds * 1e6:>8.0f} {seconds / t0:>8.2f} {cost / c0:>13.2f}")
    return "\n".join(lines)


def benchmark(args):
    """``hig-bench``: per-step time of HIG, GN and Adam side by side, then HIG's growth."""
    steps = check_positive_int("--steps", args.steps)
    repeats = check_positive_int("--repeats", args.repeats)
    data = toy_data()
    start = time.perf_counter()
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        print("note: OPENBLAS_NUM_THREADS is not 1; on a busy machine OpenBLAS' threads can make "
              "the decomposition much slower (run with OPENBLAS_NUM_THREADS=1 to compare with the page)")
    times = measure_method_times(steps=steps, repeats=repeats, data=data)
    print(f"per-step time on the HIG toy (measured on this machine, best of {repeats}):")
    for name, seconds in times.items():
        batch = METHODS[name]["batch_size"]
        print(f"  {name:<5} B = {batch:>3}: {seconds * 1e6:8.1f} µs")
    print(f"  HIG / Adam = {times['HIG'] / times['Adam']:.2f}, GN / Adam = {times['GN'] / times['Adam']:.2f}")
    rows = 2 * METHODS["HIG"]["batch_size"]
    for name, seconds in measure_decomposition_times(rows, 30, steps=steps, repeats=repeats).items():
        print(f"  {name}: {seconds * 1e6:.1f} µs ({seconds / times['HIG']:.0%} of the HIG step, "
              f"{seconds / times['Adam']:.1f}× Adam's step)")
    by_batch, by_width = measure_hig_growth(args.batch_sizes, args.widths, steps=args.growth_steps,
                                            repeats=repeats, data=data)
    print("\nHIG per-step time as the batch grows (hidden width 7):")
    print(growth_table(by_batch, "B"))
    print("\nHIG per-step time as the hidden width grows (B = 128):")
    print(growth_table(by_width, "width"))
    print(f"\n(total {time.perf_counter() - start:.1f} s)")
    return 0


def add_commands(subparsers):
    """Register ``hig-bench``."""
    bench = subparsers.add_parser(
        "hig-bench", help="per-step time of HIG, GN and Adam on the HIG toy, and HIG's cost growth",
        description="Per-step time of HIG, GN and Adam on the HIG toy, measured side by side, and "
                    "HIG's per-step time as the batch and the hidden width grow. Run it as "
                    "OPENBLAS_NUM_THREADS=1 python -m improved_gradients hig-bench, like the page.")
    bench.add_argument("--steps", type=positive_int(10**6), default=2000,
                       help="steps per timing of the three methods, in [1, 10^6] (default %(default)s)")
    bench.add_argument("--growth-steps", type=positive_int(10**6), default=200,
                       help="steps per timing of the growth study, in [1, 10^6] (default %(default)s)")
    bench.add_argument("--repeats", type=positive_int(1000), default=3,
                       help="timed runs per method, in [1, 1000] (default %(default)s)")
    bench.add_argument("--batch-sizes", type=int_in_range(1, 8192), nargs="+",
                       default=[16, 32, 64, 128, 256, 512],
                       help="batch sizes of the growth study, each in [1, 8192]")
    bench.add_argument("--widths", type=int_in_range(1, 4096), nargs="+",
                       default=[7, 16, 32, 64, 128, 256],
                       help="hidden widths of the growth study, each in [1, 4096]")
    bench.set_defaults(run=benchmark)


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------


def plot_hig_panels(axes, runs, lam, target, time_limit=None):
    """The paper's three panels for one λ against measured wall-clock time.

    axes: three Axes; runs: {method: result of ``train_hig_toy``}; target: the
    physical target (y1, y2) = (z1, λ·z2) of the probe sample. (1) validation loss (log scale),
    (2) mean ± std of the hidden tanh activations over the validation set, (3) the probe's
    physical output after every logged chunk, start grey and target black. Curves stop at
    ``time_limit`` seconds when given.
    """
    check_axes("axes", axes, 3)
    _check_runs(runs, ("time", "val_loss", "act_mean", "act_std", "probe", "step"))
    check_positive("lam", lam)
    check_array("target", target, (2,))
    check_optional(check_positive, "time_limit", time_limit)
    ax_loss, ax_act, ax_traj = axes
    for method, run in runs.items():
        color = method_color(method)
        keep = np.ones(len(run["time"]), bool) if time_limit is None else run["time"] <= time_limit
        t = run["time"][keep]
        ax_loss.semilogy(t, run["val_loss"][keep], color=color, label=method)
        mean, std = run["act_mean"][keep], run["act_std"][keep]
        ax_act.plot(t, mean, color=color, label=method)
        ax_act.fill_between(t, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)
    plot_hig_trajectory(ax_traj, runs, target, time_limit=time_limit)
    ax_loss.set(xlabel="wall-clock time [s]", ylabel="validation loss", title=f"loss, λ = {lam:g}")
    ax_act.set(xlabel="wall-clock time [s]", ylabel="hidden activation",
               title="neuron saturation: mean ± std", ylim=(-1.1, 1.1))
    ax_loss.legend()


def plot_hig_trajectory(ax, runs, target, time_limit=None, max_step=None):
    """The probe's physical output (y1, y2) = (z1, λ·z2) after every logged chunk for {method: result},
    start grey and target black; up to ``time_limit`` seconds or ``max_step`` steps."""
    check_axes("ax", ax)
    _check_runs(runs, ("time", "step", "probe"))
    check_array("target", target, (2,))
    check_optional(check_positive, "time_limit", time_limit)
    check_optional(check_int, "max_step", max_step, 0)
    for method, run in runs.items():
        keep = np.ones(len(run["time"]), bool)
        if time_limit is not None:
            keep &= run["time"] <= time_limit
        if max_step is not None:
            keep &= run["step"] <= max_step
        probe = run["probe"][keep]
        ax.plot(probe[:, 0], probe[:, 1], color=method_color(method), marker=".", markersize=3,
                linewidth=0.8, label=method)
    ax.scatter(*next(iter(runs.values()))["probe"][0], label="start", **START_STYLE)
    ax.scatter(*target, label="target", **TARGET_STYLE)
    ax.set(xlabel="y₁", ylabel="y₂ = λ z₂", title="physical trajectory of x = π/9")
    ax.legend(fontsize=8)


def plot_hig_loss_vs_steps(ax, runs, max_step=None, title=None):
    """Validation loss (log scale) against training steps for {label: result}; the colour
    is the method's when the label names one, else taken from the default cycle."""
    check_axes("ax", ax)
    check_mapping("runs", runs, entry_keys=("step", "val_loss"))
    check_optional(check_int, "max_step", max_step, 0)
    check_optional(check_text, "title", title, empty=True)
    for label, run in runs.items():
        keep = np.ones(len(run["step"]), bool) if max_step is None else run["step"] <= max_step
        style = {"color": METHOD_COLORS[label]} if label in METHOD_COLORS else {}
        ax.semilogy(run["step"][keep], run["val_loss"][keep], label=label, **style)
    ax.set(xlabel="training step", ylabel="validation loss", title=title)
    ax.legend(fontsize=8)


def plot_hig_kappa_sweep(ax, runs):
    """Validation loss against steps for {κ: result}, coloured from gradient (κ = 1) to
    Gauss-Newton (κ = −1) with HIG (κ = −½) drawn in the HIG colour."""
    check_axes("ax", ax)
    check_mapping("runs", runs, entry_keys=("step", "val_loss"))
    for kappa in runs:
        _check_kappa("runs (its keys κ)", kappa)
    cmap = mpl.colormaps["viridis"]
    for kappa, run in sorted(runs.items(), reverse=True):
        if kappa == -0.5:
            style = dict(color=method_color("HIG"), linewidth=2.4)
        else:
            style = dict(color=cmap((1.0 - kappa) / 2.0), linewidth=1.2)
        ax.semilogy(run["step"], run["val_loss"], label=f"κ = {kappa:g}", **style)
    ax.set(xlabel="training step", ylabel="validation loss", title="the κ family at λ = 0.01")
    ax.legend(fontsize=8, ncol=2)


def draw_hig_spaces(ax):
    """Diagram of the HIG set-up: parameters θ → network f → z → physics P → y → loss,
    and the backward path that inverts network and physics jointly through J = ∂y/∂θ."""
    check_axes("ax", ax)
    ax.set_xlim(0, 14)
    ax.set_ylim(0, 6)
    ax.axis("off")
    boxes = [(0.3, "parameters θ", "30 weights\nand biases"),
             (3.8, "network output z", "z = f(x; θ)\n1 → 7 tanh → 2"),
             (7.3, "physical state y", "y = P(z)\n= (z₁, λ z₂)"),
             (10.8, "loss L", "½‖y − ŷ‖²\nper sample")]
    for left, title, text in boxes:
        diagram_box(ax, left, 2.7, 2.8, 1.7, text, title=title)
    for left in (3.15, 6.65, 10.15):
        diagram_arrow(ax, (left, 3.55), (left + 0.6, 3.55))
    ax.text(7.0, 4.95, "forward, per sample x: θ → z → y → L", ha="center", fontsize=9)
    hig, gd = method_color("HIG"), method_color("GD")
    diagram_arrow(ax, (12.2, 2.55), (8.7, 2.55), gd, rad=-0.35)
    ax.text(11.4, 1.35, "g = ∂L/∂y\n(per sample, stacked)", ha="center", va="top", fontsize=8.5,
            color=gd)
    diagram_arrow(ax, (8.7, 2.45), (1.7, 2.45), hig, rad=-0.25)
    ax.text(4.6, 0.75, r"$\Delta\theta = -\eta\, J^{\kappa} g$,   $J = \partial y/\partial\theta"
            r" = \partial P/\partial z \cdot \partial f/\partial\theta$  (network and physics "
            "inverted jointly)", ha="center", fontsize=8.5, color=hig)
    ax.text(4.6, 0.15, "κ = 1: gradient   κ = −½: HIG   κ = −1: Gauss-Newton",
            ha="center", fontsize=8.5, color=hig)


def glue_name(name):
    """An outcome's name as a glue key (letters, digits and underscores only)."""
    check_text("name", name)
    if not any(c.isalnum() for c in name):
        raise ValueError(f"name must contain a letter or digit, got {name!r}")
    return "".join(c if c.isalnum() else "_" for c in name.replace(".", "p")).strip("_").replace("__", "_")
