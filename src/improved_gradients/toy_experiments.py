"""The toy-comparison page: its settings, the long comparison, its diagram, and the rows
it contributes to the discussion page.

The toy page runs a few deterministic steps of the update rules of ``updates`` on the
problem of ``physics`` (``toy_physics``, ``toy_loss_x``); what belongs to this page alone
lives here.
"""

import jax.numpy as jnp
import optax

from . import claims
from ._checks import (check_array, check_axes, check_callable, check_choice, check_mapping,
                      check_positive_int)
from .physics import toy_inverse, toy_loss_x, toy_loss_y, toy_physics
from .plotting import diagram_arrow, diagram_box, method_color
from .training import iterate, optax_trajectory
from .updates import gd_step, inverse_simulator_step, newton_step

PAGE = "toy-comparison"


def figure_three_spaces():
    """The figure of ``draw_three_spaces``."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.0))
    draw_three_spaces(ax)
    return fig


def draw_three_spaces(ax):
    """Diagram of the toy's three spaces x → y → L with the forward map and the three
    kinds of backward map (chained Jacobians, inverted Hessian, inverse physics)."""
    check_axes("ax", ax)
    ax.set_xlim(0, 12)
    ax.set_ylim(0, 6.4)
    ax.axis("off")
    for left, title, text in [(0.4, "x space", "x = (x₁, x₂)\nwhat we optimise"),
                              (4.6, "y space", "y = (x₁, x₂²)\nthe physical state"),
                              (8.8, "loss", "L = y₀² + y₁²\none number")]:
        diagram_box(ax, left, 2.6, 2.8, 1.9, text, title=title)

    def arrow(start, end, color, label="", label_xy=None, rad=0.0):
        diagram_arrow(ax, start, end, color, rad)
        if label:
            ax.text(*label_xy, label, ha="center", va="center", fontsize=8.5, color=color)

    arrow((3.35, 4.0), (4.45, 4.0), "black", "forward\ny(x)", (3.9, 4.75))
    arrow((7.55, 4.0), (8.65, 4.0), "black", "forward\nL(y)", (8.1, 4.75))
    gd, newton, inverse = (method_color(m) for m in ("GD", "Newton", "Inverse simulator"))
    arrow((8.65, 2.9), (7.55, 2.9), gd, "∂L/∂y", (8.1, 2.45))
    arrow((4.45, 2.9), (3.35, 2.9), gd, "·∂y/∂x", (3.9, 2.45))
    ax.text(6.0, 2.0, "gradient descent: chained Jacobians, first order",
            ha="center", fontsize=8.5, color=gd)
    arrow((10.2, 2.45), (1.8, 2.45), newton, rad=-0.22)
    ax.text(6.0, 0.85, "Newton: (∂²L/∂x²)⁻¹ ∂L/∂x, one quadratic model of the whole chain",
            ha="center", fontsize=8.5, color=newton)
    arrow((9.6, 5.0), (6.6, 5.0), inverse, rad=0.35)
    arrow((5.4, 5.0), (2.4, 5.0), inverse, rad=0.35)
    ax.text(8.1, 6.15, "Newton step in y: (∂²L/∂y²)⁻¹ ∂L/∂y", ha="center",
            fontsize=8.5, color=inverse)
    ax.text(3.9, 6.15, "inverse physics y⁻¹", ha="center", fontsize=8.5, color=inverse)


# The page's settings: the start, each method's step size (chosen so that every first
# update is about one unit long) and the number of steps of the long comparison.
X0 = (3.0, 3.0)
STEP_SIZES = {"GD": 0.01, "Newton": 1 / 3, "Inverse simulator": 0.3, "Adam": 0.3}
LONG_STEPS = 50


def analytic_inverse(y, x_start):
    """The toy's closed-form inverse as a pluggable inverse (it ignores ``x_start``)."""
    return toy_inverse(y)


def step_function(method, inverse=analytic_inverse):
    """x -> (x', u) of one hand-written method with the page's step size; ``inverse(y,
    x_start)`` is the inverse physics of the inverse simulator."""
    check_choice("method", method, ("GD", "Newton", "Inverse simulator"))
    check_callable("inverse", inverse)
    eta = STEP_SIZES[method]
    if method == "GD":
        return lambda x: gd_step(toy_loss_x, x, eta)
    if method == "Newton":
        return lambda x: newton_step(toy_loss_x, x, eta)
    return lambda x: inverse_simulator_step(toy_physics, toy_loss_y, inverse, x, eta)


def run_methods(steps=LONG_STEPS):
    """The iterates of GD, Newton, the inverse simulator and optax Adam from X0:
    {method: array (steps + 1, 2)}; deterministic (a few float32 operations per step)."""
    steps = check_positive_int("steps", steps)
    x0 = jnp.array(X0)
    runs = {method: iterate(step_function(method), x0, steps)[0]
            for method in ("GD", "Newton", "Inverse simulator")}
    runs["Adam"] = optax_trajectory(optax.adam(STEP_SIZES["Adam"]), toy_loss_x, x0, steps)
    return runs


def final_distances(runs):
    """{method: distance of the last iterate to the solution x* = 0} of ``run_methods``."""
    check_mapping("runs", runs)
    for method, xs in runs.items():
        check_array(f"runs[{method!r}]", xs, (None, 2), min_size=1)
    return {method: float(jnp.linalg.norm(xs[-1])) for method, xs in runs.items()}


def _closest_verdict(evidence):
    distance = evidence["distance"]
    best = min(distance, key=distance.get)
    runner_up = min(d for m, d in distance.items() if m != "Inverse simulator")
    return claims.Verdict(distance["Inverse simulator"],
                          f"{best} closest; inverse simulator {distance['Inverse simulator']:.2g}, "
                          f"next best {runner_up:.2g}",
                          "yes" if best == "Inverse simulator" else "no")


CLAIM = claims.register(claims.Claim(
    name="toy-comparison/inverse-simulator-closest", page=PAGE,
    statement="the inverse simulator's update reaches the solution of the toy first",
    source="source book {cite:p}`thuerey2021pbdl`: its update is the best of GD, Newton "
           "and the inverse simulator",
    quantity=f"distance to the solution after {LONG_STEPS} steps (step sizes as on the page)",
    rule="yes if the inverse simulator ends closest to the solution of all methods, Adam "
         "included; else no (the claim is a ranking)",
    judge=_closest_verdict))


def evidence(runs=None):
    """{budget label: {"distance": final_distances}} of the page's comparison (``runs``
    of ``run_methods``, or run here: deterministic, a fraction of a second)."""
    runs = run_methods() if runs is None else runs
    return {f"{LONG_STEPS} steps": {"distance": final_distances(runs)}}


def discussion_summary():
    """Rows for the discussion page: the distance to the solution after LONG_STEPS steps
    (computed here; deterministic and fast)."""
    distance = final_distances(run_methods())
    return [{"experiment": "toy y = (x₁, x₂²)", "method": method,
             "metric": f"distance to the solution after {LONG_STEPS} steps", "value": value,
             "note": f"η = {STEP_SIZES[method]:.3g}"}
            for method, value in distance.items()]


def measure_cost_per_update(repeats=3):
    """{}: the toy's steps run eagerly in a Python loop on two variables, so their time
    measures dispatch overhead, not the cost of an update; the discussion page shows no
    cost for this page (``repeats`` is accepted for the common interface)."""
    check_positive_int("repeats", repeats)
    return {}
