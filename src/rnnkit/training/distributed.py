"""Data-parallel training under ``torchrun`` (gloo on CPU, nccl on GPUs): set-up and the few
collectives.

The trainer calls :func:`init_distributed` at the start of ``fit``. Outside ``torchrun``
(``WORLD_SIZE`` unset or 1) every function here is a no-op for a single process.
Each rank must read its own shard of the data: give the ``DataLoader`` a
``torch.utils.data.DistributedSampler(dataset, num_replicas=world_size(), rank=rank())``
(or any sampler with ``set_epoch``) when :func:`world_size` is above 1; these two read the
environment, so the data can be built before the process group exists.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class DistContext:
    """This process's place in the job: rank 0 of 1 when not distributed."""

    rank: int = 0
    world_size: int = 1
    # Whether init_distributed created the process group (and so must destroy it).
    owns_group: bool = False
    # Where this rank trains; nccl's collectives take tensors on this rank's GPU.
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes checkpoints, logs and progress."""
        return self.rank == 0


def world_size() -> int:
    """The number of processes of the job, from ``WORLD_SIZE`` (1 outside torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's rank in the job, from ``RANK`` (0 outside torchrun)."""
    return int(os.environ.get("RANK", "0"))


def init_distributed(device: torch.device | None = None) -> DistContext:
    """Joins the ``torchrun`` job when ``WORLD_SIZE`` is above 1: the nccl backend when this
    rank trains on ``device`` a GPU, else gloo."""
    device = device or torch.device("cpu")
    if world_size() <= 1:
        return DistContext(device=device)
    owns = not dist.is_initialized()
    if owns:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DistContext(dist.get_rank(), dist.get_world_size(), owns, device)


def shutdown_distributed(context: DistContext) -> None:
    """Destroys the process group if :func:`init_distributed` created it."""
    if context.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(model: nn.Module, context: DistContext) -> nn.Module:
    """``DistributedDataParallel(model)`` when distributed (rank 0's weights are broadcast);
    on a GPU, the wrapper owns that one device."""
    if not context.enabled:
        return model
    device_ids = [context.device] if context.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def all_reduce_sum(values: list[float], context: DistContext) -> list[float]:
    """Sums each value over the ranks (float64)."""
    if not context.enabled:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=context.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def any_rank(flag: bool, context: DistContext) -> bool:
    """True on every rank when ``flag`` is true on any rank."""
    return any_ranks((flag,), context)[0]


def any_ranks(flags: Sequence[bool], context: DistContext) -> list[bool]:
    """`any_rank` of each flag, in one reduction."""
    return [total > 0 for total in all_reduce_sum([float(flag) for flag in flags], context)]


def broadcast_metrics(metrics: dict[str, float], context: DistContext) -> dict[str, float]:
    """Rank 0's metric values on every rank, so decisions such as early stopping agree.

    Every rank must report the same metric names.
    """
    if not context.enabled:
        return metrics
    names = sorted(metrics)
    tensor = torch.tensor([metrics[name] for name in names], dtype=torch.float64,
                          device=context.device)  # fmt: skip
    dist.broadcast(tensor, src=0)
    return dict(zip(names, tensor.tolist(), strict=True))
