"""An exponential moving average (EMA) of the weights, evaluated and saved in their place.

Polyak averaging (Polyak & Juditsky 1992): the weights a run keeps are an average over the
last steps of the optimisation path rather than its last point, which removes most of the
step-to-step noise of a high learning rate. ``TrainerConfig.ema_epochs`` sets the horizon in
epochs of steps, so one setting means the same thing on 5,000 examples and on 500,000:
the decay per optimizer step is ``1 - 1 / horizon`` with ``horizon = ema_epochs *
steps_per_epoch`` steps, at most ``TrainerConfig.ema_max_steps`` (a long epoch of a large data
set would otherwise average weights far apart).

The average starts at the first update's weights and is bias-corrected as Adam's moments
are (Kingma & Ba 2015), so the early epochs are not pulled towards the initial weights:
after ``n`` updates it is ``Σ_i β^(n-i) (1-β) w_i / (1 - β^n)``. torch's ``AveragedModel``
keeps the copy and the update count; buffers are averaged with the parameters.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel

from rnnkit.errors import ConfigError


def ema_decay(ema_epochs: float, steps_per_epoch: int, max_steps: int | None = None) -> float:
    """The per-step decay β for a horizon of ``ema_epochs`` epochs of ``steps_per_epoch``,
    at most ``max_steps`` steps."""
    horizon = ema_epochs * steps_per_epoch
    if max_steps is not None:
        horizon = min(horizon, max_steps)
    return 1.0 - 1.0 / max(1.0, horizon)


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
    model: nn.Module, ema_epochs: float, steps_per_epoch: int | None, max_steps: int | None = None
) -> AveragedModel | None:
    """The EMA copy of ``model`` for ``ema_epochs`` (None when it is 0: no averaging), its
    horizon at most ``max_steps``."""
    if not ema_epochs:
        return None
    if steps_per_epoch is None:
        raise ConfigError(
            "trainer.ema_epochs needs a train loader with a length (len(loader)) to turn "
            "epochs into steps; set trainer.ema_epochs=0 for an iterable without one"
        )
    update = bias_corrected_update(ema_decay(ema_epochs, steps_per_epoch, max_steps))
    return AveragedModel(model, multi_avg_fn=update, use_buffers=True)
