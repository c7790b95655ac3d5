"""One SST-2 training epoch of the default classifier: rnnkit against a plain PyTorch loop.

Both train the same network — the default classifier (an embedding, a 1-layer Bi-LSTM, max
pooling over time, dropout, a linear layer; `rnnkit.tasks.classification.ClassifyConfig`) —
on the same encoded SST-2 training texts, batch size 64, AdamW with gradient clipping:

- **rnnkit**: its data pipeline (`EncodedDataset`, `BucketBatchSampler` length buckets), its
  model (`SequenceClassifier`, fused kernels) and its `Trainer` with the default trainer
  settings (gradient monitor, schedule, progress off);
- **plain**: what most tutorials teach: ``torch.nn.LSTM`` over ``pack_padded_sequence``, a
  ``DataLoader`` with ``shuffle=True`` (random batches, padded to each batch's longest text).

Each reports tokens/s over the epoch (non-padding tokens) and the share of the epoch spent
outside the model step (forward, backward, clipping, optimizer step): data loading, collation
and Python overhead. Reading and tokenizing the file happen once, before either clock starts,
and the dev evaluation after the epoch is not timed.

    python benchmarks/epoch.py                        # the full training split (67,349 texts)
    python benchmarks/epoch.py --max-examples 20000   # its first 20,000 texts
    python benchmarks/epoch.py --max-examples 2000 --results-dir /tmp/trial  # record untouched
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import tempfile
import time

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.utils.data import DataLoader

import rnnkit
from paths import SHARED_DATA
from record import add_results_dir, write_json
from rnnkit.data import (
    BucketBatchSampler,
    EncodedDataset,
    LabelVocab,
    Vocab,
    encode_classification,
    read_classification,
    tokenize_examples,
)
from rnnkit.models import ClassifierConfig, SequenceClassifier
from rnnkit.tasks.classification import ClassifyConfig
from rnnkit.tasks.common import build_tokenizer
from rnnkit.training import Trainer

SST2 = SHARED_DATA / "sst2" / "train.tsv"
TARGET = 3.0  # rnnkit's tokens/s over the plain loop's


def encoded_sst2(max_examples: int | None) -> tuple[EncodedDataset, ClassifyConfig]:
    config = ClassifyConfig()
    examples = read_classification(SST2)[0][:max_examples]
    tokenizer = build_tokenizer(config.data, [example.text for example in examples])
    tokens = tokenize_examples(examples, tokenizer)
    vocab = Vocab.build(tokens)
    labels = LabelVocab.build(example.label for example in examples)
    dataset = encode_classification(examples, tokenizer, vocab, labels, None, tokens=tokens)
    # The plain loop's model: no character features (--no-char-features), no word dropout.
    model = dataclasses.replace(
        config.model, vocab_size=len(vocab), num_classes=len(labels), char_features=False,
        word_dropout=0.0,
    )  # fmt: skip
    return dataset, dataclasses.replace(config, model=model)


class StepClock:
    """Seconds inside the model step: from the loss function's start to the step's end."""

    def __init__(self) -> None:
        self.inside = 0.0
        self.started = 0.0

    def start(self) -> None:
        self.started = time.perf_counter()

    def stop(self) -> None:
        self.inside += time.perf_counter() - self.started


def rnnkit_epoch(dataset: EncodedDataset, config: ClassifyConfig) -> dict:
    """One epoch through rnnkit's sampler, model and trainer."""
    torch.manual_seed(config.trainer.seed)
    model = SequenceClassifier(config.model)
    sampler = BucketBatchSampler(dataset.lengths, config.data.batch_size, seed=config.trainer.seed)
    loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=dataset.collate)
    clock, marks = StepClock(), {}

    def loss_fn(model: nn.Module, batch) -> torch.Tensor:
        clock.start()
        return model.loss(model(*model.inputs(batch)), batch)

    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(
            model, dataclasses.replace(config.trainer, epochs=1, device="cpu"), loss_fn=loss_fn,
            evaluate_fn=lambda model: {"accuracy": 0.0, "loss": 0.0}, out_dir=out,
            progress=False,
        )  # fmt: skip
        trainer.add_callback("epoch_start", lambda _: marks.update(start=time.perf_counter()))
        trainer.add_callback("step_end", lambda _: clock.stop())
        trainer.add_callback("step_end", lambda _: marks.update(end=time.perf_counter()))
        trainer.fit(loader)
    return summary(marks["end"] - marks["start"], clock.inside, sum(dataset.lengths), len(loader))


class PlainClassifier(nn.Module):
    """The default classifier written as a tutorial would: torch.nn.LSTM on packed batches."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=0)
        self.embedding_dropout = nn.Dropout(config.embedding_dropout)
        self.lstm = nn.LSTM(config.embedding_dim, config.hidden_size, batch_first=True,
                            bidirectional=True)  # fmt: skip
        self.dropout = nn.Dropout(config.output_dropout)
        self.output = nn.Linear(2 * config.hidden_size, config.num_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        embedded = self.embedding_dropout(self.embedding(ids))  # (B, T, E)
        packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        outputs, _ = self.lstm(packed)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, padding_value=-1e4)
        return self.output(self.dropout(outputs.max(dim=1).values))  # max over time


def collate_padded(batch: list[tuple[list[int], int]]) -> tuple[torch.Tensor, ...]:
    lengths = torch.tensor([len(ids) for ids, _ in batch])
    ids = torch.zeros(len(batch), int(lengths.max()), dtype=torch.long)
    for row, (tokens, _) in enumerate(batch):
        ids[row, : len(tokens)] = torch.tensor(tokens)
    return ids, lengths, torch.tensor([label for _, label in batch])


def plain_epoch(dataset: EncodedDataset, config: ClassifyConfig) -> dict:
    """One epoch of the plain loop: random batches, packing, AdamW, clipping."""
    torch.manual_seed(config.trainer.seed)
    model = PlainClassifier(config.model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.trainer.lr)
    pairs = [(dataset[i][0], dataset[i][1]) for i in range(len(dataset))]
    loader = DataLoader(pairs, batch_size=config.data.batch_size, shuffle=True,
                        collate_fn=collate_padded)  # fmt: skip
    clock, started = StepClock(), time.perf_counter()
    model.train()
    for ids, lengths, labels in loader:
        clock.start()
        loss = F.cross_entropy(model(ids, lengths), labels)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.trainer.max_grad_norm)
        optimizer.step()
        clock.stop()
    return summary(time.perf_counter() - started, clock.inside, sum(dataset.lengths), len(loader))


def summary(seconds: float, inside: float, tokens: int, batches: int) -> dict:
    return {
        "seconds": seconds, "model_seconds": inside, "tokens": tokens, "batches": batches,
        "tokens_per_s": tokens / seconds, "outside_share": 1 - inside / seconds,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-examples", type=int, default=None, help="first N training texts")
    parser.add_argument("--name", default="epoch", help="results/<name>.json")
    add_results_dir(parser)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not SST2.is_file():
        raise SystemExit(f"{SST2} not found: set RNNKIT_DATA to the folder holding sst2/")
    dataset, config = encoded_sst2(arguments.max_examples)
    rows = {"rnnkit": rnnkit_epoch(dataset, config), "plain": plain_epoch(dataset, config)}
    speedup = rows["rnnkit"]["tokens_per_s"] / rows["plain"]["tokens_per_s"]
    table = Table(title=f"One SST-2 epoch ({len(dataset):,} texts), default classifier")
    for column in ("loop", "seconds", "tokens/s", "outside the model step"):
        table.add_column(column, justify="left" if column == "loop" else "right")
    for name, row in rows.items():
        table.add_row(name, f"{row['seconds']:.1f}", f"{row['tokens_per_s']:,.0f}",
                      f"{100 * row['outside_share']:.1f} %")  # fmt: skip
    Console(width=120).print(table)
    print(f"rnnkit / plain tokens/s: {speedup:.2f}x (target >= {TARGET}x)")
    path = write_json(arguments.name, {
        "torch": torch.__version__, "rnnkit": rnnkit.__version__,
        "threads": torch.get_num_threads(), "texts": len(dataset),
        "max_examples": arguments.max_examples, "model": dataclasses.asdict(config.model),
        "rows": rows, "speedup": speedup, "target": TARGET, "met": speedup >= TARGET,
    }, results=arguments.results_dir)  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
