"""The encoder's regularisation options in every model shape: off in eval, a no-op at p = 0,
gradients to every parameter, config errors and the fast-path line."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from rnnkit.config import config_from_dict
from rnnkit.data import TaggedBatch, WordBatch
from rnnkit.errors import ConfigError
from rnnkit.models import EncoderConfig
from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
from rnnkit.models.joint import JointConfig, JointIntentSlot
from rnnkit.models.language_model import LanguageModelConfig
from rnnkit.models.seq2seq import DecoderConfig, Seq2Seq, Seq2SeqConfig
from rnnkit.models.tagger import SequenceTagger, TaggerConfig
from rnnkit.nn.dropout import LockedDropout
from rnnkit.nn.fast_path import describe_fast_path

BASE = TaggerConfig(
    vocab_size=30, embedding_dim=6, hidden_size=5, num_layers=2, num_tags=4, output_dropout=0.0
)
# Each option switched on, and at p = 0 (locked_dropout: on, with every dropout at 0).
ON = {
    "locked_dropout": {
        "locked_dropout": True, "embedding_dropout": 0.4, "dropout": 0.4, "output_dropout": 0.4,
    },
    "weight_drop": {"weight_drop": 0.4},
    "embedding_row_dropout": {"embedding_row_dropout": 0.4},
    "zoneout": {"zoneout": 0.3},
}  # fmt: skip
ZERO = {
    "locked_dropout": {"locked_dropout": True},
    "weight_drop": {"weight_drop": 0.0},
    "embedding_row_dropout": {"embedding_row_dropout": 0.0},
    "zoneout": {"zoneout": 0.0},
}
# Dropouts only: the same model without the option (locked_dropout: torch's dropouts).
PLAIN = {name: {} for name in ON} | {
    "locked_dropout": {**ON["locked_dropout"], "locked_dropout": False}
}
TOKENS = torch.randint(2, 30, (4, 7), generator=torch.Generator().manual_seed(0))
LENGTHS = torch.tensor([7, 3, 5, 1])
WORDS = WordBatch(TOKENS, LENGTHS)


def tagger(**options) -> SequenceTagger:
    torch.manual_seed(0)
    return SequenceTagger(dataclasses.replace(BASE, **options))


@pytest.mark.parametrize("option", ["locked_dropout", "weight_drop", "embedding_row_dropout"])
def test_dropouts_are_off_in_eval(option):
    model, plain = tagger(**ON[option]).eval(), tagger(**PLAIN[option]).eval()
    assert torch.equal(model(WORDS), plain(WORDS))
    model.train()
    torch.manual_seed(1)
    assert not torch.equal(model(WORDS), plain(WORDS))  # on in training


@pytest.mark.parametrize("option", list(ZERO))
def test_p_zero_is_a_no_op(option):
    model, plain = tagger(**ZERO[option]).train(), tagger().train()
    torch.manual_seed(1)
    ours = model(WORDS)
    torch.manual_seed(1)
    assert torch.equal(ours, plain(WORDS))


LAYER_NORM = {
    "layer_norm": {"layer_norm": True},
    "layer_norm_gru": {"layer_norm": True, "cell": "gru"},
}


@pytest.mark.parametrize("option", [*ON, *LAYER_NORM])
def test_gradients_reach_every_parameter(option):
    options = {**ON, **LAYER_NORM}[option]
    model = tagger(bidirectional=True, **options).train()
    tags = torch.randint(0, 4, TOKENS.shape)
    torch.manual_seed(2)
    model.loss(model(WORDS), TaggedBatch(TOKENS, LENGTHS, tags, None)).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_locked_dropout_reaches_the_tagger_output_but_not_pooled_features():
    locked = {"locked_dropout": True, "output_dropout": 0.4}
    assert isinstance(tagger(**locked).head.dropout, LockedDropout)
    classifier = SequenceClassifier(ClassifierConfig(vocab_size=9, num_classes=3, **locked))
    assert isinstance(classifier.encoder.embedding_dropout, LockedDropout)
    assert isinstance(classifier.dropout, torch.nn.Dropout)  # (B, F): no time axis to lock


def test_every_encoder_model_takes_the_options():
    options = {**ON["locked_dropout"], **ON["weight_drop"], **ON["embedding_row_dropout"]}
    options |= {"zoneout": 0.1, "layer_norm": True, "vocab_size": 30}
    joint = JointIntentSlot(JointConfig(**options, num_tags=4, num_intents=3))
    intents, emissions = joint(WORDS)
    assert intents.shape == (4, 3) and emissions.shape == (4, 7, 4)
    del options["output_dropout"]  # the tagger's, not the encoder's
    encoder = dataclasses.replace(EncoderConfig(embedding_dim=4, hidden_size=4), **options)
    seq2seq = Seq2Seq(Seq2SeqConfig(encoder=encoder, decoder=DecoderConfig(vocab_size=6)))
    logits = seq2seq(TOKENS, LENGTHS, torch.randint(2, 6, (4, 3)))
    assert logits.shape == (4, 3, 6)
    assert "encoder.rnn LSTM → Python loop (forced by model.encoder.zoneout=0.1)" in (
        describe_fast_path(seq2seq, {"encoder.": "model.encoder."})
    )


def test_the_language_model_rejects_the_encoder_options():
    with pytest.raises(ConfigError, match="zoneout"):
        config_from_dict(LanguageModelConfig, {"zoneout": 0.1})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cell": "rnn", "layer_norm": True}, r"layer_norm: expected cell in \['gru', 'lstm'\]"),
        ({"backend": "fused", "zoneout": 0.1}, r"backend='fused' and zoneout=0.1"),
        ({"backend": "fused", "layer_norm": True}, r"backend='fused' and layer_norm=True"),
        ({"weight_drop": 1.0}, r"weight_drop: expected a value in \[0, 1\), got 1.0"),
        ({"embedding_row_dropout": -0.1}, r"embedding_row_dropout: expected a value in \[0, 1\)"),
        ({"zoneout": True}, r"zoneout: expected a value in \[0, 1\), got True"),
    ],
)  # fmt: skip
def test_config_errors_name_the_keys(options, message):
    with pytest.raises(ConfigError, match=message):
        EncoderConfig(**options)


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN")
def test_fast_path_names_each_layer_and_the_forcing_option():
    chars = {"char_features": True, "char_vocab_size": 10}
    assert describe_fast_path(tagger(**chars)) == (
        "fast path: chars.rnn LSTM → oneDNN LSTM; encoder.rnn LSTM → oneDNN LSTM"
    )
    assert describe_fast_path(tagger(cell="gru")) == "fast path: encoder.rnn GRU → ATen GRU"
    assert describe_fast_path(tagger().double()) == "fast path: encoder.rnn LSTM → ATen LSTM"
    assert describe_fast_path(tagger(cell="rnn", weight_drop=0.5)) == (
        "fast path: encoder.rnn RNN → ATen RNN"
    )
    assert describe_fast_path(tagger(zoneout=0.1, **chars)) == (
        "fast path: chars.rnn LSTM → oneDNN LSTM; "
        "encoder.rnn LSTM → Python loop (forced by model.zoneout=0.1)"
    )
    assert describe_fast_path(tagger(backend="loop")).endswith(
        "Python loop (forced by model.backend='loop')"
    )
    assert describe_fast_path(torch.nn.Linear(2, 2)) == "fast path: no recurrent layer"
