"""The hig-toy page's cost per step: the three methods side by side, HIG's update against
the eigendecomposition and a float32 SVD inside it, HIG's growth with the batch and the
hidden width, and the ``hig-bench`` command that runs the full study.
"""

import os
import time

import numpy as np

from .._checks import check_choice, check_positive_int, int_in_range, positive_int
from ..common import best_seconds
from . import METHODS, toy_data, train_hig_toy


def measure_cost_per_update(repeats=3):
    """{"Adam", "Gauss-Newton", "HIG": measured seconds per update} with the page's
    settings, measured side by side (200-step runs, best of ``repeats``)."""
    repeats = check_positive_int("repeats", repeats)
    times = measure_method_times(steps=200, repeats=repeats)
    return {"Adam": times["Adam"], "Gauss-Newton": times["GN"], "HIG": times["HIG"]}


# ---------------------------------------------------------------------------------------
# Cost per step
# ---------------------------------------------------------------------------------------


def measure_step_time(name, *, steps, repeats=3, lam=0.01, data=None, **overrides):
    """Measured seconds per training step of one method (compilation excluded; best of
    ``repeats`` runs of ``steps`` steps fused in one chunk)."""
    check_choice("name", name, METHODS)
    steps = check_positive_int("steps", steps)
    repeats = check_positive_int("repeats", repeats)
    data = toy_data() if data is None else data
    settings = {**METHODS[name], **overrides}
    best = np.inf
    for _ in range(repeats):
        run = train_hig_toy(data, lam, steps=steps, log_every=steps, **settings)
        best = min(best, run["time"][-1] / steps)
    return best


def measure_method_times(steps=1000, repeats=3, data=None):
    """Per-step seconds of Adam, GN and HIG with the page's settings, measured in turns
    (one round of all three per repeat, best per method); {method: seconds}."""
    data = toy_data() if data is None else data
    best = {name: np.inf for name in METHODS}
    for _ in range(check_positive_int("repeats", repeats)):
        for name in METHODS:
            best[name] = min(best[name], measure_step_time(name, steps=steps, repeats=1, data=data))
    return best


def measure_decomposition_times(rows, cols, steps=1000, repeats=3):
    """Measured seconds per call, inside a jitted lax.scan like the training step (best of
    ``repeats``), of: the whole update from a given (rows, cols) float32 Jacobian as the
    package computes it (float64 Gram matrix, eigh and products,
    ``updates.svd_power_update_kernel``); the float64 eigendecomposition of a (cols, cols)
    matrix alone (LAPACK syevd, the floor of that route); a float32 thin SVD of the
    Jacobian alone (LAPACK gesdd, the direct route). Returns {description: seconds}."""
    import jax
    import jax.numpy as jnp

    from ..updates import svd_power_update_kernel

    rows, cols = check_positive_int("rows", rows), check_positive_int("cols", cols)
    steps, repeats = check_positive_int("steps", steps), check_positive_int("repeats", repeats)
    if cols > rows:
        raise ValueError(f"cols ({cols}) must not exceed rows ({rows}): the routes time a tall Jacobian")
    matrix = jax.random.normal(jax.random.PRNGKey(0), (rows, cols))
    g = jax.random.normal(jax.random.PRNGKey(1), (rows,))

    def update(a):
        return svd_power_update_kernel(a, g, -0.5, 1e-5, 1.0, "truncate")[0]

    def eigh_only(a):
        with jax.enable_x64(True):
            eigenvalues, vectors = jnp.linalg.eigh(a[:cols].astype(jnp.float64) + 30.0 * jnp.eye(cols))
            return (eigenvalues[0] + vectors[0, 0]).astype(a.dtype)

    def svd_only(a):
        u, s, vt = jnp.linalg.svd(a, full_matrices=False)
        return s[0] + u[0, 0] + vt[0, 0]

    routes = ((f"HIG's update from the {rows} × {cols} Jacobian (float64 Gram + eigh)", update),
              (f"float64 eigh of a {cols} × {cols} matrix alone", eigh_only),
              (f"float32 thin SVD of the {rows} × {cols} Jacobian alone", svd_only))
    times = {}
    for name, one in routes:
        @jax.jit
        def many(a, one=one):
            def body(a, _):
                return a * 1.0000001, one(a)

            return jax.lax.scan(body, a, length=steps)[1]

        times[name] = best_seconds(lambda many=many: many(matrix), repeats) / steps
    return times


def svd_cost_model(batch_size, hidden):
    """Flop-count proxy m·n·min(m, n) of the update's decomposition (the Gram matrix of the
    shorter side, then its k³ eigendecomposition, k = min(m, n)), the same order as a thin
    SVD: m = 2·B rows, n = 4·hidden + 2 parameters of the 1 → hidden → 2 network."""
    m = 2 * check_positive_int("batch_size", batch_size)
    n = 4 * check_positive_int("hidden", hidden) + 2
    return m * n * min(m, n)


def measure_hig_growth(batch_sizes, widths, steps=200, repeats=2, data=None):
    """HIG's measured per-step seconds as B grows (width 7) and as the hidden width grows
    (B = 128): returns two lists of (size, n_params, seconds, cost model)."""
    data = toy_data() if data is None else data
    for name, sizes in (("batch_sizes", batch_sizes), ("widths", widths)):
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__") or not len(sizes):
            raise ValueError(f"{name} must be a non-empty list of positive integers, got {sizes!r}")
        for size in sizes:
            check_positive_int(name, size)
    by_batch = []
    for batch in batch_sizes:
        seconds = measure_step_time("HIG", steps=steps, repeats=repeats, data=data, batch_size=batch)
        by_batch.append((batch, 30, seconds, svd_cost_model(batch, 7)))
    by_width = []
    for width in widths:
        seconds = measure_step_time("HIG", steps=steps, repeats=repeats, data=data, hidden=width)
        by_width.append((width, 4 * width + 2, seconds, svd_cost_model(128, width)))
    return by_batch, by_width


def growth_table(rows, size_name):
    """Text table of measured per-step time against the SVD cost model, both relative to
    the first row."""
    if not isinstance(rows, (list, tuple)) or not rows or any(len(row) != 4 for row in rows):
        raise ValueError("rows must be a non-empty list of (size, n_params, seconds, cost) "
                         f"from measure_hig_growth, got {rows!r}")
    if not all(row[2] > 0 and row[3] > 0 for row in rows):
        raise ValueError(f"rows must hold positive seconds and costs, got {rows!r}")
    lines = [f"{size_name:>6} {'params':>6} {'µs/step':>8} {'× first':>8} {'model × first':>13}"]
    t0, c0 = rows[0][2], rows[0][3]
    for size, n_params, seconds, cost in rows:
        lines.append(f"{size:>6} {n_params:>6} {seconds * 1e6:>8.0f} {seconds / t0:>8.2f} {cost / c0:>13.2f}")
    return "\n".join(lines)


def benchmark(args):
    """``hig-bench``: per-step time of HIG, GN and Adam side by side, then HIG's growth."""
    steps = check_positive_int("--steps", args.steps)
    repeats = check_positive_int("--repeats", args.repeats)
    data = toy_data()
    start = time.perf_counter()
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        print("note: OPENBLAS_NUM_THREADS is not 1; on a busy machine OpenBLAS' threads can make "
              "the decomposition much slower (run with OPENBLAS_NUM_THREADS=1 to compare with the page)")
    times = measure_method_times(steps=steps, repeats=repeats, data=data)
    print(f"per-step time on the HIG toy (measured on this machine, best of {repeats}):")
    for name, seconds in times.items():
        batch = METHODS[name]["batch_size"]
        print(f"  {name:<5} B = {batch:>3}: {seconds * 1e6:8.1f} µs")
    print(f"  HIG / Adam = {times['HIG'] / times['Adam']:.2f}, GN / Adam = {times['GN'] / times['Adam']:.2f}")
    rows = 2 * METHODS["HIG"]["batch_size"]
    for name, seconds in measure_decomposition_times(rows, 30, steps=steps, repeats=repeats).items():
        print(f"  {name}: {seconds * 1e6:.1f} µs ({seconds / times['HIG']:.0%} of the HIG step, "
              f"{seconds / times['Adam']:.1f}× Adam's step)")
    by_batch, by_width = measure_hig_growth(args.batch_sizes, args.widths, steps=args.growth_steps,
                                            repeats=repeats, data=data)
    print("\nHIG per-step time as the batch grows (hidden width 7):")
    print(growth_table(by_batch, "B"))
    print("\nHIG per-step time as the hidden width grows (B = 128):")
    print(growth_table(by_width, "width"))
    print(f"\n(total {time.perf_counter() - start:.1f} s)")
    return 0


def add_commands(subparsers):
    """Register ``hig-bench``."""
    bench = subparsers.add_parser(
        "hig-bench", help="per-step time of HIG, GN and Adam on the HIG toy, and HIG's cost growth",
        description="Per-step time of HIG, GN and Adam on the HIG toy, measured side by side, and "
                    "HIG's per-step time as the batch and the hidden width grow. Run it as "
                    "OPENBLAS_NUM_THREADS=1 python -m improved_gradients hig-bench, like the page.")
    bench.add_argument("--steps", type=positive_int(10**6), default=2000,
                       help="steps per timing of the three methods, in [1, 10^6] (default %(default)s)")
    bench.add_argument("--growth-steps", type=positive_int(10**6), default=200,
                       help="steps per timing of the growth study, in [1, 10^6] (default %(default)s)")
    bench.add_argument("--repeats", type=positive_int(1000), default=3,
                       help="timed runs per method, in [1, 1000] (default %(default)s)")
    bench.add_argument("--batch-sizes", type=int_in_range(1, 8192), nargs="+",
                       default=[16, 32, 64, 128, 256, 512],
                       help="batch sizes of the growth study, each in [1, 8192]")
    bench.add_argument("--widths", type=int_in_range(1, 4096), nargs="+",
                       default=[7, 16, 32, 64, 128, 256],
                       help="hidden widths of the growth study, each in [1, 4096]")
    bench.set_defaults(run=benchmark)
