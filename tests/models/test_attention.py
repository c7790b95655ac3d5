"""Attention: padding gets exactly zero weight and never changes a result."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.attention import ATTENTIONS, build_attention, get_attention
from rnnkit.nn.masking import valid_mask

LENGTHS = torch.tensor([5, 2, 3])


@pytest.fixture(params=sorted(ATTENTIONS))
def attention(request):
    torch.manual_seed(0)
    return build_attention(request.param, query_size=6, memory_size=6, attention_size=4)


def attend(attention, memory, lengths, query):
    mask = valid_mask(lengths, memory.size(1))
    return attention(query, attention.keys(memory), memory, mask)


def test_padding_gets_exactly_zero_weight_and_rows_sum_to_one(attention):
    memory, query = torch.randn(3, 5, 6), torch.randn(3, 4, 6)
    _, weights = attend(attention, memory, LENGTHS, query)
    assert weights.shape == (3, 4, 5)
    for row, length in enumerate(LENGTHS.tolist()):
        assert torch.all(weights[row, :, length:] == 0)
        assert torch.all(weights[row, :, :length] > 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4))


def test_results_do_not_depend_on_padding_length_or_content(attention):
    memory, query = torch.randn(3, 5, 6), torch.randn(3, 4, 6)
    context, weights = attend(attention, memory, LENGTHS, query)
    longer = torch.cat([memory, 1e3 * torch.randn(3, 7, 6)], dim=1)  # more, and wild, padding
    for row, length in enumerate(LENGTHS.tolist()):
        longer[row, length:] = 1e3 * torch.randn(12 - length, 6)
    context_long, weights_long = attend(attention, longer, LENGTHS, query)
    torch.testing.assert_close(context_long, context)
    torch.testing.assert_close(weights_long[:, :, :5], weights)
    assert torch.all(weights_long[:, :, 5:] == 0)


def test_unknown_attention_lists_valid_names():
    with pytest.raises(ConfigError, match=r"attention: expected one of \['additive', 'dot', "):
        get_attention("cosine")


def test_dot_attention_needs_equal_sizes():
    with pytest.raises(ConfigError, match=r"decoder hidden size \(4\) to equal the encoder"):
        build_attention("dot", query_size=4, memory_size=6)


def test_mask_shape_is_checked():
    attention = build_attention("general", 6, 6)
    memory = torch.randn(2, 5, 6)
    with pytest.raises(ShapeError, match=r"mask: expected shape \(2, 5\) \(B, S\), got \(2, 4\)"):
        attention(torch.randn(2, 1, 6), attention.keys(memory), memory, torch.ones(2, 4).bool())
