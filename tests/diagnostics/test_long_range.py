import csv
import math

import pytest
import torch

from rnnkit.diagnostics.long_range import (
    DEFAULT_DISTRACTORS,
    adding_problem,
    copy_memory,
    start_signal_examples,
)
from rnnkit.diagnostics.long_range_training import (
    LongRangeConfig,
    LongRangeModel,
    copy_accuracy,
    get_task,
    train_long_range,
)
from rnnkit.errors import ConfigError


def test_adding_problem_marks_one_value_in_each_half_and_sums_them():
    inputs, targets = adding_problem(50, 11, seed=0)
    assert inputs.shape == (50, 11, 2) and targets.shape == (50,)
    values, markers = inputs[..., 0], inputs[..., 1]
    assert torch.equal(markers.sum(1), torch.full((50,), 2.0))
    assert torch.equal(markers[:, :5].sum(1), torch.ones(50))  # one in [0, T//2)
    assert torch.equal(markers[:, 5:].sum(1), torch.ones(50))  # one in [T//2, T)
    torch.testing.assert_close(targets, (values * markers).sum(1))
    assert values.min() >= 0 and values.max() < 1


def test_adding_problem_is_seeded():
    first, second, other = (adding_problem(4, 20, seed) for seed in (7, 7, 8))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert not torch.equal(first[0], other[0])


def test_adding_baseline_is_one_sixth():
    _, targets = adding_problem(20000, 10, seed=1)
    assert float(((targets - 1) ** 2).mean()) == pytest.approx(1 / 6, abs=0.01)
    assert get_task("adding").baseline == pytest.approx(1 / 6)


def test_copy_memory_layout():
    inputs, targets = copy_memory(3, 5, seed=0, num_symbols=4, copy_length=2)
    assert inputs.shape == targets.shape == (3, 9)  # T + 2K
    symbols = inputs[:, :2]
    assert bool(((symbols >= 1) & (symbols <= 4)).all())
    assert torch.equal(inputs[:, 2:6], torch.zeros(3, 4, dtype=torch.long))  # T - 1 blanks
    assert torch.equal(inputs[:, 6], torch.full((3,), 5))  # the delimiter
    assert torch.equal(inputs[:, 7:], torch.zeros(3, 2, dtype=torch.long))
    assert torch.equal(targets[:, :7], torch.zeros(3, 7, dtype=torch.long))
    assert torch.equal(targets[:, 7:], symbols)
    assert torch.equal(copy_memory(3, 5, 0, 4, 2)[0], inputs)


def test_generators_name_bad_arguments():
    with pytest.raises(ConfigError, match="length: expected an integer >= 2, got 1"):
        adding_problem(3, 1, seed=0)
    with pytest.raises(ConfigError, match="num_samples: expected an integer >= 1, got 0"):
        copy_memory(0, 5, seed=0)
    with pytest.raises(ConfigError, match=r"seed: expected an integer or a torch\.Generator"):
        adding_problem(3, 5, seed="x")


EXAMPLES = [("a gorgeous , witty film", 1), ("dull", 0), ("it 's not bad at all", 1)]


def test_start_signal_puts_the_sentence_first_and_distractors_after():
    built = start_signal_examples(EXAMPLES, num_distractors=6, seed=0)
    for example, (text, label) in zip(built, EXAMPLES, strict=True):
        words = text.split()
        assert example.tokens[: len(words)] == words
        assert example.signal_length == len(words) and example.label == label
        assert len(example.tokens) == len(words) + 6
        assert set(example.tokens[len(words) :]) <= set(DEFAULT_DISTRACTORS)
    assert built == start_signal_examples(EXAMPLES, num_distractors=6, seed=0)
    assert built != start_signal_examples(EXAMPLES, num_distractors=6, seed=1)


def test_start_signal_uses_the_given_distractors_and_rejects_empty_text():
    built = start_signal_examples(EXAMPLES[:1], 3, seed=0, distractors=["<x>"])
    assert built[0].tokens[-3:] == ["<x>"] * 3
    with pytest.raises(ConfigError, match=r"examples\[1\]: expected a non-empty text, got ' '"):
        start_signal_examples([("fine", 1), (" ", 0)], 3, seed=0)


def test_start_signal_on_sst2_sentences(shared_data):
    with open(shared_data / "sst2" / "dev.tsv", encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE))[:20]
    built = start_signal_examples(((r["sentence"], int(r["label"])) for r in rows), 50, seed=0)
    assert len(built) == 20
    assert all(len(e.tokens) == e.signal_length + 50 for e in built)
    assert built[0].tokens[: built[0].signal_length] == rows[0]["sentence"].split()


def test_model_takes_features_or_tokens():
    features = LongRangeModel("gru", 5, 1, input_size=2)
    assert features(torch.zeros(3, 7, 2)).shape == (3, 1)
    tokens = LongRangeModel("rnn", 5, 10, vocab_size=10, per_step=True)
    assert tokens(torch.zeros(3, 7, dtype=torch.long)).shape == (3, 7, 10)
    with pytest.raises(ConfigError, match="exactly one of input_size and vocab_size"):
        LongRangeModel("lstm", 5, 1)
    with pytest.raises(ConfigError, match=r"cell: expected one of \[.*'gru'\], got 'tcn'"):
        LongRangeModel("tcn", 5, 1, input_size=2)


TINY = LongRangeConfig(hidden_size=8, batch_size=8, eval_every=2, eval_samples=16)


def test_training_records_curves_and_is_reproducible():
    result = train_long_range("lstm", 10, 5, seed=0, config=TINY)
    assert result.eval_steps == [2, 4, 5]
    assert len(result.train_loss) == len(result.grad_norm) == 5
    assert result.metric == "mse" and result.final == result.eval_metric[-1]
    assert result.train_loss == train_long_range("lstm", 10, 5, seed=0, config=TINY).train_loss
    data = result.to_dict()
    assert data["config"]["hidden_size"] == 8 and data["final"] == result.final


def test_learning_reduces_the_adding_loss():
    config = LongRangeConfig(hidden_size=16, batch_size=32, learning_rate=1e-2, eval_every=60)
    result = train_long_range("gru", 2, 60, seed=0, config=config)
    assert result.eval_metric[-1] < 0.5 * result.baseline  # T=2: just add the two values


def test_clipping_bounds_the_update():
    config = LongRangeConfig(hidden_size=8, batch_size=8, eval_every=10, clip_norm=1e-6)
    result = train_long_range("rnn", 10, 2, seed=0, config=config)
    assert result.grad_norm[0] > 1e-6  # recorded before clipping
    unclipped = train_long_range(
        "rnn",
        10,
        2,
        seed=0,
        config=LongRangeConfig(hidden_size=8, batch_size=8, eval_every=10, clip_norm=None),
    )
    assert result.train_loss[0] == unclipped.train_loss[0]  # same start
    assert result.train_loss[1] != unclipped.train_loss[1]  # different second step


def test_copy_task_scores_accuracy_on_recall_steps():
    config = LongRangeConfig(task="copy", hidden_size=8, batch_size=4, eval_every=1, eval_samples=8)
    result = train_long_range("gru", 5, 1, seed=0, config=config)
    assert result.metric == "accuracy" and math.isclose(result.baseline, 1 / 8)
    # blank predicted everywhere: right on every step but the K = 10 recalled symbols
    _, targets = copy_memory(2, 5, seed=0)
    blank = torch.nn.functional.one_hot(torch.zeros_like(targets), 10).float()
    assert copy_accuracy(blank, targets) == 0.0
    recalled = blank.clone()
    recalled[:, -10:] = torch.nn.functional.one_hot(targets[:, -10:], 10).float()
    recalled[:, 0] = torch.nn.functional.one_hot(torch.ones(2, dtype=torch.long), 10).float()
    assert copy_accuracy(recalled, targets) == 1.0  # a wrong non-recall step does not count


def test_untrained_run_is_evaluated_once():
    result = train_long_range("gru", 5, 0, seed=0, config=TINY)
    assert result.eval_steps == [0] and result.train_loss == []


def test_unknown_task_and_bad_steps_are_named():
    with pytest.raises(ConfigError, match=r"task: expected one of \['adding', 'copy'\]"):
        train_long_range("gru", 5, 1, 0, LongRangeConfig(task="parity"))
    with pytest.raises(ConfigError, match="steps: expected an integer >= 0, got -1"):
        train_long_range("gru", 5, -1, 0, TINY)


def test_training_stops_once_the_target_is_beaten():
    config = LongRangeConfig(
        hidden_size=16, batch_size=32, learning_rate=1e-2, eval_every=10, stop_at=0.1
    )
    result = train_long_range("gru", 2, 300, seed=0, config=config)
    assert result.final < 0.1
    assert all(metric >= 0.1 for metric in result.eval_metric[:-1])
    assert len(result.train_loss) == result.eval_steps[-1] < 300
    assert len(result.eval_cpu_seconds) == len(result.eval_steps)
