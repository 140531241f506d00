"""Command line: ``python -m improved_gradients <command>`` (also ``improved-gradients``).

The commands run the chapter's experiments at full scale and the benchmarks; they call
exactly the experiment code the notebooks call.
"""

import argparse

from . import machine

# The pinned machine configuration (README, "Reproducibility"), before JAX is imported.
machine.apply_pins()

from . import hig_experiments, hig_oscillators_experiments, sip_experiments  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m improved_gradients", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sip_experiments.add_commands(commands)
    hig_experiments.add_commands(commands)
    hig_oscillators_experiments.add_commands(commands)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
