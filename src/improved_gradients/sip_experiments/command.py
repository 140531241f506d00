"""The sip-training page's commands: ``sip-reproduce`` (every method on every setting at a
full-scale budget, the ablation, the figures, optionally the long-budget record) and
``sip-bench`` (the per-step time of each method).
"""

import functools
import json
import pathlib
import shlex
import sys
import time

import jax
import numpy as np

from .._checks import (check_choice, check_positive, check_positive_int, float_in_range,
                       positive_float, positive_int)
from ..common import add_reproduce_command, best_seconds, provenance, save_figures
from ..plotting import use_book_style
from .figures import (figure_curves, figure_landscape, figure_proxy_ablation, figure_sip_step,
                      figure_spaces, figure_sweeps)
from .record import _to_jsonable, long_budget_record
from .runs import (BOOK_LOG_EVERY, CURVE_PHI, CURVE_XIS, PAPER_ADAM_STEPS, PAPER_COST_PER_STEP,
                   _check_budget, experiment_settings, measure_step_times, paper_budget,
                   run_methods, run_proxy_ablation, summary_table)
from .sweep import SIN_METHODS, sin_sweep_program


def _save_figures(out, results, ablation, seconds_per_step):
    use_book_style()
    figures = {
        "sip_spaces": figure_spaces,
        "sip_step": figure_sip_step,
        "sip_landscape": figure_landscape,
        "sip_curves": lambda: figure_curves(results, seconds_per_step),
        "sip_sweeps": lambda: figure_sweeps(results),
    }
    if ablation is not None:
        figures["sip_proxy_ablation"] = lambda: figure_proxy_ablation(ablation)
    save_figures(out, figures, formats=("png", "svg"))


def estimate_run_time(steps, log_every=BOOK_LOG_EVERY, timing_steps=200, ablation=True):
    """Seconds that ``run_methods(steps, log_every)`` (and the ablation) will take here,
    from one timed run of ``timing_steps`` steps of each method's vmapped program over all
    settings (compilation excluded). Returns (total seconds, {method: s per step})."""
    _check_budget("steps", steps)
    check_positive_int("log_every", log_every)
    timing_steps = check_positive_int("timing_steps", timing_steps)
    xis, phis, _ = experiment_settings()
    per_step = {}
    for method in steps:
        compiled, args, _ = sin_sweep_program(method, xis, phis, timing_steps, timing_steps)
        per_step[method] = best_seconds(functools.partial(compiled, *args), 1) / timing_steps
    total = sum(steps[m] * per_step[m] for m in steps)
    if ablation and "SIP" in steps:
        total += steps["SIP"] * per_step["SIP"] * len(CURVE_XIS) / len(xis)
    return total, per_step


def _budget_steps(args, methods, log_every, timing_steps):
    """({method: steps}, the budget in words, measured seconds per step or None) of the
    command's budget flags: --steps, --seconds or --budget-factor."""
    if args.steps is not None:
        steps = {method: check_positive_int("--steps", args.steps) for method in methods}
        return steps, f"{args.steps} steps for every method", None
    if args.seconds is not None:
        seconds = check_positive("--seconds", args.seconds)
        print("measuring the per-step time of each method ...", flush=True)
        per_step = measure_step_times(methods, steps=timing_steps, repeats=5)
        steps = {method: max(1, round(seconds / per_step[method] / log_every)) * log_every
                 for method in methods}
        return steps, f"{seconds:g} s of this machine's wall clock per run", per_step
    steps = paper_budget(args.budget_factor, log_every, methods)
    return steps, (f"{args.budget_factor:g} x the paper's equal-time budget in steps "
                   f"(Adam {PAPER_ADAM_STEPS}, cost per step {PAPER_COST_PER_STEP})"), None


def _train(steps, methods, log_every):
    """The runs and the proxy ablation (with SIP), and their wall-clock seconds."""
    from tqdm.auto import tqdm

    begin = time.perf_counter()
    ablation = None
    with tqdm(total=len(methods) + 1, desc="sip-reproduce", unit="run") as progress:
        results = run_methods(steps, log_every, methods, progress=progress)
        if "SIP" in methods:
            ablation = run_proxy_ablation(results, log_every)
        progress.update(1)
    return results, ablation, time.perf_counter() - begin


def _write_results(out, args, results, ablation, methods, about):
    """sip_results.npz (every logged array), sip_results.json (finals, per-step times and
    provenance ``about``), the record if asked for, the summary and the figures."""
    arrays = {f"{m}/{name}": values for m in methods for name, values in results[m].items()}
    arrays.update({f"{m}/steps": results["steps"][m] for m in methods})
    if ablation is not None:
        arrays.update({f"ablation_{p}/val_x_dist": ablation[p]["val_x_dist"] for p in ("l1", "l2")})
    np.savez(out / "sip_results.npz", **arrays)
    summary = _to_jsonable(results, ablation, about["steps"], about["seconds_per_step"])
    summary["provenance"] = about["provenance"]
    (out / "sip_results.json").write_text(json.dumps(summary, indent=2))
    if args.record is not None:
        record = long_budget_record(results, ablation, about["steps"], about["log_every"],
                                    about["provenance"])
        pathlib.Path(args.record).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(args.record).write_text(json.dumps(record, separators=(",", ":")) + "\n")
        print(f"long-budget record written to {args.record}")
    text = summary_table(results)
    (out / "sip_summary.txt").write_text(text + "\n")
    _save_figures(out, results, ablation, about["seconds_per_step"])
    return text


def reproduce(args):
    """sip-reproduce: every method on every setting, the ablation, the figures and files."""
    methods = [check_choice("method", method, SIN_METHODS) for method in args.methods]
    log_every = check_positive_int("--log-every", args.log_every)
    timing_steps = check_positive_int("--timing-steps", args.timing_steps)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    steps, budget, seconds_per_step = _budget_steps(args, methods, log_every, timing_steps)
    for method, n in steps.items():
        if n % log_every:
            raise ValueError(f"steps of {method} ({n}) must be a multiple of --log-every")
    print(f"budget: {budget}")
    print("steps per run: " + ", ".join(f"{m} {n}" for m, n in steps.items()), flush=True)
    estimate, _ = estimate_run_time(steps, log_every, min(timing_steps, 200), "SIP" in methods)
    print(f"estimated run time on this machine: {estimate / 60:.1f} min "
          f"(from a timed run of every method; compilation not included)", flush=True)
    results, ablation, run_seconds = _train(steps, methods, log_every)
    if seconds_per_step is None:
        seconds_per_step = measure_step_times(methods, steps=timing_steps, repeats=5)
    argv = args.argv if getattr(args, "argv", None) else sys.argv[1:]
    about = {"steps": steps, "log_every": log_every, "seconds_per_step": seconds_per_step,
             "provenance": provenance(
                 command="python -m improved_gradients " + " ".join(map(shlex.quote, argv)),
                 budget=budget, devices=f"{len(jax.devices())} x {jax.devices()[0].platform}",
                 run_seconds=round(run_seconds, 1), estimated_seconds=round(estimate, 1))}
    text = _write_results(out, args, results, ablation, methods, about)
    print(text)
    print(f"run time {run_seconds / 60:.1f} min (estimated {estimate / 60:.1f} min)")
    print(f"results and figures written to {out}")
    return 0


def benchmark(args):
    """sip-bench: per-step time of every method, measured side by side, and SIP/Adam."""
    steps = check_positive_int("--steps", args.steps)
    times = measure_step_times(steps=steps, repeats=check_positive_int("--repeats", args.repeats),
                               xi=args.xi, phi_deg=args.phi)
    print(f"per-step time of one run (xi = {args.xi:g}, phi = {args.phi:g} deg, batch 100, "
          f"{steps} steps, best of {args.repeats}; devices: {jax.devices()[0].platform})")
    for method, seconds in times.items():
        print(f"{method:<10}{seconds * 1e6:10.1f} us/step   {seconds / times['Adam']:.2f} x Adam")
    print(f"SIP / Adam: {times['SIP'] / times['Adam']:.2f}")
    return 0


def add_commands(subparsers):
    """Register ``sip-reproduce`` and ``sip-bench``."""
    parser = add_reproduce_command(
        subparsers, "sip-reproduce",
        help="full-scale SIP sin benchmark: all methods, curves, sweeps, figures",
        description="every method on every setting of the sip-training page at a full-scale "
                    "budget, the proxy ablation, the figures and (--record) the long-budget "
                    "record", run=reproduce, out="sip-results", check=_check_reproduce)
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=float_in_range(0, 86400, low_open=True), default=None,
                        help="wall-clock budget per run on this machine, converted to steps per "
                             "method from the measured per-step time")
    budget.add_argument("--steps", type=positive_int(10**7), default=None,
                        help="equal number of steps for every method")
    budget.add_argument("--budget-factor", type=positive_float, default=1.0,
                        help="scale of the default budget, the paper's equal-time budget in "
                             f"steps (Adam {PAPER_ADAM_STEPS}, SIP {PAPER_ADAM_STEPS // 3}; "
                             "default %(default)s)")
    parser.add_argument("--log-every", type=positive_int(10**6), default=BOOK_LOG_EVERY,
                        help="steps per logged metric (default %(default)s)")
    parser.add_argument("--methods", nargs="+", default=list(SIN_METHODS), choices=SIN_METHODS,
                        help="methods to run (default: all)")
    parser.add_argument("--timing-steps", type=positive_int(10**6), default=1000,
                        help="steps of the per-step timing runs (default %(default)s)")
    parser.add_argument("--record", default=None,
                        help="also write the long-budget record (JSON) to this file")

    bench = subparsers.add_parser("sip-bench", help="per-step time of SIP and of each baseline")
    bench.add_argument("--steps", type=positive_int(10**6), default=1000,
                       help="steps per timed run (default %(default)s)")
    bench.add_argument("--repeats", type=positive_int(1000), default=10,
                       help="timed runs per method, taking turns; the best counts "
                            "(default %(default)s)")
    bench.add_argument("--xi", type=float_in_range(0.01, 1000), default=32.0,
                       help="conditioning xi of the sin benchmark, in [0.01, 1000] (default %(default)s)")
    bench.add_argument("--phi", type=float_in_range(-360, 360), default=CURVE_PHI,
                       help="rotation angle in degrees, in [-360, 360] (default %(default)s)")
    bench.set_defaults(run=benchmark)


def _check_reproduce(args):
    """The cross-argument check of sip-reproduce (a ValueError is a usage error)."""
    if args.steps is not None and args.steps % args.log_every:
        raise ValueError(f"--steps ({args.steps}) must be a multiple of --log-every "
                         f"({args.log_every})")
