"""Word dropout in the default recipes: the <unk> embedding is trained where it is on."""

from __future__ import annotations

import pytest
import torch

from rnnkit.models import EncoderConfig, RecurrentEncoder
from rnnkit.tasks.classification import ClassifyConfig
from rnnkit.tasks.tagging_train import JointTaskConfig, TagConfig


def unk_gradient(word_dropout: float) -> float:
    """The gradient that <unk>'s embedding gets from one training batch without <unk>."""
    torch.manual_seed(0)
    encoder = RecurrentEncoder(
        EncoderConfig(vocab_size=20, embedding_dim=4, hidden_size=4, word_dropout=word_dropout)
    )
    tokens = torch.randint(2, 20, (8, 10))  # no <unk> (1) and no padding (0) in the data
    outputs, _ = encoder.train()(tokens)
    outputs.sum().backward()
    return encoder.embedding.weight.grad[encoder.config.unk_id].abs().sum().item()


@pytest.mark.parametrize(
    ("config", "trains_unk"),
    [(ClassifyConfig(), True), (TagConfig(), True), (JointTaskConfig(), False)],
    ids=["classify", "tag", "joint"],
)
def test_a_recipe_with_word_dropout_trains_unk(config, trains_unk):
    # min_freq 1 puts every training word in the vocabulary, so only word dropout ever reads
    # a training token as <unk>: without it <unk>'s embedding, which every unseen dev or test
    # word reads as, would stay at its random start. The joint recipe measured better without.
    assert config.data.min_freq == 1
    assert (unk_gradient(config.model.word_dropout) > 0) is trains_unk
