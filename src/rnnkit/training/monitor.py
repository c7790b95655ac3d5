"""The gradient monitor: sees exploding gradients and vanishing gradient flow while training.

Every step it reads the global gradient norm *before clipping* (``trainer.last_step``) and
counts it when it is non-finite (the trainer skips such steps and warns), and warns once
when it is far above both its running median and the clipping threshold — the exploding
gradients of Pascanu et al. (2013), which clipping keeps from wrecking the update. Every
``TrainerConfig.flow_check_every`` steps it measures the per-step gradient flow
``‖∂L/∂h_t‖`` of the model on the current batch (a task model's adapter in
`rnnkit.diagnostics.model_flow`, which measures per-step losses at one step; else the trainer's
loss) and warns once when it vanishes. Each epoch's record in ``metrics.jsonl`` gets the counts
and the last measured flow, with the layer and direction that gave its verdict; the progress bar
shows the latest norm.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections import deque
from typing import Any

import torch

from rnnkit.training.state import TrainerView

logger = logging.getLogger("rnnkit.training")

HISTORY = 100  # steps in the running median
WARM_UP = 20  # steps before a norm is compared with the median


class GradientMonitor:
    """Counts explosions and checks gradient flow; see the module docstring."""

    def __init__(self) -> None:
        self.norms: deque[float] = deque(maxlen=HISTORY)
        self.explosions = 0
        self.nonfinite = 0
        self.flow: dict[str, Any] | None = None
        self.warned: set[str] = set()

    def attach(self, trainer: TrainerView) -> None:
        trainer.add_callback("step_end", self.on_step_end)
        trainer.add_callback("epoch_end", self.on_epoch_end)

    def on_step_end(self, trainer: TrainerView) -> None:
        step = trainer.last_step
        if not math.isfinite(step.grad_norm):
            self.nonfinite += 1  # counted only: the trainer already warns as it skips the step
        elif len(self.norms) >= WARM_UP:
            median = statistics.median(self.norms)
            # A spike that clipping does not even touch is ordinary noise, not an explosion.
            clip = trainer.config.max_grad_norm or 0.0
            if step.grad_norm > max(trainer.config.explosion_factor * median, clip):
                self.explosions += 1
                self.warn_once(
                    "exploding",
                    f"step {step.step}: exploding gradient, norm {step.grad_norm:.3g} is "
                    f"{step.grad_norm / median:.0f}x the running median {median:.3g}"
                    + ("" if trainer.config.max_grad_norm is None else
                       f"; clipped to trainer.max_grad_norm={trainer.config.max_grad_norm}"),
                )  # fmt: skip
        if math.isfinite(step.grad_norm):
            self.norms.append(step.grad_norm)
        every = trainer.config.flow_check_every
        if every and step.step % every == 0 and trainer.last_batch is not None:
            self.check_flow(trainer)

    def check_flow(self, trainer: TrainerView) -> None:
        from rnnkit.diagnostics.gradients import gradient_flow
        from rnnkit.diagnostics.model_flow import get_flow_adapter
        from rnnkit.training.checkpoint import unwrap_model

        batch = trainer.last_batch
        model = unwrap_model(trainer.model)
        adapter = get_flow_adapter(model)
        with torch.random.fork_rng(devices=[]):  # dropout here must not shift training's RNG
            if adapter is not None:  # a task model: the loss and states that fit its shape
                flow = adapter(model, batch)
            else:
                lengths = getattr(batch, "lengths", None)
                flow = gradient_flow(model, lambda m: trainer.loss_fn(m, batch), lengths)
        if not flow.directions:
            return  # no recurrent layer to measure
        deciding = flow.deciding
        self.flow = {
            "step": trainer.last_step.step,
            "verdict": flow.verdict,
            "ratio": deciding.ratio,  # of the layer and direction that gave the verdict
            "distance": deciding.distance,  # steps the ratio spans
            "direction": deciding.name,
        }
        if flow.verdict == "vanishing":
            self.warn_once(
                "vanishing",
                f"step {trainer.last_step.step}: the gradient flow vanishes in {deciding.name}: "
                f"‖∂L/∂h_t‖ {deciding.distance} steps back is {deciding.ratio:.2g} of that at the "
                "loss (try an LSTM/GRU, orthogonal init, or shorter sequences)",
            )

    def on_epoch_end(self, trainer: TrainerView) -> None:
        trainer.last_record["grad_explosions"] = self.explosions
        trainer.last_record["grad_nonfinite"] = self.nonfinite
        if self.flow is not None:
            trainer.last_record["gradient_flow"] = dict(self.flow)
        self.explosions = self.nonfinite = 0

    def warn_once(self, kind: str, message: str) -> None:
        if kind not in self.warned:
            self.warned.add(kind)
            logger.warning(message)
