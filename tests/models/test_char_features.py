"""CharFeatures: shapes, zero features for padding words, padding never changes a word."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models import CharFeatures
from tests.models.tagging_toys import CHAR_VOCAB_SIZE, make_batch, with_garbage_padding


def make_chars() -> CharFeatures:
    torch.manual_seed(0)
    return CharFeatures(CHAR_VOCAB_SIZE, embedding_dim=4, hidden_size=3).eval()


def test_shapes_and_padding_words_are_zero():
    chars = make_chars()
    batch = make_batch(size=4)
    features = chars(batch.char_ids, batch.char_lengths)
    assert chars.output_size == 6
    assert features.shape == (4, 6, 6)
    padding = batch.char_lengths == 0
    assert padding.any() and features[padding].abs().max() == 0
    assert features[~padding].abs().min(dim=-1).values.gt(0).all()


def test_padding_never_changes_a_word():
    chars = make_chars()
    batch = make_batch(size=4)
    features = chars(batch.char_ids, batch.char_lengths)
    garbage = with_garbage_padding(batch)
    noisy = chars(garbage.char_ids, garbage.char_lengths)
    for b, n in enumerate(batch.lengths.tolist()):
        torch.testing.assert_close(noisy[b, :n], features[b, :n], atol=1e-6, rtol=0)
    # One word alone, unpadded, gives the same features as inside the batch.
    count = int(batch.char_lengths[1, 0])
    alone = chars(batch.char_ids[1:2, :1, :count], batch.char_lengths[1:2, :1])
    torch.testing.assert_close(alone[0, 0], features[1, 0], atol=1e-6, rtol=0)


def test_features_are_the_final_states_of_both_directions():
    chars = make_chars()
    word = torch.tensor([[[3, 5, 7]]])  # (1, 1, 3)
    features = chars(word, torch.tensor([[3]]))[0, 0]
    outputs, _ = chars.rnn(chars.embedding(word[0]))  # (1, 3, 6)
    torch.testing.assert_close(features[:3], outputs[0, 2, :3])  # forward: after the last
    torch.testing.assert_close(features[3:], outputs[0, 0, 3:])  # backward: after the first


def test_gradients_reach_the_character_embeddings():
    chars = make_chars().train()
    batch = make_batch(size=4)
    chars(batch.char_ids, batch.char_lengths).sum().backward()
    grad = chars.embedding.weight.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_bad_input_names_the_argument():
    chars = make_chars()
    with pytest.raises(ShapeError, match=r"char_ids: expected shape \(B, T, W\), got \(2, 3\)"):
        chars(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(
        ShapeError, match=r"char_lengths: expected shape \(2, 3\) \(B, T\), got \(2,\)"
    ):
        chars(torch.zeros(2, 3, 4, dtype=torch.long), torch.zeros(2, dtype=torch.long))
    with pytest.raises(
        ShapeError, match=r"char_lengths: expected values in \[0, 4\] \(W\), got 0..5"
    ):
        chars(torch.zeros(2, 3, 4, dtype=torch.long), torch.tensor([[0, 1, 5], [1, 1, 1]]))
    with pytest.raises(ConfigError, match=r"char_vocab_size: expected at least 2, got 0"):
        CharFeatures(0)
