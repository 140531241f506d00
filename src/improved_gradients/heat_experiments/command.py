"""The sip-heat page's commands, ``sip-heat-reproduce`` and ``sip-heat-bench``."""

import json
import pathlib
import time

import jax
import numpy as np

from .._checks import int_in_range, positive_float, positive_int
from ..common import add_record_command, add_reproduce_command, save_figures, write_provenance
from ..plotting import use_book_style
from . import (BOOK_BATCH, METRICS, PAPER, PAPER_BATCH, RUNS, batch_sequence, check_runs,
               equal_time_ratio, error_spectra, measure_loop_strategies, measure_step_times,
               outcomes, run_methods, run_solvers, summary_table, validation_set)
from .record import RECORD_PATH, load_record, record_from_outputs, record_table, write_record
from .figures import (figure_curves, figure_damping, figure_reconstructions, figure_solvers,
                      figure_spectra)


def _save_figures(out, results, solvers, x_val):
    use_book_style()
    spectra = error_spectra(results, x_val, solvers)
    save_figures(out, {
        "heat_damping": figure_damping,
        "heat_curves": lambda: figure_curves(results),
        "heat_reconstructions": lambda: figure_reconstructions(results, x_val),
        "heat_spectra": lambda: figure_spectra(spectra),
        "heat_solvers": lambda: figure_solvers(results, solvers),
    })


def reproduce(args):
    """sip-heat-reproduce: every run at the chosen batch and budget, files and figures."""
    from tqdm.auto import tqdm

    begin = time.perf_counter()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = check_runs(args.methods)
    if args.seconds is not None:
        print("measuring the per-step time of each method ...", flush=True)
        times = measure_step_times(args.batch, repeats=2)
        steps = {name: max(1, round(args.seconds / times[RUNS[name][0]] / args.log_every))
                 * args.log_every for name in names}
    else:
        steps = {name: args.steps for name in names}
    print("steps per run: " + ", ".join(f"{n} {s}" for n, s in steps.items()), flush=True)
    x_val = validation_set(args.val_size)
    batches = batch_sequence(args.batch)
    if args.test_diverge_at is not None:
        batches = _diverging(batches, args.test_diverge_at)
    results = {}
    with tqdm(total=sum(steps.values()), desc="sip-heat-reproduce", unit="step") as progress:
        for name in names:
            results.update(run_methods([name], steps=steps[name], batch_size=args.batch,
                                       log_every=args.log_every, x_val=x_val, progress=progress,
                                       batches=batches))
    solvers = run_solvers(x_val)
    arrays = {f"{name}/{key}": result[key] for name, result in results.items()
              for key in ("step", "time", "x_l1", "x_l2", "y_l2", "train_y_l2", "x_val_pred")}
    arrays.update({f"solver_{d}/{key}": s[key] for d, s in solvers.items()
                   for key in ("x_l1", "x_l2", "y_l2")})
    np.savez(out / "heat_results.npz", x_val=x_val, **arrays)
    summary = {"batch": args.batch, "steps": steps, "val_size": args.val_size,
               "final": {name: {m: float(r[m][-1]) for m in METRICS} for name, r in results.items()},
               "solvers": {d: {m: float(s[m][-1]) for m in METRICS} for d, s in solvers.items()},
               "seconds": {name: float(r["time"][-1]) for name, r in results.items()}}
    if {"SIP", "Adam"} <= set(results):
        summary["outcomes"] = outcomes(results, solvers, x_val)
        summary["equal_time"] = dict(zip(("seconds", "Adam / SIP x_l1"), equal_time_ratio(results)))
    (out / "heat_results.json").write_text(json.dumps(summary, indent=2) + "\n")
    table = summary_table(results, solvers)
    (out / "heat_summary.txt").write_text(table + "\n")
    _save_figures(out, results, solvers, x_val)
    write_provenance(out, "sip-heat-reproduce", time.perf_counter() - begin,
                     settings={"batch": args.batch, "steps": steps, "val_size": args.val_size,
                               "log_every": args.log_every})
    print(table)
    print(f"results and figures written to {out}")
    return 0


# Test hook of sip-heat-reproduce (--test-diverge-at): the ground truths of one step are
# scaled by this factor, finite in float64 but infinite once the network reads them in
# float32, so the loss of that step is NaN and the run stops with TrainingDiverged there.
TEST_DIVERGE_FACTOR = 1e200


def _diverging(batches, step):
    """``batches`` with the batch of ``step`` blown up by TEST_DIVERGE_FACTOR."""
    return lambda k: batches(k) * TEST_DIVERGE_FACTOR if k == step else batches(k)


def benchmark(args):
    """sip-heat-bench: per-step times of SIP, Adam and SGD side by side; loop strategies."""
    times = measure_step_times(args.batch, repeats=args.repeats)
    print(f"per-step time at batch {args.batch} (one jitted step, best of {args.repeats}, "
          f"methods taking turns; device: {jax.devices()[0].platform})")
    for method, seconds in times.items():
        print(f"{method:<6}{seconds * 1e3:9.1f} ms/step   {seconds / times['Adam']:.2f} x Adam")
    print(f"SIP / Adam: {times['SIP'] / times['Adam']:.2f}")
    if args.strategies:
        print(f"Adam per step by loop compilation (chunks of {args.chunk} steps):")
        for label, seconds in measure_loop_strategies(args.batch, args.chunk, args.repeats).items():
            print(f"  {label:<20}{seconds * 1e3:9.1f} ms/step")
    return 0


def make_record(args):
    """sip-heat-record: the record from sip-heat-reproduce output folders."""
    record = record_from_outputs(args.folders)
    path = write_record(record, args.out or RECORD_PATH)
    print(record_table(load_record() if args.out is None else record, PAPER["x_l1"]))
    print(f"record written to {path}")
    return 0


_REPRODUCE = {
    "help": "heat inversion at full scale: SIP, Adam, SGD and the inverse ablation",
    "description": "Train SIP, Adam, SGD and SIP with Tikhonov division at the chosen batch "
                   "and budget from one initial network on one batch sequence, iterate the "
                   "per-sample solvers; writes results (NPZ, JSON), a summary table, PNG "
                   "figures and provenance.json."}


def add_commands(subparsers):
    """Register ``sip-heat-reproduce``, ``sip-heat-bench`` and ``sip-heat-record``."""
    parser = add_reproduce_command(subparsers, "sip-heat-reproduce", run=reproduce,
                                   out="sip-heat-results", check=_check_reproduce, **_REPRODUCE)
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=positive_int(), default=1000,
                        help="training steps per run (default %(default)s)")
    budget.add_argument("--seconds", type=positive_float, default=None,
                        help="wall-clock budget per run instead, converted to steps from the "
                             "measured per-step time")
    parser.add_argument("--batch", type=positive_int(), default=PAPER_BATCH,
                        help="batch size (default: the paper's %(default)s)")
    parser.add_argument("--log-every", type=positive_int(), default=50,
                        help="steps per validation (default %(default)s)")
    parser.add_argument("--val-size", type=positive_int(), default=128,
                        help="validation samples (default %(default)s)")
    parser.add_argument("--methods", nargs="+", choices=tuple(RUNS), default=list(RUNS),
                        help="runs (default: all)")
    parser.add_argument("--test-diverge-at", type=int_in_range(0), default=None, metavar="STEP",
                        help="for tests only: blow up the training batch of step STEP "
                             f"(×{TEST_DIVERGE_FACTOR:g}, infinite in float32) so that every run "
                             "diverges there and the command ends with exit status 1")

    bench = subparsers.add_parser("sip-heat-bench",
                                  help="per-step time of SIP, Adam and SGD, side by side")
    bench.add_argument("--batch", type=positive_int(), default=BOOK_BATCH,
                       help="batch size (default %(default)s)")
    bench.add_argument("--repeats", type=positive_int(), default=10,
                       help="timed steps per method, taking turns; the best counts "
                            "(default %(default)s)")
    bench.add_argument("--strategies", action="store_true",
                       help="also time jit-per-step against unrolled and scanned chunks")
    bench.add_argument("--chunk", type=positive_int(), default=5,
                       help="steps per chunk for --strategies (default %(default)s)")
    bench.set_defaults(run=benchmark)

    add_record_command(subparsers, "sip-heat-record", source="sip-heat-reproduce",
                       contents="one batch size, one step budget, one validation set",
                       run=make_record)


def _check_reproduce(args):
    """The cross-argument check of sip-heat-reproduce (a ValueError is a usage error)."""
    if args.seconds is None and args.steps % args.log_every:
        raise ValueError(f"--steps ({args.steps}) must be a multiple of --log-every "
                         f"({args.log_every})")
