"""``model.onnx`` beside a checkpoint: export with a parity check, and loading for inference.

One registry, `ONNX_TASKS`: a task exports when it has an entry saying how its graph is built
(`rnnkit.export.graph`), which PyTorch outputs the graph must reproduce, and which runtime
model presents the session behind the task model's own forward contract — so the task's
predictor (tokenizing, batching, decoding, evaluation) runs unchanged on ONNX Runtime.

Legend: B batch, T time, W characters per word.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx
import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ExportError, ModelDirectoryError
from rnnkit.export.classifier import (
    OnnxClassifierModel,
    build_classifier,
    classifier_reference,
)
from rnnkit.export.graph import GraphBuilder
from rnnkit.export.runtime import create_session, run_session
from rnnkit.export.tagging import (
    OnnxTaggingModel,
    build_joint,
    build_tagger,
    tagging_reference,
)
from rnnkit.training.checkpoint import WEIGHTS_FILE, atomic_write

ONNX_FILE = "model.onnx"
FORMATS = ("onnx",)
PARITY_TOLERANCE = 1e-4


@dataclass(frozen=True)
class OnnxTask:
    """How one task's model goes to ONNX and comes back.

    ``build(model, builder)`` writes the graph's outputs; ``reference(model, inputs)``
    returns the same outputs by name from PyTorch (the parity check compares them);
    ``runtime_model(session, config)`` stands in for the PyTorch model inside the predictor.
    """

    build: Callable[[nn.Module, GraphBuilder], None]
    reference: Callable[[nn.Module, dict[str, Tensor]], dict[str, Tensor]]
    runtime_model: Callable[[Any, Any], Any]


ONNX_TASKS: dict[str, OnnxTask] = {
    "classify": OnnxTask(build_classifier, classifier_reference, OnnxClassifierModel),
    "tag": OnnxTask(build_tagger, tagging_reference, OnnxTaggingModel),
    "joint": OnnxTask(build_joint, tagging_reference, OnnxTaggingModel),
}


def get_onnx_task(task: str) -> OnnxTask:
    if task not in ONNX_TASKS:
        raise ConfigError(
            f"task: ONNX export exists for {sorted(ONNX_TASKS)}, got a {task!r} model"
        )
    return ONNX_TASKS[task]


# Export and load ------------------------------------------------------------------------------


def build_onnx_model(
    task: str, model: nn.Module, metadata: dict[str, str] | None = None
) -> onnx.ModelProto:
    """The ONNX graph of ``task``'s PyTorch ``model`` (in eval mode), ``task`` in its metadata."""
    builder = GraphBuilder()
    get_onnx_task(task).build(model.eval(), builder)
    return builder.model({"task": task, **(metadata or {})})


@dataclass(frozen=True)
class ExportResult:
    path: Path
    max_abs_difference: float  # ONNX Runtime vs PyTorch on a mixed-length check batch


def export_onnx(directory: str | Path) -> ExportResult:
    """Writes ``model.onnx`` beside the checkpoint in ``directory`` and checks that ONNX
    Runtime reproduces PyTorch on a batch of mixed lengths (raises `ExportError` if not)."""
    import rnnkit

    directory = Path(directory)
    predictor = rnnkit.load(directory)
    spec = get_onnx_task(predictor.task)
    metadata = {"weights_sha256": weights_digest(directory)}
    model = build_onnx_model(predictor.task, predictor.model, metadata)
    path = directory / ONNX_FILE
    atomic_write(path, lambda temporary: temporary.write_bytes(model.SerializeToString()))
    difference = parity_difference(spec, predictor.model, create_session(path))
    if difference > PARITY_TOLERANCE:
        path.unlink()
        raise ExportError(
            f"{path}: ONNX Runtime differs from PyTorch by {difference:.3g} (expected <= "
            f"{PARITY_TOLERANCE}); the file was removed"
        )
    return ExportResult(path, difference)


def parity_difference(spec: OnnxTask, model: nn.Module, session: Any, seed: int = 0) -> float:
    """Largest absolute difference between every graph output and PyTorch's, on a batch of
    five random sentences of lengths 1 to 9."""
    inputs = example_inputs(model.config, torch.tensor([9, 1, 5, 9, 3]), seed)
    with torch.no_grad():
        expected = spec.reference(model, inputs)
    received = run_session(session, inputs)
    if sorted(received) != sorted(expected):
        raise ExportError(f"graph outputs: expected {sorted(expected)}, got {sorted(received)}")
    return max(float((expected[name] - received[name]).abs().max()) for name in expected)


def example_inputs(config: Any, lengths: Tensor, seed: int = 0) -> dict[str, Tensor]:
    """Random model inputs with these ``lengths``: ``tokens (B, T)`` (padding past each length)
    and, for models with character features, ``char_ids (B, T, W)`` and ``char_lengths``."""
    generator = torch.Generator().manual_seed(seed)
    batch, time = len(lengths), int(lengths.max())
    valid = torch.arange(time) < lengths.unsqueeze(1)  # (B, T)
    low = min(4, config.vocab_size - 1)  # past the special tokens where there are any
    tokens = torch.randint(low, config.vocab_size, (batch, time), generator=generator)
    inputs = {"tokens": tokens.masked_fill(~valid, config.pad_id), "lengths": lengths}
    if getattr(config, "char_features", False):
        width = 6
        char_lengths = torch.randint(1, width + 1, (batch, time), generator=generator) * valid
        char_ids = torch.randint(1, config.char_vocab_size, (batch, time, width),
                                 generator=generator)  # fmt: skip
        inside = torch.arange(width) < char_lengths.unsqueeze(2)
        inputs |= {"char_ids": char_ids * inside, "char_lengths": char_lengths}
    return inputs


def weights_digest(directory: Path) -> str:
    """SHA-256 of ``model.safetensors``: ties ``model.onnx`` to the weights it came from."""
    return hashlib.sha256((directory / WEIGHTS_FILE).read_bytes()).hexdigest()


def load_onnx(predictor: Any, directory: str | Path) -> Any:
    """Puts ``directory``'s ``model.onnx`` behind ``predictor`` (loaded with PyTorch) in place
    of its PyTorch model; refuses a missing file or one exported from other weights."""
    directory = Path(directory)
    path = directory / ONNX_FILE
    spec = get_onnx_task(predictor.task)
    if not path.is_file():
        raise ModelDirectoryError(f"{path} not found; write it with: rnnkit export {directory}")
    session = create_session(path)
    exported_from = session.get_modelmeta().custom_metadata_map.get("weights_sha256")
    if exported_from != weights_digest(directory):
        raise ModelDirectoryError(
            f"{path} was exported from other weights than {directory / WEIGHTS_FILE}; "
            f"export again with: rnnkit export {directory}"
        )
    predictor.model = spec.runtime_model(session, predictor.model.config)
    return predictor
