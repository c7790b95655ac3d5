"""The text-classification task (N→1): intent, sentiment, a name's language.

Which reader, tokenizer, model, metric and output format make it: its default recipe and
config, `train_classifier` (data files → a model directory) and the task's declaration,
`CLASSIFY`. The predictor, `Classifier` (a model directory → predictions, evaluations and
token-by-token traces), lives in `rnnkit.tasks.classification_predictor`.

Legend: B batch, T time, W characters per word, C classes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import shorten

import torch

from rnnkit.config import config_to_dict
from rnnkit.data import (
    LabelVocab,
    TextExample,
    Vocab,
    encode_classification,
    read_classification,
    tokenize_examples,
)
from rnnkit.data.datasets import WordEncoding
from rnnkit.data.hf import is_hf_spec
from rnnkit.data.readers import HEADERLESS_FORMATS, detect_classification_format
from rnnkit.errors import DataError
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
from rnnkit.tasks.classification_predictor import (
    TASK,
    Classifier,
    Prediction,
    evaluate_examples,
    unseen_labels,
)
from rnnkit.tasks.common import (
    CHARS_FILE,
    DEV_UNSEEN,
    DataSettings,
    Unseen,
    bucket_loader,
    build_tokenizer,
    describe_read,
    drop_empty,
    log,
    model_files,
    report_fast_path,
    resolve_char_features,
    warn_unseen,
)
from rnnkit.tasks.dev_split import train_and_dev
from rnnkit.tasks.gradient_flow import measure_gradient_flow
from rnnkit.tasks.reports import print_classification_report, print_prediction
from rnnkit.training import FitResult, Trainer, TrainerConfig

__all__ = [  # the predictor's names are imported from here too
    "CLASSIFY",
    "CLASSIFY_MODEL",
    "CLASSIFY_TRAINER",
    "Classifier",
    "ClassifyConfig",
    "Prediction",
    "train_classifier",
]


# The default recipe, measured on ten data sets (BENCHMARKS.md, "Default recipes"): words +
# their characters (where tokens are words) → Bi-LSTM → max pooling, dropout on embeddings and
# pooled features, AdamW at 3e-3 for up to 20 epochs or 10,000 steps (whole epochs; early
# stopping after 4 flat ones), the weights evaluated and kept as their moving average over
# about one epoch where an epoch has at most 250 steps (up to 16,000 examples; none above).
# Word dropout 0.05 trains <unk>, which every word unseen in training reads as (min_freq 1);
# the loss is label-smoothed cross-entropy, epsilon 0.1.
CLASSIFY_MODEL = {"pooling": "max", "char_features": "auto", "embedding_dropout": 0.2,
                  "output_dropout": 0.4, "word_dropout": 0.05,
                  "label_smoothing": 0.1}  # fmt: skip
CLASSIFY_TRAINER = {"lr": 3e-3, "patience": 4, "epochs": 20, "max_steps": 10_000,
                    "ema_epochs": 1.0, "ema_max_steps": 250}  # fmt: skip


@dataclass(frozen=True)
class ClassifyConfig:
    """Everything a classification run needs; saved in ``config.json`` beside the weights."""

    data: DataSettings = field(default_factory=DataSettings)
    model: ClassifierConfig = field(default_factory=lambda: ClassifierConfig(**CLASSIFY_MODEL))
    # Classification keeps the checkpoint with the best dev accuracy.
    trainer: TrainerConfig = field(
        default_factory=lambda: TrainerConfig(monitor="accuracy", mode="max", **CLASSIFY_TRAINER)
    )


def read_examples(path: str, data: DataSettings) -> list[TextExample]:
    """Reads labelled texts from any layout the data pipeline knows, logging what was skipped."""
    result = read_classification(
        path, data.text_column, data.label_column, data.on_error,
        encoding_errors=data.encoding_errors, headerless=data.headerless,
    )  # fmt: skip
    describe_read(path, result.report, len(result.examples))
    return result.examples


def with_headerless_layout(data: DataSettings) -> DataSettings:
    """``data`` with ``headerless`` set to the training file's orientation when it is lines
    without a header (logged), so that the dev file, and test files later, read alike."""
    if data.headerless is not None or is_hf_spec(data.train):
        return data
    layout = detect_classification_format(
        data.train, data.text_column, data.encoding_errors, label_column=data.label_column
    )
    if layout not in HEADERLESS_FORMATS:
        return data
    other = next(name for name in HEADERLESS_FORMATS if name != layout)
    log(
        f"{data.train}: lines without a header, read as {HEADERLESS_FORMATS[layout]} "
        f"(--set data.headerless={other} reads them the other way)"
    )
    return dataclasses.replace(data, headerless=layout)


def refuse_disjoint_labels(unseen: Unseen, total: int, labels: LabelVocab) -> None:
    """A `DataError` at the first dev label when none of the ``total`` occurs in training: no
    epoch could then be chosen, and the columns are most likely read the wrong way round."""
    if total and unseen.count == total:
        shown = ", ".join(repr(shorten(label, 30, placeholder="…")) for label in labels.labels[:3])
        shown += ", ..." if len(labels) > 3 else ""
        raise DataError(
            f"none of the {total} dev labels occurs in training (the first: {unseen.first}; "
            f"training's {len(labels)}: {shown}); check the label column (--label-column), "
            "or for lines without a header data.headerless",
            unseen.path,
            unseen.line,
        )


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
    data = with_headerless_layout(config.data)
    config = dataclasses.replace(config, data=data)
    train_examples, dev_examples = train_and_dev(
        read_examples(data.train, data), data.dev, lambda path: read_examples(path, data),
        data.dev_holdout, data.train,
    )  # fmt: skip
    tokenizer = build_tokenizer(data, [example.text for example in train_examples])
    train_examples, train_tokens = drop_empty(
        train_examples, tokenize_examples(train_examples, tokenizer), "training texts"
    )
    vocab = Vocab.build(train_tokens, min_freq=data.min_freq, max_size=data.max_vocab_size)
    labels = LabelVocab.build(example.label for example in train_examples)
    if len(labels) < 2:
        raise DataError(
            f"every training example has the label {labels.labels[0]!r}: a classifier needs "
            "two labels or more (is the label column the right one?)",
            data.train,
        )
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
    loader = bucket_loader(train_set, data.batch_size, config.trainer.seed)

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
    unseen = unseen_labels(dev_examples, labels)
    refuse_disjoint_labels(unseen, len(dev_examples), labels)
    warn_unseen([unseen], DEV_UNSEEN)

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


# A task's declaration: the same fields in every task module by design (each `Task` is
# data, filled from its own module), so the registry can check that none is missing.
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
        TrainOption(
            "headerless",
            ("data.headerless",),
            "Lines without a header: label-text or text-label (guessed from the training "
            "file if omitted; dev and test files are read alike).",
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
