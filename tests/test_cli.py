"""`jaxmlp demo` end to end, and clear messages with exit code 2 for bad options."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from jaxmlp import cli
from jaxmlp.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.slow
def test_demo_reproduces_the_tutorial_in_a_fresh_process(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "jaxmlp.cli", "demo", "--out", str(out)],
        capture_output=True, text=True, env=os.environ | {"COLUMNS": "200"}, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [ln for ln in lines if ln.startswith("eval_epoch")] == [
        "eval_epoch: 1, loss: 0.7327, accuracy: 45.00",
        "eval_epoch: 51, loss: 0.5264, accuracy: 76.67",
        "eval_epoch: 101, loss: 0.3540, accuracy: 83.33",
        "eval_epoch: 151, loss: 0.3364, accuracy: 83.33",
        "eval_epoch: 201, loss: 0.3303, accuracy: 83.33",
    ]
    assert any(ln.startswith("scikit-learn MLPClassifier") and "test accuracy 0.8333" in ln
               for ln in lines)  # fmt: skip
    assert (
        "final (epoch 250): train loss 0.28353, test loss 0.32795, "
        "train acc 0.87857, test acc 0.83333"
    ) in lines
    expected = {"data.png", "activation.png", "baseline_surface.png", "learning_curves.png",
                "model_surface.png", "metrics.csv", "summary.json", "report.html"}  # fmt: skip
    assert {p.name for p in out.iterdir()} == expected
    summary = json.loads((out / "summary.json").read_text())
    assert round(summary["jaxmlp"]["test_acc"], 5) == 0.83333


def test_demo_options_and_quiet(tmp_path):
    if True:  # the engine runs optax under standard promotion itself
        result = run("demo", "--dataset", "moons", "--n-samples", "120", "--noise", "0.1",
                 "--hidden", "16,16", "--activation", "tanh", "--optimizer", "adam",
                     "--lr", "0.01", "--epochs", "30", "--batch-size", "32", "--seed", "3",
                     "--no-baseline", "--quiet", "--out", str(tmp_path))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output == ""
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["config"]["hidden"] == [16, 16] and summary["sklearn"] is None
    assert summary["data"]["n_train"] == 84 and summary["jaxmlp"]["epochs"] == 30


def test_long_run_shows_progress_and_trains_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(cli.err, "width", 160)
    result = run("demo", "--epochs", "6000", "--no-baseline", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "epoch 6000/6000" in result.output and "train loss" in result.output
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    assert len(rows) == 1 + 6000


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--activation", "swishy"], ["--activation", "'swishy'", "swish, relu, tanh"]),
        (["--epochs", "-5"], ["--epochs", "must be > 0, got -5"]),
        (["--epochs", "0"], ["--epochs", "must be > 0, got 0"]),
        (["--lr", "0"], ["--lr", "must be > 0"]),
        (["--dataset", "mnist"], ["--dataset", "'mnist'", "circles, moons, xor, spiral"]),
        (["--optimizer", "lbfgs"], ["--optimizer", "sgd, momentum, nesterov, adam"]),
        (["--hidden", "64,x"], ["--hidden", "positive layer widths"]),
        (["--batch-size", "0"], ["--batch-size", "must be > 0"]),
        (["--momentum", "1"], ["--momentum", "[0, 1)"]),
        (["--n-samples", "2"], ["--n-samples", "at least 4"]),
        (["--test-size", "1"], ["--test-size", "(0, 1)"]),
        (["--noise", "-1"], ["--noise", ">= 0"]),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(args, fragments, tmp_path):
    result = run("demo", *args, "--out", str(tmp_path / "never"))
    assert result.exit_code == 2
    text = " ".join(result.output.split())  # undo rich's line wrapping
    text = text.replace("│", " ").replace("  ", " ")
    for fragment in fragments:
        assert fragment in " ".join(text.split()), result.output
    assert not (tmp_path / "never").exists() or "--out" in args


def test_unwritable_out_is_refused_before_training(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = run("demo", "--out", str(blocker / "sub"))
    assert result.exit_code == 2
    text = " ".join(result.output.replace("│", " ").split())
    assert "--out" in text and "cannot write to output folder" in text
    assert "eval_epoch" not in result.output  # nothing trained


def test_divergence_exits_1_with_advice(tmp_path):
    result = run("demo", "--lr", "1e30", "--optimizer", "sgd", "--no-baseline",
                 "--out", str(tmp_path))  # fmt: skip
    assert result.exit_code == 1
    assert "diverged" in result.output and "smaller learning rate" in result.output
    assert "--lr is 1e+30" in result.output
    assert not (tmp_path / "report.html").exists()


@pytest.mark.slow
def test_bad_option_in_a_real_process_has_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "jaxmlp.cli", "demo", "--activation", "foo"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "swish" in proc.stderr


def test_version():
    from jaxmlp import __version__

    result = run("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_the_progress_line_left_in_a_log_says_the_count_not_a_finished_stage(monkeypatch):
    """Outside a terminal the bar is drawn once, as it stops: that line must not read
    "fitting the baselines..." as if the command had stopped there."""
    import io

    from rich.console import Console

    from jaxmlp.cli import progress

    log = io.StringIO()
    monkeypatch.setattr(progress, "err", Console(file=log, force_terminal=False, width=100))
    with progress.progress_bar(1000, "epochs") as update:
        assert update is not None
        update(69, "loss 0.3")
        update(None, "fitting the baselines...")
    text = log.getvalue()
    assert "69/1000" in text and "fitting the baselines" not in text and "loss" not in text
