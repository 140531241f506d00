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

from ._checks import (TrainingDiverged, check_array, check_callable, check_choice, check_finite,
                      check_positive, check_positive_int)
from .updates import (
    batch_jacobian_kernel,
    check_svd_setting,
    svd_power_update_kernel,
)


def iterate(step, x0, steps):
    """Apply ``step(x) -> (x_new, u)`` ``steps`` times from x0.

    Returns (xs, us): xs of shape (steps+1, n) including x0, us of shape (steps, n).
    Raises ValueError when an iterate becomes non-finite.
    """
    check_callable("step", step)
    steps = check_positive_int("steps", steps)
    x = jnp.asarray(check_array("x0", x0, (None,), min_size=1))
    xs, us = [x], []
    for k in range(steps):
        result = step(x)
        if not isinstance(result, tuple) or len(result) != 2:
            raise ValueError(f"step(x) must return a pair (x_new, u), got {type(result).__name__}")
        x_old, (x, u) = x, result
        if np.shape(x) != np.shape(x_old):
            raise ValueError(f"step(x) returned x_new of shape {np.shape(x)} for x of shape "
                             f"{np.shape(x_old)} at iterate {k + 1}")
        if not bool(jnp.all(jnp.isfinite(x))):
            raise TrainingDiverged(
                f"iterate {k + 1} is not finite: {np.asarray(x)} after x = {np.asarray(x_old)} "
                f"with update u = {np.asarray(u)}: the step overflowed (lower the step size) "
                f"or divided by zero (a singular update)")
        xs.append(x)
        us.append(u)
    return jnp.stack(xs), jnp.stack(us)


def optax_trajectory(optimizer, loss_x, x0, steps):
    """Minimise loss_x with an optax optimiser; one jitted lax.scan over ``steps``.

    Returns the iterates, shape (steps+1, n), x0 included.
    """
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise ValueError(f"optimizer must be an optax GradientTransformation such as "
                         f"optax.adam(0.1), got {type(optimizer).__name__}")
    check_callable("loss_x", loss_x)
    steps = check_positive_int("steps", steps)
    x0 = jnp.asarray(check_array("x0", x0, (None,), min_size=1))

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
        bad = int(np.argmax(~np.all(np.isfinite(np.asarray(xs)), axis=1)))
        raise TrainingDiverged(f"optax_trajectory: iterate {bad} is not finite (the previous one "
                               f"is {np.asarray(xs[bad - 1])}); lower the learning rate")
    return xs


# ---------------------------------------------------------------------------------------
# Page 6: a network that outputs the controls of a simulator. Generic loop for a network
# u = f(x; θ) feeding physics y = P(x, u), per-sample loss ‖y − y*‖², three update kinds:
# "adam" (optax Adam on the batch-mean loss), "svd" (the κ/τ family on the joint
# Jacobian ∂y/∂θ of a batch; HIG κ = −½, Gauss-Newton κ = −1) and "sip" (per sample the
# pseudo-inverse of the physics Jacobian ∂y/∂u gives a control target ũ = u − (∂y/∂u)⁺
# (y − y*), a full Gauss-Newton step on ‖y − y*‖² in u; the network follows it with Adam
# on the proxy loss mean_b ½‖u_b − ũ_b‖²). Steps run in compiled lax.scan chunks of
# ``chunk_steps`` steps; the test loss is logged between chunks.
# ---------------------------------------------------------------------------------------

CONTROL_METHODS = ("adam", "svd", "sip")


def control_sample_loss_kernel(y, y_target):
    """‖y − y*‖² per sample (sum of squares over the last axis); (..., d) -> (...)."""
    return jnp.sum((y - y_target) ** 2, axis=-1)


def sip_control_step_kernel(physics, x, u, y_target, tau, mode="truncate", eta=1.0):
    """Per-sample SIP physics step in control space, vmapped over the batch:
    Δu_b = −η (∂y/∂u)⁺ (y_b − y*_b) with the pseudo-inverse truncated at τ (the κ = −1
    member of ``svd_power_update_kernel`` applied to the residual itself, not to a
    gradient of a batch-mean loss, so η = 1 is a full Gauss-Newton step of ‖y − y*‖² in
    u whatever the batch size). x: (B, ...), u: (B, d_u), y_target: (B, d_y) ->
    (Δu (B, d_u), y (B, d_y))."""

    def one(x_i, u_i, target_i):
        def output(u):
            y = physics(x_i, u)
            return y, y

        jac, y = jax.jacrev(output, has_aux=True)(u_i)
        return svd_power_update_kernel(jac, y - target_i, -1.0, tau, eta, mode), y

    return jax.vmap(one)(x, u, y_target)


def control_update_kernel(network, physics, method, mode, batch_size, unravel, theta,
                          opt_state, xb, yb, hyper):
    """One step of ``method`` on the batch (xb, yb): returns (batch loss, θ', Adam state').

    "svd": θ' = θ − η V Λ^κ Uᵀ g on the joint Jacobian J = ∂y/∂θ (B·d_y, n_θ), with
    g = ∂(mean_b ‖y_b − y*_b‖²)/∂y = 2(y − y*)/B row-stacked; "adam": Adam on the
    batch-mean loss; "sip": Adam on mean_b ½‖u_b − stop_grad(u_b + Δu_b)‖² with Δu from
    ``sip_control_step_kernel``. θ is flat (``unravel`` rebuilds the network's pytree);
    hyper holds the floats kappa, tau, eta, lr. Assumes checked settings."""
    def outputs(t, xs):
        return jax.vmap(lambda x: physics(x, network(unravel(t), x)))(xs)

    if method == "svd":
        jac, y = batch_jacobian_kernel(lambda t, x: physics(x, network(unravel(t), x)), theta, xb)
        g = (2.0 * (y - yb) / batch_size).reshape(-1)  # ∂(batch-mean loss)/∂y, row-stacked
        step = svd_power_update_kernel(jac, g, hyper["kappa"], hyper["tau"], hyper["eta"], mode)
        return jnp.mean(control_sample_loss_kernel(y, yb)), theta + step, opt_state
    optimizer = optax.adam(hyper["lr"])
    if method == "adam":
        def batch_loss(t):
            return jnp.mean(control_sample_loss_kernel(outputs(t, xb), yb))

        loss, grad = jax.value_and_grad(batch_loss)(theta)
    else:
        u = jax.vmap(lambda x: network(unravel(theta), x))(xb)
        du, y = sip_control_step_kernel(physics, xb, u, yb, hyper["tau"], mode, hyper["eta"])
        target = u + du
        loss = jnp.mean(control_sample_loss_kernel(y, yb))

        def proxy(t):
            u_t = jax.vmap(lambda x: network(unravel(t), x))(xb)
            return jnp.mean(0.5 * jnp.sum((u_t - jax.lax.stop_gradient(target)) ** 2, axis=-1))

        grad = jax.grad(proxy)(theta)
    updates, opt_state = optimizer.update(grad, opt_state, theta)
    return loss, theta + updates, opt_state


@functools.lru_cache(maxsize=None)
def control_chunk_program(network, physics, template, method, mode, batch_size, chunk_steps,
                          train_shapes, test_shapes):
    """The compiled chunk of ``train_control_network``: ``chunk_steps`` steps fused in one
    lax.scan, then the test loss. Cached per structure (network, physics, parameter
    template, method, sizes), so settings, seeds and initial networks reuse it.
    ``template`` is a hashable (tree structure, shapes) key from ``control_template``."""
    params = _template_params(template)
    theta, unravel = ravel_pytree(params)

    def step(carry, _):
        theta, opt_state, key, first_bad, count, hyper = carry
        key, k_batch = jax.random.split(key)
        idx = jax.random.randint(k_batch, (batch_size,), 0, hyper["x_train"].shape[0])
        xb, yb = hyper["x_train"][idx], hyper["y_train"][idx]
        loss, theta, opt_state = control_update_kernel(
            network, physics, method, mode, batch_size, unravel, theta, opt_state, xb, yb, hyper)
        finite = jnp.isfinite(loss) & jnp.all(jnp.isfinite(theta))
        first_bad = jnp.where((first_bad < 0) & ~finite, count, first_bad)
        return (theta, opt_state, key, first_bad, count + 1, hyper), loss

    def chunk(theta, opt_state, key, first_bad, count, hyper):
        carry, losses = jax.lax.scan(step, (theta, opt_state, key, first_bad, count, hyper),
                                     length=chunk_steps)
        theta, opt_state, key, first_bad, count, _ = carry
        test = _control_test_loss(network, physics, unravel, theta, hyper["x_test"], hyper["y_test"])
        return theta, opt_state, key, first_bad, count, jnp.mean(losses), test

    f32 = jax.ShapeDtypeStruct((), jnp.float32)
    hyper = {
        "x_train": jax.ShapeDtypeStruct(train_shapes[0], jnp.float32),
        "y_train": jax.ShapeDtypeStruct(train_shapes[1], jnp.float32),
        "x_test": jax.ShapeDtypeStruct(test_shapes[0], jnp.float32),
        "y_test": jax.ShapeDtypeStruct(test_shapes[1], jnp.float32),
        **{name: f32 for name in ("kappa", "tau", "eta", "lr")},
    }
    state = (theta, optax.adam(1e-3).init(theta), jax.random.PRNGKey(0), jnp.int32(-1),
             jnp.int32(0))
    return jax.jit(chunk).lower(*state, hyper).compile(), unravel


def _control_test_loss(network, physics, unravel, theta, x_test, y_test):
    y = jax.vmap(lambda x: physics(x, network(unravel(theta), x)))(x_test)
    return jnp.mean(control_sample_loss_kernel(y, y_test))


def control_template(params):
    """Hashable description (tree structure, leaf shapes) of a parameter pytree."""
    leaves, treedef = jax.tree_util.tree_flatten(params)
    return treedef, tuple(tuple(np.shape(leaf)) for leaf in leaves)


def _template_params(template):
    treedef, shapes = template
    return jax.tree_util.tree_unflatten(treedef, [jnp.zeros(s, jnp.float32) for s in shapes])


@functools.lru_cache(maxsize=None)
def _control_test_program(network, physics, template):
    _, unravel = ravel_pytree(_template_params(template))
    return jax.jit(lambda t, x, y: _control_test_loss(network, physics, unravel, t, x, y))


def control_test_loss(network, physics, params, x_test, y_test):
    """Mean of ‖P(x, f(x; θ)) − y*‖² over a test set (x_test (N, ...), y_test (N, d_y))."""
    theta, _ = ravel_pytree(params)
    program = _control_test_program(network, physics, control_template(params))
    return float(program(theta, jnp.asarray(x_test), jnp.asarray(y_test)))


def train_control_network(network, physics, params, data, method, *, steps, chunk_steps,
                          batch_size, seed=0, kappa=-0.5, tau=1e-6, eta=1.0, mode="truncate",
                          lr=3e-4, time_budget=None, max_steps=None, name=None, progress=None):
    """Train a control network u = network(params, x) through ``physics(x, u) -> y``.

    data = (x_train, y_train, x_test, y_test); the per-sample loss is ‖y − y*‖², the
    update uses the batch mean over ``batch_size`` samples drawn uniformly with
    replacement (seeded by ``seed``). ``method``: "adam" (optax Adam, learning rate
    ``lr``), "svd" (Δθ = −η V Λ^κ Uᵀ g on the joint Jacobian ∂y/∂θ of the batch, g the
    gradient of the batch-mean loss, relative cut-off τ; HIG κ = −½, Gauss-Newton κ = −1)
    or "sip" (control targets from ``sip_control_step_kernel`` with cut-off τ, then Adam
    with ``lr`` on the proxy loss). Runs ``steps`` steps in compiled chunks of
    ``chunk_steps`` (compiled before the clock starts, the test loss logged after each);
    with ``time_budget`` (seconds) it goes on, chunk by chunk, until that much measured
    training time has passed or ``max_steps`` steps are done. ``progress`` (optional) is
    called with (steps done, elapsed seconds) after every chunk.

    Returns a dict of numpy arrays over the logged points, the start included: "step",
    "time" (measured training seconds; compilation and logging excluded), "test_loss",
    "train_loss" (mean batch loss over each chunk; NaN at the start), and "theta" (the
    final flat parameters). Raises ValueError naming the method and the first step whose
    loss or parameters are not finite.
    """
    check_choice("method", method, CONTROL_METHODS)
    steps = check_positive_int("steps", steps)
    chunk_steps = check_positive_int("chunk_steps", chunk_steps)
    batch_size = check_positive_int("batch_size", batch_size)
    if steps % chunk_steps:
        raise ValueError(f"steps ({steps}) must be a multiple of chunk_steps ({chunk_steps})")
    if time_budget is not None:
        time_budget = check_positive("time_budget", time_budget)
        max_steps = check_positive_int("max_steps", max_steps if max_steps is not None
                                       else 1000 * steps)
    if method == "svd":
        kappa, tau, eta = check_svd_setting(kappa, tau, eta, mode)
    else:
        _, tau, eta = check_svd_setting(-1.0, tau, eta, mode)
        lr = check_positive("lr", lr)
    if not isinstance(data, (tuple, list)) or len(data) != 4:
        raise ValueError("data must be (x_train, y_train, x_test, y_test)")
    x_train, y_train, x_test, y_test = (jnp.asarray(a, dtype=jnp.float32) for a in data)
    for label, (xs, ys) in (("train", (x_train, y_train)), ("test", (x_test, y_test))):
        if xs.ndim < 2 or ys.ndim != 2 or xs.shape[0] != ys.shape[0] or xs.shape[0] < 1:
            raise ValueError(f"x_{label} (N, ...) and y_{label} (N, d_y) must hold the same "
                             f"number N >= 1 of samples, got {xs.shape} and {ys.shape}")
        check_finite(f"x_{label}", xs)
        check_finite(f"y_{label}", ys)
    theta, _ = ravel_pytree(params)
    check_finite("params", theta)
    label = name or method

    chunk, unravel = control_chunk_program(
        network, physics, control_template(params), method, mode, batch_size, chunk_steps,
        (x_train.shape, y_train.shape), (x_test.shape, y_test.shape))
    hyper = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test,
             **{k: jnp.float32(v) for k, v in
                (("kappa", kappa), ("tau", tau), ("eta", eta), ("lr", lr))}}
    state = (jnp.asarray(theta, jnp.float32), optax.adam(lr).init(theta),
             jax.random.PRNGKey(seed), jnp.int32(-1), jnp.int32(0))
    test0 = control_test_loss(network, physics, params, x_test, y_test)
    logs = {"step": [0], "time": [0.0], "test_loss": [test0], "train_loss": [np.nan]}
    done, elapsed = 0, 0.0
    while done < steps or (time_budget is not None and elapsed < time_budget and done < max_steps):
        begin = time.perf_counter()
        *state, train_loss, test_loss = chunk(*state, hyper)
        jax.block_until_ready(state[0])
        elapsed += time.perf_counter() - begin
        done += chunk_steps
        first_bad = int(state[3])
        if first_bad >= 0:
            raise TrainingDiverged(
                f"{label}: training diverged, loss or parameters not finite at step "
                f"{first_bad + 1}; lower eta or lr, or raise tau")
        if not np.isfinite(float(test_loss)):
            raise ValueError(f"{label}: the test loss is not finite after step {done}")
        for key, value in (("step", done), ("time", elapsed), ("test_loss", float(test_loss)),
                           ("train_loss", float(train_loss))):
            logs[key].append(value)
        if progress is not None:
            progress(done, elapsed)
    result = {key: np.asarray(values) for key, values in logs.items()}
    result["theta"] = np.asarray(state[0])
    return result
