"""The typed-config machinery: dicts, files and dotted overrides."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import Literal

import pytest

from rnnkit.config import (
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_config_file,
    valid_keys,
)
from rnnkit.errors import ConfigError
from rnnkit.run_config import resolve_run_config
from rnnkit.training import TrainerConfig


@dataclass(frozen=True)
class ModelConfig:
    hidden_size: int = 64
    cell: Literal["rnn", "lstm", "gru"] = "lstm"
    bidirectional: bool = True
    dropout: float = 0.1
    vectors: str | None = None
    kernel_sizes: tuple[int, ...] = (3, 5)


@dataclass(frozen=True)
class RunConfig:
    name: str = "run"
    model: ModelConfig = field(default_factory=ModelConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)


def test_dict_round_trip_keeps_nested_types():
    run = RunConfig(
        model=ModelConfig(kernel_sizes=(1, 2, 3)), trainer=TrainerConfig(betas=(0.8, 0.9))
    )
    data = config_to_dict(run)
    assert data["model"]["kernel_sizes"] == [1, 2, 3]  # JSON-able lists
    assert config_from_dict(RunConfig, data) == run


def test_missing_keys_keep_defaults_and_ints_widen_to_float():
    run = config_from_dict(RunConfig, {"trainer": {"lr": 1, "epochs": 2}})
    assert run.trainer.lr == 1.0 and isinstance(run.trainer.lr, float)
    assert run.trainer.epochs == 2 and run.model == ModelConfig()


def test_unknown_key_names_the_key_and_lists_valid_ones():
    with pytest.raises(ConfigError) as error:
        config_from_dict(RunConfig, {"model": {"hidden": 3}}, where="run.yaml")
    message = str(error.value)
    assert message.startswith("run.yaml: model.hidden: unknown key; valid keys: model.hidden_size")
    assert "model.kernel_sizes" in message


def test_wrong_type_in_dict_is_rejected():
    with pytest.raises(ConfigError, match=r"model.hidden_size: expected int, got str '64'"):
        config_from_dict(RunConfig, {"model": {"hidden_size": "64"}})
    with pytest.raises(ConfigError, match=r"model.cell: expected one of 'rnn', 'lstm', 'gru'"):
        config_from_dict(RunConfig, {"model": {"cell": "transformer"}})
    with pytest.raises(ConfigError, match=r"expected 2 items"):
        config_from_dict(RunConfig, {"trainer": {"betas": [0.9]}})


def test_overrides_parse_each_type():
    run = apply_overrides(
        RunConfig(),
        [
            "model.hidden_size=256",
            "trainer.lr=1e-3",
            "model.bidirectional=false",
            "model.cell=gru",
            "model.vectors=glove.txt",
            "model.kernel_sizes=[2, 4]",
            "trainer.betas=0.8,0.99",
            "trainer.patience=none",
            "name=demo",
        ],
    )
    assert run.model == ModelConfig(256, "gru", False, 0.1, "glove.txt", (2, 4))
    assert run.trainer.lr == 1e-3 and run.trainer.betas == (0.8, 0.99)
    assert run.trainer.patience is None and run.name == "demo"
    assert apply_overrides(run, ["model.vectors=null"]).model.vectors is None


def test_override_unknown_key_lists_valid_keys():
    with pytest.raises(ConfigError) as error:
        apply_overrides(RunConfig(), ["model.hiden_size=3"])
    message = str(error.value)
    assert "unknown config key 'model.hiden_size'" in message
    assert "valid keys: model.hidden_size, model.cell, model.bidirectional" in message
    with pytest.raises(
        ConfigError, match=r"unknown config key 'epochs'; valid keys: name, model\."
    ):
        apply_overrides(RunConfig(), ["epochs=3"])


def test_override_bad_values_name_key_type_and_string():
    with pytest.raises(ConfigError, match=r"'model.hidden_size': expected int, got 'big'"):
        apply_overrides(RunConfig(), ["model.hidden_size=big"])
    with pytest.raises(
        ConfigError, match=r"'model.bidirectional': expected bool \(true/false\), got 'maybe'"
    ):
        apply_overrides(RunConfig(), ["model.bidirectional=maybe"])
    with pytest.raises(
        ConfigError,
        match=r"'trainer.scheduler': expected one of none, warmup-linear, plateau, got 'cosine'",
    ):
        apply_overrides(RunConfig(), ["trainer.scheduler=cosine"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        apply_overrides(RunConfig(), ["model.hidden_size"])
    with pytest.raises(
        ConfigError,
        match=re.escape("'model' is a section; set one of its fields: model.hidden_size"),
    ):
        apply_overrides(RunConfig(), ["model=3"])


def test_override_value_still_validated_by_the_dataclass():
    with pytest.raises(ConfigError, match=re.escape("trainer.epochs must be > 0, got 0")):
        apply_overrides(RunConfig(), ["trainer.epochs=0"])


@dataclass(frozen=True)
class CheckedLayer:
    dropout: float = 0.0
    cell: str = "lstm"

    def __post_init__(self) -> None:
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout: expected a value in [0, 1), got {self.dropout!r}")
        if self.cell not in ("lstm", "gru"):
            raise ConfigError(f"unknown cell {self.cell!r}")


@dataclass(frozen=True)
class CheckedModel:
    encoder: CheckedLayer = field(default_factory=CheckedLayer)


@dataclass(frozen=True)
class CheckedRun:
    model: CheckedModel = field(default_factory=CheckedModel)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("dropout=1.5", "model.encoder.dropout: expected a value in [0, 1), got 1.5"),
        ("cell=tanh", "model.encoder: unknown cell 'tanh'"),
    ],
)
def test_a_sections_own_check_names_the_full_key(setting, message, tmp_path):
    with pytest.raises(ConfigError) as caught:
        apply_overrides(CheckedRun(), [f"model.encoder.{setting}"])
    assert str(caught.value) == message
    key, _, value = setting.partition("=")
    data = {"model": {"encoder": {key: float(value) if key == "dropout" else value}}}
    with pytest.raises(ConfigError) as caught:
        config_from_dict(CheckedRun, data, where="run.yaml")
    assert str(caught.value) == f"run.yaml: {message}"


def test_a_section_built_directly_keeps_its_own_message():
    with pytest.raises(ConfigError) as caught:
        CheckedLayer(dropout=1.5)
    assert str(caught.value) == "dropout: expected a value in [0, 1), got 1.5"


def test_valid_keys_expands_sections():
    keys = valid_keys(RunConfig)
    assert keys[:3] == ["name", "model.hidden_size", "model.cell"]
    assert "trainer.max_grad_norm" in keys


def test_load_yaml_and_json(tmp_path):
    (tmp_path / "run.yaml").write_text("model:\n  hidden_size: 32\ntrainer:\n  lr: 0.01\n")
    (tmp_path / "run.json").write_text('{"model": {"cell": "gru"}}')
    run = config_from_dict(RunConfig, load_config_file(tmp_path / "run.yaml"))
    assert run.model.hidden_size == 32 and run.trainer.lr == 0.01
    assert load_config_file(tmp_path / "run.json") == {"model": {"cell": "gru"}}


def test_load_errors_name_the_file_and_line(tmp_path):
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("model:\n  hidden_size: [1, 2\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+: invalid YAML"):
        load_config_file(bad_yaml)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{\n "a": 1,\n}')
    with pytest.raises(ConfigError, match=r"bad.json:3: invalid JSON"):
        load_config_file(bad_json)
    with pytest.raises(ConfigError, match=r"missing.yaml: cannot read config file"):
        load_config_file(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match=r"run.toml: unknown config file type '.toml'"):
        load_config_file(tmp_path / "run.toml")
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(
        ConfigError, match=re.escape("list.yaml: expected a mapping at the top level, got list")
    ):
        load_config_file(listing)


@dataclass(frozen=True)
class DataConfig:
    train: str = ""
    batch_size: int = 32
    tokenizer: str = "auto"


@dataclass(frozen=True)
class TaskRunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)


def test_run_config_layers_defaults_file_options_then_set(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("model:\n  hidden_size: 8\n  cell: gru\ndata:\n  batch_size: 4\n")
    config = resolve_run_config(
        TaskRunConfig,
        config_file=path,
        options={"model": {"hidden_size": 16, "cell": None}, "data": {"train": "t.csv"}},
        overrides=["model.hidden_size=32"],
    )
    assert config.model.hidden_size == 32  # --set over the flag over the file
    assert config.model.cell == "gru"  # a flag not given (None) leaves the file's value
    assert (config.data.train, config.data.batch_size) == ("t.csv", 4)
    assert config.model.dropout == ModelConfig().dropout  # the default, set nowhere


def save_run(directory, config) -> None:
    (directory / "config.json").write_text(json.dumps({**config_to_dict(config), "task": "x"}))


def test_a_resumed_run_keeps_its_saved_config_and_may_train_longer(tmp_path):
    saved = TaskRunConfig(model=ModelConfig(hidden_size=8), trainer=TrainerConfig(epochs=2))
    save_run(tmp_path, saved)
    path = tmp_path / "run.yaml"
    path.write_text("model:\n  hidden_size: 8\ntrainer:\n  epochs: 4\n")  # same model
    config = resolve_run_config(
        TaskRunConfig,
        resume=tmp_path,
        config_file=path,
        options={"trainer": {"epochs": 5, "lr": None}, "model": {"hidden_size": 8}},
        overrides=["trainer.max_minutes=30", "trainer.device=cpu"],
    )
    # the flag over the file; the run's length and device may change, nothing else does
    assert config == dataclasses.replace(
        saved, trainer=dataclasses.replace(saved.trainer, epochs=5, max_minutes=30.0, device="cpu")
    )
    assert resolve_run_config(TaskRunConfig, resume=tmp_path) == saved


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"overrides": ["model.hidden_size=16"]}, "model.hidden_size=16 (saved: 8)"),
        ({"options": {"data": {"batch_size": 4}}}, "data.batch_size=4 (saved: 32)"),
        ({"overrides": ["trainer.lr=0.1"]}, "trainer.lr=0.1 (saved: 0.001)"),
        ({"file": "model:\n  cell: gru\n"}, "model.cell='gru' (saved: 'lstm')"),
    ],
)
def test_a_resumed_run_refuses_a_changed_model_data_or_optimiser_key(tmp_path, given, message):
    save_run(tmp_path, TaskRunConfig(model=ModelConfig(hidden_size=8)))
    config_file = None
    if "file" in given:
        config_file = tmp_path / "run.yaml"
        config_file.write_text(given["file"])
    with pytest.raises(ConfigError) as error:
        resolve_run_config(
            TaskRunConfig, resume=tmp_path, config_file=config_file,
            options=given.get("options"), overrides=given.get("overrides", ()),
        )  # fmt: skip
    assert str(error.value) == (
        f"--resume {tmp_path}: a resumed run keeps its saved config, but {message} was given; "
        "drop it, or train into a new --out (only trainer.epochs, trainer.max_minutes, "
        "trainer.device may change)"
    )


def test_auto_given_to_a_resumed_run_is_what_the_run_resolved(tmp_path):
    save_run(tmp_path, TaskRunConfig(data=DataConfig(tokenizer="whitespace")))
    config = resolve_run_config(TaskRunConfig, resume=tmp_path, overrides=["data.tokenizer=auto"])
    assert config.data.tokenizer == "whitespace"
    with pytest.raises(ConfigError, match=r"data\.tokenizer='char' \(saved: 'whitespace'\)"):
        resolve_run_config(TaskRunConfig, resume=tmp_path, overrides=["data.tokenizer=char"])


def test_a_file_and_the_command_line_read_the_same_types_alike():
    from_file = config_from_dict(
        RunConfig,
        {"model": {"kernel_sizes": [1, 2], "vectors": None, "cell": "gru", "dropout": 0.5}},
    )
    from_flags = apply_overrides(
        RunConfig(),
        ["model.kernel_sizes=1,2", "model.vectors=none", "model.cell=gru", "model.dropout=0.5"],
    )
    assert from_file == from_flags
    assert from_file.model.kernel_sizes == (1, 2) and isinstance(from_file.model.dropout, float)
