"""``TrainerConfig``: every knob of the training loop, with the reason for each default.

The batch size is not here: batching belongs to the data pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rnnkit.errors import ConfigError
from rnnkit.training.device import PRECISIONS, check_device_name

SCHEDULERS = ("none", "warmup-linear", "plateau")
MODES = ("max", "min")


@dataclass(frozen=True)
class TrainerConfig:
    """How the model-agnostic :class:`~rnnkit.training.Trainer` optimises a model."""

    # Passes over the training data; early stopping may end training sooner.
    epochs: int = 10
    # A cap in optimizer steps: at most as many epochs as it takes to reach this many steps
    # (rounded up to a whole epoch), so a large data set trains fewer epochs than
    # trainer.epochs and the schedule decays over those. None: no cap.
    max_steps: int | None = None
    # Wall-clock budget: stop at the first epoch end after this many minutes of this fit
    # (stop_reason "time_budget"; a resumed run gets the budget afresh). None: no limit.
    max_minutes: float | None = None
    # AdamW peak learning rate; 1e-3 is Adam's own default and works for small RNNs.
    lr: float = 1e-3
    # AdamW decoupled weight decay (Loshchilov & Hutter 2019); 0.01 is torch's default.
    weight_decay: float = 0.01
    # AdamW (beta1, beta2), the paper's and torch's defaults.
    betas: tuple[float, float] = (0.9, 0.999)
    # Clip the global gradient norm to this value; RNNs suffer exploding gradients
    # (Pascanu et al. 2013), so clipping is on by default. None turns it off.
    max_grad_norm: float | None = 5.0
    # "warmup-linear": linear warm-up then linear decay to 0, per optimizer step;
    # "plateau": multiply the lr by plateau_factor when the monitored metric stalls;
    # "none": constant lr. Warm-up steadies Adam's first updates on fresh embeddings.
    scheduler: Literal["none", "warmup-linear", "plateau"] = "warmup-linear"
    # Warm-up length in optimizer steps; 0 means use warmup_ratio of all steps instead.
    warmup_steps: int = 0
    # Fraction of all optimizer steps spent warming up when warmup_steps is 0.
    warmup_ratio: float = 0.05
    # "plateau" scheduler: lr multiplier after plateau_patience epochs without improvement.
    plateau_factor: float = 0.5
    # "plateau" scheduler: epochs without improvement before the lr drops.
    plateau_patience: int = 1
    # The dev metric (a key of evaluate_fn's dict) that picks the best checkpoint,
    # drives early stopping and the plateau scheduler. Every task reports "loss".
    monitor: str = "loss"
    # Whether a larger ("max", e.g. accuracy) or smaller ("min", e.g. loss) value is better.
    mode: Literal["max", "min"] = "min"
    # Stop after this many epochs without improvement of the monitored metric; None: never.
    patience: int | None = 3
    # An improvement must beat the best value by more than this to count.
    min_delta: float = 0.0
    # Evaluate, keep and save an exponential moving average of the weights over about this
    # many epochs of optimizer steps instead of the raw weights (rnnkit.training.averaging);
    # 0 turns averaging off.
    ema_epochs: float = 0.0
    # Averaging is used only when its horizon (ema_epochs epochs of optimizer steps) is at
    # most this many steps: large data sets, with long epochs, train without it. None: always.
    ema_max_steps: int | None = None
    # Seeds python, numpy and torch, and each epoch's data order: same seed, same run (CPU).
    seed: int = 13
    # Optimizer steps between progress-bar / TensorBoard updates.
    log_every: int = 10
    # Non-finite (NaN/inf) steps in a row, each skipped, before training stops with an error.
    max_bad_steps: int = 5
    # Also save a resume state every this many optimizer steps (0: only at epoch ends).
    checkpoint_every: int = 0
    # Resume states kept in OUT/checkpoints (the newest ones).
    keep_checkpoints: int = 2
    # Write TensorBoard event files to OUT/tensorboard (needs the tensorboard package).
    tensorboard: bool = False
    # The gradient monitor counts a step as an exploding gradient when its norm (before
    # clipping) exceeds this multiple of the running median and max_grad_norm.
    explosion_factor: float = 10.0
    # Measure the per-step gradient flow ‖∂L/∂h_t‖ on the current batch every this many
    # steps and warn if it vanishes; 0 turns it off. One extra loop-backend pass each time.
    flow_check_every: int = 200
    # Where to train: "auto" (a GPU when torch sees one, else the CPU), "cpu", "cuda" or
    # "cuda:N" (rnnkit.training.device). The saved weights load on any device.
    device: str = "auto"
    # "fp32", or mixed precision on CUDA: "bf16" (autocast) or "fp16" (autocast + loss scaling).
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"

    def __post_init__(self) -> None:
        positive = {"epochs": self.epochs, "lr": self.lr, "log_every": self.log_every}
        positive |= {"max_bad_steps": self.max_bad_steps, "keep_checkpoints": self.keep_checkpoints}
        for name, value in positive.items():
            if not value > 0:
                raise ConfigError(f"trainer.{name} must be > 0, got {value!r}")
        for name in ("max_steps", "ema_max_steps"):
            if (value := getattr(self, name)) is not None and not value > 0:
                raise ConfigError(f"trainer.{name} must be > 0 or None, got {value!r}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ConfigError(f"trainer.max_minutes must be > 0, got {self.max_minutes!r}")
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise ConfigError(
                f"trainer.max_grad_norm must be > 0 or None, got {self.max_grad_norm!r}"
            )
        if self.scheduler not in SCHEDULERS:
            raise ConfigError(
                f"trainer.scheduler must be one of {', '.join(SCHEDULERS)}, got {self.scheduler!r}"
            )
        if self.mode not in MODES:
            raise ConfigError(f"trainer.mode must be one of max, min, got {self.mode!r}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError(f"trainer.warmup_ratio must be in [0, 1), got {self.warmup_ratio!r}")
        if not 0.0 < self.plateau_factor < 1.0:
            raise ConfigError(
                f"trainer.plateau_factor must be in (0, 1), got {self.plateau_factor!r}"
            )
        if not self.explosion_factor > 1:
            raise ConfigError(
                f"trainer.explosion_factor must be > 1, got {self.explosion_factor!r}"
            )
        if not self.ema_epochs >= 0:
            raise ConfigError(f"trainer.ema_epochs must be >= 0, got {self.ema_epochs!r}")
        for name in ("warmup_steps", "checkpoint_every", "plateau_patience", "flow_check_every"):
            if getattr(self, name) < 0:
                raise ConfigError(f"trainer.{name} must be >= 0, got {getattr(self, name)!r}")
        check_device_name(self.device)
        if self.precision not in PRECISIONS:
            raise ConfigError(
                f"trainer.precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        if self.patience is not None and self.patience < 1:
            raise ConfigError(f"trainer.patience must be >= 1 or None, got {self.patience!r}")
