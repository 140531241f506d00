"""One figure style and one colour per method, shared by every page of the book."""

import matplotlib as mpl
import matplotlib.pyplot as plt

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
# Page 1: the toy comparison
# ---------------------------------------------------------------------------------------


def loss_contours(ax, loss, xlim, ylim, levels, resolution=200):
    """Draw contour lines of a scalar function loss(p) of a 2-vector over a box."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    a, b = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    points = jnp.stack([a.ravel(), b.ravel()], axis=1)
    values = np.asarray(jax.vmap(loss)(points)).reshape(a.shape)
    ax.contour(a, b, values, levels=levels, colors="0.75", linewidths=0.8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)


def plot_trajectory(ax, points, method, **kwargs):
    """Plot every point of a trajectory (shape (steps+1, 2)) in the method's colour."""
    import numpy as np

    points = np.asarray(points)
    style = dict(color=method_color(method), marker="o", markersize=4, label=method)
    style.update(kwargs)
    ax.plot(points[:, 0], points[:, 1], **style)


def draw_three_spaces(ax):
    """Diagram of the toy's three spaces x → y → L with the forward map and the three
    kinds of backward map (chained Jacobians, inverted Hessian, inverse physics)."""
    ax.set_xlim(0, 12)
    ax.set_ylim(0, 6.4)
    ax.axis("off")
    for left, title, text in [(0.4, "x space", "x = (x₀, x₁)\nwhat we optimise"),
                              (4.6, "y space", "y = (x₀, x₁²)\nthe physical state"),
                              (8.8, "loss", "L = y₀² + y₁²\none number")]:
        diagram_box(ax, left, 2.6, 2.8, 1.9, text, title=title)

    def arrow(start, end, color, label="", label_xy=None, rad=0.0):
        diagram_arrow(ax, start, end, color, rad)
        if label:
            ax.text(*label_xy, label, ha="center", va="center", fontsize=8.5, color=color)

    arrow((3.35, 4.0), (4.45, 4.0), "black", "forward\ny(x)", (3.9, 4.75))
    arrow((7.55, 4.0), (8.65, 4.0), "black", "forward\nL(y)", (8.1, 4.75))
    gd, newton, inverse = (method_color(m) for m in ("GD", "Newton", "Inverse simulator"))
    arrow((8.65, 2.9), (7.55, 2.9), gd, "∂L/∂y", (8.1, 2.45))
    arrow((4.45, 2.9), (3.35, 2.9), gd, "·∂y/∂x", (3.9, 2.45))
    ax.text(6.0, 2.0, "gradient descent: chained Jacobians, first order",
            ha="center", fontsize=8.5, color=gd)
    arrow((10.2, 2.45), (1.8, 2.45), newton, rad=-0.22)
    ax.text(6.0, 0.85, "Newton: (∂²L/∂x²)⁻¹ ∂L/∂x, one quadratic model of the whole chain",
            ha="center", fontsize=8.5, color=newton)
    arrow((9.6, 5.0), (6.6, 5.0), inverse, rad=0.35)
    arrow((5.4, 5.0), (2.4, 5.0), inverse, rad=0.35)
    ax.text(8.1, 6.15, "Newton step in y: (∂²L/∂y²)⁻¹ ∂L/∂y", ha="center",
            fontsize=8.5, color=inverse)
    ax.text(3.9, 6.15, "inverse physics y⁻¹", ha="center", fontsize=8.5, color=inverse)


# ---------------------------------------------------------------------------------------
# Page 3: the HIG toy
# ---------------------------------------------------------------------------------------


def plot_hig_panels(axes, runs, lam, target, time_limit=None):
    """The paper's three panels for one λ against measured wall-clock time.

    axes: three Axes; runs: {method: result of ``training.train_hig_toy``}; target: the
    physical target (y1, λ·y2) of the probe sample. (1) validation loss (log scale),
    (2) mean ± std of the hidden tanh activations over the validation set, (3) the probe's
    physical output after every logged chunk, start grey and target black. Curves stop at
    ``time_limit`` seconds when given.
    """
    import numpy as np

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
    """The probe's physical output (y1, λ·y2) after every logged chunk for {method: result},
    start grey and target black; up to ``time_limit`` seconds or ``max_step`` steps."""
    import numpy as np

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
    ax.set(xlabel="y₁", ylabel="λ·y₂", title="physical trajectory of x = π/9")
    ax.legend(fontsize=8)


def plot_hig_loss_vs_steps(ax, runs, max_step=None, title=None):
    """Validation loss (log scale) against training steps for {label: result}; the colour
    is the method's when the label names one, else taken from the default cycle."""
    import numpy as np

    for label, run in runs.items():
        keep = np.ones(len(run["step"]), bool) if max_step is None else run["step"] <= max_step
        style = {"color": METHOD_COLORS[label]} if label in METHOD_COLORS else {}
        ax.semilogy(run["step"][keep], run["val_loss"][keep], label=label, **style)
    ax.set(xlabel="training step", ylabel="validation loss", title=title)
    ax.legend(fontsize=8)


def plot_hig_kappa_sweep(ax, runs):
    """Validation loss against steps for {κ: result}, coloured from gradient (κ = 1) to
    Gauss-Newton (κ = −1) with HIG (κ = −½) drawn in the HIG colour."""
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
