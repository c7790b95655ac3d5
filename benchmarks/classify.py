"""Text classification on the shared data sets: RNN, LSTM, GRU, Bi-LSTM, Bi-GRU.

Trains each cell on each data set (train split), keeps the best dev epoch, and prints dev
accuracy, macro F1, training time and training tokens/s. Data sets are read from
``$RNNKIT_DATA`` (default ``../shared/data``); a missing one is skipped with a note.

    python benchmarks/classify.py                              # everything (long)
    python benchmarks/classify.py --datasets atis,names --cells lstm,bilstm
    python benchmarks/classify.py --datasets names --cells lstm --epochs 1 \
        --results-dir /tmp/classify-trial          # a trial run, the record left alone
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time

import torch
from rich.console import Console
from rich.table import Table

import rnnkit
from paths import SHARED_DATA
from record import add_results_dir, write_json
from rnnkit.models import ClassifierConfig
from rnnkit.tasks.classification import ClassifyConfig, train_classifier
from rnnkit.tasks.common import DataSettings
from rnnkit.training import TrainerConfig

# Per data set: paths, tokenizer and the settings that differ from the defaults below.
DATASETS = {
    "atis": {"train": "atis/train", "dev": "atis/valid", "tokenizer": "whitespace", "epochs": 12},
    "snips": {"train": "snips/train", "dev": "snips/valid", "tokenizer": "whitespace", "epochs": 8},
    "sst2": {
        "train": "sst2/train.tsv", "dev": "sst2/dev.tsv", "tokenizer": "whitespace", "epochs": 4,
    },
    "chnsenticorp": {
        "train": "chnsenticorp_htl/train.csv", "dev": "chnsenticorp_htl/dev.csv",
        "tokenizer": "zh-char", "epochs": 8, "max_length": 256,
    },
    "names": {
        "train": "names/train.tsv", "dev": "names/dev.tsv", "tokenizer": "char",
        "epochs": 15, "lowercase": False, "hidden_size": 128, "embedding_dim": 64,
    },
}  # fmt: skip
# The dev-accuracy targets; the table reports when training first reached them.
TARGETS = {"atis": 0.97, "snips": 0.98, "sst2": 0.85, "chnsenticorp": 0.89, "names": 0.80}
CELLS = {
    "rnn": ("rnn", False),
    "lstm": ("lstm", False),
    "gru": ("gru", False),
    "bilstm": ("lstm", True),
    "bigru": ("gru", True),
}


def build_config(
    dataset: str, cell_name: str, seed: int, epochs: int | None = None
) -> ClassifyConfig:
    """The benchmark's classifier for ``dataset`` and ``cell_name``; ``epochs`` overrides
    the data set's."""
    settings = DATASETS[dataset]
    cell, bidirectional = CELLS[cell_name]
    data = DataSettings(
        train=str(SHARED_DATA / settings["train"]),
        dev=str(SHARED_DATA / settings["dev"]),
        tokenizer=settings["tokenizer"],
        lowercase=settings.get("lowercase", True),
        max_length=settings.get("max_length"),
        batch_size=64,
    )
    model = ClassifierConfig(
        cell=cell,
        bidirectional=bidirectional,
        embedding_dim=settings.get("embedding_dim", 128),
        hidden_size=settings.get("hidden_size", 256),
        embedding_dropout=0.2,
        pooling="max",
        output_dropout=0.4,
    )
    trainer = TrainerConfig(
        epochs=epochs or settings["epochs"],
        lr=2e-3,
        monitor="accuracy",
        mode="max",
        patience=4,
        seed=seed,
    )
    return ClassifyConfig(data=data, model=model, trainer=trainer)


def run_one(dataset: str, cell_name: str, arguments: argparse.Namespace) -> dict:
    config = build_config(dataset, cell_name, arguments.seed, arguments.epochs)
    out = arguments.results_dir / "classify-runs" / f"{dataset}-{cell_name}"
    start = time.perf_counter()
    result = train_classifier(config, out, progress=False)
    seconds = time.perf_counter() - start
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    tokens = sum(record.get("tokens_per_s", 0) * record["seconds"] for record in records)
    return {
        "dataset": dataset,
        "cell": cell_name,
        "accuracy": result.best_metrics["accuracy"],
        "macro_f1": result.best_metrics["macro_f1"],
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "seconds_to_best": sum(r.get("seconds", 0) for r in records[: result.best_epoch]),
        "target": TARGETS[dataset],
        "seconds_to_target": seconds_to_reach(records, TARGETS[dataset]),
        "train_seconds": seconds,
        "tokens_per_second": tokens / seconds if tokens else None,
        "config": dataclasses.asdict(config),
    }


def seconds_to_reach(records: list[dict], target: float) -> float | None:
    """Training + evaluation seconds until the first epoch whose dev accuracy >= target."""
    elapsed = 0.0
    for record in records:
        elapsed += record["seconds"]
        if record["dev_accuracy"] >= target:
            return elapsed
    return None


def show(rows: list[dict]) -> None:
    table = Table(title="Text classification, dev split (best epoch)")
    for column in (
        "data set",
        "cell",
        "accuracy",
        "macro F1",
        "best/run epochs",
        "s to best",
        "s to target",
        "train s",
        "tokens/s",
    ):
        table.add_column(column, justify="left" if column in ("data set", "cell") else "right")
    for row in rows:
        speed = f"{row['tokens_per_second']:,.0f}" if row["tokens_per_second"] else "-"
        scores = f"{100 * row['accuracy']:.2f}", f"{100 * row['macro_f1']:.2f}"
        epochs = f"{row['best_epoch']}/{row['epochs_run']}"
        to_target = row["seconds_to_target"]
        reached = "not reached" if to_target is None else f"{to_target:.0f}"
        times = f"{row['seconds_to_best']:.0f}", reached, f"{row['train_seconds']:.0f}"
        table.add_row(row["dataset"], row["cell"], *scores, epochs, *times, speed)
    Console(width=140).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--epochs", type=int, default=None, help="override the per-set epochs")
    add_results_dir(parser)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = []
    for dataset in arguments.datasets.split(","):
        if not (SHARED_DATA / DATASETS[dataset]["train"]).exists():
            print(f"skipping {dataset}: {SHARED_DATA / DATASETS[dataset]['train']} not found")
            continue
        for cell_name in arguments.cells.split(","):
            rows.append(run_one(dataset, cell_name, arguments))
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "config"}), flush=True)
            write_json(f"classify-{arguments.datasets.replace(',', '_')}", {
                "torch": torch.__version__, "rnnkit": rnnkit.__version__,
                "threads": torch.get_num_threads(), "rows": rows,
            }, key=("dataset", "cell"), results=arguments.results_dir)  # fmt: skip
    show(rows)


if __name__ == "__main__":
    main()
