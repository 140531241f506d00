"""Tests of the sip-heat page: heat physics, inverse steps, data generator, U-Net, the
training loop's failure modes and the command line."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from improved_gradients import heat_experiments
from improved_gradients.__main__ import main
from improved_gradients.errors import TrainingDiverged
from improved_gradients.models import parameter_count, unet_apply_kernel, unet_init
from improved_gradients.physics import (
    HEAT_NU_T,
    heat_damping,
    heat_log_kernel,
    heat_loss_kernel,
    heat_physics,
    heat_rectangles,
    radial_power_spectrum,
)
from improved_gradients.heat_experiments import heat_optimizer
from improved_gradients.training import HEAT_METHODS, train_heat
from improved_gradients.updates import heat_inverse_step

N = 64


def _mode(kx, ky, n=N, phase=0.3):
    p = np.arange(n)
    return np.cos(2 * np.pi * (kx * p[:, None] + ky * p[None, :]) / n + phase)


# ---------------------------------------------------------------------------- physics


@pytest.mark.parametrize("kx, ky", [(0, 0), (1, 0), (3, 5), (-7, 2), (32, 32)])
def test_forward_damps_each_fourier_mode_by_its_factor(kx, ky):
    # a single Fourier mode is an eigenfunction of the heat equation: P(x) = e^{−νt(2π)²|f|²} x
    decay = np.exp(-HEAT_NU_T * (2 * np.pi) ** 2 * ((kx / N) ** 2 + (ky / N) ** 2))
    x = _mode(kx, ky)
    np.testing.assert_allclose(heat_physics(x), decay * x, atol=1e-13)


def test_forward_matches_a_direct_periodic_convolution():
    # direct check on a small grid: the heat kernel in space is the inverse FFT of the
    # damping; P(x) is the periodic convolution of x with it, summed explicitly
    n, nu_t = 8, 0.7
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, n))
    _, damping = heat_damping(n, nu_t)
    kernel = np.real(np.fft.ifft2(damping))
    direct = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            direct += x[i, j] * np.roll(np.roll(kernel, i, axis=0), j, axis=1)
    np.testing.assert_allclose(heat_physics(x, nu_t), direct, atol=1e-12)


def test_mean_is_conserved_and_batches_work():
    x = heat_rectangles(3, 5)
    y = heat_physics(x)
    assert y.shape == x.shape and y.dtype == np.float64
    np.testing.assert_allclose(y.mean(axis=(1, 2)), x.mean(axis=(1, 2)), atol=1e-14)


def test_inverse_undoes_the_forward_on_low_frequencies():
    x = 0.7 * _mode(1, 2) + 0.4 * _mode(3, 0, phase=1.0) + 0.2 * _mode(2, 4, phase=2.0)
    for inverse in ("bayes", "tikhonov"):
        dx = heat_inverse_step(heat_physics(x), heat_log_kernel(N, HEAT_NU_T), inverse=inverse, **(
            {"alpha": 1e-8} if inverse == "tikhonov" else {}))
        np.testing.assert_allclose(dx, x, atol=1e-6)


def test_gradient_of_the_y_loss_is_p_of_the_residual():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(2, N, N)), rng.normal(size=(2, N, N))
    with jax.enable_x64(True):
        grad = jax.grad(lambda v: jnp.sum(heat_loss_kernel(v, jnp.asarray(y), HEAT_NU_T)))(
            jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(grad), heat_physics(heat_physics(x) - y), atol=1e-12)


def test_radial_spectrum_of_a_single_mode():
    f, power = radial_power_spectrum(_mode(4, 0))
    assert np.argmax(power) == 4 and np.isclose(f[4], 4 / N)


# ---------------------------------------------------------------------------- generator


def test_generator_is_seeded_and_in_range():
    a, b = heat_rectangles((0, 5), 16), heat_rectangles((0, 5), 16)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, heat_rectangles((0, 6), 16))
    assert not np.allclose(heat_rectangles(2022, 4), heat_rectangles(0, 4))
    assert a.shape == (16, N, N) and a.dtype == np.float64
    assert a.min() >= 0.0 and a.max() < 10.0  # at most 10 rectangles of strength < 1
    # one rectangle of half-size < 1 covers only a few cells; soft edges give values in (0, 1)
    one = heat_rectangles(1, 64, count_range=(1, 1), max_half_size=1.0)
    assert np.all((one > 0).sum(axis=(1, 2)) <= 16)


# ---------------------------------------------------------------------------- network


def test_unet_has_the_sources_parameter_count_and_shape():
    # shapes only (jax.eval_shape traces without computing)
    params = jax.eval_shape(lambda: unet_init(0))
    assert parameter_count(params) == 37697  # ≈ 37.7 k
    out = jax.eval_shape(unet_apply_kernel, params, jax.ShapeDtypeStruct((3, N, N), jnp.float64))
    assert out.shape == (3, N, N) and out.dtype == jnp.float32


# ---------------------------------------------------------------------------- bad input

GRID = np.zeros((N, N))
BAD_INPUT = [
    ("1-D grid", lambda: heat_physics(np.zeros(N)), "x"),
    ("non-square grid", lambda: heat_physics(np.zeros((N, N // 2))), "x"),
    ("nu_t zero", lambda: heat_physics(GRID, 0.0), "nu_t"),
    ("nu_t negative", lambda: heat_physics(GRID, -1.0), "nu_t"),
    ("non-finite x", lambda: heat_physics(np.full((2, N, N), np.nan)), "x"),
    ("non-finite residual",
     lambda: heat_inverse_step(np.full((N, N), np.inf), heat_log_kernel(N, HEAT_NU_T)), "residual"),
    ("unknown inverse",
     lambda: heat_inverse_step(GRID, heat_log_kernel(N, HEAT_NU_T), inverse="newton"), "inverse"),
    ("residual on another grid",
     lambda: heat_inverse_step(GRID, heat_log_kernel(N // 2, HEAT_NU_T)), "residual"),
    ("log kernel with negative exponents",
     lambda: heat_inverse_step(GRID, -heat_log_kernel(N, HEAT_NU_T)), "log_kernel"),
    ("count too small", lambda: heat_rectangles(0, 2, count_range=(0, 5)), "count_range"),
    ("count too large", lambda: heat_rectangles(0, 2, count_range=(4, 30)), "count_range"),
    ("count reversed", lambda: heat_rectangles(0, 2, count_range=(6, 5)), "count_range"),
    ("size too large", lambda: heat_rectangles(0, 2, max_half_size=40.0), "max_half_size"),
    ("size zero", lambda: heat_rectangles(0, 2, max_half_size=0.0), "max_half_size"),
    ("negative seed", lambda: heat_rectangles(-1, 2), "seed"),
    ("unknown method", lambda: heat_optimizer("LBFGS", 8), "method"),
    ("unknown run", lambda: heat_experiments.check_runs(["SIP", "Newton"]), "method"),
    ("unet grid", lambda: unet_init(0, n=60), "n"),
    ("32 × 32 validation set for the 64 × 64 network",
     lambda: heat_experiments.run_methods(["SIP"], x_val=np.zeros((2, 32, 32))), "x_val"),
    ("validation grid other than the batches'",
     lambda: train_heat("SIP", {}, lambda step: heat_rectangles((0, step), 2, n=16, max_half_size=4.0),
                        np.zeros((2, 32, 32)), optimizer=heat_optimizer("SIP", 2), steps=1,
                        log_every=1, nu_t=1.0), "x_val"),
    ("log kernel of an empty grid", lambda: heat_log_kernel(0, 8.0), "n"),
    ("log kernel with negative nu_t", lambda: heat_log_kernel(8, -1.0), "nu_t"),
]


@pytest.mark.parametrize("case, call, name", BAD_INPUT, ids=[case for case, *_ in BAD_INPUT])
def test_bad_input_raises_a_named_value_error(case, call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_unknown_method_lists_the_known_ones():
    with pytest.raises(ValueError) as info:
        heat_optimizer("LBFGS", 8)
    assert all(method in str(info.value) for method in HEAT_METHODS)


def test_training_stops_at_a_non_finite_loss_naming_step_and_method():
    n = 16

    def batches(step):  # the batch of step 1 is broken
        x = heat_rectangles((0, step), 2, n=n, max_half_size=4.0)
        return x * np.nan if step == 1 else x

    params = unet_init(0, n=n)
    with pytest.raises(ValueError, match=r"batch of step 1 must be finite"):
        train_heat("SIP", params, batches, heat_rectangles(1, 2, n=n, max_half_size=4.0),
                   optimizer=heat_optimizer("SIP", 2), steps=2, log_every=1, nu_t=1.0)
    params = jax.tree_util.tree_map(lambda p: p * np.nan, params)
    with pytest.raises(TrainingDiverged, match=r"step 0 \(method 'Adam'\)") as info:
        train_heat("Adam", params, batches, heat_rectangles(1, 2, n=n, max_half_size=4.0),
                   optimizer=heat_optimizer("Adam", 2), steps=2, log_every=1, nu_t=1.0)
    assert (info.value.method, info.value.step) == ("Adam", 0)


# ---------------------------------------------------------------------------- command line

BAD_ARGUMENTS = [
    ["sip-heat-reproduce", "--batch", "0"],
    ["sip-heat-reproduce", "--steps", "-5"],
    ["sip-heat-reproduce", "--seconds", "nan"],
    ["sip-heat-reproduce", "--methods", "Newton"],
    ["sip-heat-reproduce", "--steps", "30", "--log-every", "7"],
    ["sip-heat-bench", "--repeats", "0"],
    ["sip-heat-bench", "--batch", "two"],
]


@pytest.mark.parametrize("argv", BAD_ARGUMENTS, ids=[" ".join(a) for a in BAD_ARGUMENTS])
def test_command_line_rejects_bad_arguments_with_exit_2(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main([*argv, *(["--out", str(tmp_path)] if argv[0].endswith("reproduce") else [])])
    assert info.value.code == 2
    assert not any(tmp_path.iterdir())
