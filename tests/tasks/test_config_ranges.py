"""Every probability-valued key of every task's model config is range-checked when the config
is built (a one-line `ConfigError`), so ``--set model.dropout=1.5`` fails before data is read."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from rnnkit.cli import app
from rnnkit.config import apply_overrides
from rnnkit.errors import ConfigError
from rnnkit.tasks import TASKS

runner = CliRunner()
DROPOUTS = ["model.dropout", "model.embedding_dropout", "model.output_dropout"]
# Keys outside the *dropout family that hold a probability, with their valid range.
OTHER_PROBABILITIES = {
    "weight_drop": "[0, 1)",
    "zoneout": "[0, 1)",
    "teacher_forcing": "[0, 1]",
    "label_smoothing": "[0, 1]",
}


def _probability_keys(config: object, prefix: str) -> Iterator[tuple[str, str]]:
    """(dotted key, valid range) of every probability-valued float field under ``config``."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            yield from _probability_keys(value, f"{prefix}{field.name}.")
        elif isinstance(value, float) and field.name.endswith("dropout"):
            yield prefix + field.name, "[0, 1)"
        elif field.name in OTHER_PROBABILITIES:
            yield prefix + field.name, OTHER_PROBABILITIES[field.name]


CASES = [
    (task.name, key, valid)
    for task in TASKS
    for key, valid in _probability_keys(task.config_class(), "")
    if key.startswith("model.")
]


def test_the_cases_cover_every_model_shape_and_dropout():
    keys = {(name, key) for name, key, _ in CASES}
    for name in ("classify", "tag", "joint", "generate"):
        for key in DROPOUTS:
            assert (name, key) in keys
    for section in ("model.encoder", "model.decoder"):
        assert ("translate", f"{section}.dropout") in keys
    assert ("translate", "model.decoder.output_dropout") in keys
    assert ("classify", "model.word_dropout") in keys


@pytest.mark.parametrize("value", ["1.5", "-0.1"])
@pytest.mark.parametrize(("task", "key", "valid"), CASES)
def test_out_of_range_probabilities_fail_when_the_config_is_built(task, key, valid, value):
    config = TASKS.get(task).config_class()
    expected = f"{key}: expected a {'value' if valid.endswith(')') else 'number'} in {valid}"
    with pytest.raises(ConfigError) as caught:
        apply_overrides(config, [f"{key}={value}"])
    assert str(caught.value).startswith(expected), str(caught.value)
    assert str(caught.value).endswith(f"got {float(value)!r}")


@pytest.mark.parametrize(("task", "key", "valid"), CASES)
def test_in_range_probabilities_are_kept(task, key, valid):
    config = apply_overrides(TASKS.get(task).config_class(), [f"{key}=0.25"])
    value = config
    for name in key.split("."):
        value = getattr(value, name)
    assert value == 0.25


@pytest.mark.parametrize("key", DROPOUTS)
def test_train_classify_refuses_a_dropout_of_1_5_in_one_line(key, tmp_path):
    # The data files do not exist: the error must come from the config, before any read.
    result = runner.invoke(
        app, ["train", "classify", "--train", str(tmp_path / "missing.csv"), "--dev",
              str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o"), "--set", f"{key}=1.5"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == f"error: {key}: expected a value in [0, 1), got 1.5"
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()
