"""Batching: padding to ``LongTensor (B, T)`` + ``lengths (B,)``, and a length-bucketing sampler.

Shapes: B batch, T longest sequence in the batch (source S for translation).

Typical use::

    data = encode_classification(examples, tokenizer, vocab, labels)
    sampler = BucketBatchSampler(data.lengths, batch_size=64, seed=0)
    loader = DataLoader(data, batch_sampler=sampler, collate_fn=data.collate)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for batch in loader:  # TextBatch(ids (B, T), lengths (B,), labels (B,))
            ...
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Sampler

from rnnkit.errors import ConfigError

# Tag positions past a sentence's end; `F.cross_entropy` ignores -100 by default.
TAG_PAD_ID = -100


class WordBatch(NamedTuple):
    """What a word-level model reads: ids (B, T) padded with the vocabulary's pad id, their
    true lengths (B,), and, for a model with character features, each word's characters:
    char_ids (B, T, W) padded with 0 and char_lengths (B, T) (0 for padding words)."""

    ids: torch.Tensor
    lengths: torch.Tensor
    char_ids: torch.Tensor | None = None
    char_lengths: torch.Tensor | None = None


class TextBatch(NamedTuple):
    """ids (B, T) padded with the vocabulary's pad id, lengths (B,), labels (B,), and the
    characters of each word when encoded with a character vocabulary: char_ids (B, T, W)
    padded with 0, char_lengths (B, T) (0 for padding words)."""

    # Alike `TaggedBatch` by design: a NamedTuple (built and unpacked by position) cannot share
    # fields or methods with another through a base class; the two differ in their gold fields.
    ids: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor
    char_ids: torch.Tensor | None = None
    char_lengths: torch.Tensor | None = None

    @property
    def words(self) -> WordBatch:
        """The model's input: words (and characters), without the labels."""
        return WordBatch(self.ids, self.lengths, self.char_ids, self.char_lengths)


class TaggedBatch(NamedTuple):
    """ids (B, T), lengths (B,), tags (B, T) padded with -100, intents (B,) or None, and the
    characters of each word when encoded with a character vocabulary: char_ids (B, T, W)
    padded with 0, char_lengths (B, T) (0 for padding words)."""

    # Alike `TextBatch` by design: a NamedTuple cannot share fields or methods through a base
    # class (see there).
    ids: torch.Tensor
    lengths: torch.Tensor
    tags: torch.Tensor
    intents: torch.Tensor | None
    char_ids: torch.Tensor | None = None
    char_lengths: torch.Tensor | None = None

    @property
    def words(self) -> WordBatch:
        """The model's input: words and characters, without the gold tags and intents."""
        return WordBatch(self.ids, self.lengths, self.char_ids, self.char_lengths)


class ParallelBatch(NamedTuple):
    """source (B, S), source_lengths (B,), target (B, T) = ``<bos> … <eos>``, target_lengths."""

    source: torch.Tensor
    source_lengths: torch.Tensor
    target: torch.Tensor
    target_lengths: torch.Tensor


def pad_ids(
    sequences: Sequence[Sequence[int]], pad_id: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pads id lists to the longest: returns ``(ids (B, T) int64, lengths (B,) int64)``."""
    lengths = [len(s) for s in sequences]
    longest = max(lengths, default=0)
    rows = [list(s) + [pad_id] * (longest - n) for s, n in zip(sequences, lengths, strict=True)]
    ids = torch.tensor(rows, dtype=torch.long).reshape(len(rows), longest)
    return ids, torch.tensor(lengths, dtype=torch.long)


def collate_classification(
    batch: Sequence[tuple[list[int], int] | tuple[list[int], int, list[list[int]]]],
    pad_id: int = 0,
) -> TextBatch:
    """``[(ids, label_id), ...]`` or ``[(ids, label_id, char ids per word), ...]`` →
    `TextBatch` (characters padded with 0)."""
    ids, lengths = pad_ids([item[0] for item in batch], pad_id)
    labels = torch.tensor([item[1] for item in batch], dtype=torch.long)
    if not batch or len(batch[0]) < 3:
        return TextBatch(ids, lengths, labels)
    return TextBatch(ids, lengths, labels, *pad_chars([item[2] for item in batch]))


def pad_chars(
    sentences: Sequence[Sequence[Sequence[int]]], pad_id: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Character ids of each word of each sentence → ``(char_ids (B, T, W), char_lengths
    (B, T))``, padded with `pad_id` to the longest sentence T and longest word W."""
    time = max((len(words) for words in sentences), default=0)
    width = max((len(word) for words in sentences for word in words), default=0)
    empty = [pad_id] * width
    rows = [
        [list(word) + empty[len(word) :] for word in words] + [empty] * (time - len(words))
        for words in sentences
    ]
    lengths = [[len(word) for word in words] + [0] * (time - len(words)) for words in sentences]
    char_ids = torch.tensor(rows, dtype=torch.long).reshape(len(sentences), time, width)
    return char_ids, torch.tensor(lengths, dtype=torch.long).reshape(len(sentences), time)


def pad_words(
    encoded: Sequence[tuple[Sequence[int], Sequence[Sequence[int]] | None]], pad_id: int = 0
) -> WordBatch:
    """``[(word ids, char ids per word or None), ...]`` → a `WordBatch`: ``ids (B, T)``,
    ``lengths (B,)``, and ``char_ids (B, T, W), char_lengths (B, T)`` when every item has
    characters: a word-level model's input."""
    ids, lengths = pad_ids([item[0] for item in encoded], pad_id)
    if not encoded or any(item[1] is None for item in encoded):
        return WordBatch(ids, lengths)
    return WordBatch(ids, lengths, *pad_chars([item[1] for item in encoded]))


def collate_tagging(
    batch: Sequence[tuple[list[int], list[int], int | None, list[list[int]] | None]],
    pad_id: int = 0,
) -> TaggedBatch:
    """``[(ids, tag_ids, intent_id or None, char ids per word or None), ...]`` → `TaggedBatch`
    (tags padded with -100; characters padded with 0 when every item has them)."""
    ids, lengths = pad_ids([item[0] for item in batch], pad_id)
    tags, _ = pad_ids([item[1] for item in batch], TAG_PAD_ID)
    has_intents = all(item[2] is not None for item in batch)
    intents = torch.tensor([item[2] for item in batch], dtype=torch.long) if has_intents else None
    if not all(item[3] is not None for item in batch):
        return TaggedBatch(ids, lengths, tags, intents)
    return TaggedBatch(ids, lengths, tags, intents, *pad_chars([item[3] for item in batch]))


def collate_parallel(
    batch: Sequence[tuple[list[int], list[int]]], pad_id: int = 0
) -> ParallelBatch:
    """``[(source_ids, target_ids), ...]`` → `ParallelBatch`."""
    source, source_lengths = pad_ids([item[0] for item in batch], pad_id)
    target, target_lengths = pad_ids([item[1] for item in batch], pad_id)
    return ParallelBatch(source, source_lengths, target, target_lengths)


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of examples of equal or near-equal length, for ``DataLoader(batch_sampler=...)``.

    Each epoch: the indices are shuffled (seeded by ``(seed, epoch)``), cut into pools of
    ``pool_batches * batch_size`` examples (default: one pool, all data), each pool stably sorted
    by length and cut into batches, and the batch order shuffled. Sorting after shuffling keeps
    which examples share a length bucket random while padding stays minimal; the fused LSTM is
    fastest on uniform lengths. The same seed and epoch always give the same batches.

    Distributed: every rank builds the same batch list and takes batches ``rank::num_replicas``;
    the list is padded by repeating its first batches (or cut, with `drop_last`) so all ranks
    run the same number of steps.

    Args:
        lengths: each example's length (e.g. ``EncodedDataset.lengths``).
        batch_size: examples per batch.
        shuffle: False keeps data order inside equal lengths and batches sorted short → long.
        drop_last: drop the final short batch (and uneven batches across ranks).
        pool_batches: pool size in batches; smaller pools trade padding for randomness.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        num_replicas: int = 1,
        rank: int = 0,
        pool_batches: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ConfigError(f"rank must be in [0, num_replicas={num_replicas}), got {rank}")
        if pool_batches is not None and pool_batches < 1:
            raise ConfigError(f"pool_batches must be at least 1 or None, got {pool_batches}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size, self.shuffle, self.seed, self.drop_last = (
            batch_size,
            shuffle,
            seed,
            drop_last,
        )
        self.num_replicas, self.rank, self.pool_batches = num_replicas, rank, pool_batches
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Selects the epoch's order; call before each epoch (as with `DistributedSampler`)."""
        self.epoch = epoch

    def all_batches(self) -> list[list[int]]:
        """This epoch's batches for all ranks together, before the rank split."""
        rng = np.random.default_rng([self.seed, self.epoch])
        count = len(self.lengths)
        order = rng.permutation(count) if self.shuffle else np.arange(count)
        pool = count if self.pool_batches is None else self.pool_batches * self.batch_size
        batches: list[list[int]] = []
        for start in range(0, count, max(pool, 1)):
            members = order[start : start + pool]
            members = members[np.argsort(self.lengths[members], kind="stable")]
            for first in range(0, len(members), self.batch_size):
                batch = members[first : first + self.batch_size]
                if len(batch) == self.batch_size or not self.drop_last:
                    batches.append(batch.tolist())
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return self._even_across_ranks(batches)

    def _even_across_ranks(self, batches: list[list[int]]) -> list[list[int]]:
        extra = len(batches) % self.num_replicas
        if extra == 0 or not batches:
            return batches
        if self.drop_last:
            return batches[: len(batches) - extra]
        missing = self.num_replicas - extra
        return batches + [batches[i % len(batches)] for i in range(missing)]

    def __iter__(self) -> Iterator[list[int]]:
        yield from self.all_batches()[self.rank :: self.num_replicas]

    def __len__(self) -> int:
        # Pools hold whole batches, so only the last pool can end with a short batch.
        full, rest = divmod(len(self.lengths), self.batch_size)
        total = full + (1 if rest and not self.drop_last else 0)
        if self.drop_last:
            return total // self.num_replicas
        return -(-total // self.num_replicas)


def padding_fraction(batches: Sequence[Sequence[int]], lengths: Sequence[int]) -> float:
    """Padded positions / all positions over `batches` (each padded to its longest member)."""
    lengths = np.asarray(lengths)
    padded = real = 0
    for batch in batches:
        member_lengths = lengths[list(batch)]
        padded += int(member_lengths.max()) * len(batch)
        real += int(member_lengths.sum())
    return (padded - real) / padded if padded else 0.0
