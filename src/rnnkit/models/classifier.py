"""`SequenceClassifier`: the N→1 shape — a sequence in, one label out.

Legend: B batch, T time, W characters per word, C classes, F encoder features (D*H); the
pooled vector is F wide (3*F for ``concat``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.data.batching import TextBatch, WordBatch
from rnnkit.errors import ConfigError
from rnnkit.models.char_features import CharFeaturesConfig, build_char_features, encode_words
from rnnkit.models.encoder import EncoderConfig, RecurrentEncoder
from rnnkit.models.pooling import build_pooling, check_pooling, pooled_size
from rnnkit.nn.dropout import check_fraction, check_probability


@dataclass(frozen=True)
class ClassifierConfig(EncoderConfig, CharFeaturesConfig):
    """The encoder's settings (inherited, so ``model.hidden_size`` stays one key), the
    optional character features of each word, and the head."""

    num_classes: int = 0  # C, set from the label vocabulary when a task builds the model
    pooling: str = "last"  # "last", "mean", "max", "attention" or "concat" ([last; max; mean])
    output_dropout: float = 0.3  # on the pooled features, before the output layer
    label_smoothing: float = 0.0  # ε of label-smoothed cross-entropy (Szegedy et al. 2016)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_probability("output_dropout", self.output_dropout)
        check_fraction("label_smoothing", self.label_smoothing)
        check_pooling(self.pooling)


class SequenceClassifier(nn.Module):
    """Embedding (+ character features per word) → recurrent encoder → pooling → dropout →
    linear.

    Shape:
        words: a `WordBatch`: ids (B, T) long; lengths (B,) long (true lengths, >= 1);
        char_ids (B, T, W) and char_lengths (B, T) long, required iff
        ``config.char_features``.
        Returns logits (B, C).
    """

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        if config.num_classes < 2:
            raise ConfigError(f"num_classes: expected at least 2, got {config.num_classes}")
        self.config = config
        self.chars = build_char_features(config, config.backend)
        extra = self.chars.output_size if self.chars is not None else 0
        self.encoder = RecurrentEncoder(config, extra_features=extra)
        self.pooling = build_pooling(config.pooling, self.encoder.output_size)
        self.dropout = nn.Dropout(config.output_dropout)
        self.output = nn.Linear(
            pooled_size(config.pooling, self.encoder.output_size), config.num_classes
        )

    def forward(self, words: WordBatch) -> Tensor:
        return self.forward_with_details(words)[0]

    def forward_with_details(self, words: WordBatch) -> tuple[Tensor, Tensor, Tensor | None]:
        """Logits ``(B, C)``, encoder outputs ``(B, T, F)`` and attention weights ``(B, T)``
        (None unless the pooling is ``attention``)."""
        outputs, final = encode_words(self.encoder, self.chars, words)
        pooled, weights = self.pooling(outputs, words.lengths, self.encoder.final_features(final))
        return self.output(self.dropout(pooled)), outputs, weights

    @staticmethod
    def inputs(batch: TextBatch) -> tuple[WordBatch]:
        """The arguments of ``forward`` for a training batch (the model contract)."""
        return (batch.words,)

    def loss(self, logits: Tensor, batch: TextBatch) -> Tensor:
        """Mean cross-entropy of ``forward``'s logits against the batch's ``labels (B,)``,
        label-smoothed by ``config.label_smoothing``."""
        return F.cross_entropy(logits, batch.labels, label_smoothing=self.config.label_smoothing)

    def prefix_probabilities(
        self, tokens: Tensor, char_ids: Tensor | None = None, char_lengths: Tensor | None = None
    ) -> Tensor:
        """See `prefix_probabilities`."""
        return prefix_probabilities(self, tokens, char_ids, char_lengths)


@torch.no_grad()
def prefix_probabilities(
    model: Callable[[WordBatch], Tensor],
    tokens: Tensor,
    char_ids: Tensor | None = None,
    char_lengths: Tensor | None = None,
) -> Tensor:
    """What a classifier would say if the sentence ended after each token.

    ``tokens (T,)`` for one sentence (with ``char_ids (T, W)``, ``char_lengths (T,)`` when the
    model reads characters); returns ``(T, C)`` probabilities, row t for the prefix
    ``tokens[: t + 1]`` — the O1 … On of docs/rnn-tutorial.md for a unidirectional model.
    """
    time = tokens.size(0)
    batch = tokens.unsqueeze(0).expand(time, time)  # every prefix, padded to T
    chars = (None, None)
    if char_ids is not None and char_lengths is not None:
        chars = (char_ids.unsqueeze(0).expand(time, -1, -1), char_lengths.expand(time, -1))
    return model(WordBatch(batch, torch.arange(1, time + 1), *chars)).softmax(dim=-1)
