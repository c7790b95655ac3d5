"""An exponential moving average (EMA) of the weights, evaluated and saved in their place.

Polyak averaging (Polyak & Juditsky 1992): the weights a run keeps are an average over the
last steps of the optimisation path rather than its last point, which removes most of the
step-to-step noise of a high learning rate. ``TrainerConfig.ema_epochs`` sets the horizon in
epochs of steps, so one setting means the same thing on 5,000 examples and on 500,000:
the decay per optimizer step is ``1 - 1 / horizon`` with ``horizon = ema_epochs *
steps_per_epoch`` steps. A horizon longer than ``TrainerConfig.ema_max_steps`` turns averaging
off for the run: on a large data set an epoch holds enough steps that the last weights are
already smooth, and averaging (even over a capped horizon) measured worse there
(BENCHMARKS.md, "Default recipes").

The average starts at the first update's weights and is bias-corrected as Adam's moments
are (Kingma & Ba 2015), so the early epochs are not pulled towards the initial weights:
after ``n`` updates it is ``Σ_i β^(n-i) (1-β) w_i / (1 - β^n)``. torch's ``AveragedModel``
keeps the copy and the update count; buffers are averaged with the parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel

from rnnkit.errors import ConfigError
from rnnkit.training.config import TrainerConfig

logger = logging.getLogger("rnnkit.training")


def ema_decay(ema_epochs: float, steps_per_epoch: int) -> float:
    """The per-step decay β for a horizon of ``ema_epochs`` epochs of ``steps_per_epoch``."""
    return 1.0 - 1.0 / max(1.0, ema_epochs * steps_per_epoch)


def bias_corrected_update(decay: float) -> Callable[[list[Tensor], list[Tensor], Tensor], None]:
    """``AveragedModel``'s ``multi_avg_fn``: one bias-corrected EMA step over a tensor group.

    Update ``n + 1`` moves the average towards the weights by ``(1-β) / (1 - β^(n+1))``:
    1 for the first (a copy), tending to ``1-β``.
    """

    @torch.no_grad()
    def update(averaged: list[Tensor], current: list[Tensor], num_averaged: Tensor) -> None:
        weight = (1.0 - decay) / (1.0 - decay ** (int(num_averaged) + 1))
        if averaged[0].is_floating_point():
            torch._foreach_lerp_(averaged, current, weight)
        else:  # integer buffers (counters) follow the model
            for average, value in zip(averaged, current, strict=True):
                average.copy_(value)

    return update


def build_average(
    model: nn.Module, config: TrainerConfig, steps_per_epoch: int | None, log: bool = True
) -> AveragedModel | None:
    """The EMA copy of ``model`` for ``config.ema_epochs``; None (no averaging) when that is
    0 or its horizon exceeds ``config.ema_max_steps``, which is logged when ``log``."""
    if not config.ema_epochs:
        return None
    if steps_per_epoch is None:
        raise ConfigError(
            "trainer.ema_epochs needs a train loader with a length (len(loader)) to turn "
            "epochs into steps; set trainer.ema_epochs=0 for an iterable without one"
        )
    horizon = config.ema_epochs * steps_per_epoch
    if config.ema_max_steps is not None and horizon > config.ema_max_steps:
        if log:
            logger.info(
                "weight averaging off: its horizon, %g epochs of %d steps, is over "
                "trainer.ema_max_steps=%d (--set trainer.ema_max_steps=none keeps it)",
                config.ema_epochs, steps_per_epoch, config.ema_max_steps,
            )  # fmt: skip
        return None
    update = bias_corrected_update(ema_decay(config.ema_epochs, steps_per_epoch))
    return AveragedModel(model, multi_avg_fn=update, use_buffers=True)
