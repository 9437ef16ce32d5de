"""Recipe flags for every subcommand that takes a recipe (train, demo, search, lr-find): one flag per `Recipe` field.

A field's name, type, default and help become its flag, so a new field is a
new flag everywhere. Kept apart from `kerasrecipes.cli` so that the search's
command line (`kerasrecipes.tuning.cli`) uses the same flags without an
import cycle.
"""

import argparse
import dataclasses
import types
import typing


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


def _number(kind):
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
        parse = _number(int)
    elif kinds == {float}:
        parse = _number(float)
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


def _add_recipe_flags(parser, default_recipe, exclude=()):
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
    known = {f.name for f in recipe_fields()}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"config file {config_path!r} has unknown setting(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(sorted(known))}")
    overrides.update({f: getattr(args, f) for f in known if hasattr(args, f)})
    if name not in presets.RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(presets.RECIPES)}. Received recipe={name!r}")
    return name, overrides



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
