"""``model.int8.onnx`` beside ``model.onnx``: dynamic int8 quantization, measured and gated.

ONNX Runtime's dynamic quantization (``onnxruntime.quantization.quantize_dynamic``) stores
weights as int8 (per output channel where the operator allows it) and quantizes activations
on the fly, so it needs no calibration data. It has a quantized LSTM operator
(``DynamicQuantizeLSTM``) and quantizes ``MatMul`` (projections, output layers) and ``Gather``
(embeddings); ONNX's ``GRU`` and ``RNN`` nodes have no quantized operator and stay float, so a
GRU or tanh-RNN model gains only from its embedding and projections. LSTMs narrower than
``QuantizeSettings.min_lstm_hidden`` (a character encoder's) stay float too, where int8 is the
slower (the report lists every float recurrent node), as do weight MatMuls with fewer than
``QuantizeSettings.min_matmul_columns`` output columns (an output layer over a few tags or
classes), where quantizing the input on every call costs more than the int8 product saves.

`quantize_int8` writes the int8 twin of every graph of a model directory, times the model call
of both at batch 1 and, given labelled dev data, scores both with the task's metric; it writes
the measurements to ``quantization.json`` and refuses (removing the int8 files) when the
metric drops by more than ``max_drop`` points.

Legend: B batch, T time.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import onnx
import torch

from rnnkit.errors import ConfigError, ExportError
from rnnkit.export.onnx import get_onnx_task, load_onnx, onnx_path
from rnnkit.export.runtime import create_session, run_session
from rnnkit.tasks import load_predictor
from rnnkit.training.checkpoint import atomic_write

REPORT_FILE = "quantization.json"
QUANTIZATIONS = ("int8",)
# Recurrent ONNX operators: a node of these types left in an int8 graph computes in float.
FLOAT_RECURRENT_OPS = ("LSTM", "GRU", "RNN")


@dataclass(frozen=True)
class TaskMetric:
    """The metric(s) a task's int8 model is judged by, as ``evaluate_file`` reports them.

    ``points``: the factor to points (accuracy and F1 are fractions, so 100; BLEU is 0-100 and
    perplexity is itself, so 1); ``higher_is_better``: False for perplexity, whose rise is
    its drop.
    """

    keys: tuple[str, ...]
    points: float = 100.0
    higher_is_better: bool = True

    def drop(self, fp32: dict[str, Any], int8: dict[str, Any]) -> dict[str, float]:
        """Points lost from ``fp32`` to ``int8``, per key (negative: int8 scored better)."""
        sign = 1.0 if self.higher_is_better else -1.0
        return {key: sign * (fp32[key] - int8[key]) * self.points for key in self.keys}


TASK_METRICS = {
    "classify": TaskMetric(("accuracy",)),
    "tag": TaskMetric(("f1",)),
    "joint": TaskMetric(("f1", "intent_accuracy")),
    "translate": TaskMetric(("bleu",), points=1.0),
    "generate": TaskMetric(("perplexity",), points=1.0, higher_is_better=False),
}


@dataclass(frozen=True)
class QuantizeSettings:
    """How `quantize_int8` measures the int8 model."""

    max_drop: float = 0.5  # points of the task metric int8 may lose against fp32 (the gate)
    length: int = 16  # tokens in the batch-1 input the latency is timed on (a short sentence)
    rounds: int = 200  # timed calls per graph and precision (p50 over them, interleaved)
    per_channel: bool = True  # MatMul, Gather: one weight scale per output channel
    # LSTMs narrower than this stay float. Timed at batch 1 on one thread (onnxruntime 1.32,
    # AVX-512), DynamicQuantizeLSTM's per-step quantization of h outweighs its smaller GEMMs
    # below ~100 units per direction: 1.3x the float time at 25 units over 12 words' characters,
    # 1.3x at 64 units over a 12-token sentence; 0.5x at 256 units.
    min_lstm_hidden: int = 100
    # Weight MatMuls with fewer output columns stay float. Timed alone (one thread,
    # benchmarks/quantize_ops.py), a 512-input MatMul over 12 rows takes 1.10-1.25x the float
    # time as DynamicQuantizeMatMul at 8-32 columns, 0.93x at 64 and 0.54x at 256; on the
    # CoNLL tagger and the ATIS classifier the difference was within measurement noise.
    min_matmul_columns: int = 64

    def __post_init__(self) -> None:
        if self.max_drop < 0:
            raise ConfigError(f"max_drop: expected >= 0 points, got {self.max_drop}")
        if self.min_lstm_hidden < 0:
            raise ConfigError(f"min_lstm_hidden: expected >= 0 units, got {self.min_lstm_hidden}")
        if self.min_matmul_columns < 0:
            raise ConfigError(
                f"min_matmul_columns: expected >= 0 columns, got {self.min_matmul_columns}"
            )
        if self.length < 1 or self.rounds < 1:
            raise ConfigError(
                f"length, rounds: expected >= 1, got length={self.length}, rounds={self.rounds}"
            )


@dataclass(frozen=True)
class Latency:
    """p50 milliseconds of one graph's call at batch 1, fp32 and int8."""

    fp32_ms: float
    int8_ms: float

    @property
    def ratio(self) -> float:
        return self.int8_ms / self.fp32_ms


@dataclass
class QuantizeReport:
    """What `quantize_int8` measured; ``to_dict()`` is ``quantization.json``."""

    task: str
    paths: list[Path]  # model.int8.onnx first, then the step graphs' int8 files
    latency: dict[str, Latency]  # per graph stem
    float_recurrent_nodes: list[str]  # GRU/RNN nodes (no quantized operator), narrow LSTMs
    float_matmul_nodes: list[str]  # weight MatMuls narrower than settings.min_matmul_columns
    settings: QuantizeSettings
    data: str | None = None  # the dev data scored, if any
    threads: int = 1  # torch's (so ONNX Runtime's) intra-op threads while timing
    metric_fp32: dict[str, Any] = field(default_factory=dict)
    metric_int8: dict[str, Any] = field(default_factory=dict)
    drop: dict[str, float] = field(default_factory=dict)  # points lost, per metric key

    @property
    def latency_ratio(self) -> float:
        """int8 / fp32 p50 of the model call (``model.onnx``, the graph every task has)."""
        return self.latency["model"].ratio

    @property
    def accepted(self) -> bool:
        return all(value <= self.settings.max_drop for value in self.drop.values())

    def to_dict(self) -> dict[str, Any]:
        latency = {
            stem: {"fp32_p50_ms": round(value.fp32_ms, 4), "int8_p50_ms": round(value.int8_ms, 4),
                   "ratio": round(value.ratio, 3)}
            for stem, value in self.latency.items()
        }  # fmt: skip
        return {
            "quantization": "int8 dynamic (onnxruntime.quantization.quantize_dynamic)",
            "task": self.task,
            "files": [path.name for path in self.paths],
            "latency_ratio": round(self.latency_ratio, 3),
            "latency": latency,
            "float_recurrent_nodes": self.float_recurrent_nodes,
            "float_matmul_nodes": self.float_matmul_nodes,
            "settings": asdict(self.settings),
            "threads": self.threads,
            "data": self.data,
            "metric_fp32": self.metric_fp32,
            "metric_int8": self.metric_int8,
            "drop_points": {key: round(value, 4) for key, value in self.drop.items()},
            "accepted": self.accepted,
        }


def quantize_int8(
    directory: str | Path, data: str | None = None, settings: QuantizeSettings | None = None
) -> QuantizeReport:
    """Writes ``model.int8.onnx`` (and the step graphs' int8 files) beside the fp32 graphs of
    ``directory`` (which `rnnkit.export.export_onnx` wrote), measures them against fp32 and
    writes the measurements to ``directory/quantization.json``.

    With ``data`` (labelled dev data in a layout the task reads), both are scored with the
    task's metric; a drop over ``settings.max_drop`` points is an `ExportError` and the int8
    files are removed (``quantization.json`` keeps the numbers, ``"accepted": false``).
    """
    directory, settings = Path(directory), settings or QuantizeSettings()
    # the fp32 ONNX predictor refuses missing or stale fp32 graphs
    predictor = load_onnx(load_predictor(directory), directory)
    task, model = predictor.task, load_predictor(directory).model.eval()
    graphs = get_onnx_task(task).graphs(model)
    paths = [quantize_graph(directory, stem, settings) for stem in graphs]
    report = QuantizeReport(
        task, paths, {}, *float_nodes(paths), settings, data, threads=torch.get_num_threads()
    )
    for stem, graph in graphs.items():
        inputs = graph.check_inputs(model, torch.tensor([settings.length]), 0)  # batch 1
        report.latency[stem] = time_graphs(directory, stem, inputs, settings.rounds)
    if data is not None:
        score_int8(report, directory, predictor, data)
    write_report(directory, report)
    if not report.accepted:
        for path in paths:
            path.unlink()
        worst = max(report.drop, key=report.drop.get)
        raise ExportError(
            f"{directory}: int8 {worst} drops {report.drop[worst]:.2f} points on {data} "
            f"(fp32 {report.metric_fp32[worst]:.4g}, int8 {report.metric_int8[worst]:.4g}; "
            f"expected <= {settings.max_drop}, --max-drop); the int8 files were removed"
        )
    return report


def quantize_graph(directory: Path, stem: str, settings: QuantizeSettings) -> Path:
    """``stem.int8.onnx`` from ``stem.onnx``; the weights digest in the metadata carries
    over, so a stale int8 file is refused on load as a stale fp32 one is.

    Two passes: the LSTMs at least ``settings.min_lstm_hidden`` wide, with one weight scale
    per direction, then the Gathers and the weight MatMuls with at least
    ``settings.min_matmul_columns`` columns (per channel with ``settings.per_channel``).
    Per-direction LSTM scales scored the same as per-gate-row ones on CoNLL-2003 and ATIS and
    ran 2-10 % faster (BENCHMARKS.md, "int8 quantization").
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source, target = onnx_path(directory, stem), onnx_path(directory, stem, quantized=True)
    narrow = narrow_nodes(onnx.load(source), settings)

    def write(temporary: Path) -> None:
        quantize_dynamic(
            source, temporary, per_channel=False, weight_type=QuantType.QInt8,
            op_types_to_quantize=["LSTM"], nodes_to_exclude=narrow,
        )  # fmt: skip
        quantize_dynamic(
            temporary, temporary, per_channel=settings.per_channel, weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Gather"], nodes_to_exclude=narrow,
            # Only weight MatMuls: quantizing both inputs of attention's scores costs accuracy.
            extra_options={"MatMulConstBOnly": True},
        )  # fmt: skip

    # quantize_dynamic logs a root-logger warning advising shape-inference pre-processing on
    # every call; rnnkit's graphs are built with known shapes, so the advice is noise here.
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        atomic_write(target, write)
    finally:
        logging.disable(previous)
    return target


def narrow_nodes(graph: onnx.ModelProto, settings: QuantizeSettings) -> list[str]:
    """Names of the nodes of ``graph`` that stay float for speed: ``LSTM`` nodes with fewer
    than ``settings.min_lstm_hidden`` units per direction, and ``MatMul`` nodes by a weight
    ``(in, out)`` with fewer than ``settings.min_matmul_columns`` columns."""
    weights = {tensor.name: tuple(tensor.dims) for tensor in graph.graph.initializer}

    def narrow(node: onnx.NodeProto) -> bool:
        if node.op_type == "LSTM":
            hidden = onnx.helper.get_node_attr_value(node, "hidden_size")
            return hidden < settings.min_lstm_hidden
        if node.op_type == "MatMul" and node.input[1] in weights:
            return weights[node.input[1]][-1] < settings.min_matmul_columns
        return False

    return [node.name for node in graph.graph.node if narrow(node)]


def float_nodes(paths: list[Path]) -> tuple[list[str], list[str]]:
    """``file:node`` names of the float recurrent nodes and of the float MatMuls by a weight
    left in the int8 graphs at ``paths``."""
    recurrent, matmuls = [], []
    for path in paths:
        graph = onnx.load(path).graph
        weights = {tensor.name for tensor in graph.initializer}
        for node in graph.node:
            if node.op_type in FLOAT_RECURRENT_OPS:
                recurrent.append(f"{path.name}:{node.name}")
            elif node.op_type == "MatMul" and node.input[1] in weights:
                matmuls.append(f"{path.name}:{node.name}")
    return recurrent, matmuls


# Calls of one graph in a row when timing: each runs with its weights in cache, as a served
# model's calls do. Alternating every call instead made each graph evict the other's weights
# (an fp32 word Bi-LSTM of 256 holds 3.6 MB) and read the int8 CoNLL tagger at 0.60x where
# blocks read 0.50x (benchmarks/quantize_ops.py).
TIMING_BLOCK = 20


def time_graphs(
    directory: Path, stem: str, inputs: dict[str, torch.Tensor], rounds: int
) -> Latency:
    """p50 of ``rounds`` calls of each of ``stem``'s fp32 and int8 sessions on ``inputs``,
    timed in alternating blocks of `TIMING_BLOCK` calls (so a busy moment slows both alike)
    after a few warm-up calls."""
    calls: dict[str, Callable[[], Any]] = {}
    for name, quantized in (("fp32", False), ("int8", True)):
        session = create_session(onnx_path(directory, stem, quantized))
        calls[name] = lambda s=session: run_session(s, inputs)
        for _ in range(5):  # the first calls allocate
            calls[name]()
    times: dict[str, list[float]] = {name: [] for name in calls}
    while len(times["int8"]) < rounds:
        for name, call in calls.items():
            for _ in range(min(TIMING_BLOCK, rounds - len(times[name]))):
                started = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - started)
    p50 = {name: statistics.median(values) * 1e3 for name, values in times.items()}
    return Latency(p50["fp32"], p50["int8"])


def score_int8(report: QuantizeReport, directory: Path, fp32: Any, data: str) -> None:
    """Fills ``report``'s metrics: ``data`` scored by the fp32 and the int8 ONNX models."""
    from rnnkit.tasks.common import EvaluateOptions

    metric = TASK_METRICS[report.task]
    int8 = load_onnx(load_predictor(directory), directory, quantized=True)
    scores = [predictor.evaluate_file(data, EvaluateOptions()) for predictor in (fp32, int8)]
    report.metric_fp32, report.metric_int8 = (
        {key: score[key] for key in (*metric.keys, "n")} for score in scores
    )
    report.drop = metric.drop(*scores)


def write_report(directory: Path, report: QuantizeReport) -> None:
    text = json.dumps(report.to_dict(), indent=2) + "\n"
    atomic_write(directory / REPORT_FILE, lambda temporary: temporary.write_text(text))
