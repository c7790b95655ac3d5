"""`rnnkit export` of a translator and a generator, and `rnnkit.load(dir, runtime="onnx")`:
the same translations, attention, samples and scores as PyTorch, from the API and the CLI."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli import app
from rnnkit.errors import ModelDirectoryError
from rnnkit.export.language_model import OnnxLanguageModel
from rnnkit.export.seq2seq import OnnxSeq2Seq
from rnnkit.tasks.common import EvaluateOptions

SENTENCES = ["i see the big cat .", "a red house .", "the dog ."]


def test_translator_export_writes_the_encoder_and_step_graphs(exported_translator_dir):
    assert (exported_translator_dir / "model.onnx").is_file()
    assert (exported_translator_dir / "model.step.onnx").is_file()
    onnx = rnnkit.load(exported_translator_dir, runtime="onnx")
    assert isinstance(onnx.model, OnnxSeq2Seq)


@pytest.mark.parametrize("beam", [1, 5])
def test_onnx_translator_gives_the_same_translations(exported_translator_dir, beam):
    eager = rnnkit.load(exported_translator_dir)
    onnx = rnnkit.load(exported_translator_dir, runtime="onnx")
    expected = eager.translate(SENTENCES, beam=beam, n_best=min(beam, 2))
    received = onnx.translate(SENTENCES, beam=beam, n_best=min(beam, 2))
    for mine, theirs in zip(received, expected, strict=True):
        assert [text for text, _ in mine.translations] == [text for text, _ in theirs.translations]
        assert [score for _, score in mine.translations] == pytest.approx(
            [score for _, score in theirs.translations], abs=1e-4
        )
    assert any(t.best for t in received)


def test_onnx_translator_attention_and_evaluation_match(exported_translator_dir, translation_files):
    eager = rnnkit.load(exported_translator_dir)
    onnx = rnnkit.load(exported_translator_dir, runtime="onnx")
    expected, received = eager.attention(SENTENCES[0]), onnx.attention(SENTENCES[0])
    assert received.target_tokens == expected.target_tokens
    torch.testing.assert_close(
        torch.tensor(received.weights), torch.tensor(expected.weights), atol=1e-4, rtol=0
    )
    options = EvaluateOptions(beam=2)
    scores = onnx.evaluate_file(str(translation_files[1]), options)
    assert scores["bleu"] == pytest.approx(
        eager.evaluate_file(str(translation_files[1]), options)["bleu"]
    )


def test_onnx_generator_gives_the_same_texts(names_dir):
    eager = rnnkit.load(names_dir)
    onnx = rnnkit.load(names_dir, runtime="onnx")
    assert isinstance(onnx.model, OnnxLanguageModel)
    assert (names_dir / "model.start.onnx").is_file()
    for options in ({"strategy": "greedy"}, {"strategy": "beam", "beam_size": 4},
                    {"strategy": "sample", "seed": 3, "top_k": 5}):  # fmt: skip
        expected = eager.generate(3, "Ana", prefix="A", **options)
        received = onnx.generate(3, "Ana", prefix="A", **options)
        assert [g.text for g in received] == [g.text for g in expected], options
        assert [g.log_prob for g in received] == pytest.approx(
            [g.log_prob for g in expected], abs=1e-4
        )


def test_onnx_generator_perplexity_matches(names_dir, tmp_path):
    from tests.tasks.test_generation import write_names

    dev = write_names(tmp_path / "dev.tsv", 1, 4)
    eager = rnnkit.load(names_dir)
    onnx = rnnkit.load(names_dir, runtime="onnx")
    expected = eager.evaluate_file(str(dev), EvaluateOptions())
    assert onnx.evaluate_file(str(dev), EvaluateOptions())["perplexity"] == pytest.approx(
        expected["perplexity"], rel=1e-4
    )


def test_a_missing_step_graph_is_named(exported_translator_dir, tmp_path):
    copy = shutil.copytree(exported_translator_dir, tmp_path / "copy")
    (copy / "model.step.onnx").unlink()
    with pytest.raises(ModelDirectoryError, match=r"model.step.onnx not found.*rnnkit export"):
        rnnkit.load(copy, runtime="onnx")


def test_cli_export_then_translate_and_generate_with_the_onnx_runtime(
    exported_translator_dir, names_dir, tmp_path
):
    runner = CliRunner()
    copy = shutil.copytree(exported_translator_dir, tmp_path / "copy")
    for name in ("model.onnx", "model.step.onnx"):
        (copy / name).unlink()
    result = runner.invoke(app, ["export", str(copy)])
    assert result.exit_code == 0, result.output
    assert f"wrote {copy / 'model.onnx'}, {copy / 'model.step.onnx'}" in result.output
    eager = runner.invoke(app, ["translate", str(copy), SENTENCES[1], "--json"])
    onnx = runner.invoke(app, ["translate", str(copy), SENTENCES[1], "--json", "--runtime", "onnx"])
    assert onnx.exit_code == 0, onnx.output
    assert json.loads(onnx.output)["translation"] == json.loads(eager.output)["translation"]
    generated = runner.invoke(app, ["generate", str(names_dir), "--condition", "Bor",
                                    "--greedy", "--n", "1", "--runtime", "onnx"])  # fmt: skip
    assert generated.exit_code == 0, generated.output
    assert generated.output.strip().startswith("Bo")
