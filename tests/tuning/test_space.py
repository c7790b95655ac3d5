"""Search spaces: one around every task's defaults, ``--space`` files laid over them, and each
bad input as a one-line error before any trial runs."""

from __future__ import annotations

import re

import pytest
import yaml
from typer.testing import CliRunner

from rnnkit.cli import app
from rnnkit.errors import ConfigError
from rnnkit.tasks import TASKS
from rnnkit.tasks.classification import ClassifyConfig
from rnnkit.tuning import TuneSettings, default_space, load_space
from rnnkit.tuning.settings import prepare
from rnnkit.tuning.space import apply_params, default_params, flat_values

runner = CliRunner()


@pytest.mark.parametrize("name", TASKS.names())
def test_every_task_has_a_space_that_holds_its_default_recipe(name):
    config_class = TASKS.get(name).config_class
    space = default_space(config_class)
    keys = {key.rpartition(".")[2] for key in space}
    assert {"lr", "hidden_size", "num_layers", "cell", "batch_size", "epochs"} <= keys
    assert any(key.endswith("dropout") for key in keys)
    # trial 0 is the default recipe: every key's default lies in its range
    params = default_params(space, config_class)
    assert params.keys() == space.keys()
    assert apply_params(config_class(), params) == config_class()


def test_the_classifier_space_has_pooling_and_the_regularisers():
    space = default_space(ClassifyConfig)
    assert set(space["model.pooling"].choices) == {"max", "mean", "attention", "concat"}
    assert space["model.locked_dropout"].choices == (False, True)
    assert space["model.weight_drop"].high == 0.5
    smoothing = space["model.label_smoothing"]  # the default's 0.1 lies inside
    assert (smoothing.low, smoothing.high, smoothing.log) == (0.0, 0.2, False)
    ema = space["trainer.ema_epochs"]
    assert (ema.low, ema.high, ema.log) == (0.0, 2.0, False)
    lr = space["trainer.lr"]
    assert (lr.low, lr.high, lr.log) == pytest.approx((3e-3 / 3, 9e-3, True))
    assert space["model.hidden_size"].choices == (256, 128, 512)
    assert "model.zoneout" not in space and "model.layer_norm" not in space


def test_a_space_file_widens_narrows_and_drops(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump({
        "trainer.lr": {"low": 1e-4, "high": 1e-2, "log": True},
        "model.cell": {"choices": ["gru"]},
        "model.pooling": None,
        "model.char_hidden_size": {"low": 16, "high": 64},
    }))  # fmt: skip
    space = load_space(path, ClassifyConfig, default_space(ClassifyConfig))
    assert (space["trainer.lr"].low, space["trainer.lr"].high) == (1e-4, 1e-2)
    assert space["model.cell"].choices == ("gru",)
    assert "model.pooling" not in space
    char = space["model.char_hidden_size"]
    assert (char.low, char.high, char.integer) == (16, 64, True)


BAD_SPACES = [
    ({"model.hiden_size": {"low": 8, "high": 64}}, "unknown search-space key 'model.hiden_size'"),
    ({"trainer.lr": {"low": 0.01, "high": 0.001}}, "inverted range: low 0.01 > high 0.001"),
    ({"trainer.lr": {"low": 0.01, "high": 0.01}}, "empty range: low = high = 0.01"),
    ({"model.cell": {"choices": []}}, "empty choices"),
    ({"model.cell": {"choices": ["lstm", "tree"]}}, "value 'tree' rejected"),
    ({"model.word_dropout": {"choices": [0.1, 1.5]}}, "word_dropout: value 1.5 rejected"),
    ({"model.dropout": {"low": 0.0, "high": 1.5}}, "a probability range must lie in [0, 1)"),
    ({"trainer.lr": {"low": 0.0, "high": 0.1, "log": True}}, "a log range must be above 0"),
    ({"trainer.lr": [0.001, 0.01]}, "expected {low: L, high: H[, log: true]}"),
]


@pytest.mark.parametrize(("entries", "message"), BAD_SPACES)
def test_a_bad_space_is_one_line_before_any_trial(tmp_path, entries, message):
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(entries))
    settings = TuneSettings("classify", tmp_path / "out", 5, "t.csv", "d.csv", space_file=path)
    with pytest.raises(ConfigError, match=re.escape(message)):
        prepare(settings)
    out = tmp_path / "out"
    argv = ["tune", "classify", "--train", "t.csv", "--dev", "d.csv", "--out", str(out),
            "--budget-minutes", "5", "--space", str(path)]  # fmt: skip
    result = runner.invoke(app, argv)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith(f"error: {path}: ")
    assert message in result.output
    assert not out.exists()  # no study, no trial


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--budget-minutes", "0"], "error: --budget-minutes must be > 0, got 0.0"),
        (["--budget-minutes", "-5"], "error: --budget-minutes must be > 0, got -5.0"),
        (["--budget-minutes", "5", "--trials", "0"], "error: --trials must be at least 1, got 0"),
        (["--budget-minutes", "5", "--jobs", "0"], "error: --jobs must be at least 1, got 0"),
        (["--budget-minutes", "5", "--pruner", "hyperband"], "error: pruner must be one of"),
    ],
)
def test_bad_budget_and_counts_are_one_line(tmp_path, flags, message):
    out = tmp_path / "out"
    argv = ["tune", "classify", "--train", "t.csv", "--dev", "d.csv", "--out", str(out), *flags]
    result = runner.invoke(app, argv)
    assert result.exit_code == 1
    assert result.output.startswith(message) and result.output.count("\n") == 1
    assert not out.exists()


def test_an_unknown_task_and_missing_data_are_one_line(tmp_path):
    result = runner.invoke(app, ["tune", "sort", "--out", str(tmp_path), "--budget-minutes", "1"])
    assert result.exit_code == 1
    assert result.output.startswith("error: unknown task 'sort'; expected one of ['classify'")
    result = runner.invoke(app, ["tune", "tag", "--out", str(tmp_path), "--budget-minutes", "1"])
    assert result.output == "error: --train is required (or give it in --config)\n"


def test_flat_values_name_every_nested_key():
    defaults = flat_values(TASKS.get("translate").config_class)
    assert defaults["model.encoder.hidden_size"] == 256
    assert defaults["trainer.lr"] == 1e-3


def test_a_storage_that_cannot_be_opened_is_one_line(tmp_path):
    argv = ["tune", "classify", "--train", "t.csv", "--dev", "d.csv", "--out", str(tmp_path),
            "--budget-minutes", "1", "--storage", "nosuchdb://nowhere/x"]  # fmt: skip
    result = runner.invoke(app, argv)
    assert result.exit_code == 1
    assert result.output.startswith("error: --storage 'nosuchdb://nowhere/x' cannot be opened: ")
    assert result.output.count("\n") == 1
    assert not (tmp_path / "trials.csv").exists()


def test_the_space_is_centred_on_the_base_recipe(tmp_path):
    settings = TuneSettings(
        "classify", tmp_path, 5, "t.csv", "d.csv", overrides=("model.hidden_size=32",)
    )
    plan = prepare(settings)
    assert plan.space["model.hidden_size"].choices == (32, 16, 64)
    assert default_params(plan.space, plan.base)["model.hidden_size"] == 32
