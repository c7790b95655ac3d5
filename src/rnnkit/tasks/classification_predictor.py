"""The classification predictor: a model directory → predictions, evaluations and the
token-by-token traces of `rnnkit.diagnostics.trace` (what `rnnkit.load` returns for a
classifier).

Legend: B batch, T time, W characters per word, C classes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rnnkit.data import LabelVocab, TextExample, Tokenizer, Vocab, read_classification
from rnnkit.data.batching import collate_classification, pad_words
from rnnkit.data.datasets import WordEncoding
from rnnkit.metrics.classification import classification_report
from rnnkit.models import ClassifierConfig, SequenceClassifier
from rnnkit.tasks.common import (
    CHARS_FILE,
    DataSettings,
    EvaluateOptions,
    Unseen,
    drop_empty,
    handle_unseen,
    nonempty_or_error,
    read_char_vocab,
    read_model_directory,
)
from rnnkit.tasks.token_limit import TokenLimit
from rnnkit.training.loss import evaluate_loss

TASK = "classify"
EVALUATION_BATCH = 256
# A text as the model reads it: word ids, and each word's character ids when the model has
# character features (else None).
EncodedText = tuple[list[int], list[list[int]] | None]
# The keys of config.json's data section evaluation reads (the columns training read).
PREDICTOR_DATA_KEYS = ("text_column", "label_column")


@dataclass(frozen=True)
class Prediction:
    """One text's predicted label, its probability, and the ``top_k`` best labels."""

    text: str
    label: str
    probability: float
    top: list[tuple[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "label": self.label,
            "probability": self.probability,
            "top_k": [{"label": label, "probability": p} for label, p in self.top],
        }


class Classifier:
    """A trained classifier with its tokenizer and vocabularies: what `rnnkit.load` returns."""

    task = TASK
    token_limit = TokenLimit()  # the longest text it reads; set one per predictor to change it

    # A predictor's constructor: the model and what reads its inputs, alike the tagging
    # predictor's (tasks/tagging.py) by design; each task holds its own vocabularies.
    def __init__(
        self,
        model: SequenceClassifier,
        tokenizer: Tokenizer,
        vocab: Vocab,
        labels: LabelVocab,
        config: dict[str, Any] | None = None,
        chars: Vocab | None = None,
    ) -> None:
        self.model = model.eval()
        self.tokenizer, self.vocab, self.labels = tokenizer, vocab, labels
        self.config = config or {}
        max_word_chars = self.config.get("data", {}).get("max_word_chars", 20)
        self.encoding = WordEncoding(vocab, chars=chars, max_word_chars=max_word_chars)

    @classmethod
    def load(cls, directory: str | Path) -> Classifier:
        """Rebuilds the classifier saved in ``directory`` (JSON + safetensors; no pickle)."""
        sizes = {
            "vocab.json": "vocab_size", "labels.json": "num_classes",
            CHARS_FILE: "char_vocab_size",
        }  # fmt: skip
        saved = read_model_directory(
            directory, cls.task, ClassifierConfig, SequenceClassifier, sizes,
            (DataSettings, PREDICTOR_DATA_KEYS),
        )  # fmt: skip
        chars = read_char_vocab(directory, saved.model)
        return cls(saved.model, saved.tokenizer, saved.vocab, saved.labels, saved.config, chars)

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text's tokens as the model reads them (what a task built on the classifier
        overrides to rewrite its texts first, as the pair example of the tests does)."""
        return self.tokenizer.tokenize_batch(list(texts))

    def encode(
        self, texts: Sequence[str], name: Callable[[int], str] | None = None
    ) -> list[EncodedText]:
        """Word ids (and character ids, with character features) of each text; a text with no
        token is a `DataError` naming it, a longer one than ``token_limit`` allows is
        truncated or refused (``name(i)`` names text i)."""
        token_lists = nonempty_or_error(self.tokenize(texts), texts, "classify")
        return [self.encoding.encode(t) for t in self.token_limit.apply(token_lists, name)]

    @torch.no_grad()
    def probabilities(self, texts: Sequence[str]) -> torch.Tensor:
        """Class probabilities ``(N, C)`` for N texts, computed in padded batches."""
        return batched_probabilities(self.model, self.encode(texts), self.vocab.pad_id)

    def predict(self, texts: Sequence[str], top_k: int = 1) -> list[Prediction]:
        """The most probable label of each text, with its probability and the top ``k``."""
        probabilities = self.probabilities(texts)
        k = max(1, min(top_k, len(self.labels)))
        values, indices = (found.tolist() for found in probabilities.topk(k, dim=-1))
        return [
            Prediction(
                text=text,
                label=self.labels.decode(row[0]),
                probability=value[0],
                top=[(self.labels.decode(i), v) for i, v in zip(row, value, strict=True)],
            )
            for text, row, value in zip(texts, indices, values, strict=True)
        ]

    def evaluate(
        self, examples: Sequence[TextExample], unknown_labels: str = "wrong"
    ) -> dict[str, Any]:
        """Metrics on labelled examples; see `evaluate_examples`.

        Gold labels unseen in training count as errors, with one warning line giving their
        count and the first file:line; ``unknown_labels="error"`` raises a `DataError` there.
        """
        handle_unseen(unknown_labels, [unseen_labels(examples, self.labels)])
        tokens = self.tokenize([example.text for example in examples])
        kept, tokens = drop_empty(examples, tokens, "texts")
        tokens = self.token_limit.apply(tokens, lambda i: f"{kept[i].path}:{kept[i].line}")
        encoded = [self.encoding.encode(token_list) for token_list in tokens]
        report = evaluate_examples(self.model, self.vocab, self.labels, kept, encoded)
        return {**report, "n_no_tokens": len(examples) - len(kept)}

    def evaluate_file(self, path: str, options: EvaluateOptions) -> dict[str, Any]:
        """`evaluate` on the labelled texts of ``path`` (what ``rnnkit evaluate`` runs); the
        columns, and the orientation of lines without a header, default to training's."""
        data = self.config.get("data", {})
        examples = read_classification(
            path, options.text_column or data.get("text_column"),
            options.label_column or data.get("label_column"),
            encoding_errors=options.encoding_errors, headerless=data.get("headerless"),
        ).examples  # fmt: skip
        return self.evaluate(examples, unknown_labels=options.unknown_labels)


def batched_probabilities(
    model: SequenceClassifier, encoded: list[EncodedText], pad_id: int
) -> torch.Tensor:
    """Softmax outputs ``(N, C)`` for encoded texts, batched by similar length, in input
    order."""
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    results = torch.empty(len(encoded), model.config.num_classes)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for start in range(0, len(order), EVALUATION_BATCH):
            chunk = order[start : start + EVALUATION_BATCH]
            words = pad_words([encoded[i] for i in chunk], pad_id)
            results[chunk] = model(words).softmax(dim=-1)
    model.train(was_training)
    return results


def unseen_labels(examples: Sequence[TextExample], labels: LabelVocab) -> Unseen:
    """The gold labels of ``examples`` that are not in ``labels`` (unseen in training)."""
    found = ((e.label, repr(e.label), e.path, e.line) for e in examples)
    return Unseen.find("label", found, labels)


def evaluate_examples(
    model: SequenceClassifier,
    vocab: Vocab,
    labels: LabelVocab,
    examples: Sequence[TextExample],
    encoded: list[EncodedText],
) -> dict[str, Any]:
    """Accuracy, macro/weighted F1, per-class scores, confusion matrix and mean loss.

    A gold label never seen in training counts as an error (no model could get it right):
    it becomes one more class, after the model's own, with recall 0, and the class predicted
    for it gets a false positive. ``n_unknown_label`` says how many examples had one; the loss
    is over the others.
    """
    names, index = list(labels.labels), dict(labels.index)
    for example in examples:
        if example.label not in index:
            index[example.label] = len(names)
            names.append(example.label)
    gold = torch.tensor([index[example.label] for example in examples], dtype=torch.long)
    probabilities = batched_probabilities(model, encoded, vocab.pad_id)
    report = classification_report(gold.tolist(), probabilities.argmax(dim=-1).tolist(), names)
    known = gold < len(labels)
    report["n_unknown_label"] = len(examples) - int(known.sum())
    if known.any():  # the training loss, on batches collated as in training
        items = [
            (ids, int(gold[i])) if chars is None else (ids, int(gold[i]), chars)
            for i in known.nonzero().flatten().tolist()
            for ids, chars in [encoded[i]]
        ]
        items.sort(key=lambda item: len(item[0]))
        batches = (
            collate_classification(items[start : start + EVALUATION_BATCH], vocab.pad_id)
            for start in range(0, len(items), EVALUATION_BATCH)
        )
        report["loss"] = evaluate_loss(model, batches, weight=lambda batch: len(batch.labels))
    return report
