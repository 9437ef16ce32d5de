"""`kerasrecipes next RUN_DIR --out NEW_DIR`: train the run's proposed next recipe (`kerasrecipes.loop`)."""


from kerasrecipes.cli import flags, smoke

DESCRIPTION = (
    "Read the run's learning curves, take the next recipe its diagnosis proposes (proposal.json: one change per "
    "finding, each with its reason: e.g. overfitting -> stronger augmentation, LR too high -> a lower base_lr, "
    "still improving -> more epochs) and train it on the same data and validation split into --out, with the "
    "contract of train: everything checked before any write, a killed run resumes, a rerun of a complete one "
    "does nothing. --rounds N follows the proposals N times (into --out/round1, round2, ...) and stops early "
    "when a round does not improve the best validation accuracy (never the test set); --minutes M bounds the "
    "rounds' training time. When the curves look healthy nothing is proposed and nothing is trained.")


def add_parser(command):
    parser = command(
        "next", help="train the recipe the run's diagnosis proposes (--rounds N: follow the proposals N times)",
        description=DESCRIPTION,
        epilog="Examples:\n  kerasrecipes next runs/demo --out runs/demo_next\n"
        "  kerasrecipes next runs/demo --out runs/demo_loop --rounds 3 --minutes 20\n"
        "  kerasrecipes next runs/demo --out runs/demo_lr --lr-find runs/lr\n"
        "  kerasrecipes compare runs/demo runs/demo_next")
    parser.add_argument("run_dir", help="a complete run directory (train, demo or next)")
    parser.add_argument("--out", required=True, help="the new run directory (with --rounds > 1: the loop directory)")
    parser.add_argument("--rounds", type=flags.positive_int, default=1,
                        help="follow the proposals up to N times, stopping when validation accuracy stops "
                        "improving (default: 1)")
    parser.add_argument("--minutes", type=flags.positive_number("minutes"), metavar="M", default=None,
                        help="with --rounds: no round starts that would pass M minutes of training in all")
    parser.add_argument("--lr-find", metavar="DIR", default=None,
                        help="an lr-find directory of the run's recipe: an LR finding (too high, too low) takes its "
                        "suggested LR instead of a third or three times the run's (first round)")
    parser.add_argument("--overwrite", action="store_true", help="retrain into a directory that holds a complete run")
    parser.set_defaults(func=run)


def _smoke(recipe, data):
    return smoke.recipe(recipe), data  # the run's own (already small) data; one epoch


def run(args):
    from kerasrecipes import loop, runs
    from kerasrecipes.cli.train import verbosity

    prepare = _smoke if smoke.on() else None
    if args.minutes is not None and args.rounds == 1:
        raise ValueError(f"--minutes bounds the rounds of --rounds N (N > 1). Received --minutes {args.minutes:g} "
                         "--rounds 1")
    if args.rounds == 1:
        proposal, summary = loop.next_run(args.run_dir, args.out, lr_find=args.lr_find, overwrite=args.overwrite,
                                          verbose=verbosity(), prepare=prepare)
        if summary is not None:
            print()
            print(runs.format_summary(summary, args.out))
            print(f"\nfiles in {args.out}: {', '.join(runs.files_written(args.out))}")
            print(f"side by side: kerasrecipes compare {args.run_dir} {args.out}")
        return 0
    result = loop.follow(args.run_dir, args.out, args.rounds, minutes=args.minutes, lr_find=args.lr_find,
                         overwrite=args.overwrite, verbose=verbosity(), prepare=prepare)
    print(f"side by side: kerasrecipes compare {' '.join(result.runs)} --out {args.out}/compare.html")
    return 0


