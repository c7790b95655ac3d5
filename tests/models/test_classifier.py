"""SequenceClassifier: shapes, poolings, padding invariance, prefixes, word vectors."""

from __future__ import annotations

import pytest
import torch

from rnnkit.data import TextBatch
from rnnkit.data.batching import WordBatch
from rnnkit.errors import ConfigError, DataError
from rnnkit.models import ClassifierConfig, EncoderConfig, RecurrentEncoder, SequenceClassifier
from rnnkit.models.embeddings import load_word_vectors


def make_model(pooling="last", cell="lstm", bidirectional=True, num_layers=1) -> SequenceClassifier:
    torch.manual_seed(0)
    config = ClassifierConfig(
        vocab_size=20, embedding_dim=8, cell=cell, hidden_size=6, num_layers=num_layers,
        bidirectional=bidirectional, num_classes=3, pooling=pooling,
    )  # fmt: skip
    return SequenceClassifier(config).eval()


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "attention", "concat"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_padding_never_changes_a_prediction(pooling, cell):
    model = make_model(pooling, cell, num_layers=2)
    tokens = torch.randint(1, 20, (3, 6))
    lengths = torch.tensor([6, 2, 4])
    logits = model(WordBatch(tokens, lengths))
    assert logits.shape == (3, 3)
    padded = torch.cat([tokens, torch.randint(1, 20, (3, 5))], dim=1)
    torch.testing.assert_close(model(WordBatch(padded, lengths)), logits, atol=1e-5, rtol=0)
    # Each sequence alone gives the same logits as in the batch.
    for b in range(3):
        alone = model(WordBatch(tokens[b : b + 1, : lengths[b]], lengths[b : b + 1]))
        torch.testing.assert_close(alone[0], logits[b], atol=1e-5, rtol=0)


def test_last_pooling_uses_both_directions_final_states():
    model = make_model("last")
    tokens = torch.randint(1, 20, (2, 5))
    lengths = torch.tensor([5, 3])
    outputs, final = model.encoder(tokens, lengths)
    features = model.encoder.final_features(final)
    assert features.shape == (2, 12)
    torch.testing.assert_close(features[1, :6], outputs[1, 2, :6])  # forward: last valid step
    torch.testing.assert_close(features[1, 6:], outputs[1, 0, 6:])  # reverse: first token


def test_concat_pooling_is_last_max_and_mean_side_by_side():
    model = make_model("concat")
    tokens = torch.randint(1, 20, (2, 5))
    lengths = torch.tensor([5, 3])
    outputs, final = model.encoder(tokens, lengths)
    pooled, weights = model.pooling(outputs, lengths, model.encoder.final_features(final))
    assert pooled.shape == (2, 36) and weights is None
    assert model.output.in_features == 36
    last, maximum, mean = pooled[1].split(12)
    torch.testing.assert_close(last, model.encoder.final_features(final)[1])
    torch.testing.assert_close(maximum, outputs[1, :3].amax(dim=0))
    torch.testing.assert_close(mean, outputs[1, :3].mean(dim=0))


def test_attention_weights_ignore_padding():
    model = make_model("attention")
    tokens = torch.randint(1, 20, (2, 5))
    _, _, weights = model.forward_with_details(WordBatch(tokens, torch.tensor([5, 2])))
    assert weights[1, 2:].abs().max() == 0
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(2))


def test_prefix_probabilities_equal_running_each_prefix():
    model = make_model("last", bidirectional=False)
    tokens = torch.randint(1, 20, (5,))
    probabilities = model.prefix_probabilities(tokens)
    assert probabilities.shape == (5, 3)
    for t in range(5):
        prefix = WordBatch(tokens[: t + 1].unsqueeze(0), torch.tensor([t + 1]))
        expected = model(prefix).softmax(-1)[0]
        torch.testing.assert_close(probabilities[t], expected, atol=1e-6, rtol=0)


def test_loss_trains_down():
    model = make_model("mean").train()
    tokens = torch.randint(1, 20, (8, 5))
    lengths = torch.full((8,), 5)
    batch = TextBatch(tokens, lengths, tokens[:, 0] % 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)

    def loss() -> torch.Tensor:
        return model.loss(model(*model.inputs(batch)), batch)

    first = loss().item()
    for _ in range(30):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    assert loss().item() < first / 3


def test_bad_pooling_and_vocab_size():
    with pytest.raises(
        ConfigError,
        match=r"pooling: expected one of \['last', 'mean', 'max', 'attention', 'concat'\], "
        r"got 'sum'",
    ):
        make_model("sum")
    with pytest.raises(ConfigError, match=r"vocab_size: expected a positive integer, got 0"):
        RecurrentEncoder(EncoderConfig(vocab_size=0))
    with pytest.raises(ConfigError, match=r"num_classes: expected at least 2, got 1"):
        SequenceClassifier(ClassifierConfig(vocab_size=5, num_classes=1))


def test_word_vectors_with_header_and_chinese(tmp_path):
    model = make_model()
    path = tmp_path / "vectors.txt"
    lines = [
        "3 8",
        "你好 " + " ".join(["0.5"] * 8),
        "cat " + " ".join(["1"] * 8),
        "dog " + " ".join(["2"] * 8),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = load_word_vectors(
        path, model.encoder.embedding, ["<pad>", "<unk>", "cat", "你好", "bird"]
    )
    assert (report.found, report.out_of_vocabulary) == (2, 3)
    torch.testing.assert_close(model.encoder.embedding.weight[2], torch.ones(8))
    torch.testing.assert_close(model.encoder.embedding.weight[3], torch.full((8,), 0.5))


def test_word_vectors_malformed_line_names_file_and_line(tmp_path):
    model = make_model()
    path = tmp_path / "vectors.txt"
    path.write_text("cat " + " ".join(["1"] * 8) + "\ndog 1 2 3\n", encoding="utf-8")
    with pytest.raises(
        DataError, match=r"vectors.txt:2: expected a word and 8 numbers, found 3 numbers"
    ):
        load_word_vectors(path, model.encoder.embedding, ["cat", "dog"])


def test_label_smoothing_spreads_the_target():
    logits = torch.randn(4, 3)
    labels = torch.tensor([0, 2, 1, 0])
    batch = TextBatch(torch.ones(4, 2, dtype=torch.long), torch.full((4,), 2), labels)
    config = make_model().config
    smoothed = SequenceClassifier(ClassifierConfig(**{**vars(config), "label_smoothing": 0.3}))
    plain = torch.nn.functional.cross_entropy(logits, labels)
    uniform = -torch.log_softmax(logits, -1).mean(-1).mean()
    torch.testing.assert_close(make_model().loss(logits, batch), plain)
    torch.testing.assert_close(smoothed.loss(logits, batch), 0.7 * plain + 0.3 * uniform)
    bad = r"label_smoothing: expected a number in \[0, 1\], got 1.5"
    with pytest.raises(ConfigError, match=bad):
        ClassifierConfig(label_smoothing=1.5)
