"""The gradient flow of a trained model on a data file (``rnnkit diagnose gradients DIR``).

Each task reads the file as its training does (bytes that are not UTF-8: an error, or U+FFFD
with ``encoding_errors="replace"``) and collates the first ``limit`` usable examples into its
training batch type; the model's adapter in `rnnkit.diagnostics.model_flow` decides
which loss is differentiated and with respect to which states. Examples the model cannot score
(a label, tag, intent or condition unseen in training; a text with no tokens) are left out.
Every task's `Task.gradient_flow` is `measure_gradient_flow`.

Note:
    The task modules that declare a `Task` import this module, so it imports none of them (only
    the modules they build on: common, lm_data, tagging, translation).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from rnnkit.data import read_classification
from rnnkit.data.datasets import (
    encode_classification,
    encode_parallel,
    encode_tagging,
    tokenize_examples,
)
from rnnkit.diagnostics.gradients import GradientFlow
from rnnkit.diagnostics.model_flow import get_flow_adapter
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.common import drop_empty
from rnnkit.tasks.lm_data import encode_texts, read_texts
from rnnkit.tasks.tagging import scorable
from rnnkit.tasks.tagging_settings import read_tagged
from rnnkit.tasks.translation import nonempty_pairs, read_pairs


def classify_flow_batch(classifier: Any, path: str, limit: int, encoding_errors: str) -> Any:
    """A `TextBatch` of the first ``limit`` labelled texts of ``path`` with known labels, read
    with the training run's columns (with each word's characters when the model reads them)."""
    data = classifier.config.get("data", {})
    examples = read_classification(
        path, data.get("text_column"), data.get("label_column"), encoding_errors=encoding_errors
    ).examples
    examples = [e for e in examples if e.label in classifier.labels]
    tokens = tokenize_examples(examples, classifier.tokenizer)
    examples, tokens = drop_empty(examples, tokens, "texts")
    encoding = classifier.encoding
    dataset = encode_classification(
        examples[:limit], classifier.tokenizer, classifier.vocab, classifier.labels,
        tokens=tokens[:limit], chars=encoding.chars, max_word_chars=encoding.max_word_chars,
    )  # fmt: skip
    return collate_all(dataset, path)


def tagging_flow_batch(tagger: Any, path: str, limit: int, encoding_errors: str) -> Any:
    """A `TaggedBatch` of the first ``limit`` sentences of ``path`` whose tags (and intent) the
    model knows, read with the training run's column and IOB1 settings."""
    examples, _ = read_tagged(path, tagger.config["data"], encoding_errors=encoding_errors)
    intents = tagger.intents
    examples, _ = drop_empty(examples, [example.tokens for example in examples], "sentences")
    known = [e for e in examples if scorable(e, tagger.tags, intents)][:limit]
    encoding = tagger.encoding
    dataset = encode_tagging(
        known, encoding.vocab, tagger.tags, intents, lowercase=encoding.lowercase,
        chars=encoding.chars, max_word_chars=encoding.max_word_chars,
    )  # fmt: skip
    return collate_all(dataset, path)


def generate_flow_batch(generator: Any, path: str, limit: int, encoding_errors: str) -> Any:
    """An ``LMBatch`` of the first ``limit`` texts of ``path`` (conditions unseen in training
    left out), read as in training."""
    data = dataclasses.replace(
        generator.data_settings, max_examples=None, encoding_errors=encoding_errors
    )
    examples = read_texts(path, data)
    dataset, _ = encode_texts(
        examples, generator.tokenizer, generator.vocab, generator.conditions, data, "skip"
    )
    return collate_all(dataset, path, limit)


def translate_flow_batch(translator: Any, path: str, limit: int, encoding_errors: str) -> Any:
    """A `ParallelBatch` of ``limit`` pairs of ``path`` spread over the file, in the layout the
    model was trained on (pairs with no tokens on a side left out)."""
    sides = (translator.source_tokenizer, translator.target_tokenizer)
    data = dataclasses.replace(translator.data, encoding_errors=encoding_errors)
    examples = nonempty_pairs(read_pairs(path, data, limit), *sides, "pairs")
    dataset = encode_parallel(examples, *sides, translator.source_vocab, translator.target_vocab)
    return collate_all(dataset, path)


def collate_all(dataset: Any, path: str, limit: int | None = None) -> Any:
    """The first ``limit`` items of ``dataset`` (all when None) as one batch."""
    items = [dataset[index] for index in range(len(dataset))][:limit]
    if not items:
        raise DataError(f"{path}: no usable example to measure the gradient flow on")
    return dataset.collate(items)


# Task name -> how it turns a data file into its training batch.
FLOW_BATCHES: dict[str, Callable[[Any, str, int, str], Any]] = {
    "classify": classify_flow_batch,
    "tag": tagging_flow_batch,
    "joint": tagging_flow_batch,
    "generate": generate_flow_batch,
    "translate": translate_flow_batch,
}


def predictor_gradient_flow(
    predictor: Any, path: str, limit: int, encoding_errors: str = "strict"
) -> GradientFlow:
    """The gradient flow of a loaded predictor's model on ``limit`` examples of ``path``
    (the model stays in eval mode: dropout off, the numbers of the model as it predicts)."""
    if predictor.task not in FLOW_BATCHES:
        raise ConfigError(
            f"diagnose gradients: no gradient flow for task {predictor.task!r}; "
            f"expected one of {sorted(FLOW_BATCHES)}"
        )
    if limit < 1:
        raise ConfigError(f"examples: expected a positive integer, got {limit}")
    batch = FLOW_BATCHES[predictor.task](predictor, path, limit, encoding_errors)
    return get_flow_adapter(predictor.model)(predictor.model, batch)


def measure_gradient_flow(
    predictor: Any, path: str, limit: int, encoding_errors: str = "strict"
) -> tuple[GradientFlow, int]:
    """`predictor_gradient_flow` and how many examples it measured (those the model could
    score, at most ``limit``): every task's `Task.gradient_flow`."""
    flow = predictor_gradient_flow(predictor, path, limit, encoding_errors)
    return flow, int(flow.directions[0].counts.max())  # every sequence has a first step
