import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rnnkit.diagnostics import Thresholds, gradient_flow, layer_gradient_flow
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn import GRU, LSTM, RNN

H = 4


def linear_relu_rnn(recurrent: torch.Tensor, bidirectional: bool = False) -> RNN:
    """A ReLU RNN that is linear on positive inputs: W_ih = I, non-negative W_hh, no bias."""
    rnn = RNN(H, H, nonlinearity="relu", bias=False, bidirectional=bidirectional)
    with torch.no_grad():
        for name, parameter in rnn.named_parameters():
            parameter.copy_(torch.eye(H) if "weight_ih" in name else recurrent)
    return rnn


def rank_one(radius: float) -> torch.Tensor:
    """A positive (H, H) matrix with spectral radius ``radius``: (W^T)^k 1 = radius^k 1."""
    return torch.full((H, H), radius / H)


def positive_inputs(batch: int, time: int) -> torch.Tensor:
    return torch.rand(batch, time, H, generator=torch.Generator().manual_seed(0)) + 0.1


def test_linear_rnn_matches_the_product_of_jacobians():
    torch.manual_seed(0)
    recurrent = torch.rand(H, H) * 0.5  # positive: every pre-activation stays positive
    rnn = linear_relu_rnn(recurrent)
    time = 7
    flow = layer_gradient_flow(rnn, positive_inputs(1, time))
    (direction,) = flow.directions
    for step in range(time):
        # L = sum(h_{T-1}); each Jacobian dh_t/dh_{t-1} is W_hh, so dL/dh_t = (W^T)^(T-1-t) 1
        expected = torch.linalg.matrix_power(recurrent.T.double(), time - 1 - step) @ torch.ones(
            H, dtype=torch.double
        )
        assert direction.h_norms[step] == pytest.approx(float(expected.norm()), rel=1e-5)


def test_tanh_rnn_matches_the_analytic_backward_recursion():
    torch.manual_seed(1)
    rnn = RNN(3, H)
    x = torch.randn(2, 6, 3)
    flow = layer_gradient_flow(rnn, x)
    with torch.no_grad():
        outputs, _ = rnn(x)  # (B, T, H), the states h_t
    grad = torch.ones(2, H)  # dL/dh_{T-1}
    expected = [grad.norm(dim=-1).mean()]
    for step in range(5, 0, -1):  # dL/dh_{t-1} = W_hh^T (dL/dh_t * tanh'(a_t))
        grad = (grad * (1 - outputs[:, step] ** 2)) @ rnn.weight_hh_l0.detach()
        expected.insert(0, grad.norm(dim=-1).mean())
    np.testing.assert_allclose(flow.directions[0].h_norms, torch.stack(expected), rtol=1e-5)


@pytest.mark.parametrize(
    ("radius", "verdict"), [(1.5, "exploding"), (0.5, "vanishing"), (1.0, "healthy")]
)
def test_spectral_radius_decides_the_verdict(radius, verdict):
    time = 30
    flow = layer_gradient_flow(linear_relu_rnn(rank_one(radius)), positive_inputs(3, time))
    (direction,) = flow.directions
    assert direction.ratio == pytest.approx(radius ** (time - 1), rel=1e-4)
    assert direction.verdict == verdict
    assert flow.verdict == verdict


def test_a_horizon_bounds_the_distance_the_verdict_spans():
    x = positive_inputs(2, 40)
    forgetting = linear_relu_rnn(torch.eye(H) * 0.6)  # keeps 0.6 of the gradient per step
    whole = layer_gradient_flow(forgetting, x).directions[0]
    assert whole.distance == 39 and whole.verdict == "vanishing"  # 0.6^39 ≈ 2e-9
    bounded = layer_gradient_flow(forgetting, x, horizon=10)
    (direction,) = bounded.directions
    assert direction.distance == 10 and direction.ratio == pytest.approx(0.6**10, rel=1e-4)
    assert bounded.verdict == "healthy"
    assert bounded.to_dict()["distance"] == 10 and bounded.to_dict()["horizon"] == 10
    np.testing.assert_allclose(direction.h_norms, whole.h_norms)  # the norms are the same
    squashing = linear_relu_rnn(torch.eye(H) * 0.3)  # 0.3^10 ≈ 6e-6: vanishes within reach
    assert layer_gradient_flow(squashing, x, horizon=10).verdict == "vanishing"
    short = layer_gradient_flow(forgetting, x[:, :5], horizon=10).directions[0]
    assert short.distance == 4 and short.ratio == pytest.approx(0.6**4, rel=1e-4)


@pytest.mark.parametrize(("horizon", "align"), [(0, "end"), (3, "start")])
def test_a_horizon_needs_positive_steps_and_end_alignment(horizon, align):
    with pytest.raises(
        ConfigError,
        match=rf"horizon: expected a positive number of steps with align='end', got {horizon} "
        rf"with align='{align}'",
    ):
        layer_gradient_flow(RNN(2, 2), torch.zeros(1, 2, 2), align=align, horizon=horizon)


def test_thresholds_are_configurable_and_checked():
    flow = layer_gradient_flow(
        linear_relu_rnn(rank_one(0.5)),
        positive_inputs(1, 5),
        thresholds=Thresholds(vanishing_below=1e-2, exploding_above=1e2),
    )
    assert flow.directions[0].ratio == pytest.approx(0.0625)
    assert flow.verdict == "healthy"
    with pytest.raises(ConfigError, match="0 < vanishing_below < exploding_above"):
        Thresholds(vanishing_below=10, exploding_above=1)


def test_overflowing_gradient_reports_the_step_where_it_starts():
    # h_t = 1e-30 * (1e10)^t stays finite for t <= 5; dL/dh_t = (1e10)^(5 - t) overflows float32
    # (max 3.4e38) at t = 1, and becomes NaN at t = 0 (0 * inf).
    rnn = linear_relu_rnn(torch.eye(H) * 1e10)
    x = torch.zeros(2, 6, H)
    x[:, 0] = 1e-30
    flow = layer_gradient_flow(rnn, x)
    (direction,) = flow.directions
    assert direction.nonfinite_grad_step == 1
    assert direction.nonfinite_state_step is None
    assert direction.verdict == "exploding"
    assert math.isfinite(direction.h_norms[2]) and not math.isfinite(direction.h_norms[1])
    assert json.loads(flow.to_json())["directions"][0]["h_norms"][0] is None


def test_overflowing_state_reports_the_step_where_it_starts():
    rnn = linear_relu_rnn(torch.eye(H) * 1e10)
    x = torch.zeros(1, 6, H)
    x[:, 0] = 1.0  # h_t = 1e10^t: inf from t = 4 on
    (direction,) = layer_gradient_flow(rnn, x).directions
    assert direction.nonfinite_state_step == 4
    assert direction.verdict == "exploding"


def test_variable_lengths_are_aligned_at_the_end_or_the_start():
    rnn = linear_relu_rnn(torch.eye(H) * 0.5)  # dL/dh at distance d from the end: 0.5^d * sqrt(H)
    lengths = torch.tensor([5, 3])
    x = positive_inputs(2, 5)
    root = math.sqrt(H)
    end = layer_gradient_flow(rnn, x, lengths=lengths).directions[0]
    np.testing.assert_array_equal(end.counts, [1, 1, 2, 2, 2])
    np.testing.assert_allclose(
        end.h_norms, [0.0625 * root, 0.125 * root, 0.25 * root, 0.5 * root, root]
    )
    start = layer_gradient_flow(rnn, x, lengths=lengths, align="start").directions[0]
    np.testing.assert_array_equal(start.counts, [2, 2, 2, 1, 1])
    # step 0 is 4 steps from the end of sample 0, 2 steps from the end of sample 1
    assert start.h_norms[0] == pytest.approx((0.0625 + 0.25) / 2 * root)
    assert start.h_norms[4] == pytest.approx(root)


def test_reverse_direction_is_measured_in_processing_order():
    rnn = linear_relu_rnn(torch.eye(H) * 0.5, bidirectional=True)
    flow = layer_gradient_flow(rnn, positive_inputs(2, 5), lengths=[5, 3])
    forward, backward = flow.directions
    assert (forward.direction, backward.direction) == (0, 1)
    assert backward.name == "model/l0_reverse"
    np.testing.assert_allclose(backward.h_norms, forward.h_norms)


TORCH_LAYERS = {LSTM: nn.LSTM, GRU: nn.GRU, RNN: nn.RNN}


def torch_step_norms(layer, x: torch.Tensor, direction: int) -> np.ndarray:
    """Mean over the batch of ``‖∂L/∂h_t‖`` for ``L`` = the sum of ``direction``'s final h of
    a one-layer ``layer``, from torch.nn.

    Independent of :func:`rnnkit.nn.record_steps`: for each t, torch.nn runs steps 0..t, its
    state becomes a leaf, torch.nn runs the rest from it, and autograd gives ``∂L/∂h_t``.
    Shape: x (B, T, E); returns an array (T,) in processing order.
    """
    suffix = "_reverse" if direction else ""
    reference = TORCH_LAYERS[type(layer)](x.size(2), layer.hidden_size, batch_first=True)
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    reference.load_state_dict({name: layer.state_dict()[name + suffix] for name in names})
    lstm = type(layer) is LSTM
    x = x.flip(1) if direction else x
    norms = np.zeros(x.size(1))
    for t in range(x.size(1)):
        _, state = reference(x[:, : t + 1])
        state = tuple(s.detach() for s in state) if lstm else state.detach()
        h_t = (state[0] if lstm else state).requires_grad_()
        final = h_t
        if t + 1 < x.size(1):
            _, rest = reference(x[:, t + 1 :], (h_t, state[1]) if lstm else h_t)
            final = rest[0] if lstm else rest
        (grad,) = torch.autograd.grad(final.sum(), [h_t])
        norms[t] = float(grad[0].norm(dim=-1).mean())
    return norms


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("layer_class", [LSTM, GRU, RNN])
def test_step_norms_match_torch_nn_split_at_every_step(layer_class, bidirectional):
    torch.manual_seed(2)
    layer = layer_class(3, 5, bidirectional=bidirectional, backend="fused")
    x = torch.randn(3, 6, 3)
    flow = layer_gradient_flow(layer, x)
    for direction in flow.directions:
        expected = torch_step_norms(layer, x, direction.direction)
        np.testing.assert_allclose(direction.h_norms, expected, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("layer_class", [LSTM, GRU, RNN])
def test_parameter_norms_are_the_fused_backends_gradients(layer_class):
    torch.manual_seed(2)
    fused = layer_class(3, 5, num_layers=2, bidirectional=True, backend="fused")
    x, lengths = torch.randn(3, 6, 3), torch.tensor([6, 4, 2])
    fused_flow = layer_gradient_flow(fused, x, lengths)
    # the flow runs the loop backend; the fused kernel's own backward gives the same norms
    _, state = fused(x, lengths=lengths)
    state.h[-2:].sum().backward()
    for name, parameter in fused.named_parameters():
        assert fused_flow.parameter_norms[name] == pytest.approx(
            float(parameter.grad.norm()), rel=1e-4
        )


def test_lstm_reports_cell_state_gradients():
    torch.manual_seed(3)
    flow = layer_gradient_flow(LSTM(2, 3), torch.randn(2, 5, 2))
    (direction,) = flow.directions
    assert direction.c_norms is not None and direction.c_norms.shape == (5,)
    assert np.all(direction.c_norms > 0)


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(10, 4)
        self.encoder = GRU(4, 5, num_layers=2, dropout=0.5)
        self.head = nn.Linear(5, 2)

    def forward(self, tokens, lengths):
        _, state = self.encoder(self.embedding(tokens), lengths=lengths)
        return self.head(state.h[-1])


def test_a_model_in_eval_mode_with_a_loss_closure():
    torch.manual_seed(4)
    model = Classifier().eval()
    tokens, lengths, labels = (
        torch.randint(0, 10, (3, 7)),
        torch.tensor([7, 5, 2]),
        torch.tensor([0, 1, 1]),
    )

    def loss_fn(m):
        return F.cross_entropy(m(tokens, lengths), labels, reduction="sum")

    with torch.no_grad():  # gradient_flow turns gradients on for itself
        flow = gradient_flow(model, loss_fn, lengths)
    again = gradient_flow(model, loss_fn, lengths)
    assert [d.name for d in flow.directions] == ["encoder/l0", "encoder/l1"]
    assert flow.to_json() == again.to_json()  # eval mode: dropout off, deterministic
    assert set(flow.parameter_norms) == {name for name, _ in model.named_parameters()}
    assert all(p.grad is None for p in model.parameters())
    data = json.loads(flow.to_json())
    assert data["verdict"] in ("healthy", "vanishing", "exploding")
    assert data["global_norm"] == pytest.approx(flow.global_norm)


def test_loss_fn_must_return_a_scalar():
    model = Classifier()
    with pytest.raises(
        ShapeError, match=r"loss_fn: expected a scalar tensor, got a tensor of shape \(3, 2\)"
    ):
        gradient_flow(model, lambda m: m(torch.zeros(3, 4, dtype=torch.long), None))


def test_loss_fn_must_run_a_recurrent_layer():
    model = Classifier()
    with pytest.raises(ConfigError, match=r"ran no rnnkit\.nn recurrent layer"):
        gradient_flow(model, lambda m: m.head.weight.sum())


def test_bad_alignment_is_named():
    with pytest.raises(
        ConfigError, match=r"align: expected one of \['end', 'start'\], got 'middle'"
    ):
        layer_gradient_flow(RNN(2, 2), torch.zeros(1, 2, 2), align="middle")


def test_a_character_encoder_on_another_batch_is_left_out():
    """A tagger's char Bi-LSTM reads every word (B*T sequences): the flow of the sentence
    lengths measures only the word-level encoder (the trainer's flow check on a tagger)."""
    from rnnkit.data import TaggedBatch
    from rnnkit.models import SequenceTagger, TaggerConfig

    torch.manual_seed(5)
    model = SequenceTagger(TaggerConfig(
        vocab_size=10, embedding_dim=4, hidden_size=3, num_tags=3, char_features=True,
        char_vocab_size=6, char_embedding_dim=2, char_hidden_size=2,
    ))  # fmt: skip
    tokens, lengths = torch.randint(2, 10, (2, 4)), torch.tensor([4, 3])
    char_ids, char_lengths = torch.randint(1, 6, (2, 4, 5)), torch.full((2, 4), 5)
    tags = torch.randint(0, 3, (2, 4))
    batch = TaggedBatch(tokens, lengths, tags, None, char_ids, char_lengths)
    flow = gradient_flow(model, lambda m: m.loss(m(batch.words), batch), lengths)
    assert {d.name.split("/")[0] for d in flow.directions} == {"encoder.rnn"}
    assert len(flow.directions) == 2  # forward and reverse


def test_a_tanh_rnn_on_the_adding_problem_still_vanishes():
    from rnnkit.diagnostics.experiments import adding_gradient_flow

    flow = adding_gradient_flow("rnn", length=100, seed=0, batch_size=8)
    assert flow.verdict == "vanishing" and flow.deciding.ratio < 1e-3
    assert flow.to_dict()["deciding"] == flow.deciding.name
