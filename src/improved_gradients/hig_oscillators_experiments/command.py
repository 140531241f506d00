"""The hig-oscillators page's commands: ``hig-oscillators-reproduce`` (the full-scale runs),
``hig-oscillators-bench`` (cost per update) and ``hig-oscillators-record`` (reproduce
outputs into the long-budget record the page reads)."""

import json
import os
import pathlib
import time

import numpy as np

from .._checks import int_in_range, positive_float, positive_int
from ..common import add_record_command, add_reproduce_command, save_figures, write_provenance
from ..errors import TrainingDiverged
from ..plotting import use_book_style
from . import (CHUNK, METHODS, PAGE_STEPS, PAPER_SECONDS, RECORD_MAX_STEPS, SEEDS, SETTINGS,
               SOURCE_NOTEBOOK, SPLIT_SECONDS, measure_hig_split, measure_step_times,
               page_data, run_method, seed_table)
from .figures import figure_controls, figure_losses
from .record import record_from_outputs, record_table, write_record


def make_record(args):
    """hig-oscillators-record: the record of a setting from reproduce output folders."""
    record = record_from_outputs(args.setting, args.folders, PAGE_STEPS[args.setting],
                                 METHODS[args.setting])
    path = write_record(record, args.out)
    print(record_table(record))
    print(f"record written to {path}")
    return 0


def reproduce(args):
    """hig-oscillators-reproduce: every method for a wall-clock budget, per seed."""
    from tqdm.auto import tqdm

    begin = time.perf_counter()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs, diverged = {}, {}
    total = len(args.methods) * len(args.seeds) * args.seconds
    with tqdm(total=total, desc="hig-oscillators-reproduce", unit="s") as bar:
        for name in args.methods:
            runs[name] = []
            for seed in args.seeds:
                shown = [0.0]

                def progress(done, elapsed, shown=shown):
                    bar.update(min(elapsed, args.seconds) - shown[0])
                    shown[0] = min(elapsed, args.seconds)

                bar.set_postfix(method=name, seed=seed)
                try:
                    run = run_method(args.setting, name, seed=seed, steps=CHUNK[name],
                                     time_budget=args.seconds, max_steps=RECORD_MAX_STEPS,
                                     progress=progress)
                    runs[name].append({**run, "seed": np.array(seed)})
                except TrainingDiverged as error:  # a diverged run is a result, not a crash
                    tqdm.write(str(error))
                    diverged.setdefault(name, []).append(
                        {"seed": seed, "step": error.step, "error": str(error)})
                bar.update(args.seconds - shown[0])
            if not runs[name]:
                del runs[name]
    arrays = {f"{name}/seed{int(run['seed'])}/{key}": value for name, results in runs.items()
              for run in results for key, value in run.items()}
    np.savez(out / f"{args.setting}_results.npz", **arrays)
    summary = {name: {"seeds": [int(r["seed"]) for r in results],
                      "final_test_loss": [float(r["test_loss"][-1]) for r in results],
                      "steps": [int(r["step"][-1]) for r in results],
                      "seconds": [float(r["time"][-1]) for r in results]}
               for name, results in runs.items()}
    (out / f"{args.setting}_results.json").write_text(json.dumps(
        {"setting": args.setting, "seconds_per_method": args.seconds, "seeds": args.seeds,
         "methods": summary, "diverged": diverged}, indent=2))
    table = seed_table(runs)
    (out / f"{args.setting}_summary.txt").write_text(table + "\n")
    use_book_style()
    save_figures(out, {
        f"{args.setting}_losses": lambda: figure_losses({args.setting: runs}),
        f"{args.setting}_controls": lambda: figure_controls(args.setting, runs,
                                                            page_data(args.setting)[2][0]),
    })
    write_provenance(out, "hig-oscillators-reproduce", time.perf_counter() - begin,
                     settings={"setting": args.setting, "seconds_per_method": args.seconds,
                               "seeds": args.seeds, "methods": args.methods})
    print(table)
    print(f"results and figures written to {out}")
    return 0


def benchmark(args):
    """hig-oscillators-bench: per-update time of every method and HIG's split."""
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        print("note: OPENBLAS_NUM_THREADS is not 1 (the page and `make bench` pin it to 1)")
    start = time.perf_counter()
    times = measure_step_times("nonlinear", repeats=args.repeats, steps=args.steps)
    print(f"per-update time in the training loop, nonlinear chain (best of {args.repeats}):")
    for name, seconds in times.items():
        batch = METHODS["nonlinear"][name]["batch_size"]
        print(f"  {name:<5} B = {batch:>3}: {seconds * 1e3:8.2f} ms   "
              f"{seconds / times['Adam']:6.1f} × Adam")
    print("HIG's update split into its parts (jitted separately, timed back to back in one "
          f"run, best of as many repeats as fit in {SPLIT_SECONDS:g} s):")
    for setting, label in (("nonlinear", "this page (paper's network)"),
                           ("linear", "source notebook's size")):
        split = measure_hig_split(setting)
        rows, cols = split["shape"]
        print(f"  {rows} × {cols:,} Jacobian, {label}: Jacobian "
              f"{split['jacobian'] * 1e3:.2f} + decomposition "
              f"{split['decomposition'] * 1e3:.2f} = {split['total'] * 1e3:.2f} ms in one "
              f"run; one fused program {split['fused'] * 1e3:.2f} ms (source notebook: "
              f"≈ {SOURCE_NOTEBOOK['hig_update_ms']:g} ms at 128 × 1,444)")
    print(f"(total {time.perf_counter() - start:.1f} s)")
    return 0


def add_commands(subparsers):
    """Register ``hig-oscillators-reproduce``, ``hig-oscillators-bench`` and
    ``hig-oscillators-record``."""
    parser = add_reproduce_command(
        subparsers, "hig-oscillators-reproduce",
        help="coupled oscillators: Adam, SIP, GN and HIG for a wall-clock budget each",
        description="Train every method on the coupled oscillators for the same measured "
                    "wall-clock budget per run (the paper: 3600 s), for each seed; writes "
                    "results (NPZ, JSON), a summary table, PNG figures and provenance.json.",
        run=reproduce, out="hig-oscillators-results")
    parser.add_argument("--setting", choices=SETTINGS, default="nonlinear",
                        help="the paper's nonlinear chain or the source book's linear one")
    parser.add_argument("--seconds", type=positive_float, default=PAPER_SECONDS,
                        help="measured training time per method and seed (default %(default)s)")
    parser.add_argument("--seeds", type=int_in_range(0), nargs="+", default=list(SEEDS))
    parser.add_argument("--methods", nargs="+", choices=list(METHODS["nonlinear"]),
                        default=list(METHODS["nonlinear"]))

    bench = subparsers.add_parser(
        "hig-oscillators-bench",
        help="per-update time of each method and HIG's split, on both Jacobian sizes")
    bench.add_argument("--repeats", type=positive_int(), default=3,
                       help="timed runs per measurement; the best counts (default %(default)s)")
    bench.add_argument("--steps", type=positive_int(), default=None,
                       help="steps per timed run (default: each method's chunk size)")
    bench.set_defaults(run=benchmark)

    record = add_record_command(subparsers, "hig-oscillators-record",
                                source="hig-oscillators-reproduce",
                                contents="one setting, one budget", run=make_record)
    record.add_argument("--setting", choices=SETTINGS, required=True)
