"""The flags every `kerasrecipes` subcommand shares, and what they name.

- **Recipe flags** (train, demo, search, lr-find, next): one flag per `Recipe`
  field; a field's name, type, default and help become its flag, so a new
  field is a new flag everywhere. `recipe_from_args` turns `--recipe`,
  `--config` and the flags into a preset name and overrides.
- **Data flags**: `--dataset NAME` or `--data DIR` (exclusive), and for a
  folder `--image-size H,W`, `--color-mode`, `--test-dir DIR`,
  `--test-fraction F` and `--skip-bad-files`. `add_data_flags(parser)` and
  `load_data(args)` are all a subcommand (or your own script) needs.
- **Time budget**: `--minutes M` (`add_budget_flag`).
- The argparse types and `OneLineParser` (errors in one line, exit status 2).

This is the only module that reads an argparse namespace: the library below
(`kerasrecipes.presets`, `datasets`, `sizing`) takes plain values.
"""

import argparse
import dataclasses
import math
import types
import typing


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2, no usage dump."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _int_at_least(text, low, what):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive_int(text):
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text):
    return _int_at_least(text, 0, "an integer >= 0")


def positive_number(what):
    """argparse type for a positive finite number (fractions allowed); `what` names it in the error."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"expected a positive number of {what} (fractions allowed), "
                                             f"got {text!r}")
        return value

    return parse


# -- recipe flags ---------------------------------------------------------------------------------------------
def _bool(text):
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _ints(text):
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _int_or_ints(text):
    values = _ints(text)
    return values[0] if len(values) == 1 and "," not in text else values


def _jit(text):
    return "auto" if text.strip().lower() == "auto" else _bool(text)


def number(kind):
    """argparse type for an int or a float (`kind`), with a one-line error."""
    def parse(text):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None

    return parse


def _parser_for(field):
    """The argparse `type` for a Recipe field, read from its annotation."""
    kinds = set(typing.get_args(field.type)) if isinstance(field.type, types.UnionType) else {field.type}
    optional = type(None) in kinds
    kinds.discard(type(None))
    if kinds == {bool, str}:
        parse = _jit
    elif kinds == {int, tuple}:
        parse = _int_or_ints
    elif kinds == {tuple}:
        parse = _ints
    elif kinds == {bool}:
        parse = _bool
    elif kinds == {int}:
        parse = number(int)
    elif kinds == {float}:
        parse = number(float)
    else:
        parse = str
    if not optional:
        return parse

    def or_none(text):
        return None if text.strip().lower() == "none" else parse(text)

    return or_none


def _shown(value):
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "empty"
    return "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def recipe_fields():
    """The Recipe fields that are flags (all but those taken from the data)."""
    from kerasrecipes.recipe import Recipe

    return [f for f in dataclasses.fields(Recipe) if f.metadata.get("cli", True)]


def add_recipe_flags(parser, default_recipe, exclude=()):
    """Adds `--recipe NAME` and one flag per `Recipe` field (but `exclude`) to an argparse parser."""
    from kerasrecipes import presets

    start = presets.get(default_recipe)
    parser.add_argument("--recipe", metavar="NAME", default=argparse.SUPPRESS,
                        help=f"the named recipe whose values the flags below start from: {', '.join(presets.RECIPES)} "
                        f"(default: {default_recipe})")
    group = parser.add_argument_group(f"recipe fields (defaults shown are {default_recipe}'s; any flag overrides "
                                      "the named recipe's value)")
    for field in recipe_fields():
        if field.name in exclude:
            continue
        flag = {"nargs": "?", "const": True, "metavar": "true|false"} if field.type is bool else {
            "metavar": field.name.upper()}  # a bare --deterministic means true
        group.add_argument("--" + field.name.replace("_", "-"), dest=field.name, type=_parser_for(field),
                           default=argparse.SUPPRESS,
                           help=f"{field.metadata['help']} (default: {_shown(getattr(start, field.name))})", **flag)


def recipe_from_args(args, default_recipe):
    """`(name, Recipe)` from `--recipe`, `--config` and the field flags (flags win); a `ValueError` when invalid."""
    from kerasrecipes import _io, presets

    overrides = {}
    config_path = getattr(args, "config", None)
    if config_path:
        try:
            config = _io.read_json(config_path)
        except (OSError, ValueError) as e:
            raise ValueError(f"config file {config_path!r} cannot be read as JSON: {e}") from None
        if not isinstance(config, dict):
            raise ValueError(f"config file {config_path!r} must hold a JSON object of Recipe fields")
        overrides.update({k: tuple(v) if isinstance(v, list) else v for k, v in config.items()})
    name = getattr(args, "recipe", None) or overrides.pop("recipe", None) or default_recipe
    overrides.pop("recipe", None)
    from kerasrecipes.recipe import check_fields

    check_fields(overrides, what=f"config file {config_path!r}", cli_only=True, values=overrides)
    known = {f.name for f in recipe_fields()}
    overrides.update({f: getattr(args, f) for f in known if hasattr(args, f)})
    if name not in presets.RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(presets.RECIPES)}. Received recipe={name!r}")
    return name, overrides


# -- data flags -----------------------------------------------------------------------------------------------

def data_flags_line(args):
    """The data flags of parsed `args` as a command line would give them (for printed commands)."""
    import shlex

    flags = [f"--data {shlex.quote(args.data)}"] if getattr(args, "data", None) else [f"--dataset {args.dataset}"]
    for flag in ("image_size", "color_mode", "test_dir", "test_fraction"):
        value = getattr(args, flag, None)
        if value is not None:
            shown = ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)
            flags.append(f"--{flag.replace('_', '-')} {shlex.quote(shown)}")
    if getattr(args, "skip_bad_files", False):
        flags.append("--skip-bad-files")
    return " ".join(flags)


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


def add_data_flags(parser, *, default="sample"):
    """Adds the data flags to an argparse parser (or argument group); returns it.

    Example:
    >>> parser = argparse.ArgumentParser()
    >>> add_data_flags(parser)
    >>> data = load_data(parser.parse_args(["--data", "photos/", "--image-size", "64,64"]))
    """
    from kerasrecipes.datasets.load import NAMES

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


def load_data(args, *, log=None):
    """The `ImageData` the parsed flags name; a `ValueError` (one line) when it cannot be had."""
    data = getattr(args, "data", None)
    if data is None:
        given = [name for name in _FOLDER_FLAGS if getattr(args, name, None) is not None]
        if getattr(args, "skip_bad_files", False):
            given.append("skip_bad_files")
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            raise ValueError(f"{flags} {'apply' if len(given) > 1 else 'applies'} only with --data DIR")
        from kerasrecipes.datasets.load import load

        return load(getattr(args, "dataset", None) or "sample")
    from kerasrecipes.datasets.folder import load_folder

    if args.test_dir is not None and args.test_fraction is not None:
        raise ValueError("--test-fraction applies only without --test-dir")
    return load_folder(data, args.image_size, args.color_mode, test_dir=args.test_dir,
                       test_fraction=0.2 if args.test_fraction is None else args.test_fraction,
                       on_bad_file="skip" if args.skip_bad_files else "raise", log=log)


# -- time budget ----------------------------------------------------------------------------------------------

def add_budget_flag(parser):
    """Adds `--minutes M` to an argparse parser (or group); returns it. `kerasrecipes.sizing.for_data(...,
    minutes=args.minutes)` sizes the recipe to it."""
    parser.add_argument("--minutes", type=positive_number("minutes"), metavar="M", default=None,
                        help="train the recipe sized to the data and to M minutes on this machine "
                        "(kerasrecipes.sizing.for_data: it times a few steps first; fractions allowed)")
    return parser
