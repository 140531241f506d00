"""What every page module needs, once: best-of timing, provenance of stored results,
saving figures, and the flags and argument check of a ``*-reproduce`` command.

One figure convention for all pages: a page module's ``figure_*(...)`` functions build and
return a ``matplotlib`` figure in the book's style (``plotting.use_book_style``); the
notebook shows it, the command saves it with ``save_figures``.
"""

import datetime
import os
import pathlib
import subprocess
import time

import numpy as np

from ._checks import (check_callable, check_mapping, check_number, check_positive_int,
                      check_sequence, check_text, existing_directory, writable_directory)

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


def best_seconds(call, repeats):
    """The smallest wall-clock time of ``repeats`` calls of ``call()`` (each waited for with
    ``jax.block_until_ready``), after one untimed call that compiles."""
    import jax

    check_callable("call", call)
    repeats = check_positive_int("repeats", repeats)
    jax.block_until_ready(call())
    best = np.inf
    for _ in range(repeats):
        begin = time.perf_counter()
        jax.block_until_ready(call())
        best = min(best, time.perf_counter() - begin)
    return float(best)


def git_commit():
    """The short commit hash of the package's checkout, or None outside one."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=PACKAGE_DIR, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(**extra):
    """Where and when a stored result was made: commit, date, the machine and its
    configuration (``machine.describe``), plus ``extra`` (settings, wall time, ...)."""
    from . import machine

    replaced = sorted({"commit", "date", "machine"} & set(extra))
    if replaced:
        raise ValueError(f"extra must not replace {', '.join(replaced)} (provenance sets "
                         f"them), got the keys {', '.join(extra)}")
    return {"commit": git_commit(), "date": datetime.date.today().isoformat(),
            "machine": machine.describe(), **extra}


def write_provenance(out, command, wall_seconds, **extra):
    """Write ``provenance.json`` into the directory ``out``: the command line that made the
    results (``python -m improved_gradients`` and this process's arguments when it is
    ``command``), ``provenance(...)`` and the run's wall time; returns the path."""
    import json
    import sys

    if not isinstance(out, (str, os.PathLike)) or not pathlib.Path(out).is_dir():
        raise ValueError(f"out must be an existing directory, got {out!r}")
    if not isinstance(command, str) or not command:
        raise ValueError(f"command must be a command's name, got {command!r}")
    wall_seconds = check_number("wall_seconds", wall_seconds, low=0)
    arguments = sys.argv[1:] if sys.argv[1:2] == [command] else [command]
    entry = provenance(command=" ".join(["python -m improved_gradients", *arguments]),
                       wall_seconds=round(wall_seconds, 1), **extra)
    path = pathlib.Path(out) / "provenance.json"
    path.write_text(json.dumps(entry, indent=1) + "\n")
    return path


def save_figures(out, figures, formats=("png",)):
    """Save each figure of ``figures`` ({file stem: figure, or a function returning one})
    into the directory ``out`` in every format of ``formats``, then close it; returns the
    paths written."""
    import matplotlib.pyplot as plt

    if not isinstance(out, (str, os.PathLike)) or not pathlib.Path(out).is_dir():
        raise ValueError(f"out must be an existing directory, got {out!r}")
    check_mapping("figures", figures)
    formats = [check_format(f) for f in check_sequence("formats", formats)]
    written = []
    for stem, figure in figures.items():
        fig = figure() if callable(figure) else figure
        if not hasattr(fig, "savefig"):
            raise ValueError(f"figures[{stem!r}] must be a matplotlib figure or a function "
                             f"returning one, got {type(fig).__name__}")
        for suffix in formats:
            path = pathlib.Path(out) / f"{stem}.{suffix}"
            fig.savefig(path, bbox_inches="tight")
            written.append(path)
        plt.close(fig)
    return written


def check_format(suffix):
    """An image format ``save_figures`` writes: png or svg."""
    if suffix not in ("png", "svg"):
        raise ValueError(f"format must be 'png' or 'svg', got {suffix!r}")
    return suffix


def _check_subparsers(subparsers):
    if not callable(getattr(subparsers, "add_parser", None)):
        raise ValueError(f"subparsers must be the sub-command group of a parser "
                         f"(parser.add_subparsers()), got {subparsers!r}")


def add_reproduce_command(subparsers, name, *, help, description, run, out, check=None):
    """Register a ``*-reproduce`` command: the flag every one has (``--out``, a writable
    directory, default ``out``) and the one argument-check hook of every command:
    ``check(args)`` raises ValueError for arguments that are wrong together, which
    ``__main__`` reports as a usage error (exit status 2). Returns the parser for the
    command's own flags."""
    _check_subparsers(subparsers)
    check_text("name", name)
    check_callable("run", run)
    if check is not None:
        check_callable("check", check)
    parser = subparsers.add_parser(name, help=help, description=description)
    parser.add_argument("--out", type=writable_directory, default=out,
                        help="output directory (default %(default)s)")
    parser.set_defaults(run=run, check=check)
    return parser


def add_record_command(subparsers, name, *, source, contents, run):
    """Register a ``*-record`` command: it joins the output folders of the command
    ``source`` (each with its provenance.json; ``contents`` says what they must share)
    into the long-budget record a page reads, written to ``--out`` or the package's data
    file. Returns the parser for the command's own flags."""
    _check_subparsers(subparsers)
    for field, text in (("name", name), ("source", source), ("contents", contents)):
        check_text(field, text)
    check_callable("run", run)
    parser = subparsers.add_parser(
        name, help=f"store {source} outputs as the package's long-budget record",
        description=f"Join the output folders of {source} runs ({contents}; each folder "
                    f"with its provenance.json) into the record the page reads.")
    parser.add_argument("folders", nargs="+", type=existing_directory,
                        help=f"output folders of {source}")
    parser.add_argument("--out", default=None,
                        help="where to write the record (default: the package's data file)")
    parser.set_defaults(run=run)
    return parser
