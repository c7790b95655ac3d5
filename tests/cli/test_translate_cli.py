"""The translation commands end to end, and their error paths as one line + exit code 1."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rnnkit.cli import app
from tests.tasks.translation_toys import write_pair_files, write_tsv

runner = CliRunner()
TINY = [
    "--cell", "gru", "--hidden-size", "16", "--embedding-dim", "16", "--epochs", "2",
    "--batch-size", "16", "--no-progress", "--set", "trainer.lr=0.01",
    "--set", "model.decoder.attention_size=16", "--set", "data.min_freq=1",
]  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-translate")
    return write_tsv(folder / "train.tsv", 200, 0), write_tsv(folder / "dev.tsv", 20, 1)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, files):
    out = tmp_path_factory.mktemp("cli-translator") / "m"
    train, dev = files
    arguments = ["train", "translate", "--train", str(train), "--dev", str(dev), "--out", str(out)]
    result = runner.invoke(app, [*arguments, "--attention", "dot", *TINY])
    assert result.exit_code == 0, result.output
    assert "model saved to" in result.output
    return out


def test_train_translate_records_the_options(model_dir):
    config = json.loads((model_dir / "config.json").read_text())
    assert config["model"]["encoder"]["cell"] == "gru"
    assert config["model"]["decoder"]["cell"] == "gru"
    assert config["model"]["decoder"]["attention"] == "dot"
    assert config["model"]["encoder"]["hidden_size"] == 16


def test_translate_json_n_best(model_dir):
    result = runner.invoke(
        app,
        ["translate", str(model_dir), "i see the cat .", "--beam", "3", "--n-best", "2", "--json"],
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.splitlines()[0])
    assert record["text"] == "i see the cat ."
    # The service's shape (tests/serving/test_translation_app.py) and Translation.to_dict's.
    assert set(record) == {"text", "translation", "hypotheses"}
    assert record["translation"] == record["hypotheses"][0]["text"]
    assert len(record["hypotheses"]) == 2
    assert set(record["hypotheses"][0]) == {"text", "score", "log_prob"}


def test_translate_reads_stdin_and_plots_attention(model_dir, tmp_path):
    png = tmp_path / "attention.png"
    result = runner.invoke(
        app,
        ["translate", str(model_dir), "--attention-plot", str(png)],
        input="a red house .\nthe dog .\n",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.count("→") == 2
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_evaluate_json_reports_bleu_chrf_n(model_dir, files):
    result = runner.invoke(
        app, ["evaluate", str(model_dir), str(files[1]), "--json", "--beam", "1"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 20 and report["beam"] == 1
    assert {"bleu", "chrf"} <= set(report)


def test_train_on_line_aligned_files(tmp_path):
    train = write_pair_files(tmp_path / "train", 40, 0)
    dev = write_pair_files(tmp_path / "dev", 5, 1)
    out = tmp_path / "m"
    arguments = ["train", "translate", "--train", str(train), "--dev", str(dev), "--out", str(out)]
    result = runner.invoke(app, [*arguments, "--source", "en", "--target", "fr", *TINY])
    assert result.exit_code == 0, result.output
    evaluated = runner.invoke(app, ["evaluate", str(out), str(dev), "--json", "--beam", "1"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout)["n"] == 5


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["train", "translate", "--dev", "x", "--out", "y"], "error: --train is required"),
        (
            ["train", "translate", "--train", "missing.tsv", "--dev", "x", "--out", "y"],
            "missing.tsv",
        ),
        (["translate", "no-such-dir", "hello"], "error: model directory not found: no-such-dir"),
        (
            ["train", "translate", "--set", "model.bridge=copy", "--train", "a", "--dev", "b"],
            "error: model.bridge: expected one of ['linear', 'zero'], got 'copy'",
        ),
    ],
)
def test_errors_are_one_line(arguments, message):
    result = runner.invoke(app, arguments)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output


def test_translate_rejects_other_tasks(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"task": "classify"}))
    result = runner.invoke(app, ["translate", str(tmp_path), "hello"])
    assert result.exit_code == 1
    assert result.output.startswith("error: ")


@pytest.mark.parametrize(
    ("command", "example"),
    [
        (["translate"], "Example: rnnkit translate"),
        (["train", "translate"], "Example: rnnkit train translate"),
    ],
)
def test_commands_have_an_example(command, example):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert example in " ".join(result.output.split())
