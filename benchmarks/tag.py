"""Sequence tagging on the shared data sets: ATIS and SNIPS (joint intent + slots), CoNLL-2003
English NER and MSRA Chinese NER (character level), each with and without a CRF and with and
without character features.

Trains on the train split, keeps the best dev epoch, and prints dev entity-level F1 (seqeval),
intent accuracy for the joint sets, training time and tokens/s. MSRA's tokens are single
characters, so its character-feature variants are skipped; its training data has 6 invalid BIO
moves, repaired. Data sets are read from
``../shared/data`` next to the repository; a missing one is skipped with a note.

    python benchmarks/tag.py                                      # everything (long)
    python benchmarks/tag.py --datasets atis --variants crf+chars,softmax --epochs 5
    python benchmarks/tag.py --datasets msra --max-train 10000    # a training subset
    python benchmarks/tag.py --datasets conll --variants crf --epochs 1 --max-train 200 \
        --results-dir /tmp/tag-trial               # a trial run, the record left alone
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

import rnnkit
from paths import SHARED_DATA
from record import add_results_dir, write_json
from rnnkit.data import read_tagging
from rnnkit.models import JointConfig, TaggerConfig
from rnnkit.tasks.tagging_train import JointTaskConfig, TagConfig, TagDataSettings, train_tagger
from rnnkit.training import TrainerConfig

# Per data set: paths and the settings that differ from the defaults in `build_config`.
DATASETS = {
    "atis": {"train": "atis/train", "dev": "atis/valid", "joint": True, "epochs": 20,
             "invalid_bio": "repair", "tokenizer": "whitespace"},
    "snips": {"train": "snips/train", "dev": "snips/valid", "joint": True, "epochs": 12,
              "invalid_bio": "repair", "tokenizer": "whitespace"},
    "conll": {"train": "conll2003/train.bio.tsv", "dev": "conll2003/dev.bio.tsv", "joint": False,
              "epochs": 15, "hidden_size": 200},
    "msra": {"train": "msra_ner_zh/train.txt", "dev": "msra_ner_zh/dev.txt", "joint": False,
             "epochs": 4, "tokenizer": "char", "lowercase": False, "batch_size": 64,
             "hidden_size": 200, "invalid_bio": "repair", "char_level": True},
}  # fmt: skip
# The dev targets: slot/entity F1 and, for the joint sets, intent accuracy.
TARGETS = {
    "atis": {"f1": 0.955, "intent_accuracy": 0.97},
    "snips": {"f1": 0.90, "intent_accuracy": 0.98},
    "conll": {"f1": 0.87},
    "msra": {"f1": 0.88},
}
VARIANTS = {  # name -> (use_crf, char_features)
    "crf+chars": (True, True),
    "crf": (True, False),
    "chars": (False, True),
    "softmax": (False, False),
}


def build_config(
    dataset: str, variant: str, seed: int, epochs: int | None, train: str, word_dropout: float
):
    settings = DATASETS[dataset]
    use_crf, chars = VARIANTS[variant]
    data = TagDataSettings(
        train=train,
        dev=str(SHARED_DATA / settings["dev"]),
        tokenizer=settings.get("tokenizer", "word"),
        lowercase=settings.get("lowercase", True),
        invalid_bio=settings.get("invalid_bio", "error"),
        batch_size=settings.get("batch_size", 32),
    )
    model = dict(
        embedding_dim=100, hidden_size=settings.get("hidden_size", 128), cell="lstm",
        bidirectional=True, embedding_dropout=0.25, output_dropout=0.5, use_crf=use_crf,
        char_features=chars, word_dropout=word_dropout,
    )  # fmt: skip
    joint = settings["joint"]
    trainer = TrainerConfig(
        epochs=epochs or settings["epochs"], lr=2e-3, patience=4, seed=seed,
        monitor="sentence_accuracy" if joint else "f1", mode="max", flow_check_every=0,
    )  # fmt: skip
    if joint:
        return JointTaskConfig(
            data=data, model=JointConfig(**model, pooling="max"), trainer=trainer
        )
    return TagConfig(data=data, model=TaggerConfig(**model), trainer=trainer)


def training_file(dataset: str, max_train: int | None, runs: Path) -> str:
    """The train split, or its first ``max_train`` sentences written to ``runs`` in the split's
    layout: a CoNLL file, or an ATIS/SNIPS folder (``seq.in``, ``seq.out``, ``label``)."""
    path = SHARED_DATA / DATASETS[dataset]["train"]
    if max_train is None:
        return str(path)
    examples = read_tagging(path).examples[:max_train]
    subset = runs / f"{dataset}-train-{max_train}"
    if path.is_dir():
        subset.mkdir(parents=True, exist_ok=True)
        for name, lines in (
            ("seq.in", [" ".join(e.tokens) for e in examples]),
            ("seq.out", [" ".join(e.tags) for e in examples]),
            ("label", [e.intent or "" for e in examples]),
        ):
            (subset / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        return str(subset)
    subset = subset.with_suffix(".txt")
    subset.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "\n".join(f"{t}\t{g}" for t, g in zip(e.tokens, e.tags, strict=True)) for e in examples
    ]
    subset.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    return str(subset)


def run_one(dataset: str, variant: str, arguments: argparse.Namespace) -> dict:
    runs = arguments.results_dir / "tag-runs"
    train = training_file(dataset, arguments.max_train, runs)
    config = build_config(
        dataset, variant, arguments.seed, arguments.epochs, train, arguments.word_dropout
    )
    suffix = f"-wd{arguments.word_dropout}" if arguments.word_dropout else ""
    suffix += f"-first{arguments.max_train}" if arguments.max_train else ""
    out = runs / f"{dataset}-{variant}{suffix}"
    start = time.perf_counter()
    result = train_tagger(config, out, progress=False)
    seconds = time.perf_counter() - start
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    tokens = sum(record.get("tokens_per_s", 0) * record["seconds"] for record in records)
    metrics = result.best_metrics
    return {
        "dataset": dataset,
        "variant": variant,
        "f1": metrics["f1"],
        "intent_accuracy": metrics.get("intent_accuracy"),
        "sentence_accuracy": metrics.get("sentence_accuracy"),
        "targets": TARGETS[dataset],
        "met": all(metrics.get(key, 0) >= value for key, value in TARGETS[dataset].items()),
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "max_train": arguments.max_train,
        "word_dropout": arguments.word_dropout,
        "train_seconds": seconds,
        "tokens_per_second": tokens / seconds if tokens else None,
        "config": dataclasses.asdict(config),
    }


def show(rows: list[dict]) -> None:
    table = Table(title="Sequence tagging, dev split (best epoch)")
    columns = ("data set", "variant", "F1", "intent acc", "target", "best/run epochs",
               "train s", "tokens/s")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column in ("data set", "variant") else "right")
    for row in rows:
        intent = row["intent_accuracy"]
        speed = f"{row['tokens_per_second']:,.0f}" if row["tokens_per_second"] else "-"
        table.add_row(
            row["dataset"] + (f" (first {row['max_train']})" if row["max_train"] else ""),
            row["variant"] + (f" wd {row['word_dropout']}" if row["word_dropout"] else ""),
            f"{100 * row['f1']:.2f}",
            "-" if intent is None else f"{100 * intent:.2f}",
            "met" if row["met"] else "missed", f"{row['best_epoch']}/{row['epochs_run']}",
            f"{row['train_seconds']:.0f}", speed,
        )  # fmt: skip
    Console(width=140).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--epochs", type=int, default=None, help="override the per-set epochs")
    parser.add_argument("--max-train", type=int, default=None, help="first N train sentences")
    parser.add_argument("--word-dropout", type=float, default=0.0, help="read words as <unk>")
    parser.add_argument("--seed", type=int, default=13)
    add_results_dir(parser)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = []
    name = f"tag-{arguments.datasets.replace(',', '_')}-{arguments.variants.replace(',', '_')}"
    name += f"-wd{arguments.word_dropout}" if arguments.word_dropout else ""
    name += f"-first{arguments.max_train}" if arguments.max_train else ""
    for dataset in arguments.datasets.split(","):
        if not (SHARED_DATA / DATASETS[dataset]["train"]).exists():
            print(f"skipping {dataset}: {SHARED_DATA / DATASETS[dataset]['train']} not found")
            continue
        for variant in arguments.variants.split(","):
            if DATASETS[dataset].get("char_level") and VARIANTS[variant][1]:
                print(f"skipping {dataset} {variant}: its tokens are single characters")
                continue
            row = run_one(dataset, variant, arguments)
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "config"}), flush=True)
            write_json(name, {
                "torch": torch.__version__, "rnnkit": rnnkit.__version__,
                "threads": torch.get_num_threads(), "rows": rows,
            }, key=("dataset", "variant"), results=arguments.results_dir)  # fmt: skip
    show(rows)


if __name__ == "__main__":
    main()
