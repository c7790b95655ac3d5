"""`RNNState`: the one state type shared by every cell and layer.

Shape (cell): ``h: (B, H)``, ``c: (B, H)`` for an LSTM, else ``None``.
Shape (layer): ``h: (L*D, B, H)``, ``c: (L*D, B, H)`` or ``None`` — torch's layout, with the
directions of one layer adjacent (index ``layer * D + direction``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class RNNState(NamedTuple):
    """Hidden state ``h`` plus, for an LSTM, the cell state ``c``.

    A named tuple, so ``output, (h_n, c_n) = lstm(x)`` unpacks as with ``torch.nn.LSTM``.
    """

    h: Tensor
    c: Tensor | None = None

    def map(self, function) -> RNNState:
        """Applies ``function`` to every tensor of the state (``h`` and, if present, ``c``)."""
        return RNNState(function(self.h), None if self.c is None else function(self.c))


def stack_states(states: list[RNNState]) -> RNNState:
    """Stacks per-(layer, direction) states ``(B, H)`` into torch's ``(L*D, B, H)`` layout."""
    h = torch.stack([state.h for state in states])
    c = None if states[0].c is None else torch.stack([state.c for state in states])
    return RNNState(h, c)
