"""The tagging tasks' default recipe: character features decided from the training tokens."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from rnnkit.data import TaggedExample
from rnnkit.errors import ConfigError
from rnnkit.models import SequenceTagger, TaggerConfig
from rnnkit.tasks.common import resolve_char_features
from rnnkit.tasks.tagging_train import (
    JointTaskConfig,
    TagConfig,
    TagDataSettings,
    prediction_tokenizer,
)


def sentences(*token_lists: list[str]) -> list[TaggedExample]:
    return [TaggedExample(tokens=t, tags=["O"] * len(t)) for t in token_lists]


def test_defaults_are_the_measured_tagging_recipe():
    for config in (TagConfig(), JointTaskConfig()):
        assert config.model.char_features == "auto" and config.model.use_crf
        assert config.model.embedding_dropout == 0.25 and config.trainer.lr == 2e-3
        assert (config.trainer.epochs, config.trainer.patience) == (20, 4)


def test_words_turn_character_features_on(caplog):
    with caplog.at_level(logging.INFO, logger="rnnkit"):
        config = resolve_char_features(TagConfig(), [["EU", "rejects", "German"]])
    assert config.model.char_features is True
    assert "char features auto → on: training tokens average 5.0 characters" in caplog.text


def test_single_characters_turn_them_off():
    config = resolve_char_features(JointTaskConfig(), [["中", "国"], ["人", "民", "们"]])
    assert config.model.char_features is False


def test_an_explicit_choice_is_kept():
    config = TagConfig(model=TaggerConfig(char_features=False))
    assert resolve_char_features(config, [["words", "here"]]) is config


def test_a_model_refuses_the_undecided_auto():
    config = dataclasses.replace(TagConfig().model, vocab_size=10, num_tags=3)
    with pytest.raises(ConfigError, match="char_features: 'auto' is decided by the task"):
        SequenceTagger(config)


def test_auto_prediction_tokenizer_follows_the_training_tokens():
    data = TagDataSettings()
    assert data.tokenizer == "auto"
    chinese = prediction_tokenizer(data, sentences(["中", "国"], ["人", "民"]))
    assert chinese.tokenize("我在 北京") == ["我", "在", "北", "京"]
    english = prediction_tokenizer(data, sentences(["EU", "rejects", "German"]))
    assert english.tokenize("EU rejects it.") == ["EU", "rejects", "it", "."]
