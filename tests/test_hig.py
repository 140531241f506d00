"""Tests of the HIG page's helpers: physics, stacked Jacobian, the SVD family, training."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from improved_gradients import hig_experiments, physics
from improved_gradients.__main__ import main
from improved_gradients.errors import TrainingDiverged
from improved_gradients.models import init_mlp_glorot, mlp_apply
from improved_gradients.updates import batch_jacobian, svd_power_update


def _random_jacobian(key, m=12, n=8, log_spread=3.0):
    """A full-rank (m, n) matrix with singular values spread over 10^±log_spread/2."""
    k1, k2 = jax.random.split(key)
    u, _ = jnp.linalg.qr(jax.random.normal(k1, (m, n)))
    v, _ = jnp.linalg.qr(jax.random.normal(k2, (n, n)))
    s = jnp.logspace(log_spread / 2, -log_spread / 2, n)
    return (u * s) @ v.T


def _network_physics(lam):
    def fn(params, x):
        return physics.hig_physics(mlp_apply(params, x, jnp.tanh), lam)

    return fn


# --- physics -----------------------------------------------------------------------


def test_target_and_reference_levels():
    np.testing.assert_allclose(physics.hig_target(np.pi / 9), [np.sqrt(3) / 2, -1.0], atol=1e-6)
    _, _, x_val, y_val = hig_experiments.toy_data()
    zero_loss = float(jnp.mean(physics.hig_sample_loss(jnp.zeros_like(y_val), y_val)))
    assert abs(zero_loss - hig_experiments.ZERO_OUTPUT_LOSS) < 5e-3
    y1_only = y_val.at[:, 1].set(0.0)
    assert abs(float(jnp.mean(physics.hig_sample_loss(y1_only, y_val))) - hig_experiments.Y1_ONLY_LOSS) < 5e-3


def test_physics_scales_second_output_and_loss():
    z = jnp.array([[1.0, 2.0], [-3.0, 4.0]])
    np.testing.assert_allclose(physics.hig_physics(z, 0.01), [[1.0, 0.02], [-3.0, 0.04]], rtol=1e-6)
    np.testing.assert_allclose(physics.hig_sample_loss(z, jnp.zeros_like(z)), [2.5, 12.5])


def test_data_is_fixed_and_in_range():
    a, b = physics.hig_data(3, 64, 16), physics.hig_data(3, 64, 16)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    x_train, y_train, x_val, y_val = a
    assert x_train.shape == (64, 1) and y_train.shape == (64, 2) and x_val.shape == (16, 1)
    assert float(x_train.min()) >= -1 and float(x_train.max()) <= 1
    np.testing.assert_allclose(y_val, physics.hig_target(x_val[:, 0]))


@pytest.mark.parametrize("lam", [0.0, -1.0, float("nan"), "big"])
def test_physics_rejects_bad_lambda(lam):
    with pytest.raises(ValueError, match="lam"):
        physics.hig_physics(jnp.zeros((3, 2)), lam)


def test_physics_rejects_bad_shapes():
    with pytest.raises(ValueError, match="z must have shape"):
        physics.hig_physics(jnp.zeros((3, 3)), 1.0)
    with pytest.raises(ValueError, match="y_target"):
        physics.hig_sample_loss(jnp.zeros((3, 2)), jnp.zeros((4, 2)))
    with pytest.raises(ValueError, match="n_train"):
        physics.hig_data(0, 1, 8)


# --- stacked Jacobian ----------------------------------------------------------------


def test_batch_jacobian_matches_loop_of_per_sample_jacobians():
    from jax.flatten_util import ravel_pytree

    params = init_mlp_glorot(jax.random.PRNGKey(1), [1, 7, 2])
    fn = _network_physics(0.01)
    xs = jnp.linspace(-1, 1, 5)[:, None]
    jac = batch_jacobian(fn, params, xs)
    assert jac.shape == (5 * 2, 30)
    flat, unravel = ravel_pytree(params)
    for i, x in enumerate(xs):
        per_sample = jax.jacfwd(lambda t, x=x: fn(unravel(t), x))(flat)
        np.testing.assert_allclose(jac[2 * i:2 * i + 2], per_sample, rtol=1e-5, atol=1e-6)
    # The physics scales the second row of every sample.
    jac_1 = batch_jacobian(_network_physics(1.0), params, xs)
    np.testing.assert_allclose(jac[1::2], 0.01 * jac_1[1::2], rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(jac[0::2], jac_1[0::2], rtol=1e-6)


def test_batch_jacobian_rejects_bad_input():
    params = init_mlp_glorot(jax.random.PRNGKey(1), [1, 7, 2])
    with pytest.raises(ValueError, match="batch"):
        batch_jacobian(_network_physics(1.0), params, jnp.zeros((0, 1)))
    with pytest.raises(ValueError, match="xs must be finite"):
        batch_jacobian(_network_physics(1.0), params, jnp.array([[jnp.nan]]))
    with pytest.raises(ValueError, match="vector"):
        batch_jacobian(lambda p, x: jnp.sum(mlp_apply(p, x)), params, jnp.zeros((3, 1)))


# --- the SVD family ------------------------------------------------------------------


def test_gauss_newton_equals_pseudo_inverse_step():
    jac = _random_jacobian(jax.random.PRNGKey(0))
    g = jax.random.normal(jax.random.PRNGKey(1), (12,))
    for tau in (1e-5, 0.02):
        expected = -0.7 * jnp.linalg.pinv(jac, rtol=tau) @ g
        np.testing.assert_allclose(svd_power_update(jac, g, -1.0, tau, eta=0.7), expected,
                                   rtol=2e-4, atol=1e-5)


def test_kappa_one_is_the_gradient_step():
    jac = _random_jacobian(jax.random.PRNGKey(2))
    g = jax.random.normal(jax.random.PRNGKey(3), (12,))
    np.testing.assert_allclose(svd_power_update(jac, g, 1.0, 1e-6, eta=0.3), -0.3 * jac.T @ g,
                               rtol=1e-4, atol=1e-5)


def test_half_inverse_squares_to_gauss_newton_on_square_jacobian():
    """For square invertible J = U Λ Vᵀ: J^{−½} applied, mapped by U Vᵀ, then J^{−½} again
    gives J⁻¹ — i.e. (V Λ^{−½} Uᵀ)(U Vᵀ)(V Λ^{−½} Uᵀ) = V Λ⁻¹ Uᵀ."""
    jac = _random_jacobian(jax.random.PRNGKey(4), m=6, n=6, log_spread=2.0)
    g = jax.random.normal(jax.random.PRNGKey(5), (6,))
    u, _, vt = jnp.linalg.svd(jac)
    half = -svd_power_update(jac, g, -0.5, 1e-6)
    twice = -svd_power_update(jac, u @ vt @ half, -0.5, 1e-6)
    np.testing.assert_allclose(twice, jnp.linalg.solve(jac, g), rtol=1e-3, atol=1e-4)


def test_hig_step_invariant_to_orthogonal_transform_of_output_space():
    jac = _random_jacobian(jax.random.PRNGKey(6))
    g = jax.random.normal(jax.random.PRNGKey(7), (12,))
    q, _ = jnp.linalg.qr(jax.random.normal(jax.random.PRNGKey(8), (12, 12)))
    for kappa in (-0.5, -1.0, 0.5):
        rotated = svd_power_update(q @ jac, q @ g, kappa, 1e-6)
        plain = svd_power_update(jac, g, kappa, 1e-6)
        assert float(jnp.linalg.norm(rotated - plain)) < 1e-3 * float(jnp.linalg.norm(plain))


def test_gauss_newton_invariant_to_rescaling_the_physics_but_gradient_is_not():
    """Scaling the second output of every sample by λ scales those rows of J and of g
    (D J, D g). For a square full-rank J the GN step (DJ)⁻¹ D g = J⁻¹ g is unchanged; the
    gradient step Jᵀ D² g is not."""
    jac = _random_jacobian(jax.random.PRNGKey(9), m=12, n=12, log_spread=1.0)
    g = jax.random.normal(jax.random.PRNGKey(10), (12,))
    scale = jnp.tile(jnp.array([1.0, 0.1]), 6)
    gn_scaled = svd_power_update(scale[:, None] * jac, scale * g, -1.0, 1e-6)
    gn_plain = svd_power_update(jac, g, -1.0, 1e-6)
    np.testing.assert_allclose(gn_scaled, gn_plain, rtol=1e-3, atol=1e-4)
    gd_scaled = svd_power_update(scale[:, None] * jac, scale * g, 1.0, 1e-6)
    gd_plain = svd_power_update(jac, g, 1.0, 1e-6)
    assert float(jnp.linalg.norm(gd_scaled - gd_plain)) > 0.1 * float(jnp.linalg.norm(gd_plain))


def test_truncation_removes_small_singular_directions_and_clamping_differs():
    jac = _random_jacobian(jax.random.PRNGKey(11), log_spread=4.0)
    _, s, vt = jnp.linalg.svd(jac, full_matrices=False)
    g = jax.random.normal(jax.random.PRNGKey(12), (12,))
    tau = 0.5 * float(s[5] / s[0])  # keeps σ_0 … σ_5, drops σ_6 and σ_7
    step = svd_power_update(jac, g, -0.5, tau)
    np.testing.assert_allclose(vt[6:] @ step, 0.0, atol=1e-4)
    assert float(jnp.min(jnp.abs(vt[:6] @ step))) > 1e-3
    clamped = svd_power_update(jac, g, -0.5, tau, mode="clamp")
    np.testing.assert_allclose(vt[:6] @ clamped, vt[:6] @ step, rtol=1e-3, atol=1e-5)
    # Clamping gives the dropped directions the weight (τ σ_max)^(−½), the largest of all.
    u, _, _ = jnp.linalg.svd(jac, full_matrices=False)
    np.testing.assert_allclose(vt[6:] @ clamped, -(tau * s[0]) ** -0.5 * (u[:, 6:].T @ g), rtol=1e-3)


def _float64_svd_reference(jac, g, kappa, tau, mode):
    """−J^κ g from numpy's float64 SVD of the (float32) matrix: the definition, computed directly."""
    u, s, vt = np.linalg.svd(np.asarray(jac, np.float64), full_matrices=False)
    if mode == "truncate":
        weight = np.where(s > tau * s[0], np.where(s > 0, s, 1.0) ** kappa, 0.0)
    else:
        weight = np.maximum(s, tau * s[0]) ** kappa
    return -(vt.T @ (weight * (u.T @ np.asarray(g, np.float64))))


@pytest.mark.parametrize("shape", [(256, 30), (24, 60)], ids=["tall", "wide"])
@pytest.mark.parametrize("mode", ["truncate", "clamp"])
def test_gram_eigendecomposition_matches_float64_svd(shape, mode):
    """The update goes through the float64 Gram matrix of the shorter side; on a float32 J
    whose singular values span 10^-6 … 1 it must agree with a float64 SVD of the same J."""
    m, n = shape
    jac = _random_jacobian(jax.random.PRNGKey(13), max(m, n), min(m, n), log_spread=6.0)
    jac = (jac if m >= n else jac.T).astype(jnp.float32)
    g = jax.random.normal(jax.random.PRNGKey(14), (shape[0],))
    for kappa in (1.0, 0.5, -0.5, -1.0):
        for tau in (1e-5, 1e-2):
            step = svd_power_update(jac, g, kappa, tau, mode=mode)
            assert step.dtype == jnp.float32 and step.shape == (shape[1],)
            expected = _float64_svd_reference(jac, g, kappa, tau, mode)
            np.testing.assert_allclose(step, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


def test_numerically_zero_singular_values_are_dropped_without_blowing_up():
    """A rank-deficient J (two equal columns, a zero row block): the directions with σ = 0
    get no weight in either mode, and κ = −1 still equals the pseudo-inverse step."""
    jac = _random_jacobian(jax.random.PRNGKey(15), log_spread=2.0)
    jac = jac.at[:, 7].set(jac[:, 6]).at[:4].set(0.0)
    g = jax.random.normal(jax.random.PRNGKey(16), (12,))
    for mode in ("truncate", "clamp"):
        step = svd_power_update(jac, g, -1.0, 1e-9, mode=mode)
        assert bool(jnp.all(jnp.isfinite(step)))
        np.testing.assert_allclose(step, -jnp.linalg.pinv(jac) @ g, rtol=1e-3, atol=1e-4)
    half = svd_power_update(jac, g, -0.5, 1e-9)
    assert float(half[6]) == pytest.approx(float(half[7]), rel=1e-4)
    np.testing.assert_array_equal(svd_power_update(jnp.zeros((6, 3)), jnp.ones(6), -0.5, 1e-3), 0.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(kappa=1.5, tau=1e-3), "kappa"),
        (dict(kappa=-1.01, tau=1e-3), "kappa"),
        (dict(kappa=-0.5, tau=0.0), "tau"),
        (dict(kappa=-0.5, tau=1.0), "tau"),
        (dict(kappa=-0.5, tau=1e-3, eta=-1.0), "eta"),
        (dict(kappa=-0.5, tau=1e-3, mode="round"), "mode"),
    ],
)
def test_svd_update_rejects_bad_settings(kwargs, message):
    jac, g = jnp.eye(4, 3), jnp.ones(4)
    with pytest.raises(ValueError, match=message):
        svd_power_update(jac, g, **kwargs)


def test_svd_update_rejects_bad_shapes_and_values():
    with pytest.raises(ValueError, match="stacked like the Jacobian"):
        svd_power_update(jnp.ones((6, 3)), jnp.ones(5), -0.5, 1e-3)
    with pytest.raises(ValueError, match="matrix"):
        svd_power_update(jnp.ones((2, 3, 3)), jnp.ones(2), -0.5, 1e-3)
    with pytest.raises(ValueError, match="jacobian must be finite"):
        svd_power_update(jnp.full((4, 3), jnp.nan), jnp.ones(4), -0.5, 1e-3)


# --- training --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_data():
    return physics.hig_data(0, 256, 64)


def test_training_smoke_and_determinism(small_data):
    runs = [hig_experiments.train_hig_toy(small_data, 0.01, "svd", steps=200, log_every=50,
                                   batch_size=32, kappa=-0.5, tau=1e-5) for _ in range(2)]
    run = runs[0]
    assert run["step"].tolist() == [0, 50, 100, 150, 200]
    assert run["probe"].shape == (5, 2) and run["params"].shape == (30,)
    assert run["val_loss"][-1] < 0.5 * run["val_loss"][0]
    assert np.all(np.diff(run["time"]) > 0)
    for key in ("val_loss", "act_mean", "act_std", "probe", "params"):
        np.testing.assert_array_equal(run[key], runs[1][key])
    adam = hig_experiments.train_hig_toy(small_data, 1.0, "adam", steps=200, log_every=100,
                                  batch_size=64, lr=1e-2)
    assert adam["val_loss"][-1] < adam["val_loss"][0]


def test_training_time_budget_extends_beyond_deterministic_steps(small_data):
    run = hig_experiments.train_hig_toy(small_data, 1.0, "adam", steps=100, log_every=100,
                                 batch_size=16, time_budget=0.05, max_steps=500)
    assert 100 <= run["step"][-1] <= 500


def test_training_reports_divergence_with_step(small_data):
    with pytest.raises(TrainingDiverged, match=r"not finite at step \d+") as info:
        hig_experiments.train_hig_toy(small_data, 1.0, "adam", steps=100, log_every=50,
                               batch_size=16, lr=1e30)
    assert "'adam'" in info.value.method and 1 <= info.value.step <= 100


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(method="newton"), "method"),
        (dict(kappa=2.0), "kappa"),
        (dict(tau=1.5), "tau"),
        (dict(steps=120, log_every=50), "multiple"),
        (dict(batch_size=0), "batch_size"),
        (dict(lam=-1.0), "lam"),
    ],
)
def test_training_rejects_bad_settings(small_data, kwargs, message):
    settings = dict(lam=1.0, method="svd", steps=100, log_every=50, batch_size=8)
    settings.update(kwargs)
    lam, method = settings.pop("lam"), settings.pop("method")
    with pytest.raises(ValueError, match=message):
        hig_experiments.train_hig_toy(small_data, lam, method, **settings)


def test_training_rejects_bad_data_shape(small_data):
    x_train, y_train, x_val, y_val = small_data
    with pytest.raises(ValueError, match="y_train"):
        hig_experiments.train_hig_toy((x_train, y_train[:10], x_val, y_val), 1.0, "svd", steps=10,
                               log_every=10, batch_size=4)


# --- experiments and command line ------------------------------------------------------


def test_summary_table_has_one_row_per_lambda_and_method():
    entry = dict(val_loss=np.array([1e-3, 2e-3, 3e-3]), act_mean=np.zeros(3), act_std=np.ones(3),
                 steps=10)
    table = hig_experiments.summary_table({(1.0, "HIG"): entry, (0.01, "GN"): entry})
    lines = table.splitlines()
    assert len(lines) == 3 and "0.002" in lines[1] and "[0.001, 0.003]" in lines[2]


def test_value_at_step_rejects_unlogged_step():
    run = {"step": np.array([0, 100]), "val_loss": np.array([1.0, 0.5])}
    assert hig_experiments.value_at_step(run, "val_loss", 100) == 0.5
    with pytest.raises(ValueError, match="not logged"):
        hig_experiments.value_at_step(run, "val_loss", 50)


def test_bench_command_smoke(capsys):
    code = main(["hig-bench", "--steps", "20", "--growth-steps", "10", "--repeats", "1",
                 "--batch-sizes", "8", "16", "--widths", "7", "9"])
    out = capsys.readouterr().out
    assert code == 0
    assert "HIG / Adam" in out and "as the batch grows" in out and "hidden width grows" in out


# --- claims ---------------------------------------------------------------------------


def test_claims_from_the_stored_references_say_what_the_page_says():
    from improved_gradients import claims

    judged = claims.judge_page(hig_experiments.PAGE, hig_experiments.evidence())
    assert list(judged) == [c.name for c in hig_experiments.claims.CLAIMS]
    verdicts = {name: row[-1].result.verdict for name, row in judged.items()}
    assert verdicts["hig-toy/hig-level"] == "yes"
    assert verdicts["hig-toy/adam-plateau-equal-time"] == "no"
    assert verdicts["hig-toy/hig-ahead-of-clamped-gn"] == "no"
    assert verdicts["hig-toy/gn-saturated"] == "not run"  # the activations are not stored


def test_evidence_from_runs_feeds_the_same_rules():
    from improved_gradients import claims

    entry = {"act_mean": np.zeros(3), "steps": 3000}
    seeds = {(0.01, "HIG"): {**entry, "val_loss": np.array([1e-3, 2e-3, 3e-3]),
                             "act_std": np.full(3, 0.5)},
             (0.01, "GN"): {**entry, "val_loss": np.full(3, 0.4), "act_std": np.full(3, 0.05)},
             (0.01, "Adam"): {**entry, "val_loss": np.full(3, 0.05), "act_std": np.ones(3),
                              "val_loss_short": np.full(3, 0.25)}}
    evidence = hig_experiments.evidence_from_runs(
        seeds, {("GN", 1e-3, "clamp"): np.full(3, 0.4)}, {"Adam": {"val_loss": np.array([0.3])}})
    verdicts = {name: row[0].result.verdict
                for name, row in claims.judge_page(hig_experiments.PAGE, evidence).items()}
    assert verdicts == {"hig-toy/hig-level": "yes", "hig-toy/gn-loss-level": "yes",
                        "hig-toy/gn-saturated": "yes", "hig-toy/adam-plateau-equal-time": "yes",
                        "hig-toy/hig-ahead-of-clamped-gn": "yes"}


def test_discussion_rows_carry_no_verdict():
    rows = hig_experiments.discussion_summary()
    assert {key for row in rows for key in row} == {"experiment", "method", "metric", "value", "note"}
