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


class ConcatPooling(nn.Module):
    """``[last; max; mean]``: the final states beside the max- and mean-pooled outputs.

    Howard & Ruder (2018, ULMFiT) concatenate the three so the head reads both the summary the
    recurrence carried to the end and the strongest and average evidence of every step.
    Returns ``(B, 3*F)``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.last, self.max, self.mean = LastPooling(), MaxPooling(), MeanPooling()

    def forward(
        self, outputs: Tensor, lengths: Tensor, final_features: Tensor
    ) -> tuple[Tensor, None]:
        parts = [
            pool(outputs, lengths, final_features)[0] for pool in (self.last, self.max, self.mean)
        ]
        return torch.cat(parts, dim=-1), None  # (B, 3*F)


POOLINGS = ("last", "mean", "max", "attention", "concat")


def check_pooling(name: str) -> str:
    """``name`` if it is a pooling, else a `ConfigError` listing the valid ones."""
    if name not in POOLINGS:
        raise ConfigError(f"pooling: expected one of {list(POOLINGS)}, got {name!r}")
    return name


def pooled_size(name: str, features: int) -> int:
    """The width of the pooled vector for F = ``features`` encoder outputs: F, or 3*F for concat."""
    return 3 * features if check_pooling(name) == "concat" else features


def build_pooling(name: str, features: int) -> nn.Module:
    """A pooling by name: ``last``, ``mean``, ``max``, ``attention`` or ``concat``."""
    builders = {
        "last": LastPooling,
        "mean": MeanPooling,
        "max": MaxPooling,
        "attention": lambda: AttentionPooling(features),
        "concat": ConcatPooling,
    }
    return builders[check_pooling(name)]()
