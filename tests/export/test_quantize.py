"""`rnnkit export --quantize int8` and `rnnkit.load(dir, runtime="onnx-int8")`: the int8 graphs
load, agree with fp32 on most inputs, are measured, gated on the metric, and refused when
missing or stale."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli import app
from rnnkit.errors import ConfigError, ExportError, ModelDirectoryError
from rnnkit.export import export_onnx, quantize
from rnnkit.export.quantize import REPORT_FILE, QuantizeSettings, quantize_int8
from rnnkit.tasks.common import EvaluateOptions
from tests.export.conftest import exported_copy
from tests.tasks.conftest import write_intents
from tests.tasks.tagging_data import PEOPLE, PLACES

# Timing is not under test here: a few calls suffice. The toy LSTMs and output layers are
# narrower than any the default quantizes, so they are quantized whatever their width.
FAST = QuantizeSettings(rounds=3, min_lstm_hidden=0, min_matmul_columns=0)


@pytest.fixture(scope="session")
def intent_dev(tmp_path_factory) -> Path:
    return write_intents(tmp_path_factory.mktemp("intent-dev") / "dev.csv", 2, 7)


@pytest.fixture(scope="session")
def quantized_dir(exported_dir, intent_dev, tmp_path_factory) -> Path:
    """A copy of the exported Bi-LSTM intent classifier, quantized and scored on dev data."""
    copy = shutil.copytree(exported_dir, tmp_path_factory.mktemp("int8") / "intent")
    quantize_int8(copy, str(intent_dev), FAST)
    return copy


def test_int8_classifier_loads_and_agrees_with_fp32(quantized_dir, intent_dev):
    fp32 = rnnkit.load(quantized_dir, runtime="onnx")
    int8 = rnnkit.load(quantized_dir, runtime="onnx-int8")
    texts = [line.split(",")[0] for line in intent_dev.read_text().splitlines()[1:]]
    same = [
        a.label == b.label for a, b in zip(fp32.predict(texts), int8.predict(texts), strict=True)
    ]
    assert sum(same) >= 0.9 * len(texts)
    assert int8.evaluate_file(str(intent_dev), EvaluateOptions())["accuracy"] >= 0.8


def test_quantization_json_records_latency_and_metric_change(quantized_dir, intent_dev):
    report = json.loads((quantized_dir / REPORT_FILE).read_text())
    assert report["task"] == "classify"
    assert report["files"] == ["model.int8.onnx"]
    assert report["latency"]["model"]["fp32_p50_ms"] > 0
    assert report["latency"]["model"]["int8_p50_ms"] > 0
    assert report["latency_ratio"] == pytest.approx(report["latency"]["model"]["ratio"])
    assert report["threads"] == torch.get_num_threads()  # int8 gains less on more threads
    assert report["data"] == str(intent_dev)
    assert report["metric_fp32"]["n"] == report["metric_int8"]["n"] == 24  # 12 phrases, twice
    expected = (report["metric_fp32"]["accuracy"] - report["metric_int8"]["accuracy"]) * 100
    assert report["drop_points"]["accuracy"] == pytest.approx(expected, abs=1e-3)
    assert report["accepted"] is True
    assert report["float_recurrent_nodes"] == []  # the LSTM has a quantized operator
    assert report["float_matmul_nodes"] == []  # FAST quantizes the narrow output layer too


def test_missing_int8_file_names_the_command(quantized_dir, tmp_path):
    copy = shutil.copytree(quantized_dir, tmp_path / "copy")
    (copy / "model.int8.onnx").unlink()
    with pytest.raises(
        ModelDirectoryError,
        match=r"model\.int8\.onnx not found; write it with: rnnkit export .* --quantize int8",
    ):
        rnnkit.load(copy, runtime="onnx-int8")


def test_stale_int8_file_is_refused(quantized_dir, tmp_path):
    copy = shutil.copytree(quantized_dir, tmp_path / "copy")
    weights = load_file(copy / "model.safetensors")
    weights["output.bias"] = weights["output.bias"] + 1.0
    save_file(weights, copy / "model.safetensors")
    with pytest.raises(
        ModelDirectoryError,
        match=r"model\.int8\.onnx was exported from other weights.*--quantize int8",
    ):
        rnnkit.load(copy, runtime="onnx-int8")


def test_damaged_int8_file_is_refused(quantized_dir, tmp_path):
    copy = shutil.copytree(quantized_dir, tmp_path / "copy")
    (copy / "model.int8.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelDirectoryError, match=r"model\.int8\.onnx: not a loadable ONNX"):
        rnnkit.load(copy, runtime="onnx-int8")


def test_quantize_needs_the_fp32_export_first(exported_dir, tmp_path):
    copy = shutil.copytree(exported_dir, tmp_path / "copy")
    (copy / "model.onnx").unlink()
    with pytest.raises(ModelDirectoryError, match=r"model\.onnx not found"):
        quantize_int8(copy, settings=FAST)


def test_a_drop_over_max_drop_is_refused_and_the_int8_file_removed(
    quantized_dir, intent_dev, tmp_path, monkeypatch
):
    copy = shutil.copytree(quantized_dir, tmp_path / "copy")

    def scored_worse(report, directory, fp32, data):  # the toy model loses nothing
        report.metric_fp32 = {"accuracy": 0.9167, "n": 24}
        report.metric_int8 = {"accuracy": 0.875, "n": 24}
        report.drop = {"accuracy": 4.17}

    monkeypatch.setattr(quantize, "score_int8", scored_worse)
    with pytest.raises(
        ExportError, match=r"int8 accuracy drops 4\.17 points .*expected <= 0\.5, --max-drop"
    ):
        quantize_int8(copy, str(intent_dev), FAST)
    assert not (copy / "model.int8.onnx").exists()
    assert json.loads((copy / REPORT_FILE).read_text())["accepted"] is False


def test_invalid_settings_name_the_field():
    with pytest.raises(ConfigError, match=r"max_drop: expected >= 0 points, got -1"):
        QuantizeSettings(max_drop=-1)
    with pytest.raises(ConfigError, match=r"min_lstm_hidden: expected >= 0 units, got -5"):
        QuantizeSettings(min_lstm_hidden=-5)
    with pytest.raises(ConfigError, match=r"min_matmul_columns: expected >= 0 columns, got -1"):
        QuantizeSettings(min_matmul_columns=-1)


def test_narrow_lstms_stay_float_and_wide_ones_get_a_scale_per_direction(
    tagger_dir, tmp_path_factory
):
    copy = exported_copy(tagger_dir, tmp_path_factory)
    # The toy tagger: a word Bi-LSTM of 16 units per direction, a character Bi-LSTM of 8.
    settings = QuantizeSettings(rounds=3, min_lstm_hidden=12, min_matmul_columns=0)
    report = quantize_int8(copy, settings=settings)
    graph = onnx.load(copy / "model.int8.onnx").graph
    lstms = {node.op_type: node for node in graph.node if "LSTM" in node.op_type}
    assert onnx.helper.get_node_attr_value(lstms["LSTM"], "hidden_size") == 8
    assert onnx.helper.get_node_attr_value(lstms["DynamicQuantizeLSTM"], "hidden_size") == 16
    assert report.float_recurrent_nodes == [f"model.int8.onnx:{lstms['LSTM'].name}"]
    weights = {tensor.name: tensor for tensor in graph.initializer}
    scales = [weights[name] for name in lstms["DynamicQuantizeLSTM"].input[8:11:2]]  # W, R
    assert [numpy_helper.to_array(scale).shape for scale in scales] == [(2,), (2,)]
    # The output layer keeps one zero point (and scale) per output channel (per_channel=True).
    matmul = next(node for node in graph.node if node.op_type == "MatMulInteger")
    assert np.size(numpy_helper.to_array(weights[matmul.input[3]])) > 1
    texts = [f"{person} lives in New {place} ." for person in PEOPLE for place in PLACES]
    fp32 = rnnkit.load(copy, runtime="onnx").predict(texts)
    int8 = rnnkit.load(copy, runtime="onnx-int8").predict(texts)
    assert sum(a.tags == b.tags for a, b in zip(fp32, int8, strict=True)) >= 0.9 * len(texts)


def test_narrow_output_layers_stay_float_by_default(tagger_dir, tmp_path_factory):
    copy = exported_copy(tagger_dir, tmp_path_factory)
    # The toy tagger's only weight MatMul is its output layer (32 features → a few tags).
    report = quantize_int8(copy, settings=QuantizeSettings(rounds=3, min_lstm_hidden=0))
    graph = onnx.load(copy / "model.int8.onnx").graph
    weights = {tensor.name: tuple(tensor.dims) for tensor in graph.initializer}
    matmuls = [node for node in graph.node if node.op_type == "MatMul"]
    assert [weights[node.input[1]][-1] < 64 for node in matmuls] == [True]
    assert not [node for node in graph.node if node.op_type == "MatMulInteger"]
    assert report.float_matmul_nodes == [f"model.int8.onnx:{matmuls[0].name}"]
    assert "DynamicQuantizeLSTM" in {node.op_type for node in graph.node}  # the rest is int8
    recorded = json.loads((copy / REPORT_FILE).read_text())
    assert recorded["float_matmul_nodes"] == report.float_matmul_nodes
    assert recorded["settings"]["min_matmul_columns"] == 64


def test_gru_translator_quantizes_its_projections_and_translates(
    translator_dir, translation_files, tmp_path_factory
):
    copy = exported_copy(translator_dir, tmp_path_factory)
    # The toy translator is weak (BLEU ~18) and int8 costs it a few points: no gate here.
    report = quantize_int8(
        copy, str(translation_files[1]), QuantizeSettings(max_drop=100, rounds=3)
    )
    assert {path.name for path in report.paths} >= {"model.int8.onnx"}
    assert len(report.paths) > 1  # the decoder's step graph(s) too
    assert report.float_recurrent_nodes  # ONNX GRU nodes have no quantized operator
    assert set(report.latency) == {path.name.removesuffix(".int8.onnx") for path in report.paths}
    assert "bleu" in report.drop
    fp32 = rnnkit.load(copy, runtime="onnx")
    int8 = rnnkit.load(copy, runtime="onnx-int8")
    sources = [line.split("\t")[0] for line in translation_files[1].read_text().splitlines()]
    pairs = zip(fp32.translate(sources, beam=1), int8.translate(sources, beam=1), strict=True)
    same = [a.best == b.best for a, b in pairs]
    assert sum(same) >= 0.8 * len(sources)


def test_lstm_tagger_int8_tags_like_fp32(tagger_dir, conll_files, tmp_path_factory):
    copy = exported_copy(tagger_dir, tmp_path_factory)
    report = quantize_int8(copy, str(conll_files[1]), FAST)
    assert report.accepted and "f1" in report.drop
    texts = [f"{person} lives in New {place} ." for person in PEOPLE for place in PLACES]
    fp32 = rnnkit.load(copy, runtime="onnx").predict(texts)
    int8 = rnnkit.load(copy, runtime="onnx-int8").predict(texts)
    same = [a.tags == b.tags for a, b in zip(fp32, int8, strict=True)]
    assert sum(same) >= 0.9 * len(texts)


def test_export_command_quantizes_and_predict_runs_int8(exported_dir, intent_dev, tmp_path):
    copy = shutil.copytree(exported_dir, tmp_path / "copy")
    runner = CliRunner()
    result = runner.invoke(
        app, ["export", str(copy), "--quantize", "int8", "--data", str(intent_dev)]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {copy / 'model.int8.onnx'}" in result.output
    assert f"measurements in {copy / REPORT_FILE}" in result.output
    predicted = runner.invoke(
        app, ["predict", str(copy), "what time is it", "--runtime", "onnx-int8", "--json"]
    )
    assert predicted.exit_code == 0, predicted.output
    assert json.loads(predicted.output)["label"] == "ask_time"


def test_export_command_rejects_an_unknown_quantization(exported_dir):
    result = CliRunner().invoke(app, ["export", str(exported_dir), "--quantize", "int4"])
    assert result.exit_code != 0
    assert "--quantize: expected one of ['int8'], got 'int4'" in result.output


def test_data_without_quantize_is_refused(exported_dir, intent_dev):
    result = CliRunner().invoke(app, ["export", str(exported_dir), "--data", str(intent_dev)])
    assert result.exit_code != 0
    assert "--data: scores the int8 model; give --quantize int8 with it" in result.output


def test_export_onnx_leaves_an_int8_file_to_be_requantized(quantized_dir, tmp_path):
    # Re-exporting fp32 does not touch model.int8.onnx, which stays tied to the same weights.
    copy = shutil.copytree(quantized_dir, tmp_path / "copy")
    export_onnx(copy)
    assert rnnkit.load(copy, runtime="onnx-int8").predict(["what time is it"])[0].label == (
        "ask_time"
    )
