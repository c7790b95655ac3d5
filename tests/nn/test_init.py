import math

import pytest
import torch
from torch import nn

from rnnkit.errors import ConfigError
from rnnkit.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from rnnkit.nn.init import get_initializer, recurrent_weights

H = 6


def gate_blocks(weight_hh):
    return weight_hh.split(H, dim=0)


@pytest.mark.parametrize(
    "module",
    [
        LSTM(3, H, num_layers=2, bidirectional=True),
        GRU(3, H),
        RNN(3, H),
        LSTMCell(3, H),
        GRUCell(3, H),
    ],
    ids=["lstm-stack", "gru", "rnn", "lstm-cell", "gru-cell"],
)
def test_orthogonal_makes_every_gate_block_orthogonal(module):
    get_initializer("orthogonal")(module)
    blocks = [b for w in recurrent_weights(module) for b in gate_blocks(w.weight_hh)]
    assert len(blocks) == sum(w.spec.num_gates for w in recurrent_weights(module))
    for block in blocks:
        torch.testing.assert_close(block @ block.T, torch.eye(H), atol=1e-5, rtol=0)


def test_orthogonal_blocks_differ_from_each_other():
    lstm = get_initializer("orthogonal")(LSTM(3, H))
    first, second, *_ = gate_blocks(lstm.weight_hh_l0)
    assert not torch.allclose(first, second)


def test_irnn_sets_identity_and_zero_biases_and_keeps_input_weights():
    rnn = RNN(3, H, nonlinearity="relu", num_layers=2)
    weight_ih = rnn.weight_ih_l1.detach().clone()
    get_initializer("irnn")(rnn)
    for name in ("l0", "l1"):
        assert torch.equal(getattr(rnn, f"weight_hh_{name}"), torch.eye(H))
        assert not getattr(rnn, f"bias_ih_{name}").any()
        assert not getattr(rnn, f"bias_hh_{name}").any()
    assert torch.equal(rnn.weight_ih_l1, weight_ih)


def test_irnn_on_a_cell():
    cell = get_initializer("irnn")(RNNCell(3, H, nonlinearity="relu"))
    assert torch.equal(cell.weight_hh, torch.eye(H))


@pytest.mark.parametrize("module", [LSTM(3, H), GRUCell(3, H)], ids=["lstm", "gru-cell"])
def test_irnn_rejects_gated_cells(module):
    with pytest.raises(ConfigError, match="init 'irnn': expected an RNN cell"):
        get_initializer("irnn")(module)


def test_forget_bias_puts_one_in_bias_ih_and_zero_in_bias_hh():
    lstm = LSTM(3, H, bidirectional=True)
    before = {name: p.detach().clone() for name, p in lstm.named_parameters()}
    get_initializer("forget-bias-1")(lstm)
    forget = slice(H, 2 * H)
    for suffix in ("_l0", "_l0_reverse"):
        bias_ih, bias_hh = getattr(lstm, "bias_ih" + suffix), getattr(lstm, "bias_hh" + suffix)
        assert torch.equal(bias_ih[forget], torch.ones(H))
        assert torch.equal(bias_hh[forget], torch.zeros(H))
        torch.testing.assert_close((bias_ih + bias_hh)[forget], torch.ones(H))
        for name in ("bias_ih", "bias_hh"):  # the other gates are untouched
            untouched = torch.cat([before[name + suffix][:H], before[name + suffix][2 * H :]])
            current = getattr(lstm, name + suffix)
            assert torch.equal(torch.cat([current[:H], current[2 * H :]]), untouched)


@pytest.mark.parametrize("module", [GRU(3, H), LSTM(3, H, bias=False)], ids=["gru", "no-bias"])
def test_forget_bias_rejects_non_lstm_and_bias_free(module):
    with pytest.raises(ConfigError, match="init 'forget-bias-1': expected an LSTM with biases"):
        get_initializer("forget-bias-1")(module)


def test_joined_names_apply_in_order():
    lstm = get_initializer("orthogonal+forget-bias-1")(LSTM(3, H))
    block = gate_blocks(lstm.weight_hh_l0)[0]
    torch.testing.assert_close(block @ block.T, torch.eye(H), atol=1e-5, rtol=0)
    assert torch.equal(lstm.bias_ih_l0[H : 2 * H], torch.ones(H))


def test_default_restores_torch_bounds():
    rnn = get_initializer("irnn")(RNN(3, H))
    get_initializer("default")(rnn)
    bound = 1 / math.sqrt(H)
    assert not torch.equal(rnn.weight_hh_l0, torch.eye(H))
    assert all(p.abs().max() <= bound for p in rnn.parameters())


def test_initialisers_reach_layers_inside_a_model():
    model = nn.Sequential(nn.Linear(2, 3), LSTM(3, H))
    get_initializer("forget-bias-1")(model)
    assert torch.equal(model[1].bias_ih_l0[H : 2 * H], torch.ones(H))


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown initialiser 'xavier'.*'forget-bias-1'"):
        get_initializer("orthogonal+xavier")


def test_module_without_recurrent_layer_is_rejected():
    with pytest.raises(ConfigError, match=r"Linear contains no rnnkit\.nn cell or layer"):
        get_initializer("orthogonal")(nn.Linear(2, 2))
