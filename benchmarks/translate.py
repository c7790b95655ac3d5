"""Translation on the shared data sets: Bi-GRU / Bi-LSTM encoders, additive / dot attention.

Trains one configuration per call within a wall-clock budget (``--max-minutes``; training
stops at the first epoch end past it), keeps the best dev-BLEU epoch (greedy), then scores
the dev split with greedy decoding and with beam 5. Prints the table of every recorded run and
writes ``benchmarks/results/translate.json`` (runs accumulate; a rerun replaces its row).

    OMP_NUM_THREADS=1 python benchmarks/translate.py --dataset multi30k --encoder bigru \
        --attention dot --max-minutes 30 --epochs 8
    python benchmarks/translate.py --table        # print the recorded table only
    python benchmarks/translate.py --epochs 1 --max-examples 500 --dev-max-examples 50 \
        --hidden-size 32 --results-dir /tmp/translate-trial   # a trial, the record left alone
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
from record import add_results_dir, read_rows, write_json
from rnnkit.models.encoder import EncoderConfig
from rnnkit.models.seq2seq import DecoderConfig, Seq2SeqConfig
from rnnkit.tasks.translation import TranslateConfig, TranslationData, Translator, read_pairs
from rnnkit.tasks.translation_train import train_translator
from rnnkit.training import TrainerConfig

# Per data set: the files and settings that differ from TranslationData's defaults.
DATASETS = {
    "multi30k": {
        "pair": "de→en", "train": "multi30k/train", "dev": "multi30k/val",
        "source_lang": "de", "target_lang": "en",
    },
    "eng-fra": {"pair": "en→fr", "train": "eng-fra/train.txt", "dev": "eng-fra/dev.txt"},
    "cmn-eng": {
        "pair": "en→zh", "train": "cmn-eng/train.txt", "dev": "cmn-eng/dev.txt",
        "target_tokenizer": "zh-char",
    },
}  # fmt: skip
TARGETS = {"multi30k": 32.0, "eng-fra": 40.0, "cmn-eng": None}
ENCODERS = {"bigru": "gru", "bilstm": "lstm"}


def build_config(arguments: argparse.Namespace) -> TranslateConfig:
    settings = {k: v for k, v in DATASETS[arguments.dataset].items() if k != "pair"}
    for key in ("train", "dev"):
        settings[key] = str(SHARED_DATA / settings[key])
    data = TranslationData(
        **settings, min_freq=2, batch_size=arguments.batch_size,
        max_examples=arguments.max_examples, dev_max_examples=arguments.dev_max_examples,
    )  # fmt: skip
    cell = ENCODERS[arguments.encoder]
    hidden = arguments.hidden_size
    model = Seq2SeqConfig(
        encoder=EncoderConfig(
            embedding_dim=arguments.embedding_dim, cell=cell, hidden_size=hidden,
            bidirectional=True, embedding_dropout=arguments.dropout,
        ),
        decoder=DecoderConfig(
            embedding_dim=arguments.embedding_dim, cell=cell, attention=arguments.attention,
            attention_size=hidden, input_feeding=arguments.input_feeding,
            embedding_dropout=arguments.dropout, output_dropout=arguments.dropout,
        ),
        label_smoothing=0.1,
    )  # fmt: skip
    trainer = TrainerConfig(
        epochs=arguments.epochs, max_minutes=arguments.max_minutes, lr=arguments.lr,
        monitor="bleu", mode="max", patience=3, seed=arguments.seed, flow_check_every=0,
    )  # fmt: skip
    return TranslateConfig(data=data, model=model, trainer=trainer)


def run_one(arguments: argparse.Namespace) -> dict:
    config = build_config(arguments)
    name = f"{arguments.dataset}-{arguments.encoder}-{arguments.attention}"
    if arguments.max_examples is not None:
        name += f"-{arguments.max_examples}pairs"
    if arguments.tag:
        name += f"-{arguments.tag}"
    out = arguments.results_dir / "translate-runs" / name
    start = time.perf_counter()
    result = train_translator(config, out, progress=False)
    train_seconds = time.perf_counter() - start
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    translator = Translator.load(out)
    dev = read_pairs(config.data.dev, config.data, config.data.dev_max_examples)
    greedy, beam = translator.evaluate(dev, beam=1), translator.evaluate(dev, beam=5)
    tokens = sum(record.get("tokens_per_s", 0) * record["seconds"] for record in records)
    return {
        "name": name,
        "dataset": arguments.dataset,
        "pair": DATASETS[arguments.dataset]["pair"],
        "train_pairs": arguments.max_examples or "all",
        "encoder": arguments.encoder,
        "attention": arguments.attention,
        "greedy": {key: greedy[key] for key in ("bleu", "chrf", "seconds")},
        "beam5": {key: beam[key] for key in ("bleu", "chrf", "seconds")},
        "n_dev": greedy["n"],
        "target_bleu": TARGETS[arguments.dataset],
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "stop_reason": result.stop_reason,
        "train_seconds": round(train_seconds, 1),
        "target_tokens_per_second": round(tokens / sum(r["seconds"] for r in records), 1),
        "epochs": records,
        "config": dataclasses.asdict(config),
    }


def show(rows: list[dict]) -> None:
    table = Table(title="Translation, dev split (best dev-BLEU epoch), 1 CPU thread")
    columns = (
        "data set", "train pairs", "encoder", "attention", "H", "BLEU greedy", "BLEU beam 5",
        "chrF greedy", "chrF beam 5", "target", "epochs", "train min", "target tok/s",
    )  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column in columns[:4] else "right")
    for row in rows:
        target = row["target_bleu"]
        table.add_row(
            f"{row['dataset']} {row['pair']}", str(row.get("train_pairs", "all")),
            row["encoder"], row["attention"], str(row["config"]["model"]["encoder"]["hidden_size"]),
            f"{row['greedy']['bleu']:.2f}", f"{row['beam5']['bleu']:.2f}",
            f"{row['greedy']['chrf']:.2f}", f"{row['beam5']['chrf']:.2f}",
            "report" if target is None else f">= {target:.0f}",
            f"{row['best_epoch']}/{row['epochs_run']}", f"{row['train_seconds'] / 60:.1f}",
            f"{row['target_tokens_per_second']:,.0f}",
        )  # fmt: skip
    Console(width=160).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="multi30k")
    parser.add_argument("--encoder", choices=sorted(ENCODERS), default="bigru")
    parser.add_argument("--attention", choices=["additive", "dot", "general"], default="dot")
    parser.add_argument("--input-feeding", action="store_true")
    parser.add_argument("--max-minutes", type=float, default=30.0)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--max-examples", type=int, default=None)
    parser.add_argument("--dev-max-examples", type=int, default=None)
    parser.add_argument("--embedding-dim", type=int, default=256)
    parser.add_argument("--hidden-size", type=int, default=256)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--tag", default="", help="Suffix of the run's name (keeps its row).")
    parser.add_argument("--table", action="store_true", help="Only print the recorded table.")
    add_results_dir(parser)
    arguments = parser.parse_args()
    if not arguments.table:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        row = run_one(arguments)
        print(json.dumps({k: v for k, v in row.items() if k not in ("config", "epochs")}))
        # merged at write time: runs side by side keep their rows
        write_json("translate", {
            "torch": torch.__version__, "rnnkit": rnnkit.__version__,
            "threads": torch.get_num_threads(), "rows": [row],
        }, key=("name",), results=arguments.results_dir)  # fmt: skip
    show(read_rows("translate", results=arguments.results_dir))


if __name__ == "__main__":
    main()
