"""The text-classification task (N→1): intent, sentiment, a name's language.

Which reader, tokenizer, model, metric and output format make it, and the two entry points:
`train_classifier` (data files → a model directory) and `Classifier` (a model directory →
predictions, evaluations and token-by-token traces).

Legend: B batch, T time, W characters per word, C classes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from rnnkit.config import config_to_dict
from rnnkit.data import (
    BucketBatchSampler,
    LabelVocab,
    TextExample,
    Tokenizer,
    Vocab,
    encode_classification,
    read_classification,
    tokenize_examples,
)
from rnnkit.data.batching import collate_classification, pad_words
from rnnkit.data.datasets import WordEncoding
from rnnkit.metrics.classification import classification_report
from rnnkit.models import ClassifierConfig, SequenceClassifier
from rnnkit.models.embeddings import load_word_vectors
from rnnkit.tasks.base import (
    AUTO_TOKENIZER_HELP,
    CHAR_FEATURES_OPTION,
    HF_DATA,
    Task,
    TrainOption,
    data_options,
    encoder_options,
    trainer_options,
)
from rnnkit.tasks.common import (
    CHARS_FILE,
    DEV_UNSEEN,
    DataSettings,
    EvaluateOptions,
    Unseen,
    build_tokenizer,
    describe_read,
    drop_empty,
    handle_unseen,
    log,
    model_files,
    nonempty_or_error,
    read_char_vocab,
    read_model_directory,
    report_fast_path,
    resolve_char_features,
    warn_unseen,
)
from rnnkit.tasks.gradient_flow import measure_gradient_flow
from rnnkit.tasks.reports import print_classification_report, print_prediction
from rnnkit.tasks.token_limit import TokenLimit
from rnnkit.training import FitResult, Trainer, TrainerConfig
from rnnkit.training.distributed import rank, world_size
from rnnkit.training.loss import evaluate_loss

TASK = "classify"
EVALUATION_BATCH = 256
# A text as the model reads it: word ids, and each word's character ids when the model has
# character features (else None).
EncodedText = tuple[list[int], list[list[int]] | None]
# The keys of config.json's data section evaluation reads (the columns training read).
PREDICTOR_DATA_KEYS = ("text_column", "label_column")


# The default recipe, measured on ten data sets (BENCHMARKS.md, "Default recipes"): words +
# their characters (where tokens are words) → Bi-LSTM → max pooling, dropout on embeddings and
# pooled features, AdamW at 2e-3, early stopping after 4 flat epochs.
CLASSIFY_MODEL = {"pooling": "max", "char_features": "auto", "embedding_dropout": 0.2,
                  "output_dropout": 0.4}  # fmt: skip
CLASSIFY_TRAINER = {"lr": 2e-3, "patience": 4}


@dataclass(frozen=True)
class ClassifyConfig:
    """Everything a classification run needs; saved in ``config.json`` beside the weights."""

    data: DataSettings = field(default_factory=DataSettings)
    model: ClassifierConfig = field(default_factory=lambda: ClassifierConfig(**CLASSIFY_MODEL))
    # Classification keeps the checkpoint with the best dev accuracy.
    trainer: TrainerConfig = field(
        default_factory=lambda: TrainerConfig(monitor="accuracy", mode="max", **CLASSIFY_TRAINER)
    )


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
        columns default to those training read."""
        data = self.config.get("data", {})
        examples = read_classification(
            path, options.text_column or data.get("text_column"),
            options.label_column or data.get("label_column"),
            encoding_errors=options.encoding_errors,
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
            inputs = pad_words([encoded[i] for i in chunk], pad_id)
            results[chunk] = model(*inputs).softmax(dim=-1)
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


def read_examples(path: str, data: DataSettings) -> list[TextExample]:
    """Reads labelled texts from any layout the data pipeline knows, logging what was skipped."""
    result = read_classification(
        path, data.text_column, data.label_column, data.on_error,
        encoding_errors=data.encoding_errors,
    )  # fmt: skip
    describe_read(path, result.report, len(result.examples))
    return result.examples


def train_classifier(
    config: ClassifyConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    task: str = TASK,
) -> FitResult:
    """Trains a classifier on ``config.data.train``, selects on ``config.data.dev``.

    Writes the model directory ``out_dir`` (``config.json``, ``vocab.json``, ``labels.json``,
    ``model.safetensors``, ``metrics.jsonl``); ``resume=True`` continues a killed run.
    ``task`` is the task recorded in ``config.json`` (another task may train a classifier).
    """
    data = config.data
    train_examples = read_examples(data.train, data)
    dev_examples = read_examples(data.dev, data)
    tokenizer = build_tokenizer(data, [example.text for example in train_examples])
    train_examples, train_tokens = drop_empty(
        train_examples, tokenize_examples(train_examples, tokenizer), "training texts"
    )
    vocab = Vocab.build(train_tokens, min_freq=data.min_freq, max_size=data.max_vocab_size)
    labels = LabelVocab.build(example.label for example in train_examples)
    config = resolve_char_features(config, train_tokens)
    chars = None
    if config.model.char_features:
        chars = Vocab.build(list(token) for tokens in train_tokens for token in tokens)
    train_set = encode_classification(
        train_examples, tokenizer, vocab, labels, data.max_length, tokens=train_tokens,
        chars=chars, max_word_chars=data.max_word_chars,
    )  # fmt: skip
    if train_set.truncated:
        log(f"{train_set.truncated} training texts truncated to {data.max_length} tokens")
    sampler = BucketBatchSampler(
        train_set.lengths, data.batch_size, seed=config.trainer.seed,
        num_replicas=world_size(), rank=rank(),
    )  # fmt: skip
    loader = DataLoader(train_set, batch_sampler=sampler, collate_fn=train_set.collate)

    model_config = dataclasses.replace(
        config.model, vocab_size=len(vocab), num_classes=len(labels), pad_id=vocab.pad_id,
        char_vocab_size=len(chars) if chars is not None else 0,
    )  # fmt: skip
    torch.manual_seed(config.trainer.seed)
    model = SequenceClassifier(model_config)
    if data.vectors:
        log(str(load_word_vectors(data.vectors, model.encoder.embedding, vocab.tokens)))

    dev_examples, dev_tokens = drop_empty(
        dev_examples, tokenize_examples(dev_examples, tokenizer), "dev texts"
    )
    encoding = WordEncoding(vocab, chars=chars, max_word_chars=data.max_word_chars)
    dev_ids = [encoding.encode(tokens) for tokens in dev_tokens]
    warn_unseen([unseen_labels(dev_examples, labels)], DEV_UNSEEN)

    def evaluate_fn(model: SequenceClassifier) -> dict[str, float]:
        report = evaluate_examples(model, vocab, labels, dev_examples, dev_ids)
        return {key: report[key] for key in ("accuracy", "macro_f1", "weighted_f1", "loss")}

    saved_config = {
        **config_to_dict(dataclasses.replace(config, model=model_config)),
        "task": task,
        **report_fast_path(model),
    }
    files = model_files(saved_config, tokenizer, vocab, labels)
    if chars is not None:
        files[CHARS_FILE] = chars.to_dict()
    trainer = Trainer(
        model, config.trainer, evaluate_fn=evaluate_fn, out_dir=out_dir, files=files,
        tokens_in_batch=lambda batch: int(batch.lengths.sum()), progress=progress,
    )  # fmt: skip
    return trainer.fit(loader, resume=resume)


CLASSIFY = Task(
    name=TASK,
    summary="Train a text classifier (N→1): intents, sentiment, a name's language.",
    example="rnnkit train classify --train data/train.csv --dev data/dev.csv --out runs/intent "
    "--cell lstm --bidirectional --epochs 10",
    config_class=ClassifyConfig,
    train=train_classifier,
    predictor=Classifier,
    metrics=("accuracy", "macro_f1", "weighted_f1"),
    print_report=print_classification_report,
    print_prediction=print_prediction,
    train_options=(
        *data_options("Training data: a file in any layout." + HF_DATA, AUTO_TOKENIZER_HELP, True),
        TrainOption(
            "text_column",
            ("data.text_column",),
            "Column / JSON field holding the text (guessed if omitted).",
        ),
        TrainOption(
            "label_column",
            ("data.label_column",),
            "Column / JSON field holding the label (guessed if omitted).",
        ),
        *encoder_options("model"),
        TrainOption(
            "pooling",
            ("model.pooling",),
            "last, mean, max, attention or concat (last, max and mean side by side).",
        ),
        CHAR_FEATURES_OPTION,
        *trainer_options(),
    ),
    onnx="classifier",
    serving="classification",
    gradient_flow=measure_gradient_flow,
)
