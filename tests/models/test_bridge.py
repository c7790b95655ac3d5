"""The bridge for every encoder/decoder combination: cells × directions × layer counts."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.models.encoder import EncoderConfig
from rnnkit.models.seq2seq import DecoderConfig, Seq2Seq, Seq2SeqConfig

CELLS = ("rnn", "gru", "lstm")
COMBINATIONS = list(itertools.product(CELLS, (False, True), (1, 2), CELLS, (1, 2)))


def build(encoder_cell, bidirectional, encoder_layers, decoder_cell, decoder_layers, bridge):
    config = Seq2SeqConfig(
        encoder=EncoderConfig(
            vocab_size=11, embedding_dim=4, cell=encoder_cell, hidden_size=3,
            num_layers=encoder_layers, bidirectional=bidirectional,
        ),
        decoder=DecoderConfig(
            vocab_size=9, embedding_dim=4, cell=decoder_cell, hidden_size=5,
            num_layers=decoder_layers, attention="general",
        ),
        bridge=bridge,
    )  # fmt: skip
    torch.manual_seed(0)
    return Seq2Seq(config).eval()


@pytest.mark.parametrize("combination", COMBINATIONS, ids=lambda c: "-".join(map(str, c)))
def test_linear_bridge_gives_the_decoder_its_state_shape(combination):
    model = build(*combination, bridge="linear")
    source, lengths = torch.randint(4, 11, (2, 6)), torch.tensor([6, 3])
    state = model.encode(source, lengths)
    decoder_cell, decoder_layers = combination[3], combination[4]
    assert state.rnn.h.shape == (decoder_layers, 2, 5)
    assert (state.rnn.c is not None) == (decoder_cell == "lstm")
    if state.rnn.c is not None:
        assert state.rnn.c.shape == (decoder_layers, 2, 5)
    assert torch.all(state.rnn.h.abs() < 1)  # tanh
    assert state.rnn.h.abs().sum() > 0
    logits = model(source, lengths, torch.randint(2, 9, (2, 4)))
    assert logits.shape == (2, 4, 9)
    logits.sum().backward()
    assert model.bridge.hidden.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("decoder_cell", CELLS)
def test_zero_bridge_starts_from_zeros(decoder_cell):
    model = build("lstm", True, 2, decoder_cell, 1, bridge="zero")
    state = model.encode(torch.randint(4, 11, (3, 4)), torch.tensor([4, 1, 2]))
    assert torch.all(state.rnn.h == 0)
    assert (state.rnn.c is not None) == (decoder_cell == "lstm")
    assert not any(name.startswith("bridge.") for name, _ in model.named_parameters())


def test_bridge_reads_states_at_true_lengths():
    """Padding must not leak into the decoder's initial state through the bridge."""
    model = build("lstm", True, 2, "gru", 2, bridge="linear")
    source = torch.randint(4, 11, (1, 3))
    short = model.encode(source, torch.tensor([3]))
    padded = model.encode(
        torch.cat([source, torch.zeros(1, 4, dtype=torch.long)], 1), torch.tensor([3])
    )
    torch.testing.assert_close(padded.rnn.h, short.rnn.h)


def test_unknown_bridge_lists_valid_kinds():
    with pytest.raises(
        ConfigError, match=r"bridge: expected one of \['linear', 'zero'\], got 'copy'"
    ):
        Seq2SeqConfig(bridge="copy")
