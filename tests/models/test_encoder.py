"""`RecurrentEncoder`: word dropout."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.models import EncoderConfig, RecurrentEncoder


def test_word_dropout_reads_tokens_as_unk_in_training_only():
    config = EncoderConfig(vocab_size=10, embedding_dim=4, hidden_size=3, word_dropout=0.5)
    encoder = RecurrentEncoder(config)
    seen = []
    encoder.embedding.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    tokens = torch.full((4, 50), 7)
    tokens[:, 40:] = 0  # padding stays padding
    torch.manual_seed(0)
    encoder.train()(tokens, torch.full((4,), 40))
    read = seen[-1]
    share = (read[:, :40] == config.unk_id).float().mean().item()
    assert 0.35 < share < 0.65 and set(read[:, :40].unique().tolist()) == {1, 7}
    assert read[:, 40:].eq(0).all()
    encoder.eval()(tokens, torch.full((4,), 40))
    assert torch.equal(seen[-1], tokens)


def test_word_dropout_must_be_a_probability():
    with pytest.raises(ConfigError, match=r"word_dropout: expected a value in \[0, 1\), got 1.0"):
        EncoderConfig(vocab_size=5, word_dropout=1.0)
