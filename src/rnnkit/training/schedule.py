"""The optimizer (AdamW) and the learning-rate schedules named by ``TrainerConfig.scheduler``."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR, LRScheduler, ReduceLROnPlateau

from rnnkit.errors import ConfigError
from rnnkit.training.config import SCHEDULERS, TrainerConfig

Scheduler = LRScheduler | ReduceLROnPlateau


def build_optimizer(model: nn.Module, config: TrainerConfig) -> torch.optim.AdamW:
    """AdamW over the trainable parameters, on its fused kernel where the parameters live on
    a CPU or a CUDA device: one pass over each tensor per step instead of one per operation
    (BENCHMARKS.md, "Epoch speed"), the same update to rounding."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    fused = all(p.device.type in ("cpu", "cuda") for p in parameters)
    return torch.optim.AdamW(
        parameters,
        lr=config.lr,
        betas=config.betas,
        weight_decay=config.weight_decay,
        fused=fused,
    )


def warmup_linear(warmup: int, total: int) -> Callable[[int], float]:
    """LR factor: rises linearly to 1 over ``warmup`` steps, then falls linearly to 0."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainerConfig, steps_per_epoch: int | None
) -> Scheduler | None:
    """The scheduler for ``config.scheduler``; ``None`` for ``"none"``.

    ``"warmup-linear"`` is stepped after every optimizer step and needs the number of
    batches per epoch; ``"plateau"`` is stepped once per epoch with the monitored metric.
    """
    if config.scheduler == "none":
        return None
    if config.scheduler == "plateau":
        return ReduceLROnPlateau(
            optimizer,
            mode=config.mode,
            factor=config.plateau_factor,
            patience=config.plateau_patience,
            threshold=config.min_delta,
            threshold_mode="abs",
        )
    if config.scheduler == "warmup-linear":
        if steps_per_epoch is None:
            raise ConfigError(
                "trainer.scheduler='warmup-linear' needs a train loader with a length "
                "(len(loader)); use 'plateau' or 'none' for an iterable without one"
            )
        total = config.epochs * steps_per_epoch
        warmup = config.warmup_steps or max(1, round(config.warmup_ratio * total))
        return LambdaLR(optimizer, warmup_linear(warmup, total))
    raise ConfigError(f"trainer.scheduler must be one of {', '.join(SCHEDULERS)}")
