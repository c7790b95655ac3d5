"""A tiny synthetic tagging set shared by the tagger and joint-model tests.

Words 1..9 (0 is padding). Word 2 is ``B-X``; word 3 is ``I-X`` right after an X span and
``O`` elsewhere (so the tag depends on context); every other word is ``O``. The intent is 1
when word 7 occurs in the sentence, else 0. Word w is spelt with ``w % 3 + 1`` characters.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from rnnkit.data import TaggedBatch

TAG_NAMES = ["B-X", "I-X", "O"]
B_X, I_X, OUTSIDE = range(3)
VOCAB_SIZE, CHAR_VOCAB_SIZE, NUM_INTENTS = 10, 13, 2


class ToyBatch(NamedTuple):
    tokens: torch.Tensor  # (B, T)
    lengths: torch.Tensor  # (B,)
    tags: torch.Tensor  # (B, T), -100 past each length
    intents: torch.Tensor  # (B,)
    char_ids: torch.Tensor  # (B, T, W)
    char_lengths: torch.Tensor  # (B, T), 0 past each length


def tag_sentence(words: list[int]) -> list[int]:
    tags: list[int] = []
    for word in words:
        if word == 2:
            tags.append(B_X)
        elif word == 3 and tags and tags[-1] in (B_X, I_X):
            tags.append(I_X)
        else:
            tags.append(OUTSIDE)
    return tags


def spell(word: int) -> list[int]:
    return [(word + k) % (CHAR_VOCAB_SIZE - 1) + 1 for k in range(word % 3 + 1)]


def make_batch(size: int = 16, longest: int = 6, seed: int = 0) -> ToyBatch:
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, longest + 1, (size,), generator=generator)
    lengths[0] = longest
    tokens = torch.zeros(size, longest, dtype=torch.long)
    tags = torch.full((size, longest), -100, dtype=torch.long)
    char_ids = torch.zeros(size, longest, 3, dtype=torch.long)
    char_lengths = torch.zeros(size, longest, dtype=torch.long)
    for b, n in enumerate(lengths.tolist()):
        words = torch.randint(1, VOCAB_SIZE, (n,), generator=generator).tolist()
        tokens[b, :n] = torch.tensor(words)
        tags[b, :n] = torch.tensor(tag_sentence(words))
        for t, word in enumerate(words):
            chars = spell(word)
            char_ids[b, t, : len(chars)] = torch.tensor(chars)
            char_lengths[b, t] = len(chars)
    intents = (tokens == 7).any(dim=1).long()
    return ToyBatch(tokens, lengths, tags, intents, char_ids, char_lengths)


def with_garbage_padding(batch: ToyBatch, extra_steps: int = 3, seed: int = 1) -> ToyBatch:
    """The same sentences with more steps, wider words, and random ids wherever a model must
    not look: past each sentence's length (words, tags, characters and character lengths
    there included) and past each word's length."""
    generator = torch.Generator().manual_seed(seed)
    size, time, width = batch.char_ids.shape
    shape = (size, time + extra_steps)
    tokens = torch.randint(0, VOCAB_SIZE, shape, generator=generator)
    tags = torch.randint(0, len(TAG_NAMES), shape, generator=generator)
    char_ids = torch.randint(0, CHAR_VOCAB_SIZE, (*shape, width + 2), generator=generator)
    char_lengths = torch.randint(0, width + 3, shape, generator=generator)
    for b, n in enumerate(batch.lengths.tolist()):
        tokens[b, :n], tags[b, :n] = batch.tokens[b, :n], batch.tags[b, :n]
        char_lengths[b, :n] = batch.char_lengths[b, :n]
        for t in range(n):
            count = int(batch.char_lengths[b, t])
            char_ids[b, t, :count] = batch.char_ids[b, t, :count]
    return ToyBatch(tokens, batch.lengths, tags, batch.intents, char_ids, char_lengths)


def as_tagged(batch: ToyBatch, chars: bool = False) -> TaggedBatch:
    """The toy batch as the tagging models' training batch (with characters iff ``chars``)."""
    extra = (batch.char_ids, batch.char_lengths) if chars else ()
    return TaggedBatch(batch.tokens, batch.lengths, batch.tags, batch.intents, *extra)
