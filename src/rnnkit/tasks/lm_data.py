"""Data for language models: reading texts (with an optional condition), encoding, batching.

Three layouts: a labelled file read by `rnnkit.data.read_classification` (``condition_column``
names the condition, e.g. a name's language), one side of a ``source<TAB>target`` file
(``side``), or plain text with one text per line.

Each text becomes ``<bos> t_1 … t_n <eos>``; a model reads ``<bos> t_1 … t_n`` and predicts
``t_1 … t_n <eos>``. With ``bptt_length`` the texts are joined into running text instead and cut
into chunks for truncated back-propagation through time.

Legend: B batch, T time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor
from torch.utils.data import Dataset

from rnnkit.data import (
    LabelVocab,
    TextExample,
    Tokenizer,
    Vocab,
    read_classification,
    read_parallel,
)
from rnnkit.data.batching import pad_ids
from rnnkit.data.report import ReadReport, check_on_error, iter_lines
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.common import describe_read, drop_empty, log

SIDES = ("source", "target")


@dataclass(frozen=True)
class GenerateData:
    """Where the texts are and how they become token ids."""

    train: str = ""  # training texts (labelled file, parallel file, or one text per line)
    dev: str = ""  # dev texts for model selection (same layout)
    dev_holdout: float = 0.1  # without dev data: this fraction of the training texts is dev
    text_column: str | None = None  # labelled files: column / JSON field of the text
    condition_column: str | None = None  # labelled files: the condition's column; None: none
    side: str | None = None  # "source" or "target" side of a source<TAB>target file
    tokenizer: str = "char"  # char, zh-char, word, whitespace, jieba or bpe
    lowercase: bool = False  # lower-case before tokenizing (where the tokenizer allows it)
    # Unicode normal form of the text before tokenizing: NFC (composed accents), NFKC (also
    # full-width forms, ligatures) or none
    normalize: str = "NFC"
    bpe_vocab_size: int = 8000  # subwords learnt by the bpe tokenizer
    min_freq: int = 1  # rarer tokens map to <unk>
    max_vocab_size: int | None = None  # vocabulary cap, specials included; None: no cap
    max_length: int | None = None  # truncate longer texts to this many tokens (counted)
    max_examples: int | None = None  # train on an evenly spaced subset of this many texts
    batch_size: int = 64  # texts per batch (or parallel streams with bptt_length)
    bptt_length: int | None = None  # running text in chunks of this many steps; None: per text
    on_error: str = "raise"  # malformed rows: "raise" or "skip" (skips are counted)
    # bytes that are not UTF-8 text: "strict" (an error, as on_error says) or "replace" (U+FFFD)
    encoding_errors: str = "strict"

    def __post_init__(self) -> None:
        check_on_error(self.on_error)
        if self.side is not None and self.side not in SIDES:
            raise ConfigError(
                f"data.side: expected one of {list(SIDES)} or None, got {self.side!r}"
            )
        if self.side is not None and self.condition_column is not None:
            raise ConfigError("data.side (a parallel file) and data.condition_column are exclusive")
        if self.bptt_length is not None and self.condition_column is not None:
            raise ConfigError("data.bptt_length (running text) cannot be used with a condition")
        for name in ("bptt_length", "max_examples", "max_length"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"data.{name}: expected a positive integer or None, got {value}")


class LMBatch(NamedTuple):
    inputs: Tensor  # (B, T) <bos> + tokens, padded
    targets: Tensor  # (B, T) tokens + <eos>, pad_id where nothing is predicted
    conditions: Tensor | None  # (B,) condition ids, or None
    n_tokens: int  # predicted tokens (non-pad targets)
    first: bool = True  # running text: the first chunk of the streams (start from zeros)


class SequenceDataset(Dataset):
    """Encoded texts ``<bos> … <eos>`` with their condition ids (or None)."""

    def __init__(self, sequences: list[list[int]], conditions: list[int] | None, pad_id: int):
        self.sequences, self.conditions, self.pad_id = sequences, conditions, pad_id
        self.lengths = [len(sequence) - 1 for sequence in sequences]

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, index: int) -> tuple[list[int], int | None]:
        return self.sequences[index], None if self.conditions is None else self.conditions[index]

    def collate(self, items: list[tuple[list[int], int | None]]) -> LMBatch:
        inputs, lengths = pad_ids([sequence[:-1] for sequence, _ in items], self.pad_id)
        targets, _ = pad_ids([sequence[1:] for sequence, _ in items], self.pad_id)
        conditions = None
        if items and items[0][1] is not None:
            conditions = torch.tensor([condition for _, condition in items], dtype=torch.long)
        return LMBatch(inputs, targets, conditions, int(lengths.sum()))


def read_texts(path: str, data: GenerateData) -> list[TextExample]:
    """The texts of ``path`` (label = condition, or ``""``), in the layout ``data`` names."""
    if data.condition_column is not None:
        result = read_classification(
            path, data.text_column, data.condition_column, data.on_error,
            encoding_errors=data.encoding_errors,
        )  # fmt: skip
        examples, report = result.examples, result.report
    elif data.side is not None:
        result = read_parallel(path, data.on_error, data.encoding_errors)
        examples = [
            TextExample(getattr(p, data.side), "", None, p.path, p.line) for p in result.examples
        ]
        report = result.report
    else:
        report = ReadReport(str(path), data.on_error, data.encoding_errors)
        examples = []
        for number, line in iter_lines(path, report):
            if not line.strip():
                report.blank_lines += 1
                continue
            examples.append(TextExample(line.strip(), "", None, str(path), number))
    describe_read(path, report, len(examples))
    if not examples:
        raise DataError("no texts found", path)
    return examples


def subsample(examples: list[TextExample], count: int | None) -> list[TextExample]:
    """An evenly spaced subset of ``count`` examples (files are often sorted by length)."""
    if count is None or count >= len(examples):
        return examples
    step = len(examples) / count
    return [examples[int(i * step)] for i in range(count)]


def encode_texts(
    examples: list[TextExample],
    tokenizer: Tokenizer,
    vocab: Vocab | None,
    conditions: LabelVocab | None,
    data: GenerateData,
    unknown: str = "error",
) -> tuple[SequenceDataset, Vocab]:
    """Token ids ``<bos> … <eos>`` (vocabulary built here when ``vocab`` is None).

    A condition unseen in training raises a `DataError` naming its file and line, unless
    ``unknown="skip"``: such texts are then left out, and how many is logged.
    """
    if conditions is not None and unknown == "skip":
        kept = [example for example in examples if example.label in conditions]
        if len(kept) < len(examples):
            log(f"{len(examples) - len(kept)} texts have conditions unseen in training; skipped")
        examples = kept
    token_lists = [example.tokens or tokenizer.tokenize(example.text) for example in examples]
    examples, token_lists = drop_empty(examples, token_lists, "texts")
    if vocab is None:
        vocab = Vocab.build(token_lists, min_freq=data.min_freq, max_size=data.max_vocab_size)
    if data.max_length is not None:
        truncated = sum(len(tokens) > data.max_length for tokens in token_lists)
        if truncated:
            log(f"{truncated} texts truncated to {data.max_length} tokens")
        token_lists = [tokens[: data.max_length] for tokens in token_lists]
    sequences = [vocab.encode(tokens, add_bos=True, add_eos=True) for tokens in token_lists]
    condition_ids = None
    if conditions is not None:
        condition_ids = [conditions.encode(e.label, e.path, e.line) for e in examples]
    return SequenceDataset(sequences, condition_ids, vocab.pad_id), vocab


def stream_chunks(
    dataset: SequenceDataset, streams: int, bptt_length: int, vocab: Vocab
) -> list[LMBatch]:
    """Running text for truncated BPTT: the texts joined, split into ``streams`` rows, cut into
    chunks of ``bptt_length`` steps (in order, so chunk k+1 continues chunk k).

    Predicting ``<bos>`` after ``<eos>`` is not scored (its target is ``pad_id``).
    """
    stream = torch.tensor([token for sequence in dataset.sequences for token in sequence])
    per_stream = (len(stream) - 1) // streams
    if per_stream < 1:
        raise ConfigError(
            f"data.batch_size={streams} streams need at least {streams + 1} tokens of running "
            f"text, got {len(stream)}"
        )
    inputs = stream[: streams * per_stream].view(streams, per_stream)  # (B, N)
    targets = stream[1 : streams * per_stream + 1].view(streams, per_stream)
    targets = targets.masked_fill(targets == vocab.bos_id, vocab.pad_id)
    chunks = []
    for start in range(0, per_stream, bptt_length):
        chunk_targets = targets[:, start : start + bptt_length]
        n_tokens = int((chunk_targets != vocab.pad_id).sum())
        chunks.append(
            LMBatch(
                inputs[:, start : start + bptt_length], chunk_targets, None, n_tokens, start == 0
            )
        )
    return chunks
