"""The controlled experiments behind ``rnnkit diagnose``: one cell type per line of the plot.

Legend: B batch, T time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnnkit.diagnostics.gradients import GradientFlow, Thresholds, gradient_flow
from rnnkit.diagnostics.long_range import adding_problem, as_generator
from rnnkit.diagnostics.long_range_training import (
    EVAL_SEED_OFFSET,
    LongRangeConfig,
    LongRangeResult,
    get_task,
    resolve_cell,
    train_long_range,
)
from rnnkit.errors import ConfigError
from rnnkit.nn.init import get_initializer


def parse_cells(text: str) -> list[str]:
    """``"rnn,lstm,gru"`` → ``["rnn", "lstm", "gru"]``; each name checked, none repeated."""
    cells = [name.strip() for name in text.split(",") if name.strip()]
    if not cells:
        raise ConfigError(f"cells: expected comma-separated cell names, got {text!r}")
    for name in cells:
        resolve_cell(name)
    if len(set(cells)) != len(cells):
        raise ConfigError(f"cells: expected each cell once, got {text!r}")
    return cells


def parse_lengths(text: str, minimum: int = 2) -> list[int]:
    """``"10,50,100"`` → ``[10, 50, 100]``; each an integer >= ``minimum``."""
    try:
        lengths = [int(part) for part in text.split(",")]
    except ValueError:
        lengths = []
    if not lengths or min(lengths) < minimum:
        raise ConfigError(f"lengths: expected comma-separated integers >= {minimum}, got {text!r}")
    return lengths


def adding_gradient_flow(
    cell: str,
    length: int,
    seed: int,
    config: LongRangeConfig | None = None,
    train_steps: int = 0,
    batch_size: int = 32,
    thresholds: Thresholds | None = None,
) -> GradientFlow:
    """``‖∂L/∂h_t‖`` of one cell on an adding-problem batch of length T.

    The model is `LongRangeModel` for the adding problem, seeded with ``seed`` and
    initialised by ``config.init``; with ``train_steps > 0`` it is first trained that long
    (``train_long_range``). The loss is the squared error summed over a held-out batch of
    ``batch_size``, so it sits at the last step: index ``T - 1 - d`` is ``d`` steps from it.
    """
    config = config or LongRangeConfig()
    torch.manual_seed(seed)
    model = get_initializer(config.init)(get_task("adding").build_model(cell, config.hidden_size))
    if train_steps:
        train_long_range(cell, length, train_steps, seed, config, model=model)
    inputs, targets = adding_problem(batch_size, length, as_generator(seed + EVAL_SEED_OFFSET))
    model.eval()

    def loss_fn(module: nn.Module):
        return F.mse_loss(module(inputs).squeeze(-1), targets, reduction="sum")

    return gradient_flow(model, loss_fn, thresholds=thresholds)


def long_range_sweep(
    cells: list[str],
    lengths: list[int],
    steps: int,
    seed: int,
    config: LongRangeConfig | None = None,
    on_result=None,
) -> list[LongRangeResult]:
    """Trains every cell at every length; ``on_result(result)`` is called after each run."""
    results = []
    for length in lengths:
        for cell in cells:
            result = train_long_range(cell, length, steps, seed, config)
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results
