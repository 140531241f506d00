"""The hig-oscillators page's figures; each ``figure_*`` function returns a matplotlib
figure (``common``'s convention): the notebook shows it, ``hig-oscillators-reproduce``
saves it."""

import matplotlib.pyplot as plt
import numpy as np

from .._checks import check_array, check_mapping, check_number, check_positive
from ..plotting import method_color
from . import (SYSTEMS, _check_runs, check_setting, completed,
               controls_and_states)
from .record import _check_record, completed_runs


def _draw_losses(axes, runs, title):
    """Test loss against steps (axes[0]) and measured seconds (axes[1]), the first seed of
    each method that did not diverge."""
    for name, results in runs.items():
        if not completed(results):
            continue
        run = completed(results)[0]
        for ax, key in zip(axes, ("step", "time")):
            ax.plot(np.maximum(run[key], 1 if key == "step" else 1e-2), run["test_loss"],
                    color=method_color(name), label=name)
    for ax, label in zip(axes, ("training steps", "measured training time [s]")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("test loss")
        ax.set_title(title)
    axes[0].legend()


def figure_losses(runs):
    """Test loss against steps and against measured time, one row per setting:
    ``runs`` {setting: {method: [result per seed]}} (``run_seeds``)."""
    check_mapping("runs", runs)
    for setting, setting_runs in runs.items():
        check_setting(setting)
        _check_runs(f"runs[{setting!r}]", setting_runs)
    fig, axes = plt.subplots(len(runs), 2, figsize=(12, 4.2 * len(runs)), squeeze=False)
    for row, (setting, setting_runs) in zip(axes, runs.items()):
        _draw_losses(row, setting_runs, f"{setting} chain")
    fig.tight_layout()
    return fig


def figure_controls(setting, runs, state0):
    """Controls u(t), positions x₁(t), x₂(t) and the path (x₁, x₂) of one test sample
    ``state0`` for every method of ``runs`` (the first seed that did not diverge)."""
    check_setting(setting)
    _check_runs("runs", runs, ("step", "time", "test_loss", "params"))
    check_array("state0", state0, (SYSTEMS[setting].state_size,))
    system = SYSTEMS[setting]
    times = system.dt * np.arange(system.steps + 1)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for name, results in runs.items():
        if not completed(results):
            continue
        controls, states = controls_and_states(setting, completed(results)[0]["params"], state0)
        color = method_color(name)
        axes[0].step(times[:-1], controls, where="post", color=color, label=name)
        axes[1].plot(times, states[:, 0], color=color, label=f"{name}")
        axes[1].plot(times, states[:, 1], color=color, linestyle="--")
        axes[2].plot(states[:, 0], states[:, 1], color=color, label=name)
        axes[2].plot(*states[-1, :2], "o", color=color, markersize=4)
    axes[2].plot(*np.asarray(state0)[:2], "kx", markersize=9, mew=2, label="start = target")
    axes[0].set(xlabel="t", ylabel="control u(t)", title="controls (held over each step)")
    axes[1].set(xlabel="t", ylabel="position", title="x₁(t) solid, x₂(t) dashed")
    axes[2].set(xlabel="x₁", ylabel="x₂", title="path in (x₁, x₂)")
    axes[0].legend()
    axes[2].legend()
    fig.suptitle(f"{setting} chain, first test sample")
    fig.tight_layout()
    return fig


def figure_spectra(spectra, tau):
    """Relative singular values (descending) for each labelled spectrum, with τ:
    ``spectra`` maps (label, line style) to a 1-D array."""
    check_mapping("spectra", spectra)
    for key, sigma in spectra.items():
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key)):
            raise ValueError(f"spectra must map (label, line style) to singular values, got "
                             f"the key {key!r}")
        check_array(f"spectra[{key!r}]", sigma, (None,), min_size=1)
    check_positive("tau", tau)
    fig, ax = plt.subplots(figsize=(7, 4))
    for (label, style), sigma in spectra.items():
        ax.semilogy(np.arange(1, sigma.size + 1), sigma, style, label=label)
    ax.axhline(tau, color="0.4", linestyle=":", label=f"τ = {tau:g}")
    ax.set(xlabel="index i", ylabel="σ_i / σ_max", title="joint Jacobian, B = 128")
    ax.legend()
    return fig


def figure_record(records, page_seconds=None):
    """Test loss against measured time in each long-budget record (``records``
    {setting: ``record.load_record(setting)``}), every seed of every method (thin lines),
    with the page's budget per setting (``page_seconds`` {setting: seconds}) marked."""
    check_mapping("records", records)
    if page_seconds is not None:
        check_mapping("page_seconds", page_seconds, min_size=0)
    fig, axes = plt.subplots(1, len(records), figsize=(6 * len(records), 4.2), squeeze=False)
    for ax, (setting, record) in zip(axes[0], records.items()):
        check_setting(setting)
        _check_record(record)
        for name in record["methods"]:
            for k, run in enumerate(completed_runs(record, name)):
                curve = run["curve"]
                ax.loglog(np.maximum(curve["time"], 1e-2), curve["test_loss"],
                          color=method_color(name), linewidth=1.2, alpha=0.85,
                          label=name if k == 0 else None)
        if page_seconds is not None and setting in page_seconds:
            ax.axvline(check_number("page_seconds", page_seconds[setting], 0, low_open=True),
                       color="0.4", linestyle=":", label="the page's budget")
        ax.set(xlabel="measured training time [s]", ylabel="test loss",
               title=f"{setting} chain, {record['seconds_per_run']:g} s per run")
        ax.legend()
    fig.tight_layout()
    return fig
