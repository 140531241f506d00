"""The sip-training page's figures: the loss landscape, the diagrams of SIP's spaces and
of one SIP step, learning curves, sweeps, the budgets and the long-budget record. Each
``figure_*`` returns a figure in the book's style; the page shows it, ``sip-reproduce``
saves it (``common.save_figures``).
"""

import jax
import matplotlib.pyplot as plt
import numpy as np

from .._checks import (check_array, check_axes, check_choice, check_mapping, check_optional,
                       check_positive, check_positive_int, check_text)
from ..physics import (SIN_GLOBAL_SCALE, check_sin_setting, rotate, sin_loss, sin_physics,
                       x_distance)
from ..plotting import START_STYLE, TARGET_STYLE, diagram_arrow, diagram_box, method_color
from ..updates import sip_inverse_step
from .runs import (BOOK_STEPS, CURVE_PHI, CURVE_XIS, LANDSCAPE, LANDSCAPE_BOX, PAPER_ADAM_STEPS,
                   PAPER_COST_PER_STEP, PAPER_SECONDS, PHI_SWEEP, PHI_SWEEP_XI, XI_SWEEP,
                   XI_SWEEP_PHI, _check_outcomes, _check_results, learning_curves, outcomes,
                   record_view, sweep_values)
from .sweep import SIN_METHODS


def exact_solutions(y_target, xi, phi_deg, box=LANDSCAPE_BOX):
    """All exact solutions P(x) = y* inside the box ((x1 min, max), (x2 min, max)), (k, 2)."""
    y_target = np.asarray(y_target, dtype=np.float64)
    x_distance(np.zeros(2), y_target, xi, phi_deg)  # validates the setting and the target
    radius = np.hypot(*(np.abs(np.asarray(box)).max(axis=1)))
    n_max = int(np.ceil(radius * SIN_GLOBAL_SCALE / xi / (2 * np.pi))) + 1
    branch = np.arcsin(y_target[0])
    z1 = np.concatenate([b + 2 * np.pi * np.arange(-n_max, n_max + 1) for b in (branch, np.pi - branch)])
    x_rot = np.stack([z1 * xi / SIN_GLOBAL_SCALE, np.full_like(z1, y_target[1] / (SIN_GLOBAL_SCALE * xi))], -1)
    x = np.asarray(rotate(x_rot, -phi_deg))
    inside = np.all((x >= np.asarray(box)[:, 0]) & (x < np.asarray(box)[:, 1]), axis=1)
    return x[inside][np.argsort(x[inside][:, 0])]


def landscape_grid(xi, phi_deg, y_target, box=LANDSCAPE_BOX, resolution=241, power=0.2):
    """(x1, x2, L^power) on a grid over the box; L^0.2 makes the valleys visible."""
    check_array("y_target", y_target, (2,))
    box = check_array("box", box, (2, 2))
    if not np.all(box[:, 0] < box[:, 1]):
        raise ValueError(f"box must be ((x1 min, x1 max), (x2 min, x2 max)) with min < max, got {box}")
    resolution = check_positive_int("resolution", resolution)
    if resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution}")
    power = check_positive("power", power)
    x1 = np.linspace(*box[0], resolution)
    x2 = np.linspace(*box[1], resolution)
    grid = np.stack(np.meshgrid(x1, x2), axis=-1)
    loss = sin_loss(grid, np.broadcast_to(np.asarray(y_target, np.float32), grid.shape), xi, phi_deg)
    return x1, x2, np.asarray(loss) ** power


def plot_sip_landscape(ax, x1, x2, loss_grid, solutions=None, levels=20):
    """Filled contours of ``loss_grid`` (shape (len(x2), len(x1))) and the exact solutions
    (array (k, 2)) as crosses; returns the contour set for a colour bar."""
    check_axes("ax", ax)
    _check_grid(x1, x2, loss_grid)
    check_optional(check_array, "solutions", solutions, (None, 2))
    check_positive_int("levels", levels)
    contours = ax.contourf(x1, x2, loss_grid, levels=levels, cmap="viridis")
    if solutions is not None and len(solutions):
        ax.scatter(solutions[:, 0], solutions[:, 1], label="exact solutions", **TARGET_STYLE)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    ax.grid(False)
    return contours


def plot_sip_curves(ax, curves, seconds_per_step=None, ylabel="x-distance"):
    """Learning curves on a log scale: ``curves`` maps a method to (steps, values).

    With ``seconds_per_step`` (a dict per method) the x axis is the measured time.
    """
    check_axes("ax", ax)
    check_mapping("curves", curves)
    for method, curve in curves.items():
        check_choice("method", method, SIN_METHODS)
        if not isinstance(curve, (tuple, list)) or len(curve) != 2:
            raise ValueError(f"curves[{method!r}] must be the pair (steps, values)")
        steps = check_array(f"curves[{method!r}] steps", curve[0], (None,), min_size=1)
        check_array(f"curves[{method!r}] values", curve[1], steps.shape, finite=False)
    if seconds_per_step is not None:
        check_mapping("seconds_per_step", seconds_per_step, keys=tuple(curves))
        for method in curves:
            check_positive(f"seconds_per_step[{method!r}]", seconds_per_step[method])
    check_text("ylabel", ylabel, empty=True)
    for method, (steps, values) in curves.items():
        x = steps if seconds_per_step is None else steps * seconds_per_step[method]
        ax.plot(x, values, color=method_color(method), label=method)
    ax.set_yscale("log")
    ax.set_xlabel("training step" if seconds_per_step is None else "time [s] (measured)")
    ax.set_ylabel(ylabel)


def plot_sip_sweep(ax, values, sweep, xlabel, ylabel, log_x=False, linestyle="-", label=True):
    """One line per method over the sweep points: ``values`` maps a method to an array."""
    check_axes("ax", ax)
    points = check_array("sweep", sweep, (None,), min_size=1)
    check_mapping("values", values)
    for method, series in values.items():
        check_choice("method", method, SIN_METHODS)
        check_array(f"values[{method!r}]", series, points.shape, finite=False)
    check_text("xlabel", xlabel, empty=True)
    check_text("ylabel", ylabel, empty=True)
    for method, series in values.items():
        ax.plot(sweep, series, linestyle, marker="o", markersize=3.5, color=method_color(method),
                label=method if label else None)
    ax.set_yscale("log")
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def draw_sip_spaces(ax):
    """The three spaces of SIP training: the network maps y* to x, the physics P maps x to
    y, the loss compares y with y*; SIP's inverse step goes back from y to x and the
    network receives the proxy loss in x space."""
    check_axes("ax", ax)
    ax.set_xlim(0, 13)
    ax.set_ylim(0, 5)
    ax.axis("off")
    sip = method_color("SIP")
    for center, text, color in [(1.3, "target $y^*$", "#f0f0f0"),
                                (4.6, "network\n$f(y^*;\\theta)$", "#dbe9f6"),
                                (7.9, "$x$ (inputs of P)", "#e5f5e0"),
                                (11.4, "$y = P(x)$", "#fdebd0")]:
        diagram_box(ax, center - 1.1, 2.7, 2.2, 1.0, text, facecolor=color)
    for start in (2.45, 5.75, 9.05):
        diagram_arrow(ax, (start, 3.2), (start + (1.2 if start > 9 else 1.0), 3.2))
    ax.text(9.65, 3.45, "$P$", ha="center", va="bottom", fontsize=9)
    ax.text(11.4, 4.3, "$L = \\frac{1}{2}\\|y - y^*\\|^2$", ha="center", fontsize=10)
    diagram_arrow(ax, (11.4, 2.6), (8.3, 2.6), sip, rad=-0.35)
    ax.text(9.85, 1.3, "inverse step $P^{-1}(y + \\Delta y;\\,x)$", ha="center", va="bottom",
            fontsize=9, color=sip)
    diagram_arrow(ax, (7.5, 2.6), (4.9, 2.6), sip, rad=-0.35)
    ax.text(6.2, 1.4, "proxy loss in $x$: Adam on $\\theta$", ha="center", va="bottom",
            fontsize=9, color=sip)
    ax.text(0.2, 0.3, "black: forward pass (and plain backpropagation);  "
            "red: what SIP does instead of backpropagating through $P$",
            fontsize=8.5, color="0.3")


def plot_sip_step_diagram(axes, x1, x2, loss_grid, x, x_target, gradient_step, y, y_new,
                          y_target):
    """One SIP step for one batch entry: left, y space (y, the target y*, the step Δy);
    right, x space over the contours of L (x, x̃ = x + Δx, and a gradient step)."""
    check_axes("axes", axes, 2)
    _check_grid(x1, x2, loss_grid)
    for name, point in (("x", x), ("x_target", x_target), ("gradient_step", gradient_step),
                        ("y", y), ("y_new", y_new), ("y_target", y_target)):
        check_array(name, point, (2,))
    sip, gd = method_color("SIP"), method_color("SGD")
    ax_y, ax_x = axes
    ax_y.scatter(*y, **START_STYLE, label="$y = P(x)$")
    ax_y.scatter(*y_target, **TARGET_STYLE, label="$y^*$")
    ax_y.annotate("", xy=y_new, xytext=y, arrowprops=dict(arrowstyle="-|>", color=sip, lw=2))
    ax_y.text(0.5 * (y[0] + y_new[0]), 0.5 * (y[1] + y_new[1]), "  $\\Delta y = y^* - y$", color=sip)
    ax_y.set_xlabel("$y_1$")
    ax_y.set_ylabel("$y_2$")
    ax_y.set_title("y space: Newton step on L")
    ax_y.legend(loc="lower right")
    ax_x.contourf(x1, x2, loss_grid, levels=20, cmap="viridis")
    ax_x.scatter(*x, **START_STYLE, label="$x$")
    ax_x.annotate("", xy=x_target, xytext=x, arrowprops=dict(arrowstyle="-|>", color=sip, lw=2))
    ax_x.scatter(*x_target, color=sip, marker="*", s=120, zorder=6,
                 label="$\\tilde x = x + \\Delta x$")
    ax_x.annotate("", xy=x + gradient_step, xytext=x,
                  arrowprops=dict(arrowstyle="-|>", color=gd, lw=2))
    ax_x.plot([], [], color=gd, label="gradient step $-\\eta\\nabla_x L$")
    ax_x.set_xlabel("$x_1$")
    ax_x.set_ylabel("$x_2$")
    ax_x.set_title("x space: proxy target for the network")
    ax_x.set_aspect("equal")
    ax_x.grid(False)
    ax_x.legend(loc="lower right", fontsize=8)


def _check_grid(x1, x2, loss_grid):
    """The grid of ``landscape_grid``: x1 (n1,), x2 (n2,), loss_grid (n2, n1)."""
    x1 = check_array("x1", x1, (None,), min_size=2)
    x2 = check_array("x2", x2, (None,), min_size=2)
    check_array("loss_grid", loss_grid, (x2.shape[0], x1.shape[0]))


def figure_spaces():
    """The diagram of the three spaces of SIP training (``draw_sip_spaces``)."""
    fig, ax = plt.subplots(figsize=(9.0, 3.4))
    draw_sip_spaces(ax)
    return fig


def figure_sip_step(xi=2.0, phi_deg=15.0, y_target=(0.3, -0.5), x=(0.12, 0.02)):
    """One SIP step for one sample, computed: Δx from ``sip_inverse_step``, the gradient
    step scaled to the same length for comparison."""
    check_sin_setting(xi, phi_deg)
    check_array("x", x, (2,))
    check_array("y_target", y_target, (2,))
    x = np.asarray(x, np.float32)
    y_target = np.asarray(y_target, np.float32)

    def loss_x(x_i, y_i):
        return sin_loss(x_i, y_i, xi, phi_deg)

    dx = np.asarray(sip_inverse_step(loss_x, x[None], y_target[None]))[0]
    grad = np.asarray(jax.grad(loss_x)(x, y_target))
    gradient_step = -grad / np.linalg.norm(grad) * np.linalg.norm(dx)
    y = np.asarray(sin_physics(x, xi, phi_deg))
    box = ((-0.3, 0.4), (-0.15, 0.15))
    x1, x2, grid = landscape_grid(xi, phi_deg, y_target, box=box)
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.8), gridspec_kw={"width_ratios": [1, 1.6]})
    plot_sip_step_diagram(axes, x1, x2, grid, x, x + dx, gradient_step, y, y_target, y_target)
    fig.tight_layout()
    return fig


def figure_landscape():
    """Contours of L^0.2 at the page's LANDSCAPE setting, with its exact solutions."""
    fig, ax = plt.subplots(figsize=(8.0, 4.0))
    x1, x2, grid = landscape_grid(**LANDSCAPE)
    contours = plot_sip_landscape(ax, x1, x2, grid, exact_solutions(**LANDSCAPE))
    fig.colorbar(contours, ax=ax, label="$L^{0.2}$", shrink=0.8)
    ax.set_title(f"$\\xi$ = {LANDSCAPE['xi']:g}, $\\varphi$ = {LANDSCAPE['phi_deg']:g}°, "
                 f"$y^*$ = {LANDSCAPE['y_target']}")
    ax.legend(loc="upper right")
    return fig


def _curve_grid(view, seconds_per_step, time_axis):
    """Learning curves at the curve settings (rows): against steps (left) and against
    time (right, ``seconds_per_step`` per method, titled "<ξ>: ``time_axis``")."""
    fig, axes = plt.subplots(2, 2, figsize=(10.0, 7.0), sharey="row")
    for row, xi in enumerate(CURVE_XIS):
        curves = learning_curves(view, xi)
        plot_sip_curves(axes[row, 0], curves)
        plot_sip_curves(axes[row, 1], curves, seconds_per_step)
        axes[row, 0].set_title(f"$\\xi$ = {xi:g}, $\\varphi$ = {CURVE_PHI:g}°: against steps")
        axes[row, 1].set_title(f"$\\xi$ = {xi:g}: {time_axis}")
    axes[0, 0].legend(ncol=2, fontsize=8)
    return fig, axes


def figure_curves(results, seconds_per_step):
    """Learning curves at the curve settings against steps and against measured time
    (``seconds_per_step``: {method: seconds})."""
    _check_results("results", results)
    check_mapping("seconds_per_step", seconds_per_step,
                  keys=tuple(m for m in SIN_METHODS if m in results))
    fig, _ = _curve_grid(results, seconds_per_step, "against measured time")
    fig.tight_layout()
    return fig


def figure_sweeps(results):
    """ξ sweep (relative x-distance, at the full budget and at a quarter) and φ sweep."""
    _check_results("results", results)
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.0))
    quarter = max(1, len(next(iter(results["steps"].values()))) // 4)
    plot_sip_sweep(axes[0], sweep_values(results, "xi_sweep"), XI_SWEEP, "$\\xi$",
                   "x-distance / $\\xi$", log_x=True)
    plot_sip_sweep(axes[0], sweep_values(results, "xi_sweep", quarter), XI_SWEEP, "$\\xi$",
                   "x-distance / $\\xi$", log_x=True, linestyle=":", label=False)
    axes[0].set_title(f"$\\varphi$ = {XI_SWEEP_PHI:g}° (dotted: a quarter of the steps)")
    plot_sip_sweep(axes[1], sweep_values(results, "phi_sweep"), PHI_SWEEP, "$\\varphi$ [°]",
                   "x-distance")
    axes[1].set_title(f"$\\xi$ = {PHI_SWEEP_XI:g}")
    axes[1].legend(ncol=2, fontsize=8)
    fig.tight_layout()
    return fig


BUDGET_STYLES = {"book": ":", "emulated": "-", "record": "--"}


def figure_budget_curves(view, book_steps=BOOK_STEPS):
    """Learning curves of a budget view at the curve settings: against steps (a grey line
    at ``book_steps``) and against the paper's time, steps × PAPER_COST_PER_STEP scaled so
    that PAPER_ADAM_STEPS Adam steps take PAPER_SECONDS."""
    _check_results("view", view)
    book_steps = check_positive_int("book_steps", book_steps)
    paper_seconds = {m: PAPER_SECONDS * PAPER_COST_PER_STEP[m] / PAPER_ADAM_STEPS
                     for m in SIN_METHODS}
    fig, axes = _curve_grid(view, paper_seconds, "against the paper's time")
    for row in range(len(CURVE_XIS)):
        axes[row, 0].axvline(book_steps, color="0.6", linewidth=1)
        axes[row, 1].set_xlabel("time the paper would spend [s] (its per-step cost ratio)")
    fig.tight_layout()
    return fig


def figure_budget_sweeps(columns):
    """SIP and Adam in both sweeps at several budgets: ``columns`` maps a label whose
    first word is "book", "emulated" or "record" to ``outcomes(...)``."""
    check_mapping("columns", columns)
    for label, result in columns.items():
        check_text("label of columns", label)
        check_choice("first word of a label of columns", label.split()[0], tuple(BUDGET_STYLES))
        _check_outcomes(f"columns[{label!r}]", result)
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.0))
    for label, result in columns.items():
        style = BUDGET_STYLES[label.split()[0]]
        for method in ("SIP", "Adam"):
            budget = result["budget"][method]
            axes[0].plot(XI_SWEEP, result["xi_sweep"][method], style, marker="o",
                         markersize=3, color=method_color(method),
                         label=f"{method}, {label} ({budget // 1000}k steps)")
            axes[1].plot(PHI_SWEEP, result["phi_sweep"][method], style, marker="o",
                         markersize=3, color=method_color(method))
    axes[0].set(xscale="log", yscale="log", xlabel="$\\xi$", ylabel="x-distance / $\\xi$",
                title=f"$\\varphi$ = {XI_SWEEP_PHI:g}°")
    axes[1].set(yscale="log", xlabel="$\\varphi$ [°]", ylabel="x-distance",
                title=f"$\\xi$ = {PHI_SWEEP_XI:g}")
    axes[0].legend(fontsize=7.5)
    fig.tight_layout()
    return fig


def figure_record(record):
    """The long-budget record (precomputed, shipped as data): learning curves of every
    method at the two curve settings, and both sweeps at the record's budget."""
    _check_results("record", record, ("curve_steps", "curves", "budget"))
    fig, axes = plt.subplots(1, 4, figsize=(14.0, 3.6))
    for k, xi in enumerate(CURVE_XIS):
        for method in SIN_METHODS:
            axes[k].plot(record["curve_steps"][method], record["curves"][method][k],
                         color=method_color(method), label=method, linewidth=1.2)
        axes[k].set(yscale="log", xlabel="training step", ylabel="x-distance",
                    title=f"record: $\\xi$ = {xi:g}, $\\varphi$ = {CURVE_PHI:g}°")
    result = outcomes(record_view(record, record["budget"]))
    for method in SIN_METHODS:
        axes[2].plot(XI_SWEEP, result["xi_sweep"][method], marker="o", markersize=3,
                     color=method_color(method))
        axes[3].plot(PHI_SWEEP, result["phi_sweep"][method], marker="o", markersize=3,
                     color=method_color(method))
    axes[2].set(xscale="log", yscale="log", xlabel="$\\xi$", ylabel="x-distance / $\\xi$",
                title=f"record: $\\xi$ sweep, $\\varphi$ = {XI_SWEEP_PHI:g}°")
    axes[3].set(yscale="log", xlabel="$\\varphi$ [°]", ylabel="x-distance",
                title=f"record: $\\varphi$ sweep, $\\xi$ = {PHI_SWEEP_XI:g}")
    axes[0].legend(fontsize=7.5, ncol=2)
    fig.tight_layout()
    return fig


def figure_proxy_ablation(ablation):
    """SIP's validation x-distance with the L1 and the L2 proxy loss (``run_proxy_ablation``)."""
    check_mapping("ablation", ablation, keys=("steps", "l1", "l2"))
    for proxy in ("l1", "l2"):
        check_mapping(f"ablation[{proxy!r}]", ablation[proxy], keys=("val_x_dist",))
    fig, axes = plt.subplots(1, len(CURVE_XIS), figsize=(10.0, 3.6))
    for k, (ax, xi) in enumerate(zip(axes, CURVE_XIS)):
        for proxy, style in (("l1", "-"), ("l2", "--")):
            ax.plot(ablation["steps"], ablation[proxy]["val_x_dist"][k], style,
                    color="#d62728", label=f"SIP, {proxy.upper()} proxy loss")
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("x-distance")
        ax.set_title(f"$\\xi$ = {xi:g}, $\\varphi$ = {CURVE_PHI:g}°")
    axes[0].legend()
    fig.tight_layout()
    return fig
