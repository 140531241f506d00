"""Forward problems ("physics") used by the chapter, one section per problem:

- toy-comparison: the toy y(x) = (x₁, x₂²) with the loss L(y) = ‖y‖²;
- sip-training: the SIP sin benchmark;
- hig-toy: the HIG toy P(z) = (z1, λ z2);
- scale-invariance: the crux P(x) = (x1, α x2), its inverse and a composition;
- hig-oscillators: the coupled oscillators;
- sip-heat: 2-D heat conduction on a periodic grid (the sub-module ``physics.heat``,
  its names re-exported here).
"""

import jax.numpy as jnp
import numpy as np
import scipy.optimize

from .._checks import (check_array, check_finite, check_int, check_positive,
                       check_positive_int, check_seed, check_shape, is_traced)

# ---------------------------------------------------------------------------------------
# toy-comparison: the toy problem y(x) = (x₁, x₂²), L(y) = y₁² + y₂²
# ---------------------------------------------------------------------------------------


def toy_physics(x):
    """y(x) = (x₁, x₂²); x: shape (2,) -> y: shape (2,)."""
    x = check_array("x", x, (2,))
    return jnp.stack([x[0], x[1] ** 2])


def toy_loss_y(y):
    """L(y) = y₁² + y₂²; y: shape (2,) -> scalar."""
    y = check_array("y", y, (2,))
    return jnp.sum(y**2)


def toy_loss_x(x):
    """L(y(x)); x: shape (2,) -> scalar."""
    x = check_array("x", x, (2,))
    return toy_loss_y(toy_physics(x))


def toy_inverse(y):
    """Analytic inverse y⁻¹(y) = (y₁, √y₂) on the branch x₂ ≥ 0; y: shape (2,).

    Raises ValueError outside its domain (y₂ < 0), where √y₂ would be NaN.
    """
    check_shape("y", y, (2,))
    check_finite("y", y)
    if float(y[1]) < 0:
        raise ValueError(f"toy_inverse needs y1 >= 0 (x1 = sqrt(y1)), got y = {np.asarray(y)}")
    y = jnp.asarray(y)
    return jnp.stack([y[0], jnp.sqrt(y[1])])


def toy_lbfgs_inverse(y, x_start, max_iterations=15000, tolerance=1e-8):
    """Numerical inverse: argmin_x ‖y(x) − y‖² by L-BFGS-B with finite differences.

    The solve runs in float64 (a float32 start point makes SciPy's finite differences
    too coarse, and the solver stops early). Raises ValueError if L-BFGS-B does not
    report convergence, or if the remaining mismatch exceeds ``tolerance``·max(1, ‖y‖²)
    (no x reproduces y, e.g. y1 < 0). y, x_start: shape (2,) -> x: shape (2,), float64.
    """
    check_shape("y", y, (2,))
    check_shape("x_start", x_start, (2,))
    check_finite("y", y)
    check_finite("x_start", x_start)
    tolerance = check_positive("tolerance", tolerance)
    target = np.asarray(y, dtype=np.float64)

    def mismatch(x):
        return float(np.sum((np.array([x[0], x[1] ** 2]) - target) ** 2))

    x, value, info = scipy.optimize.fmin_l_bfgs_b(
        mismatch, np.asarray(x_start, dtype=np.float64), approx_grad=True,
        maxiter=check_positive_int("max_iterations", max_iterations),
    )
    if info["warnflag"] != 0:
        raise ValueError(
            f"L-BFGS-B inverse did not converge for y = {target}: {info['task']} "
            f"(residual {value:.3g} after {info['nit']} iterations)"
        )
    if value > tolerance * max(1.0, float(np.sum(target**2))):
        raise ValueError(
            f"L-BFGS-B found no x with y(x) = {target}: the best mismatch is {value:.3g} "
            f"at x = {x} (y1 must be >= 0 for an exact solution)"
        )
    return x


# ---------------------------------------------------------------------------------------
# sip-training: the SIP sin benchmark (Holl et al. 2022): y = P(x) = (sin z1, z2),
# z = (γ/ξ · x̂1, γ ξ · x̂2), x̂ = R_φ x, γ = 10
# ---------------------------------------------------------------------------------------

SIN_GLOBAL_SCALE = 10.0


def check_sin_setting(xi, phi_deg):
    """ξ must be a positive finite number and φ a finite number (degrees); scalars or
    arrays (one setting per entry) of real numbers. Trace-safe: under jit/vmap (a traced
    ξ or φ) only the dtypes are checked."""
    if is_traced(xi) or is_traced(phi_deg):
        check_array("xi (the conditioning)", xi, finite=False)
        check_array("phi_deg (the rotation angle in degrees)", phi_deg, finite=False)
        return
    xi = check_array("xi (the conditioning)", xi, finite=False)
    phi_deg = check_array("phi_deg (the rotation angle in degrees)", phi_deg, finite=False)
    for value in np.ravel(np.asarray(xi, dtype=np.float64)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"xi (the conditioning) must be positive and finite, got {xi}")
    if not np.all(np.isfinite(np.asarray(phi_deg, dtype=np.float64))):
        raise ValueError(f"phi_deg (the rotation angle in degrees) must be finite, got {phi_deg}")


def _check_sin_targets(y_target):
    y_target = check_array("y_target", y_target, (..., 2))
    if is_traced(y_target):
        return
    if np.any(np.abs(y_target) > 1):
        raise ValueError(
            "y_target must lie in [-1, 1]^2 (sin z1 = y1 has no solution outside it), "
            f"got values in [{y_target.min():.3g}, {y_target.max():.3g}]"
        )


def _check_broadcast(x, y_target):
    """x and y_target (..., 2) must broadcast against each other (one target per sample)."""
    try:
        np.broadcast_shapes(np.shape(x), np.shape(y_target))
    except ValueError:
        raise ValueError(f"x and y_target must have broadcastable shapes (one target per "
                         f"sample), got {np.shape(x)} and {np.shape(y_target)}") from None


def rotate(x, phi_deg):
    """Counter-clockwise rotation R_φ x = (cos φ x1 − sin φ x2, sin φ x1 + cos φ x2); x: (..., 2).

    A kernel-level helper (used under jit): checks the type and shape of x and the type of
    φ (statically), no values (NaN in, NaN out)."""
    x = check_array("x", x, (..., 2), finite=False)
    check_array("phi_deg", phi_deg, finite=False)
    phi = jnp.deg2rad(phi_deg)
    c, s = jnp.cos(phi), jnp.sin(phi)
    return jnp.stack([c * x[..., 0] - s * x[..., 1], s * x[..., 0] + c * x[..., 1]], axis=-1)


def sin_z_kernel(x, xi, phi_deg):
    """z = (γ/ξ · x̂1, γ ξ · x̂2) with x̂ = R_φ x, γ = 10; x: (..., 2) -> (..., 2).

    Kernel (no value checks): assumes ξ > 0 finite (ξ = 0 divides by zero), finite x, φ."""
    x_rot = rotate(x, phi_deg)
    return jnp.stack(
        [SIN_GLOBAL_SCALE / xi * x_rot[..., 0], SIN_GLOBAL_SCALE * xi * x_rot[..., 1]], axis=-1
    )


def sin_physics_kernel(x, xi, phi_deg):
    """P(x) = (sin z1, z2), z from ``sin_z_kernel``; x: (..., 2) -> (..., 2). Kernel: assumes
    ξ > 0 and finite inputs; the checked entry point is ``sin_physics``."""
    z = sin_z_kernel(x, xi, phi_deg)
    return jnp.stack([jnp.sin(z[..., 0]), z[..., 1]], axis=-1)


def sin_loss_kernel(x, y_target, xi, phi_deg):
    """½‖P(x) − y*‖² per sample; x, y_target: (..., 2) -> (...). Kernel: assumes ξ > 0 and
    finite inputs of broadcastable shapes; the checked entry point is ``sin_loss``."""
    return 0.5 * jnp.sum((sin_physics_kernel(x, xi, phi_deg) - y_target) ** 2, axis=-1)


def sin_closest_solution_kernel(x, y_target, xi, phi_deg):
    """x* = R_{−φ}(z1* ξ/γ, y2*/(γ ξ)) with z1* the solution of sin z1 = y1* nearest to
    z1(x); x, y_target: (..., 2) -> (..., 2). Kernel: assumes ξ > 0, finite inputs and
    y* in [−1, 1]² (outside, arcsin gives NaN); checked: ``sin_closest_solution``."""
    z1 = sin_z_kernel(x, xi, phi_deg)[..., 0]
    branch_a = jnp.arcsin(y_target[..., 0])
    branch_b = jnp.pi - branch_a
    candidates = []
    for branch in (branch_a, branch_b):
        candidates.append(branch + 2 * jnp.pi * jnp.round((z1 - branch) / (2 * jnp.pi)))
    z1_sol = jnp.where(
        jnp.abs(z1 - candidates[0]) <= jnp.abs(z1 - candidates[1]), candidates[0], candidates[1]
    )
    x_rot = jnp.stack(
        [z1_sol * xi / SIN_GLOBAL_SCALE, y_target[..., 1] / (SIN_GLOBAL_SCALE * xi)], axis=-1
    )
    return rotate(x_rot, -phi_deg)


def x_distance_kernel(x, y_target, xi, phi_deg):
    """‖x − x*‖ per sample; (..., 2) -> (...). Kernel with the assumptions of
    ``sin_closest_solution_kernel``; the checked entry point is ``x_distance``."""
    return jnp.linalg.norm(x - sin_closest_solution_kernel(x, y_target, xi, phi_deg), axis=-1)


def sin_physics(x, xi, phi_deg):
    """P_{ξ,φ}(x) = (sin z1, z2), z = (γ/ξ x̂1, γ ξ x̂2), x̂ = R_φ x, γ = 10; x: (..., 2) -> (..., 2)."""
    check_sin_setting(xi, phi_deg)
    x = check_array("x", x, (..., 2))
    return sin_physics_kernel(jnp.asarray(x), xi, phi_deg)


def sin_loss(x, y_target, xi, phi_deg):
    """L(x; y*) = ½‖P_{ξ,φ}(x) − y*‖² per sample; x, y_target: (..., 2) -> (...)."""
    check_sin_setting(xi, phi_deg)
    x, y_target = check_array("x", x, (..., 2)), check_array("y_target", y_target, (..., 2))
    _check_broadcast(x, y_target)
    return sin_loss_kernel(jnp.asarray(x), jnp.asarray(y_target), xi, phi_deg)


def sin_closest_solution(x, y_target, xi, phi_deg):
    """The exact solution of P(x*) = y* closest to x; x, y_target: (..., 2) -> (..., 2).

    In z space z1* = arcsin y1* + 2πn or π − arcsin y1* + 2πn (the one nearest to z1(x)),
    z2* = y2*; then x* = R_{−φ}(z1* ξ/γ, z2*/(γ ξ)). y_target must lie in [−1, 1]².
    """
    check_sin_setting(xi, phi_deg)
    _check_sin_targets(y_target)
    x = check_array("x", x, (..., 2))
    _check_broadcast(x, y_target)
    return sin_closest_solution_kernel(jnp.asarray(x), jnp.asarray(y_target), xi, phi_deg)


def x_distance(x, y_target, xi, phi_deg):
    """‖x − x*‖ with x* the closest exact solution; x, y_target: (..., 2) -> (...)."""
    check_sin_setting(xi, phi_deg)
    _check_sin_targets(y_target)
    x = check_array("x", x, (..., 2))
    _check_broadcast(x, y_target)
    return x_distance_kernel(jnp.asarray(x), jnp.asarray(y_target), xi, phi_deg)


# ---------------------------------------------------------------------------------------
# hig-toy: the HIG toy (Schnell et al. 2022): network output z = f(x; θ), physics
# P(z) = (z1, λ z2), targets ŷ(x) = (sin 6x, cos 9x), x ∈ [−1, 1]
# ---------------------------------------------------------------------------------------

HIG_X_RANGE = (-1.0, 1.0)
HIG_PROBE_X = float(np.pi / 9)


def hig_target(x):
    """ŷ(x) = (sin 6x, cos 9x); x: shape (...) -> (..., 2)."""
    x = jnp.asarray(check_array("x", x))
    return jnp.stack([jnp.sin(6.0 * x), jnp.cos(9.0 * x)], axis=-1)


def hig_physics_kernel(z, lam):
    """P(z) = (z1, λ z2); z: (..., 2) -> (..., 2). Kernel: assumes a finite λ > 0 and the
    last axis of size 2 (extra entries are dropped); checked: ``hig_physics``."""
    return jnp.stack([z[..., 0], lam * z[..., 1]], axis=-1)


def hig_sample_loss_kernel(y, y_target):
    """½‖y − ŷ‖² over the last axis; y, y_target: (..., 2) -> (...). Kernel: assumes finite
    inputs of broadcastable shapes; checked: ``hig_sample_loss``."""
    return 0.5 * jnp.sum((y - y_target) ** 2, axis=-1)


def hig_physics(z, lam):
    """P(z) = (z1, λ z2): the network output z mapped to physical coordinates; (..., 2) -> (..., 2)."""
    lam = check_positive("lam", lam)
    z = jnp.asarray(check_array("z", z, (..., 2)))
    return hig_physics_kernel(z, lam)


def hig_sample_loss(y, y_target):
    """L = ½(y1 − ŷ1)² + ½(y2 − ŷ2)² per sample with y = P(z) physical; (..., 2) -> (...)."""
    y = jnp.asarray(check_array("y", y, (..., 2)))
    y_target = jnp.asarray(check_array("y_target", y_target, np.shape(y)))
    return hig_sample_loss_kernel(y, y_target)


def hig_data(seed, n_train, n_val):
    """Fixed data of the HIG toy: x ~ U[−1, 1] (seeded) for training, a uniform grid for validation.

    Returns (x_train, y_train, x_val, y_val) with x of shape (n, 1) and ŷ of shape (n, 2).
    """
    import jax

    for name, value in (("n_train", n_train), ("n_val", n_val)):
        check_int(name, value, low=2)
    seed = check_seed("seed", seed)
    key = jax.random.PRNGKey(seed)
    x_train = jax.random.uniform(key, (n_train, 1), minval=HIG_X_RANGE[0], maxval=HIG_X_RANGE[1])
    x_val = jnp.linspace(*HIG_X_RANGE, n_val)[:, None]
    return x_train, hig_target(x_train[:, 0]), x_val, hig_target(x_val[:, 0])


# ---------------------------------------------------------------------------------------
# scale-invariance: the crux P(x) = (x1, α x2) is ``hig_physics`` with
# λ = α; here its inverse, and a non-linear composition P(x) = (x1, α x2²), which is
# ``hig_physics`` after ``toy_physics``
# ---------------------------------------------------------------------------------------


def crux_inverse(y, alpha):
    """Inverse of the crux P(x) = (x1, α x2): P⁻¹(y) = (y1, y2/α); y: shape (2,)."""
    alpha = check_positive("alpha", alpha)
    check_shape("y", y, (2,))
    check_finite("y", y)
    y = jnp.asarray(y)
    return jnp.stack([y[0], y[1] / alpha])


def crux_squared_physics_kernel(x, alpha):
    """P(x) = (x1, α x2²) = hig_physics(toy_physics(x), α); x: (2,), α > 0 (unchecked)."""
    return hig_physics_kernel(toy_physics(x), alpha)


def crux_squared_inverse(y, alpha):
    """Inverse of P(x) = (x1, α x2²) on the branch x2 ≥ 0: (y1, √(y2/α)); y: shape (2,).

    Raises ValueError where y2/α < 0 (no real x2)."""
    alpha = check_positive("alpha", alpha)
    check_shape("y", y, (2,))
    check_finite("y", y)
    y = jnp.asarray(y)
    return toy_inverse(jnp.stack([y[0], y[1] / alpha]))


# hig-oscillators: coupled oscillators (Schnell et al. 2022, nonlinear oscillators; the source
# book's linear variant). A chain of masses with state s = (x_1..x_n, v_1..v_n):
#   ẋ_i = v_i,
#   v̇_i = −x_i + Σ_{j = i±1} [a (x_j − x_i) + c (x_j − x_i)³] + δ_{i,n} · gain · u(t)
# (free ends: a missing neighbour contributes nothing), integrated with classical RK4,
# the control piecewise constant (one value u_k per step, held over the four stages).
# ---------------------------------------------------------------------------------------

import dataclasses  # noqa: E402  (kept inside the page's block)


@dataclasses.dataclass(frozen=True)
class OscillatorSystem:
    """One setting of the controlled oscillator chain: ``masses`` masses, linear coupling
    strength ``linear`` (a), cubic coupling ``cubic`` (c), control ``gain`` on the last
    mass, ``steps`` RK4 steps of length ``dt``. Hashable, so it can be a static argument."""

    masses: int = 2
    linear: float = 0.0
    cubic: float = 1.0
    gain: float = 3.0
    steps: int = 96
    dt: float = 0.125

    def __post_init__(self):
        check_positive_int("masses", self.masses)
        check_positive_int("steps", self.steps)
        check_positive("dt", self.dt)
        for name in ("linear", "cubic", "gain"):
            value = getattr(self, name)
            try:
                finite = np.isfinite(float(value))
            except (TypeError, ValueError):
                finite = False
            if not finite:
                raise ValueError(f"{name} must be a finite number, got {value!r}")

    @property
    def state_size(self):
        return 2 * self.masses

    @property
    def horizon(self):
        return self.steps * self.dt


# The paper's system (cubic coupling 1, gain 3, 96 steps of 0.125) and the source book's
# linear chain (coupling 0.2·L, gain 1, 24 steps of 0.5): two settings of one simulator.
PAPER_OSCILLATORS = OscillatorSystem(masses=2, linear=0.0, cubic=1.0, gain=3.0, steps=96, dt=0.125)
LINEAR_CHAIN = OscillatorSystem(masses=2, linear=0.2, cubic=0.0, gain=1.0, steps=24, dt=0.5)


def oscillator_rhs_kernel(system, state, u):
    """ṡ = f(s, u) for states of shape (..., 2n) and controls u of shape (...)."""
    n = system.masses
    x, v = state[..., :n], state[..., n:]
    difference = x[..., 1:] - x[..., :-1]  # x_{i+1} − x_i
    pull = system.linear * difference + system.cubic * difference**3
    zero = jnp.zeros_like(x[..., :1])
    # pull from the right neighbour (x_{i+1} − x_i) minus the pull on the right neighbour
    coupling = jnp.concatenate([pull, zero], axis=-1) - jnp.concatenate([zero, pull], axis=-1)
    control = jnp.zeros_like(x).at[..., -1].set(system.gain * u)
    return jnp.concatenate([v, -x + coupling + control], axis=-1)


def oscillator_rk4_step_kernel(system, state, u, dt):
    """One classical RK4 step of length dt with the control u held over all four stages."""
    k1 = oscillator_rhs_kernel(system, state, u)
    k2 = oscillator_rhs_kernel(system, state + 0.5 * dt * k1, u)
    k3 = oscillator_rhs_kernel(system, state + 0.5 * dt * k2, u)
    k4 = oscillator_rhs_kernel(system, state + dt * k3, u)
    return state + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def oscillator_simulate_kernel(system, state0, controls, trajectory=False):
    """s_T = P(s_0; u) by ``system.steps`` RK4 steps (one lax.scan); state0: (..., 2n),
    controls: (..., steps). Returns s_T (..., 2n), or with ``trajectory`` all states
    (..., steps + 1, 2n), s_0 included. Assumes checked shapes and a valid system."""
    import jax

    def step(state, u):
        new = oscillator_rk4_step_kernel(system, state, u, system.dt)
        return new, new if trajectory else None

    final, states = jax.lax.scan(step, state0, jnp.moveaxis(controls, -1, 0))
    if not trajectory:
        return final
    return jnp.concatenate([state0[..., None, :], jnp.moveaxis(states, 0, -2)], axis=-2)


def check_oscillator_system(system):
    """Raise ValueError unless ``system`` is an ``OscillatorSystem``."""
    if not isinstance(system, OscillatorSystem):
        raise ValueError(f"system must be an OscillatorSystem (e.g. PAPER_OSCILLATORS or "
                         f"LINEAR_CHAIN), got {system!r}")
    return system


def oscillator_simulate(system, state0, controls, trajectory=False):
    """Integrate the controlled chain: s_0 of shape (..., 2n) with controls (..., steps).

    Returns the final state s_T, shape (..., 2n); with ``trajectory=True`` every state,
    shape (..., steps + 1, 2n), s_0 first. The leading (batch) shapes of state0 and
    controls must agree. Raises ValueError for a wrong shape, a control sequence whose
    length is not ``system.steps``, or non-finite input.
    """
    check_oscillator_system(system)
    check_array("state0", state0, finite=False)
    check_array("controls", controls, finite=False)
    state0, controls = jnp.asarray(state0), jnp.asarray(controls)
    if state0.ndim < 1 or state0.shape[-1] != system.state_size:
        raise ValueError(f"state0 must have shape (..., {system.state_size}) = (x_1..x_n, "
                         f"v_1..v_n) for {system.masses} masses, got {state0.shape}")
    if controls.ndim < 1 or controls.shape[-1] != system.steps:
        raise ValueError(f"controls must hold one value per time step, shape (..., "
                         f"{system.steps}), got {controls.shape}")
    check_shape("controls (leading shape of state0)", controls, state0.shape[:-1] + (None,))
    check_finite("state0", state0)
    check_finite("controls", controls)
    return oscillator_simulate_kernel(system, state0, controls, trajectory=trajectory)


def oscillator_sample_loss_kernel(final, target):
    """Per-sample loss ‖s_T − s*‖² (sum of squares over the state); (..., 2n) -> (...)."""
    return jnp.sum((final - target) ** 2, axis=-1)


def oscillator_energy_kernel(system, state):
    """E = Σ ½(x_i² + v_i²) + Σ_bonds [a/2 d² + c/4 d⁴], d = x_{i+1} − x_i: conserved
    by the uncontrolled chain (u = 0); (..., 2n) -> (...)."""
    n = system.masses
    x, v = state[..., :n], state[..., n:]
    d = x[..., 1:] - x[..., :-1]
    bonds = jnp.sum(0.5 * system.linear * d**2 + 0.25 * system.cubic * d**4, axis=-1)
    return 0.5 * jnp.sum(x**2 + v**2, axis=-1) + bonds


def oscillator_data(seed, n_train, n_test, system=PAPER_OSCILLATORS):
    """Initial states s_0 ~ U[0, 1)^(2n), seeded: (train, test) of shapes (n_train, 2n)
    and (n_test, 2n). The target of each sample is its own initial state."""
    import jax

    seed = check_seed("seed", seed)
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test)
    check_oscillator_system(system)
    k_train, k_test = jax.random.split(jax.random.PRNGKey(seed))
    return (jax.random.uniform(k_train, (n_train, system.state_size)),
            jax.random.uniform(k_test, (n_test, system.state_size)))


# sip-heat: the heat equation, in its own sub-module; its names are part of ``physics``.
from .heat import (  # noqa: E402
    HEAT_CENTRE_MARGIN as HEAT_CENTRE_MARGIN,
    HEAT_COUNT_RANGE as HEAT_COUNT_RANGE,
    HEAT_EDGE_WIDTH as HEAT_EDGE_WIDTH,
    HEAT_GRID as HEAT_GRID,
    HEAT_MAX_COUNT as HEAT_MAX_COUNT,
    HEAT_MAX_HALF_SIZE as HEAT_MAX_HALF_SIZE,
    HEAT_NU_T as HEAT_NU_T,
    check_heat_grid as check_heat_grid,
    heat_damping as heat_damping,
    heat_log_kernel as heat_log_kernel,
    heat_loss as heat_loss,
    heat_loss_kernel as heat_loss_kernel,
    heat_physics as heat_physics,
    heat_physics_kernel as heat_physics_kernel,
    heat_rectangles as heat_rectangles,
    radial_power_spectrum as radial_power_spectrum,
)
