"""Coupled oscillators (page hig-oscillators): physics, the SIP control step, the shared
κ/τ update, bad input and the command line."""

import functools
import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from jax.flatten_util import ravel_pytree

from improved_gradients import hig_oscillators_experiments as osc
from improved_gradients import training, updates
from improved_gradients.__main__ import main
from improved_gradients.errors import TrainingDiverged
from improved_gradients.models import init_mlp_glorot, mlp_apply
from improved_gradients.physics import (
    LINEAR_CHAIN,
    PAPER_OSCILLATORS,
    OscillatorSystem,
    oscillator_data,
    oscillator_energy_kernel,
    oscillator_rhs_kernel,
    oscillator_simulate,
    oscillator_simulate_kernel,
)


# A short linear chain keeps the tests fast (the physics is the same function).
SHORT_CHAIN = OscillatorSystem(masses=2, linear=0.2, cubic=0.0, gain=1.0, steps=6, dt=0.5)


def _exact_linear(system, state0, controls):
    """Exact solution of the linear chain with piecewise-constant control (float64):
    the matrix exponential of the augmented system [[A, b u_k], [0, 0]] over each step."""
    n = system.masses
    laplace = np.zeros((n, n))
    for i in range(n - 1):
        laplace[i, i] -= 1
        laplace[i + 1, i + 1] -= 1
        laplace[i, i + 1] = laplace[i + 1, i] = 1
    a = np.block([[np.zeros((n, n)), np.eye(n)],
                  [-np.eye(n) + system.linear * laplace, np.zeros((n, n))]])
    b = np.zeros(2 * n)
    b[-1] = system.gain
    state = np.asarray(state0, np.float64)
    for u in controls:
        augmented = np.zeros((2 * n + 1, 2 * n + 1))
        augmented[:2 * n, :2 * n] = a
        augmented[:2 * n, -1] = b * u
        state = (scipy.linalg.expm(augmented * system.dt) @ np.append(state, 1.0))[:-1]
    return state


def test_rk4_is_fourth_order_on_the_linear_chain():
    state0 = np.array([0.3, 0.9, -0.2, 0.5])
    coarse = np.sin(np.arange(6) * 0.7)  # piecewise constant over the 6 coarse steps
    errors = []
    with jax.enable_x64(True):
        for refine in (1, 2, 4):
            system = OscillatorSystem(masses=2, linear=0.2, cubic=0.0, gain=1.0,
                                      steps=6 * refine, dt=0.5 / refine)
            controls = np.repeat(coarse, refine)
            final = oscillator_simulate(system, jnp.asarray(state0), jnp.asarray(controls))
            errors.append(np.linalg.norm(np.asarray(final) - _exact_linear(system, state0, controls)))
    ratios = errors[0] / errors[1], errors[1] / errors[2]
    assert 12 < ratios[1] < 20 and ratios[0] > 10, (errors, ratios)


def test_uncontrolled_chain_conserves_its_energy():
    state0 = np.array([[0.8, 0.1, 0.3, -0.6], [0.2, 0.9, 0.0, 0.4]])
    with jax.enable_x64(True):
        # RK4 is not symplectic: its energy error per step is O(dt⁵) (1 % after the
        # linear chain's 24 steps of 0.5, far less with the paper's dt = 0.125)
        for system, allowed in ((PAPER_OSCILLATORS, 1e-3), (LINEAR_CHAIN, 2e-2)):
            states = oscillator_simulate(system, jnp.asarray(state0),
                                         jnp.zeros((2, system.steps)), trajectory=True)
            energy = np.asarray(oscillator_energy_kernel(system, states))
            drift = np.abs(energy - energy[:, :1]).max() / energy[:, 0].min()
            assert drift < allowed, (system, drift)
            # and a constant push on the last mass does work on the chain
            pushed = oscillator_simulate(system, jnp.asarray(state0), jnp.ones((2, system.steps)))
            assert np.all(np.abs(oscillator_energy_kernel(system, pushed) - energy[:, 0]) > 1e-3)


def test_zero_control_at_rest_stays_at_rest():
    for system in (PAPER_OSCILLATORS, LINEAR_CHAIN):
        states = oscillator_simulate(system, jnp.zeros(4), jnp.zeros(system.steps), trajectory=True)
        assert states.shape == (system.steps + 1, 4)
        assert np.all(np.asarray(states) == 0.0)


def test_control_is_held_over_the_four_stages_of_a_step():
    system = OscillatorSystem(masses=2, linear=0.0, cubic=1.0, gain=3.0, steps=3, dt=0.125)
    state0 = jnp.array([0.4, 0.7, 0.1, -0.3])
    controls = jnp.array([0.5, -1.0, 2.0])
    states = oscillator_simulate(system, state0, controls, trajectory=True)

    def rhs(s, u):
        return oscillator_rhs_kernel(system, s, u)

    s, dt = state0, system.dt
    for k, u in enumerate(controls):  # RK4 written out, the same u_k at every stage
        k1 = rhs(s, u)
        k2 = rhs(s + dt / 2 * k1, u)
        k3 = rhs(s + dt / 2 * k2, u)
        k4 = rhs(s + dt * k3, u)
        s = s + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        np.testing.assert_allclose(states[k + 1], s, rtol=1e-6, atol=1e-7)
    # changing u_2 leaves the states before step 2 untouched and changes the last one
    changed = oscillator_simulate(system, state0, controls.at[2].set(0.0), trajectory=True)
    np.testing.assert_array_equal(changed[:3], states[:3])
    assert not np.allclose(changed[3], states[3])
    # the control acts on the last velocity only: ∂ṡ/∂u = (0, 0, 0, gain)
    np.testing.assert_allclose(jax.jacfwd(rhs, argnums=1)(state0, 0.0), [0, 0, 0, 3.0])


def test_sip_target_is_a_full_gauss_newton_step_whatever_the_batch():
    with jax.enable_x64(True):
        physics = functools.partial(oscillator_simulate_kernel, SHORT_CHAIN)
        rng = np.random.default_rng(0)
        x = jnp.asarray(rng.uniform(size=(8, 4)))
        u = jnp.asarray(rng.normal(size=(8, 6)) * 0.1)
        du, y = updates.sip_control_step_kernel(physics, x, u, x, 1e-6)
        du_one, _ = updates.sip_control_step_kernel(physics, x[:1], u[:1], x[:1], 1e-6)
        np.testing.assert_allclose(du[0], du_one[0], rtol=1e-12)  # no 1/B, no 2
        jac = np.asarray(jax.jacfwd(physics, argnums=1)(x[0], u[0]))
        np.testing.assert_allclose(du[0], -np.linalg.pinv(jac) @ np.asarray(y[0] - x[0]),
                                   rtol=1e-7, atol=1e-10)
        # the chain is linear in u: one Gauss-Newton step reaches the target exactly
        reached = physics(x, u + du)
        assert np.abs(np.asarray(reached - x)).max() < 1e-9
        # the source notebook's scaling (the pseudo-inverse applied to ∂(loss/B)/∂y) is
        # 2/B of this step: with B = 256 only 1/128 of the way
        source = updates.sip_control_step_kernel(physics, x[:1], u[:1], x[:1], 1e-6,
                                                  eta=2.0 / 256)[0]
        np.testing.assert_allclose(source[0] * 128, du[0], rtol=1e-12)


def _tiny_problem():
    network = functools.partial(mlp_apply, activation=jnp.tanh)
    physics = functools.partial(oscillator_simulate_kernel, SHORT_CHAIN)
    params = init_mlp_glorot(jax.random.PRNGKey(3), [4, 5, 6])
    train, test = oscillator_data(1, 64, 16, SHORT_CHAIN)
    return network, physics, params, (train, train, test, test)


@pytest.mark.parametrize("kappa", [-0.5, -1.0])
def test_hig_and_gn_steps_are_the_shared_svd_power_update(kappa):
    assert training.control_update_kernel is updates.control_update_kernel
    assert "svd_power_update_kernel(" in inspect.getsource(updates.control_update_kernel)
    network, physics, params, data = _tiny_problem()
    run = training.train_control_network(network, physics, params, data, "svd", steps=1,
                                         chunk_steps=1, batch_size=16, kappa=kappa, seed=5)
    # the same step by hand: the loop's batch, then the checked entry point
    _, k_batch = jax.random.split(jax.random.PRNGKey(5))
    xb = data[0][jax.random.randint(k_batch, (16,), 0, 64)]
    theta, unravel = ravel_pytree(params)
    jac = updates.batch_jacobian(lambda p, x: physics(x, network(p, x)), params, xb)
    y = jax.vmap(lambda x: physics(x, network(params, x)))(xb)
    g = (2.0 * (y - xb) / 16).reshape(-1)
    expected = updates.svd_power_update(jac, g, kappa, 1e-6)
    step = run["params"] - theta  # float32 Jacobians of two compilations: rounding only
    assert np.linalg.norm(step - expected) < 1e-3 * np.linalg.norm(expected)


def test_training_reports_the_step_where_it_diverged():
    network, physics, params, data = _tiny_problem()
    with pytest.raises(TrainingDiverged, match=r"GD-huge: training diverged.*at step \d+") as info:
        training.train_control_network(network, physics, params, data, "svd", steps=40,
                                       chunk_steps=20, batch_size=16, kappa=1.0, eta=1e8,
                                       name="GD-huge")
    assert info.value.method == "GD-huge" and 1 <= info.value.step <= 40


def test_a_non_finite_test_loss_is_a_divergence_naming_the_step():
    """Finite but huge test targets: training stays finite, the test loss overflows in
    float32, and the loop stops with TrainingDiverged after the first chunk."""
    network, physics, params, (x_train, y_train, x_test, y_test) = _tiny_problem()
    data = (x_train, y_train, x_test, y_test * 1e30)
    with pytest.raises(TrainingDiverged, match=r"Adam: the test loss is not finite after step 2"):
        training.train_control_network(network, physics, params, data, "adam", steps=4,
                                       chunk_steps=2, batch_size=8, name="Adam")


def test_run_seeds_keeps_a_diverged_run_and_raises_every_other_error(monkeypatch):
    """Only TrainingDiverged makes a result of a run (whatever its message says); any other
    ValueError is an error of the caller and propagates."""
    def run_method(setting, name, seed=0):
        if name == "GN":
            raise TrainingDiverged("GN: training diverged at step 4", method="GN", step=4)
        if name == "SIP":
            raise ValueError("a bug whose message happens to say: not finite")
        return {"step": np.array([0, 2]), "time": np.array([0.0, 1.0]),
                "test_loss": np.array([1.0, 0.5]), "train_loss": np.array([np.nan, 0.6]),
                "params": np.zeros(3)}

    monkeypatch.setattr(osc, "run_method", run_method)
    runs = osc.run_seeds("linear", seeds=(0, 1), methods=["Adam", "GN"])
    assert [len(osc.completed(r)) for r in runs.values()] == [2, 0]
    assert runs["GN"][0]["diverged"] == "GN: training diverged at step 4"
    assert np.all(np.isinf(osc.final_test_losses(runs)["GN"]))
    assert "0 of 2" in osc.seed_table(runs) and "2 of 2" in osc.seed_table(runs)
    with pytest.raises(ValueError, match="a bug"):
        osc.run_seeds("linear", seeds=(0,), methods=["SIP"])


def test_page_networks_have_the_sources_sizes():
    assert osc.parameter_count("nonlinear") == 2956
    assert osc.parameter_count("linear") == 1444
    x_train, y_train, x_test, _ = osc.page_data("nonlinear")
    assert x_train.shape == x_test.shape == (4096, 4)
    assert float(x_train.min()) >= 0 and float(x_train.max()) < 1
    np.testing.assert_array_equal(x_train, y_train)


_OK = dict(steps=1, chunk_steps=1, batch_size=4)
BAD_TRAINING = [
    (dict(method="newton"), "unknown method 'newton'; known: adam, svd, sip"),
    (dict(method="svd", kappa=2.0), "kappa must lie in"),
    (dict(method="svd", tau=0.0), "tau"),
    (dict(method="sip", tau=1.5), "tau"),
    (dict(method="adam", lr=-1.0), "lr"),
    (dict(method="adam", steps=0), "steps"),
    (dict(method="adam", steps=3, chunk_steps=2), "multiple of chunk_steps"),
    (dict(method="adam", time_budget=-1.0), "time_budget"),
]


@pytest.mark.parametrize("kwargs, message", BAD_TRAINING)
def test_bad_training_input(kwargs, message):
    network, physics, params, data = _tiny_problem()
    kwargs = {**_OK, **kwargs}
    method = kwargs.pop("method")
    with pytest.raises(ValueError, match=message):
        training.train_control_network(network, physics, params, data, method, **kwargs)


def test_bad_training_data_and_parameters():
    network, physics, params, data = _tiny_problem()
    with pytest.raises(ValueError, match="data must be"):
        training.train_control_network(network, physics, params, data[:2], "adam", **_OK)
    bad = (data[0], data[1][:10], data[2], data[3])
    with pytest.raises(ValueError, match="x_train"):
        training.train_control_network(network, physics, params, bad, "adam", **_OK)
    nan_params = [(w * np.nan, b) for w, b in params]
    with pytest.raises(ValueError, match="params must be finite"):
        training.train_control_network(network, physics, nan_params, data, "adam", **_OK)


BAD_SIMULATION = [
    (lambda: oscillator_simulate(PAPER_OSCILLATORS, jnp.zeros(3), jnp.zeros(96)), "state0 must have shape"),
    (lambda: oscillator_simulate(PAPER_OSCILLATORS, jnp.zeros((2, 5)), jnp.zeros((2, 96))), "state0"),
    (lambda: oscillator_simulate(PAPER_OSCILLATORS, jnp.zeros(4), jnp.zeros(95)), "one value per time step"),
    (lambda: oscillator_simulate(LINEAR_CHAIN, jnp.zeros(4), jnp.zeros(96)), r"\(\.\.\., 24\)"),
    (lambda: oscillator_simulate(PAPER_OSCILLATORS, jnp.zeros((2, 4)), jnp.zeros((3, 96))), "leading"),
    (lambda: oscillator_simulate(PAPER_OSCILLATORS, jnp.full(4, np.nan), jnp.zeros(96)), "state0 must be finite"),
    (lambda: oscillator_simulate("paper", jnp.zeros(4), jnp.zeros(96)), "OscillatorSystem"),
    (lambda: OscillatorSystem(dt=0.0), "dt must be a positive"),
    (lambda: OscillatorSystem(dt=-0.1), "dt must be a positive"),
    (lambda: OscillatorSystem(steps=0), "steps must be an integer"),
    (lambda: OscillatorSystem(steps=2.5), "steps must be an integer"),
    (lambda: OscillatorSystem(masses=0), "masses"),
    (lambda: OscillatorSystem(gain=np.inf), "gain must be a finite"),
    (lambda: osc.run_method("nonlinear", "BFGS"), "unknown method 'BFGS'; known: Adam, SIP, GN, HIG"),
    (lambda: osc.run_method("quadratic", "HIG"), "unknown setting"),
]


@pytest.mark.parametrize("call, message", BAD_SIMULATION)
def test_bad_simulation_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("argv", [
    ["hig-oscillators-bench", "--repeats", "0"],
    ["hig-oscillators-bench", "--steps", "-3"],
    ["hig-oscillators-bench", "--repeats", "two"],
    ["hig-oscillators-reproduce", "--seconds", "0"],
    ["hig-oscillators-reproduce", "--seconds", "nan"],
    ["hig-oscillators-reproduce", "--seeds", "-1"],
    ["hig-oscillators-reproduce", "--methods", "BFGS"],
    ["hig-oscillators-reproduce", "--setting", "quadratic"],
])
def test_command_line_rejects_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_hig_split_picks_enough_repeats_and_adds_up():
    split = osc.measure_hig_split("linear")
    assert split["shape"] == (128, 1444)
    assert split["repeats"] >= 5
    assert min(split["jacobian"], split["decomposition"], split["fused"]) > 0
    assert split["total"] == split["jacobian"] + split["decomposition"]  # parts add up
    assert osc.measure_hig_split("linear", repeats=2)["repeats"] == 2
    with pytest.raises(ValueError, match="repeats"):
        osc.measure_hig_split("linear", repeats=0)


def test_run_chunks_stops_at_the_first_non_finite_step_and_keeps_time():
    def chunk(state, inputs):
        count = state.count + 2
        bad = jnp.where((count >= inputs["bad_at"]) & (state.first_bad < 0), count - 1,
                        state.first_bad)
        return (training.LoopState(state.params + 1.0, None, None, bad, count),
                state.params.sum())

    state = training.LoopState(jnp.zeros(3), None, None, jnp.int32(-1), jnp.int32(0))
    seen = list(training.run_chunks(chunk, state, {"bad_at": 100}, 2, 6))
    assert [done for done, *_ in seen] == [2, 4, 6]
    assert [float(metrics) for *_, metrics in seen] == [0.0, 3.0, 6.0]
    assert all(b >= a for (_, a, _, _), (_, b, _, _) in zip(seen, seen[1:]))
    with pytest.raises(ValueError, match=r"toy: training diverged.*at step 4"):
        list(training.run_chunks(chunk, state, {"bad_at": 4}, 2, 10, label="toy"))
    timed = list(training.run_chunks(chunk, state, {"bad_at": 100}, 2, 2, time_budget=60.0,
                                     max_steps=8))
    assert timed[-1][0] == 8
