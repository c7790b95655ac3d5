"""`LanguageModel`: the 1→N shape — one input (a category, a vector, or nothing) unrolled into text.

A next-token model over rnnkit's recurrent layers, optionally conditioned on one input per
sequence: a category id (embedded) or a fixed vector given by the caller. The condition can set
the initial hidden state (``"initial"``), be concatenated to every step's input (``"input"``), or
both. Unconditioned, it is a plain language model that continues a prompt.

Legend: B batch, T time, V vocabulary, E embedding, H hidden, L layers, K condition features.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn import RNNState, get_layer_class
from rnnkit.nn.dropout import check_probabilities
from rnnkit.nn.layers import check_backend

CONDITION_MODES = ("initial", "input", "both")


@dataclass(frozen=True)
class LanguageModelConfig:
    vocab_size: int = 0  # V, set from the vocabulary when a task builds the model
    embedding_dim: int = 64  # E
    cell: str = "lstm"  # "lstm", "gru" or "rnn" (tanh)
    hidden_size: int = 256  # H
    num_layers: int = 1  # L
    dropout: float = 0.0  # between stacked recurrent layers
    embedding_dropout: float = 0.0  # on the token embeddings
    output_dropout: float = 0.0  # on the top layer's outputs, before the output layer
    tie_embeddings: bool = False  # share the embedding matrix with the output layer (needs E == H)
    pad_id: int = 0  # the padding token id; its embedding is kept at zero
    num_conditions: int = 0  # categories to condition on (0: none); exclusive with condition_size
    condition_size: int = 0  # K of a caller-given condition vector (0: none)
    condition_dim: int = 32  # K of the category embedding
    condition_mode: str = "both"  # "initial", "input" or "both": where the condition enters
    backend: str = "auto"  # "auto", "fused" or "loop" (see rnnkit.nn.layers)

    def __post_init__(self) -> None:
        get_layer_class(self.cell)
        check_backend(self.backend)
        check_probabilities(self, ("dropout", "embedding_dropout", "output_dropout"))
        if self.condition_mode not in CONDITION_MODES:
            raise ConfigError(
                f"condition_mode: expected one of {list(CONDITION_MODES)}, "
                f"got {self.condition_mode!r}"
            )
        if self.num_conditions and self.condition_size:
            raise ConfigError(
                "num_conditions and condition_size are exclusive (a category or a vector), got "
                f"{self.num_conditions} and {self.condition_size}"
            )
        if self.tie_embeddings and self.embedding_dim != self.hidden_size:
            raise ConfigError(
                "tie_embeddings needs embedding_dim == hidden_size, got "
                f"{self.embedding_dim} and {self.hidden_size}"
            )

    @property
    def condition_features(self) -> int:
        """K: features of the condition (0 when unconditioned)."""
        if self.num_conditions:
            return self.condition_dim
        return self.condition_size

    @property
    def condition_in_input(self) -> bool:
        """The condition features are concatenated to every step's input."""
        return bool(self.condition_features) and self.condition_mode in ("input", "both")

    @property
    def condition_in_initial(self) -> bool:
        """The condition sets the initial hidden state."""
        return bool(self.condition_features) and self.condition_mode in ("initial", "both")


class LanguageModelState(NamedTuple):
    """The language model's `DecoderState`: the recurrent state and the condition features."""

    rnn: RNNState  # h: (L, B, H)
    condition: Tensor | None  # (B, K) features concatenated to each input, or None

    def select(self, index: Tensor) -> LanguageModelState:
        """Keeps (and reorders, repeats) the batch rows ``index`` (N',): beam search's reorder."""
        rnn = self.rnn.map(lambda t: t.index_select(1, index))
        condition = None if self.condition is None else self.condition.index_select(0, index)
        return LanguageModelState(rnn, condition)


class LanguageModel(nn.Module):
    """Embedding (+ condition) → unidirectional recurrent stack → dropout → linear over V.

    Shape:
        tokens: (B, T) long; condition: (B,) long category ids, (B, K) float vectors, or None;
        state: ``RNNState`` with ``h: (L, B, H)`` to continue from, or None to start (from the
        condition when it sets the initial state); lengths: (B,) or None.
        Returns logits (B, T, V) and the ``RNNState`` after each sequence's last valid step.
    """

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        if config.vocab_size < 1:
            raise ConfigError(f"vocab_size: expected a positive integer, got {config.vocab_size}")
        self.config = config
        features = config.condition_features
        self.embedding = nn.Embedding(
            config.vocab_size, config.embedding_dim, padding_idx=config.pad_id
        )
        self.condition_embedding = (
            nn.Embedding(config.num_conditions, config.condition_dim)
            if config.num_conditions
            else None
        )
        self.input_features = features if config.condition_in_input else 0
        # h_0 = tanh(W c + b) for every layer; the LSTM's c_0 stays zero
        self.initial = (
            nn.Linear(features, config.num_layers * config.hidden_size)
            if config.condition_in_initial
            else None
        )
        self.embedding_dropout = nn.Dropout(config.embedding_dropout)
        self.rnn = get_layer_class(config.cell)(
            config.embedding_dim + self.input_features,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            backend=config.backend,
        )
        self.output_dropout = nn.Dropout(config.output_dropout)
        self.output = nn.Linear(config.hidden_size, config.vocab_size)
        if config.tie_embeddings:  # Press & Wolf (2017): one matrix for input and output
            self.output.weight = self.embedding.weight

    def forward(
        self,
        tokens: Tensor,
        condition: Tensor | None = None,
        state: RNNState | None = None,
        lengths: Tensor | None = None,
    ) -> tuple[Tensor, RNNState]:
        if tokens.dim() != 2:
            raise ShapeError(f"tokens: expected shape (B, T), got {tuple(tokens.shape)}")
        features = self.condition_features(condition, tokens.size(0))
        if state is None:
            state = self.initial_rnn_state(features, tokens.size(0), tokens.device)
        embedded = self.embedding_dropout(self.embedding(tokens))  # (B, T, E)
        if self.input_features:
            steps = features.unsqueeze(1).expand(-1, tokens.size(1), -1)  # (B, T, K)
            embedded = torch.cat([embedded, steps], dim=-1)  # (B, T, E + K)
        outputs, final = self.rnn(embedded, state, lengths=lengths)  # (B, T, H)
        return self.output(self.output_dropout(outputs)), final

    @staticmethod
    def inputs(batch: Any) -> tuple[Tensor, Tensor | None]:
        """The arguments of ``forward`` for a training batch (the model contract): an LMBatch's
        ``inputs (B, T)`` and ``conditions`` (or None)."""
        return batch.inputs, batch.conditions

    def loss(self, outputs: tuple[Tensor, RNNState], batch: Any) -> Tensor:
        """Mean next-token cross-entropy per predicted token of ``forward``'s logits against the
        batch's ``targets (B, T)`` (padding positions hold ``pad_id``)."""
        total = next_token_nll(outputs[0], batch.targets, self.config.pad_id)
        return total / (batch.targets != self.config.pad_id).sum().clamp(min=1)

    def condition_features(self, condition: Tensor | None, batch: int) -> Tensor | None:
        """The condition as features ``(B, K)``, checked against the configuration."""
        if not check_condition(self.config, condition, batch):
            return None
        if self.condition_embedding is not None:
            return self.condition_embedding(condition)
        return condition.float()

    def initial_rnn_state(
        self, features: Tensor | None, batch: int, device: torch.device
    ) -> RNNState | None:
        """``h_0`` from the condition when it sets the initial state; else None (zeros)."""
        if self.initial is None:
            return None
        h = torch.tanh(self.initial(features))  # (B, L*H)
        h = h.view(batch, self.config.num_layers, -1).transpose(0, 1).contiguous()  # (L, B, H)
        c = torch.zeros_like(h) if self.config.cell == "lstm" else None
        return RNNState(h, c)

    def start_state(self, condition: Tensor | None, batch: int) -> LanguageModelState:
        """The decoding state before the first token (zeros, or set from the condition)."""
        features = self.condition_features(condition, batch)
        device = self.embedding.weight.device
        rnn = self.initial_rnn_state(features, batch, device)
        if rnn is None:
            layers, hidden = self.config.num_layers, self.config.hidden_size
            h = torch.zeros(layers, batch, hidden, device=device)
            rnn = RNNState(h, torch.zeros_like(h) if self.config.cell == "lstm" else None)
        return LanguageModelState(rnn, features if self.input_features else None)

    def feed(self, tokens: Tensor, state: LanguageModelState) -> tuple[Tensor, LanguageModelState]:
        """Runs a prompt ``tokens (B, T)`` from ``state``: logits of every step ``(B, T, V)``."""
        embedded = self.embedding(tokens)
        if state.condition is not None:
            steps = state.condition.unsqueeze(1).expand(-1, tokens.size(1), -1)
            embedded = torch.cat([embedded, steps], dim=-1)
        outputs, rnn = self.rnn(embedded, state.rnn)
        return self.output(outputs), LanguageModelState(rnn, state.condition)

    def step(self, tokens: Tensor, state: LanguageModelState) -> tuple[Tensor, LanguageModelState]:
        """One decoding step: ``tokens (N,)`` → ``log_probs (N, V)`` and the next state."""
        return step_log_probs(self.feed, tokens, state)


def check_condition(config: LanguageModelConfig, condition: Tensor | None, batch: int) -> bool:
    """Whether the model takes a condition; raises `ShapeError` for a ``condition`` that does
    not fit: ``(B,)`` category ids, ``(B, K)`` vectors, or None for an unconditioned model."""
    if not config.condition_features:
        if condition is not None:
            raise ShapeError("condition: this model is unconditioned, got a condition tensor")
        return False
    if config.num_conditions:
        expected, ok = f"({batch},) category ids", condition is not None
        ok = ok and condition.shape == (batch,) and not condition.is_floating_point()
    else:
        expected, ok = f"({batch}, {config.condition_size}) vectors", condition is not None
        ok = ok and condition.shape == (batch, config.condition_size)
    if not ok:
        received = None if condition is None else tuple(condition.shape)
        raise ShapeError(f"condition: expected {expected}, got {received}")
    return True


def step_log_probs(
    feed: Callable[[Tensor, LanguageModelState], tuple[Tensor, LanguageModelState]],
    tokens: Tensor,
    state: LanguageModelState,
) -> tuple[Tensor, LanguageModelState]:
    """A decoding step from a ``feed`` function: ``tokens (N,)`` → ``log_probs (N, V)``."""
    logits, state = feed(tokens.unsqueeze(1), state)
    return F.log_softmax(logits[:, -1], dim=-1), state


def next_token_nll(logits: Tensor, targets: Tensor, pad_id: int) -> Tensor:
    """Summed cross-entropy of ``logits (B, T, V)`` against ``targets (B, T)``, pad ignored."""
    return F.cross_entropy(
        logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=pad_id,
        reduction="sum",
    )  # fmt: skip
