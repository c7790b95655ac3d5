"""The classification commands end to end, and every error path as one line + exit code 1."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli import app
from rnnkit.tasks.common import EvaluateOptions
from tests.cli.unseen import WIDE, evaluate_json, one_warning, strict_error
from tests.tasks.conftest import write_intents

runner = CliRunner()
TINY = [
    "--cell",
    "gru",
    "--hidden-size",
    "16",
    "--embedding-dim",
    "16",
    "--epochs",
    "6",
    "--batch-size",
    "8",
    "--no-progress",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    return write_intents(folder / "train.csv", 4, 0), write_intents(folder / "dev.csv", 1, 1)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, data):
    out = tmp_path_factory.mktemp("cli-model") / "m"
    train, dev = data
    result = runner.invoke(
        app,
        [
            "train",
            "classify",
            "--train",
            str(train),
            "--dev",
            str(dev),
            "--out",
            str(out),
            "--set",
            "trainer.lr=0.01",
            *TINY,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "model saved to" in result.output
    assert "kept epoch" in result.stderr  # the trainer's last log line
    return out


def test_train_writes_config_with_overrides(model_dir):
    config = json.loads((model_dir / "config.json").read_text())
    assert config["model"]["cell"] == "gru" and config["model"]["hidden_size"] == 16
    assert config["trainer"]["lr"] == 0.01


def test_evaluate_json(model_dir, data):
    result = runner.invoke(app, ["evaluate", str(model_dir), str(data[1]), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 12 and report["accuracy"] > 0.5 and "macro_f1" in report


def test_evaluate_draws_confusion_matrix(model_dir, data, tmp_path):
    png = tmp_path / "confusion.png"
    result = runner.invoke(
        app, ["evaluate", str(model_dir), str(data[1]), "--confusion-png", str(png)]
    )
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "accuracy" in result.output


UNSEEN_ROWS = "book a flight,travel\nrent a car,travel\n"  # rows 14 and 15 of the dev file


@pytest.fixture
def unseen_dev(data, tmp_path):
    """The dev file (12 texts the model gets right) plus 2 texts of a label unseen in training."""
    dev = tmp_path / "dev.csv"
    dev.write_text(data[1].read_text() + UNSEEN_ROWS)
    return dev


def test_evaluate_counts_unseen_labels_as_errors_and_warns_once(model_dir, unseen_dev):
    report, warning = evaluate_json(model_dir, unseen_dev)
    assert warning == (
        f"2 labels unseen in training (first at {unseen_dev}:14: 'travel'); counted as errors "
        "(--unknown-labels error stops instead)"
    )
    assert report["n"] == 14 and report["n_unknown_label"] == 2
    assert report["accuracy"] == 12 / 14  # the 12 known texts right, the 2 unseen ones wrong
    assert report["per_class"]["travel"]["recall"] == 0.0
    assert report["per_class"]["travel"]["support"] == 2
    assert strict_error(model_dir, unseen_dev) == (
        f"error: {unseen_dev}:14: unknown label 'travel': not seen in training "
        "(--unknown-labels wrong counts it as an error)"
    )


def test_train_warns_once_about_unseen_dev_labels(tmp_path, data, unseen_dev):
    out = tmp_path / "m"
    arguments = ["train", "classify", "--train", str(data[0]), "--dev", str(unseen_dev),
                 "--out", str(out), *TINY, "--epochs", "1"]  # fmt: skip
    result = runner.invoke(app, arguments, env=WIDE)
    assert result.exit_code == 0, result.output
    assert one_warning("unseen in training", result.stderr) == (
        f"2 labels unseen in training (first at {unseen_dev}:14: 'travel'); "
        "the dev metrics count them as errors"
    )
    best = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    assert best["dev_accuracy"] <= 12 / 14


def test_predict_json_top_k_and_trace(model_dir):
    result = runner.invoke(
        app, ["predict", str(model_dir), "what time is it", "--json", "--top-k", "2", "--trace"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.strip())
    assert record["label"] == "ask_time" and len(record["top_k"]) == 2
    assert [step["token"] for step in record["trace"]] == ["what", "time", "is", "it"]
    assert len(record["trace"][0]["hidden_norms"]) == 2  # bidirectional: forward and backward


def test_predict_reads_stdin(model_dir):
    result = runner.invoke(
        app, ["predict", str(model_dir), "--json"], input="play some jazz\nis it sunny\n"
    )
    assert result.exit_code == 0, result.output
    labels = [json.loads(line)["label"] for line in result.stdout.strip().splitlines()]
    assert labels == ["play_music", "weather"]


def test_predict_trace_table(model_dir):
    result = runner.invoke(app, ["predict", str(model_dir), "tell me the time", "--trace"])
    assert result.exit_code == 0, result.output
    assert "O1" in result.output and "O4" in result.output and "ask_time" in result.output


def test_resume_finished_run_keeps_model(model_dir):
    before = (model_dir / "model.safetensors").read_bytes()
    result = runner.invoke(app, ["train", "classify", "--resume", str(model_dir), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert (model_dir / "model.safetensors").read_bytes() == before


def test_resume_refuses_a_changed_model_and_runs_the_same_command_again(model_dir, data):
    again = ["train", "classify", "--train", str(data[0]), "--dev", str(data[1]), *TINY,
             "--resume", str(model_dir)]  # fmt: skip
    assert runner.invoke(app, again).exit_code == 0
    changed = list(again)
    changed[changed.index("--hidden-size") + 1] = "32"
    result = runner.invoke(app, changed)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: --resume {model_dir}: a resumed run keeps its saved config, but "
        "model.hidden_size=32 (saved: 16) was given; drop it, or train into a new --out (only "
        "trainer.epochs, trainer.max_minutes, trainer.device may change)"
    ]


def test_max_minutes_stops_at_the_first_epoch_end(tmp_path, data):
    out = tmp_path / "budget"
    arguments = ["train", "classify", "--train", str(data[0]), "--dev", str(data[1]),
                 "--out", str(out), "--max-minutes", "1e-8", *TINY]  # fmt: skip
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "best epoch 1 of 1 (time_budget)" in result.output
    assert json.loads((out / "config.json").read_text())["trainer"]["max_minutes"] == 1e-8


def test_config_file_and_set(tmp_path, data):
    config = tmp_path / "run.yaml"
    config.write_text(
        f"data:\n  train: {data[0]}\n  dev: {data[1]}\n"
        "model:\n  hidden_size: 8\n  embedding_dim: 8\ntrainer:\n  epochs: 1\n"
    )
    out = tmp_path / "m"
    result = runner.invoke(
        app,
        [
            "train",
            "classify",
            "--config",
            str(config),
            "--out",
            str(out),
            "--set",
            "model.cell=rnn",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "config.json").read_text())["model"]
    assert (saved["hidden_size"], saved["cell"]) == (8, "rnn")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["train", "classify", "--train", "missing.csv", "--dev", "x.csv", "--out", "o"],
            "missing.csv",
        ),
        (["train", "classify", "--dev", "x.csv", "--out", "o"], "--train is required"),
        (
            [
                "train",
                "classify",
                "--train",
                "{train}",
                "--dev",
                "{dev}",
                "--out",
                "{tmp}/o",
                "--text-column",
                "sentence",
            ],
            "sentence",
        ),
        (
            [
                "train",
                "classify",
                "--train",
                "{train}",
                "--dev",
                "{dev}",
                "--out",
                "{tmp}/o",
                "--cell",
                "transformer",
            ],
            "unknown cell 'transformer'",
        ),
        (
            [
                "train",
                "classify",
                "--train",
                "{train}",
                "--dev",
                "{dev}",
                "--out",
                "{tmp}/o",
                "--set",
                "model.hiden_size=3",
            ],
            "hiden_size",
        ),
        (
            [
                "train",
                "classify",
                "--train",
                "{train}",
                "--dev",
                "{dev}",
                "--out",
                "{tmp}/o",
                "--set",
                "trainer.lr=fast",
            ],
            "trainer.lr",
        ),
        (["evaluate", "{tmp}/nowhere", "{dev}"], "model directory not found"),
        (["predict", "{tmp}", "hello"], "missing config.json"),
    ],
)
def test_errors_are_one_line_and_exit_1(arguments, message, data, tmp_path):
    values = {"train": data[0], "dev": data[1], "tmp": tmp_path}
    result = runner.invoke(app, [argument.format(**values) for argument in arguments])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert result.stderr.strip().splitlines()[-1] == errors[0]
    assert "Traceback" not in result.output


def test_console_script_exits_cleanly_without_traceback(tmp_path):
    process = subprocess.run(
        [sys.executable, "-m", "rnnkit", "evaluate", str(tmp_path / "none"), "x.csv"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert process.returncode == 1
    assert process.stderr.strip().startswith("error: model directory not found")
    assert "Traceback" not in process.stderr


def test_every_command_has_help_with_an_example():
    for command in (["train", "classify"], ["evaluate"], ["predict"], ["demo"], ["check"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0
        assert "Example: rnnkit" in result.output, command


@pytest.mark.slow
def test_train_classify_under_torchrun_two_ranks(tmp_path, data):
    """The unchanged command runs data-parallel (gloo on CPU); rank 0 writes a usable model."""
    out = tmp_path / "ddp"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "rnnkit", "train", "classify", "--train", str(data[0]), "--dev", str(data[1]),
        "--out", str(out), *TINY[:-1], "--epochs", "2", "--no-progress",
    ]  # fmt: skip
    process = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert process.returncode == 0, process.stderr[-2000:]
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [record["epoch"] for record in records] == [1, 2]  # written once, by rank 0
    # Each rank trains on half of the 48 examples, in batches of 8: 3 steps per epoch.
    assert records[-1]["step"] == 6
    # the saved weights are the best epoch's: they score its dev loss again
    best = max(records, key=lambda record: record["dev_accuracy"])
    classifier = rnnkit.load(out)
    report = classifier.evaluate_file(str(data[1]), EvaluateOptions())
    assert report["loss"] == pytest.approx(best["dev_loss"], rel=1e-5)
    prediction = subprocess.run(
        [sys.executable, "-m", "rnnkit", "predict", str(out), "what time is it", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    printed, expected = json.loads(prediction.stdout), classifier.predict(["what time is it"])[0]
    assert printed["label"] == expected.label
    assert printed["probability"] == pytest.approx(expected.probability, abs=1e-6)


def test_diagnose_gradients_of_a_trained_classifier(model_dir, data, tmp_path):
    out = tmp_path / "flow"
    result = runner.invoke(
        app, ["diagnose", "gradients", str(model_dir), "--data", str(data[1]), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "gradients.json").read_text())
    assert report["settings"]["examples"] == 12
    (flow,) = report["models"].values()
    directions = flow["directions"]
    assert len(directions) == 2  # a bidirectional GRU: forward and reverse
    # One norm per step of the longest text ("what is the time now"), per direction.
    assert all(len(direction["h_norms"]) == 5 for direction in directions)
    assert flow["verdict"] in {"healthy", "vanishing", "exploding"}
    assert (out / "gradients.png").read_bytes()[:4] == b"\x89PNG"


def test_diagnose_gradients_model_dir_needs_data(model_dir, tmp_path):
    result = runner.invoke(app, ["diagnose", "gradients", str(model_dir), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "error: --data is required with MODEL_DIR" in result.stderr
