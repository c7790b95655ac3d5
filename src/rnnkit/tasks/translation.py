"""The translation task (N→M): English ↔ French, German, Chinese.

Which reader, tokenizers, model, metric and output format make it, and the two entry points:
`train_translator` (parallel data → a model directory) and `Translator` (a model directory →
translations, attention maps and BLEU/chrF evaluations).

Parallel data is either a ``source<TAB>target`` file (``data.reverse`` swaps the columns) or,
when ``data.source_lang`` and ``data.target_lang`` are set and the path is not a file, a
prefix ``PATH`` naming the line-aligned files ``PATH.<source_lang>`` and ``PATH.<target_lang>``
(``data/multi30k/train`` with ``de``/``en`` reads ``train.de`` + ``train.en``), or a Hugging
Face data set ``hf:NAME[:CONFIG]:SPLIT`` (`rnnkit.data.hf.read_hf_parallel`: columns named by
``data.source_column``/``data.target_column`` or guessed, and a column of {language: text}
read at ``data.source_lang``/``data.target_lang``).

Legend: B batch, S source length, T target length.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnnkit.config import config_from_dict
from rnnkit.data import (
    ParallelExample,
    Tokenizer,
    Vocab,
    read_parallel,
)
from rnnkit.data.batching import pad_ids
from rnnkit.data.hf import is_hf_spec
from rnnkit.metrics.translation import bleu_tokenizer, corpus_scores
from rnnkit.models.decoding import Hypothesis
from rnnkit.models.seq2seq import Seq2Seq, Seq2SeqConfig
from rnnkit.tasks.common import (
    DataSettings,
    EvaluateOptions,
    build_tokenizer,
    check_model_directory,
    describe_read,
    drop_empty,
    tokens_or_error,
)
from rnnkit.tasks.integrity import (
    build_model,
    read_config,
    read_data_section,
    read_tokenizer,
    read_vocabularies,
)
from rnnkit.tasks.token_limit import NO_LIMIT, TokenLimit
from rnnkit.training import TrainerConfig
from rnnkit.training.checkpoint import WEIGHTS_FILE

TASK = "translate"
DECODE_BATCH = 64
SOURCE_VOCAB, TARGET_VOCAB = "source_vocab.json", "target_vocab.json"
FILES = ("config.json", SOURCE_VOCAB, TARGET_VOCAB, WEIGHTS_FILE)
# The keys of config.json's data section evaluation reads (the layout, BLEU's tokens and case).
PREDICTOR_DATA_KEYS = ("source_lang", "target_lang", "reverse", "lowercase", "target_tokenizer")
# The data settings that `rnnkit evaluate` may change: which files or columns hold the pairs.
LAYOUT_KEYS = ("source_lang", "target_lang", "source_column", "target_column")


@dataclass(frozen=True)
class TranslationData:
    """Where the parallel data is and how each side becomes token ids."""

    # a source<TAB>target file, a PATH prefix (see source_lang/target_lang), or
    # hf:NAME[:CONFIG]:SPLIT
    train: str = ""
    dev: str = ""  # dev pairs for model selection (dev BLEU), same layouts
    dev_holdout: float = 0.1  # without dev data: this fraction of the training pairs is dev
    # with target_lang: read PATH.<source_lang> + PATH.<target_lang>; for hf: data, the
    # language read in a column of {language: text} (and the first column name guessed)
    source_lang: str = ""
    target_lang: str = ""  # the target side: PATH.<target_lang>, or the hf: target language
    # hf: data: the column of source texts; None guesses (source_lang, source, src, translation)
    source_column: str | None = None
    # hf: data: the column of target texts; None guesses (target_lang, target, tgt, translation)
    target_column: str | None = None
    reverse: bool = False  # translate the second side (column) into the first
    source_tokenizer: str = "word"  # word, whitespace, char, zh-char, jieba or bpe
    target_tokenizer: str = "word"  # e.g. zh-char or jieba for Chinese targets
    lowercase: bool = True  # lower-case both sides (BLEU/chrF then ignore case)
    # Unicode normal form of the text before tokenizing: NFC (composed accents), NFKC (also
    # full-width forms, ligatures) or none
    normalize: str = "NFC"
    bpe_vocab_size: int = 8000  # subwords learnt by a bpe tokenizer
    shared_vocab: bool = False  # one vocabulary for both sides (related languages)
    min_freq: int = 2  # rarer tokens map to <unk>
    max_vocab_size: int | None = None  # cap per vocabulary, specials included
    max_length: int | None = 50  # training pairs longer than this (either side) are truncated
    batch_size: int = 64  # sentence pairs per batch (bucketed by source length)
    max_examples: int | None = None  # use N training pairs spread evenly over the file
    dev_max_examples: int | None = None  # use N dev pairs (spread evenly) for model selection
    on_error: str = "raise"  # malformed lines: "raise" or "skip" (skips are counted)
    # bytes that are not UTF-8 text: "strict" (an error, as on_error says) or "replace" (U+FFFD)
    encoding_errors: str = "strict"


@dataclass(frozen=True)
class TranslateConfig:
    """Everything a translation run needs; saved in ``config.json`` beside the weights."""

    # The three sections of every task's run config (`run_config.resolve_run_config` reads them),
    # alike by design: each task types its own data, model and trainer defaults.
    data: TranslationData = field(default_factory=TranslationData)
    model: Seq2SeqConfig = field(default_factory=Seq2SeqConfig)
    # Translation keeps the checkpoint with the best dev BLEU (greedy decoding).
    trainer: TrainerConfig = field(
        default_factory=lambda: TrainerConfig(monitor="bleu", mode="max")
    )


@dataclass(frozen=True)
class Translation:
    """A source text and its best translations: (text, score), the beam score
    (log-probability / length ** length_penalty; greedy: the log-probability), and each
    translation's log-probability (of its tokens and ``<eos>``) in ``log_probs``."""

    text: str
    translations: list[tuple[str, float]]
    log_probs: list[float]

    @property
    def best(self) -> str:
        return self.translations[0][0]

    def to_dict(self) -> dict[str, Any]:
        """The one JSON shape of a translation, for ``rnnkit translate --json`` and the
        service alike: ``{"text", "translation", "hypotheses": [{"text", "score",
        "log_prob"}, ...]}``, best first."""
        return {
            "text": self.text,
            "translation": self.best,
            "hypotheses": [
                {"text": t, "score": s, "log_prob": p}
                for (t, s), p in zip(self.translations, self.log_probs, strict=True)
            ],
        }


@dataclass(frozen=True)
class AttentionMap:
    """Attention weights of a translation: rows target tokens (``<eos>`` last), columns source."""

    source_tokens: list[str]
    target_tokens: list[str]
    weights: list[list[float]]


def read_pairs(path: str, data: TranslationData, limit: int | None = None) -> list[ParallelExample]:
    """Reads parallel data in either layout (see the module docstring), logging skipped lines."""
    source: str | tuple[str, str] = path
    prefix = not is_hf_spec(path) and not Path(path).is_file()
    if data.source_lang and data.target_lang and prefix:
        source = (f"{path}.{data.source_lang}", f"{path}.{data.target_lang}")
    result = read_parallel(
        source, data.on_error, data.encoding_errors, data.source_column, data.target_column,
        data.source_lang or None, data.target_lang or None,
    )  # fmt: skip
    examples = spread_sample(result.examples, limit)
    if data.reverse:
        examples = [ParallelExample(ex.target, ex.source, ex.path, ex.line) for ex in examples]
    describe_read(str(source), result.report, len(examples))
    return examples


def spread_sample(examples: list[ParallelExample], limit: int | None) -> list[ParallelExample]:
    """At most ``limit`` examples spread evenly over the file (files are often sorted by length,
    so the first N would all be short); all of them when ``limit`` is None."""
    if limit is None or limit >= len(examples):
        return examples
    return [examples[i * len(examples) // limit] for i in range(limit)]


def build_side_tokenizer(name: str, data: TranslationData, texts: list[str]) -> Tokenizer:
    settings = DataSettings(
        tokenizer=name, lowercase=data.lowercase, bpe_vocab_size=data.bpe_vocab_size,
        normalize=data.normalize,
    )  # fmt: skip
    return build_tokenizer(settings, texts)


def build_vocabularies(
    examples: Sequence[ParallelExample], source: Tokenizer, target: Tokenizer, data: TranslationData
) -> tuple[Vocab, Vocab]:
    source_tokens = source.tokenize_batch([ex.source for ex in examples])
    target_tokens = target.tokenize_batch([ex.target for ex in examples])
    options = {"min_freq": data.min_freq, "max_size": data.max_vocab_size}
    if data.shared_vocab:
        vocab = Vocab.build(source_tokens + target_tokens, **options)
        return vocab, vocab
    return Vocab.build(source_tokens, **options), Vocab.build(target_tokens, **options)


def translate_ids(
    model: Seq2Seq,
    ids: Sequence[list[int]],
    beam: int = 1,
    n_best: int = 1,
    length_penalty: float = 1.0,
    pad_id: int = 0,
) -> list[list[Hypothesis]]:
    """Decodes source id lists in batches of similar length; results in input order."""
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    results: list[list[Hypothesis]] = [[] for _ in ids]
    was_training = model.training
    model.eval()
    for start in range(0, len(order), DECODE_BATCH):
        chunk = order[start : start + DECODE_BATCH]
        source, lengths = pad_ids([ids[i] for i in chunk], pad_id)
        for i, hypotheses in zip(
            chunk, model.generate(source, lengths, beam, n_best, length_penalty), strict=True
        ):
            results[i] = hypotheses
    model.train(was_training)
    return results


def score_translations(
    hypotheses: Sequence[str], examples: Sequence[ParallelExample], data: TranslationData
) -> dict[str, float]:
    """BLEU and chrF of detokenized hypotheses against the examples' raw targets."""
    references = [ex.target for ex in examples]
    tokenize = bleu_tokenizer(data.target_tokenizer)
    return corpus_scores(hypotheses, references, tokenize=tokenize, lowercase=data.lowercase)


def encode_sources(
    texts: Sequence[str], tokenizer: Tokenizer, vocab: Vocab, limit: TokenLimit = NO_LIMIT
) -> list[list[int]]:
    """Source ids of each text; a text with no token is a `DataError` naming it, a longer one
    than ``limit`` allows is truncated or refused."""
    token_lists = tokens_or_error(tokenizer, texts, "translate")
    return [vocab.encode(tokens) for tokens in limit.apply(token_lists)]


def nonempty_pairs(
    examples: Sequence[ParallelExample], source: Tokenizer, target: Tokenizer, what: str
) -> list[ParallelExample]:
    """The pairs whose source and target both have tokens (`drop_empty`: the others are left
    out, counted and reported)."""
    sources = source.tokenize_batch([ex.source for ex in examples])
    targets = target.tokenize_batch([ex.target for ex in examples])
    both = [s if t else [] for s, t in zip(sources, targets, strict=True)]
    return drop_empty(examples, both, what)[0]


class Translator:
    """A trained translator with its tokenizers and vocabularies: what `rnnkit.load` returns."""

    task = TASK
    token_limit = TokenLimit()  # the longest source it reads; set one per predictor to change it

    def __init__(
        self, model: Seq2Seq, source_tokenizer: Tokenizer, target_tokenizer: Tokenizer,
        source_vocab: Vocab, target_vocab: Vocab, config: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.model = model.eval()
        self.source_tokenizer, self.target_tokenizer = source_tokenizer, target_tokenizer
        self.source_vocab, self.target_vocab = source_vocab, target_vocab
        self.config = config or {}
        self.data = config_from_dict(TranslationData, self.config.get("data", {}))

    @classmethod
    def load(cls, directory: str | Path) -> Translator:
        """Rebuilds the translator saved in ``directory`` (JSON + safetensors; no pickle)."""
        directory = check_model_directory(directory, FILES)
        config = read_config(directory, TASK)
        read_data_section(directory, config, TranslationData, PREDICTOR_DATA_KEYS)
        model = build_model(directory, config, Seq2SeqConfig, Seq2Seq)
        sizes = {SOURCE_VOCAB: "encoder.vocab_size", TARGET_VOCAB: "decoder.vocab_size"}
        vocabularies = read_vocabularies(directory, model.config, sizes)
        tokenizers = config["tokenizer"] if isinstance(config["tokenizer"], dict) else {}
        return cls(
            model,
            read_tokenizer(directory, tokenizers.get("source")),
            read_tokenizer(directory, tokenizers.get("target")),
            vocabularies[SOURCE_VOCAB],
            vocabularies[TARGET_VOCAB],
            config,
        )  # fmt: skip

    def detokenize(self, ids: Sequence[int]) -> str:
        return self.target_tokenizer.detokenize(self.target_vocab.decode(ids))

    def translate(
        self, texts: Sequence[str], beam: int = 5, n_best: int = 1, length_penalty: float = 1.0
    ) -> list[Translation]:
        """The ``n_best`` best translations of each text (``beam=1``: greedy decoding)."""
        ids = encode_sources(texts, self.source_tokenizer, self.source_vocab, self.token_limit)
        results = translate_ids(
            self.model, ids, beam, n_best, length_penalty, self.source_vocab.pad_id
        )
        return [
            Translation(
                text,
                [(self.detokenize(h.tokens), h.score) for h in hypotheses],
                [h.log_prob for h in hypotheses],
            )
            for text, hypotheses in zip(texts, results, strict=True)
        ]

    def predict(self, texts: Sequence[str]) -> list[Translation]:
        """`translate` with its defaults (beam 5, the best translation): the task contract."""
        return self.translate(texts)

    @torch.no_grad()
    def attention(self, text: str, translation: str | None = None) -> AttentionMap:
        """Attention weights while producing ``translation`` (default: the beam-5 one)."""
        source_ids = encode_sources([text], self.source_tokenizer, self.source_vocab)[0]
        if translation is None:
            translation = self.translate([text])[0].best
        target_tokens = self.target_tokenizer.tokenize(translation)
        target = self.target_vocab.encode(target_tokens, add_bos=True, add_eos=True)
        _, weights = self.model.forward_with_attention(
            torch.tensor([source_ids]), torch.tensor([len(source_ids)]), torch.tensor([target[:-1]])
        )
        source_tokens = self.source_tokenizer.tokenize(text)
        return AttentionMap(source_tokens, [*target_tokens, "<eos>"], weights[0].tolist())

    def evaluate(self, examples: Sequence[ParallelExample], beam: int = 5) -> dict[str, Any]:
        """Corpus BLEU and chrF of the translations of ``examples`` against their targets
        (pairs with no tokens on a side left out, ``n_no_tokens`` of them)."""
        started = time.perf_counter()
        given = len(examples)
        examples = nonempty_pairs(examples, self.source_tokenizer, self.target_tokenizer, "pairs")
        texts = (
            [t.best for t in self.translate([ex.source for ex in examples], beam=beam)]
            if examples
            else []
        )
        scores = score_translations(texts, examples, self.data)
        return {
            **scores,
            "n": len(examples),
            "n_no_tokens": given - len(examples),
            "beam": beam,
            "seconds": round(time.perf_counter() - started, 3),
        }

    def evaluate_file(self, path: str, options: EvaluateOptions) -> dict[str, Any]:
        """`evaluate` on parallel data in the layout the model was trained on: its languages
        and ``hf:`` columns, where ``options`` names no others."""
        layout = {key: getattr(options, key) or getattr(self.data, key) for key in LAYOUT_KEYS}
        data = dataclasses.replace(self.data, encoding_errors=options.encoding_errors, **layout)
        return self.evaluate(read_pairs(path, data), beam=options.beam)
