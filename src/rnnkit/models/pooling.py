"""Poolings that turn a sequence of encoder outputs into one vector per sequence (N→1).

Legend: B batch, T time, F features (D*H).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.nn.masking import valid_mask


class MeanPooling(nn.Module):
    """Mean of the outputs over each sequence's valid steps."""

    def forward(
        self, outputs: Tensor, lengths: Tensor, final_features: Tensor
    ) -> tuple[Tensor, None]:
        mask = valid_mask(lengths, outputs.size(1), outputs.device).unsqueeze(-1)  # (B, T, 1)
        total = (outputs * mask).sum(dim=1)
        return total / lengths.to(outputs.device, outputs.dtype).unsqueeze(1), None


class MaxPooling(nn.Module):
    """Element-wise maximum of the outputs over each sequence's valid steps."""

    def forward(
        self, outputs: Tensor, lengths: Tensor, final_features: Tensor
    ) -> tuple[Tensor, None]:
        mask = valid_mask(lengths, outputs.size(1), outputs.device).unsqueeze(-1)
        return outputs.masked_fill(~mask, float("-inf")).amax(dim=1), None


class LastPooling(nn.Module):
    """The final hidden states of the top layer (both directions), at each true length."""

    def forward(
        self, outputs: Tensor, lengths: Tensor, final_features: Tensor
    ) -> tuple[Tensor, None]:
        return final_features, None


class AttentionPooling(nn.Module):
    """Additive self-attention over the valid steps (Bahdanau-style scoring, one query).

    ``score_t = v · tanh(W o_t)``; weights are a softmax of the scores over valid steps.
    Returns the weighted sum ``(B, F)`` and the weights ``(B, T)`` (zero on padding).
    """

    def __init__(self, features: int, attention_size: int = 128) -> None:
        super().__init__()
        self.projection = nn.Linear(features, attention_size)
        self.score = nn.Linear(attention_size, 1, bias=False)

    def forward(
        self, outputs: Tensor, lengths: Tensor, final_features: Tensor
    ) -> tuple[Tensor, Tensor]:
        scores = self.score(torch.tanh(self.projection(outputs))).squeeze(-1)  # (B, T)
        mask = valid_mask(lengths, outputs.size(1), outputs.device)
        weights = scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)  # (B, T)
        return torch.bmm(weights.unsqueeze(1), outputs).squeeze(1), weights


POOLINGS = ("last", "mean", "max", "attention")


def build_pooling(name: str, features: int) -> nn.Module:
    """A pooling by name: ``last``, ``mean``, ``max`` or ``attention``."""
    builders = {
        "last": LastPooling,
        "mean": MeanPooling,
        "max": MaxPooling,
        "attention": lambda: AttentionPooling(features),
    }
    if name not in builders:
        raise ConfigError(f"pooling: expected one of {list(POOLINGS)}, got {name!r}")
    return builders[name]()
