"""ONNX export of the models with a decoding loop: the language model's feed and start graphs
and the seq2seq encoder and decoder step graphs reproduce PyTorch at prompt and source lengths
1, 7, 50 and 200, batch sizes 1 and 16 and mixed lengths; decoding over ONNX Runtime sessions
gives the same tokens as over PyTorch."""

from __future__ import annotations

import pytest
import torch

from rnnkit.export.language_model import OnnxLanguageModel, language_model_graphs
from rnnkit.export.onnx import build_onnx_model
from rnnkit.export.runtime import create_session, run_session
from rnnkit.export.seq2seq import OnnxSeq2Seq, seq2seq_graphs
from rnnkit.models.encoder import EncoderConfig
from rnnkit.models.language_model import LanguageModel, LanguageModelConfig
from rnnkit.models.seq2seq import DecoderConfig, Seq2Seq, Seq2SeqConfig

TOLERANCE = 1e-4
LENGTH_SETS = {
    "B=1,T=1": [1], "B=1,T=7": [7], "B=1,T=50": [50], "B=1,T=200": [200],
    "B=16,T=1": [1] * 16, "B=16,T=7": [7] * 16, "B=16,T=50": [50] * 16,
    "B=16,T=200": [200] * 16, "B=16,mixed": [1, 7, 50, 200, 3, 9, 120, 64, 2, 5, 199, 33, 8, 17,
                                              90, 150],
}  # fmt: skip


def sessions_of(task: str, model: torch.nn.Module, graphs: dict) -> dict:
    return {
        stem: create_session(build_onnx_model(task, model, stem=stem).SerializeToString())
        for stem in graphs
    }


def assert_graph_parity(task: str, model: torch.nn.Module, graphs: dict) -> None:
    sessions = sessions_of(task, model, graphs)
    for stem, graph in graphs.items():
        for label, lengths in LENGTH_SETS.items():
            inputs = graph.check_inputs(model, torch.tensor(lengths), 3)
            with torch.no_grad():
                expected = graph.reference(model, inputs)
            received = run_session(sessions[stem], inputs)
            assert sorted(received) == sorted(expected), f"{stem} {label}"
            for name, value in expected.items():
                difference = float((value - received[name]).abs().max())
                assert difference <= TOLERANCE, f"{stem} {label} {name}: {difference}"


# The language model ---------------------------------------------------------------------------

CONDITIONS = {
    "none": {},
    "category-both": {"num_conditions": 3, "condition_dim": 5, "condition_mode": "both"},
    "vector-initial": {"condition_size": 4, "condition_mode": "initial"},
    "vector-input": {"condition_size": 4, "condition_mode": "input"},
}


def make_language_model(cell: str, num_layers: int, condition: str) -> LanguageModel:
    torch.manual_seed(0)
    config = LanguageModelConfig(vocab_size=23, embedding_dim=8, cell=cell, hidden_size=10,
                                 num_layers=num_layers, **CONDITIONS[condition])  # fmt: skip
    return LanguageModel(config).eval()


@pytest.mark.parametrize("condition", sorted(CONDITIONS))
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_language_model_graphs_match_pytorch(cell, condition):
    model = make_language_model(cell, 2, condition)
    graphs = language_model_graphs(model)
    assert ("model.start" in graphs) == (condition != "none")
    assert_graph_parity("generate", model, graphs)


@pytest.mark.parametrize("condition", ["none", "category-both"])
def test_language_model_decoding_over_onnx_gives_the_same_tokens(condition):
    model = make_language_model("lstm", 1, condition)
    graphs = language_model_graphs(model)
    onnx = OnnxLanguageModel(sessions_of("generate", model, graphs), model.config)
    condition_ids = torch.tensor([0, 2, 1]) if condition != "none" else None
    from rnnkit.models.decoding import beam_search, greedy_decode

    for decoder in (model, onnx):
        state = decoder.start_state(condition_ids, 3)
        _, state = decoder.feed(torch.tensor([[2, 5, 6]] * 3), state)
        start = torch.full((3,), 7)
        greedy = greedy_decode(decoder.step, state, start, 3, 12)
        beams = beam_search(decoder.step, state, start, 3, 12, beam_size=4, n_best=2)
        if decoder is model:
            expected = (greedy, beams)
    assert [h.tokens for h in greedy] == [h.tokens for h in expected[0]]
    assert [[h.tokens for h in row] for row in beams] == [
        [h.tokens for h in row] for row in expected[1]
    ]
    for mine, theirs in zip(greedy, expected[0], strict=True):
        assert mine.log_prob == pytest.approx(theirs.log_prob, abs=1e-4)


# The encoder–decoder --------------------------------------------------------------------------

SEQ2SEQ = {
    "bilstm-lstm-dot-feed": ("lstm", "lstm", "dot", True, "linear", 1),
    "bigru-gru-additive": ("gru", "gru", "additive", False, "linear", 1),
    "bilstm-gru-general-feed": ("lstm", "gru", "general", True, "linear", 2),
    "bigru-lstm-additive-zero": ("gru", "lstm", "additive", False, "zero", 2),
    "birnn-rnn-dot": ("rnn", "rnn", "dot", True, "linear", 1),
}


def make_seq2seq(name: str) -> Seq2Seq:
    encoder_cell, decoder_cell, attention, feeding, bridge, layers = SEQ2SEQ[name]
    torch.manual_seed(0)
    config = Seq2SeqConfig(
        encoder=EncoderConfig(vocab_size=29, embedding_dim=8, cell=encoder_cell, hidden_size=6,
                              num_layers=layers, bidirectional=True),
        decoder=DecoderConfig(vocab_size=31, embedding_dim=7, cell=decoder_cell,
                              attention=attention, attention_size=9, input_feeding=feeding,
                              num_layers=layers),
        bridge=bridge,
    )  # fmt: skip
    return Seq2Seq(config).eval()


@pytest.mark.parametrize("name", sorted(SEQ2SEQ))
def test_seq2seq_encoder_and_step_graphs_match_pytorch(name):
    model = make_seq2seq(name)
    assert_graph_parity("translate", model, seq2seq_graphs(model))


@pytest.mark.parametrize("name", ["bilstm-lstm-dot-feed", "bigru-gru-additive"])
def test_seq2seq_decoding_over_onnx_gives_the_same_translations(name):
    model = make_seq2seq(name)
    onnx = OnnxSeq2Seq(sessions_of("translate", model, seq2seq_graphs(model)), model.config)
    generator = torch.Generator().manual_seed(5)
    lengths = torch.tensor([6, 1, 9, 4])
    source = torch.randint(4, 29, (4, 9), generator=generator)
    source = source.masked_fill(torch.arange(9) >= lengths.unsqueeze(1), 0)
    for beam, n_best in ((1, 1), (4, 3)):
        expected = model.generate(source, lengths, beam, n_best)
        received = onnx.generate(source, lengths, beam, n_best)
        assert [[h.tokens for h in row] for row in received] == [
            [h.tokens for h in row] for row in expected
        ]
    target_in = torch.randint(4, 31, (4, 5), generator=generator)
    with torch.no_grad():
        logits, weights = model.forward_with_attention(source, lengths, target_in)
    log_probs, onnx_weights = onnx.forward_with_attention(source, lengths, target_in)
    torch.testing.assert_close(onnx_weights, weights, atol=TOLERANCE, rtol=0)
    torch.testing.assert_close(log_probs, logits.log_softmax(-1), atol=TOLERANCE, rtol=0)
    assert float(onnx_weights[1, :, 1:].abs().max()) == 0.0  # padding gets no attention
