"""A quick self-check: both backends of every layer type on one tiny variable-length batch."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnkit.nn.layers import LAYERS


@dataclass(frozen=True)
class BackendComparison:
    layer: str
    bidirectional: bool
    output_shape: tuple[int, ...]
    max_difference: float  # largest absolute difference of outputs and final states


def compare_backends(seed: int = 0) -> list[BackendComparison]:
    """Runs each layer type with copied weights on both backends; returns the differences."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(3, 5, 4, generator=generator)
    lengths = torch.tensor([5, 2, 4])
    rows = []
    for name, layer_class in LAYERS.items():
        for bidirectional in (False, True):
            torch.manual_seed(seed)
            loop = layer_class(4, 6, bidirectional=bidirectional, backend="loop")
            fused = layer_class(4, 6, bidirectional=bidirectional, backend="fused")
            fused.load_state_dict(loop.state_dict())
            with torch.no_grad():
                loop_out, loop_state = loop(x, lengths=lengths)
                fused_out, fused_state = fused(x, lengths=lengths)
            difference = max(
                (loop_out - fused_out).abs().max().item(),
                (loop_state.h - fused_state.h).abs().max().item(),
            )
            rows.append(BackendComparison(name, bidirectional, tuple(loop_out.shape), difference))
    return rows
