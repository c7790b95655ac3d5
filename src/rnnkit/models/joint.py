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

from rnnkit.data.batching import TaggedBatch, WordBatch
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
        words: a `WordBatch` (ids (B, T), lengths (B,), and char_ids (B, T, W) and
        char_lengths (B, T) when ``config.char_features``). ``forward`` returns
        ``(intent_logits (B, I), slot_emissions (B, T, K))``. A batch's tags: (B, T), padded
        with -100; intents: (B,) long.
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

    def forward(self, words: WordBatch) -> tuple[Tensor, Tensor]:
        outputs, final = self.encode(words)
        lengths = check_lengths(words.lengths, words.ids.size(0), words.ids.size(1))
        lengths = lengths.to(outputs.device)
        pooled, _ = self.pooling(outputs, lengths, self.encoder.final_features(final))
        return self.intent_output(self.intent_dropout(pooled)), self.head(outputs)

    def loss_terms(
        self, outputs: tuple[Tensor, Tensor], batch: TaggedBatch
    ) -> tuple[Tensor, Tensor]:
        """``(intent cross-entropy (mean per sentence), slot loss (mean per token))`` of
        ``forward``'s outputs against the batch's intents and tags."""
        intent_logits, emissions = outputs
        intent = F.cross_entropy(intent_logits, batch.intents)
        return intent, self.head.loss(emissions, batch.tags, batch.lengths)

    def loss(self, outputs: tuple[Tensor, Tensor], batch: TaggedBatch) -> Tensor:
        """``slot loss + intent_weight * intent loss`` (see `loss_terms`)."""
        intent, slots = self.loss_terms(outputs, batch)
        return slots + self.config.intent_weight * intent

    @torch.no_grad()
    def decode(self, words: WordBatch) -> JointDecoding:
        """The most probable intent (with its probability) and the best slot tags of each
        sentence (no gradient; call ``eval()`` first)."""
        intent_logits, emissions = self(words)
        return joint_decoding(intent_logits, self.head.decode(emissions, words.lengths))


def joint_decoding(intent_logits: Tensor, tags: list[list[int]]) -> JointDecoding:
    """The most probable intent of each row of ``intent_logits (B, I)``, its probability, and
    the decoded ``tags``."""
    probs, intents = intent_logits.softmax(dim=-1).max(dim=-1)
    return JointDecoding(intents.tolist(), probs.tolist(), tags)
