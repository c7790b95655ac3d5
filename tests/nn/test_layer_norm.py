"""The layer-normalised LSTM and GRU: their equations against hand-written references, and
their layers."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.nn import GRU, LSTM, RNN, RNNState
from rnnkit.nn.fast_path import describe_fast_path
from rnnkit.nn.layer_norm import LayerNormGRUCell, LayerNormLSTMCell

LAYERS = {"lstm": (LSTM, LayerNormLSTMCell), "gru": (GRU, LayerNormGRUCell)}


def randomise_norms_(module: torch.nn.Module) -> None:
    """Gains and shifts away from 1 and 0, so a reference that ignored them would fail."""
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            if "norm" in name and name.endswith("weight"):
                parameter.uniform_(0.5, 1.5)
            elif "norm" in name:
                parameter.normal_()


def normalised(vector, norm):
    """LN(v) = gain * (v - mean) / sqrt(var + 1e-5) + shift, over the last axis, by hand."""
    mean = vector.mean(dim=-1, keepdim=True)
    variance = vector.var(dim=-1, unbiased=False, keepdim=True)
    return norm.weight * (vector - mean) / torch.sqrt(variance + 1e-5) + norm.bias


def reference_lstm_step(cell, x, h, c):
    """Ba et al. (2016): LN on W_ih x and W_hh h (over 4H), biases after, LN on c_t."""
    gates = normalised(x @ cell.weight_ih.T, cell.norms.ih) + cell.bias_ih
    gates = gates + normalised(h @ cell.weight_hh.T, cell.norms.hh) + cell.bias_hh
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(normalised(c, cell.norms.cell)), c


def reference_gru_step(cell, x, h):
    """torch's GRU equations on LN(W_ih x) + b_ih and LN(W_hh h) + b_hh (over 3H)."""
    x_r, x_z, x_n = (normalised(x @ cell.weight_ih.T, cell.norms.ih) + cell.bias_ih).chunk(3, -1)
    h_r, h_z, h_n = (normalised(h @ cell.weight_hh.T, cell.norms.hh) + cell.bias_hh).chunk(3, -1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


def test_lstm_cell_follows_the_equations():
    torch.manual_seed(0)
    cell = LayerNormLSTMCell(3, 2)
    randomise_norms_(cell)
    x, h, c = torch.randn(4, 3), torch.randn(4, 2), torch.randn(4, 2)
    h_t, state = cell(x, RNNState(h, c))
    expected_h, expected_c = reference_lstm_step(cell, x, h, c)
    torch.testing.assert_close(h_t, expected_h, rtol=0, atol=1e-6)
    torch.testing.assert_close(state.c, expected_c, rtol=0, atol=1e-6)  # c_t unnormalised


def test_gru_cell_follows_the_equations():
    torch.manual_seed(0)
    cell = LayerNormGRUCell(3, 2)
    randomise_norms_(cell)
    x, h = torch.randn(4, 3), torch.randn(4, 2)
    h_t, state = cell(x, h)
    torch.testing.assert_close(h_t, reference_gru_step(cell, x, h), rtol=0, atol=1e-6)
    assert state.c is None and cell.norms.cell is None


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_layer_equals_the_cell_stepped_by_hand(kind):
    layer_class, cell_class = LAYERS[kind]
    torch.manual_seed(0)
    layer = layer_class(3, 2, layer_norm=True)
    randomise_norms_(layer)
    cell = cell_class(3, 2)
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
    torch.testing.assert_close(final.h[0], state.h, rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_padding_never_changes_valid_outputs_of_a_bidirectional_stack(kind):
    torch.manual_seed(0)
    layer = LAYERS[kind][0](3, 4, num_layers=2, bidirectional=True, layer_norm=True)
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
    assert "layer_norm_l0.cell.weight" not in dict(GRU(3, 4, layer_norm=True).named_parameters())
    assert describe_fast_path(layer).endswith("Python loop (forced by model.layer_norm=True)")


def test_layer_norm_needs_an_lstm_or_gru_and_the_loop():
    expected = r"layer_norm: expected cell in \['gru', 'lstm'\], got cell 'rnn_tanh'"
    with pytest.raises(ConfigError, match=expected):
        RNN(3, 4, layer_norm=True)
    with pytest.raises(ConfigError, match=r"backend='fused' and layer_norm=True"):
        LSTM(3, 4, backend="fused", layer_norm=True)
