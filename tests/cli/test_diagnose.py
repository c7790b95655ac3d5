import json

import pytest
from typer.testing import CliRunner

from rnnkit.cli import app

runner = CliRunner()


def test_gradients_writes_plot_json_and_markdown(tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        ["diagnose", "gradients", "--cells", "rnn,lstm", "--length", "6", "--hidden-size", "4",
         "--batch-size", "2", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads((out / "gradients.json").read_text())
    assert list(document["models"]) == ["rnn", "lstm"]
    assert document["settings"]["length"] == 6
    for model in document["models"].values():
        assert model["verdict"] in ("healthy", "vanishing", "exploding")
        assert len(model["directions"][0]["h_norms"]) == 6
    assert document["models"]["lstm"]["directions"][0]["c_norms"] is not None
    assert (out / "gradients.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (out / "gradients.md").read_text()
    assert "| model | T | at the loss | farthest | ratio | steps | verdict |" in table
    assert "| lstm | 6 |" in table
    assert "verdict" in result.output


def test_gradients_after_training_with_an_initialiser(tmp_path):
    result = runner.invoke(
        app,
        ["diagnose", "gradients", "--cells", "lstm", "--length", "5", "--hidden-size", "4",
         "--batch-size", "2", "--train-steps", "2", "--init", "forget-bias-1",
         "--out", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    settings = json.loads((tmp_path / "gradients.json").read_text())["settings"]
    assert settings["train_steps"] == 2 and settings["init"] == "forget-bias-1"


def test_long_range_prints_a_table_and_writes_json(tmp_path):
    out = tmp_path / "sweep.json"
    result = runner.invoke(
        app,
        ["diagnose", "long-range", "--cells", "rnn,gru", "--lengths", "4,6", "--steps", "2",
         "--hidden-size", "4", "--batch-size", "4", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Adding problem" in result.output and "baseline" in result.output
    runs = json.loads(out.read_text())["runs"]
    assert [(run["cell"], run["length"]) for run in runs] == [
        ("rnn", 4), ("gru", 4), ("rnn", 6), ("gru", 6)
    ]  # fmt: skip
    assert all(len(run["train_loss"]) == 2 for run in runs)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["gradients", "--cells", "rnn,cnn", "--out", "x"], "error: cell: expected one of"),
        (["gradients", "--cells", "rnn", "--init", "he", "--out", "x"], "unknown initialiser"),
        (["long-range", "--lengths", "10,ten"], "error: lengths: expected comma-separated"),
        (
            ["long-range", "--lengths", "1"],
            "error: lengths: expected comma-separated integers >= 2",
        ),
        (["long-range", "--cells", "lstm,lstm"], "error: cells: expected each cell once"),
        (["long-range", "--clip-norm", "-1"], "error: clip-norm: expected a number >= 0"),
    ],
)
def test_bad_options_give_one_line(arguments, message, tmp_path):
    result = runner.invoke(app, ["diagnose", *arguments])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["gradients", "long-range"])
def test_every_command_has_help_with_an_example(command):
    result = runner.invoke(app, ["diagnose", command, "--help"])
    assert result.exit_code == 0
    assert f"Example: rnnkit diagnose {command}" in result.output
