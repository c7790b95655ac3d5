"""The regularisation options of the train commands reach the model config; the fast-path line
is printed at training start and saved in config.json."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rnnkit.cli import app
from tests.tasks.conftest import write_intents

runner = CliRunner()
SMALL = ["--hidden-size", "8", "--embedding-dim", "8", "--batch-size", "8", "--no-progress"]


def test_classify_options_reach_the_config_and_the_fast_path_names_the_forcing_one(tmp_path):
    train = write_intents(tmp_path / "train.csv", 2, 0)
    dev = write_intents(tmp_path / "dev.csv", 1, 1)
    out = tmp_path / "m"
    options = ["--locked-dropout", "--weight-drop", "0.2", "--embedding-row-dropout", "0.1",
               "--no-char-features"]  # fmt: skip
    result = runner.invoke(
        app,
        ["train", "classify", "--train", str(train), "--dev", str(dev), "--out", str(out),
         "--cell", "lstm", "--epochs", "1", "--zoneout", "0.1", *options, *SMALL],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    line = "fast path: encoder.rnn LSTM → Python loop (forced by model.zoneout=0.1)"
    assert line in result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["fast_path"] == line
    model = config["model"]
    assert model["locked_dropout"] is True and model["weight_drop"] == 0.2
    assert model["embedding_row_dropout"] == 0.1 and model["zoneout"] == 0.1
    assert model["layer_norm"] is False and model["char_features"] is False


@pytest.mark.parametrize("command", ["classify", "tag", "joint", "translate"])
def test_every_encoder_command_takes_layer_norm(command, tmp_path):
    section = "model.encoder" if command == "translate" else "model"
    result = runner.invoke(
        app, ["train", command, "--train", "t", "--dev", "d", "--out", str(tmp_path / "o"),
              "--cell", "rnn", "--layer-norm"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == f"error: {section}.layer_norm: expected cell in ['gru', 'lstm'], got cell 'rnn'"
    )


@pytest.mark.parametrize("command", ["classify", "tag", "joint", "translate"])
def test_every_encoder_command_refuses_zoneout_on_the_fused_backend(command, tmp_path):
    section = "model.encoder" if command == "translate" else "model"
    result = runner.invoke(
        app, ["train", command, "--train", "t", "--dev", "d", "--out", str(tmp_path / "o"),
              "--zoneout", "0.2", "--set", f"{section}.backend=fused"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "backend='fused' and zoneout=0.2" in result.stderr
