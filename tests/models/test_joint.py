"""JointIntentSlot: shapes, masking, both heads train; spans_from_bio on hand-made examples."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from rnnkit.config import config_from_dict
from rnnkit.errors import ConfigError
from rnnkit.models import JointConfig, JointIntentSlot, spans_from_bio
from rnnkit.training.checkpoint import load_model_weights, save_model_dir
from tests.models.tagging_toys import (
    CHAR_VOCAB_SIZE,
    NUM_INTENTS,
    TAG_NAMES,
    VOCAB_SIZE,
    as_tagged,
    make_batch,
    with_garbage_padding,
)


def make_model(use_crf: bool = True, pooling: str = "mean", **changes) -> JointIntentSlot:
    torch.manual_seed(0)
    config = JointConfig(
        vocab_size=VOCAB_SIZE, embedding_dim=8, hidden_size=12, num_tags=len(TAG_NAMES),
        num_intents=NUM_INTENTS, use_crf=use_crf, pooling=pooling, output_dropout=0.0,
        char_vocab_size=CHAR_VOCAB_SIZE, char_embedding_dim=4, char_hidden_size=3, **changes,
    )  # fmt: skip
    model = JointIntentSlot(config)
    if use_crf:
        model.constrain_bio(TAG_NAMES)
    return model.eval()


@pytest.mark.parametrize("pooling", ["last", "attention"])
def test_shapes_and_padding_invariance(pooling):
    model = make_model(pooling=pooling, char_features=True)
    batch = make_batch(size=5)
    words = as_tagged(batch, chars=True).words
    intent_logits, emissions = model(words)
    assert intent_logits.shape == (5, NUM_INTENTS) and emissions.shape == (5, 6, 3)
    garbage = with_garbage_padding(batch)
    noisy_words = as_tagged(garbage, chars=True).words
    noisy_intents, noisy_emissions = model(noisy_words)
    torch.testing.assert_close(noisy_intents, intent_logits, atol=1e-5, rtol=0)
    for b, n in enumerate(batch.lengths.tolist()):
        torch.testing.assert_close(noisy_emissions[b, :n], emissions[b, :n], atol=1e-5, rtol=0)
    assert model.decode(noisy_words) == model.decode(words)


@pytest.mark.parametrize("use_crf", [True, False])
def test_trains_both_heads(use_crf):
    model = make_model(use_crf).train()
    batch = make_batch(size=16)
    tagged = as_tagged(batch)
    first_intent, first_slots = (x.item() for x in model.loss_terms(model(tagged.words), tagged))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(60):
        optimizer.zero_grad()
        model.loss(model(tagged.words), tagged).backward()
        optimizer.step()
    intent, slots = (x.item() for x in model.loss_terms(model(tagged.words), tagged))
    assert intent < first_intent / 5 and slots < first_slots / 5
    decoded = model.eval().decode(tagged.words)
    assert decoded.intents == batch.intents.tolist()
    assert all(0.5 < p <= 1 for p in decoded.intent_probs)
    gold = [row[:n] for row, n in zip(batch.tags.tolist(), batch.lengths.tolist(), strict=True)]
    assert decoded.tags == gold


def test_loss_weights_the_intent_term():
    batch = make_batch(size=4)
    tagged = as_tagged(batch)
    model = make_model(intent_weight=0.25)
    outputs = model(tagged.words)
    intent, slots = model.loss_terms(outputs, tagged)
    torch.testing.assert_close(model.loss(outputs, tagged), slots + 0.25 * intent)


def test_bad_config_names_the_field():
    with pytest.raises(ConfigError, match=r"num_intents: expected at least 2, got 0"):
        JointIntentSlot(JointConfig(vocab_size=5, num_tags=3))
    with pytest.raises(ConfigError, match=r"pooling: expected one of .*, got 'sum'"):
        JointConfig(pooling="sum")
    with pytest.raises(ConfigError, match=r"intent_weight: expected a number >= 0, got -1"):
        JointConfig(intent_weight=-1)


FLIGHT = ["book", "a", "flight", "from", "new", "york", "to", "san", "francisco"]


@pytest.mark.parametrize(
    ("tokens", "tags", "expected"),
    [
        (
            FLIGHT,
            ["O", "O", "O", "O", "B-from", "I-from", "O", "B-to", "I-to"],
            [("from", "new york", 4, 6), ("to", "san francisco", 7, 9)],
        ),
        # I- without B-: starts a span (seqeval's default reading); so does I-Y after B-X.
        (
            ["new", "york", "city"],
            ["I-loc", "I-loc", "I-city"],
            [("loc", "new york", 0, 2), ("city", "city", 2, 3)],
        ),
        (["a", "b", "c"], ["O", "I-x", "O"], [("x", "b", 1, 2)]),
        # Adjacent entities of the same type stay apart; a span may end the sentence.
        (
            ["paris", "london", "rome"],
            ["B-city", "B-city", "I-city"],
            [("city", "paris", 0, 1), ("city", "london rome", 1, 3)],
        ),
        (["x", "y"], ["O", "O"], []),
        ([], [], []),
    ],
)  # fmt: skip
def test_spans_from_bio(tokens, tags, expected):
    spans = spans_from_bio(tokens, tags)
    assert [(s["type"], s["text"], s["start"], s["end"]) for s in spans] == expected
    for span in spans:  # end is exclusive: the text is tokens[start:end]
        assert span["text"] == " ".join(tokens[span["start"] : span["end"]])


def test_spans_from_bio_chinese_and_errors():
    spans = spans_from_bio(
        list("我在北京工作"), ["O", "O", "B-LOC", "I-LOC", "O", "O"], separator=""
    )
    assert spans == [{"type": "LOC", "text": "北京", "start": 2, "end": 4}]
    with pytest.raises(ConfigError, match=r"tags: expected one tag per token \(2\), got 1 tags"):
        spans_from_bio(["a", "b"], ["O"])
    with pytest.raises(
        ConfigError, match=r"tags\[1\]: expected 'O', 'B-<type>' or 'I-<type>', got 'S-X'"
    ):
        spans_from_bio(["a", "b"], ["O", "S-X"])


def test_save_load_gives_the_same_predictions(tmp_path):
    model = make_model(pooling="attention", char_features=True)
    save_model_dir(tmp_path, model)
    loaded = JointIntentSlot(config_from_dict(JointConfig, dataclasses.asdict(model.config)))
    load_model_weights(loaded.eval(), tmp_path)
    batch = make_batch(size=6)
    words = as_tagged(batch, chars=True).words
    assert loaded.decode(words) == model.decode(words)
