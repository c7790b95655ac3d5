"""`SequenceTagger`: the N→N shape — one tag per input token (slot filling, NER).

Word embeddings (+ character features per word) → recurrent encoder → dropout → per-token
linear → optional linear-chain CRF (Huang et al. 2015; Lample et al. 2016).
Legend: B batch, T time (tokens), W characters per word, K tags, F encoder features (D*H).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.data.batching import TaggedBatch, WordBatch
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.char_features import CharFeaturesConfig, build_char_features, encode_words
from rnnkit.models.encoder import EncoderConfig, RecurrentEncoder
from rnnkit.nn.crf import CRF, bio_constraints
from rnnkit.nn.dropout import check_probability, sequence_dropout
from rnnkit.nn.masking import check_lengths, valid_mask
from rnnkit.nn.state import RNNState

# Tag id of padding positions: `F.cross_entropy`'s default ignore_index, and what
# `rnnkit.data.collate_tagging` pads tags with.
IGNORE_INDEX = -100


@dataclass(frozen=True)
class TaggerConfig(EncoderConfig, CharFeaturesConfig):
    """The encoder's settings (inherited, so ``model.hidden_size`` stays one key) plus the
    character features and the tagging head."""

    num_tags: int = 0  # K, set from the tag vocabulary when a task builds the model
    use_crf: bool = True  # a CRF over the tag scores (else an independent softmax per token)
    output_dropout: float = 0.5  # on the encoder outputs, before the per-token linear layer

    def __post_init__(self) -> None:
        super().__post_init__()
        check_probability("output_dropout", self.output_dropout)


class TaggingHead(nn.Module):
    """Dropout (one mask per sentence if ``locked``) → per-token linear (F → K) → optional CRF;
    masked loss and decoding.

    Shape:
        outputs: (B, T, F) → emissions (B, T, K). tags: (B, T) long, -100 (or anything) past
        each length; lengths: (B,).
    """

    def __init__(
        self, features: int, num_tags: int, use_crf: bool, dropout: float, locked: bool = False
    ) -> None:
        super().__init__()
        if num_tags < 2:
            raise ConfigError(f"num_tags: expected at least 2, got {num_tags}")
        self.dropout = sequence_dropout(dropout, locked)
        self.output = nn.Linear(features, num_tags)
        self.crf = CRF(num_tags) if use_crf else None

    def forward(self, outputs: Tensor) -> Tensor:
        return self.output(self.dropout(outputs))

    def loss(self, emissions: Tensor, tags: Tensor, lengths: Tensor) -> Tensor:
        """Mean loss per valid token: the CRF's negative log-likelihood summed over the batch
        and divided by the number of tokens, or the token cross-entropy.

        Note: both are per token, so switching the CRF on or off keeps the loss's scale (and
        a good learning rate) about the same.
        """
        lengths = check_lengths(lengths, emissions.size(0), emissions.size(1))
        if tuple(tags.shape) != tuple(emissions.shape[:2]):
            raise ShapeError(
                f"tags: expected shape {tuple(emissions.shape[:2])} (B, T), got {tuple(tags.shape)}"
            )
        if self.crf is not None:
            log_likelihood = self.crf.log_likelihood(emissions, tags, lengths)
            return -log_likelihood.sum() / lengths.sum().to(emissions.device)
        mask = valid_mask(lengths, tags.size(1), tags.device)
        tags = tags.masked_fill(~mask, IGNORE_INDEX)  # padding never counts, whatever it holds
        return F.cross_entropy(emissions.flatten(0, 1), tags.flatten(), ignore_index=IGNORE_INDEX)

    def decode(self, emissions: Tensor, lengths: Tensor) -> list[list[int]]:
        """Best tag ids per sentence (Viterbi with a CRF, else argmax), ``lengths[b]`` each."""
        if self.crf is not None:
            return self.crf.decode(emissions, lengths)
        return argmax_tags(emissions, check_lengths(lengths, emissions.size(0), emissions.size(1)))


def argmax_tags(emissions: Tensor, lengths: Tensor) -> list[list[int]]:
    """The highest-scoring tag at each of the ``lengths[b]`` steps of each sentence.

    Shape: ``emissions (B, T, K)``, ``lengths (B,)``.
    """
    best = emissions.argmax(dim=-1).tolist()  # (B, T)
    return [row[:n] for row, n in zip(best, lengths.tolist(), strict=True)]


class WordEncoderModel(nn.Module):
    """What the tagger and the joint model share: words (+ characters) → encoder → tag head.

    Builds ``chars`` (a `CharFeatures`, or None), ``encoder`` and ``head`` (a `TaggingHead`).
    """

    def __init__(self, config: TaggerConfig) -> None:
        super().__init__()
        self.config = config
        self.chars = build_char_features(config, config.backend)
        extra = self.chars.output_size if self.chars is not None else 0
        self.encoder = RecurrentEncoder(config, extra_features=extra)
        self.head = TaggingHead(
            self.encoder.output_size,
            config.num_tags,
            config.use_crf,
            config.output_dropout,
            locked=config.locked_dropout,
        )

    def encode(self, words: WordBatch) -> tuple[Tensor, RNNState]:
        """Encoder ``outputs (B, T, F)`` and final state for ``words``; its ``char_ids`` and
        ``char_lengths`` are required iff ``config.char_features``."""
        return encode_words(self.encoder, self.chars, words)

    @staticmethod
    def inputs(batch: TaggedBatch) -> tuple[WordBatch]:
        """The arguments of ``forward`` for a training batch (the model contract)."""
        return (batch.words,)

    def constrain_bio(self, tag_names: Sequence[str]) -> None:
        """Forbids invalid BIO moves in the CRF (`bio_constraints`); ``tag_names[k]`` is tag
        id k. The constraints are buffers, saved and loaded with the weights."""
        if self.head.crf is None:
            raise ConfigError(
                "constrain_bio: expected a model with use_crf=True, got use_crf=False"
            )
        if len(tag_names) != self.config.num_tags:
            raise ConfigError(
                f"tag_names: expected {self.config.num_tags} names (num_tags), got {len(tag_names)}"
            )
        self.head.crf.set_constraints(*bio_constraints(tag_names))


class SequenceTagger(WordEncoderModel):
    """One tag per token.

    Shape:
        words: a `WordBatch`: ids (B, T) long; lengths (B,) long (true lengths, >= 1);
        char_ids (B, T, W) and char_lengths (B, T) when ``config.char_features``.
        ``forward`` returns emissions (B, T, K): per-token tag scores (logits without a CRF).
        A batch's tags: (B, T), padded with -100.
    """

    def forward(self, words: WordBatch) -> Tensor:
        outputs, _ = self.encode(words)
        return self.head(outputs)

    def loss(self, emissions: Tensor, batch: TaggedBatch) -> Tensor:
        """Mean loss per valid token of ``forward``'s emissions (see `TaggingHead.loss`)."""
        return self.head.loss(emissions, batch.tags, batch.lengths)

    @torch.no_grad()
    def decode(self, words: WordBatch) -> list[list[int]]:
        """The best tag ids of each sentence, ``lengths[b]`` of them (no gradient; call
        ``eval()`` first for deterministic dropout-free output)."""
        return self.head.decode(self(words), words.lengths)
