"""`CharFeatures`: a character Bi-LSTM per word, the features that let a tagger handle names it
has never seen (Lample et al. 2016, §4.1: a word's representation is its embedding
concatenated with the final states of a Bi-LSTM over its characters).

Legend: B batch, T words per sentence, W characters per word, N words with characters,
E character embedding, H hidden per direction, C = 2*H features.
"""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn import LSTM


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
