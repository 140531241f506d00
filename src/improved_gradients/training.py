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
from .models import init_mlp_glorot, mlp_apply, mlp_hidden
from .physics import HIG_PROBE_X, hig_physics_kernel, hig_sample_loss_kernel
from .updates import batch_jacobian_kernel, check_svd_setting, svd_power_update_kernel


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
