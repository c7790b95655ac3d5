"""Generation (1→N) quality checks: perplexity, condition fidelity, novelty, beam vs greedy.

- names: a character model conditioned on the language (RNN, LSTM, GRU): dev perplexity per
  character; condition fidelity — 50 names per language at temperature 0.8, classified by a
  Bi-LSTM names classifier trained with `train_classifier` (share classified as the requested
  language, weighted by dev frequency, and per language); novelty — share of those names not in
  the training set; beam vs greedy — beam search (beam 5, no length normalisation) vs greedy
  model log-probability on prompts made of a language and a first letter.
- eng: a word model on the English side of eng-fra train (an evenly spaced subsample, see
  ``--eng-examples``), dev perplexity per word (RNN, LSTM, GRU).
- zh: a character model on the Chinese side of cmn-eng train, dev perplexity per character.

Every training run is single-threaded and bounded (``--epochs``, ``--max-minutes`` per run,
checked at epoch ends). Data come from ``$RNNKIT_DATA`` (default ``../shared/data``).

    OMP_NUM_THREADS=1 python benchmarks/generate.py                  # everything
    OMP_NUM_THREADS=1 python benchmarks/generate.py --parts names --cells lstm
    python benchmarks/generate.py --parts names --cells lstm --epochs 1 --classifier-epochs 1 \
        --results-dir /tmp/generate-trial          # a trial run, the record left alone
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from collections import Counter
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

import rnnkit
from classify import build_config as classifier_config
from paths import SHARED_DATA
from record import add_results_dir, write_json
from rnnkit.models.language_model import LanguageModelConfig
from rnnkit.tasks.classification import train_classifier
from rnnkit.tasks.generation import GenerateConfig, TextGenerator, train_generator
from rnnkit.tasks.lm_data import GenerateData, read_texts
from rnnkit.training import TrainerConfig

CELLS = ("rnn", "lstm", "gru")
ROW_KEY = ("dataset", "cell")  # a rerun replaces the row of its data set and cell

# Per data set: files, reading and model settings that differ from the defaults in build_config.
DATASETS = {
    "names": {
        "train": "names/train.tsv", "dev": "names/dev.tsv", "tokenizer": "char",
        "condition_column": "language", "text_column": "name", "hidden_size": 128,
        "embedding_dim": 32, "epochs": 15,
    },
    "eng": {
        "train": "eng-fra/train.txt", "dev": "eng-fra/dev.txt", "tokenizer": "word",
        "side": "source", "lowercase": True, "min_freq": 2, "epochs": 5,
    },
    "zh": {
        "train": "cmn-eng/train.txt", "dev": "cmn-eng/dev.txt", "tokenizer": "zh-char",
        "side": "target", "epochs": 6,
    },
}  # fmt: skip
FIDELITY_PER_LANGUAGE = 50
TEMPERATURE = 0.8


def build_config(dataset: str, cell: str, args: argparse.Namespace) -> GenerateConfig:
    settings = DATASETS[dataset]
    data_keys = {f.name for f in dataclasses.fields(GenerateData)} - {"train", "dev"}
    data = GenerateData(
        train=str(SHARED_DATA / settings["train"]),
        dev=str(SHARED_DATA / settings["dev"]),
        max_examples=args.eng_examples if dataset == "eng" else None,
        **{key: value for key, value in settings.items() if key in data_keys},
    )
    model = LanguageModelConfig(
        cell=cell,
        embedding_dim=settings.get("embedding_dim", 128),
        hidden_size=settings.get("hidden_size", 256),
        embedding_dropout=0.1,
        output_dropout=0.2,
    )
    epochs = args.epochs or settings["epochs"]
    trainer = TrainerConfig(
        epochs=epochs, lr=3e-3, monitor="perplexity", mode="min", patience=2, seed=args.seed
    )
    return GenerateConfig(data=data, model=model, trainer=trainer)


def train_bounded(train, config, out: Path, max_minutes: float):
    """Runs ``train(config, out)`` with ``trainer.max_minutes``; returns the result and the
    wall-clock seconds."""
    trainer = dataclasses.replace(config.trainer, max_minutes=max_minutes)
    start = time.perf_counter()
    result = train(dataclasses.replace(config, trainer=trainer), out, progress=False)
    return result, time.perf_counter() - start


def runs(args: argparse.Namespace) -> Path:
    """The folder of the trained models."""
    return args.results_dir / "generate-runs"


def run_lm(dataset: str, cell: str, args: argparse.Namespace) -> dict:
    config = build_config(dataset, cell, args)
    out = runs(args) / f"{dataset}-{cell}"
    result, seconds = train_bounded(train_generator, config, out, args.max_minutes)
    return {
        "dataset": dataset,
        "cell": cell,
        "perplexity": result.best_metrics["perplexity"],
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "stop_reason": result.stop_reason,
        "train_seconds": seconds,
        "config": dataclasses.asdict(config),
    }


def names_classifier(args: argparse.Namespace):
    config = classifier_config("names", "bilstm", args.seed)
    config = dataclasses.replace(
        config, trainer=dataclasses.replace(config.trainer, epochs=args.classifier_epochs)
    )
    result, seconds = train_bounded(
        train_classifier, config, runs(args) / "names-classifier", args.max_minutes
    )
    accuracy = result.best_metrics["accuracy"]
    return rnnkit.load(runs(args) / "names-classifier"), {"accuracy": accuracy, "seconds": seconds}


def fidelity_and_novelty(generator: TextGenerator, classifier, args) -> dict:
    """Condition fidelity (weighted by dev frequency, and per language) and novelty."""
    data = GenerateData(condition_column="language", text_column="name")
    train_names = {e.text for e in read_texts(str(SHARED_DATA / "names/train.tsv"), data)}
    dev_counts = Counter(e.label for e in read_texts(str(SHARED_DATA / "names/dev.tsv"), data))
    per_language, generated = {}, []
    for index, language in enumerate(generator.conditions.labels):
        texts = [
            g.text
            for g in generator.generate(
                FIDELITY_PER_LANGUAGE, language, temperature=TEMPERATURE,
                seed=args.seed + index, max_length=30,
            )
        ]  # fmt: skip
        texts = [text or " " for text in texts]  # an empty sample counts as a miss
        predicted = [p.label for p in classifier.predict(texts)]
        per_language[language] = sum(p == language for p in predicted) / len(texts)
        generated += texts
    total = sum(dev_counts.values())
    weighted = sum(per_language[lang] * dev_counts[lang] / total for lang in per_language)
    return {
        "fidelity_weighted": weighted,
        "fidelity_macro": sum(per_language.values()) / len(per_language),
        "fidelity_per_language": per_language,
        "novelty": sum(text not in train_names for text in generated) / len(generated),
        "distinct": len(set(generated)) / len(generated),
        "examples": {lang: generated[i * 50 : i * 50 + 5] for i, lang in enumerate(per_language)},
    }


def beam_vs_greedy(generator: TextGenerator, prompts: list[tuple[str | None, str]]) -> dict:
    """Share of prompts where beam search's best log-probability >= greedy's (1e-4 slack)."""
    wins = []
    for condition, prefix in prompts:
        greedy = generator.generate(1, condition, prefix, strategy="greedy", max_length=30)[0]
        beam = generator.generate(
            1, condition, prefix, strategy="beam", beam_size=5, length_penalty=0.0, max_length=30
        )[0]
        wins.append(beam.log_prob >= greedy.log_prob - 1e-4)
    return {"prompts": len(prompts), "beam_at_least_greedy": sum(wins) / len(wins)}


def names_prompts(generator: TextGenerator) -> list[tuple[str, str]]:
    """(language, first letter) pairs seen in dev, one per pair."""
    data = GenerateData(condition_column="language", text_column="name")
    examples = read_texts(str(SHARED_DATA / "names/dev.tsv"), data)
    return sorted({(e.label, e.text[0]) for e in examples if e.label in generator.conditions})


def text_prompts(dataset: str, count: int = 100) -> list[tuple[None, str]]:
    """The first word (or character) of ``count`` evenly spaced dev sentences."""
    settings = DATASETS[dataset]
    examples = read_texts(str(SHARED_DATA / settings["dev"]), GenerateData(side=settings["side"]))
    step = max(1, len(examples) // count)
    first = (lambda t: t.split()[0]) if settings["tokenizer"] == "word" else (lambda t: t[0])
    return [(None, first(e.text)) for e in examples[::step][:count]]


def show(rows: list[dict], checks: dict) -> None:
    table = Table(title="Language models, dev perplexity per token (best epoch)")
    for column in ("data set", "cell", "perplexity", "best/run epochs", "stop", "train s"):
        table.add_column(column, justify="left" if column in ("data set", "cell") else "right")
    for row in rows:
        table.add_row(
            row["dataset"], row["cell"], f"{row['perplexity']:.3f}",
            f"{row['best_epoch']}/{row['epochs_run']}", row["stop_reason"],
            f"{row['train_seconds']:.0f}",
        )  # fmt: skip
    console = Console(width=140)
    console.print(table)
    for name, check in checks.items():
        summary = {k: v for k, v in check.items() if k not in ("examples", "fidelity_per_language")}
        console.print(f"{name}: {json.dumps(summary)}")
        if "fidelity_per_language" in check:
            per = ", ".join(f"{k} {100 * v:.0f}" for k, v in check["fidelity_per_language"].items())
            console.print(f"  per language (%): {per}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default="names,eng,zh")
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--epochs", type=int, default=None, help="override every data set's")
    parser.add_argument("--classifier-epochs", type=int, default=12)
    parser.add_argument("--eng-examples", type=int, default=40000)
    parser.add_argument("--max-minutes", type=float, default=5.0, help="per training run")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--results", default="generate", help="results/<name>.json to write")
    add_results_dir(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows, checks = [], {}
    recorded = {key: value for key, value in vars(args).items() if key != "results_dir"}
    results = {"torch": torch.__version__, "rnnkit": rnnkit.__version__, "args": recorded}

    def record() -> None:  # after each run: a stopped sweep keeps its rows
        payload = {**results, "rows": rows, "checks": checks}
        write_json(args.results, payload, key=ROW_KEY, results=args.results_dir)

    for dataset in args.parts.split(","):
        for cell in args.cells.split(","):
            rows.append(run_lm(dataset, cell, args))
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "config"}), flush=True)
            record()
        best = min((r for r in rows if r["dataset"] == dataset), key=lambda r: r["perplexity"])
        generator = rnnkit.load(runs(args) / f"{dataset}-{best['cell']}")
        prompts = names_prompts(generator) if dataset == "names" else text_prompts(dataset)
        checks[f"{dataset} beam vs greedy ({best['cell']})"] = beam_vs_greedy(generator, prompts)
        if dataset == "names":
            classifier, info = names_classifier(args)
            for cell in args.cells.split(","):
                check = fidelity_and_novelty(
                    rnnkit.load(runs(args) / f"names-{cell}"), classifier, args
                )
                checks[f"names fidelity/novelty ({cell})"] = {**check, "classifier": info}
        record()
    show(rows, checks)


if __name__ == "__main__":
    main()
