"""Encoder–decoder attention: additive (Bahdanau et al. 2015) and multiplicative
(Luong et al. 2015: ``dot`` and ``general``), masked by source lengths.

Legend: B batch, T decoder steps (queries), S source length, Q query features (decoder
hidden size), M memory features (encoder outputs, D*H), A additive attention size.

Every kind splits its score into a part computed once per source sentence (`keys`, from the
memory) and a cheap part per decoder step (`scores`), so decoding and beam search never
re-project the memory: the keys travel in the decoder state and are reordered with it.

Scores of padded source positions are set to ``-inf`` before the softmax, so padding gets a
weight of exactly zero and the context vector does not depend on how much padding there is.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError


class Attention(nn.Module):
    """Base class: ``keys(memory)`` once, then ``forward(query, keys, memory, mask)`` per step.

    Shape:
        query: (B, T, Q); keys: whatever ``keys`` returned, (B, S, K); memory: (B, S, M);
        mask: (B, S) bool, True at real source tokens (each row has at least one).
        Returns ``context: (B, T, M)`` and ``weights: (B, T, S)`` (rows sum to 1, exactly 0 on
        padding).
    """

    def __init__(self, query_size: int, memory_size: int) -> None:
        super().__init__()
        for name, value in (("query_size", query_size), ("memory_size", memory_size)):
            if value < 1:
                raise ConfigError(f"{name}: expected a positive integer, got {value}")
        self.query_size, self.memory_size = query_size, memory_size

    def keys(self, memory: Tensor) -> Tensor:
        """The per-source part of the score: (B, S, M) → (B, S, K)."""
        raise NotImplementedError

    def scores(self, query: Tensor, keys: Tensor) -> Tensor:
        """Unnormalised scores: (B, T, Q) and (B, S, K) → (B, T, S)."""
        raise NotImplementedError

    def forward(
        self, query: Tensor, keys: Tensor, memory: Tensor, mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        if mask.shape != memory.shape[:2]:
            raise ShapeError(
                f"mask: expected shape {tuple(memory.shape[:2])} (B, S), got {tuple(mask.shape)}"
            )
        scores = self.scores(query, keys)  # (B, T, S)
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)  # exp(-inf) = 0: padding gets exactly 0
        return torch.bmm(weights, memory), weights  # (B, T, M), (B, T, S)


class AdditiveAttention(Attention):
    """Bahdanau et al. (2015), eq. (6): ``score(q, m) = vᵀ tanh(W_q q + W_m m)``."""

    def __init__(self, query_size: int, memory_size: int, attention_size: int = 256) -> None:
        super().__init__(query_size, memory_size)
        if attention_size < 1:
            raise ConfigError(f"attention_size: expected a positive integer, got {attention_size}")
        self.memory_projection = nn.Linear(memory_size, attention_size, bias=False)
        self.query_projection = nn.Linear(query_size, attention_size)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def keys(self, memory: Tensor) -> Tensor:
        return self.memory_projection(memory)  # (B, S, A)

    def scores(self, query: Tensor, keys: Tensor) -> Tensor:
        projected = self.query_projection(query)  # (B, T, A)
        hidden = torch.tanh(projected.unsqueeze(2) + keys.unsqueeze(1))  # (B, T, S, A)
        return self.v(hidden).squeeze(-1)  # (B, T, S)


class DotAttention(Attention):
    """Luong et al. (2015), eq. (8) "dot": ``score(q, m) = qᵀ m``; needs Q = M."""

    def __init__(self, query_size: int, memory_size: int, attention_size: int = 0) -> None:
        super().__init__(query_size, memory_size)
        if query_size != memory_size:
            raise ConfigError(
                f"dot attention needs the decoder hidden size ({query_size}) to equal the encoder "
                f"output size D*H ({memory_size}); use 'general' or 'additive' attention"
            )

    def keys(self, memory: Tensor) -> Tensor:
        return memory  # (B, S, M)

    def scores(self, query: Tensor, keys: Tensor) -> Tensor:
        return torch.bmm(query, keys.transpose(1, 2))  # (B, T, S)


class GeneralAttention(DotAttention):
    """Luong et al. (2015), eq. (8) "general": ``score(q, m) = qᵀ W_a m``.

    ``W_a m`` is computed once per source, after which a step costs what "dot" costs.
    """

    def __init__(self, query_size: int, memory_size: int, attention_size: int = 0) -> None:
        Attention.__init__(self, query_size, memory_size)
        self.memory_projection = nn.Linear(memory_size, query_size, bias=False)

    def keys(self, memory: Tensor) -> Tensor:
        return self.memory_projection(memory)  # (B, S, Q)


ATTENTIONS: dict[str, type[Attention]] = {
    "additive": AdditiveAttention,
    "dot": DotAttention,
    "general": GeneralAttention,
}


def get_attention(name: str) -> type[Attention]:
    """The attention class registered as ``name``."""
    if name not in ATTENTIONS:
        raise ConfigError(f"attention: expected one of {sorted(ATTENTIONS)}, got {name!r}")
    return ATTENTIONS[name]


def build_attention(
    name: str, query_size: int, memory_size: int, attention_size: int = 256
) -> Attention:
    """An attention module by name; ``attention_size`` is used by ``additive`` only."""
    return get_attention(name)(query_size, memory_size, attention_size)
