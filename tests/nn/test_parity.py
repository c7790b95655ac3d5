"""Both backends against torch.nn with copied weights: outputs, final states and gradients.

The pattern of pytorch's benchmarks/fastrnns/custom_lstms.py test_script_*: every cell type
(tanh and ReLU RNN, LSTM, GRU) x {1, 2 layers} x {uni, bi} x {with, without lengths}
x {with, without initial state}.
For variable lengths the reference runs each sequence alone.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager

import pytest
import torch

from rnnkit.nn import fused, get_layer_class
from tests.nn.reference import run_reference, torch_twin

TOLERANCE = 1e-5
CASES = list(
    itertools.product(
        ["rnn", "rnn-relu", "lstm", "gru"],  # cell (-nonlinearity for the RNN)
        [1, 2],  # num_layers
        [False, True],  # bidirectional
        [False, True],  # variable lengths
        [False, True],  # initial state
        ["loop", "fused"],  # backend
    )
)


def case_id(case) -> str:
    kind, layers, bidirectional, lengths, state, backend = case
    return (
        f"{kind}-L{layers}-{'bi' if bidirectional else 'uni'}-"
        f"{'lengths' if lengths else 'full'}-{'state' if state else 'zero'}-{backend}"
    )


def make_inputs(layer, variable_lengths: bool, with_state: bool, batch: int = 4, time: int = 7):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(batch, time, layer.input_size, generator=generator)
    lengths = torch.tensor([7, 3, 1, 5])[:batch] if variable_lengths else None
    state = None
    if with_state:
        shape = (layer.num_layers * layer.num_directions, batch, layer.hidden_size)
        h = torch.randn(shape, generator=generator)
        c = torch.randn(shape, generator=generator) if layer.spec.has_cell_state else None
        state = (h, c) if c is not None else h
    return x, lengths, state


def loss_of(outputs, final, projections):
    """A scalar touching every output and state element with distinct weights."""
    total = (outputs * projections[0]).sum() + (final.h * projections[1]).sum()
    if final.c is not None:
        total = total + (final.c * projections[2]).sum()
    return total


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_torch_nn(case):
    kind, num_layers, bidirectional, variable_lengths, with_state, backend = case
    kind, _, nonlinearity = kind.partition("-")
    options = {"nonlinearity": nonlinearity} if nonlinearity else {}
    torch.manual_seed(0)
    layer = get_layer_class(kind)(
        5, 6, num_layers=num_layers, bidirectional=bidirectional, backend=backend, **options
    )
    twin = torch_twin(layer, kind)
    if kind == "rnn":  # the reference really is torch.nn.RNN(nonlinearity=...)
        assert twin.nonlinearity == (nonlinearity or "tanh")
    x, lengths, state = make_inputs(layer, variable_lengths, with_state)
    ours_x = x.clone().requires_grad_(True)
    reference_x = x.clone().requires_grad_(True)
    state_tuple = None if state is None else (state if isinstance(state, tuple) else (state,))

    outputs, final = layer(ours_x, state, lengths)
    reference_outputs, reference_final = run_reference(
        twin, reference_x, None if state is None else _as_rnn_state(state_tuple), lengths
    )

    torch.testing.assert_close(outputs, reference_outputs, atol=TOLERANCE, rtol=0)
    torch.testing.assert_close(final.h, reference_final.h, atol=TOLERANCE, rtol=0)
    if final.c is not None:
        torch.testing.assert_close(final.c, reference_final.c, atol=TOLERANCE, rtol=0)

    generator = torch.Generator().manual_seed(2)
    projections = [
        torch.randn(outputs.shape, generator=generator),
        torch.randn(final.h.shape, generator=generator),
        torch.randn(final.h.shape, generator=generator),
    ]
    loss_of(outputs, final, projections).backward()
    loss_of(reference_outputs, reference_final, projections).backward()
    torch.testing.assert_close(ours_x.grad, reference_x.grad, atol=TOLERANCE, rtol=0)
    reference_parameters = dict(twin.named_parameters())
    for name, parameter in layer.named_parameters():
        torch.testing.assert_close(
            parameter.grad, reference_parameters[name].grad, atol=TOLERANCE, rtol=0, msg=name
        )


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_state_gradients_match(kind):
    """Gradients reach the initial state identically on both backends."""
    torch.manual_seed(0)
    loop = get_layer_class(kind)(3, 4, num_layers=2, bidirectional=True, backend="loop")
    fused = get_layer_class(kind)(3, 4, num_layers=2, bidirectional=True, backend="fused")
    fused.load_state_dict(loop.state_dict())
    x, lengths, state = make_inputs(loop, True, True)
    x = x[..., :3].contiguous()
    grads = []
    for layer in (loop, fused):
        tensors = [
            t.clone().requires_grad_(True)
            for t in (state if isinstance(state, tuple) else (state,))
        ]
        outputs, final = layer(x, tuple(tensors) if len(tensors) == 2 else tensors[0], lengths)
        (outputs.sum() + final.h.pow(2).sum()).backward()
        grads.append([t.grad for t in tensors])
    for ours, theirs in zip(*grads, strict=True):
        torch.testing.assert_close(ours, theirs, atol=TOLERANCE, rtol=0)


@contextmanager
def spy_on(module, name: str):
    """Counts the calls of ``module.name`` inside the block (a list holding one count)."""
    original, calls = getattr(module, name), [0]

    def counting(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    setattr(module, name, counting)
    try:
        yield calls
    finally:
        setattr(module, name, original)


def _as_rnn_state(state_tuple):
    from rnnkit.nn import RNNState

    return RNNState(*state_tuple)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_inference_route_matches_torch_nn(kind, bidirectional, with_state):
    """Without gradients the fused backend packs variable lengths; same results."""
    torch.manual_seed(0)
    layer = get_layer_class(kind)(5, 6, num_layers=2, bidirectional=bidirectional, backend="fused")
    x, lengths, state = make_inputs(layer, True, with_state)
    reference_state = (
        None if state is None else _as_rnn_state(state if isinstance(state, tuple) else (state,))
    )
    with torch.inference_mode(), spy_on(fused, "run_packed") as calls:
        outputs, final = layer(x, state, lengths)
    assert calls == [1]  # the packed route was taken
    with torch.inference_mode():
        expected_outputs, expected_final = run_reference(
            torch_twin(layer, kind), x, reference_state, lengths
        )
    torch.testing.assert_close(outputs, expected_outputs, atol=TOLERANCE, rtol=0)
    torch.testing.assert_close(final.h, expected_final.h, atol=TOLERANCE, rtol=0)
    assert (final.c is None) == (kind != "lstm")
    if final.c is not None:
        torch.testing.assert_close(final.c, expected_final.c, atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_each_route_runs_the_kernels_it_names(kind):
    """Uniform lengths: one stacked kernel call; lengths in training: one call per layer and
    direction on the padded batch, never packed; lengths without gradients: packed once."""
    torch.manual_seed(0)
    layer = get_layer_class(kind)(5, 6, num_layers=2, bidirectional=True, backend="fused")
    x, lengths, _ = make_inputs(layer, True, False)
    routes = {}
    for route, lengths_given, grad in [("uniform", None, True), ("training", lengths, True),
                                       ("inference", lengths, False)]:  # fmt: skip
        with (
            torch.set_grad_enabled(grad),
            spy_on(fused, "run_kernel") as kernel,
            spy_on(fused, "run_direction_holding") as holding,
            spy_on(fused, "run_packed") as packed,
        ):
            layer(x, lengths=lengths_given)
        routes[route] = (kernel[0], holding[0], packed[0])
    assert routes == {"uniform": (1, 0, 0), "training": (4, 4, 0), "inference": (0, 0, 1)}


@pytest.mark.parametrize("grad", [True, False], ids=["padded route", "packed route"])
def test_dropout_is_applied_between_layers_only_on_every_route(grad):
    """In training, dropout changes what the second layer reads, and never touches the last
    layer's outputs: no valid output is exactly 0 (an LSTM's h = o * tanh(c) never is)."""
    torch.manual_seed(0)
    layer = get_layer_class("lstm")(5, 6, num_layers=2, dropout=0.5, backend="fused")
    x, lengths, _ = make_inputs(layer, True, False)
    valid = torch.arange(x.size(1)) < lengths.unsqueeze(1)  # (B, T)
    with torch.set_grad_enabled(grad), spy_on(fused, "run_packed") as packed:
        expected = layer.eval()(x, lengths=lengths)[0]
        dropped = layer.train()(x, lengths=lengths)[0]
    assert packed == [0 if grad else 2]
    assert not torch.allclose(dropped[valid], expected[valid])
    assert bool((dropped[valid] != 0).all())
    single = get_layer_class("lstm")(5, 6, backend="fused")  # one layer: nothing between
    with torch.set_grad_enabled(grad):
        trained, evaluated = (
            single.train()(x, lengths=lengths)[0],
            single.eval()(x, lengths=lengths)[0],
        )
    torch.testing.assert_close(trained, evaluated, atol=0, rtol=0)
