"""Taggers and joint models in ONNX: emissions and intent logits match PyTorch, NumPy's
Viterbi matches the CRF's, and `rnnkit.load(dir, runtime="onnx")` predicts the same spans."""

from __future__ import annotations

import shutil

import pytest
import torch

import rnnkit
from rnnkit.data import WordBatch
from rnnkit.export import export_onnx
from rnnkit.export.onnx import build_onnx_model
from rnnkit.export.runtime import create_session, run_session
from rnnkit.export.spec import example_inputs
from rnnkit.export.tagging import OnnxTaggingModel, tagging_reference, viterbi
from rnnkit.models import JointConfig, JointIntentSlot, SequenceTagger, TaggerConfig
from rnnkit.nn.crf import CRF
from tests.export.test_onnx_parity import TOLERANCE

TAGS = ["B-X", "I-X", "B-Y", "I-Y", "O"]
LENGTH_SETS = {
    "B=1,T=1": [1], "B=1,T=7": [7], "B=1,T=50": [50], "B=1,T=200": [200],
    "B=16,T=7": [7] * 16, "B=16,mixed": [1, 7, 50, 200, 3, 9, 120, 64, 2, 5, 33, 17, 8, 1, 90, 11],
}  # fmt: skip


def make_model(joint: bool, cell: str, use_crf: bool, char_features: bool):
    torch.manual_seed(0)
    settings = dict(
        vocab_size=30, embedding_dim=8, cell=cell, hidden_size=6, bidirectional=True,
        num_tags=len(TAGS), use_crf=use_crf, char_features=char_features, char_vocab_size=12,
        char_embedding_dim=4, char_hidden_size=3,
    )  # fmt: skip
    if joint:
        model = JointIntentSlot(JointConfig(**settings, num_intents=3, pooling="attention"))
    else:
        model = SequenceTagger(TaggerConfig(**settings))
    if use_crf:  # trained-looking scores, and the BIO constraints a task sets
        for parameter in model.head.crf.parameters():
            torch.nn.init.normal_(parameter)
        model.constrain_bio(TAGS)
    return model.eval()


@pytest.mark.parametrize("char_features", [False, True], ids=["words", "chars"])
@pytest.mark.parametrize("use_crf", [True, False], ids=["crf", "softmax"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("joint", [False, True], ids=["tag", "joint"])
def test_tagging_parity(joint, cell, use_crf, char_features):
    model = make_model(joint, cell, use_crf, char_features)
    task = "joint" if joint else "tag"
    session = create_session(build_onnx_model(task, model).SerializeToString())
    stand_in = OnnxTaggingModel(session, model.config)
    for seed, (label, lengths) in enumerate(LENGTH_SETS.items()):
        inputs = example_inputs(model.config, torch.tensor(lengths), seed)
        with torch.no_grad():
            expected = tagging_reference(model, inputs)
        received = run_session(session, inputs)
        assert sorted(received) == sorted(expected), label
        for name, value in expected.items():
            difference = float((value - received[name]).abs().max())
            assert difference <= TOLERANCE, f"{label} {name}: {difference}"
        chars = [inputs["char_ids"], inputs["char_lengths"]] if char_features else []
        words = WordBatch(inputs["tokens"], inputs["lengths"], *chars)
        found, wanted = stand_in.decode(words), model.decode(words)
        if joint:
            assert found.intent_probs == pytest.approx(wanted.intent_probs, abs=TOLERANCE)
            found, wanted = (found.intents, found.tags), (wanted.intents, wanted.tags)
        assert found == wanted, label


def test_numpy_viterbi_matches_the_crf():
    torch.manual_seed(3)
    crf = CRF(len(TAGS))
    for parameter in crf.parameters():
        torch.nn.init.normal_(parameter)
    from rnnkit.nn.crf import bio_constraints

    crf.set_constraints(*bio_constraints(TAGS))
    transitions, start = crf.scores()
    scores = [t.detach().numpy() for t in (transitions, start, crf.end_transitions)]
    for label, lengths in LENGTH_SETS.items():  # the lengths the parity test runs
        lengths = torch.tensor(lengths)
        emissions = torch.randn(len(lengths), int(lengths.max()), len(TAGS)) * 3
        found = viterbi(emissions.numpy(), lengths.numpy(), *scores)
        assert found == crf.decode(emissions, lengths), label
        assert [len(row) for row in found] == lengths.tolist(), label


@pytest.mark.parametrize("fixture", ["tagger_dir", "joint_dir"])
def test_onnx_runtime_predicts_the_same_spans(fixture, request, tmp_path):
    directory = shutil.copytree(request.getfixturevalue(fixture), tmp_path / "model")
    export_onnx(directory)  # checks parity at lengths 1 to 9; below, the trained model to 200
    texts = ["Chloe lives in New Rome.", "how much is a ticket from dallas to seattle", "x"]
    eager, onnx = rnnkit.load(directory), rnnkit.load(directory, runtime="onnx")
    assert isinstance(onnx.model, OnnxTaggingModel)
    inputs = example_inputs(eager.model.config, torch.tensor(LENGTH_SETS["B=16,mixed"]))
    with torch.no_grad():
        expected = tagging_reference(eager.model, inputs)
    received = onnx.model.run(list(expected), **inputs)
    for name, value in expected.items():
        assert float((value - received[name]).abs().max()) <= TOLERANCE, name
    assert [p.to_dict() for p in onnx.predict(texts)] == [p.to_dict() for p in eager.predict(texts)]
