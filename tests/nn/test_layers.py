"""Layer behaviour beyond parity: errors, padding invariance, properties, recording, naming."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn import GRU, LSTM, RNN, get_layer_class, record_steps
from tests.nn.reference import run_reference, torch_twin


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_state_dict_loads_both_ways(kind):
    torch.manual_seed(0)
    ours = get_layer_class(kind)(4, 3, num_layers=2, bidirectional=True)
    theirs = torch_twin(ours, kind)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs_fresh = type(theirs)(4, 3, num_layers=2, bidirectional=True, batch_first=True)
    ours.load_state_dict(theirs_fresh.state_dict())
    x = torch.randn(2, 5, 4)
    torch.testing.assert_close(ours(x)[0], theirs_fresh(x)[0], atol=1e-6, rtol=0)


# Without gradients the fused backend packs the batch; with them it runs the padded batch.
@pytest.mark.parametrize("grad", [True, False], ids=["grad", "no grad"])
@pytest.mark.parametrize("backend", ["loop", "fused"])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_extra_padding_never_changes_valid_outputs(kind, backend, grad):
    torch.manual_seed(0)
    layer = get_layer_class(kind)(3, 4, num_layers=2, bidirectional=True, backend=backend)
    x = torch.randn(3, 5, 3)
    lengths = torch.tensor([5, 2, 4])
    padded = torch.cat([x, 100 * torch.randn(3, 6, 3)], dim=1)  # garbage in the padding
    with torch.set_grad_enabled(grad):
        outputs, final = layer(x, lengths=lengths)
        padded_outputs, padded_final = layer(padded, lengths=lengths)
    assert padded_outputs.shape == (3, 11, 8)  # every step of the input, padding included
    torch.testing.assert_close(padded_outputs[:, :5], outputs, atol=1e-6, rtol=0)
    assert padded_outputs[:, 5:].abs().max() == 0
    for ours, theirs in zip(final, padded_final, strict=True):
        if ours is not None:
            torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=0)


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["rnn", "lstm", "gru"]),
    backend=st.sampled_from(["loop", "fused"]),
    batch=st.integers(1, 4),
    time=st.integers(1, 6),
    input_size=st.integers(1, 4),
    hidden_size=st.integers(1, 4),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    data=st.data(),
)
def test_random_shapes_and_lengths_match_torch(
    kind, backend, batch, time, input_size, hidden_size, num_layers, bidirectional, data
):
    lengths = torch.tensor(
        data.draw(st.lists(st.integers(1, time), min_size=batch, max_size=batch))
    )
    torch.manual_seed(data.draw(st.integers(0, 1000)))
    layer = get_layer_class(kind)(
        input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional, backend=backend
    )
    x = torch.randn(batch, time, input_size)
    outputs, final = layer(x, lengths=lengths)
    expected_outputs, expected_final = run_reference(torch_twin(layer, kind), x, None, lengths)
    directions = 2 if bidirectional else 1
    assert outputs.shape == (batch, time, directions * hidden_size)
    assert final.h.shape == (num_layers * directions, batch, hidden_size)
    torch.testing.assert_close(outputs, expected_outputs, atol=1e-5, rtol=0)
    torch.testing.assert_close(final.h, expected_final.h, atol=1e-5, rtol=0)


def test_bidirectional_final_state_is_not_last_output():
    """The Note in the docstring: the reverse h_n is the state after the first token."""
    torch.manual_seed(0)
    layer = GRU(3, 4, bidirectional=True)
    outputs, final = layer(torch.randn(2, 5, 3))
    torch.testing.assert_close(final.h[1], outputs[:, 0, 4:])
    torch.testing.assert_close(final.h[0], outputs[:, -1, :4])


def test_record_steps_gives_per_step_states_in_the_graph():
    torch.manual_seed(0)
    model = torch.nn.Sequential()
    model.rnn = LSTM(3, 4, bidirectional=True)  # fused by default; recording switches to loop
    x = torch.randn(2, 5, 3)
    lengths = torch.tensor([5, 3])
    with record_steps(model) as records:
        outputs, final = model.rnn(x, lengths=lengths)
    record = records["rnn"]
    assert sorted(record.states) == [(0, 0), (0, 1)]
    forward_states = record.states[(0, 0)]
    assert len(forward_states) == 5
    torch.testing.assert_close(forward_states[2].h, outputs[:, 2, :4])
    # Past its length, a sequence holds its last valid state.
    torch.testing.assert_close(forward_states[4].h[1], forward_states[2].h[1])
    gradients = torch.autograd.grad(final.h.sum(), [state.h for state in forward_states])
    assert gradients[0].abs().sum() > 0
    assert model.rnn.step_record is None  # the context cleans up


def test_dropout_between_layers_only_in_training():
    torch.manual_seed(0)
    layer = LSTM(3, 4, num_layers=2, dropout=0.5)
    x = torch.randn(2, 5, 3)
    layer.eval()
    torch.testing.assert_close(layer(x)[0], layer(x)[0])
    layer.train()
    assert not torch.equal(layer(x)[0], layer(x)[0])


def test_dropout_on_single_layer_warns():
    with pytest.warns(UserWarning, match="no effect"):
        GRU(3, 4, dropout=0.2)


def test_backends_agree_in_float64_and_without_bias():
    torch.manual_seed(0)
    loop = RNN(3, 4, num_layers=2, bias=False, backend="loop").double()
    fused = RNN(3, 4, num_layers=2, bias=False, backend="fused").double()
    fused.load_state_dict(loop.state_dict())
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    lengths = torch.tensor([2, 5])
    torch.testing.assert_close(loop(x, lengths=lengths)[0], fused(x, lengths=lengths)[0])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda m: m(torch.zeros(2, 5, 4)),
            ShapeError,
            r"input: expected input_size 3 features, got 4",
        ),
        (lambda m: m(torch.zeros(5, 3)), ShapeError, r"input: expected 3 dimensions"),
        (
            lambda m: m(torch.zeros(2, 5, 3), lengths=torch.tensor([6, 2])),
            ShapeError,
            r"lengths: every length must be <= the input's time size 5, got 6",
        ),
        (
            lambda m: m(torch.zeros(2, 5, 3), lengths=torch.tensor([0, 2])),
            ShapeError,
            r"lengths: every length must be >= 1, got 0",
        ),
        (
            lambda m: m(torch.zeros(2, 5, 3), lengths=torch.tensor([5, 2, 1])),
            ShapeError,
            r"lengths: expected shape \(2,\) to match the input's batch, got \(3,\)",
        ),
        (
            lambda m: m(torch.zeros(2, 5, 3), lengths=torch.tensor([2.0, 1.0])),
            ShapeError,
            r"lengths: expected an integer tensor, got dtype torch.float32",
        ),
        (
            lambda m: m(torch.zeros(2, 5, 3), (torch.zeros(1, 3, 4), torch.zeros(1, 3, 4))),
            ShapeError,
            r"state.h: expected shape \(1, 2, 4\) .* got \(1, 3, 4\)",
        ),
    ],
)
def test_bad_input_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(LSTM(3, 4))


def test_bad_configuration_errors():
    with pytest.raises(
        ConfigError, match=r"unknown cell 'transformer'; expected one of \['gru', 'lstm', 'rnn'\]"
    ):
        get_layer_class("transformer")
    with pytest.raises(
        ConfigError, match=r"backend: expected one of \['auto', 'loop', 'fused'\], got 'cuda'"
    ):
        LSTM(3, 4, backend="cuda")
    with pytest.raises(ConfigError, match=r"dropout: expected a number in \[0, 1\], got 1.5"):
        LSTM(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(ConfigError, match=r"num_layers: expected a positive integer, got 0"):
        GRU(3, 4, num_layers=0)
