"""Draws the book's logo and favicon once (run: python resources/make_logo.py).

An elongated loss valley, the zig-zag of gradient descent and the straight step of an
inverse simulator to the minimum, in the book's colours for GD and the inverse simulator.
"""

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
GD, INVERSE = "#1f77b4", "#d62728"


def draw(ax):
    t = np.linspace(0, 2 * np.pi, 200)
    for r in (0.35, 0.7, 1.05):
        ax.plot(1.6 * r * np.cos(t), 0.5 * r * np.sin(t), color="0.6", linewidth=2.5)
    start = np.array([1.45, 0.3])
    zigzag = [start]
    for _ in range(6):
        zigzag.append(np.array([0.75, -0.75]) * zigzag[-1])
    zigzag = np.array(zigzag)
    ax.plot(zigzag[:, 0], zigzag[:, 1], color=GD, linewidth=4, solid_capstyle="round")
    ax.annotate("", xy=(0.1, 0.02), xytext=start,
                arrowprops=dict(arrowstyle="-|>", color=INVERSE, linewidth=5, mutation_scale=30))
    ax.plot([0], [0], marker="x", color="black", markersize=14, markeredgewidth=4)
    ax.set_xlim(-1.8, 1.8)
    ax.set_ylim(-0.62, 0.62)
    ax.set_aspect("equal")
    ax.axis("off")


def main():
    fig, ax = plt.subplots(figsize=(3.6, 1.35), dpi=100)
    draw(ax)
    fig.savefig(HERE / "logo.png", transparent=True, bbox_inches="tight", pad_inches=0.02,
                metadata={"Software": None})
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(0.64, 0.64), dpi=100)
    ax.set_position([0, 0, 1, 1])
    t = np.linspace(0, 2 * np.pi, 100)
    ax.plot(0.95 * np.cos(t), 0.55 * np.sin(t), color="0.55", linewidth=3)
    ax.plot([-0.8, -0.45, -0.15], [0.75, -0.35, 0.3], color=GD, linewidth=3,
            solid_capstyle="round")
    ax.annotate("", xy=(0.1, 0.05), xytext=(0.9, 0.85),
                arrowprops=dict(arrowstyle="-|>", color=INVERSE, linewidth=4, mutation_scale=16))
    ax.plot([0], [0], marker="x", color="black", markersize=13, markeredgewidth=4)
    ax.set_xlim(-1.0, 1.0)
    ax.set_ylim(-1.0, 1.0)
    ax.axis("off")
    fig.savefig(HERE / "favicon.png", transparent=True, metadata={"Software": None})
    plt.close(fig)


if __name__ == "__main__":
    main()
