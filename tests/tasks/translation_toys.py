"""A tiny English → "French" parallel corpus (a word-for-word lexicon), for task and CLI tests."""

from __future__ import annotations

import random
from pathlib import Path

from rnnkit.models.encoder import EncoderConfig
from rnnkit.models.seq2seq import DecoderConfig, Seq2SeqConfig
from rnnkit.tasks.translation import TranslateConfig, TranslationData
from rnnkit.training import TrainerConfig

LEXICON = {
    "i": "je", "see": "vois", "the": "le", "cat": "chat", "dog": "chien",
    "big": "grand", "small": "petit", "house": "maison", "a": "un", "red": "rouge",
}  # fmt: skip


def toy_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    words = sorted(LEXICON)
    pairs = []
    for _ in range(count):
        source = [rng.choice(words) for _ in range(rng.randint(2, 5))]
        pairs.append((" ".join(source) + " .", " ".join(LEXICON[w] for w in source) + " ."))
    return pairs


def write_tsv(path: Path, count: int, seed: int) -> Path:
    path.write_text("".join(f"{s}\t{t}\n" for s, t in toy_pairs(count, seed)), encoding="utf-8")
    return path


def write_pair_files(prefix: Path, count: int, seed: int) -> Path:
    """``prefix.en`` and ``prefix.fr``, line-aligned; returns the prefix."""
    pairs = toy_pairs(count, seed)
    prefix.with_name(prefix.name + ".en").write_text("".join(s + "\n" for s, _ in pairs), "utf-8")
    prefix.with_name(prefix.name + ".fr").write_text("".join(t + "\n" for _, t in pairs), "utf-8")
    return prefix


def tiny_translate_config(train: Path, dev: Path, **data) -> TranslateConfig:
    return TranslateConfig(
        data=TranslationData(train=str(train), dev=str(dev), batch_size=16, min_freq=1, **data),
        model=Seq2SeqConfig(
            encoder=EncoderConfig(embedding_dim=16, hidden_size=16, cell="gru"),
            decoder=DecoderConfig(embedding_dim=16, cell="gru", attention_size=16),
        ),
        trainer=TrainerConfig(epochs=3, lr=1e-2, monitor="bleu", mode="max", flow_check_every=0),
    )
