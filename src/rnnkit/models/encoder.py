"""`RecurrentEncoder`: token ids → embeddings → a stack of rnnkit recurrent layers.

Shared by every task model (classifier, tagger, language model, seq2seq).
Legend: B batch, T time, V vocabulary, E embedding, H hidden per direction, D directions,
L layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn import RNNState, get_layer_class
from rnnkit.nn.dropout import (
    Regularisation,
    check_probabilities,
    embedding_row_dropout,
    sequence_dropout,
)
from rnnkit.nn.layer_norm import get_layer_norm_step
from rnnkit.nn.layers import check_backend, check_loop_only

# The encoder's probability-valued keys, each checked to lie in [0, 1) when a config is built.
ENCODER_PROBABILITIES = (
    "dropout",
    "embedding_dropout",
    "word_dropout",
    "embedding_row_dropout",
    "weight_drop",
    "zoneout",
)


@dataclass(frozen=True)
class EncoderConfig:
    vocab_size: int = 0  # V, set from the vocabulary when a task builds the model
    embedding_dim: int = 128  # E
    cell: str = "lstm"  # "lstm", "gru" or "rnn" (tanh)
    hidden_size: int = 256  # H, per direction
    num_layers: int = 1  # L
    bidirectional: bool = True  # D = 2: read each sequence both ways
    dropout: float = 0.0  # between stacked recurrent layers
    embedding_dropout: float = 0.0  # on the embeddings, before the first layer
    # Training only: each real token is read as <unk> with this probability, so the model
    # learns what to do with words it never saw (word dropout; unk_id is the Vocab's 1).
    word_dropout: float = 0.0
    unk_id: int = 1  # the <unk> token id that word_dropout reads a token as
    pad_id: int = 0  # the padding token id; its embedding is kept at zero
    backend: str = "auto"  # "auto", "fused" or "loop" (see rnnkit.nn.layers)
    # Regularisers (docs/training.md, "Regularisation"); all off by default.
    # One mask per sequence for every time step (Gal & Ghahramani 2016) in embedding_dropout,
    # the between-layer dropout and the tagger's output dropout; fused kernels kept.
    locked_dropout: bool = False
    weight_drop: float = 0.0  # DropConnect on every W_hh (Merity et al. 2017); fused kernels kept
    embedding_row_dropout: float = 0.0  # whole word types dropped per forward (Merity et al. 2017)
    zoneout: float = 0.0  # units keep their previous h (and c) w.p. p (Krueger et al. 2017); loop
    layer_norm: bool = False  # layer-normalised LSTM/GRU cells (Ba et al. 2016); loop

    def __post_init__(self) -> None:
        get_layer_class(self.cell)  # unknown names fail here, before any data is read
        check_backend(self.backend)
        check_probabilities(self, ENCODER_PROBABILITIES)
        if self.layer_norm:
            get_layer_norm_step(self.cell)  # a ConfigError for a cell without one
        check_loop_only(self.backend, self.zoneout, self.layer_norm)

    @property
    def regularisation(self) -> Regularisation:
        """The recurrent layers' share of the regularisers."""
        return Regularisation(self.locked_dropout, self.weight_drop, self.zoneout)


class RecurrentEncoder(nn.Module):
    """Embeds token ids and runs them through recurrent layers.

    ``extra_features`` (X) per-token features — e.g. a word's character features — are
    concatenated to the embeddings before the first layer, whose input size is then E + X.

    Shape:
        tokens: (B, T) long; lengths: (B,) or None; extra: (B, T, X), required when
        ``extra_features > 0``.
        Returns ``outputs: (B, T, D*H)`` (zero past each length) and the final ``RNNState``
        with ``h: (L*D, B, H)``.
    """

    def __init__(self, config: EncoderConfig, extra_features: int = 0) -> None:
        super().__init__()
        if config.vocab_size < 1:
            raise ConfigError(f"vocab_size: expected a positive integer, got {config.vocab_size}")
        if extra_features < 0:
            raise ConfigError(f"extra_features: expected >= 0, got {extra_features}")
        self.config = config
        self.extra_features = extra_features
        self.embedding = nn.Embedding(
            config.vocab_size, config.embedding_dim, padding_idx=config.pad_id
        )
        self.embedding_dropout = sequence_dropout(config.embedding_dropout, config.locked_dropout)
        self.rnn = get_layer_class(config.cell)(
            config.embedding_dim + extra_features,
            config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            backend=config.backend,
            regularisation=config.regularisation,
            layer_norm=config.layer_norm,
        )

    @property
    def output_size(self) -> int:
        """D*H, the feature size of ``outputs``."""
        return self.config.hidden_size * (2 if self.config.bidirectional else 1)

    def forward(
        self, tokens: Tensor, lengths: Tensor | None = None, extra: Tensor | None = None
    ) -> tuple[Tensor, RNNState]:
        if self.training and self.config.word_dropout > 0:
            dropped = torch.rand(tokens.shape, device=tokens.device) < self.config.word_dropout
            tokens = tokens.masked_fill(
                dropped & (tokens != self.config.pad_id), self.config.unk_id
            )
        embedded = embedding_row_dropout(
            self.embedding(tokens),
            tokens,
            self.config.vocab_size,
            self.config.embedding_row_dropout,
            self.training,
        )  # (B, T, E)
        if self.extra_features:
            expected = (*tokens.shape, self.extra_features)
            if extra is None or tuple(extra.shape) != expected:
                received = None if extra is None else tuple(extra.shape)
                raise ShapeError(f"extra: expected shape {expected} (B, T, X), got {received}")
            embedded = torch.cat([embedded, extra], dim=-1)  # (B, T, E + X)
        elif extra is not None:
            raise ShapeError(
                f"extra: this encoder was built with extra_features=0, got a tensor of shape "
                f"{tuple(extra.shape)}"
            )
        # Dropout on the whole word representation, as Lample et al. (2016) do.
        return self.rnn(self.embedding_dropout(embedded), lengths=lengths)

    def final_features(self, final: RNNState) -> Tensor:
        """The top layer's final hidden states, both directions concatenated: (B, D*H).

        Note: taken from the returned state, i.e. at each sequence's true length; for the
        reverse direction that is its state after reading the first token.
        """
        directions = 2 if self.config.bidirectional else 1
        top = final.h[-directions:]  # (D, B, H)
        return top.transpose(0, 1).reshape(top.size(1), -1)
