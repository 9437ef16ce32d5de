"""The data flags every subcommand shares and the `ImageData` they name.

`--dataset NAME` or `--data DIR` (exclusive), and for a folder `--image-size
H,W`, `--color-mode`, `--test-dir DIR`, `--test-fraction F` and
`--skip-bad-files`. The subcommands call `add_arguments(parser)` and
`from_args(args)` and nothing else for their data, so a flag added here
appears on all of them at once.
"""

import argparse

from kerasrecipes.datasets.load import NAMES, load

_FOLDER_FLAGS = ("image_size", "color_mode", "test_dir", "test_fraction")


def image_size(text):
    """argparse type for `--image-size`: `H,W` or one number for a square."""
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected H,W (two positive integers, e.g. 64,64), got {text!r}")
    return values


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1), got {text!r}")
    return value


class _Exclusive(argparse.Action):
    """Stores the value and refuses the other flag: argparse's exclusive group cannot see
    `--dataset sample` (the default value) given together with `--data`."""

    def __call__(self, parser, namespace, values, option_string=None):
        other = "data" if self.dest == "dataset" else "dataset"
        if getattr(namespace, "_data_flag", None) == other:
            parser.error(f"argument {option_string}: not allowed with argument --{other}")
        setattr(namespace, self.dest, values)
        namespace._data_flag = self.dest


def add_arguments(parser, *, default="sample"):
    """Adds the data flags to an argparse parser (or argument group); returns it.

    Example:
    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> data = from_args(parser.parse_args(["--data", "photos/", "--image-size", "64,64"]))
    """
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=NAMES, default=default, action=_Exclusive,
                        help=f"a named dataset (default: {default}; 'sample' ships in the package)")
    source.add_argument("--data", metavar="DIR", default=None, action=_Exclusive,
                        help="your own images instead: DIR/<class name>/*.jpg|png|gif|bmp, one subfolder per class")
    parser.add_argument("--image-size", type=image_size, metavar="H,W", default=None,
                        help="with --data: the size every image is resized to (default: the median size, "
                        "at most 64 px on the longer side)")
    parser.add_argument("--color-mode", choices=("grayscale", "rgb", "rgba"), default=None,
                        help="with --data (default: grayscale when every image is, else rgb)")
    parser.add_argument("--test-dir", metavar="DIR", default=None,
                        help="with --data: held-out images laid out like DIR (default: a fixed 20 %% of DIR, "
                        "chosen by a hash of each file's path, never trained on)")
    parser.add_argument("--test-fraction", type=_fraction, metavar="F", default=None,
                        help="with --data and no --test-dir: the fraction held out (default: 0.2)")
    parser.add_argument("--skip-bad-files", action="store_true", default=False,
                        help="with --data: leave out files that are not readable images (counted in one line) "
                        "instead of stopping with their names")
    return parser


def from_args(args, *, log=None):
    """The `ImageData` the parsed flags name; a `ValueError` (one line) when it cannot be had."""
    data = getattr(args, "data", None)
    if data is None:
        given = [name for name in _FOLDER_FLAGS if getattr(args, name, None) is not None]
        if getattr(args, "skip_bad_files", False):
            given.append("skip_bad_files")
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            raise ValueError(f"{flags} {'apply' if len(given) > 1 else 'applies'} only with --data DIR")
        return load(getattr(args, "dataset", None) or "sample")
    from kerasrecipes.datasets.folder import load_folder

    if args.test_dir is not None and args.test_fraction is not None:
        raise ValueError("--test-fraction applies only without --test-dir")
    return load_folder(data, args.image_size, args.color_mode, test_dir=args.test_dir,
                       test_fraction=0.2 if args.test_fraction is None else args.test_fraction,
                       on_bad_file="skip" if args.skip_bad_files else "raise", log=log)
