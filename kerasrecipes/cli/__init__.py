"""The `kerasrecipes` command: one module per subcommand, the shared flags in `flags`.

- `train`, `demo` (`cli.train`), `report` (`cli.report`), `lr-find`
  (`cli.lr_find`), `search` (`cli.search`), `next` (`cli.next_run`), `compare`
  (`cli.compare`): each module registers its parser and runs its command.
- `flags`: the recipe, data and time-budget flags every subcommand shares
  (and your own scripts can add); the only module that reads an argparse
  namespace.
- `smoke`: `KERASRECIPES_SMOKE=1` runs every command at tiny size.

`main` turns a `ValueError` into one line on stderr and exit status 2. Heavy
imports (Keras and the backend) happen inside the commands, so `--help` and a
bad flag answer at once.
"""

import argparse
import os
import sys

from kerasrecipes import _quiet
from kerasrecipes.cli import compare, lr_find, report, search, train
from kerasrecipes.cli import next_run
from kerasrecipes.cli.flags import OneLineParser

RECIPE_NAMES = ("factory", "fashion_mnist_fast", "fashion_mnist_94")  # keys of presets.RECIPES (checked in tests)


def build_parser():
    parser = OneLineParser(
        prog="kerasrecipes", allow_abbrev=False,
        description="Training recipes for deep CNNs, from the command line.",
        epilog="Examples:\n  kerasrecipes demo\n  kerasrecipes train --dataset fashion_mnist --order conv-act-bn "
        "--epochs 20 --out runs/fm\n  kerasrecipes report runs/fm\n  kerasrecipes next runs/fm --out runs/fm2"
        "\n  kerasrecipes compare runs/fm runs/fm2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    parser.commands = {}  # name -> subparser, so that main() reports stray arguments under the subcommand

    def command(name, **kwargs):
        parser.commands[name] = commands.add_parser(
            name, allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)
        return parser.commands[name]

    train.add_parsers(command)
    report.add_parser(command)
    search.add_parser(command)
    lr_find.add_parser(command)
    next_run.add_parser(command)
    compare.add_parser(command)
    return parser


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # argparse would blame "kerasrecipes"; the subcommand's parser names itself
        parser.commands.get(getattr(args, "command", None), parser).error(
            f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except ValueError as e:
        message = " ".join(str(e).split())  # one line, whatever the exception held
        print(f"kerasrecipes {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"kerasrecipes {args.command}: interrupted; finished files are kept, run the same command again "
              "to resume", file=sys.stderr)
        return 130
    except Exception:
        _quiet.dump_parked()  # an unexpected failure: show what native code said too
        raise
