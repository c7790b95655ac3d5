"""Candidate default recipes, measured on every labelled data set: which should be the default?

Each candidate is a set of config overrides (the ``--set`` keys) applied to the task's
built-in defaults; nothing differs per data set except paths. Every (candidate, data set,
seed) run trains on the train split and keeps the best dev epoch. The table ranks the
candidates on each data set (mean over seeds) and orders them by their average rank over the
data sets: the default is the best average rank, not the best score on one set.

    python benchmarks/recipes.py --candidates defaults,last-pooling --seeds 13,14
    python benchmarks/recipes.py --datasets atis,trec --max-train 2000 --max-dev 1000
    python benchmarks/recipes.py --task tag --datasets conll,msra --candidates defaults,ema1

``--task tag`` (CoNLL-2003, MSRA, the slots of ATIS and SNIPS; ranked on entity F1) and
``--task joint`` (ATIS and SNIPS; ranked on sentence accuracy, the metric the joint model keeps
its best epoch by) sweep the tagging candidates the same way; their rows keep every dev metric.

Screening on subsets: ``--max-train N`` trains on a fixed random N-example subset of each
train split (and ``--max-dev`` caps the dev split the same way). Every finished run is
appended at once to ``benchmarks/results/recipes-<tag>.jsonl`` (one JSON object per line, so
a killed sweep keeps its rows; a rerun skips runs already recorded); the summary goes to
``recipes-<tag>.json``. Each row records ``config_sha``, a hash of the run's resolved config
without its paths and seed (and without a setting added since at the value that changes no run
of this sweep, `ADDED_WITHOUT_EFFECT`): a recorded run is skipped only when its hash matches
(rows made before the hash are trusted by name), and a row whose hash differs, because the
defaults or the candidate changed since, stops the sweep with the row named, so that one
candidate's mean never mixes two recipes. Each run holds ``~/.rnnkit-cpu.lock`` while it
trains, so runs from other processes queue instead of sharing the two cores, and times are
measured alone.
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import hashlib
import json
import logging
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from paths import SHARED_DATA
from record import RESULTS
from rnnkit.config import apply_overrides, config_to_dict
from rnnkit.data import read_classification
from rnnkit.tasks.classification import ClassifyConfig, train_classifier
from rnnkit.tasks.tagging_train import JointTaskConfig, TagConfig, train_tagger

RUNS = RESULTS / "recipes-runs"
SUBSETS = RUNS / "subsets"
LOCK = Path.home() / ".rnnkit-cpu.lock"

# Train and dev paths under $RNNKIT_DATA; nothing else differs per data set.
DATASETS = {
    "atis": ("atis/train", "atis/valid"),
    "snips": ("snips/train", "snips/valid"),
    "sst2": ("sst2/train.tsv", "sst2/dev.tsv"),
    "chnsenticorp": ("chnsenticorp_htl/train.csv", "chnsenticorp_htl/dev.csv"),
    "names": ("names/train.tsv", "names/dev.tsv"),
    "trec": ("trec/train.tsv", "trec/dev.tsv"),
    "subj": ("subj/train.tsv", "subj/dev.tsv"),
    "mr": ("mr/train.tsv", "mr/dev.tsv"),
    "mpqa": ("mpqa/train.tsv", "mpqa/dev.tsv"),
    "shopping": ("online_shopping_cats/train.csv", "online_shopping_cats/dev.csv"),
}

# The regularisation, head and optimiser settings of the per-cell classification table.
# Character features off, 10 epochs, no step cap and no weight averaging: these candidates
# were measured before the classifier had them as defaults.
TUNED = (
    "model.embedding_dropout=0.2", "model.output_dropout=0.4", "trainer.lr=2e-3",
    "trainer.patience=4", "model.char_features=false", "trainer.epochs=10",
    "trainer.max_steps=none", "trainer.ema_epochs=0",
)  # fmt: skip
# Candidate recipes: overrides of the built-in defaults (``defaults`` = none).
CANDIDATES: dict[str, tuple[str, ...]] = {
    "defaults": (),
    "previous-defaults": (
        "model.pooling=last", "model.embedding_dropout=0.0", "model.output_dropout=0.3",
        "trainer.lr=1e-3", "trainer.patience=3", "model.char_features=false", "trainer.epochs=10",
        "trainer.max_steps=none", "trainer.ema_epochs=0",
    ),
    "max": ("model.pooling=max", *TUNED),
    "concat": ("model.pooling=concat", *TUNED),
    "concat-2layers": ("model.pooling=concat", *TUNED, "model.num_layers=2", "model.dropout=0.3"),
    "max-2layers": ("model.pooling=max", *TUNED, "model.num_layers=2", "model.dropout=0.3"),
    "concat-h128": ("model.pooling=concat", *TUNED, "model.hidden_size=128"),
    "concat-worddrop": ("model.pooling=concat", *TUNED, "model.word_dropout=0.1"),
    "concat-locked": (
        "model.pooling=concat", *TUNED, "model.locked_dropout=true", "model.weight_drop=0.2",
    ),
    "max-h128": ("model.pooling=max", *TUNED, "model.hidden_size=128"),
    "max-e20": ("model.pooling=max", *TUNED, "trainer.epochs=20"),
    "max-worddrop": ("model.pooling=max", *TUNED, "model.word_dropout=0.1"),
    # character features per word where the tokens are words (auto: off for char tokenizers)
    "max-chars": ("model.pooling=max", *TUNED, "model.char_features=auto"),
    # character features (auto) and 20 epochs
    "chars-e20": ("model.pooling=max", *TUNED, "model.char_features=auto", "trainer.epochs=20"),
    # Chinese words (jieba) with a character Bi-LSTM over each word's characters
    "jieba-chars": (
        "model.pooling=max", *TUNED, "model.char_features=auto", "data.tokenizer=jieba",
    ),
    "max-chars-locked": (
        "model.pooling=max", *TUNED, "model.char_features=auto", "model.locked_dropout=true",
    ),
    # max-chars (and chars-e20) evaluating and keeping a weight average over about one epoch,
    # at any horizon; the defaults are chars-e20-ema1 with a cap of 10,000 steps on the run and
    # averaging off above a 250-step horizon, which bind only on large sets (training as
    # chars-e20-ema1 up to 16,000 examples)
    "chars-ema1": (
        "model.pooling=max", *TUNED, "model.char_features=auto", "trainer.ema_epochs=1",
        "trainer.ema_max_steps=none",
    ),
    "chars-e20-ema1": (
        "model.pooling=max", *TUNED, "model.char_features=auto", "trainer.epochs=20",
        "trainer.ema_epochs=1", "trainer.ema_max_steps=none",
    ),
    # Word dropout: with min_freq 1 the <unk> embedding is otherwise never trained, yet every
    # word unseen in training reads as it. Measured as wd05 on top of the defaults, then made
    # the default: recipes-full.jsonl and recipes-defaults.jsonl list those runs as "defaults"
    # and the earlier defaults' runs as "no-word-dropout" (capped-ema: a rule before those).
    "wd05": ("model.word_dropout=0.05",),
    "wd10": ("model.word_dropout=0.1",),
    "no-word-dropout": ("model.word_dropout=0",),
    # one setting of the defaults changed each (screened 2026-11-30; ls10 adopted 2026-12-01)
    "h128": ("model.hidden_size=128",),
    "erd10": ("model.embedding_row_dropout=0.1",),
    # label smoothing 0.1: a tie before the fused AdamW, then re-run with the defaults on every
    # set and made the default (2026-12-01): recipes-control.jsonl lists those runs as
    # "defaults" and the defaults' runs beside them as "no-label-smoothing"
    "ls10": ("model.label_smoothing=0.1",),
    "no-label-smoothing": ("model.label_smoothing=0",),
    # half the default's epsilon: label smoothing cost SNIPS and ChnSentiCorp half a point
    "ls05": ("model.label_smoothing=0.05",),
    "gru": ("model.cell=gru",),
    # a higher peak learning rate: four of the five best names trials of the 15-minute searches
    # chose 2.5e-3 to 5.8e-3 (BENCHMARKS.md, "Hyper-parameter search"); measured on nine sets
    # twice and made the default (2026-12-01): recipes-control.jsonl lists those runs as
    # "defaults" and the defaults' runs beside them, at 2e-3, as "lr2"
    "lr3": ("trainer.lr=3e-3",),
    "lr2": ("trainer.lr=2e-3",),
    # higher still, on top of today's defaults: was 3e-3 the top of the curve?
    "lr4": ("trainer.lr=4e-3",),
    # gru (screened at 2e-3 without label smoothing) again, on top of today's defaults
    "lr3-gru": ("model.cell=gru",),
    # a longer weight average, on top of today's defaults: the best trials of the names searches
    # chose horizons of 1.5-1.9 epochs. The step cap doubles with the horizon, so averaging
    # stays on exactly where the defaults use it (epochs of at most 250 steps)
    "ema2": ("trainer.ema_epochs=2", "trainer.ema_max_steps=500"),
    # ten times the decoupled weight decay (0.01, torch's default), on top of today's defaults:
    # the one optimizer setting no candidate or search has varied
    "decay01": ("trainer.weight_decay=0.1",),
    "attn": ("model.pooling=attention",),
    # Chinese: each character token joined by the next one (the auto rule then turns character
    # features on), for the CJK sets only
    "zh-bigram": ("data.tokenizer=zh-bigram",),
    # Unicode NFKC instead of NFC before tokenizing: full-width and ASCII punctuation, digits
    # and letters read alike (ChnSentiCorp writes one comma in five in ASCII); it changes the
    # text of the Chinese sets only
    "nfkc": ("data.normalize=NFKC",),
    # one mask per sequence, the same at every step, on the embeddings (Gal & Ghahramani
    # 2016), alone and with DropConnect 0.2 on W_hh (Merity et al. 2017): the settings the
    # best trials of every `rnnkit tune` run in BENCHMARKS.md chose
    "locked": ("model.locked_dropout=true",),
    "locked-wdrop": ("model.locked_dropout=true", "model.weight_drop=0.2"),
    # the word vectors' size of Kim (2014), 300 instead of 128; and half the batch (twice the
    # steps an epoch, so the step-count rules of the defaults bind on half as large sets)
    "e300": ("model.embedding_dim=300",),
    "b32": ("data.batch_size=32",),
    # the text keeps its case (the default lower-cases it before tokenizing, words and their
    # characters alike): Kim (2014) kept TREC's case
    "cased": ("data.lowercase=false",),
    # more epochs (names kept its best epoch at 18 of 20 before the fused AdamW)
    "e30": ("trainer.epochs=30",),
    # the best trial of the names 15-minute search (BENCHMARKS.md, "Hyper-parameter search",
    # seed 14: trial 17), rounded: the default model with locked dropout and weight drop
    "searched-names": (
        "model.locked_dropout=true", "model.weight_drop=0.16", "model.embedding_dropout=0.23",
        "model.embedding_row_dropout=0.014", "model.word_dropout=0.028",
        "model.output_dropout=0.34", "trainer.lr=2.5e-3", "trainer.epochs=22",
        "trainer.ema_epochs=1.9",
    ),
    # the best trial of the names 15-minute search with seed 15 (trial 12), rounded: concat
    # pooling, locked dropout, weight drop 0.41, a high learning rate and 13 epochs
    "searched-names15": (
        "model.pooling=concat", "model.locked_dropout=true", "model.weight_drop=0.41",
        "model.embedding_dropout=0.13", "model.embedding_row_dropout=0.082",
        "model.word_dropout=0.087", "model.output_dropout=0.15", "trainer.lr=5.8e-3",
        "trainer.epochs=13", "trainer.ema_epochs=1.54",
    ),
    # the best trial of the SST-2 60-minute search (trial 1), rounded: a 2-layer Bi-GRU of 512
    # per direction with concat pooling, locked dropout and weight drop, batch 128
    "searched-sst2": (
        "model.cell=gru", "model.hidden_size=512", "model.num_layers=2", "model.dropout=0.36",
        "model.pooling=concat", "model.locked_dropout=true", "model.weight_drop=0.19",
        "model.embedding_dropout=0.018", "model.embedding_row_dropout=0.14",
        "model.word_dropout=0.06", "model.output_dropout=0.47", "data.batch_size=128",
        "trainer.lr=1.3e-3", "trainer.epochs=16", "trainer.ema_epochs=1.8",
    ),
}  # fmt: skip
# Every candidate but these was measured when the default learning rate was 2e-3: it keeps it
# (a candidate's own trainer.lr, later in its overrides, still wins).
MEASURED_WITH_LR3 = ("defaults", "lr3", "lr4", "lr3-gru", "ema2", "decay01", "nfkc")
CANDIDATES = {
    name: overrides if name in MEASURED_WITH_LR3 else ("trainer.lr=2e-3", *overrides)
    for name, overrides in CANDIDATES.items()
}
# The three that did best against the defaults re-run with the fused AdamW (seed 13, BENCHMARKS.md),
# tried again on top of label smoothing under an `ls-` name.
LS_RETRIED = ("locked", "b32", "searched-names15")
CANDIDATES |= {f"ls-{name}": CANDIDATES[name] for name in LS_RETRIED}
# Every other candidate was measured before label smoothing was a default (2026-12-01): it keeps
# the loss it was measured with, so a re-run trains the recipe of its recorded rows.
MEASURED_WITH_LABEL_SMOOTHING = (
    "defaults",
    "ls10",
    "ls05",
    "lr3",
    "lr2",
    "lr4",
    "lr3-gru",
    "ema2",
    "decay01",
    "nfkc",
    "no-label-smoothing",
    *(f"ls-{name}" for name in LS_RETRIED),
)
CANDIDATES = {
    name: overrides if name in MEASURED_WITH_LABEL_SMOOTHING
    else ("model.label_smoothing=0", *overrides)
    for name, overrides in CANDIDATES.items()
}  # fmt: skip
# Tagging (NER and slots) and joint (intent + slots) data sets, and their candidates.
TAG_DATASETS = {
    "conll": ("conll2003/train.bio.tsv", "conll2003/dev.bio.tsv"),
    "msra": ("msra_ner_zh/train.txt", "msra_ner_zh/dev.txt"),
    "atis": DATASETS["atis"],
    "snips": DATASETS["snips"],
}
JOINT_DATASETS = {"atis": DATASETS["atis"], "snips": DATASETS["snips"]}
TAG_CANDIDATES: dict[str, tuple[str, ...]] = {
    "defaults": (),
    # the classification recipe's weight averaging: about one epoch, off above 250 steps
    # (measured before word dropout was the tag default, so it keeps none)
    "ema1": ("trainer.ema_epochs=1", "trainer.ema_max_steps=250", "model.word_dropout=0"),
    # Flair's word dropout: with every training word in the vocabulary (min_freq 1), <unk>
    # is otherwise never trained, yet it is what every unseen dev or test word reads as.
    # Measured under this name, then made the tag default: recipes-tag.jsonl lists those runs
    # as "defaults" and the earlier defaults' runs as "no-word-dropout".
    "wd05": ("model.word_dropout=0.05",),
    "no-word-dropout": ("model.word_dropout=0",),
}


@dataclass(frozen=True)
class Task:
    """What a sweep of one task trains, on which data sets, with which candidates, and the
    dev metric that ranks them (the one the task keeps its best epoch by)."""

    config: Callable[[], Any]
    train: Callable[..., Any]
    datasets: dict[str, tuple[str, str]]
    candidates: dict[str, tuple[str, ...]]
    metric: str


TASKS = {
    "classify": Task(ClassifyConfig, train_classifier, DATASETS, CANDIDATES, "accuracy"),
    "tag": Task(TagConfig, train_tagger, TAG_DATASETS, TAG_CANDIDATES, "f1"),
    "joint": Task(
        JointTaskConfig, train_tagger, JOINT_DATASETS, TAG_CANDIDATES, "sentence_accuracy"
    ),
}


def subset(path: Path, limit: int | None, name: str) -> str:
    """``path`` itself, or a TSV of a fixed random ``limit``-example subset of it."""
    examples = read_classification(str(path)).examples
    if limit is None or len(examples) <= limit:
        return str(path)
    chosen = random.Random(0).sample(examples, limit)
    SUBSETS.mkdir(parents=True, exist_ok=True)
    target = SUBSETS / f"{name}-{limit}.tsv"
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(["text", "label"])
        writer.writerows((" ".join(example.text.split()), example.label) for example in chosen)
    return str(target)


def run_config(dataset: str, candidate: str, seed: int, args: argparse.Namespace) -> Any:
    """The resolved config of one run: the task's defaults, its paths and seed, the candidate."""
    task = TASKS[args.task]
    train, dev = (SHARED_DATA / part for part in task.datasets[dataset])
    if args.task != "classify":  # subsets are drawn from classification files only
        train_path, dev_path = str(train), str(dev)
    else:
        train_path = subset(train, args.max_train, dataset + "-train")
        dev_path = subset(dev, args.max_dev, dataset + "-dev")
    overrides = [f"data.train={train_path}", f"data.dev={dev_path}", f"trainer.seed={seed}"]
    return apply_overrides(task.config(), [*overrides, *task.candidates[candidate]])


# Settings added after rows were recorded, with the value that trains every run of this sweep
# as before: every run gives --dev (no held-out dev), every file has a header (no orientation to
# guess), and NFC changes no text of these sets. At that value they stay out of the hash, so
# the recorded rows remain those of today's recipes.
ADDED_WITHOUT_EFFECT = {
    ("data", "dev_holdout"): 0.1,
    ("data", "headerless"): None,
    ("data", "normalize"): "NFC",
}


def config_sha(config: Any) -> str:
    """12 hex digits of a SHA-256 of ``config`` without its data paths and seed: equal for
    two runs of one recipe on any data set with any seed."""
    settings = config_to_dict(config)
    for section, key in (("data", "train"), ("data", "dev"), ("trainer", "seed")):
        settings[section].pop(key)
    for (section, key), value in ADDED_WITHOUT_EFFECT.items():
        if key in settings[section] and settings[section][key] == value:
            settings[section].pop(key)
    text = json.dumps(settings, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def run_one(dataset: str, candidate: str, seed: int, config: Any, args: argparse.Namespace) -> dict:
    """Trains ``config`` (`run_config` of the other arguments) and returns its row."""
    task = TASKS[args.task]
    name = f"{dataset}-{candidate}-{seed}"
    out = RUNS / args.tag / (name if args.task == "classify" else f"{args.task}-{name}")
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        start = time.perf_counter()
        result = task.train(config, out, progress=False)
        seconds = time.perf_counter() - start
    saved = json.loads((out / "config.json").read_text(encoding="utf-8"))
    metrics = result.best_metrics
    return {
        "task": args.task, "dataset": dataset, "candidate": candidate, "seed": seed,
        "max_train": args.max_train, "max_dev": args.max_dev,
        "score": metrics[task.metric], "metrics": metrics,
        "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
        "train_seconds": round(seconds, 1), "tokenizer": saved["tokenizer"]["name"],
        "overrides": list(task.candidates[candidate]), "config_sha": config_sha(config),
    }  # fmt: skip


def recorded(rows: list[dict], key: tuple, sha: str, args: argparse.Namespace) -> bool:
    """Whether ``rows`` (re-read: another sweep may share the file) hold the run ``key``
    (task, data set, candidate, seed) on these subsets; exits naming a row of another config."""
    for row in rows:
        row_key = (row.get("task", "classify"), row["dataset"], row["candidate"], row["seed"])
        if (row_key, row["max_train"], row["max_dev"]) != (key, args.max_train, args.max_dev):
            continue
        if row.get("config_sha", sha) != sha:
            raise SystemExit(
                f"error: {'/'.join(map(str, key))} is recorded with config {row['config_sha']}, "
                f"but the candidate's config is now {sha}: rename the candidate, or move its "
                "rows under another name"
            )
        return True
    return False


def score(row: dict) -> float:
    """A row's ranking metric (rows written before tagging was swept have only accuracy)."""
    return row["score"] if "score" in row else row["accuracy"]


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def summarise(rows: list[dict]) -> dict:
    """Mean score and time per (data set, candidate), ranks per data set, average ranks."""
    cells: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        cells.setdefault((row["dataset"], row["candidate"]), []).append(row)
    means = {
        key: {
            "score": statistics.mean(score(r) for r in runs),
            "seconds": statistics.mean(r["train_seconds"] for r in runs),
            "seeds": len(runs),
        }
        for key, runs in cells.items()
    }
    datasets = sorted({dataset for dataset, _ in means})
    candidates = sorted({candidate for _, candidate in means})
    ranks: dict[str, list[float]] = {candidate: [] for candidate in candidates}
    for dataset in datasets:
        scored = [c for c in candidates if (dataset, c) in means]
        if len(scored) < len(candidates):
            continue  # rank only on data sets where every candidate ran
        ordered = sorted(scored, key=lambda c: -means[(dataset, c)]["score"])
        for candidate in scored:
            better = sum(
                means[(dataset, other)]["score"] > means[(dataset, candidate)]["score"]
                for other in ordered
            )
            ties = sum(
                means[(dataset, other)]["score"] == means[(dataset, candidate)]["score"]
                for other in ordered
            )
            ranks[candidate].append(better + (ties + 1) / 2)
    average = {c: statistics.mean(r) if r else None for c, r in ranks.items()}
    return {
        "cells": [{"dataset": d, "candidate": c, **v} for (d, c), v in sorted(means.items())],
        "average_rank": average,
        "ranked_on": len(next(iter(ranks.values()), [])),
    }


def table_rows(summary: dict) -> tuple[list[str], list[list[str]]]:
    """The summary as a header and rows: candidates by average rank, a column per data set."""
    cells = {(cell["dataset"], cell["candidate"]): cell for cell in summary["cells"]}
    candidates = sorted(
        summary["average_rank"], key=lambda c: summary["average_rank"][c] or float("inf")
    )
    datasets = sorted({dataset for dataset, _ in cells})
    header = ["candidate", *datasets, "avg rank", "train s (sum)"]
    rows = []
    for candidate in candidates:
        row = [candidate]
        for dataset in datasets:
            cell = cells.get((dataset, candidate))
            row.append("-" if cell is None else f"{100 * cell['score']:.2f}")
        rank = summary["average_rank"][candidate]
        row.append("-" if rank is None else f"{rank:.2f}")
        seconds = sum(cell["seconds"] for (_, c), cell in cells.items() if c == candidate)
        row.append(f"{seconds:.0f}")
        rows.append(row)
    return header, rows


def show(summary: dict, metric: str, markdown: bool) -> None:
    header, rows = table_rows(summary)
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    ranked = summary["ranked_on"]
    table = Table(title=f"Dev {metric} %, mean over seeds (ranked on {ranked} sets)")
    for index, column in enumerate(header):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=200).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", choices=sorted(TASKS), default="classify")
    parser.add_argument("--datasets", default=None, help="default: every set of the task")
    parser.add_argument("--candidates", default="defaults")
    parser.add_argument("--seeds", default="13,14")
    parser.add_argument("--max-train", type=int, default=None)
    parser.add_argument("--max-dev", type=int, default=None)
    parser.add_argument("--tag", default=None, help="names the results files (default: task)")
    parser.add_argument("--summary-only", action="store_true", help="print the table, run none")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    task = TASKS[args.task]
    args.tag = args.tag or args.task
    if args.task != "classify" and (args.max_train or args.max_dev):
        parser.error("--max-train and --max-dev subset classification data only")
    logging.basicConfig(level=logging.WARNING)
    rows_path = RESULTS / f"recipes-{args.tag}.jsonl"
    seeds = [int(seed) for seed in args.seeds.split(",")]
    for seed in [] if args.summary_only else seeds:
        for dataset in (args.datasets or ",".join(task.datasets)).split(","):
            if not (SHARED_DATA / task.datasets[dataset][0]).exists():
                print(f"skipping {dataset}: {SHARED_DATA / task.datasets[dataset][0]} not found")
                continue
            for candidate in args.candidates.split(","):
                config = run_config(dataset, candidate, seed, args)
                key = (args.task, dataset, candidate, seed)
                if recorded(read_rows(rows_path), key, config_sha(config), args):
                    continue
                row = run_one(dataset, candidate, seed, config, args)
                print(json.dumps(row), flush=True)
                with rows_path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(row) + "\n")
    rows = [r for r in read_rows(rows_path) if (r.get("task", "classify"), r["max_train"],
            r["max_dev"]) == (args.task, args.max_train, args.max_dev)]  # fmt: skip
    summary = summarise(rows)
    (RESULTS / f"recipes-{args.tag}.json").write_text(
        json.dumps({"max_train": args.max_train, "max_dev": args.max_dev, **summary}, indent=2)
        + "\n",
        encoding="utf-8",
    )
    show(summary, task.metric, args.markdown)


if __name__ == "__main__":
    main()
