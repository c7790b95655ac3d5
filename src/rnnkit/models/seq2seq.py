"""`Seq2Seq`: the N→M shape — a recurrent encoder, a bridge, and an attentional decoder.

Legend: B batch, S source length, T target length, V target vocabulary, E embedding,
H encoder hidden size per direction, D encoder directions, M = D*H encoder output size,
H' decoder hidden size, L' decoder layers.

The decoder follows Luong et al. (2015), "global attention", with the score function chosen
from `rnnkit.models.attention` (Bahdanau's additive score or Luong's dot/general ones):

    h_t = RNN([E y_{t-1}; h̃_{t-1}], h_{t-1})     # h̃_{t-1} only with input feeding (§3.3)
    c_t, a_t = attention(h_t, encoder outputs)     # a_t: (S,) weights, 0 on padding
    h̃_t = tanh(W_c [c_t; h_t])                     # the attentional hidden state, eq. (5)
    p(y_t | y_<t, x) = softmax(W_o h̃_t)            # eq. (6)

Without input feeding and with full teacher forcing, every decoder step sees only gold
tokens, so the decoder RNN runs over the whole target in one fused call and attention is one
batched product; otherwise the decoder steps one token at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.data.batching import ParallelBatch
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.attention import build_attention, get_attention
from rnnkit.models.bridge import BRIDGES, Bridge
from rnnkit.models.decoding import Hypothesis, beam_search, greedy_decode
from rnnkit.models.encoder import EncoderConfig, RecurrentEncoder
from rnnkit.nn import RNNState, get_layer_class
from rnnkit.nn.dropout import check_fraction, check_probabilities
from rnnkit.nn.layers import check_backend
from rnnkit.nn.masking import valid_mask


@dataclass(frozen=True)
class DecoderConfig:
    vocab_size: int = 0  # V, set from the target vocabulary when a task builds the model
    embedding_dim: int = 128  # E of the target embeddings
    cell: str = "lstm"  # "lstm", "gru" or "rnn"
    hidden_size: int = 0  # H'; 0 means the encoder's output size D*H (what "dot" needs)
    num_layers: int = 1  # L'
    dropout: float = 0.0  # between stacked decoder layers
    embedding_dropout: float = 0.0  # on the target embeddings
    output_dropout: float = 0.2  # on the attentional state h̃_t, before the output layer
    attention: str = "additive"  # "additive" (Bahdanau), "dot" or "general" (Luong)
    attention_size: int = 256  # A, the additive attention's hidden size
    input_feeding: bool = True  # feed h̃_{t-1} into step t (Luong et al. 2015, §3.3)
    backend: str = "auto"  # recurrent backend, as for the encoder

    def __post_init__(self) -> None:
        get_layer_class(self.cell)
        get_attention(self.attention)
        check_backend(self.backend)
        check_probabilities(self, ("dropout", "embedding_dropout", "output_dropout"))
        if self.hidden_size < 0:
            raise ConfigError(f"hidden_size: expected >= 0, got {self.hidden_size}")


@dataclass(frozen=True)
class Seq2SeqConfig:
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    bridge: str = "linear"  # "linear" (learned, tanh) or "zero"
    teacher_forcing: float = 1.0  # probability of feeding the gold token while training
    label_smoothing: float = 0.0  # ε of label-smoothed cross-entropy (Szegedy et al. 2016)
    pad_id: int = 0  # target padding id, ignored by the loss
    bos_id: int = 2  # the token that starts every target
    eos_id: int = 3  # the token that ends every target
    max_length_ratio: float = 2.0  # decoding stops after ratio * S + offset tokens
    max_length_offset: int = 10  # the offset of that decoding limit

    def __post_init__(self) -> None:
        if self.bridge not in BRIDGES:
            raise ConfigError(f"bridge: expected one of {list(BRIDGES)}, got {self.bridge!r}")
        check_fraction("teacher_forcing", self.teacher_forcing)
        check_fraction("label_smoothing", self.label_smoothing)

    def max_lengths(self, source_lengths: Tensor) -> Tensor:
        """Decoding length limits ``(B,)`` from source lengths ``(B,)``."""
        limits = source_lengths.float() * self.max_length_ratio + self.max_length_offset
        return limits.long().clamp_min(1)


class Seq2SeqState(NamedTuple):
    """The seq2seq `DecoderState`: everything one decoder step needs; every tensor has the batch
    on dim 0 except ``rnn``.

    Shapes: rnn.h (L', B, H'); feed (B, H') the previous h̃ (zeros before the first step);
    memory (B, S, M) encoder outputs; keys (B, S, K) the attention's per-source part;
    mask (B, S) True at real source tokens.
    """

    rnn: RNNState
    feed: Tensor
    memory: Tensor
    keys: Tensor
    mask: Tensor

    def select(self, index: Tensor) -> Seq2SeqState:
        """Keeps (and reorders, repeats) the batch rows ``index`` (N',): beam search's reorder."""
        return Seq2SeqState(
            self.rnn.map(lambda t: t.index_select(1, index)),
            *(t.index_select(0, index) for t in (self.feed, self.memory, self.keys, self.mask)),
        )


class AttentionDecoder(nn.Module):
    """Target embedding → recurrent stack → attention → h̃ → vocabulary logits.

    Shape:
        tokens: (B, T) the decoder inputs (``<bos> y_1 … y_{T-1}``); state: `Seq2SeqState`.
        Returns ``logits: (B, T, V)``, ``weights: (B, T, S)`` and the state after step T.
    """

    def __init__(
        self, config: DecoderConfig, memory_size: int, hidden_size: int, pad_id: int = 0
    ) -> None:
        super().__init__()
        if config.vocab_size < 1:
            raise ConfigError(
                f"decoder.vocab_size: expected a positive integer, got {config.vocab_size}"
            )
        self.config, self.hidden_size = config, hidden_size
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=pad_id)
        self.embedding_dropout = nn.Dropout(config.embedding_dropout)
        feed = hidden_size if config.input_feeding else 0
        self.rnn = get_layer_class(config.cell)(
            config.embedding_dim + feed,
            hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            backend=config.backend,
        )
        self.attention = build_attention(
            config.attention, hidden_size, memory_size, config.attention_size
        )
        self.combine = nn.Linear(memory_size + hidden_size, hidden_size, bias=False)
        self.output_dropout = nn.Dropout(config.output_dropout)
        self.output = nn.Linear(hidden_size, config.vocab_size)

    def forward(self, tokens: Tensor, state: Seq2SeqState) -> tuple[Tensor, Tensor, Seq2SeqState]:
        embedded = self.embedding_dropout(self.embedding(tokens))  # (B, T, E)
        if not self.config.input_feeding:
            return self._run(embedded, state)
        logits, weights = [], []
        for step_input in embedded.unbind(1):
            step_logits, step_weights, state = self._run(step_input.unsqueeze(1), state)
            logits.append(step_logits)
            weights.append(step_weights)
        return torch.cat(logits, 1), torch.cat(weights, 1), state

    def _run(self, embedded: Tensor, state: Seq2SeqState) -> tuple[Tensor, Tensor, Seq2SeqState]:
        """Decoder steps over ``embedded (B, T, E)``; T = 1 when input feeding."""
        if self.config.input_feeding:
            embedded = torch.cat([embedded, state.feed.unsqueeze(1)], dim=-1)  # (B, 1, E + H')
        outputs, rnn_state = self.rnn(embedded, state.rnn)  # (B, T, H')
        context, weights = self.attention(outputs, state.keys, state.memory, state.mask)
        attentional = torch.tanh(self.combine(torch.cat([context, outputs], dim=-1)))  # (B,T,H')
        logits = self.output(self.output_dropout(attentional))  # (B, T, V)
        new_state = state._replace(rnn=rnn_state, feed=attentional[:, -1])
        return logits, weights, new_state


class Seq2SeqDecoding:
    """``generate`` for a model with a `Seq2SeqConfig` ``config``, ``encode(source, lengths)
    -> Seq2SeqState`` and ``decode_step``: `Seq2Seq` and its ONNX Runtime stand-in."""

    @torch.no_grad()
    def generate(
        self,
        source: Tensor,
        source_lengths: Tensor,
        beam_size: int = 1,
        n_best: int = 1,
        length_penalty: float = 1.0,
    ) -> list[list[Hypothesis]]:
        """Translations of a source batch: greedy for ``beam_size=1``, else beam search.

        Each sentence may produce up to ``max_length_ratio * S + max_length_offset`` tokens
        (its own S). Returns, per sentence, up to ``n_best`` hypotheses, best first.
        """
        state = self.encode(source, source_lengths)
        config = self.config
        start = torch.full((source.size(0),), config.bos_id, dtype=torch.long)
        limits = config.max_lengths(source_lengths)
        eos = config.eos_id
        if beam_size == 1 and n_best == 1:
            return [[h] for h in greedy_decode(self.decode_step, state, start, eos, limits)]
        return beam_search(
            self.decode_step, state, start, eos, limits,
            beam_size=beam_size, n_best=n_best, length_penalty=length_penalty,
        )  # fmt: skip


class Seq2Seq(Seq2SeqDecoding, nn.Module):
    """Encoder → bridge → attentional decoder (see the module docstring for the equations).

    Shape:
        source: (B, S) long; source_lengths: (B,) long in [1, S]; target_in: (B, T) long, the
        decoder inputs ``<bos> y_1 … y_{T-1}`` (padded with ``pad_id``).
        Returns ``logits: (B, T, V)``; ``forward_with_attention`` also returns the attention
        weights ``(B, T, S)``.

    Note: while training with ``teacher_forcing < 1`` each step feeds, with probability
    ``1 - teacher_forcing``, the model's own previous prediction instead of the gold token
    (Bengio et al. 2015, "scheduled sampling" at a fixed rate); evaluation always feeds gold.
    """

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = RecurrentEncoder(config.encoder)
        memory_size = self.encoder.output_size
        decoder = config.decoder
        hidden_size = decoder.hidden_size or memory_size
        encoder_layers = config.encoder.num_layers * (2 if config.encoder.bidirectional else 1)
        self.bridge = Bridge(
            config.bridge,
            encoder_layers * config.encoder.hidden_size,
            decoder.cell,
            decoder.num_layers,
            hidden_size,
        )
        self.decoder = AttentionDecoder(decoder, memory_size, hidden_size, config.pad_id)

    def encode(self, source: Tensor, source_lengths: Tensor) -> Seq2SeqState:
        """Runs the encoder and the bridge: the decoder's state before its first step."""
        if source.dim() != 2:
            raise ShapeError(f"source: expected shape (B, S), got {tuple(source.shape)}")
        memory, final = self.encoder(source, source_lengths)  # (B, S, M)
        mask = valid_mask(source_lengths.to(source.device), source.size(1), source.device)
        initial = self.bridge(final)
        feed = memory.new_zeros(source.size(0), self.decoder.hidden_size)
        keys = self.decoder.attention.keys(memory)
        return Seq2SeqState(initial, feed, memory, keys, mask)

    def forward(self, source: Tensor, source_lengths: Tensor, target_in: Tensor) -> Tensor:
        return self.forward_with_attention(source, source_lengths, target_in)[0]

    def forward_with_attention(
        self, source: Tensor, source_lengths: Tensor, target_in: Tensor
    ) -> tuple[Tensor, Tensor]:
        state = self.encode(source, source_lengths)
        if self.training and self.config.teacher_forcing < 1.0:
            return self._scheduled_sampling(target_in, state)
        logits, weights, _ = self.decoder(target_in, state)
        return logits, weights

    def _scheduled_sampling(self, target_in: Tensor, state: Seq2SeqState) -> tuple[Tensor, Tensor]:
        logits, weights = [], []
        tokens = target_in[:, 0]
        for t in range(target_in.size(1)):
            if t > 0:
                own = logits[-1].squeeze(1).argmax(dim=-1)
                gold = torch.rand(tokens.shape, device=tokens.device) < self.config.teacher_forcing
                tokens = torch.where(gold, target_in[:, t], own)
            step_logits, step_weights, state = self.decoder(tokens.unsqueeze(1), state)
            logits.append(step_logits)
            weights.append(step_weights)
        return torch.cat(logits, 1), torch.cat(weights, 1)

    @staticmethod
    def inputs(batch: ParallelBatch) -> tuple[Tensor, Tensor, Tensor]:
        """The arguments of ``forward`` for a training batch (the model contract): the source
        and the decoder inputs ``<bos> y_1 … y_{T-1}``."""
        return batch.source, batch.source_lengths, batch.target[:, :-1]

    def loss(self, logits: Tensor, batch: ParallelBatch) -> Tensor:
        """Mean (label-smoothed) cross-entropy over real target tokens.

        Shape: logits (B, T, V) against the batch's ``y_1 … <eos>``, ``target[:, 1:]`` (B, T)
        padded with ``pad_id``.
        """
        return F.cross_entropy(
            logits.flatten(0, 1),
            batch.target[:, 1:].flatten(),
            ignore_index=self.config.pad_id,
            label_smoothing=self.config.label_smoothing,
        )

    def decode_step(self, tokens: Tensor, state: Seq2SeqState) -> tuple[Tensor, Seq2SeqState]:
        """One decoder step for `rnnkit.models.decoding`: tokens (N,) → log-probs (N, V)."""
        logits, _, state = self.decoder(tokens.unsqueeze(1), state)
        return torch.log_softmax(logits.squeeze(1), dim=-1), state
