"""ONNX export of models trained with the regularisation options: the dropouts and
weight-drop export (they are the identity at inference); layer_norm and zoneout are refused."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import rnnkit
from rnnkit.errors import ExportError
from rnnkit.export import export_onnx
from rnnkit.export.onnx import build_onnx_model, get_onnx_task, parity_difference
from rnnkit.export.runtime import create_session
from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
from rnnkit.models.tagger import SequenceTagger, TaggerConfig
from rnnkit.tasks.classification import train_classifier
from tests.tasks.conftest import tiny_config, write_intents

DROPOUTS = {
    "locked_dropout": True, "dropout": 0.3, "embedding_dropout": 0.2, "weight_drop": 0.3,
    "embedding_row_dropout": 0.1,
}  # fmt: skip


def test_a_model_trained_with_the_dropouts_exports_with_parity(tmp_path):
    train = write_intents(tmp_path / "train.csv", 2, 0)
    dev = write_intents(tmp_path / "dev.csv", 1, 1)
    config = tiny_config(train, dev, epochs=2)
    model = dataclasses.replace(config.model, cell="lstm", num_layers=2, **DROPOUTS)
    out = tmp_path / "intent"
    train_classifier(dataclasses.replace(config, model=model), out, progress=False)
    result = export_onnx(out)
    assert result.max_abs_difference < 1e-4
    texts = ["what time is it", "play some jazz now"]
    torch.testing.assert_close(
        rnnkit.load(out, runtime="onnx").probabilities(texts),
        rnnkit.load(out).probabilities(texts),
        atol=1e-4,
        rtol=0,
    )


@pytest.mark.parametrize("task", ["classify", "tag"])
def test_the_dropouts_leave_the_graph_of_each_encoder_model_exact(task, tmp_path):
    torch.manual_seed(0)
    if task == "classify":
        model = SequenceClassifier(ClassifierConfig(vocab_size=9, num_classes=3, **DROPOUTS))
    else:
        locked_output = {**DROPOUTS, "output_dropout": 0.5, "num_layers": 2}
        model = SequenceTagger(TaggerConfig(vocab_size=9, num_tags=3, **locked_output))
    path = tmp_path / "model.onnx"
    path.write_bytes(build_onnx_model(task, model).SerializeToString())
    graph = get_onnx_task(task).graphs(model)["model"]
    assert parity_difference(graph, model.eval(), create_session(path)) < 1e-5


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"layer_norm": True}, r"^rnn: layer_norm=True \(--layer-norm\) has no ONNX recurrent"),
        ({"zoneout": 0.1}, r"^rnn: zoneout=0.1 \(--zoneout\) averages old and new states"),
    ],
)
@pytest.mark.parametrize("task", ["classify", "tag"])
def test_layer_norm_and_zoneout_are_refused_in_one_line(task, option, message):
    if task == "classify":
        model = SequenceClassifier(ClassifierConfig(vocab_size=9, num_classes=3, **option))
    else:
        model = SequenceTagger(TaggerConfig(vocab_size=9, num_tags=3, **option))
    with pytest.raises(ExportError, match=message) as error:
        build_onnx_model(task, model)
    assert "\n" not in str(error.value)
