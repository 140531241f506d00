"""The hig-toy page's figures: the paper's three panels against wall-clock time, the loss
against steps, the probe's trajectory, the κ sweep and the diagram of the spaces.

The book's figure convention (``common``): the page calls ``figure_*``, which builds and
returns a figure; the ``plot_*``/``draw_*`` functions they are made of draw into the Axes
they are given, for a reader who wants to lay out their own.
"""

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from .._checks import (check_array, check_axes, check_choice, check_int, check_mapping,
                       check_number, check_optional, check_positive, check_text)
from ..plotting import (METHOD_COLORS, START_STYLE, TARGET_STYLE, diagram_arrow, diagram_box,
                        method_color)


def _check_runs(runs, keys):
    """{method: result of ``train_hig_toy``} for methods with a colour, each holding ``keys``."""
    check_mapping("runs", runs, entry_keys=keys)
    for method in runs:
        check_choice("method", method, tuple(METHOD_COLORS))
    return runs



def plot_hig_panels(axes, runs, lam, target, time_limit=None):
    """The paper's three panels for one λ against measured wall-clock time.

    axes: three Axes; runs: {method: result of ``train_hig_toy``}; target: the
    physical target (y1, y2) = (z1, λ·z2) of the probe sample. (1) validation loss (log scale),
    (2) mean ± std of the hidden tanh activations over the validation set, (3) the probe's
    physical output after every logged chunk, start grey and target black. Curves stop at
    ``time_limit`` seconds when given.
    """
    check_axes("axes", axes, 3)
    _check_runs(runs, ("time", "val_loss", "act_mean", "act_std", "probe", "step"))
    check_positive("lam", lam)
    check_array("target", target, (2,))
    check_optional(check_positive, "time_limit", time_limit)
    ax_loss, ax_act, ax_traj = axes
    for method, run in runs.items():
        color = method_color(method)
        keep = np.ones(len(run["time"]), bool) if time_limit is None else run["time"] <= time_limit
        t = run["time"][keep]
        ax_loss.semilogy(t, run["val_loss"][keep], color=color, label=method)
        mean, std = run["act_mean"][keep], run["act_std"][keep]
        ax_act.plot(t, mean, color=color, label=method)
        ax_act.fill_between(t, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)
    plot_hig_trajectory(ax_traj, runs, target, time_limit=time_limit)
    ax_loss.set(xlabel="wall-clock time [s]", ylabel="validation loss", title=f"loss, λ = {lam:g}")
    ax_act.set(xlabel="wall-clock time [s]", ylabel="hidden activation",
               title="neuron saturation: mean ± std", ylim=(-1.1, 1.1))
    ax_loss.legend()


def plot_hig_trajectory(ax, runs, target, time_limit=None, max_step=None):
    """The probe's physical output (y1, y2) = (z1, λ·z2) after every logged chunk for {method: result},
    start grey and target black; up to ``time_limit`` seconds or ``max_step`` steps."""
    check_axes("ax", ax)
    _check_runs(runs, ("time", "step", "probe"))
    check_array("target", target, (2,))
    check_optional(check_positive, "time_limit", time_limit)
    check_optional(check_int, "max_step", max_step, 0)
    for method, run in runs.items():
        keep = np.ones(len(run["time"]), bool)
        if time_limit is not None:
            keep &= run["time"] <= time_limit
        if max_step is not None:
            keep &= run["step"] <= max_step
        probe = run["probe"][keep]
        ax.plot(probe[:, 0], probe[:, 1], color=method_color(method), marker=".", markersize=3,
                linewidth=0.8, label=method)
    ax.scatter(*next(iter(runs.values()))["probe"][0], label="start", **START_STYLE)
    ax.scatter(*target, label="target", **TARGET_STYLE)
    ax.set(xlabel="y₁", ylabel="y₂ = λ z₂", title="physical trajectory of x = π/9")
    ax.legend(fontsize=8)


def plot_hig_loss_vs_steps(ax, runs, max_step=None, title=None):
    """Validation loss (log scale) against training steps for {label: result}; the colour
    is the method's when the label names one, else taken from the default cycle."""
    check_axes("ax", ax)
    check_mapping("runs", runs, entry_keys=("step", "val_loss"))
    check_optional(check_int, "max_step", max_step, 0)
    check_optional(check_text, "title", title, empty=True)
    for label, run in runs.items():
        keep = np.ones(len(run["step"]), bool) if max_step is None else run["step"] <= max_step
        style = {"color": METHOD_COLORS[label]} if label in METHOD_COLORS else {}
        ax.semilogy(run["step"][keep], run["val_loss"][keep], label=label, **style)
    ax.set(xlabel="training step", ylabel="validation loss", title=title)
    ax.legend(fontsize=8)


def plot_hig_kappa_sweep(ax, runs):
    """Validation loss against steps for {κ: result}, coloured from gradient (κ = 1) to
    Gauss-Newton (κ = −1) with HIG (κ = −½) drawn in the HIG colour."""
    check_axes("ax", ax)
    check_mapping("runs", runs, entry_keys=("step", "val_loss"))
    for kappa in runs:
        check_number("runs (its keys κ)", kappa, -1.0, 1.0)
    cmap = mpl.colormaps["viridis"]
    for kappa, run in sorted(runs.items(), reverse=True):
        if kappa == -0.5:
            style = dict(color=method_color("HIG"), linewidth=2.4)
        else:
            style = dict(color=cmap((1.0 - kappa) / 2.0), linewidth=1.2)
        ax.semilogy(run["step"], run["val_loss"], label=f"κ = {kappa:g}", **style)
    ax.set(xlabel="training step", ylabel="validation loss", title="the κ family at λ = 0.01")
    ax.legend(fontsize=8, ncol=2)


def draw_hig_spaces(ax):
    """Diagram of the HIG set-up: parameters θ → network f → z → physics P → y → loss,
    and the backward path that inverts network and physics jointly through J = ∂y/∂θ."""
    check_axes("ax", ax)
    ax.set_xlim(0, 14)
    ax.set_ylim(0, 6)
    ax.axis("off")
    boxes = [(0.3, "parameters θ", "30 weights\nand biases"),
             (3.8, "network output z", "z = f(x; θ)\n1 → 7 tanh → 2"),
             (7.3, "physical state y", "y = P(z)\n= (z₁, λ z₂)"),
             (10.8, "loss L", "½‖y − ŷ‖²\nper sample")]
    for left, title, text in boxes:
        diagram_box(ax, left, 2.7, 2.8, 1.7, text, title=title)
    for left in (3.15, 6.65, 10.15):
        diagram_arrow(ax, (left, 3.55), (left + 0.6, 3.55))
    ax.text(7.0, 4.95, "forward, per sample x: θ → z → y → L", ha="center", fontsize=9)
    hig, gd = method_color("HIG"), method_color("GD")
    diagram_arrow(ax, (12.2, 2.55), (8.7, 2.55), gd, rad=-0.35)
    ax.text(11.4, 1.35, "g = ∂L/∂y\n(per sample, stacked)", ha="center", va="top", fontsize=8.5,
            color=gd)
    diagram_arrow(ax, (8.7, 2.45), (1.7, 2.45), hig, rad=-0.25)
    ax.text(4.6, 0.75, r"$\Delta\theta = -\eta\, J^{\kappa} g$,   $J = \partial y/\partial\theta"
            r" = \partial P/\partial z \cdot \partial f/\partial\theta$  (network and physics "
            "inverted jointly)", ha="center", fontsize=8.5, color=hig)
    ax.text(4.6, 0.15, "κ = 1: gradient   κ = −½: HIG   κ = −1: Gauss-Newton",
            ha="center", fontsize=8.5, color=hig)


def _check_lambda_runs(runs):
    """{λ: {method: result}} for every λ of the page."""
    from . import LAMBDAS

    check_mapping("runs", runs, keys=LAMBDAS)
    return runs


def figure_spaces():
    """The diagram of the spaces (``draw_hig_spaces``)."""
    fig, ax = plt.subplots(figsize=(10, 4.2))
    draw_hig_spaces(ax)
    return fig


def figure_panels(runs):
    """The paper's three panels for each λ of the page (one row each) against measured
    time up to the page's budget, with the loss of fitting y₁ alone (dotted):
    ``runs`` {λ: {method: result of ``train_hig_toy``}}."""
    from . import LAMBDAS, TIME_BUDGET, Y1_ONLY_LOSS, probe_target

    _check_lambda_runs(runs)
    fig, axes = plt.subplots(len(LAMBDAS), 3, figsize=(14, 4.2 * len(LAMBDAS)))
    for row, lam in zip(axes, LAMBDAS):
        plot_hig_panels(row, runs[lam], lam, probe_target(), time_limit=TIME_BUDGET)
        row[0].axhline(Y1_ONLY_LOSS, color="0.6", linestyle=":", linewidth=1)
    fig.tight_layout()
    return fig


def figure_early_steps(runs):
    """The loss against steps over each method's step budget (``STEPS``) for each λ, and
    the probe's trajectory over HIG's budget at λ = 0.01: ``runs`` as for
    ``figure_panels``."""
    from . import LAMBDAS, STEPS, Y1_ONLY_LOSS, probe_target

    _check_lambda_runs(runs)
    fig, axes = plt.subplots(1, len(LAMBDAS) + 1, figsize=(15, 4.2))
    for ax, lam in zip(axes, LAMBDAS):
        prefix = {name: {k: v[run["step"] <= STEPS[name]] for k, v in run.items()
                         if k != "params"} for name, run in runs[lam].items()}
        plot_hig_loss_vs_steps(ax, prefix, title=f"loss, λ = {lam:g}")
        ax.set_xscale("symlog", linthresh=100)
        ax.axhline(Y1_ONLY_LOSS, color="0.6", linestyle=":", linewidth=1)
    plot_hig_trajectory(axes[-1], runs[0.01], probe_target(), max_step=STEPS["HIG"])
    axes[-1].set_title(f"λ = 0.01: trajectory over the first {STEPS['HIG']} steps")
    fig.tight_layout()
    return fig


def figure_kappa_sweep(runs):
    """Validation loss against steps for {κ: result} (``plot_hig_kappa_sweep``)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    plot_hig_kappa_sweep(ax, runs)
    return fig
