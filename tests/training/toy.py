"""A tiny GRU classifier on synthetic data, and a command line to train it in a subprocess.

Used by the trainer tests; as a script it is killed mid-training (``--kill-at-step``,
``--kill-at-call``) and launched under ``torch.distributed.run`` (``--weights-dir``).

    python tests/training/toy.py OUT [--epochs 3] [--resume] [--kill-at-step N]
        [--kill-at-call replace:N:before|after] [--checkpoint-every N] [--weights-dir DIR]
        [--ema-epochs E]
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import signal
import sys
from pathlib import Path

import safetensors.torch
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from rnnkit.nn import GRU
from rnnkit.training import Trainer, TrainerConfig, rank, seed_everything, world_size

VOCAB, LENGTH, CLASSES = 12, 6, 3
# what run_in_child's fork server imports once: torch.optim imports torch._dynamo (and sympy)
# at the first optimizer it builds, which is most of a second of a fresh process
PRELOADED = ["torch", "torch._dynamo", "safetensors.torch", "rnnkit.nn", "rnnkit.training"]


class ToyClassifier(nn.Module):
    """Embedding -> GRU -> dropout -> linear over the last step. x: (B, T) -> logits (B, C)."""

    def __init__(self, hidden_size: int = 8) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, 8)
        self.rnn = GRU(8, hidden_size)
        self.dropout = nn.Dropout(0.2)
        self.output = nn.Linear(hidden_size, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.rnn(self.embedding(x))  # (B, T, H)
        return self.output(self.dropout(outputs[:, -1]))


def make_data(n: int, seed: int) -> TensorDataset:
    """Label = the most frequent of tokens {1, 2, 3} mapped to 0..2 (ties: the smallest)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randint(1, VOCAB, (n, LENGTH), generator=generator)
    counts = torch.stack([(x == token).sum(1) for token in (1, 2, 3)], dim=1)
    return TensorDataset(x, counts.argmax(1))


def make_loader(dataset: TensorDataset, seed: int) -> DataLoader:
    if world_size() > 1:
        sampler = DistributedSampler(dataset, num_replicas=world_size(), rank=rank(), seed=seed)
        return DataLoader(dataset, batch_size=8, sampler=sampler)
    return DataLoader(dataset, batch_size=8, shuffle=True)


def loss_fn(model: nn.Module, batch) -> torch.Tensor:
    x, y = batch
    return F.cross_entropy(model(x), y)


def make_evaluate(dataset: TensorDataset):
    def evaluate(model: nn.Module) -> dict[str, float]:
        x, y = dataset.tensors
        logits = model(x)
        accuracy = (logits.argmax(1) == y).float().mean().item()
        return {"loss": F.cross_entropy(logits, y).item(), "accuracy": accuracy}

    return evaluate


def make_trainer(out_dir, config: TrainerConfig, model_seed: int = 0, **kwargs) -> Trainer:
    """A trainer over a freshly initialised toy model (``kwargs`` go to ``Trainer``)."""
    torch.set_num_threads(1)
    seed_everything(model_seed)
    model = ToyClassifier()
    files = {"config.json": {"model": {"hidden_size": 8}}, "labels.json": ["a", "b", "c"]}
    kwargs.setdefault("loss_fn", loss_fn)
    return Trainer(
        model,
        config,
        evaluate_fn=make_evaluate(make_data(48, seed=2)),
        out_dir=out_dir,
        files=files,
        tokens_in_batch=lambda batch: batch[0].numel(),
        progress=False,
        **kwargs,
    )


def train_loader(seed: int = 0) -> DataLoader:
    return make_loader(make_data(64, seed=1), seed)


def kill_on_call(spec: str) -> None:
    """``replace:N:before|after`` — SIGKILL this process at the N-th ``os.replace``."""
    name, count, when = spec.split(":")
    original, calls = getattr(os, name), [0]

    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] == int(count) and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if calls[0] == int(count) and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(os, name, wrapper)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--checkpoint-every", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--kill-at-step", type=int)
    parser.add_argument("--kill-at-call")
    parser.add_argument("--weights-dir", type=Path)
    parser.add_argument("--ema-epochs", type=float, default=0.0)
    args = parser.parse_args(argv)
    config = TrainerConfig(
        epochs=args.epochs, lr=0.01, checkpoint_every=args.checkpoint_every, patience=None, seed=5,
        ema_epochs=args.ema_epochs,
    )  # fmt: skip
    trainer = make_trainer(args.out_dir, config)
    if args.kill_at_step is not None:

        def kill(trainer: Trainer) -> None:
            if trainer.state.step == args.kill_at_step:
                os.kill(os.getpid(), signal.SIGKILL)

        trainer.add_callback("step_end", kill)
    if args.kill_at_call:
        kill_on_call(args.kill_at_call)
    result = trainer.fit(train_loader(config.seed), resume=args.resume)
    if args.weights_dir is not None:
        state = {k: v.contiguous() for k, v in trainer.model.state_dict().items()}
        safetensors.torch.save_file(state, args.weights_dir / f"rank{rank()}.safetensors")
    print(dataclasses.asdict(result)["best_metrics"])


def run_in_child(argv: list[str], log: Path) -> int:
    """``python toy.py ARGV`` in a new process, its output in ``log``; returns its exit code
    (-9: it killed itself).

    The process is forked from multiprocessing's fork server, which imports torch and rnnkit
    once per test session (`PRELOADED`) and runs nothing else, so the child starts as fresh as
    a new interpreter (no threads, no state of the tests) without paying 2-3 s for imports.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOADED)
    script = str(Path(__file__).resolve())
    code = (
        f"import os, runpy, sys; out = os.open({str(log)!r}, os.O_WRONLY | os.O_CREAT); "
        "os.dup2(out, 1); os.dup2(out, 2); "
        f"sys.argv = {[script, *argv]!r}; runpy.run_path({script!r}, run_name='__main__')"
    )
    child = context.Process(target=exec, args=(code,))
    child.start()
    child.join()
    return child.exitcode


if __name__ == "__main__":
    main(sys.argv[1:])
