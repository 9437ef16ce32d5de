"""The data flags every subcommand shares (`--dataset`, ...) and the `ImageData` they name."""

from kerasrecipes.datasets.load import NAMES, load


def add_arguments(parser, *, default="sample"):
    """Adds the data flags to an argparse parser (or argument group)."""
    parser.add_argument("--dataset", choices=NAMES, default=default,
                        help=f"a named dataset (default: {default}; 'sample' ships in the package)")
    return parser


def from_args(args):
    """The `ImageData` the parsed flags name; a `ValueError` (one line) when it cannot be had."""
    return load(args.dataset)
