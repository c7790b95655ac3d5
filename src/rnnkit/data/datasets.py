"""Encoding examples into id lists, ready for a `DataLoader` with `BucketBatchSampler`.

Tokenizing and encoding happen once, in the main process, so truncation to ``max_length`` is
counted exactly (``EncodedDataset.truncated``) and `DataLoader` workers only pad.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from torch.utils.data import Dataset

from rnnkit.data.batching import collate_classification, collate_parallel, collate_tagging
from rnnkit.data.examples import ParallelExample, TaggedExample, TextExample
from rnnkit.data.tokenizers import Tokenizer
from rnnkit.data.vocab import LabelVocab, Vocab
from rnnkit.errors import ConfigError


class EncodedDataset(Dataset):
    """Encoded examples: ``items[i]`` is what the matching collate function takes.

    Attributes:
        lengths: each item's (source) length after truncation, for `BucketBatchSampler`.
        truncated: how many examples were cut to ``max_length``.
        collate: the collate function for `DataLoader(collate_fn=...)` (pads with the pad id).
    """

    def __init__(
        self, items: list[tuple], lengths: list[int], truncated: int, collate: Callable[..., Any]
    ) -> None:
        self.items, self.lengths, self.truncated, self.collate = items, lengths, truncated, collate

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple:
        return self.items[index]


def _check_max_length(max_length: int | None) -> None:
    if max_length is not None and max_length < 1:
        raise ConfigError(f"max_length must be at least 1 or None, got {max_length}")


def tokenize_examples(examples: Sequence[TextExample], tokenizer: Tokenizer) -> list[list[str]]:
    """Each example's tokens: the tokenizer's, or its own ``tokens`` when pre-tokenized, each
    prepared as the tokenizer prepares text (normalised, lower-cased as its options say), so
    that training reads given tokens as prediction will read them in raw text."""
    texts = [ex.text for ex in examples if ex.tokens is None]
    fresh = iter(tokenizer.tokenize_batch(texts))
    prepare = tokenizer.prepare
    return [
        [prepare(token) for token in ex.tokens] if ex.tokens is not None else next(fresh)
        for ex in examples
    ]


def encode_classification(
    examples: Sequence[TextExample],
    tokenizer: Tokenizer,
    vocab: Vocab,
    labels: LabelVocab,
    max_length: int | None = None,
    add_bos: bool = False,
    add_eos: bool = False,
    tokens: Sequence[Sequence[str]] | None = None,
    chars: Vocab | None = None,
    max_word_chars: int = 20,
) -> EncodedDataset:
    """Items ``(ids, label_id)``, or ``(ids, label_id, char ids per word)`` with a character
    vocabulary; an unknown label raises a `DataError` at the example's line.

    Args:
        max_length: keep the first `max_length` tokens (before ``<bos>``/``<eos>``).
        tokens: already tokenized examples (e.g. from `tokenize_examples` used to build the vocab).
        chars: a character vocabulary: also encode each word's characters (see `encode_chars`).
    """
    _check_max_length(max_length)
    if chars is not None and (add_bos or add_eos):
        raise ConfigError("chars: character features need one id per token, without <bos>/<eos>")
    token_lists = tokenize_examples(examples, tokenizer) if tokens is None else tokens
    items, lengths, truncated = [], [], 0
    encode = vocab.encode
    for ex, toks in zip(examples, token_lists, strict=True):
        if max_length is not None and len(toks) > max_length:
            toks, truncated = toks[:max_length], truncated + 1
        ids = encode(toks, add_bos, add_eos)
        label = labels.encode(ex.label, ex.path, ex.line)
        if chars is None:
            items.append((ids, label))
        else:
            items.append((ids, label, encode_chars(toks, chars, max_word_chars)))
        lengths.append(len(ids))
    return EncodedDataset(
        items, lengths, truncated, partial(collate_classification, pad_id=vocab.pad_id)
    )


def encode_chars(tokens: Sequence[str], chars: Vocab, max_word_chars: int) -> list[list[int]]:
    """Character ids of each token, each word cut to its first ``max_word_chars`` characters
    (a word with no character, which readers never give, would be one ``<unk>``)."""
    return [chars.encode(list(token[:max_word_chars])) or [chars.unk_id] for token in tokens]


@dataclass(frozen=True)
class WordEncoding:
    """Tokens → model input: word ids (looked up lower-cased if ``lowercase``) and, with a
    character vocabulary, each word's character ids (case kept; see `encode_chars`)."""

    vocab: Vocab
    lowercase: bool = False
    chars: Vocab | None = None
    max_word_chars: int = 20

    def __post_init__(self) -> None:
        if self.max_word_chars < 1:
            raise ConfigError(f"max_word_chars must be at least 1, got {self.max_word_chars}")

    def encode(self, tokens: Sequence[str]) -> tuple[list[int], list[list[int]] | None]:
        words = [token.lower() for token in tokens] if self.lowercase else tokens
        chars = encode_chars(tokens, self.chars, self.max_word_chars) if self.chars else None
        return self.vocab.encode(words), chars


def encode_tagging(
    examples: Sequence[TaggedExample],
    vocab: Vocab,
    tags: LabelVocab,
    intents: LabelVocab | None = None,
    max_length: int | None = None,
    lowercase: bool = False,
    chars: Vocab | None = None,
    max_word_chars: int = 20,
) -> EncodedDataset:
    """Items ``(ids, tag_ids, intent_id or None, char ids per word or None)``; tokens and tags
    are cut together.

    Args:
        lowercase: look words up lower-cased (their characters keep their case).
        chars: a character vocabulary: also encode each word's characters (see `encode_chars`).
    """
    _check_max_length(max_length)
    encoding = WordEncoding(vocab, lowercase, chars, max_word_chars)
    items, lengths, truncated = [], [], 0
    for ex in examples:
        toks, tag_list = ex.tokens, ex.tags
        if max_length is not None and len(toks) > max_length:
            toks, tag_list, truncated = toks[:max_length], tag_list[:max_length], truncated + 1
        intent = None
        if intents is not None and ex.intent is not None:
            intent = intents.encode(ex.intent, ex.path, ex.line)
        ids, char_ids = encoding.encode(toks)
        items.append((ids, tags.encode_many(tag_list, ex.path, ex.line), intent, char_ids))
        lengths.append(len(toks))
    return EncodedDataset(items, lengths, truncated, partial(collate_tagging, pad_id=vocab.pad_id))


def encode_parallel(
    examples: Sequence[ParallelExample],
    source_tokenizer: Tokenizer,
    target_tokenizer: Tokenizer,
    source_vocab: Vocab,
    target_vocab: Vocab,
    max_length: int | None = None,
) -> EncodedDataset:
    """Items ``(source_ids, [<bos>] + target_ids + [<eos>])``; both sides cut to `max_length`
    tokens (an example counts once in ``truncated``). Both vocabularies share pad id 0."""
    _check_max_length(max_length)
    sources = source_tokenizer.tokenize_batch([ex.source for ex in examples])
    targets = target_tokenizer.tokenize_batch([ex.target for ex in examples])
    items, lengths, truncated = [], [], 0
    for source, target in zip(sources, targets, strict=True):
        if max_length is not None and max(len(source), len(target)) > max_length:
            source, target, truncated = source[:max_length], target[:max_length], truncated + 1
        items.append((source_vocab.encode(source), target_vocab.encode(target, True, True)))
        lengths.append(len(source))
    return EncodedDataset(
        items, lengths, truncated, partial(collate_parallel, pad_id=source_vocab.pad_id)
    )
