"""`kerasrecipes compare DIR1 DIR2 ...`: runs side by side on one HTML page (`kerasrecipes.compare`)."""


def add_parser(command):
    parser = command(
        "compare", help="one HTML page of several runs: curves overlaid, test accuracy, seconds, differing settings",
        description="Write one self-contained HTML page comparing run directories of train, demo or next: the "
        "learning curves overlaid, test accuracy (single, flips, ensemble), wall and CPU seconds, and the recipe "
        "fields that differ. Prints the table too.",
        epilog="Example:\n  kerasrecipes compare runs/demo runs/demo_next --out runs/compare.html")
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories (two or more)")
    parser.add_argument("--out", default="compare.html", help="the HTML file written (default: compare.html)")
    parser.set_defaults(func=run)


def run(args):
    import os

    from kerasrecipes.compare import compare

    if os.path.isdir(args.out):
        raise ValueError(f"--out must name an HTML file, not a directory. Received --out {args.out}")
    comparison = compare(*args.run_dirs)  # every folder checked before anything is written
    path = comparison.write_html(args.out)
    print(repr(comparison))
    print(f"wrote {path}")
    return 0
