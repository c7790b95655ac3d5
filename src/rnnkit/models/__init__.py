"""Task models built on the recurrent core: encoder, classifier (N→1), and the rest to come."""

from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
from rnnkit.models.encoder import EncoderConfig, RecurrentEncoder

__all__ = ["ClassifierConfig", "EncoderConfig", "RecurrentEncoder", "SequenceClassifier"]
