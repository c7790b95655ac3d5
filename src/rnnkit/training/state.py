"""The trainer's bookkeeping: counters saved with every resume state, and step/fit results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TrainState:
    """The counters saved in every resume state (JSON-able)."""

    epoch: int = 0  # the epoch in progress, 0-based (= epochs completed)
    batch_in_epoch: int = 0  # batches of that epoch already trained on
    step: int = 0  # batches trained on since the start, skipped ones included
    best_value: float | None = None
    best_metrics: dict[str, float] = field(default_factory=dict)
    best_epoch: int = 0  # 1-based; 0 until an epoch has been evaluated
    bad_epochs: int = 0  # epochs in a row without improvement (early stopping)
    bad_steps: int = 0  # non-finite steps in a row
    stop_reason: str | None = None  # "completed" or "early_stopping" once finished
    # Sums over the epoch in progress: loss, steps, tokens, grad norms, skipped steps.
    totals: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StepInfo:
    """What one batch did; ``grad_norm`` is the global norm before clipping."""

    step: int
    epoch: int
    loss: float
    grad_norm: float
    lr: float
    tokens: int
    skipped: bool


@dataclass(frozen=True)
class FitResult:
    """The outcome of :meth:`Trainer.fit`."""

    best_metrics: dict[str, float]
    best_epoch: int
    epochs_run: int
    steps: int
    stop_reason: str
    out_dir: Path


def add_to_totals(totals: dict[str, float], info: StepInfo) -> None:
    """Adds one step to the epoch's sums; skipped steps count only as steps and tokens."""
    totals["steps"] = totals.get("steps", 0.0) + 1
    totals["tokens"] = totals.get("tokens", 0.0) + info.tokens
    if info.skipped:
        totals["skipped"] = totals.get("skipped", 0.0) + 1
        return
    totals["loss"] = totals.get("loss", 0.0) + info.loss
    totals["grad_norm"] = totals.get("grad_norm", 0.0) + info.grad_norm
    totals["grad_norm_max"] = max(totals.get("grad_norm_max", 0.0), info.grad_norm)
