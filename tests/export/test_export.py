"""`rnnkit export` and `rnnkit.load(dir, runtime="onnx")`: same predictor API, same answers."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli import app
from rnnkit.diagnostics.trace import trace_text
from rnnkit.errors import ConfigError, ModelDirectoryError
from rnnkit.export.classifier import OnnxClassifierModel
from rnnkit.export.onnx import ONNX_FILE
from rnnkit.tasks.common import EvaluateOptions

TEXTS = ["what time is it", "play some jazz", "will it rain today in paris", "time"]


def test_onnx_runtime_gives_the_same_predictions(exported_dir):
    eager, onnx = rnnkit.load(exported_dir), rnnkit.load(exported_dir, runtime="onnx")
    assert isinstance(onnx.model, OnnxClassifierModel)
    torch.testing.assert_close(
        onnx.probabilities(TEXTS), eager.probabilities(TEXTS), atol=1e-4, rtol=0
    )
    assert [p.label for p in onnx.predict(TEXTS)] == [p.label for p in eager.predict(TEXTS)]
    assert eager.predict(["what time is it"])[0].label == "ask_time"


def test_onnx_predictor_evaluates_and_traces_like_torch(exported_dir, tmp_path):
    eager, onnx = rnnkit.load(exported_dir), rnnkit.load(exported_dir, runtime="onnx")
    data = tmp_path / "dev.csv"
    data.write_text("text,label\nwhat time is it,ask_time\nplay some jazz,play_music\n")
    options = EvaluateOptions()
    assert onnx.evaluate_file(str(data), options)["accuracy"] == pytest.approx(
        eager.evaluate_file(str(data), options)["accuracy"]
    )
    expected, received = trace_text(eager, TEXTS[2]), trace_text(onnx, TEXTS[2])
    assert [s.label for s in received.steps] == [s.label for s in expected.steps]
    for mine, theirs in zip(received.steps, expected.steps, strict=True):
        assert mine.probability == pytest.approx(theirs.probability, abs=1e-4)
        assert mine.attention == pytest.approx(theirs.attention, abs=1e-4)


def test_onnx_model_refuses_training(exported_dir):
    with pytest.raises(ConfigError, match="inference-only"):
        rnnkit.load(exported_dir, runtime="onnx").model.train()


def test_load_onnx_without_export_names_the_command(exported_dir, tmp_path):
    copy = shutil.copytree(exported_dir, tmp_path / "copy")
    (copy / ONNX_FILE).unlink()
    with pytest.raises(ModelDirectoryError, match=r"model.onnx not found.*rnnkit export"):
        rnnkit.load(copy, runtime="onnx")


def test_load_onnx_refuses_an_export_of_other_weights(exported_dir, tmp_path):
    copy = shutil.copytree(exported_dir, tmp_path / "copy")
    weights = load_file(copy / "model.safetensors")
    weights["output.bias"] = weights["output.bias"] + 1.0
    save_file(weights, copy / "model.safetensors")
    with pytest.raises(ModelDirectoryError, match="exported from other weights"):
        rnnkit.load(copy, runtime="onnx")


def test_unknown_runtime_lists_the_valid_ones(exported_dir):
    expected = r"runtime: expected one of \['torch', 'onnx', 'onnx-int8'\]"
    with pytest.raises(ConfigError, match=expected):
        rnnkit.load(exported_dir, runtime="tvm")


def test_export_command_writes_model_onnx(exported_dir, tmp_path):
    copy = shutil.copytree(exported_dir, tmp_path / "copy")
    (copy / ONNX_FILE).unlink()
    result = CliRunner().invoke(app, ["export", str(copy)])
    assert result.exit_code == 0, result.output
    assert f"wrote {copy / ONNX_FILE}" in result.output
    assert (copy / ONNX_FILE).is_file()


def test_export_command_rejects_an_unknown_format(exported_dir):
    result = CliRunner().invoke(app, ["export", str(exported_dir), "--format", "tflite"])
    assert result.exit_code == 1
    assert "--format: expected one of ['onnx'], got 'tflite'" in result.output


def test_an_export_that_misses_parity_is_removed_and_reported(exported_dir, tmp_path, monkeypatch):
    import rnnkit.export.onnx as onnx_export
    from rnnkit.errors import ExportError

    copy = shutil.copytree(exported_dir, tmp_path / "copy")
    monkeypatch.setattr(onnx_export, "PARITY_TOLERANCE", -1.0)
    with pytest.raises(ExportError, match=r"model.onnx: ONNX Runtime differs from PyTorch by .*"
                       r"\(expected <= -1.0\); the file was removed"):  # fmt: skip
        onnx_export.export_onnx(copy)
    assert not (copy / ONNX_FILE).exists()


def test_a_task_without_export_is_named():
    from rnnkit.export.onnx import get_onnx_task

    with pytest.raises(ConfigError, match=r"unknown task 'parse'; expected one of \['classify', "
                       r"'generate', 'joint', 'tag', 'translate'\]"):  # fmt: skip
        get_onnx_task("parse")
