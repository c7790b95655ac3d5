"""The epoch loop's rules: how many epochs, improvement, per-epoch seeds and samplers, the
end line."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterable
from typing import Any

from rnnkit.training.config import TrainerConfig
from rnnkit.training.state import TrainState

logger = logging.getLogger("rnnkit.training")


def warn_if_config_changed(saved: dict[str, Any], current: dict[str, Any]) -> None:
    """Logs the trainer settings that differ from those of the run being resumed."""
    changed = [
        f"{key}: {saved.get(key)!r} -> {value!r}"
        for key, value in current.items()
        if saved.get(key) != value
    ]
    if changed:
        logger.warning("resuming with changed trainer settings (%s)", "; ".join(changed))


def planned_epochs(config: TrainerConfig, steps_per_epoch: int | None) -> int:
    """``config.epochs``, or fewer when ``config.max_steps`` is reached sooner: the whole
    epochs it takes to reach that many steps of ``steps_per_epoch`` (unknown: no cap)."""
    if config.max_steps is None or not steps_per_epoch:
        return config.epochs
    return min(config.epochs, math.ceil(config.max_steps / steps_per_epoch))


def cap_epochs(config: TrainerConfig, steps_per_epoch: int | None, log: bool) -> TrainerConfig:
    """``config`` with ``epochs`` lowered to `planned_epochs`, saying so when ``log``."""
    epochs = planned_epochs(config, steps_per_epoch)
    if epochs == config.epochs:
        return config
    if log:
        logger.info(
            "%d epochs, not %d: %d steps an epoch reach trainer.max_steps=%d in %d "
            "(--set trainer.max_steps=none lifts the cap)",
            epochs, config.epochs, steps_per_epoch, config.max_steps, epochs,
        )  # fmt: skip
    return dataclasses.replace(config, epochs=epochs)


def describe_end(state: TrainState, config: TrainerConfig) -> str:
    """The run's last log line: the kept epoch, its dev metric, and why training stopped; e.g.
    ``kept epoch 6 of 9 (dev accuracy 0.9780); stopped early: no improvement for 3 epochs``."""
    if state.best_epoch:
        kept = (
            f"kept epoch {state.best_epoch} of {state.epoch} "
            f"(dev {config.monitor} {state.best_value:.4f})"
        )
    else:
        kept = f"kept no epoch of {state.epoch}: dev {config.monitor} was never finite"
    if state.stop_reason == "early_stopping":
        why = f"stopped early: no improvement for {config.patience} epochs (trainer.patience)"
    elif state.stop_reason == "time_budget":
        why = f"stopped at the time budget, {config.max_minutes:g} minutes (trainer.max_minutes)"
    elif state.stop_reason not in (None, "completed"):  # set by a callback, e.g. "pruned"
        why = f"stopped by a callback: {state.stop_reason}"
    else:
        why = f"ran all {config.epochs} epochs (trainer.epochs)"
        if config.max_steps is not None and state.step >= config.max_steps:
            why = f"ran {config.epochs} epochs, the first to reach {config.max_steps} steps "
            why += "(trainer.max_steps)"
    return f"{kept}; {why}"


def is_improvement(value: float, best: float | None, mode: str, min_delta: float) -> bool:
    """Whether ``value`` beats ``best`` by more than ``min_delta`` (NaN never does)."""
    if not math.isfinite(value):
        return False
    if best is None:
        return True
    return value > best + min_delta if mode == "max" else value < best - min_delta


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch: distinct for every (seed, epoch) pair in practice."""
    return (seed * 1_000_003 + epoch) % 2**63


def set_sampler_epoch(loader: Iterable, epoch: int) -> None:
    """Calls ``set_epoch(epoch)`` on the loader and its samplers where they have one."""
    batch_sampler = getattr(loader, "batch_sampler", None)
    candidates = (loader, getattr(loader, "sampler", None), batch_sampler)
    candidates += (getattr(batch_sampler, "sampler", None),)
    seen: set[int] = set()
    for candidate in candidates:
        if hasattr(candidate, "set_epoch") and id(candidate) not in seen:
            seen.add(id(candidate))
            candidate.set_epoch(epoch)
