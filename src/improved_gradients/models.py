"""Small multilayer perceptrons in plain JAX.

Parameters are a list of ``(W, b)`` pairs with W of shape (fan_in, fan_out) and b of
shape (fan_out,), so they form a pytree that optax and ``jax.flatten_util`` handle.
"""

import jax
import jax.numpy as jnp

from ._checks import check_positive_int


def _check_sizes(sizes):
    if len(sizes) < 2:
        raise ValueError(f"an MLP needs at least an input and an output size, got {sizes}")
    for i, size in enumerate(sizes):
        check_positive_int(f"sizes[{i}]", size)


def init_mlp_torch(key, sizes):
    """PyTorch's ``nn.Linear`` default: W, b ~ U(−1/√fan_in, 1/√fan_in) for every layer."""
    _check_sizes(sizes)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, k_w, k_b = jax.random.split(key, 3)
        bound = 1.0 / jnp.sqrt(fan_in)
        params.append(
            (
                jax.random.uniform(k_w, (fan_in, fan_out), minval=-bound, maxval=bound),
                jax.random.uniform(k_b, (fan_out,), minval=-bound, maxval=bound),
            )
        )
    return params


def init_mlp_glorot(key, sizes):
    """Keras' default: Glorot-uniform W ~ U(±√(6/(fan_in+fan_out))) and zero biases."""
    _check_sizes(sizes)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, k_w = jax.random.split(key)
        bound = jnp.sqrt(6.0 / (fan_in + fan_out))
        params.append(
            (
                jax.random.uniform(k_w, (fan_in, fan_out), minval=-bound, maxval=bound),
                jnp.zeros((fan_out,)),
            )
        )
    return params


def mlp_apply(params, x, activation=jax.nn.relu):
    """Apply the MLP to x of shape (..., fan_in): hidden layers use ``activation``, the last is linear."""
    for w, b in params[:-1]:
        x = activation(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def mlp_hidden(params, x, activation=jax.nn.relu):
    """Activations of every hidden layer for x of shape (..., fan_in), as a list."""
    hidden = []
    for w, b in params[:-1]:
        x = activation(x @ w + b)
        hidden.append(x)
    return hidden
