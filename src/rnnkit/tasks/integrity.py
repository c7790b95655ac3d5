"""Reading a model directory that may be damaged: every fault is one `ModelDirectoryError`.

Model directories get copied, synced, edited and half-downloaded, so nothing in one is
trusted until checked. Each check names the file and says what is wrong:

- ``config.json``: valid UTF-8 JSON holding an object, a known task, known top-level keys, a
  model section that builds, a data section of known, well-typed keys holding every key the
  predictor reads, and a ``format_version`` this rnnkit reads (a newer one says which rnnkit
  wrote it, the version to upgrade to);
- ``model.safetensors``: a readable header (truncated, empty and random files fail here,
  in safetensors' own parser), exactly the tensors the configured model has, each with the
  model's shape and dtype, none holding NaN or inf;
- the vocabularies (``vocab.json``, ``labels.json``, ...): readable, each as long as the
  configured model's embedding or output layer (the sizes recorded in ``config.json``,
  which the weights were just checked against).

Only JSON and safetensors are read: nothing is ever unpickled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import safetensors
import torch
from torch import Tensor, nn

from rnnkit.config import config_from_dict
from rnnkit.data import LabelVocab, Tokenizer, Vocab, tokenizer_from_config
from rnnkit.errors import ConfigError, ModelDirectoryError, RnnkitError
from rnnkit.training import TrainerConfig
from rnnkit.training.checkpoint import WEIGHTS_FILE
from rnnkit.version import __version__

CONFIG_FILE = "config.json"
# The layout of a model directory; raise it when a change makes old readers misread new
# directories (they then refuse them, naming the rnnkit version that wrote them).
FORMAT_VERSION = 1
SECTIONS = ("data", "model", "trainer")  # the run config, as the task's train command wrote it
# fast_path: the kernels training ran on (rnnkit.nn.fast_path), a record, not a setting.
METADATA_KEYS = (
    "task", "tokenizer", "rnnkit_version", "torch_version", "format_version", "fast_path",
)  # fmt: skip


def format_versions() -> dict[str, Any]:
    """What ``config.json`` records about its writer: the layout and the library versions."""
    return {
        "rnnkit_version": __version__,
        "torch_version": torch.__version__,
        "format_version": FORMAT_VERSION,
    }


def read_config(directory: Path, task: str | None = None) -> dict[str, Any]:
    """``directory/config.json``, checked: an object of known keys and format version, holding
    a ``task`` (``task``, when given)."""
    path = directory / CONFIG_FILE
    config = read_json_file(path)
    if not isinstance(config, dict):
        raise ModelDirectoryError(f"{path}: expected a JSON object, got {type(config).__name__}")
    check_format_version(path, config)
    unknown = sorted(set(config) - set(SECTIONS) - set(METADATA_KEYS))
    if unknown:
        raise ModelDirectoryError(
            f"{path}: unknown key {unknown[0]!r}; valid keys: {', '.join(SECTIONS + METADATA_KEYS)}"
        )
    for key in ("task", "data", "model", "tokenizer"):
        if key not in config:
            raise ModelDirectoryError(f"{path}: no {key!r} recorded")
    if task is not None and config["task"] != task:
        raise ModelDirectoryError(f"{directory} holds a {config['task']!r} model, not {task!r}")
    if "trainer" in config:
        read_section(path, config, "trainer", TrainerConfig)
    return config


def check_format_version(path: Path, config: dict[str, Any]) -> None:
    """Refuses a directory written in a newer layout (directories without one are version 1)."""
    version = config.get("format_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelDirectoryError(
            f"{path}: format_version: expected a positive integer, got {version!r}"
        )
    if version > FORMAT_VERSION:
        writer = config.get("rnnkit_version", "a newer release")
        raise ModelDirectoryError(
            f"{path}: format_version {version} is newer than this rnnkit reads ({FORMAT_VERSION}); "
            f"it was written by rnnkit {writer}: upgrade to rnnkit >= {writer}"
        )


def read_section(path: Path, config: dict[str, Any], name: str, config_class: type) -> Any:
    """The typed config of section ``name`` of ``config.json`` (unknown keys refused)."""
    try:
        return config_from_dict(config_class, config[name], where=f"{path}: {name}")
    except ConfigError as error:
        raise ModelDirectoryError(str(error)) from None


def read_data_section(
    directory: Path, config: dict[str, Any], data_class: type, needed: tuple[str, ...]
) -> Any:
    """The typed ``data`` section of ``directory/config.json``: unknown and ill-typed keys are
    refused (`read_section`), and so is a missing key of ``needed`` (those the predictor
    reads; the others are training's and keep their defaults)."""
    path = directory / CONFIG_FILE
    section = config["data"]
    missing = [key for key in needed if isinstance(section, dict) and key not in section]
    if missing:
        raise ModelDirectoryError(
            f"{path}: data: no {missing[0]!r} recorded (the predictor reads {', '.join(needed)})"
        )
    return read_section(path, config, "data", data_class)


def read_json_file(path: Path) -> Any:
    """A JSON file's data; unreadable bytes or JSON raise `ModelDirectoryError` naming it."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ModelDirectoryError(
            f"{path}: not UTF-8 (byte {error.start}: {error.reason})"
        ) from None
    except json.JSONDecodeError as error:
        raise ModelDirectoryError(
            f"{path}:{error.lineno}: invalid JSON: {error.msg} (column {error.colno})"
        ) from None


def build_model(
    directory: Path, config: dict[str, Any], config_class: type, model_class: type[nn.Module]
) -> nn.Module:
    """The model configured in ``config.json``, with ``model.safetensors`` checked and loaded."""
    path = directory / CONFIG_FILE
    model_config = read_section(path, config, "model", config_class)
    try:
        model = model_class(model_config)
    except RnnkitError as error:  # e.g. a size edited to 0: the config, not the code, is wrong
        raise ModelDirectoryError(f"{path}: model: {error}") from None
    load_weights(model, directory / WEIGHTS_FILE)
    return model


def load_weights(model: nn.Module, path: Path) -> None:
    """Loads ``path`` into ``model`` after checking every tensor against it.

    Refuses an unreadable file, a tensor the model lacks, one of another shape or dtype (torch
    would cast it silently), NaN or inf, and a parameter the file lacks. Tied parameters
    (one tensor under two names) are stored once and count as present.
    """
    expected = model.state_dict()
    tensors = read_tensors(path)
    for name, tensor in tensors.items():
        problem = tensor_problem(name, tensor, expected)
        if problem:
            raise ModelDirectoryError(f"{path}: {problem}")
    stored = {expected[name].data_ptr() for name in tensors if expected[name].numel()}
    missing = [
        name
        for name, tensor in expected.items()
        if name not in tensors and not (tensor.numel() and tensor.data_ptr() in stored)
    ]
    if missing:
        raise ModelDirectoryError(
            f"{path}: missing {len(missing)} tensor(s) the model in config.json has: "
            f"{', '.join(missing[:5])}"
        )
    model.load_state_dict(tensors, strict=False)


def read_tensors(path: Path) -> dict[str, Tensor]:
    """Every tensor of a safetensors file, read with safetensors' own header checks."""
    try:
        with safetensors.safe_open(path, framework="pt") as weights:
            return {name: weights.get_tensor(name) for name in weights.keys()}  # noqa: SIM118
    except safetensors.SafetensorError as error:
        reason = " ".join(str(error).split())
        raise ModelDirectoryError(f"{path}: not a readable safetensors file: {reason}") from None


def tensor_problem(name: str, tensor: Tensor, expected: Mapping[str, Tensor]) -> str | None:
    """What is wrong with the stored tensor ``name`` for a model whose state is ``expected``."""
    if name not in expected:
        return f"tensor {name!r} is not in the model that config.json describes"
    wanted = expected[name]
    if tensor.shape != wanted.shape:
        return (
            f"{name}: shape {tuple(tensor.shape)}, but config.json describes {tuple(wanted.shape)}"
        )
    if tensor.dtype != wanted.dtype:
        return f"{name}: dtype {tensor.dtype}, expected {wanted.dtype}"
    if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
        return f"{name} holds NaN or inf"
    return None


def read_vocabularies(
    directory: Path, model_config: Any, sizes: Mapping[str, str]
) -> dict[str, Vocab | LabelVocab]:
    """Each file of ``sizes`` present in ``directory`` (file → dotted model-config field
    holding its size), read as a `Vocab` or `LabelVocab` by its ``type`` and checked to be
    exactly that size."""
    vocabularies: dict[str, Vocab | LabelVocab] = {}
    for name, field in sizes.items():
        path = directory / name
        if not path.is_file():
            continue
        vocabulary = read_vocabulary(path)
        expected = model_config
        for part in field.split("."):
            expected = getattr(expected, part)
        if len(vocabulary) != expected:
            raise ModelDirectoryError(
                f"{path}: {len(vocabulary)} entries, but the weights were built for "
                f"{expected} (model.{field} in {CONFIG_FILE})"
            )
        vocabularies[name] = vocabulary
    return vocabularies


def read_vocabulary(path: Path) -> Vocab | LabelVocab:
    data = read_json_file(path)
    kinds = {"vocab": Vocab, "labels": LabelVocab}
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in kinds:
        raise ModelDirectoryError(f"{path}: expected a JSON object with type 'vocab' or 'labels'")
    try:
        return kinds[kind].from_dict(data)
    except (RnnkitError, TypeError) as error:
        raise ModelDirectoryError(f"{path}: {error}") from None


def read_tokenizer(directory: Path, tokenizer_config: Any) -> Tokenizer:
    """The tokenizer recorded in ``config.json``; a bad record names the file."""
    try:
        return tokenizer_from_config(tokenizer_config)
    except (RnnkitError, TypeError) as error:
        raise ModelDirectoryError(f"{directory / CONFIG_FILE}: tokenizer: {error}") from None
