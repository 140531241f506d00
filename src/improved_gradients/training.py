"""Optimisation and training loops.

Page 1: ``iterate`` runs any of the hand-written steps of ``updates`` for a few
iterations (a Python loop, since a step may call SciPy); ``optax_trajectory`` runs a
standard optax optimiser on the same problem as one jitted ``lax.scan``.
"""

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from ._checks import check_choice, check_finite, check_positive, check_positive_int, check_shape
from .models import init_mlp_glorot, init_mlp_torch, mlp_apply, mlp_hidden
from .physics import HIG_PROBE_X, check_sin_setting, hig_physics_kernel, hig_sample_loss_kernel, sin_loss_kernel, x_distance_kernel
from .updates import (
    SIP_PROXY_NORMS,
    batch_jacobian_kernel,
    check_svd_setting,
    sip_inverse_step_kernel,
    svd_power_update_kernel,
    sip_proxy_loss,
)


def iterate(step, x0, steps):
    """Apply ``step(x) -> (x_new, u)`` ``steps`` times from x0.

    Returns (xs, us): xs of shape (steps+1, n) including x0, us of shape (steps, n).
    Raises ValueError when an iterate becomes non-finite.
    """
    steps = check_positive_int("steps", steps)
    x = jnp.asarray(x0)
    check_shape("x0", x, (None,))
    check_finite("x0", x)
    xs, us = [x], []
    for k in range(steps):
        x, u = step(x)
        if not bool(jnp.all(jnp.isfinite(x))):
            raise ValueError(f"iterate {k + 1} is not finite: {np.asarray(x)}")
        xs.append(x)
        us.append(u)
    return jnp.stack(xs), jnp.stack(us)


def optax_trajectory(optimizer, loss_x, x0, steps):
    """Minimise loss_x with an optax optimiser; one jitted lax.scan over ``steps``.

    Returns the iterates, shape (steps+1, n), x0 included.
    """
    steps = check_positive_int("steps", steps)
    x0 = jnp.asarray(x0)
    check_shape("x0", x0, (None,))
    check_finite("x0", x0)

    @jax.jit
    def run(x0):
        def body(carry, _):
            x, state = carry
            updates, state = optimizer.update(jax.grad(loss_x)(x), state, x)
            x = x + updates
            return (x, state), x

        _, xs = jax.lax.scan(body, (x0, optimizer.init(x0)), length=steps)
        return jnp.concatenate([x0[None], xs])

    xs = run(x0)
    if not bool(jnp.all(jnp.isfinite(xs))):
        raise ValueError("optax_trajectory produced non-finite iterates; lower the learning rate")
    return xs


# ---------------------------------------------------------------------------------------
# Page 2: training a network on the SIP sin benchmark
#
# A whole run (all steps) is one jitted lax.scan; a sweep vmaps it over settings (ξ, φ)
# and shards the settings across every JAX device. Only metrics are logged.
# ---------------------------------------------------------------------------------------

SIN_METHODS = ("SIP", "Adam", "SGD", "Adadelta", "Adagrad", "RMSprop")
SIN_NETWORK_SIZES = (2, 32, 64, 32, 2)
SIN_BATCH_SIZE = 100
SIN_VALIDATION_SIZE = 1000


def sin_optimizer(method, xi):
    """The network optimiser of ``method`` with the paper's learning rate and PyTorch defaults.

    SIP and Adam: Adam(1e-3, eps 1e-8); SGD: 1e-2/ξ²; Adadelta: 3e-3 (rho 0.9, eps 1e-6);
    Adagrad: 3e-3 (accumulator starts at 0, eps 1e-10); RMSprop: 3e-5 (decay 0.99,
    eps 1e-8 added outside the square root, as in PyTorch). ξ may be a traced array.
    """
    check_choice("method", method, SIN_METHODS)
    if method in ("SIP", "Adam"):
        return optax.adam(1e-3, eps=1e-8)
    if method == "SGD":
        return optax.sgd(1e-2 / xi**2)
    if method == "Adadelta":
        return optax.adadelta(3e-3, rho=0.9, eps=1e-6)
    if method == "Adagrad":
        return optax.adagrad(3e-3, initial_accumulator_value=0.0, eps=1e-10)
    return optax.rmsprop(3e-5, decay=0.99, eps=1e-8, eps_in_sqrt=False)


def sin_targets(key, batch_size):
    """A batch of targets y* ~ U[−1, 1)², shape (batch_size, 2)."""
    return jax.random.uniform(key, (batch_size, 2), minval=-1.0, maxval=1.0)


def sin_batch_loss(method, params, y_target, xi, phi_deg, proxy="l1"):
    """The loss the network's optimiser differentiates, and the prediction x: (B, 2).

    Baselines: mean_b ½‖P(x_b) − y*_b‖² with x = f(y*; θ). SIP: the proxy loss
    ``sip_proxy_loss(x, x + Δx, proxy)`` with Δx from ``sip_inverse_step``.
    """
    x = mlp_apply(params, y_target)
    if method != "SIP":
        return jnp.mean(sin_loss_kernel(x, y_target, xi, phi_deg)), x

    def loss_x(x_i, y_i):
        return sin_loss_kernel(x_i, y_i, xi, phi_deg)

    x_target = x + sip_inverse_step_kernel(loss_x, x, y_target)
    return sip_proxy_loss(x, x_target, proxy), x


def _sin_run(method, proxy, steps, log_every, batch_size, params, data_key, y_val, xi, phi_deg):
    """One training run; per logged chunk of ``log_every`` steps the chunk means of the
    batch x-distance and loss L, the x-distance on y_val after the chunk, and the first
    step with a non-finite loss (−1 if none)."""
    optimizer = sin_optimizer(method, xi)

    def step(carry, index):
        params, state, first_bad = carry
        y_target = sin_targets(jax.random.fold_in(data_key, index), batch_size)
        (loss, x), grads = jax.value_and_grad(
            lambda p: sin_batch_loss(method, p, y_target, xi, phi_deg, proxy), has_aux=True
        )(params)
        updates, state = optimizer.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        x_dist = jnp.mean(x_distance_kernel(x, y_target, xi, phi_deg))
        loss_y = jnp.mean(sin_loss_kernel(x, y_target, xi, phi_deg))
        finite = jnp.isfinite(loss) & jnp.isfinite(loss_y)
        first_bad = jnp.where((first_bad < 0) & ~finite, index, first_bad)
        return (params, state, first_bad), (x_dist, loss_y)

    def chunk(carry, chunk_index):
        carry, (x_dist, loss_y) = jax.lax.scan(
            step, carry, chunk_index * log_every + jnp.arange(log_every)
        )
        val_dist = jnp.mean(x_distance_kernel(mlp_apply(carry[0], y_val), y_val, xi, phi_deg))
        return carry, (jnp.mean(x_dist), jnp.mean(loss_y), val_dist)

    init = (params, optimizer.init(params), jnp.array(-1, dtype=jnp.int32))
    (_, _, first_bad), (x_dist, loss_y, val_dist) = jax.lax.scan(
        chunk, init, jnp.arange(steps // log_every)
    )
    return {"x_dist": x_dist, "loss_y": loss_y, "val_x_dist": val_dist, "first_bad": first_bad}


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3, 4))
def _sin_sweep_jit(method, proxy, steps, log_every, batch_size, params, data_key, y_val, xis, phis):
    run = functools.partial(_sin_run, method, proxy, steps, log_every, batch_size, params, data_key, y_val)
    return jax.vmap(run)(xis, phis)


def sin_initial_state(seed=0):
    """The shared start of every run: (initial MLP 2-32-64-32-2 with PyTorch init, the key
    of the target sequence, the fixed validation targets of shape (1000, 2))."""
    init_key, data_key, val_key = jax.random.split(jax.random.PRNGKey(seed), 3)
    params = init_mlp_torch(init_key, SIN_NETWORK_SIZES)
    return params, data_key, sin_targets(val_key, SIN_VALIDATION_SIZE)


def _check_sweep_args(method, xis, phis, steps, log_every, proxy):
    check_choice("method", method, SIN_METHODS)
    check_choice("proxy", proxy, SIP_PROXY_NORMS)
    steps = check_positive_int("steps", steps)
    log_every = check_positive_int("log_every", log_every)
    if steps % log_every:
        raise ValueError(f"steps ({steps}) must be a multiple of log_every ({log_every})")
    xis = np.atleast_1d(np.asarray(xis, dtype=np.float32))
    phis = np.atleast_1d(np.asarray(phis, dtype=np.float32))
    if xis.ndim != 1 or xis.shape != phis.shape or xis.size == 0:
        raise ValueError(
            f"xis and phis must be non-empty 1-D arrays of equal length, got {xis.shape} and {phis.shape}"
        )
    check_sin_setting(xis, phis)
    return xis, phis, steps, log_every


def _sweep_arguments(method, xis, phis, steps, log_every, proxy, seed, batch_size):
    xis, phis, steps, log_every = _check_sweep_args(method, xis, phis, steps, log_every, proxy)
    batch_size = check_positive_int("batch_size", batch_size)
    devices = jax.devices()
    n_settings = xis.size
    padded = -(-n_settings // len(devices)) * len(devices)
    xis = np.concatenate([xis, np.repeat(xis[-1:], padded - n_settings)])
    phis = np.concatenate([phis, np.repeat(phis[-1:], padded - n_settings)])
    mesh = jax.sharding.Mesh(np.array(devices), ("settings",))
    sharded = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("settings"))
    params, data_key, y_val = sin_initial_state(seed)
    static = (method, proxy, steps, log_every, batch_size)
    args = (params, data_key, y_val, jax.device_put(xis, sharded), jax.device_put(phis, sharded))
    return static, args, n_settings


def sin_sweep_program(method, xis, phis, steps, log_every, *, proxy="l1", seed=0,
                      batch_size=SIN_BATCH_SIZE):
    """The compiled sweep and its (sharded) arguments, without running it.

    Returns (compiled, args, n_settings). The settings axis is padded (by repeating the
    last setting) to a multiple of the device count and sharded over a 1-D mesh of all
    devices, so every device trains its share of the settings in parallel.
    """
    static, args, n_settings = _sweep_arguments(
        method, xis, phis, steps, log_every, proxy, seed, batch_size
    )
    return _sin_sweep_jit.lower(*static, *args).compile(), args, n_settings


def _collect_sweep(method, output, n_settings, xis, phis):
    output = {name: np.asarray(value)[:n_settings] for name, value in output.items()}
    xis, phis = np.atleast_1d(xis), np.atleast_1d(phis)
    for i, bad in enumerate(output.pop("first_bad")):
        if bad >= 0:
            raise ValueError(
                f"{method}: the loss became non-finite at step {bad} "
                f"(xi = {xis[i]:g}, phi = {phis[i]:g} deg)"
            )
    return output


def run_sin_sweep(method, xis, phis, steps, log_every, *, proxy="l1", seed=0,
                  batch_size=SIN_BATCH_SIZE):
    """Train ``method`` for every setting (ξ_k, φ_k) at once: vmapped and sharded runs.

    Every run starts from the same network and sees the same targets (seed). Returns
    numpy arrays of shape (n_settings, steps // log_every): "x_dist" and "loss_y" (means
    over each chunk of log_every training batches) and "val_x_dist" (mean x-distance on
    1000 fixed validation targets at the end of each chunk). Raises ValueError naming the
    step where a loss became non-finite.
    """
    static, args, n_settings = _sweep_arguments(
        method, xis, phis, steps, log_every, proxy, seed, batch_size
    )
    return _collect_sweep(method, _sin_sweep_jit(*static, *args), n_settings, xis, phis)


def sin_step_timer(method, xi, phi_deg, steps, *, proxy="l1"):
    """Compile one run of ``steps`` steps; returns a function that executes it and returns
    the measured wall-clock seconds per step (compilation excluded)."""
    compiled, args, _ = sin_sweep_program(method, [xi], [phi_deg], steps, steps, proxy=proxy)

    def seconds_per_step():
        start = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        return (time.perf_counter() - start) / steps

    return seconds_per_step


# ---------------------------------------------------------------------------------------
# Page 3: the HIG toy. Flat parameter vector θ (ravel_pytree of the 1 → 7 tanh → 2 MLP),
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
    the validation set), "probe" (physical output (y1, λ·y2) of x = π/9, shape
    (n_logs, 2)), and "theta" (the final parameters). Raises ValueError naming the
    first step whose loss or parameters are not finite.
    """
    check_choice("method", method, HIG_METHODS)
    lam = check_positive("lam", lam)
    steps = check_positive_int("steps", steps)
    log_every = check_positive_int("log_every", log_every)
    batch_size = check_positive_int("batch_size", batch_size)
    if steps % log_every:
        raise ValueError(f"steps ({steps}) must be a multiple of log_every ({log_every})")
    if time_budget is not None:
        time_budget = check_positive("time_budget", time_budget)
        max_steps = check_positive_int("max_steps", max_steps if max_steps is not None else 100 * steps)
    x_train, y_train, x_val, y_val = (jnp.asarray(a, dtype=jnp.float32) for a in data)
    check_shape("x_train", x_train, (None, 1))
    check_shape("y_train", y_train, (x_train.shape[0], 2))
    check_shape("x_val", x_val, (None, 1))
    check_shape("y_val", y_val, (x_val.shape[0], 2))
    if method == "svd":
        kappa, tau, eta = check_svd_setting(kappa, tau, eta, mode)
    else:
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
    times, done, elapsed = [0.0], 0, 0.0
    while done < steps or (time_budget is not None and elapsed < time_budget and done < max_steps):
        begin = time.perf_counter()
        *state, metrics = chunk(*state, hyper)
        jax.block_until_ready(state[0])
        elapsed += time.perf_counter() - begin
        done += log_every
        first_bad = int(state[3])
        if first_bad >= 0:
            raise ValueError(
                f"training diverged: loss or parameters not finite at step {first_bad + 1} "
                f"(method {method!r}, lam {lam}); lower eta or lr, or raise tau")
        logs.append(jax.device_get(metrics))
        times.append(elapsed)
    result = {key: np.array([np.asarray(log[key]) for log in logs]) for key in logs[0]}
    result["step"] = np.arange(0, done + 1, log_every)
    result["time"] = np.array(times)
    result["theta"] = np.asarray(state[0])
    return result


# ---------------------------------------------------------------------------------------
# Page sip-heat: training a U-Net to invert heat conduction
#
# On XLA's CPU backend a convolutional training step runs far slower inside lax.scan
# than jitted on its own (notes: ~20×), so one step is jitted and a Python loop drives
# it; ``heat_step_program`` can also build an unrolled chunk (lax.fori_loop with
# unroll=True) or a lax.scan chunk so that the choice can be measured.
# Physics and inverse run in float64 (64-bit types are enabled while tracing and
# calling), the network and the optimiser in float32.
# ---------------------------------------------------------------------------------------

from .models import unet_apply_kernel  # noqa: E402
from .physics import check_heat_grid, heat_loss_kernel, heat_physics_kernel  # noqa: E402
from .updates import HEAT_INVERSES  # noqa: E402

HEAT_METHODS = ("SIP", "Adam", "SGD")
HEAT_ADAM = {"learning_rate": 1e-3, "eps": 1e-7}  # the sources' library default eps
HEAT_SGD_RATE_PER_SAMPLE = 2e-6 * 128  # the paper's lr 2e-6 at batch 128, summed losses
HEAT_LOOPS = ("jit", "unroll", "scan")
# The x-space direction each method pulls the network's output along (see
# heat_x_direction_kernel); SIP's inverse is a traced switch, so SIP with either inverse
# and Adam share one compiled program.
HEAT_DIRECTIONS = ("gradient", *HEAT_INVERSES)


def heat_optimizer(method, batch_size):
    """Adam (lr 1e-3, eps 1e-7) for SIP and Adam; SGD with lr 2e-6 · 128 / batch_size (the
    paper's rate at its batch of 128, for losses summed over the batch)."""
    check_choice("method", method, HEAT_METHODS)
    batch_size = check_positive_int("batch_size", batch_size)
    if method == "SGD":
        return optax.sgd(HEAT_SGD_RATE_PER_SAMPLE / batch_size)
    return optax.adam(**HEAT_ADAM)


def heat_direction_index(method, inverse="bayes"):
    """The index into HEAT_DIRECTIONS of a method: SIP uses its inverse, Adam and SGD the
    gradient through the physics."""
    check_choice("method", method, HEAT_METHODS)
    check_choice("inverse", inverse, tuple(HEAT_INVERSES))
    return HEAT_DIRECTIONS.index(inverse if method == "SIP" else "gradient")


def heat_prediction_kernel(params, y_target):
    """The network's estimate of x for observations y*: (B, n, n) float64 -> float64, shifted
    per sample to the mean of y* (diffusion conserves the mean, so x* has y*'s mean)."""
    out = unet_apply_kernel(params, y_target).astype(y_target.dtype)
    return out - out.mean(axis=(-2, -1), keepdims=True) + y_target.mean(axis=(-2, -1), keepdims=True)


def heat_x_direction_kernel(x, y_target, nu_t, direction):
    """The x-space step Δx each method asks of the network's output x (B, n, n) float64.

    direction 0 ("gradient", Adam and SGD through the physics): Δx = −∂L/∂x with
    L = Σ_b ½‖P(x_b) − y*_b‖²; since P is symmetric this is −P(P(x) − y*), and it carries
    the damping of P once more. direction 1, 2 (SIP with the "bayes" or "tikhonov"
    inverse): Δx = inverse step of the residual y* − P(x). ``direction`` may be traced
    (lax.switch). Either way the network's parameter gradient is −J_fᵀ Δx: for SIP that
    is the gradient of the proxy loss ½‖f(y*) − x̃‖² with x̃ = sg(x + Δx) held constant.
    """
    def gradient(_):
        return -jax.grad(lambda x_: jnp.sum(heat_loss_kernel(x_, y_target, nu_t)))(x)

    def inverse(kernel):
        return lambda _: kernel(y_target - heat_physics_kernel(x, nu_t), nu_t)

    branches = [gradient] + [inverse(HEAT_INVERSES[name]) for name in HEAT_DIRECTIONS[1:]]
    return jax.lax.switch(direction, branches, None)


@functools.lru_cache(maxsize=None)
def heat_step_program(optimizer_name, batch_size, nu_t, loop="jit", chunk=1):
    """A compiled training program (cached per setting): (params, opt_state, x_true,
    direction) -> (params, opt_state, y_losses). x_true holds ``chunk`` batches of ground
    truths, (chunk, B, n, n) float64; direction indexes HEAT_DIRECTIONS; y_losses are the
    batch losses Σ_b ½‖P(x_b) − y*_b‖² before each step, (chunk,). optimizer_name:
    "Adam" or "SGD". ``loop``: "jit" (the chunk as a Python-unrolled sequence; one step
    with chunk = 1), "unroll" (lax.fori_loop, unroll=True) or "scan" (lax.scan). Call it
    with 64-bit types enabled (``jax.enable_x64(True)``)."""
    check_choice("loop", loop, HEAT_LOOPS)
    chunk = check_positive_int("chunk", chunk)
    optimizer = heat_optimizer(optimizer_name, batch_size)

    def one(params, opt_state, x_true, direction):
        y_target = heat_physics_kernel(x_true, nu_t)
        x, pullback = jax.vjp(lambda p: heat_prediction_kernel(p, y_target), params)
        y_loss = jnp.sum(heat_loss_kernel(x, y_target, nu_t))
        delta_x = heat_x_direction_kernel(x, y_target, nu_t, direction)
        (grads,) = pullback(-delta_x)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, y_loss

    @jax.jit
    def program(params, opt_state, x_true, direction):
        if loop == "scan":
            def body(carry, x_k):
                p, s, loss = one(*carry, x_k, direction)
                return (p, s), loss

            (params, opt_state), losses = jax.lax.scan(body, (params, opt_state), x_true)
            return params, opt_state, losses
        if loop == "unroll":
            def body(k, carry):
                p, s, losses = carry
                p, s, loss = one(p, s, x_true[k], direction)
                return p, s, losses.at[k].set(loss)

            return jax.lax.fori_loop(0, chunk, body, (params, opt_state, jnp.zeros(chunk)),
                                     unroll=True)
        losses = []
        for k in range(chunk):
            params, opt_state, loss = one(params, opt_state, x_true[k], direction)
            losses.append(loss)
        return params, opt_state, jnp.stack(losses)

    return program, optimizer


def heat_metrics_kernel(params, x_true, nu_t):
    """Validation metrics of the network on ground truths x_true (B, n, n), means over
    samples: "x_l1" Σ|x − x*| (the paper's x error), "x_l2" ½Σ(x − x*)² (the source
    notebook's x loss) and "y_l2" ½Σ(P(x) − y*)²; plus the predictions "x"."""
    y_target = heat_physics_kernel(x_true, nu_t)
    x = heat_prediction_kernel(params, y_target)
    error = x - x_true
    return {
        "x_l1": jnp.mean(jnp.sum(jnp.abs(error), axis=(-2, -1))),
        "x_l2": jnp.mean(0.5 * jnp.sum(error**2, axis=(-2, -1))),
        "y_l2": jnp.mean(0.5 * jnp.sum((heat_physics_kernel(x, nu_t) - y_target) ** 2, axis=(-2, -1))),
        "x": x,
    }


heat_metrics = jax.jit(heat_metrics_kernel, static_argnums=2)


def train_heat(method, params, batches, x_val, *, steps, log_every, nu_t, inverse="bayes",
               chunk=1, loop="jit", progress=None):
    """Train ``params`` with ``method`` for ``steps`` steps on ``batches(step)`` -> the float64
    ground truths (B, n, n) of that step (the same sequence for every method), evaluating on
    x_val every ``log_every`` steps. A Python loop drives a compiled program of ``chunk``
    steps. Stops with ValueError naming the step and method at a non-finite loss.

    Returns {"step", "time" (seconds of training steps, cumulative; compilation excluded),
    "x_l1", "x_l2", "y_l2" (validation, per log), "train_y_l2" (per step), "params",
    "x_val_pred" (the final predictions)}."""
    check_choice("method", method, HEAT_METHODS)
    steps = check_positive_int("steps", steps)
    log_every = check_positive_int("log_every", log_every)
    chunk = check_positive_int("chunk", chunk)
    if steps % log_every or log_every % chunk:
        raise ValueError(f"steps ({steps}) must be a multiple of log_every ({log_every}), and "
                         f"log_every a multiple of chunk ({chunk})")
    with jax.enable_x64(True):
        x_val = jnp.asarray(x_val, jnp.float64)
        first = check_heat_grid("batch of step 0", batches(0))
        program, optimizer = heat_step_program("SGD" if method == "SGD" else "Adam",
                                               first.shape[0], float(nu_t), loop, chunk)
        direction = jnp.int32(heat_direction_index(method, inverse))
        opt_state = optimizer.init(params)
        # compile outside the clock (the program is pure: this call changes nothing)
        jax.block_until_ready(program(params, opt_state, jnp.stack([first] * chunk), direction))
        logs = [jax.device_get(heat_metrics(params, x_val, float(nu_t)))]
        times, train_losses, elapsed = [0.0], [], 0.0
        for start in range(0, steps, chunk):
            x_true = jnp.asarray(np.stack([check_heat_grid(f"batch of step {start + k}",
                                                           batches(start + k))
                                           for k in range(chunk)]))
            begin = time.perf_counter()
            params, opt_state, losses = program(params, opt_state, x_true, direction)
            losses = np.asarray(losses)
            elapsed += time.perf_counter() - begin
            if not np.all(np.isfinite(losses)):
                bad = start + int(np.argmin(np.isfinite(losses)))
                raise ValueError(f"training diverged: non-finite loss at step {bad} "
                                 f"(method {method!r})")
            train_losses.extend(losses.tolist())
            if (start + chunk) % log_every == 0:
                logs.append(jax.device_get(heat_metrics(params, x_val, float(nu_t))))
                times.append(elapsed)
                if not np.isfinite(logs[-1]["x_l1"]):
                    raise ValueError(f"training diverged: non-finite validation error after "
                                     f"step {start + chunk} (method {method!r})")
            if progress is not None:
                progress.update(chunk)
    result = {key: np.array([log[key] for log in logs]) for key in ("x_l1", "x_l2", "y_l2")}
    result.update(step=np.arange(0, steps + 1, log_every), time=np.array(times),
                  train_y_l2=np.array(train_losses), params=params,
                  x_val_pred=np.asarray(logs[-1]["x"]))
    return result
