"""Helpers for variable-length batches: validity masks, in-length reversal, last-step gathers.

Legend: B batch, T time, F features.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.errors import ShapeError


def check_lengths(lengths: Tensor | list[int] | tuple[int, ...], batch: int, time: int) -> Tensor:
    """Validates ``lengths`` against an input of ``batch`` sequences of ``time`` steps.

    Returns a ``LongTensor (B,)`` on the CPU. Raises a `ShapeError` naming ``lengths`` for a
    wrong shape, a non-integer dtype, or a value outside ``[1, T]``.
    """
    if not isinstance(lengths, Tensor):
        lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1 or lengths.size(0) != batch:
        raise ShapeError(
            f"lengths: expected shape ({batch},) to match the input's batch, "
            f"got {tuple(lengths.shape)}"
        )
    if lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
        raise ShapeError(f"lengths: expected an integer tensor, got dtype {lengths.dtype}")
    lengths = lengths.to(device="cpu", dtype=torch.long)
    shortest, longest = int(lengths.min()), int(lengths.max())
    if shortest < 1:
        raise ShapeError(f"lengths: every length must be >= 1, got {shortest}")
    if longest > time:
        raise ShapeError(
            f"lengths: every length must be <= the input's time size {time}, got {longest}"
        )
    return lengths


def valid_mask(lengths: Tensor, time: int, device: torch.device | None = None) -> Tensor:
    """``mask[b, t]`` is True where ``t < lengths[b]``. Shape: ``(B, T)`` bool."""
    steps = torch.arange(time, device=device)
    return steps.unsqueeze(0) < lengths.to(device).unsqueeze(1)


def reverse_index(lengths: Tensor, time: int, device: torch.device | None = None) -> Tensor:
    """Index that reverses each sequence inside its own length and leaves padding in place.

    ``index[b, t] = lengths[b] - 1 - t`` for ``t < lengths[b]``, else ``t``. The map is its own
    inverse, so the same index undoes the reversal. Shape: ``(B, T)`` long.
    """
    steps = torch.arange(time, device=device).unsqueeze(0)  # (1, T)
    lengths = lengths.to(device).unsqueeze(1)  # (B, 1)
    return torch.where(steps < lengths, lengths - 1 - steps, steps)


def reverse_within_lengths(sequence: Tensor, index: Tensor) -> Tensor:
    """Applies a `reverse_index` to ``sequence (B, T, F)``; returns ``(B, T, F)``."""
    return sequence.gather(1, index.unsqueeze(-1).expand_as(sequence))


def gather_last_steps(sequence: Tensor, lengths: Tensor) -> Tensor:
    """``sequence[b, lengths[b] - 1]`` for every b. Shape: ``(B, T, F) -> (B, F)``."""
    index = (lengths.to(sequence.device) - 1).view(-1, 1, 1).expand(-1, 1, sequence.size(-1))
    return sequence.gather(1, index).squeeze(1)
