"""``rnnkit train generate``, ``rnnkit generate`` and ``rnnkit evaluate`` on a language model."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli import app
from rnnkit.tasks.common import EvaluateOptions
from tests.tasks.test_generation import write_names

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-names")
    return write_names(folder / "train.tsv", 4, 0), write_names(folder / "dev.tsv", 1, 1)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, data):
    out = tmp_path_factory.mktemp("cli-generator") / "g"
    arguments = [
        "train", "generate", "--train", str(data[0]), "--dev", str(data[1]), "--out", str(out),
        "--condition-column", "language", "--tokenizer", "char", "--cell", "lstm",
        "--hidden-size", "16", "--embedding-dim", "16", "--tie-embeddings", "--epochs", "3",
        "--batch-size", "8", "--set", "trainer.lr=0.01", "--no-progress",
    ]  # fmt: skip
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "model saved to" in result.output and "perplexity" in result.output
    return out


def test_train_writes_the_options_into_the_config(model_dir):
    config = json.loads((model_dir / "config.json").read_text())
    assert config["task"] == "generate"
    assert config["data"]["condition_column"] == "language"
    assert config["model"]["tie_embeddings"] is True and config["model"]["num_conditions"] == 2
    assert config["trainer"]["monitor"] == "perplexity" and config["trainer"]["mode"] == "min"


def test_generate_json_is_reproducible_by_seed(model_dir):
    arguments = ["generate", str(model_dir), "--condition", "Bor", "--prefix", "B", "--n", "4"]
    first = runner.invoke(app, [*arguments, "--seed", "3", "--top-p", "0.9", "--json"])
    again = runner.invoke(app, [*arguments, "--seed", "3", "--top-p", "0.9", "--json"])
    assert first.exit_code == 0, first.output
    records = [json.loads(line) for line in first.stdout.splitlines()]
    assert len(records) == 4 and first.stdout == again.stdout
    assert all(r["text"].startswith("B") and r["condition"] == "Bor" for r in records)
    assert set(records[0]) == {"text", "tokens", "log_prob", "score", "condition"}


def test_sampling_flags_combine(model_dir):
    arguments = ["--temperature", "0.8", "--top-k", "5", "--top-p", "0.9", "--seed", "1"]
    result = runner.invoke(app, ["generate", str(model_dir), "--condition", "Ana", "--n", "2",
                                 *arguments])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2


def test_generate_beam_and_greedy_print_texts(model_dir):
    beam = runner.invoke(
        app, ["generate", str(model_dir), "--condition", "Ana", "--beam", "3", "--n", "2"]
    )
    assert beam.exit_code == 0, beam.output
    assert len(beam.stdout.splitlines()) == 2
    greedy = runner.invoke(
        app, ["generate", str(model_dir), "--condition", "Ana", "--greedy", "--n", "1"]
    )
    assert greedy.exit_code == 0 and len(greedy.stdout.splitlines()) == 1


def test_evaluate_json_reports_perplexity(model_dir, data):
    result = runner.invoke(app, ["evaluate", str(model_dir), str(data[1]), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n_tokens"] == 39 + 8  # 39 letters, 8 <eos>
    generator = rnnkit.load(model_dir)
    expected = generator.evaluate_file(str(data[1]), EvaluateOptions())
    assert report["perplexity"] == pytest.approx(expected["perplexity"], rel=1e-6)
    assert report["perplexity"] < len(generator.vocab)  # a uniform model scores the vocabulary size
    table = runner.invoke(app, ["evaluate", str(model_dir), str(data[1])])
    assert "perplexity" in table.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--temperature", "0.8", "--top-k", "5", "--beam", "2"],
            "choose one decoding strategy; got --temperature and --top-k (sampling) and --beam",
        ),
        (["--top-p", "0.9", "--beam", "4"], "got --top-p (sampling) and --beam"),
        (["--greedy", "--beam", "2"], "--greedy takes no other flag"),
        (["--condition", "Klingon"], "condition: expected one of ['Ana', 'Bor'], got 'Klingon'"),
        (["--condition", "Ana", "--temperature", "0"], "temperature must be > 0"),
    ],
)
def test_generate_errors_are_one_line(model_dir, arguments, message):
    result = runner.invoke(app, ["generate", str(model_dir), *arguments])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.output


def test_train_generate_requires_data(tmp_path):
    result = runner.invoke(app, ["train", "generate", "--out", str(tmp_path / "x")])
    assert result.exit_code == 1 and "error: --train is required" in result.stderr


def test_generate_commands_have_help_with_an_example():
    for command in (["train", "generate"], ["generate"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Example: rnnkit" in result.output, command


def test_predict_on_a_language_model_is_a_one_line_error(model_dir):
    result = runner.invoke(app, ["predict", str(model_dir), "hello"])
    assert result.exit_code == 1
    assert "error: " in result.stderr and "use rnnkit generate" in result.stderr
