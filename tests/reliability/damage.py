"""Ways to damage a model directory, each with the file and words its error must name.

Every damage takes a copy of a trained model directory and its task, damages it in place,
and returns a `Damage` outcome: the file the one-line error must name and a fragment of
what it must say is wrong. Random bytes come from a seeded generator.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import safetensors.torch
import torch

WEIGHTS = "model.safetensors"
VOCABULARY = {"translate": "source_vocab.json"}  # other tasks: vocab.json
LABELS = {"translate": "target_vocab.json"}  # other tasks: labels.json


@dataclass(frozen=True)
class Expected:
    file: str  # the file the error names
    says: str  # what the error says is wrong
    runtime: str = "torch"  # the runtime that reads the damaged file


def edit_json(path: Path, edit: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def edit_weights(directory: Path, edit: Callable[[dict[str, torch.Tensor]], None]) -> None:
    tensors = safetensors.torch.load_file(directory / WEIGHTS)
    edit(tensors)
    safetensors.torch.save_file(tensors, directory / WEIGHTS)


def first_matrix(tensors: dict[str, torch.Tensor]) -> str:
    return next(name for name, tensor in sorted(tensors.items()) if tensor.dim() == 2)


def truncated_weights(directory: Path, task: str) -> Expected:
    path = directory / WEIGHTS
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return Expected(WEIGHTS, "not a readable safetensors file")


def empty_weights(directory: Path, task: str) -> Expected:
    (directory / WEIGHTS).write_bytes(b"")
    return Expected(WEIGHTS, "not a readable safetensors file")


def random_weights(directory: Path, task: str) -> Expected:
    (directory / WEIGHTS).write_bytes(random.Random(0).randbytes(4096))
    return Expected(WEIGHTS, "not a readable safetensors file")


def edited_hidden_size(directory: Path, task: str) -> Expected:
    def edit(config: dict) -> None:
        model = config["model"]["encoder"] if task == "translate" else config["model"]
        model["hidden_size"] += 2

    edit_json(directory / "config.json", edit)
    return Expected(WEIGHTS, "but config.json describes")


def half_precision_tensor(directory: Path, task: str) -> Expected:
    def edit(tensors: dict[str, torch.Tensor]) -> None:
        name = first_matrix(tensors)
        tensors[name] = tensors[name].half()

    edit_weights(directory, edit)
    return Expected(WEIGHTS, "dtype torch.float16, expected torch.float32")


def missing_tensor(directory: Path, task: str) -> Expected:
    edit_weights(directory, lambda tensors: tensors.pop(first_matrix(tensors)))
    return Expected(WEIGHTS, "missing 1 tensor(s)")


def extra_tensor(directory: Path, task: str) -> Expected:
    edit_weights(directory, lambda tensors: tensors.update(extra=torch.zeros(3)))
    return Expected(WEIGHTS, "tensor 'extra' is not in the model")


def non_finite(value: float) -> Callable[[Path, str], Expected]:
    def damage(directory: Path, task: str) -> Expected:
        def edit(tensors: dict[str, torch.Tensor]) -> None:
            tensors[first_matrix(tensors)][0, 0] = value

        edit_weights(directory, edit)
        return Expected(WEIGHTS, "holds NaN or inf")

    damage.__name__ = f"{value}_in_weights"
    return damage


def shorter_vocabulary(directory: Path, task: str) -> Expected:
    name = VOCABULARY.get(task, "vocab.json")
    edit_json(directory / name, lambda vocab: vocab["tokens"].pop())
    return Expected(name, "entries, but the weights were built for")


def longer_labels(directory: Path, task: str) -> Expected:
    name = LABELS.get(task, "labels.json")
    key = "tokens" if task == "translate" else "labels"
    edit_json(directory / name, lambda labels: labels[key].append("zzz-extra"))
    return Expected(name, "entries, but the weights were built for")


def unknown_task(directory: Path, task: str) -> Expected:
    edit_json(directory / "config.json", lambda config: config.update(task="summarize"))
    return Expected("config.json", "unknown task 'summarize'")


def unknown_top_level_key(directory: Path, task: str) -> Expected:
    edit_json(directory / "config.json", lambda config: config.update(colour="blue"))
    return Expected("config.json", "unknown key 'colour'")


def unknown_model_key(directory: Path, task: str) -> Expected:
    edit_json(directory / "config.json", lambda config: config["model"].update(colour="blue"))
    return Expected("config.json", "model: colour: unknown key")


# A key of config.json's data section each task's predictor reads.
DATA_KEY = {"classify": "text_column", "tag": "max_word_chars", "joint": "lowercase",
            "translate": "source_lang", "generate": "side"}  # fmt: skip


def missing_data_key(directory: Path, task: str) -> Expected:
    edit_json(directory / "config.json", lambda config: config["data"].pop(DATA_KEY[task]))
    return Expected("config.json", f"data: no {DATA_KEY[task]!r} recorded")


def ill_typed_data_key(directory: Path, task: str) -> Expected:
    edit_json(directory / "config.json", lambda config: config["data"].update(lowercase="yes"))
    return Expected("config.json", "data: lowercase: expected bool, got str 'yes'")


def unknown_data_key(directory: Path, task: str) -> Expected:
    edit_json(directory / "config.json", lambda config: config["data"].update(colour="blue"))
    return Expected("config.json", "data: colour: unknown key")


def newer_format(directory: Path, task: str) -> Expected:
    def edit(config: dict) -> None:
        config.update(format_version=99, rnnkit_version="9.1.0")

    edit_json(directory / "config.json", edit)
    return Expected("config.json", "upgrade to rnnkit >= 9.1.0")


def truncated_config(directory: Path, task: str) -> Expected:
    path = directory / "config.json"
    path.write_bytes(path.read_bytes()[:40])
    return Expected("config.json", "invalid JSON")


def corrupted_onnx(directory: Path, task: str) -> Expected:
    path = directory / "model.onnx"
    path.write_bytes(path.read_bytes()[:100])
    return Expected("model.onnx", "not a loadable ONNX model", runtime="onnx")


def stale_onnx(directory: Path, task: str) -> Expected:
    """New weights, as from training again, beside the old export."""

    def edit(tensors: dict[str, torch.Tensor]) -> None:
        tensors[first_matrix(tensors)][0, 0] += 1.0

    edit_weights(directory, edit)
    return Expected("model.onnx", "was exported from other weights", runtime="onnx")


DAMAGES = (
    truncated_weights,
    empty_weights,
    random_weights,
    edited_hidden_size,
    half_precision_tensor,
    missing_tensor,
    extra_tensor,
    non_finite(float("nan")),
    non_finite(float("inf")),
    shorter_vocabulary,
    longer_labels,
    unknown_task,
    unknown_top_level_key,
    unknown_model_key,
    missing_data_key,
    ill_typed_data_key,
    unknown_data_key,
    newer_format,
    truncated_config,
    corrupted_onnx,
    stale_onnx,
)
