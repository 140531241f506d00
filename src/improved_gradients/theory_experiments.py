"""Experiments of the theory page "Scale invariance and inversion" (book/scale-invariance).

The crux of the chapter in two variables: the physics P(x) = (x1, α x2) (``hig_physics``
with λ = α) and the loss L = ‖P(x)‖² = x1² + α² x2², minimised at x* = 0. The page applies
the update rules of ``updates`` (gradient descent, Newton, the inverse simulator) to it
and measures how their steps respond when the physics is rescaled (α → 10 α), when x is
measured in other units, and when the physics is composed with a non-linear map,
P(x) = (x1, α x2²). Everything here is deterministic and runs in float64.
"""

import math

import jax
import jax.numpy as jnp
import matplotlib as mpl
import numpy as np

from . import physics, plotting, updates
from ._checks import (check_array, check_axes, check_choice, check_finite, check_mapping,
                      check_number, check_optional, check_positive, check_positive_int,
                      check_sequence, check_shape, check_text)

PAGE = "scale-invariance"
METHODS = ("GD", "Newton", "Inverse simulator")
# The start point of every experiment, and the step sizes: GD's η is tuned for α = 1
# (a first step of the same length as Newton's would overshoot at α = 3 already).
X_START = (1.5, 1.0)
ETA = {"GD": 0.1, "Newton": 0.5, "Inverse simulator": 0.5}
FIGURE_ALPHAS = (0.3, 1.0, 3.0, 10.0)
STEP_ALPHAS = (1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3)
SCALE_FACTOR = 10.0  # the physics rescaled: α → 10 α
UNIT_FACTOR = 1000.0  # x measured in millimetres instead of metres: x̃ = 1000 x
TOLERANCE = 1e-3  # steps until every coordinate of y − y* has shrunk by this factor
POWERS = (1, 2)  # 1: the crux P(x) = (x1, α x2); 2: the composition P(x) = (x1, α x2²)


def crux_problem(alpha, power=1, units=1.0):
    """(physics, loss_x, inverse) of the crux for x measured in ``units`` (x̃ = units · x).

    physics(x̃) = P(x̃ / units) with P(x) = (x1, α x2^power); loss_x(x̃) = ‖physics(x̃)‖²;
    inverse(y) = units · P⁻¹(y) (for power 2 on the branch x2 ≥ 0).
    """
    alpha = check_positive("alpha", alpha)
    units = check_positive("units", units)
    check_choice("power", power, POWERS)
    if power == 1:
        forward, backward = physics.hig_physics_kernel, physics.crux_inverse
    else:
        forward, backward = physics.crux_squared_physics_kernel, physics.crux_squared_inverse

    def physics_fn(x):
        return forward(x / units, alpha)

    def loss_x(x):
        return physics.toy_loss_y(physics_fn(x))

    def inverse(y):
        return units * backward(y, alpha)

    return physics_fn, loss_x, inverse


def crux_step(method, alpha, x=X_START, *, eta=None, power=1, units=1.0):
    """One update of ``method`` (one of METHODS) on the crux from x, in float64.

    Calls ``updates.gd_step``, ``updates.newton_step`` or ``updates.inverse_simulator_step``
    with step size ``eta`` (default ``ETA[method]``); returns the new point, shape (2,).
    """
    check_choice("method", method, METHODS)
    eta = check_positive("eta", ETA[method] if eta is None else eta)
    check_shape("x", x, (2,))
    check_finite("x", x)
    physics_fn, loss_x, inverse = crux_problem(alpha, power, units)
    with jax.enable_x64(True):
        x = jnp.asarray(x, dtype=jnp.float64)
        if method == "GD":
            x_new, _ = updates.gd_step(loss_x, x, eta)
        elif method == "Newton":
            x_new, _ = updates.newton_step(loss_x, x, eta)
        else:
            x_new, _ = updates.inverse_simulator_step(
                physics_fn, physics.toy_loss_y, lambda y, x_start: inverse(y), x, eta)
        return np.asarray(x_new, dtype=np.float64)


def _y(x, alpha, power=1):
    with jax.enable_x64(True):
        return np.asarray(crux_problem(alpha, power)[0](jnp.asarray(x, dtype=jnp.float64)))


SCALING_COLUMNS = (
    "dx2 ratio, alpha x10",
    "dy2 ratio, alpha x10",
    "dx ratio, x in mm",
    "dy angle (deg), x2^2",
)


def scaling_table(alpha=1.0, x=X_START):
    """How each method's step responds to rescaling, {method: {column: value}}:

    - "dx2 ratio, alpha x10": Δx2 after α → 10 α divided by Δx2 before, both steps taken
      from the same physical state y = P(x) (so from x2/10 after the rescaling; ideal: 1/10);
    - "dy2 ratio, alpha x10": the same for the resulting Δy2 = Δ(α x2) (ideal: 1);
    - "dx ratio, x in mm": the step computed with x in units a thousand times smaller,
      converted back, divided by the step in the original units (ideal: 1);
    - "dy angle (deg), x2^2": for the composition P(x) = (x1, α x2²), the angle between
      the y-change a step produces and the straight line from y towards y* = 0 (ideal: 0).
    """
    alpha = check_positive("alpha", alpha)
    x = np.asarray(check_array("x", x, (2,)), dtype=np.float64)
    if np.any(x == 0):
        raise ValueError(f"x must have non-zero coordinates (the ratios divide by the steps), "
                         f"got {x}")
    table = {}
    for method in METHODS:
        dx = crux_step(method, alpha, x) - x
        dy = _y(x + dx, alpha) - _y(x, alpha)
        x_scaled = x / np.array([1.0, SCALE_FACTOR])  # the same y = P(x) after α → 10 α
        dx_scaled = crux_step(method, SCALE_FACTOR * alpha, x_scaled) - x_scaled
        dy_scaled = (_y(x_scaled + dx_scaled, SCALE_FACTOR * alpha)
                     - _y(x_scaled, SCALE_FACTOR * alpha))
        x_mm = UNIT_FACTOR * x
        dx_mm = (crux_step(method, alpha, x_mm, units=UNIT_FACTOR) - x_mm) / UNIT_FACTOR
        y2 = _y(x, alpha, power=2)
        dy2 = _y(crux_step(method, alpha, x, power=2), alpha, power=2) - y2
        cosine = float(np.dot(dy2, -y2) / (np.linalg.norm(dy2) * np.linalg.norm(y2)))
        table[method] = {
            SCALING_COLUMNS[0]: dx_scaled[1] / dx[1],
            SCALING_COLUMNS[1]: dy_scaled[1] / dy[1],
            SCALING_COLUMNS[2]: float(np.linalg.norm(dx_mm) / np.linalg.norm(dx)),
            # rounded to 0.01°: a rounding error of 1e-8° must not print as a number
            SCALING_COLUMNS[3]: round(math.degrees(math.acos(min(1.0, max(-1.0, cosine)))), 2),
        }
    return table


def format_table(table, columns, row_title="method", width=22, fmt="{:.4g}"):
    """A fixed-width text table of {row: {column: value}}; strings are printed as they are."""
    columns = [check_text("columns", c) for c in check_sequence("columns", columns)]
    check_mapping("table", table, entry_keys=columns)
    check_text("row_title", row_title, empty=True)
    width = check_positive_int("width", width)
    check_text("fmt", fmt)
    try:
        fmt.format(1.0)
    except (ValueError, IndexError, KeyError) as error:
        raise ValueError(f"fmt must format one number, such as '{{:.4g}}', got {fmt!r} "
                         f"({error})") from None
    lines = [f"{row_title:<18}" + "".join(f"{c:>{width}}" for c in columns)]
    for row, values in table.items():
        cells = [v if isinstance(v, str) else fmt.format(v) for v in (values[c] for c in columns)]
        lines.append(f"{row:<18}" + "".join(f"{c:>{width}}" for c in cells))
    return "\n".join(lines)


def contraction_factors(method, alpha, eta=None, x=X_START):
    """Per-coordinate factors r with x_new = r ⊙ x for one step on the linear crux.

    On the linear crux with its quadratic loss every rule of this page is a fixed diagonal
    linear map of x; the factors are measured from one step and checked on a second step
    from another point (ValueError if the rule is not such a map there)."""
    check_choice("method", method, METHODS)
    x = np.asarray(check_array("x", x, (2,)), dtype=np.float64)
    if np.any(x == 0):
        raise ValueError(f"x must have non-zero coordinates to measure the factors, got {x}")
    factors = crux_step(method, alpha, x, eta=eta) / x
    other = np.array([-0.7, 2.3]) * x
    again = crux_step(method, alpha, other, eta=eta) / other
    if not np.allclose(factors, again, rtol=1e-9, atol=1e-12):
        raise ValueError(f"{method} is not a fixed diagonal map here: {factors} vs {again}")
    return factors


def steps_to_tolerance(method, alpha, eta=None, tolerance=TOLERANCE):
    """Number of steps k until every coordinate of y − y* has shrunk by ``tolerance``.

    On the linear crux y_i ∝ x_i and x_k = r^k ⊙ x_0 (``contraction_factors``), so k is
    the smallest integer with |r_i|^k ≤ tolerance for every i: max_i ⌈ln tol / ln|r_i|⌉,
    computed exactly, without iterating (counts of 10⁷ steps and more need no 10⁷
    iterations). Returns math.inf if a coordinate does not shrink (|r_i| ≥ 1: the method
    stalls or diverges).
    """
    alpha = check_positive("alpha", alpha)
    tolerance = check_positive("tolerance", tolerance)
    if tolerance >= 1:
        raise ValueError(f"tolerance must lie in (0, 1), got {tolerance}")
    r = np.abs(contraction_factors(method, alpha, eta))
    if np.any(r >= 1.0):
        return math.inf
    shrinking = r[r > 0]  # a coordinate with r = 0 is solved after one step
    if shrinking.size == 0:
        return 1
    # The nudge keeps an exact power (0.5^k = 2^-k) from rounding up to k + 1.
    return max(1, int(np.ceil(np.max(np.log(tolerance) / np.log(shrinking)) - 1e-9)))


def iterate_to_tolerance(method, alpha, eta=None, tolerance=TOLERANCE, max_steps=100,
                         x=X_START):
    """The same count by really iterating the update (for small counts): the first k with
    |y_k − y*| ≤ tolerance · |y_0 − y*| in every coordinate (y* = 0), or None if
    ``max_steps`` steps do not reach it."""
    check_choice("method", method, METHODS)
    check_positive("alpha", alpha)
    check_optional(check_positive, "eta", eta)
    check_number("tolerance", tolerance, 0.0, 1.0, low_open=True, high_open=True)
    max_steps = check_positive_int("max_steps", max_steps)
    x = np.asarray(check_array("x", x, (2,)), dtype=np.float64)
    start = np.abs(_y(x, alpha))
    for k in range(1, max_steps + 1):
        x = crux_step(method, alpha, x, eta=eta)
        if np.all(np.abs(_y(x, alpha)) <= tolerance * start):
            return k
    return None


def best_gd_eta(alpha):
    """The constant step size that minimises GD's worst contraction on L = x1² + α² x2²:
    2 / (λ_min + λ_max) with the Hessian's eigenvalues 2 and 2α², i.e. 1 / (1 + α²)."""
    alpha = check_positive("alpha", alpha)
    return 1.0 / (1.0 + alpha**2)


STEP_COLUMNS = (f"GD, eta = {ETA['GD']:g}", "GD, best eta", "Newton", "Inverse simulator")


def steps_table(alphas=STEP_ALPHAS, tolerance=TOLERANCE):
    """{f"alpha = {α:g}": {column: steps}} for GD with η tuned at α = 1, GD with the best η
    for each α, Newton and the inverse simulator (math.inf: never reaches the tolerance)."""
    alphas = [check_positive("alphas", alpha) for alpha in check_sequence("alphas", alphas)]
    check_number("tolerance", tolerance, 0.0, 1.0, low_open=True, high_open=True)
    table = {}
    for alpha in alphas:
        table[f"alpha = {alpha:g}"] = {
            STEP_COLUMNS[0]: steps_to_tolerance("GD", alpha, tolerance=tolerance),
            STEP_COLUMNS[1]: steps_to_tolerance("GD", alpha, best_gd_eta(alpha), tolerance),
            STEP_COLUMNS[2]: steps_to_tolerance("Newton", alpha, tolerance=tolerance),
            STEP_COLUMNS[3]: steps_to_tolerance("Inverse simulator", alpha, tolerance=tolerance),
        }
    return table


def format_steps_table(table):
    """The steps table as text: counts as integers (≥ 10⁶ in scientific notation)."""
    check_mapping("table", table, entry_keys=STEP_COLUMNS)
    for row, values in table.items():
        for column in STEP_COLUMNS:
            steps = values[column]
            if not (isinstance(steps, (int, np.integer)) and steps >= 1 or steps == math.inf):
                raise ValueError(f"table[{row!r}][{column!r}] must be a step count >= 1 or "
                                 f"math.inf, got {steps!r}")

    def cell(steps):
        if math.isinf(steps):
            return "never"
        return f"{steps:d}" if steps < 1e6 else f"{steps:.2e}"

    rows = {row: {c: cell(v) for c, v in values.items()} for row, values in table.items()}
    return format_table(rows, STEP_COLUMNS, row_title="physics", width=20)


def path_average(alpha=1.0, x=X_START, eta=None, nodes=8):
    """The inverse-simulator step as a path average of the inverse Jacobian, for the
    composition P(x) = (x1, α x2²), whose Jacobian varies along the path.

    Returns {"inverse simulator": Δx_PG, "inverse gradient": (∂y/∂x)⁻¹ Δy at x,
    "path average": ∫₀¹ (∂y/∂x)⁻¹ at P⁻¹(y + tΔy) dt · Δy (Gauss-Legendre, ``nodes``
    points)}, with Δy = the Newton step in y of the inverse simulator.
    """
    check_positive("alpha", alpha)
    eta = ETA["Inverse simulator"] if eta is None else check_positive("eta", eta)
    nodes = check_positive_int("nodes", nodes)
    x = np.asarray(check_array("x", x, (2,)), dtype=np.float64)
    if x[1] <= 0:
        raise ValueError(f"x must have x2 > 0 (the branch of the inverse of x2²), got {x}")
    physics_fn, _, inverse = crux_problem(alpha, power=2)
    step_pg = crux_step("Inverse simulator", alpha, x, eta=eta, power=2) - x
    with jax.enable_x64(True):
        y = physics_fn(jnp.asarray(x))
        dy = physics_fn(jnp.asarray(x + step_pg)) - y
        jacobian = jax.jacobian(physics_fn)
        step_ig = jnp.linalg.solve(jacobian(jnp.asarray(x)), dy)
        t, w = np.polynomial.legendre.leggauss(nodes)
        t, w = 0.5 * (t + 1.0), 0.5 * w
        average = sum(wi * jnp.linalg.solve(jacobian(inverse(y + ti * dy)), dy)
                      for ti, wi in zip(t, w))
        return {"inverse simulator": step_pg, "inverse gradient": np.asarray(step_ig),
                "path average": np.asarray(average), "dy": np.asarray(dy)}


def draw_crux_updates(axes, alphas=FIGURE_ALPHAS, x=X_START, box=2.0):
    """One panel per α: contours of L(x) = x1² + α² x2² and the first step of each method
    from x as an arrow (cut at the panel's edge, with its length written, if it leaves)."""
    alphas = [check_positive("alphas", alpha) for alpha in check_sequence("alphas", alphas)]
    if not hasattr(axes, "__len__") or len(axes) != len(alphas):
        raise ValueError(f"axes: need one axis per alpha, got {axes!r:.80} for {len(alphas)} "
                         f"alphas")
    check_axes("axes", axes, len(alphas))
    box = check_positive("box", box)
    x = np.asarray(check_array("x", x, (2,)), dtype=np.float64)
    for ax, alpha in zip(axes, alphas):
        _, loss_x, _ = crux_problem(alpha)
        plotting.loss_contours(ax, loss_x, (-box, box), (-box, box),
                               levels=np.geomspace(0.02, 400, 16))
        ax.scatter([0], [0], **plotting.TARGET_STYLE)
        ax.scatter([x[0]], [x[1]], **plotting.START_STYLE)
        for method in METHODS:
            end = crux_step(method, alpha, x)
            style = dict(arrowstyle="-|>", mutation_scale=14, linewidth=2.2,
                         color=plotting.method_color(method))
            if method == "Inverse simulator":
                style.update(linestyle=(0, (2, 2)), linewidth=1.6)
            shown = end
            if np.max(np.abs(end)) > box:
                edge = (np.sign(end) * box * 0.97 - x) / (end - x)
                shown = x + np.min(np.where(np.abs(end) > box, edge, np.inf)) * (end - x)
                ax.text(shown[0] - 0.1, shown[1] + 0.1, f"GD step\nΔx₂ = {end[1] - x[1]:.3g}",
                        fontsize=8, ha="right", va="bottom", color=style["color"])
            ax.add_patch(mpl.patches.FancyArrowPatch(tuple(x), tuple(shown), **style))
        ax.set(title=f"α = {alpha:g}", xlabel="$x_1$", aspect="equal")
    axes[0].set_ylabel("$x_2$")
    handles = [mpl.lines.Line2D([], [], color=plotting.method_color(m), linewidth=2,
                                linestyle="--" if m == "Inverse simulator" else "-", label=m)
               for m in METHODS]
    axes[0].figure.legend(handles=handles, loc="upper center", ncol=len(METHODS),
                          bbox_to_anchor=(0.5, 0.0))


def figure_crux_updates(alphas=FIGURE_ALPHAS):
    """The figure of ``draw_crux_updates``: one panel per α, sharing the y axis."""
    import matplotlib.pyplot as plt

    alphas = [check_positive("alphas", alpha) for alpha in check_sequence("alphas", alphas)]
    fig, axes = plt.subplots(1, len(alphas), figsize=(12, 3.4), sharey=True, squeeze=False)
    draw_crux_updates(axes[0], alphas)
    return fig
