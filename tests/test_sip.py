"""Tests of the SIP page: sin physics, x-distance, SIP inverse step, proxy loss,
optimisers, training loop, sharded sweeps and the command line."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from improved_gradients import claims, sip_experiments
from improved_gradients.physics import (
    SIN_GLOBAL_SCALE,
    rotate,
    sin_closest_solution,
    sin_loss,
    sin_physics,
    x_distance,
)
from improved_gradients.sip_experiments import (
    run_sin_sweep,
    sin_optimizer,
    sin_targets,
)
from improved_gradients.updates import (
    saddle_free_newton_direction,
    sip_inverse_step,
    sip_proxy_loss,
    symmetric_eigh,
)


def _random_setting(rng, n):
    x = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    y = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    return x, y


# ---------------------------------------------------------------------------- physics


def test_sin_physics_known_values():
    assert np.allclose(sin_physics(np.zeros(2), 3.0, 20.0), 0.0)
    x = np.array([np.pi / (2 * SIN_GLOBAL_SCALE), 0.01])  # ξ = 1, φ = 0: z = (π/2, 0.1)
    assert np.allclose(sin_physics(x, 1.0, 0.0), [1.0, 0.1], atol=1e-6)
    # ξ = 2 stretches z1 by 1/2 and z2 by 2
    assert np.allclose(sin_physics(x, 2.0, 0.0), [np.sin(np.pi / 4), 0.2], atol=1e-6)


def test_rotation_is_counter_clockwise_and_consistent():
    assert np.allclose(rotate(np.array([1.0, 0.0]), 90.0), [0.0, 1.0], atol=1e-6)
    rng = np.random.default_rng(0)
    x, _ = _random_setting(rng, 16)
    for phi in (10.0, 45.0, -30.0):
        # P_{ξ,φ}(R_{-φ} x) = P_{ξ,0}(x): the rotation only turns the input space
        assert np.allclose(
            sin_physics(rotate(x, -phi), 5.0, phi), sin_physics(x, 5.0, 0.0), atol=1e-4
        )


@pytest.mark.parametrize("xi, phi", [(1.0, 0.0), (1.0, 45.0), (32.0, 15.0), (64.0, 0.0)])
def test_closest_solution_is_exact_and_x_distance_zero_there(xi, phi):
    rng = np.random.default_rng(1)
    x, y = _random_setting(rng, 64)
    solution = sin_closest_solution(x, y, xi, phi)
    assert np.allclose(sin_physics(solution, xi, phi), y, atol=2e-4)
    assert np.max(x_distance(solution, y, xi, phi)) < 1e-5 * max(xi, 1.0)
    assert np.allclose(x_distance(x, y, xi, phi), np.linalg.norm(x - solution, axis=-1))


def test_x_distance_is_the_nearest_of_all_solutions():
    xi, phi, y = 1.0, 15.0, np.array([0.3, -0.5], np.float32)
    box = ((-1.2, 1.2), (-0.6, 0.6))
    solutions = sip_experiments.exact_solutions(y, xi, phi, box)
    assert len(solutions) >= 6  # pairs of minima along the tilted valley
    assert np.allclose(sin_physics(solutions, xi, phi), y, atol=1e-5)
    x = np.random.default_rng(2).uniform(-0.8, 0.8, (50, 2)).astype(np.float32) * [1, 0.3]
    brute = np.min(np.linalg.norm(x[:, None] - solutions[None], axis=-1), axis=1)
    assert np.allclose(x_distance(x, np.broadcast_to(y, x.shape), xi, phi), brute, atol=1e-5)


def test_sin_loss_is_half_squared_residual():
    x = np.array([[0.1, -0.02]], np.float32)
    y = np.array([[0.2, 0.3]], np.float32)
    expected = 0.5 * np.sum((np.asarray(sin_physics(x, 4.0, 30.0)) - y) ** 2, axis=-1)
    assert np.allclose(sin_loss(x, y, 4.0, 30.0), expected)


@pytest.mark.parametrize("xi", [0.0, -1.0, np.nan, np.inf])
def test_bad_xi_raises(xi):
    with pytest.raises(ValueError, match="xi"):
        sin_physics(np.zeros(2), xi, 0.0)
    with pytest.raises(ValueError, match="xi"):
        x_distance(np.zeros(2), np.zeros(2), xi, 0.0)


@pytest.mark.parametrize("phi", [np.nan, np.inf, -np.inf])
def test_non_finite_phi_raises(phi):
    with pytest.raises(ValueError, match="phi"):
        sin_loss(np.zeros(2), np.zeros(2), 1.0, phi)


def test_targets_outside_the_range_raise():
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        x_distance(np.zeros((2, 2)), np.array([[0.0, 0.0], [1.5, 0.0]]), 1.0, 0.0)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        sin_closest_solution(np.zeros(2), np.array([0.0, -1.01]), 1.0, 0.0)
    with pytest.raises(ValueError, match="finite"):
        x_distance(np.zeros(2), np.array([np.nan, 0.0]), 1.0, 0.0)


# ---------------------------------------------------------------------------- SIP step


def test_symmetric_eigh_matches_lapack_also_when_ill_conditioned():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(20, 2, 2)).astype(np.float32)
    matrices = list(a + np.swapaxes(a, 1, 2))
    matrices += [np.diag([0.0244, 409600.0]), np.diag([409600.0, -0.03]), np.zeros((2, 2))]
    for h in matrices:
        h = np.asarray(h, np.float32)
        s, v = symmetric_eigh(jnp.asarray(h))
        assert np.allclose(s, np.linalg.eigvalsh(h.astype(np.float64)), rtol=1e-5, atol=1e-6)
        assert np.allclose(np.asarray(v).T @ np.asarray(v), np.eye(2), atol=1e-6)
        assert np.allclose(np.asarray(v) @ np.diag(s) @ np.asarray(v).T, h, rtol=1e-5,
                           atol=1e-5 * np.abs(h).max() + 1e-6)


def test_inverse_step_is_newton_near_a_solution_and_exact_in_the_linear_coordinate():
    xi, phi = 8.0, 0.0
    y = np.array([[0.3, -0.5]], np.float32)
    solution = np.asarray(sin_closest_solution(np.zeros((1, 2)), y, xi, phi))
    x = solution + np.array([[0.05, 0.0005]], np.float32)

    def loss_x(x_i, y_i):
        return sin_loss(x_i, y_i, xi, phi)

    dx = np.asarray(sip_inverse_step(loss_x, x, y))
    g = np.asarray(jax.grad(loss_x)(x[0], y[0]))
    h = np.asarray(jax.hessian(loss_x)(x[0], y[0]))
    assert np.allclose(dx[0], -np.linalg.solve(h, g), rtol=1e-4)  # plain Newton
    # y2 = γ ξ x2 is linear: one full Newton step lands on the solution exactly
    assert np.isclose(x[0, 1] + dx[0, 1], solution[0, 1], rtol=1e-5)
    assert abs(x[0, 0] + dx[0, 0] - solution[0, 0]) < 0.05 * abs(x[0, 0] - solution[0, 0])


def test_inverse_step_is_invariant_to_the_scale_of_the_physics():
    """Rescaling the physics' input by c (P_c(x) = P(x/c)) rescales the step by c exactly,
    and in the Newton regime the step in z space does not depend on ξ."""
    rng = np.random.default_rng(4)
    x, y = _random_setting(rng, 32)
    x *= 0.05

    def step(scale, xi, points):
        def loss_x(x_i, y_i):
            return sin_loss(x_i / scale, y_i, xi, 30.0)

        return np.asarray(sip_inverse_step(loss_x, points, y))

    for c in (1e-2, 1e3):
        assert np.allclose(step(c, 4.0, c * x), c * step(1.0, 4.0, x), rtol=2e-3, atol=1e-6 * c)
    # near the solutions (Newton regime): the same step in z for ξ = 1 and ξ = 32, φ = 0
    z_solution = np.stack([np.arcsin(y[:, 0]), y[:, 1]], axis=-1)
    z = z_solution + rng.uniform(-0.05, 0.05, z_solution.shape).astype(np.float32)
    dz = []
    for xi in (1.0, 32.0):
        to_x = np.array([xi / SIN_GLOBAL_SCALE, 1 / (SIN_GLOBAL_SCALE * xi)], np.float32)

        def loss_x(x_i, y_i, xi=xi):
            return sin_loss(x_i, y_i, xi, 0.0)

        dz.append(np.asarray(sip_inverse_step(loss_x, z * to_x, y)) / to_x)
    assert np.allclose(dz[0], dz[1], rtol=1e-3, atol=1e-5)


def test_saddle_free_direction_descends_and_caps_weak_directions():
    rng = np.random.default_rng(5)
    for _ in range(50):
        a = rng.normal(size=(2, 2))
        h = jnp.asarray(a + a.T, jnp.float32)
        g = jnp.asarray(rng.normal(size=2), jnp.float32)
        dx = np.asarray(saddle_free_newton_direction(g, h))
        assert float(np.dot(g, dx)) < 0  # a descent direction even for indefinite H
        s, v = np.linalg.eigh(np.asarray(h, np.float64))
        g_e = v.T @ np.asarray(g)
        step_e = v.T @ dx
        weak = s <= np.sqrt(abs(np.prod(s)))
        assert np.all(np.abs(g_e * step_e)[weak] <= 0.2 + 1e-5)  # predicted change ≤ 0.2
        strong = ~weak
        assert np.allclose(np.abs(step_e)[strong], np.abs(g_e / s)[strong], rtol=1e-4)


def test_inverse_step_validates_its_input():
    def loss_x(x_i, y_i):
        return sin_loss(x_i, y_i, 1.0, 0.0)

    with pytest.raises(ValueError, match="shape"):
        sip_inverse_step(loss_x, np.zeros(2), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="finite"):
        sip_inverse_step(loss_x, np.full((1, 2), np.nan), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="max_loss_change"):
        sip_inverse_step(loss_x, np.zeros((1, 2)), np.zeros((1, 2)), max_loss_change=0.0)


def test_proxy_loss_gradient_points_along_the_inverse_step():
    rng = np.random.default_rng(6)
    x = jnp.asarray(rng.normal(size=(10, 2)), jnp.float32)
    dx = jnp.asarray(rng.normal(size=(10, 2)), jnp.float32)
    grad_l1 = jax.grad(lambda x: sip_proxy_loss(x, x + dx, "l1"))(x)
    grad_l2 = jax.grad(lambda x: sip_proxy_loss(x, x + dx, "l2"))(x)
    assert np.allclose(grad_l1, -np.sign(dx) / 10)  # L1 keeps only the sign
    assert np.allclose(grad_l2, -dx / 10, atol=1e-7)
    # the target is a constant: no gradient flows into it
    assert np.allclose(jax.grad(lambda t: sip_proxy_loss(x, t, "l1"))(x + dx), 0.0)
    with pytest.raises(ValueError, match="l1, l2"):
        sip_proxy_loss(x, x, "l3")


# ---------------------------------------------------------------------------- optimisers


def test_rmsprop_and_adagrad_match_pytorch_formulas():
    grads = [jnp.array([0.5, -2.0]), jnp.array([1.0, 0.25]), jnp.array([-0.3, 0.0])]
    for method, lr in (("RMSprop", 3e-5), ("Adagrad", 3e-3)):
        optimizer = sin_optimizer(method, 1.0)
        params = jnp.array([1.0, -1.0])
        state = optimizer.init(params)
        expected = np.array([1.0, -1.0])
        accumulator = np.zeros(2)
        for g in grads:
            updates, state = optimizer.update(g, state, params)
            params = optax.apply_updates(params, updates)
            g = np.asarray(g, np.float64)
            if method == "RMSprop":
                accumulator = 0.99 * accumulator + 0.01 * g**2
                expected -= lr * g / (np.sqrt(accumulator) + 1e-8)
            else:
                accumulator += g**2
                expected -= lr * np.where(accumulator > 0, g / np.sqrt(accumulator + 1e-10), 0)
        assert np.allclose(params, expected, rtol=1e-6, atol=1e-9), method


def test_sgd_learning_rate_depends_on_xi():
    optimizer = sin_optimizer("SGD", 4.0)
    updates, _ = optimizer.update(jnp.ones(2), optimizer.init(jnp.zeros(2)))
    assert np.allclose(updates, -1e-2 / 16)
    with pytest.raises(ValueError, match="SIP, Adam, SGD"):
        sin_optimizer("LBFGS", 1.0)


# ---------------------------------------------------------------------------- training


def test_training_smoke_shapes_and_vmap_consistency():
    out = run_sin_sweep("SIP", [1.0, 32.0, 1.0], [45.0, 45.0, 45.0], 40, 20)
    assert set(out) == {"x_dist", "loss_y", "val_x_dist"}
    assert all(values.shape == (3, 2) for values in out.values())
    assert np.all(np.isfinite(out["val_x_dist"]))
    assert np.allclose(out["val_x_dist"][0], out["val_x_dist"][2])  # same setting, same run
    # alone, the run compiles for another batch width: equal up to float32 rounding
    single = run_sin_sweep("SIP", [32.0], [45.0], 40, 20)
    assert np.allclose(single["val_x_dist"][0], out["val_x_dist"][1], rtol=1e-3)


def test_sip_learns_where_adam_struggles():
    sip = run_sin_sweep("SIP", [32.0], [45.0], 600, 600)["x_dist"][0, -1]
    adam = run_sin_sweep("Adam", [32.0], [45.0], 600, 600)["x_dist"][0, -1]
    assert sip < adam / 3


def test_targets_are_uniform_in_the_square():
    y = np.asarray(sin_targets(jax.random.PRNGKey(0), 10000))
    assert y.shape == (10000, 2) and y.min() >= -1 and y.max() < 1
    assert np.allclose(y.mean(axis=0), 0.0, atol=0.03)


def test_training_bad_input_raises():
    with pytest.raises(ValueError, match="unknown method 'Newton'; known: SIP, Adam, SGD"):
        run_sin_sweep("Newton", [1.0], [0.0], 10, 10)
    for steps in (0, -5):
        with pytest.raises(ValueError, match="steps"):
            run_sin_sweep("Adam", [1.0], [0.0], steps, 1)
    with pytest.raises(ValueError, match="multiple of log_every"):
        run_sin_sweep("Adam", [1.0], [0.0], 10, 3)
    with pytest.raises(ValueError, match="equal length"):
        run_sin_sweep("Adam", [1.0, 2.0], [0.0], 10, 10)
    with pytest.raises(ValueError, match="xi"):
        run_sin_sweep("Adam", [1.0, 0.0], [0.0, 0.0], 10, 10)
    with pytest.raises(ValueError, match="phi"):
        run_sin_sweep("Adam", [1.0], [np.nan], 10, 10)
    with pytest.raises(ValueError, match="proxy"):
        run_sin_sweep("SIP", [1.0], [0.0], 10, 10, proxy="huber")


def test_non_finite_loss_stops_with_the_step():
    # SGD's learning rate 1e-2/ξ² = 1e4 for ξ = 1e-3 makes the network blow up
    with pytest.raises(ValueError, match=r"SGD: the loss became non-finite at step \d+"):
        run_sin_sweep("SGD", [1.0, 1e-3], [0.0, 0.0], 200, 100)


def test_sharded_sweep_on_two_devices_equals_one_device():
    xis, phis = [1.0, 32.0, 1.0], [45.0, 45.0, 0.0]
    single = run_sin_sweep("SIP", xis, phis, 40, 20)
    script = textwrap.dedent(
        f"""
        import json, jax
        from improved_gradients.sip_experiments import run_sin_sweep
        assert len(jax.devices()) == 2, jax.devices()
        out = run_sin_sweep("SIP", {xis}, {phis}, 40, 20)
        print(json.dumps({{k: v.tolist() for k, v in out.items()}}))
        """
    )
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    sharded = json.loads(done.stdout.strip().splitlines()[-1])
    for name, values in single.items():
        # each device runs a narrower vmap: equal up to float32 rounding, which training
        # amplifies (y2 = 320 x2 at ξ = 32); a mix-up of settings would differ by orders
        assert np.allclose(values, sharded[name], rtol=1e-2, atol=1e-6), name


# ---------------------------------------------------------------------------- experiments


def test_experiment_settings_cover_every_figure_without_duplicates():
    xis, phis, index = sip_experiments.experiment_settings()
    pairs = list(zip(xis.tolist(), phis.tolist()))
    assert len(pairs) == len(set(pairs))
    assert [pairs[i] for i in index["xi_sweep"]] == [
        (xi, 0.0) for xi in sip_experiments.XI_SWEEP]
    assert [pairs[i] for i in index["phi_sweep"]] == [
        (32.0, phi) for phi in sip_experiments.PHI_SWEEP]
    assert [pairs[i] for i in index["curves"]] == [(1.0, 45.0), (32.0, 45.0)]


def test_cli_smoke(tmp_path):
    env = dict(os.environ, JAX_PLATFORMS="cpu", MPLBACKEND="Agg")
    done = subprocess.run(
        [sys.executable, "-m", "improved_gradients", "sip-reproduce", "--steps", "20",
         "--log-every", "10", "--timing-steps", "10", "--methods", "SIP",
         "--out", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=300, check=True,
    )
    assert "final x-distance" in done.stdout
    summary = json.loads((tmp_path / "sip_results.json").read_text())
    assert summary["steps"] == {"SIP": 20}
    assert len(summary["final_val_x_dist"]["SIP"]) == 17
    with np.load(tmp_path / "sip_results.npz") as arrays:
        assert arrays["SIP/val_x_dist"].shape == (17, 2)
    for name in ("sip_curves", "sip_sweeps", "sip_landscape", "sip_proxy_ablation"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
        assert (tmp_path / f"{name}.svg").exists()


# ---------------------------------------------------------------------------- budgets


def test_paper_budget_follows_the_papers_cost_ratio():
    budget = sip_experiments.paper_budget()
    assert budget["Adam"] == sip_experiments.PAPER_ADAM_STEPS
    assert budget["Adam"] == 3 * budget["SIP"]
    assert all(budget[m] == budget["Adam"] for m in sip_experiments.WEAK_METHODS)
    half = sip_experiments.paper_budget(sip_experiments.EMULATED_FACTOR)
    assert half["SIP"] == sip_experiments.BOOK_STEPS
    assert all(n % sip_experiments.BOOK_LOG_EVERY == 0 for n in half.values())


@pytest.mark.parametrize("kwargs, name", [
    ({"factor": 0.0}, "factor"), ({"factor": float("nan")}, "factor"),
    ({"log_every": 0}, "log_every"), ({"methods": ["Newton"]}, "method"),
])
def test_paper_budget_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        sip_experiments.paper_budget(**kwargs)


def _fake_runs(steps_all, steps_curves, log_every=100):
    xis, phis, index = sip_experiments.experiment_settings()
    rng = np.random.default_rng(0)
    runs = {"all": {"settings": (xis, phis, index), "steps": {}},
            "curves": {"settings": (np.array([1.0, 32.0]), np.array([45.0, 45.0]),
                                    {"curves": [0, 1]}), "steps": {}},
            "log_every": log_every}
    for key, steps, n in (("all", steps_all, len(xis)), ("curves", steps_curves, 2)):
        for method, count in steps.items():
            logs = count // log_every
            runs[key][method] = {"val_x_dist": rng.uniform(0.1, 1.0, (n, logs))}
            runs[key]["steps"][method] = log_every * np.arange(1, logs + 1)
    return runs


def test_budget_view_cuts_runs_and_takes_curve_only_methods():
    runs = _fake_runs({"SIP": 800, "Adam": 2400, "SGD": 800}, {"SGD": 2400})
    view = sip_experiments.budget_view(runs, {"SIP": 800, "Adam": 1200, "SGD": 2400})
    assert view["Adam"]["val_x_dist"].shape == (17, 12)
    np.testing.assert_array_equal(view["Adam"]["val_x_dist"],
                                  runs["all"]["Adam"]["val_x_dist"][:, :12])
    assert "SGD" not in view and view["curve_runs"]["SGD"]["val_x_dist"].shape == (2, 24)
    curves = sip_experiments.learning_curves(view, 32.0)
    assert list(curves) == ["SIP", "Adam", "SGD"]
    np.testing.assert_array_equal(curves["SGD"][1], runs["curves"]["SGD"]["val_x_dist"][1])
    with pytest.raises(ValueError, match="SIP"):
        sip_experiments.budget_view(runs, {"SIP": 900})


def test_long_budget_record_round_trip(tmp_path):
    runs = _fake_runs({m: 2000 for m in sip_experiments.SIN_METHODS}, {})
    results = runs["all"]
    steps = {m: 2000 for m in sip_experiments.SIN_METHODS}
    record = sip_experiments.long_budget_record(results, None, steps, 100, {"command": "x"})
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    loaded = sip_experiments.load_long_budget_record(path)
    assert list(loaded["steps"]["SIP"]) == [1000, 2000]
    expected = sip_experiments.final_value(results["Adam"]["val_x_dist"])
    np.testing.assert_allclose(loaded["Adam"]["final"][:, -1], expected, rtol=1e-3)
    view = sip_experiments.outcomes(sip_experiments.record_view(loaded, steps))
    live = sip_experiments.outcomes(sip_experiments.budget_view(runs, steps))
    for method in sip_experiments.SIN_METHODS:
        np.testing.assert_allclose(view["xi_sweep"][method], live["xi_sweep"][method],
                                   rtol=1e-3)
    with pytest.raises(ValueError, match="checkpoint"):
        sip_experiments.record_view(loaded, {"SIP": 1500})
    with pytest.raises(ValueError, match="record"):
        sip_experiments.load_long_budget_record(tmp_path / "missing.json")


def _outcome(sip_xi, adam_xi, sip_phi, adam_phi, c1, c32):
    weak = {m: np.full(9, 1.5) for m in sip_experiments.WEAK_METHODS}
    return {"budget": {"SIP": 1, "Adam": 3}, "curves": {1.0: c1, 32.0: c32},
            "xi_sweep": {"SIP": np.asarray(sip_xi), "Adam": np.asarray(adam_xi)},
            "phi_sweep": {"SIP": np.asarray(sip_phi), "Adam": np.asarray(adam_phi), **weak}}


def _verdicts(outcome):
    """{short claim name: verdict label} of the page's claims on one outcome."""
    judged = claims.judge_page(sip_experiments.PAGE, sip_experiments.evidence_from({"b": outcome}))
    return {name.split("/", 1)[1]: row[0].result.label for name, row in judged.items()}


def test_claim_verdicts_follow_their_rules():
    c1 = {"SIP": 8e-4, "Adam": 4e-4, "SGD": 1.9e-3, "Adadelta": 1e-3, "Adagrad": 7e-4,
          "RMSprop": 6e-4}
    c32 = {"SIP": 1.3e-2, "Adam": 0.3, "SGD": 1.5, "Adadelta": 1.5, "Adagrad": 1.5,
           "RMSprop": 1.5}
    sip_xi = np.full(8, 4e-4)
    adam_xi = np.array([1, 1, 1, 1, 1, 9, 9, 9]) * 1e-4    # ahead up to ξ = 20
    paper_like = _outcome(sip_xi, adam_xi, np.full(9, 0.012),
                          np.linspace(0.012, 0.3, 9), c1, c32)
    assert set(_verdicts(paper_like).values()) == {"yes"}
    assert len(_verdicts(paper_like)) == 12
    c1_slow = dict(c1, Adadelta=3e-3)
    deviating = _outcome(sip_xi, np.array([1, 9, 9, 9, 9, 9, 9, 9]) * 1e-4, np.full(9, 0.012),
                         np.linspace(0.06, 0.3, 9), c1_slow, c32)
    verdicts = _verdicts(deviating)
    assert verdicts["xi1-all-converge"] == "partly"     # Adadelta above 2.1e-3
    assert verdicts["adam-ahead"] == "no"               # Adam ahead only at ξ = 1
    assert verdicts["adam-rotation"] == "no"            # rotation penalty 5: ×5 from 25


def test_verdicts_near_a_threshold_say_so():
    """The three values of issue 20 that sit on a threshold are shown as such."""
    c1 = {"SIP": 8e-4, "Adam": 4e-4, "SGD": 1e-3, "Adadelta": 2.095e-3, "Adagrad": 7e-4,
          "RMSprop": 6e-4}
    c32 = {"SIP": 1.3e-2, "Adam": 0.3, "SGD": 1.5, "Adadelta": 1.5, "Adagrad": 1.5,
           "RMSprop": 1.5}
    adam_xi = np.array([1, 1, 1, 1, 3.96, 9, 9, 9]) * 1e-4   # Adam/SIP 0.99 at ξ = 20
    weak_phi = np.full(9, 0.515)
    outcome = _outcome(np.full(8, 4e-4), adam_xi, np.full(9, 0.012),
                       np.linspace(0.012, 0.3, 9), c1, c32)
    outcome["phi_sweep"].update({m: weak_phi for m in sip_experiments.WEAK_METHODS})
    verdicts = _verdicts(outcome)
    for name in ("xi1-all-converge", "adam-ahead", "others-fail-phi"):
        assert verdicts[name] == "yes (at the threshold)", name
    assert verdicts["sip-flat-xi"] == "yes"


def test_stored_evidence_has_every_budget_and_the_record_last():
    """The discussion's evidence: the page's references for the short budgets (no sweeps:
    those claims are not run there), the record for the paper's budget and twice it; at
    the record's budget the verdicts equal the record's outcomes judged directly."""
    stored = sip_experiments.evidence()
    assert list(stored) == list(sip_experiments.BUDGETS)
    record = sip_experiments.load_long_budget_record()
    assert stored["record"]["budget"] == record["budget"]
    judged = claims.judge_page(sip_experiments.PAGE, stored)
    at_record = sip_experiments.outcomes(sip_experiments.record_view(record, record["budget"]))
    direct = claims.judge_page(sip_experiments.PAGE,
                               sip_experiments.evidence_from({"record": at_record}))
    for name, row in judged.items():
        assert row[-1].result == direct[name][0].result, name
    assert judged["sip-training/adam-ahead"][0].result.verdict == "not run"
    assert judged["sip-training/xi1-all-converge"][0].result.verdict != "not run"


def test_reproduce_budget_factor_validated_at_parse_time():
    for value in ("0", "-1", "nan", "abc"):
        done = subprocess.run(
            [sys.executable, "-m", "improved_gradients", "sip-reproduce", "--budget-factor",
             value], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, value
        assert "--budget-factor" in done.stderr


def test_shipped_record_matches_the_page_settings():
    record = sip_experiments.load_long_budget_record()
    xis, phis, index = sip_experiments.experiment_settings()
    np.testing.assert_array_equal(record["settings"][0], xis)
    np.testing.assert_array_equal(record["settings"][1], phis)
    assert record["budget"] == sip_experiments.paper_budget(sip_experiments.RECORD_FACTOR)
    for key in ("command", "commit", "date", "machine", "run_seconds"):
        assert record["provenance"][key]


def test_measure_cost_per_update_has_sip_and_adam():
    costs = sip_experiments.measure_cost_per_update(repeats=1)
    assert set(costs) == {"SIP", "Adam"} and all(0 < v < 1 for v in costs.values())


def test_discussion_summary_rows_from_the_stored_references():
    rows = sip_experiments.discussion_summary()
    assert len(rows) == 10
    for row in rows:
        assert {"experiment", "method", "metric", "value"} <= set(row) <= {
            "experiment", "method", "metric", "value", "note"}
        assert row["value"] > 0


def _power_law_record(p_adam, p_sip, adam_over_sip):
    """A record whose final x-distances follow exact power laws: Adam d = r·(n/n0)^(−p_adam)
    and SIP d = (n/n0')^(−p_sip) in the ξ sweep, checkpoints every 1000 steps."""
    xis, phis, index = sip_experiments.experiment_settings()
    steps = {"Adam": 1000 * np.arange(1, 13), "SIP": 1000 * np.arange(1, 5)}
    record = {"settings": (xis, phis, index), "steps": steps,
              "budget": {m: int(n[-1]) for m, n in steps.items()}}
    record["Adam"] = {"final": adam_over_sip * np.tile((steps["Adam"] / 6000.0) ** -p_adam,
                                                       (len(xis), 1))}
    record["SIP"] = {"final": np.tile((steps["SIP"] / 2000.0) ** -p_sip, (len(xis), 1))}
    return record


def test_record_convergence_follows_the_power_laws():
    record = _power_law_record(p_adam=1.0, p_sip=0.25, adam_over_sip=3.0)
    np.testing.assert_allclose(sip_experiments.decay_exponents(record, "Adam", 3000, 12000),
                               1.0, rtol=1e-6)
    rows = sip_experiments.adam_convergence(record, {"Adam": 6000, "SIP": 2000})
    assert [row["xi"] for row in rows] == list(sip_experiments.XI_SWEEP)
    row = rows[0]
    assert row["adam_doubling"] == pytest.approx(2.0)
    assert row["sip_doubling"] == pytest.approx(2 ** 0.25)
    assert (row["p_adam"], row["p_sip"]) == (pytest.approx(1.0), pytest.approx(0.25))
    assert row["lag_n"] == pytest.approx(3.0)
    assert row["lag_2n"] == pytest.approx(3.0 * 2 ** -0.75)
    assert "Adam/SIP at n" in sip_experiments.convergence_table(rows)
    with pytest.raises(ValueError, match="twice that"):
        sip_experiments.adam_convergence(record, {"Adam": 8000, "SIP": 2000})
    with pytest.raises(ValueError, match="fewer than 2 checkpoints"):
        sip_experiments.decay_exponents(record, "SIP", 5000, 9000)


def test_record_rerun_takes_the_code_path_that_wrote_the_record(tmp_path, monkeypatch):
    """A record written by ``sip-reproduce``'s path (run_methods over every setting, then
    long_budget_record) and re-run by ``rerun_record_prefix`` on the same machine agree
    to the record's four stored digits: ratio 1, not a mismatch the tolerance must hide."""
    steps = {"SIP": 2000}
    results = sip_experiments.run_methods(steps, 100, ["SIP"])
    record = sip_experiments.long_budget_record(results, None, steps, 100, {"command": "x"})
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    loaded = sip_experiments.load_long_budget_record(path)
    monkeypatch.setitem(sip_experiments.RECORD_CHECK, "steps", 1000)
    rerun, recorded = sip_experiments.rerun_record_prefix(loaded)
    assert rerun.shape == recorded.shape == (len(sip_experiments.experiment_settings()[0]),)
    np.testing.assert_allclose(rerun, recorded, rtol=6e-4)
    assert abs(sip_experiments.rerun_ratio(rerun, recorded) - 1) < 2e-4
    monkeypatch.setitem(sip_experiments.RECORD_CHECK, "steps", 1500)
    with pytest.raises(ValueError, match="no checkpoint of SIP at 1500"):
        sip_experiments.rerun_record_prefix(loaded)
    with pytest.raises(ValueError, match="positive"):
        sip_experiments.rerun_ratio([1.0, -1.0], [1.0, 1.0])
