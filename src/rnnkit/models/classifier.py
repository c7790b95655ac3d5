"""`SequenceClassifier`: the N→1 shape — a sequence in, one label out.

Legend: B batch, T time, C classes, F encoder features (D*H); the pooled vector is F wide
(3*F for ``concat``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.data.batching import TextBatch
from rnnkit.errors import ConfigError
from rnnkit.models.encoder import EncoderConfig, RecurrentEncoder
from rnnkit.models.pooling import build_pooling, check_pooling, pooled_size


@dataclass(frozen=True)
class ClassifierConfig(EncoderConfig):
    """The encoder's settings (inherited, so ``model.hidden_size`` stays one key) plus the head."""

    num_classes: int = 0  # C, set from the label vocabulary when a task builds the model
    pooling: str = "last"  # "last", "mean", "max", "attention" or "concat" ([last; max; mean])
    output_dropout: float = 0.3  # on the pooled features, before the output layer

    def __post_init__(self) -> None:
        super().__post_init__()
        check_pooling(self.pooling)


class SequenceClassifier(nn.Module):
    """Embedding → recurrent encoder → pooling → dropout → linear.

    Shape:
        tokens: (B, T) long; lengths: (B,) long (true lengths, >= 1).
        Returns logits (B, C).
    """

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        if config.num_classes < 2:
            raise ConfigError(f"num_classes: expected at least 2, got {config.num_classes}")
        self.config = config
        self.encoder = RecurrentEncoder(config)
        self.pooling = build_pooling(config.pooling, self.encoder.output_size)
        self.dropout = nn.Dropout(config.output_dropout)
        self.output = nn.Linear(
            pooled_size(config.pooling, self.encoder.output_size), config.num_classes
        )

    def forward(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        return self.forward_with_details(tokens, lengths)[0]

    def forward_with_details(
        self, tokens: Tensor, lengths: Tensor
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Logits ``(B, C)``, encoder outputs ``(B, T, F)`` and attention weights ``(B, T)``
        (None unless the pooling is ``attention``)."""
        outputs, final = self.encoder(tokens, lengths)
        pooled, weights = self.pooling(outputs, lengths, self.encoder.final_features(final))
        return self.output(self.dropout(pooled)), outputs, weights

    @staticmethod
    def inputs(batch: TextBatch) -> tuple[Tensor, Tensor]:
        """The arguments of ``forward`` for a training batch (the model contract)."""
        return batch.ids, batch.lengths

    def loss(self, logits: Tensor, batch: TextBatch) -> Tensor:
        """Mean cross-entropy of ``forward``'s logits against the batch's ``labels (B,)``."""
        return F.cross_entropy(logits, batch.labels)

    @torch.no_grad()
    def prefix_probabilities(self, tokens: Tensor) -> Tensor:
        """What the model would say if the sentence ended after each token.

        ``tokens (T,)`` for one sentence; returns ``(T, C)`` probabilities, row t for the
        prefix ``tokens[: t + 1]`` — the tutorial's O1 … On for a unidirectional model.
        """
        time = tokens.size(0)
        batch = tokens.unsqueeze(0).expand(time, time)  # every prefix, padded to T
        lengths = torch.arange(1, time + 1)
        return self(batch, lengths).softmax(dim=-1)
