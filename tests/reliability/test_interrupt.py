"""SIGTERM and Ctrl-C (SIGINT) stop training at the next step with a resume state, say where
it is and fail; resuming from it ends bit-identical to an uninterrupted run."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import safetensors.torch
import torch

from rnnkit.errors import TrainingError
from rnnkit.training import TrainerConfig
from tests.training.toy import make_trainer, train_loader

CONFIG = TrainerConfig(epochs=3, lr=0.01, patience=None)  # 24 steps, a state each epoch


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted")
    make_trainer(out, CONFIG).fit(train_loader())
    return out


def send_at_step(trainer, step: int, *signals: signal.Signals) -> None:
    def send(trainer) -> None:
        if trainer.state.step == step:
            for number in signals:
                os.kill(os.getpid(), number)

    trainer.add_callback("step_end", send)


def same_weights(a: Path, b: Path) -> bool:
    first, second = safetensors.torch.load_file(a), safetensors.torch.load_file(b)
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=lambda n: n.name)
def test_signal_saves_a_resume_state_and_stops(number, uninterrupted, tmp_path):
    handlers = {n: signal.getsignal(n) for n in (signal.SIGTERM, signal.SIGINT)}
    out = tmp_path / "run"
    trainer = make_trainer(out, CONFIG)
    send_at_step(trainer, 11, number)
    state = out / "checkpoints" / "step-11"
    message = f"interrupted by {number.name} at step 11: resume state saved to {state}"
    with pytest.raises(TrainingError, match=message):
        trainer.fit(train_loader())
    assert (out / "checkpoints/latest").read_text() == "step-11\n"
    assert {n: signal.getsignal(n) for n in handlers} == handlers  # restored after fit

    make_trainer(out, CONFIG).fit(train_loader(), resume=True)
    for name in ("model.safetensors", "checkpoints/step-24/model.safetensors"):
        assert same_weights(out / name, uninterrupted / name), name


def test_a_second_signal_stops_at_once(tmp_path):
    trainer = make_trainer(tmp_path, CONFIG)
    send_at_step(trainer, 3, signal.SIGINT, signal.SIGINT)
    with pytest.raises(KeyboardInterrupt, match="SIGINT received twice"):
        trainer.fit(train_loader())
    assert not (tmp_path / "checkpoints" / "step-3").exists()
