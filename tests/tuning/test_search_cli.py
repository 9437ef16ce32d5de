import csv
import json

import pytest

from kerasrecipes.cli import main


def cli_main(argv):
    """`kerasrecipes search ARGV`, its exit status (argparse's exits included)."""
    try:
        return main(["search", *argv])
    except SystemExit as e:
        return e.code


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--trials", "0"], "argument --trials: expected a positive integer, got '0'"),
        (["--epochs", "two"], "argument --epochs: expected a positive integer, got 'two'"),
        (["--dataset", "cifar"], "argument --dataset: invalid choice: 'cifar'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--refine", "-1"], "argument --refine: expected an integer >= 0, got '-1'"),
    ],
)
def test_bad_flags_print_one_line_and_exit_2(argv, message, capsys):
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("kerasrecipes search: error: ") and message in err


def test_bad_values_found_after_parsing_are_one_line_and_exit_2(capsys, tmp_path):
    status = cli_main(["--dataset", "sample", "--train-size", "7000", "--val-size", "2000", "--dir", str(tmp_path)])
    assert status == 2
    err = capsys.readouterr().err
    assert err == ("kerasrecipes search: error: --train-size + --val-size must be at most the 8000 training "
                   "images of sample. Received 7000 + 2000\n")


def test_help_explains_every_flag(capsys):
    assert cli_main(["--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("--dataset", "--model", "--trials", "--epochs", "--refine", "--refine-trials", "--top-k",
                 "--dir", "--project", "--train-size", "--val-size", "--objective", "--algorithm", "--seed",
                 "--overwrite", "--no-plots", "--quiet"):
        assert flag in out
    assert "fashion_mnist" in out and "Resumable" in out


def test_search_flags_parse_in_the_main_parser():
    from kerasrecipes.cli import build_parser, search

    args = build_parser().parse_args(["search", "--dataset", "sample", "--trials", "5", "--refine", "2",
                                      "--dir", "runs/x"])
    assert (args.command, args.dataset, args.trials, args.refine, args.dir) == ("search", "sample", 5, 2, "runs/x")
    assert args.func is search.run and args.epochs == 3


def test_a_tiny_search_writes_results_and_plots_and_prints_the_best_as_json(capsys, tmp_path):
    status = cli_main(["--dataset", "sample", "--model", "mlp", "--trials", "2", "--epochs", "1", "--refine", "1",
                       "--refine-trials", "1", "--train-size", "400", "--val-size", "200", "--seed", "0",
                       "--dir", str(tmp_path)])
    assert status == 0
    captured = capsys.readouterr()
    best = json.loads(captured.out.strip().splitlines()[-1])  # stdout: the best hyperparameters only
    assert set(best) >= {"lr", "l2", "dropout", "width", "depth", "optimizer", "batch_size"}
    assert "coarse: trial 1/2" in captured.err and "stage 1: trial 1/1" in captured.err
    with open(tmp_path / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["stage"], r["trial_id"]) for r in rows] == [("0", "0"), ("0", "1"), ("1", "0")]
    top = max(rows, key=lambda r: float(r["score"]))
    assert float(top["lr"]) == pytest.approx(best["lr"])
    assert (tmp_path / "plots" / "lr.png").exists() and (tmp_path / "plots" / "best_so_far.png").exists()
