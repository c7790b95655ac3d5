"""The text data pipeline: tokenizers, vocabularies, readers for every task layout, batching.

Raw text → `read_*` (typed examples + a report) → tokenizer → `Vocab` / `LabelVocab` →
`encode_*` (id lists, truncation counted) → `BucketBatchSampler` + collate → padded tensors.
"""

from rnnkit.data.batching import (
    BucketBatchSampler,
    ParallelBatch,
    TaggedBatch,
    TextBatch,
    WordBatch,
    collate_classification,
    collate_parallel,
    collate_tagging,
    pad_ids,
    padding_fraction,
)
from rnnkit.data.datasets import (
    EncodedDataset,
    encode_classification,
    encode_parallel,
    encode_tagging,
    tokenize_examples,
)
from rnnkit.data.examples import ParallelExample, ReadResult, TaggedExample, TextExample
from rnnkit.data.readers import (
    read_classification,
    read_hf_classification,
    read_hf_parallel,
    read_parallel,
    read_tagging,
)
from rnnkit.data.report import ReadReport
from rnnkit.data.tokenizers import Tokenizer, get_tokenizer, tokenizer_from_config
from rnnkit.data.vocab import LabelVocab, Vocab

__all__ = [
    "BucketBatchSampler",
    "EncodedDataset",
    "LabelVocab",
    "ParallelBatch",
    "ParallelExample",
    "ReadReport",
    "ReadResult",
    "TaggedBatch",
    "TaggedExample",
    "TextBatch",
    "TextExample",
    "Tokenizer",
    "Vocab",
    "WordBatch",
    "collate_classification",
    "collate_parallel",
    "collate_tagging",
    "encode_classification",
    "encode_parallel",
    "encode_tagging",
    "get_tokenizer",
    "pad_ids",
    "padding_fraction",
    "read_classification",
    "read_hf_classification",
    "read_hf_parallel",
    "read_parallel",
    "read_tagging",
    "tokenize_examples",
    "tokenizer_from_config",
]
