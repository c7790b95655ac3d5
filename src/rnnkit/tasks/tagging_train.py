"""Training the tagging tasks: tagged files → a model directory.

`train_tagger` trains a `SequenceTagger` (task ``tag``) from a `TagConfig`, or a
`JointIntentSlot` (task ``joint``) from a `JointTaskConfig`; both select on the dev split's
entity-level F1 (joint: sentence accuracy, intent and every slot right).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnnkit.config import config_to_dict
from rnnkit.data import (
    LabelVocab,
    TaggedBatch,
    TaggedExample,
    Vocab,
    encode_tagging,
)
from rnnkit.data.bio import check_bio
from rnnkit.data.datasets import WordEncoding
from rnnkit.data.hf import INTENT_COLUMNS, TAG_COLUMNS, TOKEN_COLUMNS
from rnnkit.errors import DataError
from rnnkit.models import JointConfig, JointIntentSlot, SequenceTagger, TaggerConfig
from rnnkit.models.embeddings import load_word_vectors
from rnnkit.tasks.base import (
    CHAR_FEATURES_OPTION,
    HF_DATA,
    Task,
    TrainOption,
    data_options,
    encoder_options,
    trainer_options,
)
from rnnkit.tasks.common import (
    CHAR_FEATURES_MIN_MEAN_LENGTH,
    CHARS_FILE,
    DEV_UNSEEN,
    bucket_loader,
    describe_read,
    drop_empty,
    log,
    mean_token_length,
    model_files,
    report_fast_path,
    resolve_char_features,
    tokenizer_with,
    warn_unseen,
)
from rnnkit.tasks.dev_split import train_and_dev
from rnnkit.tasks.gradient_flow import measure_gradient_flow
from rnnkit.tasks.reports import print_spans, print_tagging_report
from rnnkit.tasks.tagging import (
    EVALUATION_BATCH,
    INTENTS_FILE,
    JOINT_TASK,
    TAG_TASK,
    JointTagger,
    Tagger,
    evaluate_tagging,
    scorable,
    unseen_tags,
)
from rnnkit.tasks.tagging_settings import TagDataSettings, read_tagged
from rnnkit.training import FitResult, Trainer, TrainerConfig
from rnnkit.training.loss import dataset_batches, evaluate_loss

# The measured tagging recipe (BENCHMARKS.md, "Sequence tagging"): character features where
# tokens are words, dropout on the word representations, a CRF; AdamW at 2e-3.
TAGGING_MODEL = {"char_features": "auto", "embedding_dropout": 0.25, "output_dropout": 0.5}
# tag only: word dropout trains <unk>, which every word unseen in training reads as (with
# min_freq 1 nothing else does): CoNLL-2003 +1.9 F1, ATIS slots +0.1. The joint model keeps
# none: a tie on ATIS, a loss on SNIPS (BENCHMARKS.md, "Tagging defaults").
TAG_WORD_DROPOUT = 0.05
# 20 epochs (with early stopping): on ATIS joint +1.1 slot F1 over 10 at 1.8x the time, and
# every tagging run of BENCHMARKS.md was still improving past its tenth epoch.
TAGGING_TRAINER = {"epochs": 20, "lr": 2e-3, "patience": 4, "mode": "max"}
JOINT_POOLING = "max"  # how the joint model's intent head reads the sentence


@dataclass(frozen=True)
class TagConfig:
    """A ``tag`` run (slot filling, NER); saved in ``config.json`` beside the weights."""

    data: TagDataSettings = field(default_factory=TagDataSettings)
    model: TaggerConfig = field(
        default_factory=lambda: TaggerConfig(**TAGGING_MODEL, word_dropout=TAG_WORD_DROPOUT)
    )
    trainer: TrainerConfig = field(
        default_factory=lambda: TrainerConfig(monitor="f1", **TAGGING_TRAINER)
    )


@dataclass(frozen=True)
class JointTaskConfig:
    """A ``joint`` intent + slot run; saved in ``config.json`` beside the weights."""

    data: TagDataSettings = field(default_factory=TagDataSettings)
    model: JointConfig = field(
        default_factory=lambda: JointConfig(**TAGGING_MODEL, pooling=JOINT_POOLING)
    )
    trainer: TrainerConfig = field(
        default_factory=lambda: TrainerConfig(monitor="sentence_accuracy", **TAGGING_TRAINER)
    )


def read_sentences(path: str, data: TagDataSettings, what: str) -> list[TaggedExample]:
    """Reads tagged sentences from any tagging layout, logging what was skipped (sentences
    with no tokens too, ``what`` naming them)."""
    examples, report = read_tagged(
        path, dataclasses.asdict(data), data.on_error, data.encoding_errors
    )
    describe_read(path, report, len(examples))
    return drop_empty(examples, [example.tokens for example in examples], what)[0]


def prediction_tokenizer(data: TagDataSettings, examples: Sequence[TaggedExample]):
    """The tokenizer that splits raw text at prediction time (case kept: words are looked up
    lower-cased by `WordEncoding`, characters keep their case); ``auto`` reads characters
    when the training tokens average fewer than ``CHAR_FEATURES_MIN_MEAN_LENGTH``."""
    name = data.tokenizer
    if name == "auto":
        mean = mean_token_length(example.tokens for example in examples)
        name = "word" if mean >= CHAR_FEATURES_MIN_MEAN_LENGTH else "char"
        log(f"tokenizer auto → {name} (splits raw text at prediction time)")
    return tokenizer_with(name, keep_spaces=False, normalize=data.normalize)


def build_model(
    config: TagConfig | JointTaskConfig,
    vocab: Vocab,
    tags: LabelVocab,
    chars: Vocab | None,
    intents: LabelVocab | None,
    constrain: bool,
) -> SequenceTagger | JointIntentSlot:
    sizes: dict[str, Any] = {"vocab_size": len(vocab), "num_tags": len(tags), "pad_id": 0}
    if chars is not None:
        sizes["char_vocab_size"] = len(chars)
    if intents is not None:
        sizes["num_intents"] = len(intents)
    model_config = dataclasses.replace(config.model, **sizes)
    torch.manual_seed(config.trainer.seed)
    model = (JointIntentSlot if intents is not None else SequenceTagger)(model_config)
    if model_config.use_crf and constrain:
        model.constrain_bio(tags.labels)
    return model


def train_tagger(
    config: TagConfig | JointTaskConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
) -> FitResult:
    """Trains a tagger (`TagConfig`) or a joint model (`JointTaskConfig`) on
    ``config.data.train``, selecting on ``config.data.dev``; writes the model directory
    ``out_dir`` (``config.json``, ``vocab.json``, ``labels.json`` (tags), ``chars.json``,
    ``intents.json`` (joint), ``model.safetensors``, ``metrics.jsonl``)."""
    data, joint = config.data, isinstance(config, JointTaskConfig)
    bio = check_bio(read_sentences(data.train, data, "training sentences"), data.invalid_bio)
    train_examples, dev_examples = train_and_dev(
        bio.examples, data.dev, lambda path: read_sentences(path, data, "dev sentences"),
        data.dev_holdout, data.train,
    )  # fmt: skip
    if joint and any(example.intent is None for example in train_examples):
        raise DataError(
            "joint training needs an intent for every sentence (an ATIS/SNIPS folder with "
            "seq.in, seq.out and label)",
            data.train,
        )
    lowered = [
        [t.lower() for t in e.tokens] if data.lowercase else e.tokens for e in train_examples
    ]
    vocab = Vocab.build(lowered, min_freq=data.min_freq, max_size=data.max_vocab_size)
    tags = LabelVocab.build(tag for example in train_examples for tag in example.tags)
    intents = LabelVocab.build(e.intent or "" for e in train_examples) if joint else None
    config = resolve_char_features(config, [example.tokens for example in train_examples])
    chars = None
    if config.model.char_features:
        chars = Vocab.build(list(token) for e in train_examples for token in e.tokens)
    train_set = encode_tagging(
        train_examples, vocab, tags, intents, data.max_length, data.lowercase, chars,
        data.max_word_chars,
    )  # fmt: skip
    if train_set.truncated:
        log(f"{train_set.truncated} training sentences truncated to {data.max_length} tokens")
    loader = bucket_loader(train_set, data.batch_size, config.trainer.seed)
    # Invalid moves kept in the training tags must stay possible for the CRF.
    constrain = bio.invalid == 0 or data.invalid_bio == "repair"
    model = build_model(config, vocab, tags, chars, intents, constrain)
    if data.vectors:
        log(str(load_word_vectors(data.vectors, model.encoder.embedding, vocab.tokens)))
    encoding = WordEncoding(vocab, data.lowercase, chars, data.max_word_chars)
    warn_unseen(unseen_tags(dev_examples, tags, intents).values(), DEV_UNSEEN)
    # The dev loss: the training loss on the dev sentences whose tags (and intent) are known.
    dev_set = encode_tagging(
        [e for e in dev_examples if scorable(e, tags, intents)], vocab, tags, intents,
        lowercase=data.lowercase, chars=chars, max_word_chars=data.max_word_chars,
    )  # fmt: skip

    def evaluate_fn(model: SequenceTagger | JointIntentSlot) -> dict[str, float]:
        report = evaluate_tagging(model, encoding, tags, dev_examples, intents)
        metrics = {key: value for key, value in report.items() if isinstance(value, float)}
        batches = dataset_batches(dev_set, EVALUATION_BATCH)
        return {**metrics, "loss": evaluate_loss(model, batches, weight=tagged_tokens)}

    task = JOINT_TASK if joint else TAG_TASK
    saved = {
        **config_to_dict(dataclasses.replace(config, model=model.config)),
        "task": task,
        **report_fast_path(model),
    }
    files = model_files(saved, prediction_tokenizer(data, train_examples), vocab, tags)
    if chars is not None:
        files[CHARS_FILE] = chars.to_dict()
    if intents is not None:
        files[INTENTS_FILE] = intents.to_dict()
    trainer = Trainer(
        model, config.trainer, evaluate_fn=evaluate_fn, out_dir=out_dir,
        files=files, tokens_in_batch=tagged_tokens, progress=progress,
    )  # fmt: skip
    return trainer.fit(loader, resume=resume)


def tagged_tokens(batch: TaggedBatch) -> int:
    """The tokens of a batch: what the per-token loss is a mean over."""
    return int(batch.lengths.sum())


def tagging_options(joint: bool) -> tuple[TrainOption, ...]:
    """The options of ``rnnkit train tag`` and, with the intent column, ``train joint``."""
    intent = TrainOption(
        "intent_column",
        ("data.intent_column",),
        f"hf: data sets: the intent column (guessed: {', '.join(INTENT_COLUMNS)}).",
    )
    return (
        *data_options(
            "CoNLL column file, char-per-line Chinese NER, ATIS/SNIPS folder." + HF_DATA,
            "Splits raw text when predicting: auto (default: char when the training tokens are "
            "single characters, else word), word, whitespace, char, zh-char, jieba.",
            vectors=True,
        ),
        TrainOption(
            "tokens_column",
            ("data.tokens_column",),
            f"hf: data sets: the column of token lists (guessed: {', '.join(TOKEN_COLUMNS)}).",
        ),
        TrainOption(
            "tags_column",
            ("data.tags_column",),
            f"hf: data sets: the column of tag lists (guessed: {', '.join(TAG_COLUMNS)}).",
        ),
        *((intent,) if joint else ()),
        TrainOption(
            "iob1",
            ("data.convert_iob1",),
            "Tags are IOB1 (original CoNLL-2003).",
            bool,
            "--iob1/--bio",
        ),
        TrainOption(
            "invalid_bio",
            ("data.invalid_bio",),
            "Invalid BIO moves in training data: error, repair or keep.",
        ),
        *encoder_options("model"),
        TrainOption("crf", ("model.use_crf",), "A CRF over tag scores.", bool, "--crf/--no-crf"),
        CHAR_FEATURES_OPTION,
        *trainer_options(),
    )


# A task's declaration: the same fields in every task module by design (each `Task` is
# data, filled from its own module), so the registry can check that none is missing.
TAG = Task(
    name=TAG_TASK,
    summary="Train a sequence tagger (N→N): slot filling, named entities, Chinese NER.",
    example="rnnkit train tag --train conll2003/train.bio.tsv --dev conll2003/dev.bio.tsv "
    "--out runs/ner --char-features --crf",
    config_class=TagConfig,
    train=train_tagger,
    predictor=Tagger,
    metrics=("f1", "precision", "recall"),
    print_report=print_tagging_report,
    print_prediction=print_spans,
    train_options=tagging_options(joint=False),
    onnx="tagger",
    serving="tagging",
    gradient_flow=measure_gradient_flow,
)
# A task's declaration: the same fields in every task module by design (each `Task` is
# data, filled from its own module), so the registry can check that none is missing.
JOINT = Task(
    name=JOINT_TASK,
    summary="Train a joint intent + slot model (N→1 and N→N on one encoder).",
    example="rnnkit train joint --train atis/train --dev atis/valid --out runs/atis "
    "--char-features",
    config_class=JointTaskConfig,
    train=train_tagger,
    predictor=JointTagger,
    metrics=("f1", "precision", "recall", "intent_accuracy", "sentence_accuracy"),
    print_report=print_tagging_report,
    print_prediction=print_spans,
    train_options=tagging_options(joint=True),
    onnx="joint",
    serving="joint",
    gradient_flow=measure_gradient_flow,
)
