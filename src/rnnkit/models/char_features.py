"""`CharFeatures`: a character Bi-LSTM per word, the features that let a tagger handle names it
has never seen (Lample et al. 2016, §4.1: a word's representation is its embedding
concatenated with the final states of a Bi-LSTM over its characters).

Legend: B batch, T words per sentence, W characters per word, N words with characters,
E character embedding, H hidden per direction, C = 2*H features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import Tensor, nn

from rnnkit.data.batching import WordBatch
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.encoder import RecurrentEncoder
from rnnkit.nn import LSTM
from rnnkit.nn.state import RNNState


@dataclass(frozen=True)
class CharFeaturesConfig:
    """The character-feature settings a word-level model config adds to the encoder's."""

    # A character Bi-LSTM per word, concatenated to its embedding. "auto" is for task configs:
    # the task turns it on when the training tokens are words, not single characters (see
    # rnnkit.tasks.common.resolve_char_features); a model needs true or false.
    char_features: bool | Literal["auto"] = False
    char_vocab_size: int = 0  # characters, padding (id 0) included; set by the task
    char_embedding_dim: int = 25  # Lample et al. (2016) use 25
    char_hidden_size: int = 25  # per direction, so 2 * 25 features per word (Lample et al.)


class CharFeatures(nn.Module):
    """Characters of each word → embeddings → Bi-LSTM → both directions' final states.

    Args:
        vocab_size: characters in the character vocabulary (padding included).
        embedding_dim: E.
        hidden_size: H per direction; the output has C = 2*H features.
        pad_id: the padding character id (its embedding is kept at zero).
        backend: the LSTM backend (see ``rnnkit.nn.layers``).

    Shape:
        char_ids: (B, T, W) long, padded with anything past each word's length.
        char_lengths: (B, T) long, the characters of each word; 0 for padding words.
        Returns ``(B, T, C)``: ``[h_fwd after the last character; h_bwd after the first]``,
        zero for words of length 0.

    Note:
        Only the N words with characters go through the LSTM (one batch of N words, cut to
        the longest of them), so padding words cost nothing and never change a real word.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 25,
        hidden_size: int = 25,
        pad_id: int = 0,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        if vocab_size < 2:
            raise ConfigError(f"char_vocab_size: expected at least 2, got {vocab_size}")
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_id)
        self.rnn = LSTM(embedding_dim, hidden_size, bidirectional=True, backend=backend)

    @property
    def output_size(self) -> int:
        """C = 2*H."""
        return 2 * self.rnn.hidden_size

    def forward(self, char_ids: Tensor, char_lengths: Tensor) -> Tensor:
        self._check(char_ids, char_lengths)
        batch, time, width = char_ids.shape
        lengths = char_lengths.reshape(-1).to(char_ids.device)  # (B*T,)
        rows = (lengths > 0).nonzero().squeeze(1)  # (N,) words that have characters
        features = self.embedding.weight.new_zeros(batch * time, self.output_size)
        if rows.numel():
            lengths = lengths[rows]
            words = char_ids.reshape(-1, width)[rows, : int(lengths.max())]  # (N, W')
            _, final = self.rnn(self.embedding(words), lengths=lengths)
            top = final.h.transpose(0, 1).reshape(rows.numel(), -1)  # (2, N, H) → (N, C)
            features = features.index_copy(0, rows, top)
        return features.view(batch, time, self.output_size)

    @staticmethod
    def _check(char_ids: Tensor, char_lengths: Tensor) -> None:
        if not isinstance(char_ids, Tensor) or char_ids.dim() != 3:
            shape = tuple(char_ids.shape) if isinstance(char_ids, Tensor) else char_ids
            raise ShapeError(f"char_ids: expected shape (B, T, W), got {shape}")
        expected = tuple(char_ids.shape[:2])
        if not isinstance(char_lengths, Tensor) or tuple(char_lengths.shape) != expected:
            shape = tuple(char_lengths.shape) if isinstance(char_lengths, Tensor) else char_lengths
            raise ShapeError(f"char_lengths: expected shape {expected} (B, T), got {shape}")
        if char_lengths.numel() and (
            int(char_lengths.min()) < 0 or int(char_lengths.max()) > char_ids.size(2)
        ):
            raise ShapeError(
                f"char_lengths: expected values in [0, {char_ids.size(2)}] (W), got "
                f"{int(char_lengths.min())}..{int(char_lengths.max())}"
            )


def build_char_features(config: CharFeaturesConfig, backend: str) -> CharFeatures | None:
    """The `CharFeatures` a model config asks for, or None when ``char_features`` is false."""
    if config.char_features == "auto":
        raise ConfigError(
            "char_features: 'auto' is decided by the task from the training data; "
            "a model needs true or false"
        )
    if not config.char_features:
        return None
    return CharFeatures(
        config.char_vocab_size, config.char_embedding_dim, config.char_hidden_size, backend=backend
    )


def encode_words(
    encoder: RecurrentEncoder, chars: CharFeatures | None, words: WordBatch
) -> tuple[Tensor, RNNState]:
    """Encoder ``outputs (B, T, F)`` and final state for ``words``, each word's embedding
    joined by its character features; the batch's ``char_ids (B, T, W)`` and ``char_lengths
    (B, T)`` are required iff the model has ``chars``."""
    if chars is None:
        if words.char_ids is not None or words.char_lengths is not None:
            raise ShapeError(
                "char_ids: this model has no character features (char_features=False), "
                "got character input"
            )
        return encoder(words.ids, words.lengths)
    if words.char_ids is None or words.char_lengths is None:
        missing = "char_ids" if words.char_ids is None else "char_lengths"
        raise ShapeError(
            f"{missing}: expected a tensor (the model has character features), got None"
        )
    extra = chars(words.char_ids, words.char_lengths)
    return encoder(words.ids, words.lengths, extra=extra)
