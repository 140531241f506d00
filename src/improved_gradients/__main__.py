"""Command line: ``python -m improved_gradients <command>`` (also ``improved-gradients``).

The commands run the chapter's experiments at full scale and the benchmarks; they call
exactly the experiment code the notebooks call.
"""

import argparse

from . import heat_experiments, hig_experiments, sip_experiments


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m improved_gradients", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sip_experiments.add_commands(commands)
    hig_experiments.add_commands(commands)
    heat_experiments.add_commands(commands)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
