"""Command line: ``python -m improved_gradients <command>`` (also ``improved-gradients``).

The commands run the chapter's experiments at full scale and the benchmarks; they call
exactly the experiment code the notebooks call. A bad argument is a usage error (exit
status 2, stating what is allowed); a run that diverges (``errors.TrainingDiverged``)
ends the command with its message and exit status 1, whatever the command.
"""

import argparse
import sys

from . import machine

# The pinned machine configuration (README, "Reproducibility"), before JAX is imported.
machine.apply_pins()

from . import heat_experiments, hig_experiments, hig_oscillators_experiments, sip_experiments  # noqa: E402
from .errors import TrainingDiverged  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m improved_gradients", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sip_experiments.add_commands(commands)
    hig_experiments.add_commands(commands)
    heat_experiments.add_commands(commands)
    hig_oscillators_experiments.add_commands(commands)
    args = parser.parse_args(argv)
    check = getattr(args, "check", None)
    if check is not None:  # a command's cross-argument checks: a usage error (exit status 2)
        try:
            check(args)
        except ValueError as error:
            parser.error(f"{args.command}: {error}")
    try:
        return args.run(args)
    except TrainingDiverged as error:  # a run that diverged: the command fails, naming it
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
