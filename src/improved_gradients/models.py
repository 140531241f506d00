"""Small multilayer perceptrons in plain JAX.

Parameters are a list of ``(W, b)`` pairs with W of shape (fan_in, fan_out) and b of
shape (fan_out,), so they form a pytree that optax and ``jax.flatten_util`` handle.
"""

import jax
import jax.numpy as jnp
import numpy as np

from ._checks import check_array, check_callable, check_key, check_positive_int


def _check_params(params, x):
    """Static checks of an MLP call (free under jit): params a non-empty list of (W, b)
    pairs with W (fan_in, fan_out), b (fan_out,) chaining up, x (..., fan_in) of floats."""
    if not isinstance(params, (list, tuple)) or not params:
        raise ValueError(f"params must be a non-empty list of (W, b) pairs, got {type(params).__name__}")
    fan = None
    for i, layer in enumerate(params):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise ValueError(f"params[{i}] must be a pair (W, b), got {type(layer).__name__}")
        w, b = layer
        if len(np.shape(w)) != 2 or np.shape(b) != np.shape(w)[1:] or (fan is not None and np.shape(w)[0] != fan):
            raise ValueError(f"params[{i}] = (W, b) must have shapes (fan_in, fan_out) and (fan_out,) "
                             f"chaining up, got {np.shape(w)} and {np.shape(b)}")
        fan = np.shape(w)[1]
    return check_array("x", x, (..., np.shape(params[0][0])[0]))


def _check_sizes(sizes):
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise ValueError(f"sizes must be a list of layer sizes such as [1, 7, 2], got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output size, got {sizes}")
    for i, size in enumerate(sizes):
        check_positive_int(f"sizes[{i}]", size)


def init_mlp_torch(key, sizes):
    """PyTorch's ``nn.Linear`` default: W, b ~ U(−1/√fan_in, 1/√fan_in) for every layer."""
    check_key("key", key)
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
    check_key("key", key)
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
    """Apply the MLP to x of shape (..., fan_in): hidden layers use ``activation``, the last is linear.

    Used inside jitted loops: the structure of params and the shape of x are checked
    statically (at trace time), the finiteness of x only for concrete input."""
    x = jnp.asarray(_check_params(params, x))
    check_callable("activation", activation)
    for w, b in params[:-1]:
        x = activation(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def mlp_hidden(params, x, activation=jax.nn.relu):
    """Activations of every hidden layer for x of shape (..., fan_in), as a list."""
    x = jnp.asarray(_check_params(params, x))
    check_callable("activation", activation)
    hidden = []
    for w, b in params[:-1]:
        x = activation(x @ w + b)
        hidden.append(x)
    return hidden
