"""Unit tests of page 1: the toy problem, its update rules and the optimisation loops."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from improved_gradients import physics, plotting, training, updates

X0 = jnp.array([3.0, 3.0])


def analytic_inverse(y, x_start):
    return physics.toy_inverse(y)


def gd(x):
    return updates.gd_step(physics.toy_loss_x, x, 0.01)


def newton(x):
    return updates.newton_step(physics.toy_loss_x, x, 1 / 3)


def inverse_simulator(x, inverse=analytic_inverse):
    return updates.inverse_simulator_step(physics.toy_physics, physics.toy_loss_y, inverse, x, 0.3)


def test_forward_values_and_derivatives():
    y = physics.toy_physics(X0)
    np.testing.assert_array_equal(y, [3.0, 9.0])
    assert float(physics.toy_loss_y(y)) == 90.0
    assert float(physics.toy_loss_x(X0)) == 90.0
    np.testing.assert_array_equal(jax.grad(physics.toy_loss_y)(y), [6.0, 18.0])
    np.testing.assert_array_equal(jax.jacobian(physics.toy_physics)(X0), [[1.0, 0.0], [0.0, 6.0]])
    np.testing.assert_array_equal(jax.grad(physics.toy_loss_x)(X0), [6.0, 108.0])


@pytest.mark.parametrize(
    "step, first, last, diagonal",
    [
        (gd, [2.94, 1.9200001], [2.4512184, 0.96171147], 1.053930),
        (newton, [2.0, 2.6666667], [0.05202458, 0.92383826], 1.264911),
        (inverse_simulator, [2.1, 2.5099802], [0.08474258, 0.50421], 1.356443),
    ],
    ids=["gd", "newton", "inverse-simulator"],
)
def test_ten_steps_reproduce_the_reference_iterates(step, first, last, diagonal):
    xs, us = training.iterate(step, X0, 10)
    assert xs.shape == (11, 2) and us.shape == (10, 2)
    assert xs.dtype == jnp.float32
    np.testing.assert_allclose(xs[1], first, rtol=1e-6)
    np.testing.assert_allclose(xs[-1], last, rtol=1e-6)
    assert updates.diagonal_length(us[0]) == pytest.approx(diagonal, abs=1e-6)


def test_reference_distances():
    distances = [float(jnp.linalg.norm(training.iterate(s, X0, 10)[0][-1])) for s in (gd, newton, inverse_simulator)]
    np.testing.assert_allclose(distances, [2.63, 0.925, 0.51], atol=5e-3)


def test_inverse_simulator_moves_on_a_straight_line_in_y():
    xs, _ = training.iterate(inverse_simulator, X0, 10)
    ys = jax.vmap(physics.toy_physics)(xs)
    expected = 0.7 ** jnp.arange(11)[:, None] * jnp.array([3.0, 9.0])
    np.testing.assert_allclose(ys, expected, rtol=1e-5, atol=1e-6)


def test_gd_update_is_the_gradient_and_newton_solves_the_hessian():
    _, u = gd(X0)
    np.testing.assert_array_equal(u, [6.0, 108.0])
    _, u = newton(X0)
    hessian = jax.hessian(physics.toy_loss_x)(X0)
    np.testing.assert_allclose(hessian @ u, [6.0, 108.0], rtol=1e-5)


def test_inverse_simulator_step_is_invariant_to_rescaling_the_physics():
    """Scaling the state y -> c·y (and the loss and inverse accordingly) leaves the
    inverse-simulator step unchanged, while the gradient-descent step changes by c²."""
    c = 37.0
    physics_c = lambda x: c * physics.toy_physics(x)
    loss_c = lambda y: physics.toy_loss_y(y / c)
    inverse_c = lambda y, x: physics.toy_inverse(y / c)
    x_ref, _ = inverse_simulator(X0)
    x_scaled, _ = updates.inverse_simulator_step(physics_c, loss_c, inverse_c, X0, 0.3)
    np.testing.assert_allclose(x_scaled, x_ref, rtol=1e-6)
    _, g_ref = gd(X0)
    _, g_scaled = updates.gd_step(lambda x: loss_c(physics_c(x)), X0, 0.01)
    np.testing.assert_allclose(g_scaled, g_ref, rtol=1e-6)
    _, g_physics_only = updates.gd_step(lambda x: physics.toy_loss_y(physics_c(x)), X0, 0.01)
    np.testing.assert_allclose(g_physics_only, c**2 * g_ref, rtol=1e-6)


def test_newton_step_is_invariant_to_scaling_the_loss():
    x_ref, _ = newton(X0)
    x_scaled, _ = updates.newton_step(lambda x: 1e4 * physics.toy_loss_x(x), X0, 1 / 3)
    np.testing.assert_allclose(x_scaled, x_ref, rtol=1e-6)


def test_lbfgs_inverse_matches_the_analytic_one():
    x = physics.toy_lbfgs_inverse(np.array([2.0, 2.0]), np.array([3.0, 3.0]))
    np.testing.assert_allclose(x, [2.0, np.sqrt(2.0)], atol=1e-6)
    xs_exact, _ = training.iterate(inverse_simulator, X0, 10)
    xs_lbfgs, _ = training.iterate(lambda x: inverse_simulator(x, physics.toy_lbfgs_inverse), X0, 10)
    mae = float(jnp.mean(jnp.abs(xs_lbfgs - xs_exact)))
    assert 0 < mae < 5e-6


def test_optax_trajectory_runs_adam_as_one_scan():
    xs = training.optax_trajectory(optax.adam(0.3), physics.toy_loss_x, X0, 50)
    assert xs.shape == (51, 2)
    np.testing.assert_array_equal(xs[0], X0)
    # Adam's first update is -lr·sign(g) (up to eps): perfectly diagonal here.
    np.testing.assert_allclose(xs[1], [2.7, 2.7], rtol=1e-5)
    assert float(physics.toy_loss_x(xs[-1])) < 90.0


def test_diagonal_length_bounds():
    assert updates.diagonal_length(np.array([1.0, 1.0])) == pytest.approx(np.sqrt(2))
    assert updates.diagonal_length(np.array([0.0, 5.0])) == pytest.approx(1.0)


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("eta", [0.0, -0.1, float("nan"), float("inf"), "fast"])
def test_steps_reject_bad_step_sizes(eta):
    with pytest.raises(ValueError, match="eta must be a positive finite number"):
        updates.gd_step(physics.toy_loss_x, X0, eta)
    with pytest.raises(ValueError, match="eta must be a positive finite number"):
        updates.newton_step(physics.toy_loss_x, X0, eta)
    with pytest.raises(ValueError, match="eta must be a positive finite number"):
        updates.inverse_simulator_step(physics.toy_physics, physics.toy_loss_y, analytic_inverse, X0, eta)


@pytest.mark.parametrize("x", [jnp.ones((2, 2)), jnp.array(3.0)])
def test_steps_reject_wrong_shapes(x):
    with pytest.raises(ValueError, match="x must have shape"):
        updates.gd_step(physics.toy_loss_x, x, 0.1)
    with pytest.raises(ValueError, match="x must have shape"):
        updates.newton_step(physics.toy_loss_x, x, 0.1)


def test_steps_reject_non_finite_points():
    with pytest.raises(ValueError, match="x must be finite"):
        updates.gd_step(physics.toy_loss_x, jnp.array([jnp.nan, 1.0]), 0.1)


def test_analytic_inverse_rejects_states_outside_its_domain():
    with pytest.raises(ValueError, match="y1 >= 0"):
        physics.toy_inverse(jnp.array([1.0, -0.5]))
    with pytest.raises(ValueError, match="y must have shape"):
        physics.toy_inverse(jnp.array([1.0, 2.0, 3.0]))


def test_inverse_simulator_overshooting_the_domain_raises():
    """η = 2.5 sends y1 to −1.5·y1 < 0: the analytic inverse must refuse, not return NaN."""
    with pytest.raises(ValueError, match="y1 >= 0"):
        updates.inverse_simulator_step(physics.toy_physics, physics.toy_loss_y, analytic_inverse, X0, 2.5)


def test_lbfgs_inverse_reports_failures():
    with pytest.raises(ValueError, match="did not converge"):
        physics.toy_lbfgs_inverse(np.array([2.0, 2.0]), np.array([30.0, 30.0]), max_iterations=1)
    with pytest.raises(ValueError, match="found no x"):
        physics.toy_lbfgs_inverse(np.array([2.0, -1.0]), np.array([3.0, 3.0]))
    with pytest.raises(ValueError, match="x_start must have shape"):
        physics.toy_lbfgs_inverse(np.array([2.0, 2.0]), np.array([3.0]))


def test_iterate_rejects_bad_arguments_and_divergence():
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        training.iterate(gd, X0, 0)
    with pytest.raises(ValueError, match="x0 must be finite"):
        training.iterate(gd, jnp.array([jnp.inf, 0.0]), 3)
    diverging = lambda x: updates.gd_step(physics.toy_loss_x, x, 10.0)
    with pytest.raises(ValueError, match="is not finite"):
        training.iterate(diverging, X0, 20)


def test_diagonal_length_rejects_zero_update():
    with pytest.raises(ValueError, match="non-zero"):
        updates.diagonal_length(np.zeros(2))


def test_method_colours_are_unique_per_page_and_unknown_names_fail():
    toy = [plotting.method_color(m) for m in ("GD", "Newton", "Inverse simulator", "Adam")]
    assert len(set(toy)) == 4
    with pytest.raises(ValueError, match="known"):
        plotting.method_color("Nesterov")
