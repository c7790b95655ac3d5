"""Why `rnnkit export --quantize int8` leaves narrow MatMuls float, and why it times in blocks.

1. A lone weight MatMul (512 inputs) as fp32 and as ONNX Runtime's DynamicQuantizeMatMul, at
   1 and 12 rows and 8-256 output columns: int8/fp32 of the median call.
2. A model directory's graph (default: the CoNLL tagger of ``quantize.py``), quantized with
   every weight MatMul (``min_matmul_columns=0``) and with the default (narrow ones float),
   each timed two ways: fp32 and int8 alternating on every call, and in alternating blocks of
   `TIMING_BLOCK` calls (`rnnkit.export.quantize.time_graphs`).

    python benchmarks/quantize_ops.py                  # after benchmarks/quantize.py
    python benchmarks/quantize_ops.py --model results/quantize-runs/atis-intent-measured
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from rich.console import Console
from rich.table import Table

from record import RESULTS, add_results_dir, write_json
from rnnkit.export.onnx import get_onnx_task
from rnnkit.export.quantize import QuantizeSettings, quantize_graph, time_graphs
from rnnkit.export.runtime import create_session, run_session
from rnnkit.tasks import load_predictor
from timing import interleaved_medians

INPUTS = 512


def lone_matmul(rows: int, columns: int, folder: Path, rounds: int) -> float:
    """int8/fp32 of one ``(rows, 512) @ (512, columns)`` MatMul's median call."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    weight = np.random.default_rng(0).standard_normal((INPUTS, columns)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])], "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", INPUTS])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", columns])],
        [numpy_helper.from_array(weight, "W")],
    )  # fmt: skip
    fp32, int8 = folder / "matmul.onnx", folder / "matmul.int8.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), fp32)
    quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8)
    feed = {"x": np.random.default_rng(1).standard_normal((rows, INPUTS)).astype(np.float32)}
    sessions = {name: create_session(path) for name, path in (("fp32", fp32), ("int8", int8))}
    medians = interleaved_medians(
        {name: lambda s=session: s.run(None, feed) for name, session in sessions.items()}, rounds
    )
    return medians["int8"] / medians["fp32"]


def model_ratios(directory: Path, min_columns: int, folder: Path, rounds: int) -> dict:
    """int8/fp32 of ``directory``'s model call, quantized with ``min_matmul_columns``, timed
    alternating every call and in blocks."""
    copy = shutil.copytree(directory, folder / f"columns-{min_columns}")
    settings = QuantizeSettings(min_matmul_columns=min_columns)
    quantize_graph(copy, "model", settings)
    predictor = load_predictor(copy)
    model = predictor.model.eval()
    graph = get_onnx_task(predictor.task).graphs(model)["model"]
    inputs = graph.check_inputs(model, torch.tensor([12]), 0)  # batch 1, as quantize.py
    sessions = {
        name: create_session(copy / f"model{suffix}.onnx")
        for name, suffix in (("fp32", ""), ("int8", ".int8"))
    }
    every = interleaved_medians(
        {name: lambda s=session: run_session(s, inputs) for name, session in sessions.items()},
        rounds,
    )
    blocks = time_graphs(copy, "model", inputs, rounds)
    return {"min_matmul_columns": min_columns, "every_call": every["int8"] / every["fp32"],
            "blocks": blocks.ratio}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", type=Path, default=RESULTS / "quantize-runs" / "conll-ner-measured",
        help="an exported model directory (default: quantize.py's CoNLL tagger)",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1000, help="timed calls per graph")
    add_results_dir(parser)
    arguments = parser.parse_args()
    logging.disable(logging.WARNING)  # quantize_dynamic's pre-processing advice
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        matmuls = [
            {"rows": rows, "columns": columns,
             "ratio": lone_matmul(rows, columns, folder, arguments.rounds)}
            for rows in (1, 12) for columns in (8, 32, 64, 128, 256)
        ]  # fmt: skip
        models = [model_ratios(arguments.model, c, folder, arguments.rounds) for c in (0, 64)]
    table = Table(title=f"int8/fp32, lone MatMul ({INPUTS} inputs), 1 thread")
    for column in ("rows", "columns", "int8/fp32"):
        table.add_column(column, justify="right")
    for row in matmuls:
        table.add_row(str(row["rows"]), str(row["columns"]), f"{row['ratio']:.2f}")
    Console().print(table)
    table = Table(title=f"int8/fp32 of {arguments.model.name}'s model call, batch 1, 1 thread")
    for column in ("min_matmul_columns", "alternating every call", "in blocks"):
        table.add_column(column, justify="right")
    for row in models:
        table.add_row(str(row["min_matmul_columns"]), f"{row['every_call']:.2f}",
                      f"{row['blocks']:.2f}")  # fmt: skip
    Console().print(table)
    defaults = dataclasses.asdict(QuantizeSettings())
    path = write_json("quantize-ops", {
        "torch": torch.__version__, "model": str(arguments.model), "rounds": arguments.rounds,
        "settings": defaults, "matmuls": matmuls, "models": models,
    }, results=arguments.results_dir)  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
