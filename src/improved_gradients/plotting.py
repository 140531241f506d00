"""One figure style, one colour per method and the generic drawing primitives (diagram
boxes and arrows, loss contours, trajectories) shared by every page of the book. Figures
that belong to one page live in that page's experiments module."""

import jax
import jax.numpy as jnp
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from ._checks import (check_array, check_axes, check_callable, check_number, check_optional,
                      check_positive, check_positive_int, check_text)

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
    if not isinstance(name, str) or name not in METHOD_COLORS:
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
    check_axes("ax", ax)
    check_number("left", left)
    check_number("bottom", bottom)
    check_positive("width", width)
    check_positive("height", height)
    check_text("text", text, empty=True)
    check_optional(check_text, "title", title, empty=True)
    _check_color("facecolor", facecolor)
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
    check_axes("ax", ax)
    check_array("start", start, (2,))
    check_array("end", end, (2,))
    _check_color("color", color)
    check_number("rad", rad)
    ax.add_patch(mpl.patches.FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14,
                                             color=color, linewidth=1.6,
                                             connectionstyle=f"arc3,rad={rad}"))


# ---------------------------------------------------------------------------------------
# Generic primitives: contour lines of a loss, a trajectory of points
# ---------------------------------------------------------------------------------------


def loss_contours(ax, loss, xlim, ylim, levels, resolution=200):
    """Draw contour lines of a scalar function loss(p) of a 2-vector over a box
    (``xlim``, ``ylim``: (low, high); ``levels``: a count or increasing values)."""
    check_axes("ax", ax)
    check_callable("loss", loss)
    for name, limits in (("xlim", xlim), ("ylim", ylim)):
        limits = check_array(name, limits, (2,))
        if not limits[0] < limits[1]:
            raise ValueError(f"{name} must be (low, high) with low < high, got {tuple(limits)}")
    if isinstance(levels, (int, np.integer)) and not isinstance(levels, bool):
        check_positive_int("levels", levels)
    else:
        values = check_array("levels", levels, (None,), min_size=1)
        if np.any(np.diff(values) <= 0):
            raise ValueError(f"levels must be increasing, got {values}")
    resolution = check_positive_int("resolution", resolution)
    if resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution}")
    a, b = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    points = jnp.stack([a.ravel(), b.ravel()], axis=1)
    values = np.asarray(jax.vmap(loss)(points)).reshape(a.shape)
    ax.contour(a, b, values, levels=levels, colors="0.75", linewidths=0.8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)


def plot_trajectory(ax, points, method, **kwargs):
    """Plot every point of a trajectory (shape (steps+1, 2)) in the method's colour."""
    check_axes("ax", ax)
    check_array("points", points, (None, 2), min_size=1)
    method_color(method)
    points = np.asarray(points)
    style = dict(color=method_color(method), marker="o", markersize=4, label=method)
    style.update(kwargs)
    ax.plot(points[:, 0], points[:, 1], **style)


def _check_color(name, color):
    """A matplotlib colour ("black", "#1f77b4", "0.6", an RGB tuple, ...)."""
    if not mpl.colors.is_color_like(color):
        raise ValueError(f"{name} must be a matplotlib colour such as 'black' or '#1f77b4', "
                         f"got {color!r}")
    return color
