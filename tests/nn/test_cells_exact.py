"""Cell checks pinned exactly: sizes, messages in full, the sign of the initialisation."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn import GRUCell, LSTMCell, RNNCell
from rnnkit.nn.cells import get_cell_spec


def test_sizes_of_one_are_accepted_and_others_named():
    assert RNNCell(1, 1)(torch.zeros(2, 1))[0].shape == (2, 1)
    for bad in (True, 0):
        with pytest.raises(
            ConfigError, match=f"^input_size: expected a positive integer, got {bad}$"
        ):
            GRUCell(bad, 3)
        with pytest.raises(
            ConfigError, match=f"^hidden_size: expected a positive integer, got {bad}$"
        ):
            LSTMCell(3, bad)


def test_state_messages_in_full():
    with pytest.raises(ShapeError) as raised:
        LSTMCell(2, 3)(torch.zeros(1, 2), torch.zeros(1, 3))
    assert str(raised.value) == "state: an LSTM needs (h, c); got h alone"
    with pytest.raises(ShapeError) as raised:
        GRUCell(2, 3)(torch.zeros(1, 2), (torch.zeros(1, 3), torch.zeros(1, 3)))
    assert str(raised.value) == "state: a GRU cell has no cell state c; pass h alone"
    with pytest.raises(ConfigError) as raised:
        get_cell_spec("elman")
    assert str(raised.value) == (
        "unknown cell 'elman'; expected one of ['gru', 'lstm', 'rnn_relu', 'rnn_tanh']"
    )


def test_initialisation_is_symmetric_around_zero():
    torch.manual_seed(0)
    cell = LSTMCell(8, 16)
    for parameter in cell.parameters():
        assert parameter.min() < -0.5 / 16**0.5 and parameter.max() > 0.5 / 16**0.5


def test_bias_and_nonlinearity_are_kept():
    cell = RNNCell(2, 3, bias=False, nonlinearity="relu")
    assert cell.bias is False and cell.nonlinearity == "relu"
    assert repr(cell) == "RNNCell(2, 3, bias=False)"
