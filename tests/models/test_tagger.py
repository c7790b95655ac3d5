"""SequenceTagger: shapes, masking, overfitting a toy set with and without CRF, save → load."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from rnnkit.config import config_from_dict
from rnnkit.data import WordBatch
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models import EncoderConfig, RecurrentEncoder, SequenceTagger, TaggerConfig
from rnnkit.training.checkpoint import load_model_weights, save_model_dir
from tests.models.tagging_toys import (
    CHAR_VOCAB_SIZE,
    TAG_NAMES,
    VOCAB_SIZE,
    ToyBatch,
    as_tagged,
    make_batch,
    with_garbage_padding,
)


def make_config(use_crf: bool = True, char_features: bool = False, **changes) -> TaggerConfig:
    return TaggerConfig(
        vocab_size=VOCAB_SIZE, embedding_dim=8, hidden_size=12, num_tags=len(TAG_NAMES),
        use_crf=use_crf, char_features=char_features, char_vocab_size=CHAR_VOCAB_SIZE,
        char_embedding_dim=4, char_hidden_size=3, output_dropout=0.0, **changes,
    )  # fmt: skip


def make_model(use_crf: bool = True, char_features: bool = False, **changes) -> SequenceTagger:
    torch.manual_seed(0)
    model = SequenceTagger(make_config(use_crf, char_features, **changes))
    if use_crf:
        model.constrain_bio(TAG_NAMES)
    return model.eval()


def inputs(batch: ToyBatch, chars: bool) -> WordBatch:
    return as_tagged(batch, chars).words


def loss_of(model: SequenceTagger, batch: ToyBatch, chars: bool) -> torch.Tensor:
    return model.loss(model(inputs(batch, chars)), as_tagged(batch, chars))


@pytest.mark.parametrize("use_crf", [True, False])
@pytest.mark.parametrize("chars", [True, False])
def test_padding_never_changes_scores_loss_or_decoding(use_crf, chars):
    model = make_model(use_crf, chars, num_layers=2)
    batch = make_batch(size=5)
    emissions = model(inputs(batch, chars))
    assert emissions.shape == (5, 6, 3)
    garbage = with_garbage_padding(batch)
    noisy = model(inputs(garbage, chars))
    for b, n in enumerate(batch.lengths.tolist()):
        torch.testing.assert_close(noisy[b, :n], emissions[b, :n], atol=1e-5, rtol=0)
    torch.testing.assert_close(loss_of(model, garbage, chars), loss_of(model, batch, chars))
    decoded = model.decode(inputs(batch, chars))
    assert [len(path) for path in decoded] == batch.lengths.tolist()
    assert model.decode(inputs(garbage, chars)) == decoded


@pytest.mark.parametrize(("use_crf", "chars"), [(True, True), (True, False), (False, False)])
def test_overfits_a_tiny_tagging_set(use_crf, chars):
    model = make_model(use_crf, chars).train()
    batch = make_batch(size=16)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    first = loss_of(model, batch, chars).item()
    for _ in range(60):
        optimizer.zero_grad()
        loss_of(model, batch, chars).backward()
        optimizer.step()
    assert loss_of(model, batch, chars).item() < first / 5
    decoded = model.eval().decode(inputs(batch, chars))
    gold = [row[:n] for row, n in zip(batch.tags.tolist(), batch.lengths.tolist(), strict=True)]
    assert decoded == gold


def test_crf_loss_is_per_token_negative_log_likelihood():
    model = make_model(use_crf=True)
    batch = make_batch(size=4)
    emissions = model(inputs(batch, False))
    log_likelihood = model.head.crf.log_likelihood(emissions, batch.tags, batch.lengths)
    expected = -log_likelihood.sum() / batch.lengths.sum()
    torch.testing.assert_close(model.loss(emissions, as_tagged(batch)), expected)


def test_save_load_gives_the_same_predictions(tmp_path):
    model = make_model(use_crf=True, char_features=True)
    save_model_dir(tmp_path, model, {"config.json": dataclasses.asdict(model.config)})
    config = config_from_dict(TaggerConfig, dataclasses.asdict(model.config))
    loaded = SequenceTagger(config).eval()  # unconstrained until the weights arrive
    load_model_weights(loaded, tmp_path)
    assert not loaded.head.crf.allowed[TAG_NAMES.index("O"), TAG_NAMES.index("I-X")]
    batch = make_batch(size=6)
    assert loaded.decode(inputs(batch, True)) == model.decode(inputs(batch, True))


def test_encoder_extra_features_are_concatenated_to_embeddings():
    torch.manual_seed(0)
    encoder = RecurrentEncoder(EncoderConfig(vocab_size=5, embedding_dim=3, hidden_size=4), 2)
    assert encoder.rnn.input_size == 5
    tokens, extra = torch.tensor([[1, 2, 3]]), torch.randn(1, 3, 2)
    outputs, _ = encoder(tokens, extra=extra)
    expected, _ = encoder.rnn(torch.cat([encoder.embedding(tokens), extra], dim=-1))
    torch.testing.assert_close(outputs, expected)
    with pytest.raises(
        ShapeError, match=r"extra: expected shape \(1, 3, 2\) \(B, T, X\), got None"
    ):
        encoder(tokens)
    plain = RecurrentEncoder(EncoderConfig(vocab_size=5, embedding_dim=3, hidden_size=4))
    with pytest.raises(ShapeError, match=r"extra: this encoder was built with extra_features=0"):
        plain(tokens, extra=extra)


def test_bad_input_and_config_name_the_argument():
    batch = make_batch(size=2)
    with pytest.raises(ShapeError, match=r"char_ids: expected a tensor \(the model has character"):
        make_model(char_features=True)(inputs(batch, False))
    with pytest.raises(ShapeError, match=r"char_ids: this model has no character features"):
        make_model()(inputs(batch, True))
    with pytest.raises(ShapeError, match=r"tags: expected shape \(2, 6\) \(B, T\), got \(2, 5\)"):
        model = make_model(use_crf=False)
        short = as_tagged(batch)._replace(tags=batch.tags[:, :5])
        model.loss(model(inputs(batch, False)), short)
    with pytest.raises(ConfigError, match=r"num_tags: expected at least 2, got 0"):
        SequenceTagger(TaggerConfig(vocab_size=5))
    with pytest.raises(ConfigError, match=r"char_vocab_size: expected at least 2, got 0"):
        SequenceTagger(TaggerConfig(vocab_size=5, num_tags=3, char_features=True))
    with pytest.raises(ConfigError, match=r"tag_names: expected 3 names \(num_tags\), got 2"):
        make_model().constrain_bio(["O", "B-X"])
    with pytest.raises(ConfigError, match=r"constrain_bio: expected a model with use_crf=True"):
        make_model(use_crf=False).constrain_bio(TAG_NAMES)
