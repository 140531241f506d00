"""sip-heat: 2-D heat conduction on a periodic grid, solved exactly in Fourier space.

y = P(x) = Re IFFT2( FFT2(x) · exp(−νt (2π)² |f|²) ), f = fftfreq(n) per axis (cycles
per cell). The physics runs in float64: the corner frequency of a 64 × 64 grid at
νt = 8 is damped by e^{−158}, far below float32's range. The entry points enable
64-bit types for their own computation (``jax.enable_x64``); a caller that jits the
kernels itself must trace them with 64-bit types enabled. The names are also
importable from ``physics``.
"""

import jax.numpy as jnp
import numpy as np

from .._checks import (check_array, check_finite, check_number, check_positive,
                       check_positive_int, check_shape)

HEAT_GRID = 64
HEAT_NU_T = 8.0
HEAT_COUNT_RANGE = (4, 10)  # active rectangles per sample, int(4 + 7u), u ~ U[0, 1)
HEAT_MAX_COUNT = 20  # the generator accepts count ranges within [1, HEAT_MAX_COUNT]
HEAT_MAX_HALF_SIZE = 10.0  # half-size per axis ~ U[0, 10)
HEAT_CENTRE_MARGIN = 0.1  # centres ~ U[0.1 n, 0.9 n] per axis ([6.4, 57.6] for n = 64)
HEAT_EDGE_WIDTH = float(np.sqrt(0.5))  # soft edge: clip(0.5 − d / r, 0, 1), r = √2 / 2


def heat_log_kernel(n, nu_t):
    """νt (2π)² |f|² on an n × n grid (numpy float64, shape (n, n)), f = fftfreq(n) per
    axis: the exponent of the damping of each Fourier coefficient (≥ 0, 0 at f = 0).

    A kernel of the heat physics, but computed in NumPy from Python numbers (the grid size
    and νt are static when the kernels are traced), so it checks them: n an integer >= 1,
    νt a finite number >= 0 (ValueError otherwise); this costs nothing inside jit."""
    n = check_positive_int("n", n)
    check_number("nu_t", nu_t, 0.0)
    f = np.fft.fftfreq(n)
    return nu_t * (2 * np.pi) ** 2 * (f[:, None] ** 2 + f[None, :] ** 2)


def heat_physics_kernel(x, nu_t):
    """y = Re IFFT2(FFT2(x) · exp(−νt (2π)²|f|²)) over the last two axes.

    x: (..., n, n), float64 (trace with 64-bit types enabled); nu_t: a Python float.
    Assumes a square periodic grid of unit cells; no validation.
    """
    damping = np.exp(-heat_log_kernel(x.shape[-1], nu_t))
    return jnp.real(jnp.fft.ifft2(jnp.fft.fft2(x) * damping))


def heat_loss_kernel(x, y_target, nu_t):
    """½ Σ_cells (P(x) − y*)² per sample; x, y_target: (..., n, n) -> (...)."""
    return 0.5 * jnp.sum((heat_physics_kernel(x, nu_t) - y_target) ** 2, axis=(-2, -1))


def check_heat_grid(name, value, dtype=np.float64):
    """Validate a batch of square 2-D grids (..., n, n), n ≥ 2, finite, named ``name`` in
    the messages; returns an array of ``dtype``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be the non-empty name of the checked argument, got {name!r}")
    check_array(name, value, finite=False)
    array = np.asarray(value, dtype=dtype)
    if array.ndim < 2:
        raise ValueError(f"{name} must be a 2-D grid or a batch of grids (..., n, n), "
                         f"got shape {array.shape}")
    if array.shape[-1] != array.shape[-2] or array.shape[-1] < 2:
        raise ValueError(f"{name} must be square grids (..., n, n) with n >= 2, "
                         f"got shape {array.shape}")
    check_finite(name, array)
    return array


def heat_physics(x, nu_t=HEAT_NU_T):
    """The heat solution y = P(x) after time t (νt = ``nu_t`` > 0) of the initial state(s)
    x: (..., n, n), periodic. Returns a float64 numpy array of x's shape."""
    import jax

    nu_t = check_positive("nu_t", nu_t)
    x = check_heat_grid("x", x)
    with jax.enable_x64(True):
        return np.asarray(heat_physics_kernel(jnp.asarray(x), nu_t))


def heat_loss(x, y_target, nu_t=HEAT_NU_T):
    """½ Σ_cells (P(x) − y*)² per sample (float64 numpy, shape x.shape[:-2])."""
    import jax

    nu_t = check_positive("nu_t", nu_t)
    x = check_heat_grid("x", x)
    y_target = check_heat_grid("y_target", y_target)
    check_shape("y_target", y_target, x.shape)
    with jax.enable_x64(True):
        return np.asarray(heat_loss_kernel(jnp.asarray(x), jnp.asarray(y_target), nu_t))


def heat_damping(n=HEAT_GRID, nu_t=HEAT_NU_T):
    """(|f|, exp(−νt (2π)²|f|²)) per Fourier coefficient of an n × n grid, both (n, n)."""
    n = check_positive_int("n", n)
    nu_t = check_positive("nu_t", nu_t)
    f = np.fft.fftfreq(n)
    radius = np.hypot(f[:, None], f[None, :])
    return radius, np.exp(-heat_log_kernel(n, nu_t))


def radial_power_spectrum(e):
    """Mean power |FFT2(e)|² / n² of the grids e: (..., n, n), binned by the radial frequency
    |f| in bins of width 1/n (cycles per cell). Returns (bin centres, power per bin), both
    of length ⌈n/√2⌉; the mean runs over every sample and every coefficient in a bin."""
    e = check_heat_grid("e", e)
    n = e.shape[-1]
    power = np.abs(np.fft.fft2(e)) ** 2 / n**2
    power = power.reshape(-1, n, n).mean(axis=0)
    f = np.fft.fftfreq(n)
    index = np.rint(np.hypot(f[:, None], f[None, :]) * n).astype(int)
    counts = np.bincount(index.ravel())
    sums = np.bincount(index.ravel(), weights=power.ravel())
    return np.arange(len(counts)) / n, sums / np.maximum(counts, 1)


def _check_seed(seed):
    items = seed if isinstance(seed, (tuple, list)) else (seed,)
    if not items or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0
                        for s in items):
        raise ValueError(f"seed must be an integer >= 0 or a tuple of them, got {seed!r}")
    return tuple(int(s) for s in items)


def heat_rectangles(seed, batch_size, n=HEAT_GRID, count_range=HEAT_COUNT_RANGE,
                    max_half_size=HEAT_MAX_HALF_SIZE):
    """Ground-truth initial states: sums of soft-edged, axis-aligned rectangles.

    Per sample k ~ int(lo + (hi − lo + 1) u) active rectangles (``count_range`` = (lo, hi),
    4–10 by default); each has a centre per axis ~ U[0.1 n, 0.9 n], a half-size per axis
    ~ U[0, ``max_half_size``), a strength ~ U[0, 1), and is clipped to [0, n]. A cell
    with centre p gets clip(0.5 − d(p)/r, 0, 1) · strength, d the signed L∞ distance to
    the box surface (negative inside), r = √2/2: a soft edge about one cell wide.
    Overlapping rectangles add. ``seed``: an integer or a tuple of integers (e.g.
    (seed, step) for the batch of one training step). Returns float64 (batch_size, n, n).
    """
    seed = _check_seed(seed)
    batch_size = check_positive_int("batch_size", batch_size)
    n = check_positive_int("n", n)
    if n < 8:
        raise ValueError(f"n must be at least 8 cells, got {n}")
    try:
        lo, hi = (int(c) for c in count_range)
    except (TypeError, ValueError):
        raise ValueError(f"count_range must be a pair of integers, got {count_range!r}") from None
    if not 1 <= lo <= hi <= HEAT_MAX_COUNT:
        raise ValueError(f"count_range must satisfy 1 <= low <= high <= {HEAT_MAX_COUNT}, "
                         f"got {count_range!r}")
    max_half_size = check_positive("max_half_size", max_half_size)
    if max_half_size > n / 2:
        raise ValueError(f"max_half_size must lie in (0, n/2] = (0, {n / 2:g}], "
                         f"got {max_half_size!r}")
    rng = np.random.default_rng(seed)
    count = (lo + (hi - lo + 1) * rng.random(batch_size)).astype(int)
    active = np.arange(hi)[None, :] < count[:, None]  # (B, hi)
    centre = rng.uniform(HEAT_CENTRE_MARGIN * n, (1 - HEAT_CENTRE_MARGIN) * n, (batch_size, hi, 2))
    half = rng.uniform(0.0, max_half_size, (batch_size, hi, 2))
    strength = rng.random((batch_size, hi)) * active
    low = np.clip(centre - half, 0.0, n)
    high = np.clip(centre + half, 0.0, n)
    mid, size = (low + high) / 2, (high - low) / 2
    cells = np.arange(n) + 0.5
    # signed distance per axis to the box's faces, |p − mid| − half-size: (B, hi, n). The
    # L∞ distance is the larger of the two, and the edge profile falls with the distance,
    # so a cell's value is the smaller of the two one-axis profiles.
    d_row = np.abs(cells[None, None, :] - mid[..., 0:1]) - size[..., 0:1]
    d_col = np.abs(cells[None, None, :] - mid[..., 1:2]) - size[..., 1:2]
    v_row = np.clip(0.5 - d_row / HEAT_EDGE_WIDTH, 0.0, 1.0) * strength[..., None]
    v_col = np.clip(0.5 - d_col / HEAT_EDGE_WIDTH, 0.0, 1.0) * strength[..., None]
    return np.minimum(v_row[..., :, None], v_col[..., None, :]).sum(axis=1)
