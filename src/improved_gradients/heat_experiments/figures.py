"""The sip-heat page's figures; each ``figure_*`` function returns a matplotlib figure
(``common``'s convention).
"""

import matplotlib.pyplot as plt
import numpy as np

from .._checks import check_int, check_mapping, check_sequence
from ..physics import (HEAT_GRID, HEAT_NU_T, check_heat_grid, heat_damping, heat_log_kernel,
                       heat_physics)
from ..plotting import method_color
from .record import _check_record
from . import (HIGH_BAND, RUN_STYLE, SHOWN_SAMPLES, SOLVER_LABELS, _check_results,
               _check_solvers)


def figure_damping(nu_t=HEAT_NU_T, n=HEAT_GRID):
    """The damping factor of every Fourier coefficient against |f|, and the same factor
    applied twice (what the gradient of the y-loss carries), with float32's and float64's
    smallest normal numbers."""
    radius, damping = heat_damping(n, nu_t)
    order = np.argsort(radius.ravel())
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    ax.semilogy(radius.ravel()[order], damping.ravel()[order], ".", ms=2, color="black",
                label="P: $e^{-\\nu t (2\\pi)^2 |f|^2}$ (forward, one application)")
    ax.semilogy(radius.ravel()[order], damping.ravel()[order] ** 2, ".", ms=2, color="0.6",
                label="$P^\\top P$ (what the gradient of the y-loss sees)")
    for value, label in ((np.finfo(np.float32).tiny, "float32 smallest normal"),
                         (np.finfo(np.float32).eps, "float32 machine epsilon")):
        ax.axhline(value, color="#1f77b4", linewidth=0.8, linestyle=":")
        ax.text(0.45, value * 1e3, label, fontsize=8, color="#1f77b4")
    ax.set_xlabel("radial frequency |f| [cycles per cell]")
    ax.set_ylabel("amplitude factor")
    ax.set_ylim(1e-150, 1e5)
    ax.set_title(f"{n} × {n} periodic grid, $\\nu t$ = {nu_t:g}")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def figure_curves(results):
    """Validation x error against steps and against measured training time."""
    _check_results(results, ("step", "time", "x_l1", "y_l2"))
    fig, axes = plt.subplots(1, 3, figsize=(12.0, 3.6))
    for name, result in results.items():
        axes[0].plot(result["step"], result["x_l1"], label=name, **RUN_STYLE[name])
        axes[1].plot(result["time"], result["x_l1"], label=name, **RUN_STYLE[name])
        axes[2].plot(result["step"], result["y_l2"], label=name, **RUN_STYLE[name])
    for ax, xlabel, ylabel in zip(axes, ("training step", "measured training time [s]",
                                         "training step"),
                                  ("validation x error Σ|x − x*|", "validation x error Σ|x − x*|",
                                   "validation y loss ½Σ(P(x) − y*)²")):
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    axes[0].legend()
    fig.tight_layout()
    return fig


def figure_reconstructions(results, x_val, samples=SHOWN_SAMPLES, names=("Adam", "SIP")):
    """The same validation samples side by side: x*, y*, each method's x and x − x*."""
    x_val = check_heat_grid("x_val", x_val)
    if x_val.ndim != 3:
        raise ValueError(f"x_val must be a batch of grids (N, n, n), got shape {x_val.shape}")
    samples = [check_int("samples", k, 0, x_val.shape[0] - 1)
               for k in check_sequence("samples", samples)]
    names = check_sequence("names", names)
    check_mapping("results", results, keys=names)
    _check_results({name: results[name] for name in names}, ("x_val_pred",), x_val)
    y_val = heat_physics(x_val[list(samples)])
    columns = ["target $x^*$", "observation $y^*$"] + list(names) + [f"{n} − $x^*$" for n in names]
    fig, axes = plt.subplots(len(samples), len(columns), figsize=(2.0 * len(columns), 2.1 * len(samples)))
    axes = np.atleast_2d(axes)
    for row, k in enumerate(samples):
        top = x_val[k].max()
        fields = [x_val[k], y_val[row]] + [results[n]["x_val_pred"][k] for n in names]
        errors = [results[n]["x_val_pred"][k] - x_val[k] for n in names]
        limit = max(np.abs(e).max() for e in errors)
        for col, field in enumerate(fields):
            axes[row, col].imshow(field, cmap="magma", vmin=min(0.0, field.min()), vmax=top)
        for col, error in enumerate(errors, start=len(fields)):
            axes[row, col].imshow(error, cmap="RdBu_r", vmin=-limit, vmax=limit)
        for col, title in enumerate(columns):
            axes[row, col].set_xticks([])
            axes[row, col].set_yticks([])
            axes[row, col].grid(False)
            if row == 0:
                axes[row, col].set_title(title, fontsize=9)
        axes[row, 0].set_ylabel(f"validation sample {k}", fontsize=9)
    fig.tight_layout()
    return fig


def figure_spectra(spectra, names=("x* itself", "Adam", "SGD", "SIP", "SIP-Tikhonov")):
    """Radially binned power spectrum of x − x* per method (x* − mean for scale)."""
    check_mapping("spectra", spectra)
    for name, spectrum in spectra.items():
        if not isinstance(spectrum, (tuple, list)) or len(spectrum) != 2:
            raise ValueError(f"spectra[{name!r}] must be the pair (|f| bin centres, power)")
    names = check_sequence("names", names)
    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    styles = {"x* itself": dict(color="black", linestyle=":"), **RUN_STYLE,
              "inverse step iterated": dict(color="0.4"), "GD on x": dict(color="0.7")}
    for name in names:
        if name in spectra:
            f, power = spectra[name]
            ax.semilogy(f[1:], power[1:], label=name, **styles.get(name, {}))
    ax.axvspan(*HIGH_BAND, color="0.92", zorder=0, label="band of the high-frequency measure")
    ax.set_xlabel("radial frequency |f| [cycles per cell]")
    ax.set_ylabel("error power per coefficient")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_solvers(results, solvers):
    """Per-sample solvers (x error per iteration) next to the trained networks' final error."""
    check_mapping("results", results, keys=("SIP", "Adam"))
    _check_results({name: results[name] for name in ("SIP", "Adam")}, ("x_l1",))
    _check_solvers(solvers, ("x_l1",))
    fig, ax = plt.subplots(figsize=(7.0, 3.8))
    styles = {"bayes": dict(color="black"), "tikhonov": dict(color="black", linestyle="--"),
              "gradient": dict(color="0.6")}
    for direction, solved in solvers.items():
        ax.plot(np.arange(len(solved["x_l1"])), solved["x_l1"], label=SOLVER_LABELS[direction],
                **styles[direction])
    for name in ("SIP", "Adam"):
        ax.axhline(results[name]["x_l1"][-1], label=f"{name} network (final)", linewidth=1.2,
                   **RUN_STYLE[name])
    ax.set(yscale="log", xlabel="iteration on each sample (no network)",
           ylabel="validation x error Σ|x − x*|")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_inverse_ablation(residual_sample, nu_t=HEAT_NU_T):
    """What each inverse does to each frequency of one residual: the factor Δx̂ / r̂ against
    |f| (computed from the residual's own spectrum)."""
    from ..updates import heat_inverse_step

    residual_sample = check_heat_grid("residual_sample", residual_sample)
    if residual_sample.ndim != 2:
        raise ValueError(f"residual_sample must be one grid (n, n), got shape "
                         f"{residual_sample.shape}")
    radius, damping = heat_damping(residual_sample.shape[-1], nu_t)
    a = np.fft.fft2(residual_sample)
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    for inverse, style in (("bayes", dict(color=method_color("SIP"), marker=".", ms=3,
                                          linestyle="none")),
                           ("tikhonov", dict(color="0.4", marker=".", ms=2, linestyle="none"))):
        step = np.fft.fft2(heat_inverse_step(
            residual_sample, heat_log_kernel(residual_sample.shape[-1], nu_t), inverse))
        factor = np.abs(step) / np.maximum(np.abs(a), 1e-300)
        ax.semilogy(radius.ravel(), factor.ravel(), label=f"{inverse} inverse", **style)
    order = np.argsort(radius.ravel())
    ax.semilogy(radius.ravel()[order], 1 / damping.ravel()[order], color="black", linewidth=0.8,
                label="exact inverse $1/k(f)$")
    ax.set_ylim(1e-8, 1e12)
    ax.set_xlabel("radial frequency |f| [cycles per cell]")
    ax.set_ylabel("amplification |Δx̂| / |r̂|")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_record(record, short_runs=None):
    """The record's validation x error against steps for each method (with the page's short
    runs, ``short_runs`` {name: result of ``train_heat``}, dotted) and the radial power
    spectrum of each method's final error (x* itself dotted, for scale)."""
    _check_record(record)
    if short_runs is not None:
        check_mapping("short_runs", short_runs, min_size=0, entry_keys=("step", "x_l1"))
    fig, (ax_curve, ax_spectrum) = plt.subplots(1, 2, figsize=(11, 4))
    for name, entry in record["methods"].items():
        color = method_color(name)
        ax_curve.plot(entry["step"], entry["x_l1"], color=color,
                      label=f"{name}, batch {record['batch']}")
        if short_runs and name in short_runs:
            run = short_runs[name]
            ax_curve.plot(run["step"], run["x_l1"], color=color, linestyle=":",
                          label=f"{name}, the page's run")
        f, power = entry["spectrum"]
        ax_spectrum.semilogy(f[1:], power[1:], color=color, label=name)
    f, power = record["reference_spectrum"]
    ax_spectrum.semilogy(f[1:], power[1:], color="black", linestyle=":", label="x* itself")
    ax_spectrum.axvspan(*HIGH_BAND, color="0.92", zorder=0,
                        label="band of the high-frequency measure")
    ax_curve.set(xlabel="training step", ylabel="validation Σ|x − x*|", yscale="log",
                 title=f"record: batch {record['batch']}, {record['steps']:,} steps")
    ax_spectrum.set(xlabel="radial frequency |f| [cycles per cell]",
                    ylabel="error power per coefficient",
                    title="final error per frequency (record)")
    ax_curve.legend(fontsize=8)
    ax_spectrum.legend(fontsize=8)
    fig.tight_layout()
    return fig
