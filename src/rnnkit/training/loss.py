"""The model contract's loss, for training and dev evaluation alike.

Every task model has ``inputs(batch)`` (the arguments of its ``forward`` for a training batch)
and ``loss(outputs, batch)`` (a scalar mean loss). The forward pass goes through the model
itself, which may be a ``DistributedDataParallel`` wrapper, and the loss stays outside
``forward`` — DDP's gradient hooks see one forward per step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
from torch import Tensor, nn

from rnnkit.training.checkpoint import unwrap_model


def contract_loss(model: nn.Module, batch: Any) -> Tensor:
    """``model.loss(model(*model.inputs(batch)), batch)``: the Trainer's default ``loss_fn``."""
    inner = unwrap_model(model)
    return inner.loss(model(*inner.inputs(batch)), batch)


def evaluate_loss(model: nn.Module, batches: Iterable[Any], weight: Callable[[Any], int]) -> float:
    """The contract loss over ``batches`` in eval mode without gradients: each batch's mean
    weighted by ``weight(batch)`` (its examples, or its tokens for a per-token loss), so the
    result is the mean over the whole set. NaN when the batches weigh nothing."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in batches:
            size = weight(batch)
            total += float(contract_loss(model, batch)) * size
            count += size
    model.train(was_training)
    return total / count if count else float("nan")


def dataset_batches(dataset: Any, batch_size: int) -> Iterator[Any]:
    """An encoded dataset (``lengths``, ``collate``, indexing) in batches of similar length,
    collated as in training."""
    order = sorted(range(len(dataset)), key=lambda index: dataset.lengths[index])
    for start in range(0, len(order), batch_size):
        yield dataset.collate([dataset[index] for index in order[start : start + batch_size]])
