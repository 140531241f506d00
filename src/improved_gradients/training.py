"""Optimisation and training loops, shared by the pages.

- toy-comparison and scale-invariance: ``iterate`` runs any of the hand-written steps of
  ``updates`` for a few iterations (a Python loop, since a step may call SciPy);
  ``optax_trajectory`` runs a standard optax optimiser on the same problem as one jitted
  ``lax.scan``.
- hig-toy and hig-oscillators: ``run_chunks`` drives compiled multi-step chunks;
  ``train_control_network`` trains a network that outputs the controls of a simulator
  (hig-oscillators).
- sip-heat: ``train_heat`` trains the U-Net that inverts heat conduction.

Every loop stops with ``errors.TrainingDiverged`` (a ValueError) naming the method and
the step when a loss or parameter becomes non-finite.
"""

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from ._checks import (check_array, check_callable, check_choice, check_finite,
                      check_floating_tree, check_optional, check_positive, check_positive_int,
                      check_seed)
from .errors import TrainingDiverged
from .updates import (
    batch_jacobian_kernel,
    check_svd_setting,
    svd_power_update_kernel,
)


def iterate(step, x0, steps):
    """Apply ``step(x) -> (x_new, u)`` ``steps`` times from x0.

    Returns (xs, us): xs of shape (steps+1, n) including x0, us of shape (steps, n).
    Raises ``TrainingDiverged`` when an iterate becomes non-finite.
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
# hig-oscillators: a network that outputs the controls of a simulator. Generic loop for a
# network u = f(x; θ) feeding physics y = P(x, u), per-sample loss ‖y − y*‖², three update kinds:
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
    check_floating_tree("params", params)
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
    check_callable("network", network)
    check_callable("physics", physics)
    check_floating_tree("params", params)
    x = check_array("x_test", x_test, min_size=1)
    check_array("y_test", y_test, (x.shape[0], None))
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
    final flat parameters). Raises ``TrainingDiverged`` naming the method and the first
    step whose loss or parameters are not finite.
    """
    check_callable("network", network)
    check_callable("physics", physics)
    check_choice("method", method, CONTROL_METHODS)
    check_seed("seed", seed)
    if name is not None and not isinstance(name, str):
        raise ValueError(f"name must be None or a string naming the run, got {name!r}")
    check_optional(check_callable, "progress", progress)
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
    for done, elapsed, state, (train_loss, test_loss) in run_chunks(
            chunk, state, hyper, chunk_steps, steps, time_budget, max_steps, label):
        if not np.isfinite(float(test_loss)):
            raise TrainingDiverged(f"{label}: the test loss is not finite after step {done}",
                                   method=label, step=done)
        for key, value in (("step", done), ("time", elapsed), ("test_loss", float(test_loss)),
                           ("train_loss", float(train_loss))):
            logs[key].append(value)
        if progress is not None:
            progress(done, elapsed)
    result = {key: np.asarray(values) for key, values in logs.items()}
    result["theta"] = np.asarray(state[0])
    return result


def run_chunks(chunk, state, hyper, chunk_steps, steps, time_budget=None, max_steps=None,
               label="training"):
    """Drive a compiled multi-step program: call ``chunk(*state, hyper)``, which returns the
    new state followed by its metrics, until ``steps`` steps are done or, with a
    ``time_budget`` (seconds of measured training, compilation excluded), until that time
    has passed, at most ``max_steps``. ``state[3]`` is the first step whose loss or
    parameters were not finite (−1 while all are): the run stops there with
    ``TrainingDiverged`` naming ``label`` and the step. Yields (steps done, seconds,
    state, metrics) after every chunk of ``chunk_steps`` steps; ``steps`` must be a
    multiple of ``chunk_steps``. The arguments are checked when it is called (before the
    first chunk)."""
    check_callable("chunk", chunk)
    if not isinstance(state, tuple) or len(state) < 4:
        raise ValueError(f"state must be a tuple (params, ..., first bad step, ...) of at "
                         f"least 4 entries, state[3] the first non-finite step (−1: none), "
                         f"got {type(state).__name__}")
    chunk_steps = check_positive_int("chunk_steps", chunk_steps)
    steps = check_positive_int("steps", steps)
    if steps % chunk_steps:
        raise ValueError(f"steps ({steps}) must be a multiple of chunk_steps ({chunk_steps})")
    if time_budget is not None:
        check_positive("time_budget", time_budget)
        check_positive_int("max_steps (with a time_budget)", max_steps)
    if not isinstance(label, str):
        raise ValueError(f"label must be a string naming the run, got {label!r}")
    return _run_chunks(chunk, state, hyper, chunk_steps, steps, time_budget, max_steps, label)


def _run_chunks(chunk, state, hyper, chunk_steps, steps, time_budget, max_steps, label):
    done, elapsed = 0, 0.0
    while done < steps or (time_budget is not None and elapsed < time_budget and done < max_steps):
        begin = time.perf_counter()
        out = chunk(*state, hyper)
        state, metrics = tuple(out[:len(state)]), tuple(out[len(state):])
        jax.block_until_ready(state[0])
        elapsed += time.perf_counter() - begin
        done += chunk_steps
        first_bad = int(state[3])
        if first_bad >= 0:
            raise TrainingDiverged(
                f"{label}: training diverged, loss or parameters not finite at step "
                f"{first_bad + 1}; lower eta or lr, or raise tau", method=label, step=first_bad + 1)
        yield done, elapsed, state, metrics


# ---------------------------------------------------------------------------------------
# sip-heat: training a U-Net to invert heat conduction
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
    x_val (N, n, n), the training batches' grid, every ``log_every`` steps. A Python loop
    drives a compiled program of ``chunk`` steps. Stops with ``TrainingDiverged`` naming the
    step and method at a non-finite loss.

    Returns {"step", "time" (seconds of training steps, cumulative; compilation excluded),
    "x_l1", "x_l2", "y_l2" (validation, per log), "train_y_l2" (per step), "params",
    "x_val_pred" (the final predictions)}."""
    check_choice("method", method, HEAT_METHODS)
    check_choice("inverse", inverse, tuple(HEAT_INVERSES))
    check_positive("nu_t", nu_t)
    steps = check_positive_int("steps", steps)
    log_every = check_positive_int("log_every", log_every)
    chunk = check_positive_int("chunk", chunk)
    if progress is not None and not callable(getattr(progress, "update", None)):
        raise ValueError(f"progress must be None or a progress bar with update(n) (tqdm), "
                         f"got {progress!r}")
    if steps % log_every or log_every % chunk:
        raise ValueError(f"steps ({steps}) must be a multiple of log_every ({log_every}), and "
                         f"log_every a multiple of chunk ({chunk})")
    check_callable("batches", batches)
    x_val = check_heat_grid("x_val", x_val)
    with jax.enable_x64(True):
        first = check_heat_grid("batch of step 0", batches(0))
        if x_val.ndim != 3 or x_val.shape[0] < 1 or x_val.shape[1:] != first.shape[1:]:
            raise ValueError(f"x_val must be a batch (N, {first.shape[-2]}, {first.shape[-1]}) "
                             f"of N >= 1 grids of the training batches' size, got shape "
                             f"{x_val.shape}")
        x_val = jnp.asarray(x_val, jnp.float64)
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
                raise TrainingDiverged(f"training diverged: non-finite loss at step {bad} "
                                       f"(method {method!r})", method=method, step=bad)
            train_losses.extend(losses.tolist())
            if (start + chunk) % log_every == 0:
                logs.append(jax.device_get(heat_metrics(params, x_val, float(nu_t))))
                times.append(elapsed)
                if not np.isfinite(logs[-1]["x_l1"]):
                    raise TrainingDiverged(f"training diverged: non-finite validation error "
                                           f"after step {start + chunk} (method {method!r})",
                                           method=method, step=start + chunk)
            if progress is not None:
                progress.update(chunk)
    result = {key: np.array([log[key] for log in logs]) for key in ("x_l1", "x_l2", "y_l2")}
    result.update(step=np.arange(0, steps + 1, log_every), time=np.array(times),
                  train_y_l2=np.array(train_losses), params=params,
                  x_val_pred=np.asarray(logs[-1]["x"]))
    return result
