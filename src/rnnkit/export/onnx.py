"""``model.onnx`` beside a checkpoint: export with a parity check, and loading for inference.

One registry, `ONNX_GRAPHS`, one entry per model family; a task (`rnnkit.tasks.TASKS`) names
its family in ``Task.onnx``. An entry says which graphs make the
model (`OnnxGraph`: how each is built with `rnnkit.export.graph`, which PyTorch outputs it must
reproduce, on which check inputs), and which runtime model presents the sessions behind the
task model's own inference contract — so the task's predictor (tokenizing, batching, decoding,
evaluation) runs unchanged on ONNX Runtime. One-pass models have one graph, ``model.onnx``;
models with a decoding loop (language model, seq2seq) add step graphs (``model.step.onnx``,
...) and their stand-ins run the loop in Python over the sessions.

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

from rnnkit.errors import ExportError, ModelDirectoryError
from rnnkit.export.classifier import (
    OnnxClassifierModel,
    build_classifier,
    classifier_reference,
)
from rnnkit.export.graph import GraphBuilder
from rnnkit.export.language_model import OnnxLanguageModel, language_model_graphs
from rnnkit.export.runtime import create_session, run_session
from rnnkit.export.seq2seq import OnnxSeq2Seq, seq2seq_graphs
from rnnkit.export.spec import OnnxGraph, token_inputs
from rnnkit.export.tagging import (
    OnnxTaggingModel,
    build_joint,
    build_tagger,
    tagging_reference,
)
from rnnkit.tasks import TASKS, load_predictor
from rnnkit.training.checkpoint import WEIGHTS_FILE, atomic_write

ONNX_FILE = "model.onnx"
FORMATS = ("onnx",)
PARITY_TOLERANCE = 1e-4


@dataclass(frozen=True)
class OnnxTask:
    """How one task's model goes to ONNX and comes back.

    ``graphs(model)`` names the model's graphs by file stem (``"model"`` is ``model.onnx``,
    always present); ``runtime_model(sessions, config)`` stands in for the PyTorch model
    inside the predictor, given one ONNX Runtime session per stem.
    """

    graphs: Callable[[nn.Module], dict[str, OnnxGraph]]
    runtime_model: Callable[[dict[str, Any], Any], Any]


def one_graph(
    build: Callable[[nn.Module, GraphBuilder], None],
    reference: Callable[[nn.Module, dict[str, Tensor]], dict[str, Tensor]],
    runtime_model: Callable[[Any, Any], Any],
) -> OnnxTask:
    """A one-pass model: ``model.onnx`` on ``tokens``/``lengths`` (and character) inputs."""
    graph = OnnxGraph(build, reference, token_inputs)
    return OnnxTask(
        lambda model: {"model": graph}, lambda s, config: runtime_model(s["model"], config)
    )


# Model family (the ``onnx`` of a `Task`) → how its models go to ONNX and come back.
ONNX_GRAPHS: dict[str, OnnxTask] = {
    "classifier": one_graph(build_classifier, classifier_reference, OnnxClassifierModel),
    "tagger": one_graph(build_tagger, tagging_reference, OnnxTaggingModel),
    "joint": one_graph(build_joint, tagging_reference, OnnxTaggingModel),
    "language-model": OnnxTask(language_model_graphs, OnnxLanguageModel),
    "seq2seq": OnnxTask(seq2seq_graphs, OnnxSeq2Seq),
}


def get_onnx_task(task: str) -> OnnxTask:
    """The ONNX graphs of the registered task ``task`` (its ``Task.onnx`` family)."""
    return TASKS.entry(task, "onnx", ONNX_GRAPHS, "ONNX graph family")


INT8_SUFFIX = ".int8"  # model.int8.onnx: the int8 graph beside model.onnx (rnnkit.export.quantize)


def onnx_path(directory: Path, stem: str, quantized: bool = False) -> Path:
    """``model.onnx`` (or a step graph's file); ``quantized``: its int8 twin ``model.int8.onnx``."""
    return directory / f"{stem}{INT8_SUFFIX if quantized else ''}.onnx"


def read_session(path: Path, command: str) -> Any:
    """An ONNX Runtime session for ``path``; a file it cannot load names itself and the
    ``command`` that writes it again."""
    try:
        return create_session(path)
    # onnxruntime raises its own classes (InvalidProtobuf, InvalidArgument, Fail, ...), all
    # plain Exceptions from its compiled module; every one means this file is unusable.
    except Exception as error:
        reason = " ".join(str(error).split())
        raise ModelDirectoryError(
            f"{path}: not a loadable ONNX model ({reason}); write it again with: {command}"
        ) from None


# Export and load ------------------------------------------------------------------------------


def build_onnx_model(
    task: str, model: nn.Module, metadata: dict[str, str] | None = None, stem: str = "model"
) -> onnx.ModelProto:
    """The ONNX graph ``stem`` of ``task``'s PyTorch ``model`` (in eval mode), ``task`` in its
    metadata."""
    graph = get_onnx_task(task).graphs(model)[stem]
    builder = GraphBuilder(token_inputs=graph.token_inputs)
    graph.build(model.eval(), builder)
    return builder.model({"task": task, **(metadata or {})})


@dataclass(frozen=True)
class ExportResult:
    paths: list[Path]  # model.onnx first, then the step graphs
    max_abs_difference: float  # ONNX Runtime vs PyTorch on the check inputs, over all graphs

    @property
    def path(self) -> Path:
        return self.paths[0]


def export_onnx(directory: str | Path) -> ExportResult:
    """Writes ``model.onnx`` (and the model's step graphs) beside the checkpoint in
    ``directory`` and checks that ONNX Runtime reproduces PyTorch on check inputs of mixed
    lengths (raises `ExportError`, removing the files, if not)."""
    directory = Path(directory)
    predictor = load_predictor(directory)
    model = predictor.model.eval()
    metadata = {"weights_sha256": weights_digest(directory)}
    graphs = get_onnx_task(predictor.task).graphs(model)
    paths, differences = [], []
    for stem, graph in graphs.items():
        path = onnx_path(directory, stem)
        proto = build_onnx_model(predictor.task, model, metadata, stem)
        atomic_write(path, lambda temporary, p=proto: temporary.write_bytes(p.SerializeToString()))
        paths.append(path)
        differences.append(parity_difference(graph, model, create_session(path)))
    difference, worst = max(zip(differences, paths, strict=True))
    if difference > PARITY_TOLERANCE:
        for path in paths:
            path.unlink()
        removed = "the file was" if len(paths) == 1 else f"the {len(paths)} files were"
        raise ExportError(
            f"{worst}: ONNX Runtime differs from PyTorch by {difference:.3g} (expected <= "
            f"{PARITY_TOLERANCE}); {removed} removed"
        )
    return ExportResult(paths, difference)


def parity_difference(graph: OnnxGraph, model: nn.Module, session: Any, seed: int = 0) -> float:
    """Largest absolute difference between every graph output and PyTorch's, on the graph's
    check inputs for five sequences of lengths 1 to 9."""
    inputs = graph.check_inputs(model, torch.tensor([9, 1, 5, 9, 3]), seed)
    with torch.no_grad():
        expected = graph.reference(model, inputs)
    received = run_session(session, inputs)
    if sorted(received) != sorted(expected):
        raise ExportError(f"graph outputs: expected {sorted(expected)}, got {sorted(received)}")
    return max(float((expected[name] - received[name]).abs().max()) for name in expected)


def weights_digest(directory: Path) -> str:
    """SHA-256 of ``model.safetensors``: ties ``model.onnx`` to the weights it came from."""
    return hashlib.sha256((directory / WEIGHTS_FILE).read_bytes()).hexdigest()


def load_onnx(predictor: Any, directory: str | Path, quantized: bool = False) -> Any:
    """Puts ``directory``'s ``model.onnx`` (``quantized``: ``model.int8.onnx``) behind
    ``predictor`` (loaded with PyTorch) in place of its PyTorch model; refuses a missing file
    or one exported from other weights."""
    directory = Path(directory)
    spec = get_onnx_task(predictor.task)
    digest = weights_digest(directory)
    command = f"rnnkit export {directory}" + (" --quantize int8" if quantized else "")
    sessions = {}
    for stem in spec.graphs(predictor.model):
        path = onnx_path(directory, stem, quantized)
        if not path.is_file():
            raise ModelDirectoryError(f"{path} not found; write it with: {command}")
        session = sessions[stem] = read_session(path, command)
        if session.get_modelmeta().custom_metadata_map.get("weights_sha256") != digest:
            raise ModelDirectoryError(
                f"{path} was exported from other weights than {directory / WEIGHTS_FILE}; "
                f"export again with: {command}"
            )
    predictor.model = spec.runtime_model(sessions, predictor.model.config)
    return predictor
