"""Cells against torch.nn.RNNCell/LSTMCell/GRUCell, and the tutorial's concatenated form."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn import GRUCell, LSTMCell, RNNCell, RNNState

CELLS = [
    (lambda: RNNCell(5, 6), lambda: torch.nn.RNNCell(5, 6)),
    (
        lambda: RNNCell(5, 6, nonlinearity="relu"),
        lambda: torch.nn.RNNCell(5, 6, nonlinearity="relu"),
    ),
    (lambda: RNNCell(5, 6, bias=False), lambda: torch.nn.RNNCell(5, 6, bias=False)),
    (lambda: LSTMCell(5, 6), lambda: torch.nn.LSTMCell(5, 6)),
    (lambda: GRUCell(5, 6), lambda: torch.nn.GRUCell(5, 6)),
]


@pytest.mark.parametrize("make", CELLS, ids=["rnn", "rnn-relu", "rnn-nobias", "lstm", "gru"])
@pytest.mark.parametrize("with_state", [False, True])
def test_cell_matches_torch(make, with_state):
    torch.manual_seed(0)
    ours, theirs = make[0](), make[1]()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(3, 5)
    state = None
    if with_state:
        h = torch.randn(3, 6)
        state = (h, torch.randn(3, 6)) if isinstance(ours, LSTMCell) else h
    h_t, new_state = ours(x, state)
    expected = theirs(x, state)
    if isinstance(ours, LSTMCell):
        torch.testing.assert_close(new_state.c, expected[1], atol=1e-6, rtol=0)
        expected = expected[0]
    torch.testing.assert_close(h_t, expected, atol=1e-6, rtol=0)
    assert new_state.h is h_t


def test_torch_weights_load_into_cell():
    torch.manual_seed(0)
    theirs = torch.nn.LSTMCell(4, 3)
    ours = LSTMCell(4, 3)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 4)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0])


def test_rnn_cell_is_one_linear_layer_over_concatenation():
    """The tutorial's form: h_t = tanh(W·[x_t, h_{t-1}] + b)."""
    torch.manual_seed(0)
    cell = RNNCell(5, 6)
    x, h = torch.randn(3, 5), torch.randn(3, 6)
    W = torch.cat([cell.weight_ih, cell.weight_hh], dim=1)  # (H, E + H)
    b = cell.bias_ih + cell.bias_hh
    expected = torch.tanh(torch.cat([x, h], dim=1) @ W.T + b)
    torch.testing.assert_close(cell(x, h)[0], expected, atol=1e-6, rtol=0)


def test_default_initialisation_is_torch_uniform():
    cell = GRUCell(10, 100)
    bound = 1 / 100**0.5
    for parameter in cell.parameters():
        assert parameter.abs().max() <= bound
        assert parameter.abs().max() > 0.9 * bound


def test_state_type_is_shared():
    h, state = GRUCell(2, 3)(torch.zeros(1, 2))
    assert isinstance(state, RNNState) and state.c is None and state.h is h
    h, state = LSTMCell(2, 3)(torch.zeros(1, 2))
    assert isinstance(state, RNNState) and state.c.shape == (1, 3) and state.h is h


def test_cell_errors_name_argument_expected_and_received():
    with pytest.raises(ShapeError, match=r"input: expected shape \(batch, 5\), got \(3, 4\)"):
        RNNCell(5, 6)(torch.zeros(3, 4))
    with pytest.raises(ShapeError, match=r"state: an LSTM needs \(h, c\)"):
        LSTMCell(5, 6)(torch.zeros(3, 5), torch.zeros(3, 6))
    with pytest.raises(
        ConfigError, match=r"nonlinearity: expected 'tanh' or 'relu', got 'sigmoid'"
    ):
        RNNCell(5, 6, nonlinearity="sigmoid")
    with pytest.raises(ConfigError, match=r"hidden_size: expected a positive integer, got 0"):
        GRUCell(5, 0)
