"""One figure style, one colour per method and the generic drawing primitives (diagram
boxes and arrows, loss contours, trajectories) shared by every page of the book. Figures
that belong to one page live in that page's experiments module."""

import jax
import jax.numpy as jnp
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

# One colour per method across the whole book (the papers' own figures use other colours
# in places; here a method keeps its colour from page to page).
METHOD_COLORS = {
    "GD": "#1f77b4",
    "SGD": "#1f77b4",
    "Newton": "#ff7f0e",
    "GN": "#ff7f0e",
    "Inverse simulator": "#d62728",
    "SIP": "#d62728",
    "Adam": "#2ca02c",
    "HIG": "#9467bd",
    "RMSprop": "#8c564b",
    "Adagrad": "#e377c2",
    "Adadelta": "#7f7f7f",
}
TARGET_STYLE = dict(color="black", marker="x", s=80, linewidths=2, zorder=5)
START_STYLE = dict(color="0.55", marker="o", s=40, zorder=5)


def method_color(name):
    """The book-wide colour of a method; ValueError for an unknown name."""
    if name not in METHOD_COLORS:
        raise ValueError(f"no colour for method {name!r}; known: {', '.join(METHOD_COLORS)}")
    return METHOD_COLORS[name]


def use_book_style():
    """Matplotlib defaults for every figure of the book (sizes, fonts, grid)."""
    mpl.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.figsize": (6.0, 4.0),
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "lines.linewidth": 1.6,
            "svg.hashsalt": "improved-gradients",
        }
    )
    plt.close("all")


def diagram_box(ax, left, bottom, width, height, text, title=None, facecolor="#f4f4f4"):
    """A rounded box of a diagram; a bold ``title`` sits above ``text`` when given."""
    ax.add_patch(mpl.patches.FancyBboxPatch((left, bottom), width, height, boxstyle="round,pad=0.1",
                                            facecolor=facecolor, edgecolor="0.3"))
    x = left + width / 2
    if title is None:
        ax.text(x, bottom + height / 2, text, ha="center", va="center", fontsize=10)
        return
    ax.text(x, bottom + height - 0.4, title, ha="center", va="center", fontsize=10.5, weight="bold")
    ax.text(x, bottom + 0.65, text, ha="center", va="center", fontsize=9)


def diagram_arrow(ax, start, end, color="black", rad=0.0):
    """An arrow of a diagram from ``start`` to ``end``, bent by ``rad`` (arc3)."""
    ax.add_patch(mpl.patches.FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14,
                                             color=color, linewidth=1.6,
                                             connectionstyle=f"arc3,rad={rad}"))


# ---------------------------------------------------------------------------------------
# Generic primitives: contour lines of a loss, a trajectory of points
# ---------------------------------------------------------------------------------------


def loss_contours(ax, loss, xlim, ylim, levels, resolution=200):
    """Draw contour lines of a scalar function loss(p) of a 2-vector over a box."""
    a, b = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    points = jnp.stack([a.ravel(), b.ravel()], axis=1)
    values = np.asarray(jax.vmap(loss)(points)).reshape(a.shape)
    ax.contour(a, b, values, levels=levels, colors="0.75", linewidths=0.8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)


def plot_trajectory(ax, points, method, **kwargs):
    """Plot every point of a trajectory (shape (steps+1, 2)) in the method's colour."""
    points = np.asarray(points)
    style = dict(color=method_color(method), marker="o", markersize=4, label=method)
    style.update(kwargs)
    ax.plot(points[:, 0], points[:, 1], **style)


# ---------------------------------------------------------------------------------------
# Page 2: SIP training figures (loss landscape, learning curves, sweeps, diagrams)
# ---------------------------------------------------------------------------------------


def plot_sip_landscape(ax, x1, x2, loss_grid, solutions=None, levels=20):
    """Filled contours of ``loss_grid`` (shape (len(x2), len(x1))) and the exact solutions
    (array (k, 2)) as crosses; returns the contour set for a colour bar."""
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
    for method, (steps, values) in curves.items():
        x = steps if seconds_per_step is None else steps * seconds_per_step[method]
        ax.plot(x, values, color=method_color(method), label=method)
    ax.set_yscale("log")
    ax.set_xlabel("training step" if seconds_per_step is None else "time [s] (measured)")
    ax.set_ylabel(ylabel)


def plot_sip_sweep(ax, values, sweep, xlabel, ylabel, log_x=False, linestyle="-", label=True):
    """One line per method over the sweep points: ``values`` maps a method to an array."""
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
