"""Tiny tagged data sets written on the fly: a flight-booking ATIS/SNIPS-style folder (intents +
slots) and a CoNLL file of names and places, and tiny tagging configs."""

from __future__ import annotations

import random
from pathlib import Path

from rnnkit.models import JointConfig, TaggerConfig
from rnnkit.tasks.tagging_train import JointTaskConfig, TagConfig, TagDataSettings
from rnnkit.training import TrainerConfig

CITIES = ["boston", "denver", "dallas", "atlanta", "seattle"]
TEMPLATES = {
    "flight": "fly from {a} to {b}",
    "fare": "how much is a ticket from {a} to {b}",
}
PEOPLE = ["Anna", "Ben", "Chloe", "David"]
PLACES = ["Paris", "Berlin", "Rome", "Oslo"]


def write_slot_folder(folder: Path, copies: int, seed: int) -> Path:
    """``seq.in``/``seq.out``/``label`` with two intents and from/to city slots."""
    rows = []
    for intent, template in TEMPLATES.items():
        for a in CITIES:
            for b in CITIES:
                if a == b:
                    continue
                tokens = template.format(a=a, b=b).split()
                tags = ["O"] * len(tokens)
                tags[tokens.index(a)], tags[tokens.index(b, tokens.index(a) + 1)] = (
                    "B-from",
                    "B-to",
                )
                rows.append((tokens, tags, intent))
    rows = rows * copies
    random.Random(seed).shuffle(rows)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "seq.in").write_text("".join(" ".join(r[0]) + "\n" for r in rows))
    (folder / "seq.out").write_text("".join(" ".join(r[1]) + "\n" for r in rows))
    (folder / "label").write_text("".join(r[2] + "\n" for r in rows))
    return folder


def write_conll(path: Path, copies: int, seed: int) -> Path:
    """``token<TAB>tag`` sentences "<Person> lives in <Place> ." with two-token places."""
    sentences = []
    for person in PEOPLE:
        for place in PLACES:
            tokens = [person, "lives", "in", "New", place, "."]
            tags = ["B-PER", "O", "O", "B-LOC", "I-LOC", "O"]
            sentences.append((tokens, tags))
    sentences = sentences * copies
    random.Random(seed).shuffle(sentences)
    blocks = ["\n".join(f"{t}\t{g}" for t, g in zip(*s, strict=True)) for s in sentences]
    path.write_text("\n\n".join(blocks) + "\n")
    return path


TINY_MODEL = dict(embedding_dim=16, hidden_size=16, cell="lstm", output_dropout=0.0)


def tiny_tag_config(train: Path, dev: Path, **model) -> TagConfig:
    return TagConfig(
        data=TagDataSettings(train=str(train), dev=str(dev), batch_size=8),
        model=TaggerConfig(**{**TINY_MODEL, "char_features": True, "char_hidden_size": 8, **model}),
        trainer=TrainerConfig(epochs=6, lr=2e-2, monitor="f1", mode="max", flow_check_every=0),
    )


def tiny_joint_config(train: Path, dev: Path, **model) -> JointTaskConfig:
    return JointTaskConfig(
        data=TagDataSettings(train=str(train), dev=str(dev), batch_size=8, tokenizer="whitespace"),
        model=JointConfig(**{**TINY_MODEL, **model}),
        trainer=TrainerConfig(
            epochs=6, lr=2e-2, monitor="sentence_accuracy", mode="max", flow_check_every=0
        ),
    )
