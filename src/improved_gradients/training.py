"""Optimisation and training loops, shared by the pages.

- toy-comparison and scale-invariance: ``iterate`` runs any of the hand-written steps of
  ``updates`` for a few iterations (a Python loop, since a step may call SciPy);
  ``optax_trajectory`` runs a standard optax optimiser on the same problem as one jitted
  ``lax.scan``.
- hig-toy and hig-oscillators: one compiled loop. A method's step function becomes a
  chunk of steps (``sampled_chunk``, state ``LoopState``), ``run_chunks`` drives it and
  ``train_chunks`` returns the layout every page reads: {"step", "time", "params",
  metrics}. ``hig_experiments.train_hig_toy`` and ``train_control_network`` (a network
  that outputs the controls of a simulator, hig-oscillators) are built on it.
- sip-heat: ``train_heat`` trains the U-Net that inverts heat conduction with one jitted
  step per call (measured faster than a compiled chunk on CPU), same layout.
- sip-training: the sin sweep (``sip_experiments``) is a scan of scans vmapped over
  settings, which one chunk per run cannot express; it keeps its own loop.

Every loop stops with ``errors.TrainingDiverged`` (a ValueError) naming the method and
the step when a loss or parameter becomes non-finite.
"""

import functools
import time
from typing import Any, NamedTuple

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
    check_svd_setting,
    control_sample_loss_kernel,
    control_update_kernel,
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
# The compiled training loop of the hig-toy and hig-oscillators pages. A method is a step
# function ``update(params, opt_state, xb, yb, inputs) -> (batch loss, params',
# opt_state')`` on a flat parameter vector; ``sampled_chunk`` fuses ``chunk_steps`` of
# them (a batch drawn uniformly with replacement per step) into one lax.scan followed by
# the page's metrics, ``compile_chunk`` compiles it ahead of time, ``run_chunks`` drives
# it against the clock and ``train_chunks`` returns the result every page reads:
# {"step", "time", "params", metric: array over the logs}.
# ---------------------------------------------------------------------------------------


class LoopState(NamedTuple):
    """The carry of the compiled loop: flat parameters θ (n_θ,) float32, the optimiser
    state, the PRNG key of the batch draws, the first step (int32) whose loss or
    parameters were not finite (−1 while none was) and the number of steps done."""

    params: Any
    opt_state: Any
    key: Any
    first_bad: Any
    count: Any


def initial_state(params, opt_state, seed):
    """``LoopState`` at step 0: θ (n_θ,) as float32, the optimiser state, PRNGKey(seed)."""
    check_array("params", params, (None,), min_size=1)
    check_seed("seed", seed)
    return LoopState(jnp.asarray(params, jnp.float32), opt_state, jax.random.PRNGKey(seed),
                     jnp.int32(-1), jnp.int32(0))


def sampled_chunk(update, metrics, batch_size, chunk_steps):
    """``chunk(state, inputs) -> (state', metrics(θ', inputs, losses))``: ``chunk_steps``
    steps of ``update`` in one lax.scan, each on ``batch_size`` rows of
    (inputs["x_train"], inputs["y_train"]) drawn with replacement (key split, then
    randint), recording the first step whose loss or θ is not finite. ``inputs`` holds
    the data and the traced hyper-parameters; it is a constant of the scan, not carried.
    losses: (chunk_steps,) batch losses."""
    check_callable("update", update)
    check_callable("metrics", metrics)
    batch_size = check_positive_int("batch_size", batch_size)
    chunk_steps = check_positive_int("chunk_steps", chunk_steps)

    def step(state, inputs):
        key, k_batch = jax.random.split(state.key)
        idx = jax.random.randint(k_batch, (batch_size,), 0, inputs["x_train"].shape[0])
        xb, yb = inputs["x_train"][idx], inputs["y_train"][idx]
        loss, params, opt_state = update(state.params, state.opt_state, xb, yb, inputs)
        finite = jnp.isfinite(loss) & jnp.all(jnp.isfinite(params))
        first_bad = jnp.where((state.first_bad < 0) & ~finite, state.count, state.first_bad)
        return LoopState(params, opt_state, key, first_bad, state.count + 1), loss

    def chunk(state, inputs):
        state, losses = jax.lax.scan(lambda s, _: step(s, inputs), state, length=chunk_steps)
        return state, metrics(state.params, inputs, losses)

    return chunk


def compile_chunk(chunk, state, inputs):
    """``chunk`` compiled ahead of time for the shapes and dtypes of ``state`` and
    ``inputs`` (arrays or jax.ShapeDtypeStruct), so no run's clock counts compilation."""
    check_callable("chunk", chunk)
    if not isinstance(state, LoopState):
        raise ValueError(f"state must be a training.LoopState, got {type(state).__name__}")
    return jax.jit(chunk).lower(state, inputs).compile()


def run_chunks(chunk, state, inputs, chunk_steps, steps, time_budget=None, max_steps=None,
               label="training"):
    """Drive a compiled multi-step program: call ``chunk(state, inputs) -> (state,
    metrics)`` (``state`` a ``LoopState``) until ``steps`` steps are done or, with a
    ``time_budget`` (seconds of measured training, compilation excluded), until that time
    has passed, at most ``max_steps``. When ``state.first_bad`` is a step (>= 0), the run
    stops with ``TrainingDiverged`` naming ``label`` and that step. Yields (steps done,
    seconds, state, metrics) after every chunk of ``chunk_steps`` steps; ``steps`` must be
    a multiple of ``chunk_steps``. The arguments are checked when it is called (before the
    first chunk)."""
    check_callable("chunk", chunk)
    if not isinstance(state, LoopState):
        raise ValueError(f"state must be a training.LoopState (params, opt_state, key, "
                         f"first_bad, count), got {type(state).__name__}")
    chunk_steps = check_positive_int("chunk_steps", chunk_steps)
    steps = check_positive_int("steps", steps)
    if steps % chunk_steps:
        raise ValueError(f"steps ({steps}) must be a multiple of chunk_steps ({chunk_steps})")
    if time_budget is not None:
        check_positive("time_budget", time_budget)
        check_positive_int("max_steps (with a time_budget)", max_steps)
    if not isinstance(label, str):
        raise ValueError(f"label must be a string naming the run, got {label!r}")
    return _run_chunks(chunk, state, inputs, chunk_steps, steps, time_budget, max_steps, label)


def _run_chunks(chunk, state, inputs, chunk_steps, steps, time_budget, max_steps, label):
    done, elapsed = 0, 0.0
    while done < steps or (time_budget is not None and elapsed < time_budget and done < max_steps):
        begin = time.perf_counter()
        state, metrics = chunk(state, inputs)
        jax.block_until_ready(state.params)
        elapsed += time.perf_counter() - begin
        done += chunk_steps
        first_bad = int(state.first_bad)
        if first_bad >= 0:
            raise TrainingDiverged(
                f"{label}: training diverged, loss or parameters not finite at step "
                f"{first_bad + 1}; lower eta or lr, or raise tau", method=label, step=first_bad + 1)
        yield done, elapsed, state, metrics


def check_budget(steps, chunk_steps, time_budget=None, max_steps=None, *,
                 chunk_name="chunk_steps", max_factor=1000):
    """The step budget of a chunked run, checked: ``steps`` a multiple of ``chunk_steps``
    (named ``chunk_name`` in the messages); with a ``time_budget`` (seconds), ``max_steps``
    (default ``max_factor · steps``). Returns (steps, chunk_steps, time_budget, max_steps)."""
    steps = check_positive_int("steps", steps)
    chunk_steps = check_positive_int(chunk_name, chunk_steps)
    if steps % chunk_steps:
        raise ValueError(f"steps ({steps}) must be a multiple of {chunk_name} ({chunk_steps})")
    if time_budget is not None:
        time_budget = check_positive("time_budget", time_budget)
        max_steps = check_positive_int("max_steps", max_steps if max_steps is not None
                                       else max_factor * steps)
    return steps, chunk_steps, time_budget, max_steps


def train_chunks(chunk, state, inputs, metrics0, *, chunk_steps, steps, time_budget=None,
                 max_steps=None, label="training", progress=None, finite=None):
    """``run_chunks`` collected into the result layout of every page: {"step" (steps done
    at each log, 0 first), "time" (measured training seconds), "params" (the final flat θ),
    and per metric an array over the logs}; ``metrics0`` is the dict of metrics at step 0,
    ``chunk`` returns a dict with the same keys. ``progress(steps, seconds)`` (optional) is
    called after every chunk; ``finite`` (optional) names a metric that must stay finite
    (``TrainingDiverged`` after the chunk where it is not). Arguments as ``run_chunks``."""
    if not isinstance(metrics0, dict) or not metrics0:
        raise ValueError(f"metrics0 must be a non-empty dict of the metrics at step 0, "
                         f"got {metrics0!r}")
    check_optional(check_callable, "progress", progress)
    logs, steps_done, times = [jax.device_get(metrics0)], [0], [0.0]
    for done, elapsed, state, metrics in run_chunks(chunk, state, inputs, chunk_steps, steps,
                                                    time_budget, max_steps, label):
        logs.append(jax.device_get(metrics))
        if finite is not None and not np.all(np.isfinite(logs[-1][finite])):
            raise TrainingDiverged(f"{label}: the {finite.replace('_', ' ')} is not finite "
                                   f"after step {done}", method=label, step=done)
        steps_done.append(done)
        times.append(elapsed)
        if progress is not None:
            progress(done, elapsed)
    result = {key: np.array([np.asarray(log[key]) for log in logs]) for key in logs[0]}
    result.update(step=np.array(steps_done), time=np.array(times),
                  params=np.asarray(state.params))
    return result


# ---------------------------------------------------------------------------------------
# hig-oscillators: a network that outputs the controls of a simulator. For a network
# u = f(x; θ) feeding physics y = P(x, u) with per-sample loss ‖y − y*‖², three update
# kinds: "adam" (optax Adam on the batch-mean loss), "svd" (the κ/τ family on the joint
# Jacobian ∂y/∂θ of a batch; HIG κ = −½, Gauss-Newton κ = −1) and "sip" (the network
# follows the per-sample control targets of ``updates.sip_control_step_kernel`` with Adam
# on the proxy loss mean_b ½‖u_b − ũ_b‖²), one step ``updates.control_update_kernel``.
# The test loss is logged between chunks.
# ---------------------------------------------------------------------------------------

CONTROL_METHODS = ("adam", "svd", "sip")


@functools.lru_cache(maxsize=None)
def control_chunk_program(network, physics, template, method, mode, batch_size, chunk_steps,
                          train_shapes, test_shapes):
    """The compiled chunk of ``train_control_network`` (``sampled_chunk`` of
    ``control_update_kernel``, then {"train_loss": mean batch loss, "test_loss"}).
    Cached per structure (network, physics, parameter template, method, sizes), so
    settings, seeds and initial networks reuse it. ``template`` is a hashable (tree
    structure, shapes) key from ``control_template``."""
    params, unravel = ravel_pytree(_template_params(template))

    def update(params, opt_state, xb, yb, hyper):
        return control_update_kernel(network, physics, method, mode, batch_size, unravel,
                                     params, opt_state, xb, yb, hyper)

    def metrics(params, hyper, losses):
        return {"train_loss": jnp.mean(losses),
                "test_loss": _control_test_loss(network, physics, unravel, params,
                                                hyper["x_test"], hyper["y_test"])}

    f32 = jax.ShapeDtypeStruct((), jnp.float32)
    inputs = {
        "x_train": jax.ShapeDtypeStruct(train_shapes[0], jnp.float32),
        "y_train": jax.ShapeDtypeStruct(train_shapes[1], jnp.float32),
        "x_test": jax.ShapeDtypeStruct(test_shapes[0], jnp.float32),
        "y_test": jax.ShapeDtypeStruct(test_shapes[1], jnp.float32),
        **{name: f32 for name in ("kappa", "tau", "eta", "lr")},
    }
    state = initial_state(params, optax.adam(1e-3).init(params), 0)
    return compile_chunk(sampled_chunk(update, metrics, batch_size, chunk_steps), state,
                         inputs), unravel


def _control_test_loss(network, physics, unravel, params, x_test, y_test):
    y = jax.vmap(lambda x: physics(x, network(unravel(params), x)))(x_test)
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
    flat, _ = ravel_pytree(params)
    program = _control_test_program(network, physics, control_template(params))
    return float(program(flat, jnp.asarray(x_test), jnp.asarray(y_test)))


def _check_control_data(data):
    if not isinstance(data, (tuple, list)) or len(data) != 4:
        raise ValueError("data must be (x_train, y_train, x_test, y_test)")
    x_train, y_train, x_test, y_test = (jnp.asarray(a, dtype=jnp.float32) for a in data)
    for label, (xs, ys) in (("train", (x_train, y_train)), ("test", (x_test, y_test))):
        if xs.ndim < 2 or ys.ndim != 2 or xs.shape[0] != ys.shape[0] or xs.shape[0] < 1:
            raise ValueError(f"x_{label} (N, ...) and y_{label} (N, d_y) must hold the same "
                             f"number N >= 1 of samples, got {xs.shape} and {ys.shape}")
        check_finite(f"x_{label}", xs)
        check_finite(f"y_{label}", ys)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def train_control_network(network, physics, params, data, method, *, steps, chunk_steps,
                          batch_size, seed=0, kappa=-0.5, tau=1e-6, eta=1.0, mode="truncate",
                          lr=3e-4, time_budget=None, max_steps=None, name=None, progress=None):
    """Train a control network u = network(params, x) through ``physics(x, u) -> y``.

    data = (x_train, y_train, x_test, y_test); the per-sample loss is ‖y − y*‖², the
    update uses the batch mean over ``batch_size`` samples drawn uniformly with
    replacement (seeded by ``seed``). ``method``: "adam" (optax Adam, learning rate
    ``lr``), "svd" (Δθ = −η V Λ^κ Uᵀ g on the joint Jacobian ∂y/∂θ of the batch, g the
    gradient of the batch-mean loss, relative cut-off τ; HIG κ = −½, Gauss-Newton κ = −1)
    or "sip" (control targets from ``updates.sip_control_step_kernel`` with cut-off τ,
    then Adam with ``lr`` on the proxy loss). Runs ``steps`` steps in compiled chunks of
    ``chunk_steps`` (``train_chunks``: compiled before the clock starts, the test loss
    logged after each); with ``time_budget`` (seconds) it goes on until that much measured
    training time has passed or ``max_steps`` steps are done. ``progress`` (optional) is
    called with (steps done, elapsed seconds) after every chunk.

    Returns ``train_chunks``' layout: "step", "time", "params" (the final flat θ),
    "test_loss", "train_loss" (mean batch loss over each chunk; NaN at the start). Raises
    ``TrainingDiverged`` naming the method and the first step whose loss or parameters
    are not finite.
    """
    check_callable("network", network)
    check_callable("physics", physics)
    check_choice("method", method, CONTROL_METHODS)
    check_seed("seed", seed)
    if name is not None and not isinstance(name, str):
        raise ValueError(f"name must be None or a string naming the run, got {name!r}")
    check_optional(check_callable, "progress", progress)
    batch_size = check_positive_int("batch_size", batch_size)
    steps, chunk_steps, time_budget, max_steps = check_budget(steps, chunk_steps, time_budget,
                                                              max_steps)
    if method == "svd":
        kappa, tau, eta = check_svd_setting(kappa, tau, eta, mode)
    else:
        _, tau, eta = check_svd_setting(-1.0, tau, eta, mode)
        lr = check_positive("lr", lr)
    inputs = _check_control_data(data)
    flat, _ = ravel_pytree(params)
    check_finite("params", flat)
    chunk, _ = control_chunk_program(
        network, physics, control_template(params), method, mode, batch_size, chunk_steps,
        (inputs["x_train"].shape, inputs["y_train"].shape),
        (inputs["x_test"].shape, inputs["y_test"].shape))
    inputs.update({k: jnp.float32(v) for k, v in
                   (("kappa", kappa), ("tau", tau), ("eta", eta), ("lr", lr))})
    test0 = control_test_loss(network, physics, params, inputs["x_test"], inputs["y_test"])
    return train_chunks(chunk, initial_state(flat, optax.adam(lr).init(flat), seed), inputs,
                        {"train_loss": np.nan, "test_loss": test0}, chunk_steps=chunk_steps,
                        steps=steps, time_budget=time_budget, max_steps=max_steps,
                        label=name or method, progress=progress, finite="test_loss")


# ---------------------------------------------------------------------------------------
# sip-heat: training a U-Net to invert heat conduction
#
# On XLA's CPU backend a convolutional training step runs far slower inside lax.scan
# than jitted on its own (notes: ~20×), so this loop does not use ``run_chunks``: one
# step is jitted and a Python loop drives it; ``heat_step_program`` can also build an
# unrolled chunk (lax.fori_loop with unroll=True) or a lax.scan chunk so that the choice
# can be measured. Physics and inverse run in float64 (64-bit types are enabled while
# tracing and calling), the network and the optimiser in float32. The optimiser is the
# page's (``heat_experiments.heat_optimizer``).
# ---------------------------------------------------------------------------------------

from .models import unet_apply_kernel  # noqa: E402
from .physics import (check_heat_grid, heat_log_kernel, heat_loss_kernel,  # noqa: E402
                      heat_physics_kernel)
from .updates import HEAT_INVERSES, heat_x_direction_kernel  # noqa: E402

HEAT_METHODS = ("SIP", "Adam", "SGD")
HEAT_LOOPS = ("jit", "unroll", "scan")
# The x-space direction each method pulls the network's output along
# (``updates.heat_x_direction_kernel``); SIP's inverse is a traced switch, so SIP with
# either inverse and Adam share one compiled program.
HEAT_DIRECTIONS = ("gradient", *HEAT_INVERSES)


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


def heat_direction_kernel(x, y_target, nu_t, direction):
    """``updates.heat_x_direction_kernel`` with the heat equation's physics at νt and the
    inverses of HEAT_DIRECTIONS[1:]: Δx (B, n, n) float64 for direction 0 (gradient), 1,
    2 (SIP's inverses)."""
    log_kernel = heat_log_kernel(x.shape[-1], nu_t)
    inverses = [functools.partial(HEAT_INVERSES[name], log_kernel=log_kernel)
                for name in HEAT_DIRECTIONS[1:]]
    return heat_x_direction_kernel(x, y_target, direction,
                                   functools.partial(heat_physics_kernel, nu_t=nu_t),
                                   functools.partial(heat_loss_kernel, nu_t=nu_t), inverses)


def _check_optimizer(optimizer):
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise ValueError(f"optimizer must be an optax GradientTransformation such as "
                         f"heat_experiments.heat_optimizer('Adam', 8), got "
                         f"{type(optimizer).__name__}")
    return optimizer


@functools.lru_cache(maxsize=None)
def heat_step_program(optimizer, nu_t, loop="jit", chunk=1):
    """A compiled training program (cached per optimizer object and setting): (params,
    opt_state, x_true, direction) -> (params, opt_state, y_losses). x_true holds ``chunk``
    batches of ground truths, (chunk, B, n, n) float64; direction indexes HEAT_DIRECTIONS;
    y_losses are the batch losses Σ_b ½‖P(x_b) − y*_b‖² before each step, (chunk,).
    ``loop``: "jit" (the chunk as a Python-unrolled sequence; one step with chunk = 1),
    "unroll" (lax.fori_loop, unroll=True) or "scan" (lax.scan). Call it with 64-bit types
    enabled (``jax.enable_x64(True)``)."""
    _check_optimizer(optimizer)
    check_choice("loop", loop, HEAT_LOOPS)
    chunk = check_positive_int("chunk", chunk)

    def one(params, opt_state, x_true, direction):
        y_target = heat_physics_kernel(x_true, nu_t)
        x, pullback = jax.vjp(lambda p: heat_prediction_kernel(p, y_target), params)
        y_loss = jnp.sum(heat_loss_kernel(x, y_target, nu_t))
        delta_x = heat_direction_kernel(x, y_target, nu_t, direction)
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

    return program


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


def _check_heat_run(method, inverse, nu_t, steps, log_every, chunk, progress, batches, x_val):
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
    return check_heat_grid("x_val", x_val)


def train_heat(method, params, batches, x_val, *, optimizer, steps, log_every, nu_t,
               inverse="bayes", chunk=1, loop="jit", progress=None):
    """Train ``params`` with ``method`` and ``optimizer`` (optax) for ``steps`` steps on
    ``batches(step)`` -> the float64 ground truths (B, n, n) of that step (the same
    sequence for every method), evaluating on x_val (N, n, n), the training batches' grid,
    every ``log_every`` steps. A Python loop drives a compiled program of ``chunk`` steps.
    Stops with ``TrainingDiverged`` naming the step and method at a non-finite loss.

    Returns the layout of every loop: {"step", "time" (seconds of training steps,
    cumulative; compilation excluded), "params", "x_l1", "x_l2", "y_l2" (validation, per
    log), "train_y_l2" (per step), "x_val_pred" (the final predictions)}."""
    x_val = _check_heat_run(method, inverse, nu_t, steps, log_every, chunk, progress, batches,
                            x_val)
    _check_optimizer(optimizer)
    with jax.enable_x64(True):
        first = check_heat_grid("batch of step 0", batches(0))
        if x_val.ndim != 3 or x_val.shape[0] < 1 or x_val.shape[1:] != first.shape[1:]:
            raise ValueError(f"x_val must be a batch (N, {first.shape[-2]}, {first.shape[-1]}) "
                             f"of N >= 1 grids of the training batches' size, got shape "
                             f"{x_val.shape}")
        x_val = jnp.asarray(x_val, jnp.float64)
        program = heat_step_program(optimizer, float(nu_t), loop, chunk)
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
