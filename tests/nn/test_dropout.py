"""The regularisers of rnnkit.nn.dropout: mask statistics, eval mode, p = 0, the fused route."""

from __future__ import annotations

import pytest
import torch
from torch.profiler import profile

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn import GRU, LSTM
from rnnkit.nn.dropout import (
    LockedDropout,
    Regularisation,
    embedding_row_dropout,
    locked_dropout,
    weight_drop,
    zoneout,
)
from rnnkit.nn.fast_path import describe_fast_path
from rnnkit.nn.state import RNNState

TOLERANCE = 0.02  # |fraction dropped - p| over the large tensors below (many thousand draws)


def test_locked_dropout_drops_p_with_one_mask_per_sequence():
    torch.manual_seed(0)
    x = torch.ones(200, 30, 50)
    out = locked_dropout(x, 0.3, training=True)
    assert abs(float((out == 0).float().mean()) - 0.3) < TOLERANCE
    assert out.unique().tolist() == pytest.approx([0.0, 1 / 0.7])
    assert torch.equal(out, out[:, :1].expand_as(out))  # the same mask at every time step
    assert not torch.equal(out[0], out[1])  # another mask for another sequence


def test_locked_dropout_is_the_identity_in_eval_and_at_p_zero():
    x = torch.randn(4, 5, 6)
    module = LockedDropout(0.5).eval()
    assert module(x) is x
    assert locked_dropout(x, 0.0, training=True) is x


def test_locked_dropout_needs_sequences_and_a_probability():
    with pytest.raises(ShapeError, match=r"locked dropout: expected a \(B, T, F\) tensor"):
        locked_dropout(torch.ones(3, 4), 0.5, training=True)
    with pytest.raises(ConfigError, match=r"p: expected a value in \[0, 1\), got 1.0"):
        LockedDropout(1.0)


def test_embedding_row_dropout_drops_whole_word_types():
    torch.manual_seed(0)
    vocab_size = 5000
    tokens = torch.arange(1, vocab_size).repeat(2, 1)  # (2, V-1): every type twice
    tokens[:, :3] = 0  # padding
    embedded = torch.ones(*tokens.shape, 8)
    embedded[tokens == 0] = 0.0  # the padding row is zero
    out = embedding_row_dropout(embedded, tokens, vocab_size, 0.25, training=True)
    dropped = out[..., 0] == 0
    assert abs(float(dropped[:, 3:].float().mean()) - 0.25) < TOLERANCE
    assert torch.equal(out[0], out[1])  # a type is dropped everywhere in the batch, or nowhere
    assert torch.equal(out, out[..., :1].expand_as(out))  # whole rows, not single features
    assert out[:, 3:].unique().tolist() == pytest.approx([0.0, 1 / 0.75])
    assert out[:, :3].abs().max() == 0  # padding stays zero


def test_embedding_row_dropout_is_the_identity_in_eval_and_at_p_zero():
    embedded, tokens = torch.randn(2, 3, 4), torch.tensor([[1, 2, 3], [3, 2, 0]])
    assert embedding_row_dropout(embedded, tokens, 5, 0.5, training=False) is embedded
    assert embedding_row_dropout(embedded, tokens, 5, 0.0, training=True) is embedded


def test_weight_drop_drops_p_of_the_matrix_and_never_touches_the_parameter():
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.ones(400, 100))
    dropped = weight_drop(weight, 0.4, training=True)
    assert abs(float((dropped == 0).float().mean()) - 0.4) < TOLERANCE
    assert torch.equal(weight, torch.ones(400, 100))
    assert weight_drop(weight, 0.4, training=False) is weight
    assert weight_drop(weight, 0.0, training=True) is weight


# No lengths: one stacked kernel call; variable lengths (a shorter third sequence): the fused
# backend's per-direction route on the padded batch.
@pytest.mark.parametrize("lengths", [None, torch.tensor([6, 6, 3])])
def test_layer_weight_drop_is_one_mask_for_the_batch_and_all_steps(lengths):
    torch.manual_seed(0)
    layer = LSTM(3, 4, bidirectional=True, regularisation=Regularisation(weight_drop=0.5))
    x = torch.cat([torch.randn(1, 6, 3).expand(2, 6, 3), torch.randn(1, 6, 3)])  # 2 the same
    torch.manual_seed(1)
    outputs, _ = layer(x, lengths=lengths)
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)
    torch.manual_seed(1)
    weights = layer.forward_weights()  # the same draws: the masks that forward used
    plain = LSTM(3, 4, bidirectional=True)
    plain.load_state_dict({name: weight.detach() for name, weight in weights.items()})
    torch.testing.assert_close(outputs, plain(x, lengths=lengths)[0], rtol=0, atol=1e-6)
    assert not torch.equal(weights["weight_hh_l0"], layer.weight_hh_l0)
    assert torch.equal(weights["weight_ih_l0"], layer.weight_ih_l0)  # only W_hh is dropped


def kernels_of_a_training_step(layer, lengths=None) -> set[str]:
    x = torch.randn(4, 7, layer.input_size)
    with profile() as profiler:
        outputs, _ = layer(x, lengths=lengths)
        outputs.sum().backward()
    return {event.name for event in profiler.events()}


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN")
@pytest.mark.parametrize("lengths", [None, torch.tensor([7, 3, 5, 2])])
def test_weight_drop_and_locked_dropout_keep_the_onednn_lstm(lengths):
    torch.manual_seed(0)
    regularisation = Regularisation(locked_dropout=True, weight_drop=0.5)
    layer = LSTM(5, 8, 2, bidirectional=True, dropout=0.3, regularisation=regularisation)
    assert "aten::mkldnn_rnn_layer" in kernels_of_a_training_step(layer, lengths)
    assert describe_fast_path(layer) == "fast path: LSTM LSTM → oneDNN LSTM"


# Every route of the fused backend: no lengths, lengths, and lengths without gradients (where
# plain dropout would pack the batch); locked masks keep the per-layer route in all three.
@pytest.mark.parametrize("route", ["no lengths", "lengths", "no grad"])
@pytest.mark.parametrize("backend", ["loop", "fused"])
def test_locked_dropout_between_layers_is_one_mask_per_sequence(backend, route):
    torch.manual_seed(0)
    regularisation = Regularisation(locked_dropout=True)
    layer = LSTM(3, 16, 2, dropout=0.5, backend=backend, regularisation=regularisation)
    seen = []
    original = layer.drop_between

    def spy(outputs):
        dropped = original(outputs)
        seen.append((outputs, dropped))
        return dropped

    layer.drop_between = spy
    lengths = None if route == "no lengths" else torch.tensor([6, 6, 6])
    with torch.set_grad_enabled(route != "no grad"):
        layer(torch.randn(3, 6, 3), lengths=lengths)
    ((outputs, dropped),) = seen
    assert (outputs != 0).all()
    kept = dropped != 0  # (B, T, F)
    assert torch.equal(kept, kept[:, :1].expand_as(kept))  # the same at every step
    assert not torch.equal(kept[0], kept[1])  # another sequence, another mask
    assert not bool(kept.all())


@pytest.mark.parametrize("backend", ["loop", "fused"])
def test_locked_dropout_between_layers_is_off_in_eval(backend):
    torch.manual_seed(0)
    locked = LSTM(3, 4, 2, dropout=0.5, backend=backend, regularisation=Regularisation(True))
    plain = LSTM(3, 4, 2, dropout=0.5, backend=backend)
    plain.load_state_dict(locked.state_dict())
    x, lengths = torch.randn(3, 6, 3), torch.tensor([6, 2, 4])
    assert torch.equal(locked.eval()(x, lengths=lengths)[0], plain.eval()(x, lengths=lengths)[0])


def test_zoneout_keeps_p_of_the_units():
    torch.manual_seed(0)
    previous = RNNState(torch.zeros(300, 200), torch.zeros(300, 200))
    new = RNNState(torch.ones(300, 200), torch.ones(300, 200))
    zoned = zoneout(previous, new, 0.3, training=True)
    for tensor in zoned:
        assert abs(float((tensor == 0).float().mean()) - 0.3) < TOLERANCE
        assert set(tensor.unique().tolist()) == {0.0, 1.0}
    assert not torch.equal(zoned.h, zoned.c)  # h and c draw their own masks
    expected = zoneout(previous, new, 0.3, training=False)
    torch.testing.assert_close(expected.h, torch.full((300, 200), 0.7))
    assert zoneout(previous, new, 0.0, training=True) is new


def reference_zoneout_lstm(layer, x, p):
    """Hand-written: the LSTM equations, then h and c = p * previous + (1 - p) * new."""
    h = c = torch.zeros(x.size(0), layer.hidden_size)
    outputs = []
    for step in range(x.size(1)):
        gates = x[:, step] @ layer.weight_ih_l0.T + layer.bias_ih_l0
        gates = gates + h @ layer.weight_hh_l0.T + layer.bias_hh_l0
        i, f, g, o = gates.chunk(4, dim=-1)
        new_c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        new_h = torch.sigmoid(o) * torch.tanh(new_c)
        h, c = p * h + (1 - p) * new_h, p * c + (1 - p) * new_c
        outputs.append(h)
    return torch.stack(outputs, dim=1), h, c


def test_zoneout_in_eval_is_the_expectation_of_the_equations():
    torch.manual_seed(0)
    layer = LSTM(2, 3, regularisation=Regularisation(zoneout=0.25)).eval()
    x = torch.randn(2, 4, 2)
    outputs, final = layer(x)
    expected, h, c = reference_zoneout_lstm(layer, x, 0.25)
    torch.testing.assert_close(outputs, expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(final.h[0], h, rtol=0, atol=1e-6)
    torch.testing.assert_close(final.c[0], c, rtol=0, atol=1e-6)


def test_zoneout_in_training_holds_p_of_the_units_from_step_to_step():
    torch.manual_seed(0)
    layer = GRU(4, 200, regularisation=Regularisation(zoneout=0.4))
    outputs, _ = layer(torch.randn(50, 12, 4))
    held = outputs[:, 1:] == outputs[:, :-1]
    assert abs(float(held.float().mean()) - 0.4) < TOLERANCE


def test_zoneout_runs_the_loop_and_is_refused_on_the_fused_backend():
    layer = LSTM(2, 3, regularisation=Regularisation(zoneout=0.1))
    assert layer.loop_reason() == "zoneout=0.1"
    assert (
        describe_fast_path(layer)
        == "fast path: LSTM LSTM → Python loop (forced by model.zoneout=0.1)"
    )
    with pytest.raises(ConfigError, match=r"backend='fused' and zoneout=0.1: zoneout runs on"):
        LSTM(2, 3, backend="fused", regularisation=Regularisation(zoneout=0.1))
    with pytest.raises(ConfigError, match=r"zoneout: expected a value in \[0, 1\), got 1.5"):
        Regularisation(zoneout=1.5)


def test_zoneout_zero_is_the_plain_layer():
    torch.manual_seed(0)
    plain = LSTM(3, 4, backend="loop")
    zero = LSTM(3, 4, backend="loop", regularisation=Regularisation(zoneout=0.0))
    zero.load_state_dict(plain.state_dict())
    x = torch.randn(2, 5, 3)
    assert torch.equal(plain(x)[0], zero(x)[0])
