"""Unit tests of the theory page (scale invariance): the crux physics, the scale
invariances of the update rules, the step counts and the path average."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from improved_gradients import physics, updates
from improved_gradients import theory_experiments as theory

X = np.array([1.5, 1.0])


def step(method, alpha, x=X, **kwargs):
    return theory.crux_step(method, alpha, x, **kwargs) - np.asarray(x)


def test_crux_physics_and_inverses():
    y = physics.hig_physics_kernel(jnp.array([1.5, 2.0]), 3.0)
    np.testing.assert_allclose(y, [1.5, 6.0])
    np.testing.assert_allclose(physics.crux_inverse(y, 3.0), [1.5, 2.0])
    y2 = physics.crux_squared_physics_kernel(jnp.array([1.5, 2.0]), 3.0)
    np.testing.assert_allclose(y2, [1.5, 12.0])
    np.testing.assert_allclose(physics.crux_squared_inverse(y2, 3.0), [1.5, 2.0], rtol=1e-6)


@pytest.mark.parametrize("call, match", [
    (lambda: physics.crux_inverse(jnp.zeros(2), 0.0), "alpha"),
    (lambda: physics.crux_inverse(jnp.zeros(3), 1.0), "y must have shape"),
    (lambda: physics.crux_inverse(jnp.array([0.0, np.nan]), 1.0), "y must be finite"),
    (lambda: physics.crux_squared_inverse(jnp.array([0.0, -1.0]), 1.0), "y1 >= 0"),
    (lambda: theory.crux_step("Adam", 1.0), "unknown method"),
    (lambda: theory.crux_step("GD", -1.0), "alpha"),
    (lambda: theory.crux_step("GD", 1.0, eta=0.0), "eta"),
    (lambda: theory.crux_step("GD", 1.0, power=3), "unknown power"),
    (lambda: theory.crux_step("GD", 1.0, units=float("inf")), "units"),
    (lambda: theory.crux_step("GD", 1.0, np.zeros(3)), "x must have shape"),
    (lambda: theory.steps_to_tolerance("GD", 1.0, tolerance=2.0), "tolerance"),
    (lambda: theory.contraction_factors("GD", 1.0, x=(0.0, 1.0)), "non-zero"),
    (lambda: theory.best_gd_eta(0.0), "alpha"),
])
def test_bad_input_raises_value_error_naming_it(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("method", ["Newton", "Inverse simulator"])
def test_newton_and_inverse_steps_are_invariant_to_rescaling_the_physics(method):
    # From the same physical state y, α → 10α: Δx2 shrinks by 10, Δy is unchanged.
    x_scaled = X / np.array([1.0, 10.0])
    dx, dx_scaled = step(method, 2.0, X), step(method, 20.0, x_scaled)
    np.testing.assert_allclose(dx_scaled, dx / np.array([1.0, 10.0]), rtol=1e-10)
    np.testing.assert_allclose(20.0 * dx_scaled[1], 2.0 * dx[1], rtol=1e-10)


def test_gradient_descent_is_not_invariant_to_rescaling_the_physics():
    table = theory.scaling_table()
    assert table["GD"]["dx2 ratio, alpha x10"] == pytest.approx(10.0)
    assert table["GD"]["dy2 ratio, alpha x10"] == pytest.approx(100.0)
    for method in ("Newton", "Inverse simulator"):
        assert table[method]["dx2 ratio, alpha x10"] == pytest.approx(0.1)
        assert table[method]["dy2 ratio, alpha x10"] == pytest.approx(1.0)


@pytest.mark.parametrize("method, ratio", [("GD", 1e-6), ("Newton", 1.0), ("Inverse simulator", 1.0)])
def test_units_of_x(method, ratio):
    # x in millimetres: Newton's and the inverse step are the same physical step, GD's is not.
    dx = step(method, 3.0)
    dx_mm = step(method, 3.0, 1000.0 * X, units=1000.0) / 1000.0
    np.testing.assert_allclose(dx_mm, ratio * dx, rtol=1e-9)


def test_only_the_inverse_simulator_moves_y_straight_to_the_target_under_composition():
    angles = {m: v["dy angle (deg), x2^2"] for m, v in theory.scaling_table().items()}
    assert angles["Inverse simulator"] == 0.0
    assert angles["Newton"] > 5 and angles["GD"] > angles["Newton"]


def test_step_counts_agree_with_iteration_and_scale():
    assert theory.steps_to_tolerance("GD", 1.0) == theory.iterate_to_tolerance("GD", 1.0)
    for method in ("Newton", "Inverse simulator"):
        counts = {theory.steps_to_tolerance(method, a) for a in (1e-3, 1.0, 1e3)}
        assert counts == {theory.iterate_to_tolerance(method, 1e3)} == {10}
    assert math.isinf(theory.steps_to_tolerance("GD", 10.0))  # η = 0.1 diverges
    best = [theory.steps_to_tolerance("GD", a, theory.best_gd_eta(a)) for a in (1.0, 10.0, 100.0)]
    assert best[0] == 1 and best[0] < best[1] < best[2]
    # GD with its best η needs about κ/2 · ln(1/tol) steps, κ = α² the condition number.
    assert best[2] == pytest.approx(1e4 / 2 * math.log(1e3), rel=0.01)


def test_contraction_factors_are_those_of_the_rules():
    np.testing.assert_allclose(theory.contraction_factors("GD", 2.0, eta=0.05), [0.9, 0.6])
    np.testing.assert_allclose(theory.contraction_factors("Newton", 2.0, eta=0.5), [0.5, 0.5])


def test_inverse_step_is_the_path_average_of_the_inverse_jacobian():
    result = theory.path_average()
    np.testing.assert_allclose(result["path average"], result["inverse simulator"], rtol=1e-10)
    np.testing.assert_allclose(result["inverse simulator"][1], math.sqrt(0.5) - 1, rtol=1e-12)
    # To first order only: the inverse gradient differs at a finite step.
    assert abs(result["inverse gradient"][1] - result["inverse simulator"][1]) > 0.01


def test_format_tables():
    text = theory.format_steps_table(theory.steps_table(alphas=(1.0, 10.0)))
    assert "never" in text and "alpha = 10" in text
    assert theory.format_table({"a": {"c": 1.23456, "d": "x"}}, ("c", "d")).split()[-2:] == ["1.235", "x"]


def test_figure_draws_one_panel_per_alpha():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    theory.draw_crux_updates(axes, alphas=(1.0, 10.0))
    assert any("GD step" in t.get_text() for t in axes[1].texts)  # GD leaves the panel
    with pytest.raises(ValueError, match="one axis per alpha"):
        theory.draw_crux_updates(axes, alphas=(1.0,))
    plt.close(fig)


def test_the_rule_a_page_shows_is_the_function_without_its_input_checks():
    import inspect

    from improved_gradients.notebook import rule_source, show_source

    shown = rule_source(updates.newton_step)
    assert "check_" not in shown and "_check_invertible" not in shown
    assert shown.count("# (input checks omitted; see the package)") == 1
    kept = [line for line in inspect.getsource(updates.newton_step).splitlines()
            if "check" not in line]
    assert [line for line in shown.splitlines() if "omitted" not in line] == kept
    assert "check_positive" in show_source(updates.newton_step, checks=True).data
    assert rule_source(updates.svd_power_update_kernel) == inspect.getsource(
        updates.svd_power_update_kernel).rstrip()  # a kernel checks nothing
