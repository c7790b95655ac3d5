"""The trainer's bookkeeping: counters saved with every resume state, and step/fit results."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from torch import nn

from rnnkit.training.config import TrainerConfig


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


class TrainerView(Protocol):
    """What a callback sees of the `Trainer` it is attached to.

    Declared here, below both, so that callbacks.py and monitor.py need not import trainer.py,
    which attaches them.
    """

    model: nn.Module
    config: TrainerConfig
    loss_fn: Callable[[nn.Module, Any], Any]
    out_dir: Path
    state: TrainState
    is_main: bool
    show_progress: bool
    steps_per_epoch: int | None
    tokens_in_batch: Callable[[Any], int] | None
    last_step: StepInfo | None
    last_batch: Any
    last_record: dict[str, Any]

    def add_callback(self, event: str, callback: Callable[[Any], None]) -> None: ...


def describe_bad_step(state: TrainState, loss_value: float, grad_norm: float, limit: int) -> str:
    """The warning for a skipped non-finite step, ``state.bad_steps`` of them in a row."""
    what = "loss" if not math.isfinite(loss_value) else "gradient norm"
    if not (math.isfinite(loss_value) or math.isfinite(grad_norm)):
        what = "loss and gradient norm"
    return (
        f"step {state.step + 1}: non-finite {what} (loss {loss_value}, gradient norm "
        f"{grad_norm}); skipped the update ({state.bad_steps} in a row, "
        f"limit trainer.max_bad_steps={limit})"
    )
