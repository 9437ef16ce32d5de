"""`kerasrecipes report RUN_DIR`: one HTML page for a train, demo, next or lr-find directory."""

import os


def add_parser(command):
    report = command(
        "report", help="write report.html for a run or lr-find directory",
        description="Write one self-contained HTML page for a directory written by train, demo or next (test "
        "accuracy, recipe settings, learning curves, diagnosis and proposed next run, confusion matrix) or by "
        "lr-find (the range test).",
        epilog="Example:\n  kerasrecipes report runs/demo")
    report.add_argument("run_dir", help="a directory written by `kerasrecipes train`, `demo`, `next` or `lr-find`")
    report.set_defaults(func=run)


def run(args):
    from kerasrecipes import report, runs

    if not os.path.isdir(args.run_dir):
        raise ValueError(f"{args.run_dir!r} is not a directory")
    if os.path.exists(os.path.join(args.run_dir, runs.HISTORY_FILE)):
        path = runs.write_report(args.run_dir)
    elif os.path.exists(os.path.join(args.run_dir, report.RUN_FILES["lr_find"])):
        path = report.lr_find_report(args.run_dir)
    else:
        raise ValueError(f"{args.run_dir!r} holds neither {runs.HISTORY_FILE} (a train or demo run) nor "
                         f"{report.RUN_FILES['lr_find']} (an lr-find run): nothing to report")
    print(f"wrote {path}")
    return 0
