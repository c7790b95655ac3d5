"""ONNX Runtime reproduces PyTorch: every cell, uni- and bidirectional, every pooling, at
lengths 1, 7, 50 and 200, batch sizes 1 and 16, mixed lengths in one batch."""

from __future__ import annotations

import onnx
import pytest
import torch

from rnnkit.export.classifier import classifier_reference
from rnnkit.export.onnx import build_onnx_model
from rnnkit.export.runtime import create_session, run_session
from rnnkit.models import ClassifierConfig, SequenceClassifier

TOLERANCE = 1e-4
VOCAB = 30


def make_classifier(cell: str, bidirectional: bool, pooling: str, num_layers: int = 1):
    torch.manual_seed(0)
    config = ClassifierConfig(
        vocab_size=VOCAB, embedding_dim=8, cell=cell, hidden_size=6, num_layers=num_layers,
        bidirectional=bidirectional, num_classes=4, pooling=pooling,
    )  # fmt: skip
    return SequenceClassifier(config).eval()


def batches() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """(name, tokens (B, T), lengths (B,)): one sentence at each length, and batches of 16."""
    generator = torch.Generator().manual_seed(1)
    found = []
    for length in (1, 7, 50, 200):
        found.append((f"B=1,T={length}", torch.tensor([length])))
        found.append((f"B=16,T={length}", torch.full((16,), length)))
    mixed = torch.tensor([1, 7, 50, 200, *torch.randint(1, 201, (12,), generator=generator)])
    found.append(("B=16,mixed", mixed))
    result = []
    for name, lengths in found:
        tokens = torch.randint(4, VOCAB, (len(lengths), int(lengths.max())), generator=generator)
        tokens = tokens.masked_fill(torch.arange(tokens.size(1)) >= lengths.unsqueeze(1), 0)
        result.append((name, tokens, lengths))
    return result


def assert_parity(model: SequenceClassifier) -> None:
    session = create_session(build_onnx_model("classify", model).SerializeToString())
    names = [output.name for output in session.get_outputs()]
    for label, tokens, lengths in batches():
        inputs = {"tokens": tokens, "lengths": lengths}
        with torch.no_grad():
            expected = classifier_reference(model, inputs)
        received = run_session(session, inputs)
        assert sorted(received) == sorted(names) == sorted(expected), label
        for name, value in expected.items():
            difference = float((value - received[name]).abs().max())
            assert difference <= TOLERANCE, f"{label} {name}: {difference}"
        assert received["logits"].argmax(-1).tolist() == expected["logits"].argmax(-1).tolist()


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "attention", "concat"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_classifier_parity(cell, bidirectional, pooling):
    assert_parity(make_classifier(cell, bidirectional, pooling))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_stacked_bidirectional_parity(cell):
    assert_parity(make_classifier(cell, True, "last", num_layers=2))


def test_graph_has_symbolic_batch_and_time_and_one_recurrent_node_per_layer():
    model = build_onnx_model("classify", make_classifier("lstm", True, "mean", num_layers=2))
    tokens = model.graph.input[0].type.tensor_type.shape.dim
    assert [dim.dim_param for dim in tokens] == ["batch", "time"]
    assert [node.op_type for node in model.graph.node].count("LSTM") == 2
    lstm = next(node for node in model.graph.node if node.op_type == "LSTM")
    assert len(lstm.input) >= 5 and lstm.input[4], "sequence_lens must be wired"
    onnx.checker.check_model(model)
