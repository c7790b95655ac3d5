"""What one ONNX graph of a task model is, and the random inputs its parity check runs on.

Legend: B batch, T time, W characters per word.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from rnnkit.export.graph import GraphBuilder


def example_inputs(config: Any, lengths: Tensor, seed: int = 0) -> dict[str, Tensor]:
    """Random model inputs with these ``lengths``: ``tokens (B, T)`` (padding past each length)
    and, for models with character features, ``char_ids (B, T, W)`` and ``char_lengths``."""
    generator = torch.Generator().manual_seed(seed)
    batch, time = len(lengths), int(lengths.max())
    valid = torch.arange(time) < lengths.unsqueeze(1)  # (B, T)
    low = min(4, config.vocab_size - 1)  # past the special tokens where there are any
    tokens = torch.randint(low, config.vocab_size, (batch, time), generator=generator)
    inputs = {"tokens": tokens.masked_fill(~valid, config.pad_id), "lengths": lengths}
    if getattr(config, "char_features", False):
        width = 6
        char_lengths = torch.randint(1, width + 1, (batch, time), generator=generator) * valid
        char_ids = torch.randint(1, config.char_vocab_size, (batch, time, width),
                                 generator=generator)  # fmt: skip
        inside = torch.arange(width) < char_lengths.unsqueeze(2)
        inputs |= {"char_ids": char_ids * inside, "char_lengths": char_lengths}
    return inputs


def token_inputs(model: nn.Module, lengths: Tensor, seed: int = 0) -> dict[str, Tensor]:
    """`example_inputs` for a model whose ``config`` has the vocabulary size."""
    return example_inputs(model.config, lengths, seed)


@dataclass(frozen=True)
class OnnxGraph:
    """One graph of a task model.

    ``build(model, builder)`` writes the graph's outputs; ``reference(model, inputs)`` returns
    the same outputs by name from PyTorch; ``check_inputs(model, lengths, seed)`` makes inputs
    for the parity check (sequences of ``lengths``). ``token_inputs``: the graph takes
    ``tokens (B, T)`` and ``lengths (B,)`` (a step graph declares its own inputs instead).
    """

    build: Callable[[nn.Module, GraphBuilder], None]
    reference: Callable[[nn.Module, dict[str, Tensor]], dict[str, Tensor]]
    check_inputs: Callable[[nn.Module, Tensor, int], dict[str, Tensor]] = token_inputs
    token_inputs: bool = True
