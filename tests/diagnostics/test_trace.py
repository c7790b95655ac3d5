"""`trace_text` (``predict --trace``) for every pooling: O1 … On, norms and the final label."""

from __future__ import annotations

import pytest
import torch

from rnnkit.data import LabelVocab, Vocab, get_tokenizer
from rnnkit.diagnostics.trace import trace_text
from rnnkit.models import ClassifierConfig, SequenceClassifier
from rnnkit.models.pooling import POOLINGS
from rnnkit.tasks.classification import Classifier

TEXT = "what time is it"


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_trace_reads_every_token_for_every_pooling(pooling, bidirectional):
    tokenizer = get_tokenizer("word")
    vocab = Vocab.build([tokenizer.tokenize(TEXT)])
    labels = LabelVocab.build(["ask_time", "greet", "other"])
    torch.manual_seed(0)
    model = SequenceClassifier(ClassifierConfig(
        vocab_size=len(vocab), embedding_dim=8, hidden_size=6, num_classes=3, pooling=pooling,
        bidirectional=bidirectional,
    ))  # fmt: skip
    classifier = Classifier(model, tokenizer, vocab, labels)
    trace = trace_text(classifier, TEXT)
    assert [step.token for step in trace.steps] == TEXT.split()
    assert all(len(step.hidden_norms) == (2 if bidirectional else 1) for step in trace.steps)
    prediction = classifier.predict([TEXT])[0]
    assert (trace.label, trace.probability) == (
        prediction.label,
        pytest.approx(prediction.probability),
    )
    # O_n of the last step reads the whole sentence: it is the prediction itself.
    assert trace.steps[-1].label == prediction.label
    assert trace.steps[-1].probability == pytest.approx(prediction.probability, abs=1e-6)
    assert (trace.steps[0].attention is None) == (pooling != "attention")
