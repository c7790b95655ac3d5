"""Task models built on the recurrent core: encoder, classifier (N→1), tagger and joint
intent + slot model (N→N), language model (1→N), decoding (greedy, sampling, beam search)."""

from rnnkit.models.attention import ATTENTIONS, build_attention, get_attention
from rnnkit.models.char_features import CharFeatures
from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
from rnnkit.models.decoding import (
    DecoderState,
    Hypothesis,
    beam_search,
    filter_logits,
    greedy_decode,
    sample_decode,
)
from rnnkit.models.encoder import EncoderConfig, RecurrentEncoder
from rnnkit.models.joint import JointConfig, JointDecoding, JointIntentSlot
from rnnkit.models.language_model import LanguageModel, LanguageModelConfig, LanguageModelState
from rnnkit.models.seq2seq import DecoderConfig, Seq2Seq, Seq2SeqConfig, Seq2SeqState
from rnnkit.models.spans import Span, spans_from_bio
from rnnkit.models.tagger import SequenceTagger, TaggerConfig, TaggingHead

__all__ = [
    "ATTENTIONS",
    "CharFeatures",
    "ClassifierConfig",
    "DecoderConfig",
    "DecoderState",
    "EncoderConfig",
    "Hypothesis",
    "JointConfig",
    "JointDecoding",
    "JointIntentSlot",
    "LanguageModel",
    "LanguageModelConfig",
    "LanguageModelState",
    "RecurrentEncoder",
    "Seq2Seq",
    "Seq2SeqConfig",
    "Seq2SeqState",
    "SequenceClassifier",
    "SequenceTagger",
    "Span",
    "TaggerConfig",
    "TaggingHead",
    "beam_search",
    "build_attention",
    "filter_logits",
    "get_attention",
    "greedy_decode",
    "sample_decode",
    "spans_from_bio",
]
