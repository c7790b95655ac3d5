"""The model contract, over all five task models: ``inputs(batch)`` → ``forward`` → ``loss(outputs,
batch)``. Output shapes, backward reaches every parameter, save → load gives identical outputs,
a padded batch gives each sentence's outputs alone, and the same seed gives the same outputs.

Add a model by adding a `Case` to ``CASES``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from rnnkit.config import config_from_dict
from rnnkit.data import collate_classification, collate_parallel, collate_tagging
from rnnkit.models import (
    ClassifierConfig,
    DecoderConfig,
    EncoderConfig,
    JointConfig,
    JointIntentSlot,
    LanguageModel,
    LanguageModelConfig,
    Seq2Seq,
    Seq2SeqConfig,
    SequenceClassifier,
    SequenceTagger,
    TaggerConfig,
)
from rnnkit.tasks.lm_data import SequenceDataset
from rnnkit.training.checkpoint import load_model_weights, save_model_dir
from rnnkit.training.loss import contract_loss

TAGGED = [  # (word ids, tag ids, intent id, character ids of each word)
    ([3, 4, 5, 6], [0, 1, 2, 2], 1, [[1, 2], [3], [4, 5, 6], [7]]),
    ([7, 8], [2, 0], 0, [[2, 3, 4], [5]]),
    ([9], [2], 1, [[6, 6]]),
]
LM_DATA = SequenceDataset([[2, 5, 6, 7, 3], [2, 8, 3], [2, 9, 10, 11, 12, 3]], None, pad_id=0)


@dataclasses.dataclass(frozen=True)
class Case:
    """A model class and config, items and the collate the task trains with, and the part of
    the outputs that belongs to row ``b`` (its valid steps only)."""

    model_class: type[nn.Module]
    config: Any
    items: list
    collate: Callable[[list], Any]
    row: Callable[[Any, int, Any], list[Tensor]]  # (outputs, b, item) -> tensors of row b
    shapes: Callable[[Any], list[tuple[int, ...]]]  # outputs -> their shapes


ENCODER = dict(embedding_dim=6, hidden_size=5, bidirectional=True, num_layers=2)
CASES = {
    "classifier": Case(
        SequenceClassifier,
        ClassifierConfig(vocab_size=13, num_classes=3, pooling="attention", **ENCODER),
        [(item[0], item[2]) for item in TAGGED],
        collate_classification,
        lambda out, b, item: [out[b]],
        lambda out: [tuple(out.shape)],
    ),
    "tagger": Case(
        SequenceTagger,
        TaggerConfig(
            vocab_size=13,
            num_tags=3,
            char_features=True,
            char_vocab_size=8,
            char_embedding_dim=3,
            char_hidden_size=2,
            **ENCODER,
        ),
        TAGGED,
        collate_tagging,
        lambda out, b, item: [out[b, : len(item[0])]],
        lambda out: [tuple(out.shape)],
    ),
    "joint": Case(
        JointIntentSlot,
        JointConfig(
            vocab_size=13, num_tags=3, num_intents=2, use_crf=False, pooling="mean", **ENCODER
        ),
        [(*item[:3], None) for item in TAGGED],
        collate_tagging,
        lambda out, b, item: [out[0][b], out[1][b, : len(item[0])]],
        lambda out: [tuple(out[0].shape), tuple(out[1].shape)],
    ),
    "language_model": Case(
        LanguageModel,
        LanguageModelConfig(vocab_size=13, embedding_dim=6, hidden_size=5, num_layers=2),
        [LM_DATA[i] for i in range(len(LM_DATA))],
        LM_DATA.collate,
        lambda out, b, item: [out[0][b, : len(item[0]) - 1]],
        lambda out: [tuple(out[0].shape)],
    ),
    "seq2seq": Case(
        Seq2Seq,
        Seq2SeqConfig(
            encoder=EncoderConfig(vocab_size=13, **ENCODER),
            decoder=DecoderConfig(vocab_size=13, embedding_dim=4, attention_size=4),
        ),
        [([3, 4, 5], [2, 6, 7, 3]), ([8], [2, 9, 3]), ([5, 6, 7, 8], [2, 10, 11, 12, 6, 3])],
        collate_parallel,
        lambda out, b, item: [out[b, : len(item[1]) - 1]],
        lambda out: [tuple(out.shape)],
    ),
}
EXPECTED_SHAPES = {  # B = 3 sentences, T = the longest; C 3, K 3, I 2, V 13
    "classifier": [(3, 3)],
    "tagger": [(3, 4, 3)],
    "joint": [(3, 2), (3, 4, 3)],
    "language_model": [(3, 5, 13)],
    "seq2seq": [(3, 5, 13)],
}


@pytest.fixture(params=sorted(CASES))
def case(request) -> tuple[str, Case]:
    return request.param, CASES[request.param]


def build(case: Case, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return case.model_class(case.config)


def run(model: nn.Module, batch: Any) -> Any:
    return model(*model.inputs(batch))


def flat(outputs: Any, case: Case, items: list) -> list[Tensor]:
    return [tensor for b, item in enumerate(items) for tensor in case.row(outputs, b, item)]


def test_output_shapes(case):
    name, case = case
    model = build(case).eval()
    assert case.shapes(run(model, case.collate(case.items))) == EXPECTED_SHAPES[name]


def test_backward_reaches_every_parameter(case):
    _, case = case
    model = build(case).train()
    loss = contract_loss(model, case.collate(case.items))
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_save_load_gives_identical_outputs(case, tmp_path):
    _, case = case
    model = build(case).eval()
    save_model_dir(tmp_path, model)
    config = config_from_dict(type(case.config), dataclasses.asdict(case.config))
    loaded = build(case, seed=1)  # other weights until the saved ones arrive
    load_model_weights(loaded.eval(), tmp_path)
    assert type(loaded.config) is type(model.config) and loaded.config == config
    batch = case.collate(case.items)
    for found, expected in zip(flat(run(loaded, batch), case, case.items),
                               flat(run(model, batch), case, case.items), strict=True):  # fmt: skip
        assert torch.equal(found, expected)


def test_a_padded_batch_gives_each_sentence_alone(case):
    _, case = case
    model = build(case).eval()
    together = flat(run(model, case.collate(case.items)), case, case.items)
    alone = [
        tensor
        for item in case.items
        for tensor in flat(run(model, case.collate([item])), case, [item])
    ]
    for found, expected in zip(together, alone, strict=True):
        torch.testing.assert_close(found, expected, atol=1e-5, rtol=0)


def test_the_same_seed_gives_the_same_outputs_and_loss(case):
    _, case = case
    batch = case.collate(case.items)
    results = []
    for _ in range(2):
        model = build(case, seed=3).train()  # dropout on: the seed decides it too
        torch.manual_seed(4)
        results.append([*flat(run(model, batch), case, case.items), contract_loss(model, batch)])
    for first, second in zip(*results, strict=True):
        assert torch.equal(first, second)
