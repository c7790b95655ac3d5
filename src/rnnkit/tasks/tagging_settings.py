"""The data settings of the tagging tasks (``tag`` and ``joint``), shared by training and by the
predictor, which reads its own from ``config.json``, and how either reads a data file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rnnkit.data import TaggedExample, read_tagging
from rnnkit.data.bio import INVALID_BIO
from rnnkit.data.report import ReadReport
from rnnkit.data.tokenizers import prepare_text
from rnnkit.errors import ConfigError

# Tokenizers whose tokens are substrings of the text (so spans get character offsets).
# "auto": char when the training tokens are single characters (Chinese NER), else word.
TAGGING_TOKENIZERS = ("auto", "word", "whitespace", "char", "zh-char", "jieba")
# The settings naming an hf: data set's columns (absent from a model directory saved before
# they existed: then guessed).
HF_COLUMNS = ("tokens_column", "tags_column", "intent_column")


@dataclass(frozen=True)
class TagDataSettings:
    """Where the tagged data is and how sentences become ids (both tagging tasks)."""

    train: str = ""  # CoNLL column file, character-per-line Chinese NER file, ATIS/SNIPS folder
    dev: str = ""  # dev data for model selection, same layouts
    dev_holdout: float = 0.1  # without dev data: this fraction of the training data is dev
    token_column: int = 0  # CoNLL: the column of the token
    tag_column: int = -1  # CoNLL: the column of the tag (-1: the last)
    convert_iob1: bool = False  # the tags are IOB1 (original CoNLL-2003): convert to BIO
    tokens_column: str | None = None  # hf: data: the column of token lists; None guesses it
    tags_column: str | None = None  # hf: data: the column of tag lists; None guesses it
    intent_column: str | None = None  # hf: data (joint): the intent column; None guesses it
    # Invalid BIO moves in training data (I-X not continuing an X): "repair" makes them B-X,
    # as seqeval reads them, with a warning; "error" stops; "keep" trains on them as they are.
    invalid_bio: str = "repair"
    tokenizer: str = "auto"  # splits raw text at prediction time: auto, word, whitespace, char...
    lowercase: bool = True  # look words up lower-cased (character features keep the case)
    # Unicode normal form of the text before tokenizing: NFC (composed accents), NFKC (also
    # full-width forms, ligatures) or none
    normalize: str = "NFC"
    min_freq: int = 1  # rarer words map to <unk>
    max_vocab_size: int | None = None  # vocabulary cap, specials included; None: no cap
    max_length: int | None = None  # truncate longer sentences (counted); None: keep all
    max_word_chars: int = 20  # character features read at most this many characters a word
    batch_size: int = 32  # sentences per training batch (length-bucketed)
    vectors: str | None = None  # word2vec/GloVe/fastText text file to initialise embeddings
    on_error: str = "raise"  # malformed sentences: "raise" or "skip" (skips are counted)
    # bytes that are not UTF-8 text: "strict" (an error, as on_error says) or "replace" (U+FFFD)
    encoding_errors: str = "strict"

    def __post_init__(self) -> None:
        if self.tokenizer not in TAGGING_TOKENIZERS:
            raise ConfigError(
                f"data.tokenizer: expected one of {list(TAGGING_TOKENIZERS)} for tagging, "
                f"got {self.tokenizer!r}"
            )
        if self.invalid_bio not in INVALID_BIO:
            raise ConfigError(
                f"data.invalid_bio: expected one of {list(INVALID_BIO)}, got {self.invalid_bio!r}"
            )


def read_tagged(
    path: str,
    data: Mapping[str, Any],
    on_error: str = "raise",
    encoding_errors: str = "strict",
    **columns: str | None,
) -> tuple[list[TaggedExample], ReadReport]:
    """The tagged sentences of ``path``, read as ``data`` (`TagDataSettings` fields, e.g. the
    data section of a model's config.json) says: its CoNLL columns and IOB1 conversion, its
    ``hf:`` columns where ``columns`` (``tokens_column=...``) does not name others, and its
    tokens' Unicode normal form (``normalize``)."""
    hf_columns = {key: columns.get(key) or data.get(key) for key in HF_COLUMNS}
    result = read_tagging(
        path, on_error, data["token_column"], data["tag_column"], data["convert_iob1"],
        encoding_errors, **hf_columns,
    )  # fmt: skip
    # The tokens in the normal form the prediction tokenizer brings raw text to (a model
    # saved before data.normalize existed read them as given: "none").
    form = data.get("normalize", "none")
    if form != "none":
        for example in result.examples:
            example.tokens = [prepare_text(token, form, False) for token in example.tokens]
    return result.examples, result.report
