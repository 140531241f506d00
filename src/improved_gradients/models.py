"""Small multilayer perceptrons in plain JAX.

Parameters are a list of ``(W, b)`` pairs with W of shape (fan_in, fan_out) and b of
shape (fan_out,), so they form a pytree that optax and ``jax.flatten_util`` handle.

Every initialiser passes its parameters through ``perturb_initial``: unchanged in every
ordinary run, perturbed by a few ulps under ``IMPROVED_GRADIENTS_PERTURBATION`` (the
simulation of another CPU that the tolerances are measured with; see ``machine``).
"""

import jax
import jax.numpy as jnp
import numpy as np

from . import machine
from ._checks import (check_array, check_callable, check_floating_tree, check_key,
                      check_positive_int)

# About 2.5 float32 ulps (2⁻²³ ≈ 1.19e-7) per parameter: far below anything a page prints
# about an initial network, and enough to send a chaotic training run down another path.
PERTURBATION_SCALE = 3e-7


def perturb_initial(params, key):
    """θ ↦ θ·(1 + PERTURBATION_SCALE·ε) with ε ~ N(0, 1) per entry, drawn from ``key``
    folded with the seed of ``machine.perturbation_seed()``; ``params`` unchanged (the same
    object) where no perturbation is set. Zeros stay zero. params: any pytree of floats."""
    check_floating_tree("params", params)
    check_key("key", key)
    seed = machine.perturbation_seed()
    if seed is None:
        return params
    leaves, treedef = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.fold_in(key, seed), len(leaves))
    return treedef.unflatten([
        leaf * (1 + PERTURBATION_SCALE * jax.random.normal(k, jnp.shape(leaf), leaf.dtype))
        for leaf, k in zip(leaves, keys)
    ])


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
    params, init_key = [], key
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, k_w, k_b = jax.random.split(key, 3)
        bound = 1.0 / jnp.sqrt(fan_in)
        params.append(
            (
                jax.random.uniform(k_w, (fan_in, fan_out), minval=-bound, maxval=bound),
                jax.random.uniform(k_b, (fan_out,), minval=-bound, maxval=bound),
            )
        )
    return perturb_initial(params, init_key)


def init_mlp_glorot(key, sizes):
    """Keras' default: Glorot-uniform W ~ U(±√(6/(fan_in+fan_out))) and zero biases."""
    check_key("key", key)
    _check_sizes(sizes)
    params, init_key = [], key
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, k_w = jax.random.split(key)
        bound = jnp.sqrt(6.0 / (fan_in + fan_out))
        params.append(
            (
                jax.random.uniform(k_w, (fan_in, fan_out), minval=-bound, maxval=bound),
                jnp.zeros((fan_out,)),
            )
        )
    return perturb_initial(params, init_key)


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


# ---------------------------------------------------------------------------------------
# Page sip-heat: a small U-Net (flax linen) for 2-D fields
# ---------------------------------------------------------------------------------------

import flax.linen as nn  # noqa: E402

# PyTorch's default for convolutions (kaiming_uniform with a = √5): U(±1/√fan_in),
# fan_in = in_channels · kernel height · kernel width. Biases start at zero.
TORCH_CONV_INIT = nn.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")
UNET_PADDINGS = ("SAME", "CIRCULAR")


class UNet(nn.Module):
    """U-Net: ``levels`` resolutions with ``filters`` channels each. Every block is two
    (3 × 3 convolution, BatchNorm, ReLU); 2 × 2 max-pooling down, bilinear up-sampling
    (half-pixel centres) with the skip concatenated before the block up; a final 1 × 1
    convolution to one channel. BatchNorm always normalises with the statistics of the
    batch it sees (as in the sources, which never switch it to evaluation mode).
    Input (B, n, n, C), n divisible by 2^(levels − 1); output (B, n, n, 1), float32."""

    levels: int = 4
    filters: int = 16
    padding: str = "SAME"

    def _block(self, h):
        for _ in range(2):
            h = nn.Conv(self.filters, (3, 3), padding=self.padding,
                        kernel_init=TORCH_CONV_INIT, bias_init=nn.initializers.zeros)(h)
            h = nn.BatchNorm(use_running_average=False, momentum=0.9, epsilon=1e-5)(h)
            h = nn.relu(h)
        return h

    @nn.compact
    def __call__(self, x):
        h = self._block(x)
        skips = []
        for _ in range(self.levels - 1):
            skips.append(h)
            h = self._block(nn.max_pool(h, (2, 2), strides=(2, 2)))
        for skip in reversed(skips):
            h = jax.image.resize(h, skip.shape[:-1] + h.shape[-1:], "bilinear")
            h = self._block(jnp.concatenate([skip, h], axis=-1))
        return nn.Conv(1, (1, 1), kernel_init=TORCH_CONV_INIT, bias_init=nn.initializers.zeros)(h)


def _unet(levels, filters, padding):
    check_positive_int("levels", levels)
    check_positive_int("filters", filters)
    if padding not in UNET_PADDINGS:
        raise ValueError(f"unknown padding {padding!r}; known: {', '.join(UNET_PADDINGS)}")
    return UNet(levels=levels, filters=filters, padding=padding)


def unet_init(seed, n=64, levels=4, filters=16, padding="SAME"):
    """Parameters (float32 pytree, flax's "params" collection) of a U-Net for n × n fields,
    initialised from ``seed`` (PyTorch-style convolutions, zero biases)."""
    model = _unet(levels, filters, padding)
    n = check_positive_int("n", n)
    if n % 2 ** (levels - 1):
        raise ValueError(f"n must be divisible by 2^(levels-1) = {2 ** (levels - 1)}, got {n}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    dummy = jnp.zeros((2, n, n, 1), jnp.float32)
    # one compiled call instead of one dispatch (and compilation) per layer
    key = jax.random.PRNGKey(int(seed))
    return perturb_initial(jax.jit(model.init)(key, dummy)["params"], key)


def unet_apply_kernel(params, y, levels=4, filters=16, padding="SAME"):
    """The network on fields y: (B, n, n) float -> (B, n, n) float32, BatchNorm on the
    statistics of this batch (the running averages it would keep are discarded).
    No validation."""
    model = UNet(levels=levels, filters=filters, padding=padding)
    out, _ = model.apply({"params": params}, y.astype(jnp.float32)[..., None],
                         mutable=["batch_stats"])
    return out[..., 0]


def parameter_count(params):
    """Number of trainable numbers in a parameter pytree (of arrays, or of the shapes that
    ``jax.eval_shape`` gives)."""
    leaves = jax.tree_util.tree_leaves(params)
    if not leaves or any(getattr(leaf, "dtype", None) is None
                         or np.dtype(leaf.dtype).kind != "f" for leaf in leaves):
        raise ValueError(f"params must be a non-empty pytree of floating-point arrays, got "
                         f"{type(params).__name__}")
    return int(sum(np.prod(jnp.shape(leaf)) for leaf in jax.tree_util.tree_leaves(params)))
