"""The sin benchmark's training loop of the sip-training page: a whole run (all steps) is
one jitted ``lax.scan`` of chunks of ``lax.scan`` steps, and a sweep ``vmap``s it over the
settings (ξ, φ) and shards the settings across every JAX device; only metrics are logged.

It does not use ``training.run_chunks``: that loop drives one run chunk by chunk from
Python (to stop at a time budget), while a sweep compiles every step of every setting
into one vectorised, sharded program, which is what makes the page's budget affordable.
"""

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._checks import (check_array, check_choice, check_key, check_positive,
                       check_positive_int, check_seed, is_traced)
from ..errors import TrainingDiverged
from ..models import init_mlp_torch, mlp_apply
from ..physics import check_sin_setting, sin_loss_kernel, x_distance_kernel
from ..updates import SIP_PROXY_NORMS, sip_inverse_step_kernel, sip_proxy_loss

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
    if not is_traced(xi):
        check_positive("xi (the conditioning)", xi)
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
    check_key("key", key)
    batch_size = check_positive_int("batch_size", batch_size)
    return jax.random.uniform(key, (batch_size, 2), minval=-1.0, maxval=1.0)


def sin_batch_loss(method, params, y_target, xi, phi_deg, proxy="l1"):
    """The loss the network's optimiser differentiates, and the prediction x: (B, 2).

    Baselines: mean_b ½‖P(x_b) − y*_b‖² with x = f(y*; θ). SIP: the proxy loss
    ``sip_proxy_loss(x, x + Δx, proxy)`` with Δx from ``sip_inverse_step``.
    """
    check_choice("method", method, SIN_METHODS)
    check_choice("proxy", proxy, SIP_PROXY_NORMS)
    check_sin_setting(xi, phi_deg)
    y_target = check_array("y_target", y_target, (None, 2), min_size=1)
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
    seed = check_seed("seed", seed)
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
    xis = np.atleast_1d(np.asarray(check_array("xis", xis, finite=False), dtype=np.float32))
    phis = np.atleast_1d(np.asarray(check_array("phis", phis), dtype=np.float32))
    if not np.all(np.isfinite(xis) & (xis > 0)):
        raise ValueError(f"xis (the conditionings ξ) must be positive and finite, got {xis}")
    if xis.ndim != 1 or xis.shape != phis.shape or xis.size == 0:
        raise ValueError(
            f"xis and phis must be non-empty 1-D arrays of equal length, got {xis.shape} and {phis.shape}"
        )
    check_sin_setting(xis, phis)
    return xis, phis, steps, log_every


def _sweep_arguments(method, xis, phis, steps, log_every, proxy, seed, batch_size):
    xis, phis, steps, log_every = _check_sweep_args(method, xis, phis, steps, log_every, proxy)
    batch_size = check_positive_int("batch_size", batch_size)
    seed = check_seed("seed", seed)
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
            raise TrainingDiverged(
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
    the measured wall-clock seconds per step (compilation excluded). Each timed run is
    checked: a run whose loss became non-finite raises ``TrainingDiverged``."""
    check_sin_setting(xi, phi_deg)
    compiled, args, _ = sin_sweep_program(method, [xi], [phi_deg], steps, steps, proxy=proxy)

    def seconds_per_step():
        start = time.perf_counter()
        output = jax.block_until_ready(compiled(*args))
        seconds = (time.perf_counter() - start) / steps
        _collect_sweep(method, output, 1, xi, phi_deg)  # a diverged run is no timing
        return seconds

    return seconds_per_step

