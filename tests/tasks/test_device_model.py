"""`rnnkit.load(dir, device=...)` and `DeviceModel`: every task's predictor runs unchanged
behind the device wrapper (here wrapping the CPU, the one device every machine has)."""

from __future__ import annotations

import pytest
import torch

import rnnkit
from rnnkit.errors import ConfigError
from rnnkit.tasks.common import EvaluateOptions
from rnnkit.training.device import DeviceModel
from tests.tasks.tagging_data import PEOPLE, PLACES

CPU = torch.device("cpu")
INTENTS = ["what time is it", "play some jazz", "will it rain today in paris"]


def wrapped(directory):
    predictor = rnnkit.load(directory)
    predictor.model = DeviceModel(predictor.model, CPU)
    return predictor


def test_classifier_behind_the_wrapper_predicts_and_evaluates_alike(trained_dir, intent_files):
    plain, behind = rnnkit.load(trained_dir), wrapped(trained_dir)
    torch.testing.assert_close(behind.probabilities(INTENTS), plain.probabilities(INTENTS))
    options = EvaluateOptions()
    assert behind.evaluate_file(str(intent_files[1]), options)["accuracy"] == pytest.approx(
        plain.evaluate_file(str(intent_files[1]), options)["accuracy"]
    )


def test_tagger_and_joint_model_behind_the_wrapper_tag_alike(tagger_dir, joint_dir):
    texts = [f"{person} lives in New {place} ." for person in PEOPLE for place in PLACES]
    for directory, sample in ((tagger_dir, texts), (joint_dir, ["fly from boston to denver"])):
        expected = [r.to_dict() for r in rnnkit.load(directory).predict(sample)]
        assert [r.to_dict() for r in wrapped(directory).predict(sample)] == expected


def test_translator_behind_the_wrapper_beam_searches_alike(translator_dir, translation_files):
    sources = [line.split("\t")[0] for line in translation_files[1].read_text().splitlines()][:8]
    plain, behind = rnnkit.load(translator_dir), wrapped(translator_dir)
    for beam in (1, 3):
        expected = [t.to_dict() for t in plain.translate(sources, beam=beam)]
        assert [t.to_dict() for t in behind.translate(sources, beam=beam)] == expected


def test_the_wrapper_moves_arguments_and_returns_cpu_tensors():
    seen = []

    class Probe(torch.nn.Module):
        config = "kept"

        def forward(self, x, lengths=None):
            seen.append((x.device.type, lengths.device.type))
            return {"out": x.sum()}

    behind = DeviceModel(Probe(), torch.device("meta"))
    assert behind.config == "kept"
    assert behind.eval() is behind and not behind.module.training
    with pytest.raises(NotImplementedError):  # meta tensors cannot come back to the CPU
        behind(torch.ones(2), lengths=torch.ones(1))
    assert seen == [("meta", "meta")]


def test_onnx_runtimes_refuse_a_gpu(trained_dir):
    with pytest.raises(ConfigError, match=r"device: 'cuda' is for runtime 'torch'"):
        rnnkit.load(trained_dir, runtime="onnx", device="cuda")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_load_on_cuda_without_a_gpu_is_a_clear_error(trained_dir):
    with pytest.raises(ConfigError, match="torch sees no GPU"):
        rnnkit.load(trained_dir, device="cuda")
