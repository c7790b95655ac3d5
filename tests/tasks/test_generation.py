"""The generation task: train → save → load → same samples, perplexity, truncated BPTT, errors."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import torch

import rnnkit
from rnnkit.data import Vocab
from rnnkit.errors import ConfigError, DataError
from rnnkit.models.language_model import LanguageModelConfig
from rnnkit.tasks.common import EvaluateOptions
from rnnkit.tasks.generation import (
    GenerateConfig,
    TextGenerator,
    TruncatedBPTT,
    perplexity,
    train_generator,
)
from rnnkit.tasks.lm_data import GenerateData, SequenceDataset, stream_chunks
from rnnkit.training import TrainerConfig

# Two "languages" whose names are easy to tell apart: Ana names start with "An", Bor with "Bo".
STEMS = {"Ana": ["Anna", "Anita", "Anton", "Anke"], "Bor": ["Boris", "Bogdan", "Bojan", "Borek"]}


def write_names(path: Path, copies: int, seed: int) -> Path:
    rows = [(name, language) for language, names in STEMS.items() for name in names] * copies
    random.Random(seed).shuffle(rows)
    path.write_text("name\tlanguage\n" + "".join(f"{n}\t{lang}\n" for n, lang in rows))
    return path


def tiny_config(train: Path, dev: Path, epochs: int = 12, **data) -> GenerateConfig:
    return GenerateConfig(
        data=GenerateData(train=str(train), dev=str(dev), batch_size=8, **data),
        model=LanguageModelConfig(embedding_dim=16, hidden_size=32, cell="gru"),
        trainer=TrainerConfig(epochs=epochs, lr=1e-2, monitor="perplexity", mode="min"),
    )


@pytest.fixture(scope="module")
def names(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("names")
    return write_names(folder / "train.tsv", 6, 0), write_names(folder / "dev.tsv", 1, 1)


@pytest.fixture(scope="module")
def names_dir(tmp_path_factory, names) -> Path:
    out = tmp_path_factory.mktemp("generator") / "names"
    train_generator(tiny_config(*names, condition_column="language"), out, progress=False)
    return out


def test_model_directory_holds_json_and_safetensors_only(names_dir):
    files = {path.name for path in names_dir.iterdir() if path.is_file()}
    assert {"config.json", "vocab.json", "labels.json", "model.safetensors"} <= files
    assert json.loads((names_dir / "labels.json").read_text())["labels"] == ["Ana", "Bor"]
    config = json.loads((names_dir / "config.json").read_text())
    assert config["task"] == "generate" and config["tokenizer"]["name"] == "char"
    assert config["fast_path"] == "fast path: rnn GRU → ATen GRU"
    assert not list(names_dir.rglob("*.pt")) and not list(names_dir.rglob("*.pkl"))


def test_train_save_load_gives_the_same_samples_for_the_same_seed(names_dir, names):
    first, second = rnnkit.load(names_dir), rnnkit.load(names_dir)
    assert isinstance(first, TextGenerator)
    sample = first.generate(8, "Ana", seed=5, temperature=0.9)
    assert sample == second.generate(8, "Ana", seed=5, temperature=0.9)
    assert [g.text for g in sample] != [g.text for g in first.generate(8, "Ana", seed=6)]
    # the saved weights are the selected ones: the dev perplexity of metrics.jsonl is reproduced
    records = [json.loads(line) for line in (names_dir / "metrics.jsonl").read_text().splitlines()]
    best = min(record["dev_perplexity"] for record in records)
    report = first.evaluate_file(str(names[1]), EvaluateOptions())
    assert report["perplexity"] == pytest.approx(best, rel=1e-5)


def test_the_condition_steers_generation(names_dir):
    generator = rnnkit.load(names_dir)
    for language in STEMS:
        texts = [g.text for g in generator.generate(20, language, seed=0, top_k=2)]
        prefix = STEMS[language][0][:2]
        assert sum(text.startswith(prefix) for text in texts) >= 18, texts


def test_prefix_greedy_and_beam(names_dir):
    generator = rnnkit.load(names_dir)
    greedy = generator.generate(1, "Bor", "Bor", strategy="greedy", max_length=10)[0]
    assert greedy.text.startswith("Bor") and greedy.text == "Bor" + "".join(greedy.tokens)
    beams = generator.generate(3, "Bor", "Bor", strategy="beam", beam_size=4, length_penalty=0.0)
    assert len(beams) == 3
    assert beams[0].log_prob >= greedy.log_prob - 1e-5  # with length_penalty 0, beam >= greedy
    assert beams[0].score >= beams[1].score >= beams[2].score


def test_evaluate_file_counts_tokens_and_eos(names_dir, names):
    report = rnnkit.load(names_dir).evaluate_file(str(names[1]), EvaluateOptions())
    expected_tokens = sum(len(name) + 1 for names_ in STEMS.values() for name in names_)
    assert report["n_tokens"] == expected_tokens and report["n"] == 8
    assert math.exp(report["nll"]) == pytest.approx(report["perplexity"])


def test_a_uniform_model_has_the_vocabulary_size_as_perplexity(names_dir, names):
    generator = rnnkit.load(names_dir)
    with torch.no_grad():
        generator.model.output.weight.zero_()
        generator.model.output.bias.zero_()
    report = generator.evaluate_file(str(names[1]), EvaluateOptions())
    assert report["perplexity"] == pytest.approx(len(generator.vocab), rel=1e-5)


def test_unknown_condition_errors(names_dir, tmp_path):
    generator = rnnkit.load(names_dir)
    with pytest.raises(ConfigError, match=r"condition: expected one of \['Ana', 'Bor'\], got 'X'"):
        generator.generate(1, "X")
    with pytest.raises(ConfigError, match="this model is conditioned; give one of"):
        generator.generate(1)
    with pytest.raises(ConfigError, match=r"strategy: expected one of \['sample', 'greedy'"):
        generator.generate(1, "Ana", strategy="nucleus")
    dev = tmp_path / "dev.tsv"
    dev.write_text("name\tlanguage\nAnna\tAna\nZed\tZulu\n")
    with pytest.raises(DataError, match=r"dev.tsv:3.*Zulu"):
        generator.evaluate_file(str(dev), EvaluateOptions(unknown_labels="error"))
    skipped = generator.evaluate_file(str(dev), EvaluateOptions())  # "wrong": skipped
    assert skipped["n"] == 1 and skipped["n_tokens"] == 5


def test_unconditioned_lines_with_truncated_bptt(tmp_path):
    lines = ["the cat sat", "a dog ran", "the dog sat", "a cat ran"] * 10
    train = tmp_path / "train.txt"
    train.write_text("\n".join(lines) + "\n\n")
    dev = tmp_path / "dev.txt"
    dev.write_text("the cat ran\na dog sat\n")
    config = tiny_config(train, dev, epochs=3, tokenizer="word", bptt_length=5)
    result = train_generator(config, tmp_path / "lm", progress=False)
    # the vocabulary has 4 specials + 6 words: a uniform, untrained model scores 10
    assert result.best_metrics["perplexity"] < 5
    generator = rnnkit.load(tmp_path / "lm")
    assert generator.conditions is None and not (tmp_path / "lm" / "labels.json").exists()
    continued = generator.generate(3, prefix="the", seed=1)
    assert all(g.text.startswith("the") for g in continued)
    with pytest.raises(ConfigError, match="this model is unconditioned, got 'Ana'"):
        generator.generate(1, "Ana")


def test_stream_chunks_shift_targets_and_mask_bos():
    vocab = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "x", "y"])
    dataset = SequenceDataset([[2, 4, 5, 3], [2, 5, 3], [2, 4, 4, 4, 3]], None, 0)
    chunks = stream_chunks(dataset, streams=2, bptt_length=2, vocab=vocab)
    # running text 2 4 5 3 2 5 3 2 4 4 4 3 → two streams of 5 steps, chunks of 2, 2, 1
    assert [c.inputs.shape[1] for c in chunks] == [2, 2, 1]
    assert [c.first for c in chunks] == [True, False, False]
    assert torch.equal(
        torch.cat([c.inputs for c in chunks], 1), torch.tensor([[2, 4, 5, 3, 2], [5, 3, 2, 4, 4]])
    )
    assert torch.equal(
        torch.cat([c.targets for c in chunks], 1), torch.tensor([[4, 5, 3, 0, 5], [3, 0, 4, 4, 4]])
    )
    assert sum(c.n_tokens for c in chunks) == 8
    with pytest.raises(ConfigError, match=r"data\.batch_size=20 streams need at least 21 tokens"):
        stream_chunks(dataset, streams=20, bptt_length=2, vocab=vocab)


def test_truncated_bptt_passes_the_detached_state_on(names_dir):
    model = rnnkit.load(names_dir).model
    vocab = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "x", "y"])
    dataset = SequenceDataset([[2, 4, 5, 3, 2, 5, 4, 3]] * 4, None, 0)
    chunks = stream_chunks(dataset, streams=2, bptt_length=3, vocab=vocab)
    chunks = [c._replace(conditions=torch.tensor([0, 1])) for c in chunks]
    loss_fn, seen = TruncatedBPTT(), []
    original = model.forward

    def spy(tokens, condition=None, state=None, lengths=None):
        seen.append(state)
        return original(tokens, condition, state, lengths)

    model.forward = spy
    loss_fn(model, chunks[0])
    carried = loss_fn.state
    assert not carried.h.requires_grad
    loss_fn(model, chunks[1]).backward()
    assert seen[0] is None and seen[1] is carried
    loss_fn(model, chunks[0])  # a new epoch starts from zeros again
    assert seen[2] is None


def test_data_settings_are_validated():
    with pytest.raises(ConfigError, match=r"data.side: expected one of \['source', 'target'\]"):
        GenerateData(side="left")
    with pytest.raises(ConfigError, match=r"bptt_length .* cannot be used with a condition"):
        GenerateData(bptt_length=5, condition_column="language")
    with pytest.raises(ConfigError, match=r"data\.bptt_length: expected a positive integer"):
        GenerateData(bptt_length=0)


def test_perplexity_skips_nothing_and_is_batched_consistently(names_dir):
    model = rnnkit.load(names_dir).model
    dataset = SequenceDataset([[2, 4, 5, 3], [2, 6, 3], [2, 4, 4, 7, 3]], [0, 1, 0], 0)
    whole = perplexity(model, dataset, batch_size=256)
    one_by_one = perplexity(model, dataset, batch_size=1)
    assert whole["n_tokens"] == 3 + 2 + 4
    assert whole["perplexity"] == pytest.approx(one_by_one["perplexity"], rel=1e-5)
