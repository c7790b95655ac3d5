"""`JointIntentSlot`: one encoder, an intent head (N→1) and a slot head (N→N), trained together
with a weighted loss (Liu & Lane 2016; Goo et al. 2018), as a voice or chat assistant runs.

Legend: B batch, T time (tokens), W characters per word, I intents, K slot tags,
F encoder features (D*H).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.models.pooling import build_pooling, check_pooling, pooled_size
from rnnkit.models.tagger import TaggerConfig, WordEncoderModel
from rnnkit.nn.masking import check_lengths


@dataclass(frozen=True)
class JointConfig(TaggerConfig):
    """The tagger's settings (inherited, one flat namespace) plus the intent head."""

    num_intents: int = 0  # I, set from the intent vocabulary when a task builds the model
    pooling: str = "last"  # how the intent head reads the sentence: last, mean, max,
    # attention or concat
    intent_weight: float = 1.0  # loss = slot loss + intent_weight * intent loss

    def __post_init__(self) -> None:
        super().__post_init__()
        check_pooling(self.pooling)
        if not self.intent_weight >= 0:
            raise ConfigError(f"intent_weight: expected a number >= 0, got {self.intent_weight}")


class JointDecoding(NamedTuple):
    """Decoded batch: intent ids (B), their probabilities (B), slot tag ids per sentence."""

    intents: list[int]
    intent_probs: list[float]
    tags: list[list[int]]


class JointIntentSlot(WordEncoderModel):
    """Words (+ characters) → shared encoder → (pooling → intent logits, per-token slot scores).

    Shape:
        tokens: (B, T) long; lengths: (B,) long; char_ids: (B, T, W) and char_lengths: (B, T)
        when ``config.char_features``; tags: (B, T), padded with -100; intents: (B,) long.
        ``forward`` returns ``(intent_logits (B, I), slot_emissions (B, T, K))``.
    """

    def __init__(self, config: JointConfig) -> None:
        super().__init__(config)
        if config.num_intents < 2:
            raise ConfigError(f"num_intents: expected at least 2, got {config.num_intents}")
        self.pooling = build_pooling(config.pooling, self.encoder.output_size)
        self.intent_dropout = nn.Dropout(config.output_dropout)
        self.intent_output = nn.Linear(
            pooled_size(config.pooling, self.encoder.output_size), config.num_intents
        )

    def forward(
        self,
        tokens: Tensor,
        lengths: Tensor,
        char_ids: Tensor | None = None,
        char_lengths: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        outputs, final = self.encode(tokens, lengths, char_ids, char_lengths)
        lengths = check_lengths(lengths, tokens.size(0), tokens.size(1)).to(outputs.device)
        pooled, _ = self.pooling(outputs, lengths, self.encoder.final_features(final))
        return self.intent_output(self.intent_dropout(pooled)), self.head(outputs)

    def loss_terms(
        self,
        tokens: Tensor,
        lengths: Tensor,
        tags: Tensor,
        intents: Tensor,
        char_ids: Tensor | None = None,
        char_lengths: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """``(intent cross-entropy (mean per sentence), slot loss (mean per token))``."""
        intent_logits, emissions = self(tokens, lengths, char_ids, char_lengths)
        return F.cross_entropy(intent_logits, intents), self.head.loss(emissions, tags, lengths)

    def loss(
        self,
        tokens: Tensor,
        lengths: Tensor,
        tags: Tensor,
        intents: Tensor,
        char_ids: Tensor | None = None,
        char_lengths: Tensor | None = None,
    ) -> Tensor:
        """``slot loss + intent_weight * intent loss`` (see `loss_terms`)."""
        intent, slots = self.loss_terms(tokens, lengths, tags, intents, char_ids, char_lengths)
        return slots + self.config.intent_weight * intent

    @torch.no_grad()
    def decode(
        self,
        tokens: Tensor,
        lengths: Tensor,
        char_ids: Tensor | None = None,
        char_lengths: Tensor | None = None,
    ) -> JointDecoding:
        """The most probable intent (with its probability) and the best slot tags of each
        sentence (no gradient; call ``eval()`` first)."""
        intent_logits, emissions = self(tokens, lengths, char_ids, char_lengths)
        return joint_decoding(intent_logits, self.head.decode(emissions, lengths))


def joint_decoding(intent_logits: Tensor, tags: list[list[int]]) -> JointDecoding:
    """The most probable intent of each row of ``intent_logits (B, I)``, its probability, and
    the decoded ``tags``."""
    probs, intents = intent_logits.softmax(dim=-1).max(dim=-1)
    return JointDecoding(intents.tolist(), probs.tolist(), tags)
