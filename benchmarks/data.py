"""Data pipeline benchmark: throughput of read + tokenize + encode, padding with and without
length bucketing, and loader time against one training epoch of a Bi-LSTM classifier on SST-2.

    python benchmarks/data.py            # full run (trains one SST-2 epoch: a few minutes)
    python benchmarks/data.py --quick    # fewer repeats, 100 training steps

Prints a table and writes ``benchmarks/results/data.json``. Needs the data sets in
``$RNNKIT_DATA`` (default ``../shared/data``).
Timings are medians of ``--repeats`` runs after a warm-up; the machine is shared, so compare
numbers from one run only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from paths import SHARED_DATA
from rnnkit.data import (
    BucketBatchSampler,
    LabelVocab,
    Vocab,
    encode_classification,
    get_tokenizer,
    padding_fraction,
    read_classification,
    tokenize_examples,
)
from rnnkit.nn import LSTM

ROOT = Path(__file__).resolve().parents[1]
DATA = SHARED_DATA  # $RNNKIT_DATA, default ../shared/data
RESULTS = ROOT / "benchmarks" / "results" / "data.json"
SST2 = DATA / "sst2" / "train.tsv"


def median_seconds(work: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall-clock and process CPU seconds of `work` (CPU time is less disturbed by other
    processes on a shared machine; both are reported)."""
    work()  # warm-up: file cache, jieba dictionary, regex compilation
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def pipeline(path: Path, tokenizer, vocab: Vocab, retokenize: bool) -> int:
    """Read + tokenize + encode one file; `retokenize` ignores tokens given by the file."""
    examples, _ = read_classification(path)
    if retokenize:
        token_lists = tokenizer.tokenize_batch([e.text for e in examples])
    else:
        token_lists = tokenize_examples(examples, tokenizer)
    encode = vocab.encode
    return len([encode(tokens) for tokens in token_lists])


def throughput(repeats: int) -> list[dict]:
    """Sentences per second for each tokenizer through the whole read → encode pipeline."""
    start = time.perf_counter()
    bpe = get_tokenizer("bpe").train((e.text for e in read_classification(SST2).examples), 8000)
    bpe_seconds = time.perf_counter() - start
    hotel, atis = DATA / "chnsenticorp_htl" / "train.csv", DATA / "atis" / "train"
    cases = [  # label, tokenizer name, tokenizer, data, path, retokenize
        ("word", get_tokenizer("word"), "SST-2 train", SST2, False),
        ("word", get_tokenizer("word"), "ATIS train", atis, True),
        ("given tokens", get_tokenizer("word"), "ATIS train", atis, False),
        ("bpe 8k", bpe, "SST-2 train", SST2, False),
        ("zh-char", get_tokenizer("zh-char"), "ChnSentiCorp train", hotel, False),
        ("jieba", get_tokenizer("jieba"), "ChnSentiCorp train", hotel, False),
    ]
    rows = []
    for name, tokenizer, data, path, retokenize in cases:
        examples = read_classification(path).examples
        vocab = Vocab.build(tokenize_examples(examples, tokenizer))
        wall, cpu = median_seconds(lambda: pipeline(path, tokenizer, vocab, retokenize), repeats)  # noqa: B023
        rows.append(
            {
                "tokenizer": name,
                "data": data,
                "sentences": len(examples),
                "seconds": round(wall, 4),
                "sentences_per_s": round(len(examples) / wall),
                "sentences_per_cpu_s": round(len(examples) / cpu),
            }
        )
    rows.append(
        {"tokenizer": "bpe 8k training", "data": "SST-2 train", "seconds": round(bpe_seconds, 2)}
    )
    return rows


def padding(batch_size: int) -> list[dict]:
    """Padded positions / all positions on SST-2 train: random batches vs bucketing."""
    examples = read_classification(SST2).examples
    lengths = [len(tokens) for tokens in tokenize_examples(examples, get_tokenizer("word"))]
    generator = torch.Generator().manual_seed(0)
    random_batches = [
        b.tolist() for b in torch.randperm(len(lengths), generator=generator).split(batch_size)
    ]
    rows = [{"batching": "random", "padding_fraction": padding_fraction(random_batches, lengths)}]
    for pool in (None, 100, 10):
        batches = list(BucketBatchSampler(lengths, batch_size, seed=0, pool_batches=pool))
        name = "bucketed, one pool" if pool is None else f"bucketed, pools of {pool} batches"
        rows.append({"batching": name, "padding_fraction": padding_fraction(batches, lengths)})
    for row in rows:
        row["padding_fraction"] = round(row["padding_fraction"], 4)
    return rows


class BiLSTMClassifier(nn.Module):
    """Embedding → bidirectional LSTM (fused) → linear over both final states."""

    def __init__(
        self, vocab_size: int, classes: int, embedding_dim: int = 128, hidden_size: int = 256
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.lstm = LSTM(embedding_dim, hidden_size, bidirectional=True, backend="fused")
        self.output = nn.Linear(2 * hidden_size, classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        _, state = self.lstm(self.embedding(ids), lengths=lengths)  # h (L*D, B, H)
        return self.output(torch.cat([state.h[-2], state.h[-1]], dim=-1))  # (B, C)


def epoch_ratio(batch_size: int, max_steps: int | None) -> dict:
    """Loader time vs training time for one SST-2 epoch.

    With `max_steps`, trains on that many of the epoch's (randomly ordered) batches and scales
    the training time up to the whole epoch; the loader always runs the whole epoch.
    """
    start = time.perf_counter()
    examples = read_classification(SST2).examples
    tokenizer = get_tokenizer("word")
    tokens = tokenize_examples(examples, tokenizer)
    vocab, labels = Vocab.build(tokens), LabelVocab.build(e.label for e in examples)
    data = encode_classification(examples, tokenizer, vocab, labels, tokens=tokens)
    prepare = time.perf_counter() - start
    sampler = BucketBatchSampler(data.lengths, batch_size)
    loader = DataLoader(data, batch_sampler=sampler, collate_fn=data.collate)
    start = time.perf_counter()
    batches = list(loader)
    load = time.perf_counter() - start
    steps = batches[:max_steps]
    model = BiLSTMClassifier(len(vocab), len(labels))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for batch in steps:
        loss = nn.functional.cross_entropy(model(batch.ids, batch.lengths), batch.labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    train = (time.perf_counter() - start) * len(batches) / len(steps)
    return {
        "batches_per_epoch": len(batches),
        "steps_timed": len(steps),
        "batch_size": batch_size,
        "prepare_s (read+tokenize+vocab+encode, once)": round(prepare, 3),
        "loader_epoch_s (sampler+collate)": round(load, 3),
        "train_epoch_s"
        + (" (scaled from steps_timed)" if len(steps) < len(batches) else ""): round(train, 2),
        "loader / train": round(load / train, 5),
        "(prepare + loader) / train": round((prepare + load) / train, 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats, 100 training steps")
    parser.add_argument(
        "--steps", type=int, default=None, help="training steps timed (default all)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default torch's)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"shared data not found at {DATA}")
    repeats = 3 if args.quick else args.repeats
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    results = {
        "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        "load_average_before": os.getloadavg(),
        "throughput": throughput(repeats),
        "padding": padding(args.batch_size),
        "epoch": epoch_ratio(args.batch_size, 100 if args.quick else args.steps),
    }
    results["load_average_after"] = os.getloadavg()
    print("| tokenizer | data | sentences | seconds | sentences/s | sentences/CPU-s |")
    print("|---|---|---|---|---|---|")
    keys = ("tokenizer", "data", "sentences", "seconds", "sentences_per_s", "sentences_per_cpu_s")
    for row in results["throughput"]:
        print("| " + " | ".join(str(row.get(key, "")) for key in keys) + " |")
    print("\n| batching (SST-2 train, batch 64) | padding fraction |\n|---|---|")
    for row in results["padding"]:
        print(f"| {row['batching']} | {row['padding_fraction']:.2%} |")
    print(
        f"\nload average before / after: {results['load_average_before']} / "
        f"{results['load_average_after']}"
    )
    print("\n| one SST-2 epoch, Bi-LSTM | value |\n|---|---|")
    for key, value in results["epoch"].items():
        print(f"| {key} | {value} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
