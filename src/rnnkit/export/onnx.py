"""``model.onnx`` beside a checkpoint: export with a parity check, and loading for inference.

One registry, `ONNX_TASKS`: a task exports when it has an entry saying how its graph is built
(`rnnkit.export.graph`), which PyTorch outputs the graph must reproduce, and which runtime
model presents the session behind the task model's own forward contract — so the task's
predictor (tokenizing, batching, decoding, evaluation) runs unchanged on ONNX Runtime.

Legend: B batch, T time, C classes, F features (D*H).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ExportError, ModelDirectoryError
from rnnkit.export.graph import GraphBuilder, pooling, recurrent_stack
from rnnkit.training.checkpoint import WEIGHTS_FILE, atomic_write

ONNX_FILE = "model.onnx"
FORMATS = ("onnx",)
PARITY_TOLERANCE = 1e-4


@dataclass(frozen=True)
class OnnxTask:
    """How one task's model goes to ONNX and comes back.

    ``build(model, builder)`` writes the graph's outputs; ``reference(model, tokens, lengths)``
    returns the same outputs by name from PyTorch (the parity check compares them);
    ``runtime_model(session, config)`` stands in for the PyTorch model inside the predictor.
    """

    build: Callable[[nn.Module, GraphBuilder], None]
    reference: Callable[[nn.Module, Tensor, Tensor], dict[str, Tensor]]
    runtime_model: Callable[[Any, Any], Any]


# Classifier ------------------------------------------------------------------------------------


def build_classifier(model: nn.Module, builder: GraphBuilder) -> None:
    """tokens → embedding → recurrent stack → pooling → linear: ``logits (B, C)``, encoder
    ``outputs (B, T, F)`` and, for attention pooling, ``attention (B, T)``."""
    encoder = model.encoder
    embedded = builder.embedding("tokens", encoder.embedding, "embedding")
    outputs, final_h = recurrent_stack(builder, embedded, "lengths", encoder.rnn, "rnn")
    pooled, weights = pooling(
        builder, model.config.pooling, model.pooling, outputs, "lengths", final_h
    )
    builder.output("logits", builder.linear(pooled, model.output, "output"), ["batch", "classes"])
    builder.output("outputs", outputs, ["batch", "time", "features"])
    if weights is not None:
        builder.output("attention", weights, ["batch", "time"])


def classifier_reference(model: nn.Module, tokens: Tensor, lengths: Tensor) -> dict[str, Tensor]:
    logits, outputs, weights = model.forward_with_details(tokens, lengths)
    found = {"logits": logits, "outputs": outputs}
    return found if weights is None else {**found, "attention": weights}


class OnnxClassifierModel:
    """A `SequenceClassifier`'s inference contract — ``model(tokens, lengths) -> logits``,
    ``forward_with_details``, ``prefix_probabilities`` — computed by ONNX Runtime."""

    training = False

    def __init__(self, session: Any, config: Any) -> None:
        self.session, self.config = session, config
        self.output_names = [output.name for output in session.get_outputs()]

    def eval(self) -> OnnxClassifierModel:
        return self

    def train(self, mode: bool = True) -> OnnxClassifierModel:
        if mode:
            raise ConfigError("train: an ONNX Runtime model is inference-only, got mode=True")
        return self

    def __call__(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        return run_session(self.session, tokens, lengths, ["logits"])[0]

    def forward_with_details(
        self, tokens: Tensor, lengths: Tensor
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        found = dict(
            zip(self.output_names, run_session(self.session, tokens, lengths), strict=True)
        )
        return found["logits"], found["outputs"], found.get("attention")

    def prefix_probabilities(self, tokens: Tensor) -> Tensor:
        """``(T, C)``: row t is the prediction for the prefix ``tokens[: t + 1]``."""
        time = tokens.size(0)
        batch = tokens.unsqueeze(0).expand(time, time)
        return self(batch, torch.arange(1, time + 1)).softmax(dim=-1)


ONNX_TASKS: dict[str, OnnxTask] = {
    "classify": OnnxTask(build_classifier, classifier_reference, OnnxClassifierModel),
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
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([9, 1, 5, 9, 3])
    low = min(4, model.config.vocab_size - 1)  # past the special tokens where there are any
    tokens = torch.randint(low, model.config.vocab_size, (5, 9), generator=generator)
    tokens = tokens.masked_fill(torch.arange(9) >= lengths.unsqueeze(1), model.config.pad_id)
    with torch.no_grad():
        expected = spec.reference(model, tokens, lengths)
    names = [output.name for output in session.get_outputs()]
    received = dict(zip(names, run_session(session, tokens, lengths), strict=True))
    if sorted(received) != sorted(expected):
        raise ExportError(f"graph outputs: expected {sorted(expected)}, got {sorted(received)}")
    return max(float((expected[name] - received[name]).abs().max()) for name in expected)


def weights_digest(directory: Path) -> str:
    """SHA-256 of ``model.safetensors``: ties ``model.onnx`` to the weights it came from."""
    return hashlib.sha256((directory / WEIGHTS_FILE).read_bytes()).hexdigest()


def create_session(source: Path | bytes) -> Any:
    """An ONNX Runtime CPU session for a file or serialized model, using as many threads as
    torch does (so ``OMP_NUM_THREADS=1`` makes both single-threaded)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    source = source if isinstance(source, bytes) else str(source)
    return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def run_session(
    session: Any, tokens: Tensor, lengths: Tensor, names: list[str] | None = None
) -> list[Tensor]:
    feeds = {
        "tokens": tokens.to(torch.int64).numpy(),
        "lengths": lengths.to(torch.int64).numpy(),
    }
    return [torch.from_numpy(np.asarray(value)) for value in session.run(names, feeds)]


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
