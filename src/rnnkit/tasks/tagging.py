"""The tagging tasks (N→N): ``tag`` (slot filling, NER) and ``joint`` (intent + slots).

Batched decoding (sentences become input through `rnnkit.data.datasets.WordEncoding`), the
entity-level metrics, and the predictors `Tagger` and `JointTagger` that `rnnkit.load`
returns. Training lives in `rnnkit.tasks.tagging_train`.

Legend: B batch, T time (tokens), W characters per word.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import torch

from rnnkit.data import LabelVocab, TaggedExample, Tokenizer
from rnnkit.data.batching import WordBatch, pad_chars, pad_ids
from rnnkit.data.datasets import WordEncoding
from rnnkit.data.token_offsets import token_offsets
from rnnkit.metrics.tagging import tagging_report
from rnnkit.models import JointConfig, JointIntentSlot, SequenceTagger, TaggerConfig
from rnnkit.models.spans import Span, spans_from_bio
from rnnkit.tasks.common import (
    CHARS_FILE,
    EvaluateOptions,
    Unseen,
    drop_empty,
    handle_unseen,
    read_char_vocab,
    read_model_directory,
    required_file,
    tokens_or_error,
)
from rnnkit.tasks.common import log as log_info
from rnnkit.tasks.tagging_settings import TagDataSettings, read_tagged
from rnnkit.tasks.token_limit import TokenLimit

TAG_TASK, JOINT_TASK = "tag", "joint"
INTENTS_FILE = "intents.json"
EVALUATION_BATCH = 256
# The keys of config.json's data section a tagger reads (predicting, then evaluating a file).
PREDICTOR_DATA_KEYS = ("lowercase", "max_word_chars", "token_column", "tag_column", "convert_iob1")


@dataclass(frozen=True)
class Decoded:
    """Per sentence: tag ids, and for joint models the intent id and its probability."""

    tags: list[list[int]]
    intents: list[int] | None = None
    intent_probs: list[float] | None = None


@torch.no_grad()
def decode_sentences(
    model: SequenceTagger | JointIntentSlot, encoding: WordEncoding, sentences: list[list[str]]
) -> Decoded:
    """Decodes token lists in batches of similar length; results in input order."""
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    tags: list[list[int]] = [[] for _ in sentences]
    intents, probs = [0] * len(sentences), [0.0] * len(sentences)
    # Asked of the config, not the class, so a stand-in (the ONNX runtime's) decodes alike.
    joint = isinstance(model.config, JointConfig)
    was_training = model.training
    model.eval()
    for start in range(0, len(order), EVALUATION_BATCH):
        chunk = order[start : start + EVALUATION_BATCH]
        encoded = [encoding.encode(sentences[i]) for i in chunk]
        ids, lengths = pad_ids([item[0] for item in encoded], encoding.vocab.pad_id)
        chars = pad_chars([item[1] for item in encoded]) if encoding.chars else (None, None)
        result = model.decode(WordBatch(ids, lengths, *chars))
        if joint:
            for row, i in enumerate(chunk):
                intents[i], probs[i] = result.intents[row], result.intent_probs[row]
            result = result.tags
        for row, i in enumerate(chunk):
            tags[i] = result[row]
    model.train(was_training)
    if joint:
        return Decoded(tags, intents, probs)
    return Decoded(tags)


def unseen_tags(
    examples: Sequence[TaggedExample], tags: LabelVocab, intents: LabelVocab | None = None
) -> dict[str, Unseen]:
    """The gold intents (joint models; key ``n_unknown_label``) and tags (counted per token;
    key ``n_unknown_tag``) of ``examples`` that training never saw."""
    unseen = {}
    if intents is not None:
        found = ((e.intent or "", repr(e.intent), e.path, e.line) for e in examples)
        unseen["n_unknown_label"] = Unseen.find("intent", found, intents)
    found = (
        (tag, f"{tag!r} (token {i + 1}, {e.tokens[i]!r})", e.path, e.line)
        for e in examples
        for i, tag in enumerate(e.tags)
    )
    unseen["n_unknown_tag"] = Unseen.find("tag", found, tags)
    return unseen


def scorable(example: TaggedExample, tags: LabelVocab, intents: LabelVocab | None) -> bool:
    """Whether the loss can score ``example``: every tag (and its intent) seen in training."""
    known_intent = intents is None or (example.intent or "") in intents
    return known_intent and all(tag in tags for tag in example.tags)


def evaluate_tagging(
    model: SequenceTagger | JointIntentSlot,
    encoding: WordEncoding,
    tags: LabelVocab,
    examples: Sequence[TaggedExample],
    intents: LabelVocab | None = None,
) -> dict[str, Any]:
    """Entity-level ``f1``, ``precision``, ``recall``, ``per_type`` (seqeval), ``n`` and
    ``n_unknown_tag``; for joint models also ``intent_accuracy``, ``sentence_accuracy``
    (intent and every tag right) and ``n_unknown_label`` (intents).

    A gold tag or intent never seen in training counts as an error: the model cannot predict
    it, so its entity is missed (and the entity predicted there, if any, is a false positive),
    its intent and its sentence are wrong. ``n_unknown_tag`` counts such tokens and
    ``n_unknown_label`` such sentences.
    """
    decoded = decode_sentences(model, encoding, [example.tokens for example in examples])
    predicted = [tags.decode(row) for row in decoded.tags]
    report = tagging_report([example.tags for example in examples], predicted)
    report |= {key: unseen.count for key, unseen in unseen_tags(examples, tags, intents).items()}
    if intents is None or decoded.intents is None:
        return report
    intent_right = [
        intents.decode(guess) == example.intent
        for guess, example in zip(decoded.intents, examples, strict=True)
    ]
    all_right = [
        right and guess == example.tags
        for right, guess, example in zip(intent_right, predicted, examples, strict=True)
    ]
    count = max(1, len(examples))
    report["intent_accuracy"] = sum(intent_right) / count
    report["sentence_accuracy"] = sum(all_right) / count
    return report


def character_spans(
    text: str,
    tokens: Sequence[str],
    tags: Sequence[str],
    prepare: Callable[[str], str] = str,
) -> list[Span]:
    """`spans_from_bio` with ``start``/``end`` as character offsets into ``text`` (``end``
    exclusive) and ``text`` the covered substring; tokens are found in order in the text,
    as ``prepare`` (the tokenizer's normalisation) made it (`token_offsets`)."""
    offsets = token_offsets(text, tokens, prepare)
    spans = spans_from_bio(tokens, tags)
    for span in spans:
        first, last = offsets[span["start"]][0], offsets[span["end"] - 1][1]
        span.update(text=text[first:last], start=first, end=last)
    return spans


@dataclass(frozen=True)
class TagPrediction:
    """One sentence's tokens, tags and spans (character offsets into ``text``)."""

    text: str
    tokens: list[str]
    tags: list[str]
    spans: list[Span]

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "tokens": self.tokens, "tags": self.tags, "spans": self.spans}


@dataclass(frozen=True)
class JointPrediction(TagPrediction):
    """A `TagPrediction` plus the sentence's intent and its probability."""

    intent: str = ""
    intent_prob: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent,
            "intent_prob": self.intent_prob,
            "slots": self.spans,
            "tokens": self.tokens,
            "tags": self.tags,
        }


class Tagger:
    """A trained tagger with its tokenizer and vocabularies: what `rnnkit.load` returns."""

    task = TAG_TASK
    config_class: type = TaggerConfig
    model_class: type = SequenceTagger
    token_limit = TokenLimit()  # the longest text it reads; set one per predictor to change it
    # each vocabulary file → the model-config field holding its size
    sizes = MappingProxyType(
        {"vocab.json": "vocab_size", "labels.json": "num_tags", CHARS_FILE: "char_vocab_size"}
    )

    # A predictor's constructor: the model and what reads its inputs, alike the classification
    # predictor's (tasks/classification_predictor.py) by design.
    def __init__(
        self,
        model: SequenceTagger | JointIntentSlot,
        tokenizer: Tokenizer,
        encoding: WordEncoding,
        tags: LabelVocab,
        config: dict[str, Any] | None = None,
        intents: LabelVocab | None = None,
    ) -> None:
        self.model = model.eval()
        self.tokenizer, self.encoding, self.tags, self.intents = tokenizer, encoding, tags, intents
        self.config = config or {}

    @property
    def labels(self) -> LabelVocab:
        """The tag vocabulary (the name every predictor uses for its output labels)."""
        return self.tags

    @classmethod
    def load(cls, directory: str | Path) -> Tagger:
        """Rebuilds the tagger saved in ``directory`` (JSON + safetensors; no pickle)."""
        saved = read_model_directory(
            directory, cls.task, cls.config_class, cls.model_class, cls.sizes,
            (TagDataSettings, PREDICTOR_DATA_KEYS),
        )  # fmt: skip
        data = saved.data
        chars = read_char_vocab(directory, saved.model)
        encoding = WordEncoding(saved.vocab, data.lowercase, chars, data.max_word_chars)
        intents = None
        if cls.task == JOINT_TASK:
            intents = LabelVocab.load(required_file(directory, INTENTS_FILE))
        return cls(saved.model, saved.tokenizer, encoding, saved.labels, saved.config, intents)

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text's tokens; a text with no token is a `DataError` naming it."""
        return self.token_limit.apply(tokens_or_error(self.tokenizer, texts, "tag"))

    def predict(self, texts: Sequence[str]) -> list[TagPrediction]:
        """Tags and spans of each text, tokenized with the training run's tokenizer."""
        token_lists = self.tokenize(texts)
        decoded = decode_sentences(self.model, self.encoding, token_lists)
        return [
            self._prediction(text, tokens, decoded, index)
            for index, (text, tokens) in enumerate(zip(texts, token_lists, strict=True))
        ]

    def _prediction(
        self, text: str, tokens: list[str], decoded: Decoded, index: int
    ) -> TagPrediction:
        tags = self.tags.decode(decoded.tags[index])
        spans = character_spans(text, tokens, tags, self.tokenizer.prepare)
        return TagPrediction(text, tokens, tags, spans)

    def evaluate(
        self, examples: Sequence[TaggedExample], unknown_labels: str = "wrong"
    ) -> dict[str, Any]:
        """Metrics on tagged sentences; see `evaluate_tagging`.

        Tags (and intents) unseen in training count as errors, with one warning line giving
        their counts and the first file:line; ``unknown_labels="error"`` raises a `DataError`
        there.
        """
        handle_unseen(unknown_labels, unseen_tags(examples, self.tags, self.intents).values())
        given = len(examples)
        examples, _ = drop_empty(examples, [example.tokens for example in examples], "sentences")
        kept = self.token_limit.apply(
            [example.tokens for example in examples],
            lambda i: f"{examples[i].path}:{examples[i].line}",
        )
        examples = [
            dataclasses.replace(example, tokens=tokens, tags=example.tags[: len(tokens)])
            for example, tokens in zip(examples, kept, strict=True)
        ]
        report = evaluate_tagging(self.model, self.encoding, self.tags, examples, self.intents)
        return {**report, "n_no_tokens": given - len(examples)}

    def evaluate_file(self, path: str, options: EvaluateOptions) -> dict[str, Any]:
        """`evaluate` on the tagged sentences of ``path`` (read with the training run's column
        and IOB1 settings; an ``hf:`` data set's columns: those ``options`` names, else those
        training read)."""
        examples, _ = read_tagged(
            path, self.config["data"], encoding_errors=options.encoding_errors,
            tokens_column=options.tokens_column, tags_column=options.tags_column,
            intent_column=options.intent_column,
        )  # fmt: skip
        log_info(f"{path}: {len(examples)} sentences")
        return self.evaluate(examples, options.unknown_labels)


class JointTagger(Tagger):
    """A trained joint intent + slot model: `predict` gives the intent and the slots."""

    task = JOINT_TASK
    config_class = JointConfig
    model_class = JointIntentSlot
    sizes = MappingProxyType({**Tagger.sizes, INTENTS_FILE: "num_intents"})

    def _prediction(
        self, text: str, tokens: list[str], decoded: Decoded, index: int
    ) -> JointPrediction:
        base = super()._prediction(text, tokens, decoded, index)
        return JointPrediction(
            base.text, base.tokens, base.tags, base.spans,
            intent=self.intents.decode(decoded.intents[index]),
            intent_prob=decoded.intent_probs[index],
        )  # fmt: skip
