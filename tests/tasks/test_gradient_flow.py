"""``rnnkit diagnose gradients MODEL_DIR --data FILE`` for every task, and verdicts that fit
where the losses are: per-step losses are measured at one step (propagation), not summed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli import app
from rnnkit.data.batching import collate_parallel
from rnnkit.diagnostics import gradient_flow
from rnnkit.diagnostics.model_flow import get_flow_adapter, seq2seq_flow, tagger_flow
from rnnkit.models import DecoderConfig, EncoderConfig, Seq2Seq, Seq2SeqConfig
from rnnkit.tasks.classification import train_classifier
from rnnkit.tasks.generation import train_generator
from rnnkit.tasks.gradient_flow import measure_gradient_flow, predictor_gradient_flow
from rnnkit.tasks.tagging_train import train_tagger
from rnnkit.tasks.translation_train import train_translator
from tests.tasks.conftest import tiny_config
from tests.tasks.tagging_data import tiny_tag_config
from tests.tasks.test_classification_chars import with_chars
from tests.tasks.test_generation import tiny_config as tiny_generate_config
from tests.tasks.test_generation import write_names
from tests.tasks.translation_toys import tiny_translate_config

runner = CliRunner()


@pytest.fixture(scope="module")
def generator_dir(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("names-flow")
    train, dev = write_names(folder / "train.tsv", 6, 0), write_names(folder / "dev.tsv", 1, 1)
    config = tiny_generate_config(train, dev, epochs=4, condition_column="language")
    train_generator(config, folder / "model", progress=False)
    return folder / "model", dev


@pytest.fixture(scope="module")
def lstm_translator_dir(tmp_path_factory, translation_files) -> Path:
    config = tiny_translate_config(*translation_files)
    lstm = EncoderConfig(embedding_dim=16, hidden_size=16, cell="lstm", bidirectional=True)
    model = Seq2SeqConfig(encoder=lstm, decoder=DecoderConfig(embedding_dim=16, cell="lstm"))
    out = tmp_path_factory.mktemp("lstm-translator") / "en-fr"
    train_translator(config.__class__(config.data, model, config.trainer), out, progress=False)
    return out


# task -> (fixture giving its model directory, fixture giving its (train, dev) files)
CASES = {
    "classify": ("trained_dir", "intent_files"),
    "tag": ("tagger_dir", "conll_files"),
    "joint": ("joint_dir", "slot_folders"),
    "translate": ("translator_dir", "translation_files"),
}


@pytest.fixture(params=["classify", "tag", "joint", "generate", "translate"])
def task_case(request):
    if request.param == "generate":
        return request.param, *request.getfixturevalue("generator_dir")
    directory, files = CASES[request.param]
    return request.param, request.getfixturevalue(directory), request.getfixturevalue(files)[1]


def test_diagnose_gradients_works_for_every_task(task_case, tmp_path):
    task, model_dir, data = task_case
    out = tmp_path / "flow"
    result = runner.invoke(
        app,
        ["diagnose", "gradients", str(model_dir), "--data", str(data), "--examples", "16",
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads((out / "gradients.json").read_text())
    assert document["settings"]["task"] == task
    (flow,) = document["models"].values()
    names = [direction["name"] for direction in flow["directions"]]
    assert flow["deciding"] in names
    deciding = flow["directions"][names.index(flow["deciding"])]
    assert flow["ratio"] == deciding["ratio"] and flow["verdict"] == deciding["verdict"]
    assert f"from {flow['deciding']} (ratio " in (out / "gradients.md").read_text()
    if task == "translate":  # the decoder's states are measured, with the target's lengths
        assert "decoder.rnn/l0" in names


def test_a_healthy_lstm_tagger_is_healthy(tagger_dir, conll_files):
    tagger = rnnkit.load(tagger_dir)
    assert tagger.model.config.cell == "lstm" and tagger.model.config.bidirectional
    flow = predictor_gradient_flow(tagger, str(conll_files[1]), 32)
    assert flow.verdict == "healthy", flow.to_dict()
    reverse = [d for d in flow.directions if d.direction == 1]
    assert reverse and all(1e-3 < d.ratio < 1e3 for d in reverse)  # loss at the first token


def test_a_healthy_lstm_seq2seq_is_healthy(lstm_translator_dir, translation_files):
    translator = rnnkit.load(lstm_translator_dir)
    flow = predictor_gradient_flow(translator, str(translation_files[1]), 32)
    assert flow.verdict == "healthy", flow.to_dict()
    assert {d.module for d in flow.directions} == {"encoder.rnn", "decoder.rnn"}


def test_one_late_loss_measures_propagation_where_the_summed_loss_counts_losses():
    """A decoder whose steps do not depend on each other (W_hh = 0, no input feeding) propagates
    nothing: the one-step loss says "vanishing", while the summed loss, with a loss at every
    step, shows the same norm at every step and calls it "healthy"."""
    torch.manual_seed(0)
    config = Seq2SeqConfig(
        encoder=EncoderConfig(vocab_size=9, embedding_dim=4, hidden_size=4, cell="lstm"),
        decoder=DecoderConfig(vocab_size=9, embedding_dim=4, cell="rnn", input_feeding=False),
    )
    model = Seq2Seq(config).eval()
    with torch.no_grad():
        model.decoder.rnn.weight_hh_l0.zero_()
    batch = collate_parallel([([4, 5, 6], [2, *range(4, 9), 4, 5, 6, 7, 8, 3])] * 2)
    assert get_flow_adapter(model) is seq2seq_flow
    flow = seq2seq_flow(model, batch)
    decoder = next(d for d in flow.directions if d.module == "decoder.rnn")
    assert len(decoder.h_norms) == 11  # the target's steps, not the source's
    assert decoder.verdict == "vanishing" and decoder.ratio == 0.0
    assert flow.deciding is decoder and flow.to_dict()["deciding"] == "decoder.rnn/l0"

    def summed(module):
        logits = module(batch.source, batch.source_lengths, batch.target[:, :-1])
        return torch.nn.functional.cross_entropy(
            logits.flatten(0, 1), batch.target[:, 1:].flatten()
        )

    lengths = {"decoder.rnn": batch.target_lengths - 1}
    assert gradient_flow(model, summed, lengths).verdict == "healthy"


def test_the_tagger_adapter_fits_its_model_class(tagger_dir):
    tagger = rnnkit.load(tagger_dir)
    assert get_flow_adapter(tagger.model) is tagger_flow
    assert get_flow_adapter(torch.nn.Linear(2, 2)) is None


def test_training_records_the_verdict_of_the_one_step_loss(tmp_path, conll_files):
    config = tiny_tag_config(*conll_files)
    trainer = dataclasses.replace(config.trainer, epochs=1, flow_check_every=2)
    train_tagger(dataclasses.replace(config, trainer=trainer), tmp_path, progress=False)
    record = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[0])
    flow = record["gradient_flow"]
    assert flow["direction"].startswith("encoder.rnn/l0")
    assert flow["verdict"] == "healthy" and 1e-3 < flow["ratio"] < 1e3


def test_a_classifier_with_character_features_is_measured_through_its_characters(
    tmp_path, intent_files
):
    train_classifier(with_chars(tiny_config(*intent_files, epochs=1)), tmp_path, progress=False)
    classifier = rnnkit.load(tmp_path)
    assert classifier.model.chars is not None
    flow, measured = measure_gradient_flow(classifier, str(intent_files[1]), 3)
    assert measured == 3 and flow.directions[0].counts.max() == 3
    chars = {name: norm for name, norm in flow.parameter_norms.items() if name.startswith("chars.")}
    assert chars and all(norm > 0 for norm in chars.values()), flow.parameter_norms
