"""The layer-normalised LSTM: its equations against a hand-written reference, and its layer."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnnkit.errors import ConfigError
from rnnkit.nn import GRU, LSTM, RNNState
from rnnkit.nn.fast_path import describe_fast_path
from rnnkit.nn.layer_norm import LayerNormLSTMCell


def randomise_norms_(module: torch.nn.Module) -> None:
    """Gains and shifts away from 1 and 0, so a reference that ignored them would fail."""
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            if "norm" in name and name.endswith("weight"):
                parameter.uniform_(0.5, 1.5)
            elif "norm" in name:
                parameter.normal_()


def reference_step(x, h, c, weights, norms):
    """Ba et al. (2016): LN on W_ih x and W_hh h (over 4H) and on c_t before tanh."""
    weight_ih, weight_hh, bias_ih, bias_hh = weights
    (gain_ih, shift_ih), (gain_hh, shift_hh), (gain_c, shift_c) = norms
    size = 4 * h.size(-1)
    gates = F.layer_norm(x @ weight_ih.T, (size,), gain_ih, shift_ih, eps=1e-5) + bias_ih
    gates = gates + F.layer_norm(h @ weight_hh.T, (size,), gain_hh, shift_hh, eps=1e-5) + bias_hh
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    normalised = F.layer_norm(c, (h.size(-1),), gain_c, shift_c, eps=1e-5)
    return torch.sigmoid(o) * torch.tanh(normalised), c


def cell_norms(cell: LayerNormLSTMCell):
    return [(norm.weight, norm.bias) for norm in (cell.norms.ih, cell.norms.hh, cell.norms.cell)]


def test_cell_follows_the_equations():
    torch.manual_seed(0)
    cell = LayerNormLSTMCell(3, 2)
    randomise_norms_(cell)
    x, h, c = torch.randn(4, 3), torch.randn(4, 2), torch.randn(4, 2)
    h_t, state = cell(x, RNNState(h, c))
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    expected_h, expected_c = reference_step(x, h, c, weights, cell_norms(cell))
    torch.testing.assert_close(h_t, expected_h, rtol=0, atol=1e-6)
    torch.testing.assert_close(state.c, expected_c, rtol=0, atol=1e-6)  # c_t unnormalised


def test_layer_equals_the_cell_stepped_by_hand():
    torch.manual_seed(0)
    layer = LSTM(3, 2, layer_norm=True)
    randomise_norms_(layer)
    cell = LayerNormLSTMCell(3, 2)
    cell.load_state_dict(
        {name.replace("_l0", "").replace("layer_norm.", "norms."): value
         for name, value in layer.state_dict().items()}
    )  # fmt: skip
    x = torch.randn(2, 5, 3)
    outputs, final = layer(x)
    state = None
    for step in range(5):
        h, state = cell(x[:, step], state)
        torch.testing.assert_close(outputs[:, step], h, rtol=0, atol=1e-6)
    torch.testing.assert_close(final.c[0], state.c, rtol=0, atol=1e-6)


def test_padding_never_changes_valid_outputs_of_a_bidirectional_stack():
    torch.manual_seed(0)
    layer = LSTM(3, 4, num_layers=2, bidirectional=True, layer_norm=True)
    x, lengths = torch.randn(3, 5, 3), torch.tensor([5, 2, 4])
    outputs, final = layer(x, lengths=lengths)
    padded = torch.cat([x, 100 * torch.randn(3, 4, 3)], dim=1)
    padded_outputs, padded_final = layer(padded, lengths=lengths)
    torch.testing.assert_close(padded_outputs[:, :5], outputs, rtol=0, atol=1e-6)
    torch.testing.assert_close(padded_final.h, final.h, rtol=0, atol=1e-6)


def test_layer_norm_parameters_are_named_and_initialised():
    layer = LSTM(3, 4, bidirectional=True, layer_norm=True)
    names = set(dict(layer.named_parameters()))
    assert {"layer_norm_l0.ih.weight", "layer_norm_l0_reverse.cell.bias"} <= names
    assert torch.equal(layer.layer_norm_l0.hh.weight, torch.ones(16))
    assert torch.equal(layer.layer_norm_l0.hh.bias, torch.zeros(16))
    assert layer.weight_hh_l0.abs().max() <= 0.5  # U(-1/sqrt(H), 1/sqrt(H)), H = 4
    assert describe_fast_path(layer).endswith("Python loop (forced by model.layer_norm=True)")


def test_layer_norm_needs_an_lstm_and_the_loop():
    with pytest.raises(
        ConfigError, match=r"layer_norm: expected cell in \['lstm'\], got cell 'gru'"
    ):
        GRU(3, 4, layer_norm=True)
    with pytest.raises(ConfigError, match=r"backend='fused' and layer_norm=True"):
        LSTM(3, 4, backend="fused", layer_norm=True)
