"""`LanguageModel`: conditioning modes, the step API against the sequence forward, tied weights."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.decoding import beam_search
from rnnkit.models.language_model import LanguageModel, LanguageModelConfig
from rnnkit.tasks.lm_data import LMBatch

V = 11


def build(**options) -> LanguageModel:
    torch.manual_seed(0)
    base = {"vocab_size": V, "embedding_dim": 6, "hidden_size": 6, "cell": "lstm", "num_layers": 2}
    return LanguageModel(LanguageModelConfig(**{**base, **options})).eval()


CONDITIONED = [
    {"num_conditions": 3, "condition_mode": "initial"},
    {"num_conditions": 3, "condition_mode": "input"},
    {"num_conditions": 3, "condition_mode": "both", "cell": "gru"},
    {"condition_size": 4, "condition_mode": "both", "cell": "rnn"},
    {},
]


def condition_for(model: LanguageModel, batch: int) -> torch.Tensor | None:
    if model.config.num_conditions:
        return torch.arange(batch) % model.config.num_conditions
    if model.config.condition_size:
        return torch.randn(batch, model.config.condition_size)
    return None


@pytest.mark.parametrize("options", CONDITIONED)
def test_steps_reproduce_the_sequence_forward(options):
    model = build(**options)
    tokens = torch.randint(4, V, (3, 7))
    condition = condition_for(model, 3)
    with torch.no_grad():
        logits, _ = model(tokens, condition)  # (B, T, V)
        state = model.start_state(condition, 3)
        for t in range(7):
            log_probs, state = model.step(tokens[:, t], state)
            assert torch.allclose(log_probs, logits[:, t].log_softmax(-1), atol=1e-5)
    assert logits.shape == (3, 7, V)


@pytest.mark.parametrize("options", CONDITIONED[:4])
def test_the_condition_changes_the_predictions(options):
    model = build(**options)
    tokens = torch.randint(4, V, (2, 5))
    if model.config.num_conditions:
        first, second = torch.tensor([0, 0]), torch.tensor([1, 2])
    else:
        first, second = torch.zeros(2, 4), torch.ones(2, 4)
    with torch.no_grad():
        assert not torch.allclose(model(tokens, first)[0], model(tokens, second)[0])


def test_select_reorders_state_and_condition_for_beam_search():
    model = build(num_conditions=3, condition_mode="input")
    state = model.start_state(torch.tensor([0, 1, 2]), 3)
    picked = state.select(torch.tensor([2, 2, 0]))
    assert torch.equal(picked.condition, state.condition[[2, 2, 0]])
    assert torch.equal(picked.rnn.h, state.rnn.h[:, [2, 2, 0]])
    results = beam_search(model.step, state, torch.full((3,), 2), 3, 6, beam_size=3, n_best=2)
    assert [len(row) for row in results] == [2, 2, 2]


def test_tied_embeddings_share_one_matrix():
    model = build(tie_embeddings=True)
    assert model.output.weight is model.embedding.weight
    names = [name for name, _ in model.named_parameters()]
    assert "output.weight" not in names  # one parameter, counted and saved once
    with pytest.raises(ConfigError, match="tie_embeddings needs embedding_dim == hidden_size"):
        LanguageModelConfig(vocab_size=V, embedding_dim=4, hidden_size=6, tie_embeddings=True)


def test_bad_conditions_and_configs_are_named():
    with pytest.raises(ShapeError, match=r"condition: expected \(2,\) category ids, got None"):
        build(num_conditions=3)(torch.ones(2, 3, dtype=torch.long))
    with pytest.raises(ShapeError, match=r"condition: expected \(2, 4\) vectors, got \(2, 3\)"):
        build(condition_size=4)(torch.ones(2, 3, dtype=torch.long), torch.zeros(2, 3))
    with pytest.raises(ShapeError, match="this model is unconditioned"):
        build()(torch.ones(2, 3, dtype=torch.long), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ConfigError, match=r"condition_mode: expected one of \['initial'"):
        LanguageModelConfig(condition_mode="everywhere")
    with pytest.raises(ConfigError, match="num_conditions and condition_size are exclusive"):
        LanguageModelConfig(num_conditions=2, condition_size=3)


def test_loss_is_the_mean_cross_entropy_of_non_pad_targets():
    model = build()
    inputs = torch.tensor([[2, 5, 6], [2, 7, 0]])  # padded with 0
    targets = torch.tensor([[5, 6, 3], [7, 3, 0]])
    batch = LMBatch(inputs, targets, None, 5)
    mean = model.loss(model(*model.inputs(batch)), batch)
    with torch.no_grad():
        log_probs = model(inputs)[0].log_softmax(-1)
    expected = -sum(
        log_probs[b, t, targets[b, t]] for b, t in [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]
    )
    assert mean.item() == pytest.approx(expected.item() / 5, rel=1e-5)
    assert mean.requires_grad  # a loss to train on
