"""Training the translation task: parallel data → a model directory (`train_translator`).

The predictor, `Translator`, and the reading, decoding and scoring it shares with training live
in `rnnkit.tasks.translation`.

Legend: B batch, S source length, T target length.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rnnkit.config import config_to_dict
from rnnkit.data import (
    EncodedDataset,
    ParallelBatch,
    ParallelExample,
    Tokenizer,
    Vocab,
    encode_parallel,
)
from rnnkit.data.hf import SOURCE_COLUMNS, TARGET_COLUMNS
from rnnkit.models.seq2seq import Seq2Seq, Seq2SeqConfig
from rnnkit.tasks.base import (
    HF_DATA,
    Task,
    TrainOption,
    data_options,
    encoder_options,
    trainer_options,
)
from rnnkit.tasks.common import bucket_loader, log, report_fast_path
from rnnkit.tasks.dev_split import train_and_dev
from rnnkit.tasks.gradient_flow import measure_gradient_flow
from rnnkit.tasks.integrity import format_versions
from rnnkit.tasks.reports import print_translation, print_translation_report
from rnnkit.tasks.translation import (
    DECODE_BATCH,
    SOURCE_VOCAB,
    TARGET_VOCAB,
    TASK,
    TranslateConfig,
    TranslationData,
    Translator,
    build_side_tokenizer,
    build_vocabularies,
    nonempty_pairs,
    read_pairs,
    score_translations,
    spread_sample,
    translate_ids,
)
from rnnkit.training import FitResult, Trainer
from rnnkit.training.loss import dataset_batches, evaluate_loss


@dataclass(frozen=True)
class PreparedData:
    """Tokenizers, vocabularies and encoded pairs built from the training data."""

    source_tokenizer: Tokenizer
    target_tokenizer: Tokenizer
    source_vocab: Vocab
    target_vocab: Vocab
    train_set: EncodedDataset
    dev_examples: list[ParallelExample]
    dev_set: EncodedDataset


def prepare_data(data: TranslationData) -> PreparedData:
    """Reads both splits, builds the tokenizers (BPE trains here) and vocabularies, encodes."""
    train_examples, dev_examples = train_and_dev(
        read_pairs(data.train, data, data.max_examples), data.dev,
        lambda path: read_pairs(path, data, data.dev_max_examples), data.dev_holdout, data.train,
    )  # fmt: skip
    dev_examples = spread_sample(dev_examples, data.dev_max_examples)  # a held-out dev too
    sources, targets = [ex.source for ex in train_examples], [ex.target for ex in train_examples]
    source_tokenizer = build_side_tokenizer(data.source_tokenizer, data, sources)
    target_tokenizer = build_side_tokenizer(data.target_tokenizer, data, targets)
    sides = (source_tokenizer, target_tokenizer)
    train_examples = nonempty_pairs(train_examples, *sides, "training pairs")
    dev_examples = nonempty_pairs(dev_examples, *sides, "dev pairs")
    vocabs = build_vocabularies(train_examples, source_tokenizer, target_tokenizer, data)
    log(f"vocabularies: source {len(vocabs[0])}, target {len(vocabs[1])}")
    tools = (source_tokenizer, target_tokenizer, *vocabs)
    train_set = encode_parallel(train_examples, *tools, data.max_length)
    if train_set.truncated:
        log(f"{train_set.truncated} training pairs truncated to {data.max_length} tokens")
    dev_set = encode_parallel(dev_examples, *tools)
    return PreparedData(*tools, train_set, dev_examples, dev_set)


def train_translator(
    config: TranslateConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
) -> FitResult:
    """Trains a `Seq2Seq` on ``config.data.train``, selecting on dev BLEU (greedy decoding).

    Writes the model directory ``out_dir`` (``config.json``, ``source_vocab.json``,
    ``target_vocab.json``, ``model.safetensors``, ``metrics.jsonl``).
    """
    prepared = prepare_data(config.data)
    train_set, target_vocab = prepared.train_set, prepared.target_vocab
    loader = bucket_loader(train_set, config.data.batch_size, config.trainer.seed)
    model_config = resolve_model_config(config.model, prepared.source_vocab, target_vocab)
    torch.manual_seed(config.trainer.seed)
    model = Seq2Seq(model_config)
    dev_ids = [source for source, _ in prepared.dev_set.items]

    def evaluate_fn(model: Seq2Seq) -> dict[str, float]:
        detokenize = prepared.target_tokenizer.detokenize
        texts = [
            detokenize(target_vocab.decode(h[0].tokens)) for h in translate_ids(model, dev_ids)
        ]
        scores = score_translations(texts, prepared.dev_examples, config.data)
        return {**scores, "loss": dev_loss(model, prepared.dev_set)}

    saved_config = {
        **config_to_dict(dataclasses.replace(config, model=model_config)),
        "task": TASK,
        **report_fast_path(model, {"encoder.": "model.encoder.", "decoder.": "model.decoder."}),
    }
    trainer = Trainer(
        model, config.trainer, evaluate_fn=evaluate_fn, out_dir=out_dir,
        files=model_directory_files(saved_config, prepared), tokens_in_batch=target_tokens,
        progress=progress,
    )  # fmt: skip
    return trainer.fit(loader, resume=resume)


def target_tokens(batch: ParallelBatch) -> int:
    """Target tokens predicted in a batch (``<eos>`` included, ``<bos>`` not): for tokens/s."""
    return int(batch.target_lengths.sum()) - len(batch.target_lengths)


def dev_loss(model: Seq2Seq, dev_set) -> float:
    """Mean teacher-forced training loss per target token on the dev pairs (label-smoothed
    when the model trains with label smoothing)."""
    return evaluate_loss(model, dataset_batches(dev_set, DECODE_BATCH), weight=target_tokens)


def resolve_model_config(config: Seq2SeqConfig, source: Vocab, target: Vocab) -> Seq2SeqConfig:
    """The model config with vocabulary sizes and special ids taken from the vocabularies."""
    return dataclasses.replace(
        config,
        encoder=dataclasses.replace(
            config.encoder, vocab_size=len(source), pad_id=source.pad_id, unk_id=source.unk_id
        ),
        decoder=dataclasses.replace(config.decoder, vocab_size=len(target)),
        pad_id=target.pad_id, bos_id=target.bos_id, eos_id=target.eos_id,
    )  # fmt: skip


def model_directory_files(config: dict[str, Any], prepared: PreparedData) -> dict[str, Any]:
    """The JSON files of a translation model directory."""
    tokenizers = {
        "source": prepared.source_tokenizer.to_config(),
        "target": prepared.target_tokenizer.to_config(),
    }
    return {
        "config.json": {**config, "tokenizer": tokenizers, **format_versions()},
        SOURCE_VOCAB: prepared.source_vocab.to_dict(),
        TARGET_VOCAB: prepared.target_vocab.to_dict(),
    }


TOKENIZER_NAMES = "word, whitespace, char, zh-char, jieba or bpe"


def translation_options() -> tuple[TrainOption, ...]:
    """The encoder's options set both sides where the decoder has the same field."""
    both = {"cell", "layers", "embedding_dim"}
    encoder = []
    for option in encoder_options("model.encoder"):
        if option.name in both:
            decoder_field = option.fields[0].replace("model.encoder.", "model.decoder.")
            option = dataclasses.replace(option, fields=(*option.fields, decoder_field))
        encoder.append(option)
    helps = {
        "layers": "Encoder and decoder layers.",
        "hidden_size": "Encoder hidden units per direction.",
    }
    encoder = [dataclasses.replace(o, help=helps.get(o.name, o.help)) for o in encoder]
    return (
        *data_options(
            "Training pairs: a source<TAB>target file, or with --source/--target a path prefix P "
            "naming the line-aligned files P.SRC and P.TGT." + HF_DATA,
            tokenizer_help=None,
            vectors=False,
        ),
        TrainOption(
            "source",
            ("data.source_lang",),
            "Source language: the suffix of line-aligned files (de reads P.de); in an hf: data "
            "set, the key read in a translation column, or the name of the source column.",
        ),
        TrainOption(
            "target",
            ("data.target_lang",),
            "Target language: the suffix of line-aligned files (en reads P.en), or the hf: "
            "data set's key or column, as for --source.",
        ),
        TrainOption(
            "source_column",
            ("data.source_column",),
            "hf: data sets: the column of source texts (guessed: the --source language, "
            f"{', '.join(SOURCE_COLUMNS)}).",
        ),
        TrainOption(
            "target_column",
            ("data.target_column",),
            "hf: data sets: the column of target texts (guessed: the --target language, "
            f"{', '.join(TARGET_COLUMNS)}).",
        ),
        TrainOption(
            "reverse",
            ("data.reverse",),
            "Swap the sides: translate the target column (or file) into the source one.",
            bool,
            "--reverse/--no-reverse",
        ),
        TrainOption("source_tokenizer", ("data.source_tokenizer",), TOKENIZER_NAMES + "."),
        TrainOption(
            "target_tokenizer",
            ("data.target_tokenizer",),
            TOKENIZER_NAMES + "; zh-char or jieba for Chinese.",
        ),
        *encoder,
        TrainOption("attention", ("model.decoder.attention",), "additive, dot or general."),
        *trainer_options(),
    )


# A task's declaration: the same fields in every task module by design (each `Task` is
# data, filled from its own module), so the registry can check that none is missing.
TRANSLATE = Task(
    name=TASK,
    summary="Train an encoder–decoder translator with attention (N→M).",
    example="rnnkit train translate --train data/eng-fra/train.txt --dev "
    "data/eng-fra/dev.txt --out runs/en-fr --epochs 10  (line-aligned files: --train "
    "data/multi30k/train --dev data/multi30k/val --source de --target en; a Hugging Face data "
    "set: --train hf:Helsinki-NLP/opus-100:en-fr:train --dev "
    "hf:Helsinki-NLP/opus-100:en-fr:validation --source en --target fr)",
    config_class=TranslateConfig,
    train=train_translator,
    predictor=Translator,
    metrics=("bleu", "chrf"),
    print_report=print_translation_report,
    print_prediction=print_translation,
    train_options=translation_options(),
    onnx="seq2seq",
    serving="translation",
    gradient_flow=measure_gradient_flow,
)
