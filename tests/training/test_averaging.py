"""The weight average (``trainer.ema_epochs``): its arithmetic, what is evaluated and saved,
and that a killed run resumes it exactly."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
import torch
from test_resume import assert_same_run
from test_trainer import FAST, same_weights, snapshot, weights
from torch import nn
from torch.optim.swa_utils import AveragedModel
from toy import main as toy_main
from toy import make_trainer, run_in_child, train_loader

from rnnkit.errors import ConfigError
from rnnkit.training import TrainerConfig
from rnnkit.training.averaging import bias_corrected_update, build_average, ema_decay


def test_decay_turns_epochs_into_a_per_step_horizon():
    assert ema_decay(1.0, 100) == pytest.approx(0.99)
    assert ema_decay(0.5, 100) == pytest.approx(0.98)
    assert ema_decay(0.01, 10) == 0.0  # shorter than a step: the last weights


def test_average_is_the_bias_corrected_exponential_average_of_the_steps():
    decay = 0.8
    model = nn.Linear(3, 2)
    average = AveragedModel(model, multi_avg_fn=bias_corrected_update(decay), use_buffers=True)
    history = []
    for step in range(6):
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.copy_(torch.randn_like(parameter) + step)
        history.append(snapshot(model))
        average.update_parameters(model)
        n = len(history)
        expected_weight = snapshot(model)["weight"] * 0
        for i, weights_i in enumerate(history, start=1):
            expected_weight += decay ** (n - i) * (1 - decay) * weights_i["weight"]
        expected_weight /= 1 - decay**n
        torch.testing.assert_close(average.module.weight, expected_weight)
    assert int(average.n_averaged) == 6
    assert not torch.equal(average.module.weight, model.weight)


def test_first_update_copies_the_weights():
    model = nn.Linear(3, 2)
    average = AveragedModel(model, multi_avg_fn=bias_corrected_update(0.99), use_buffers=True)
    with torch.no_grad():
        model.weight.add_(1.0)
    average.update_parameters(model)
    assert torch.equal(average.module.weight, model.weight)


def test_off_by_default_and_bad_settings_are_named():
    assert TrainerConfig().ema_epochs == 0.0
    assert build_average(nn.Linear(2, 2), TrainerConfig(), 10) is None
    with pytest.raises(ConfigError, match=r"trainer.ema_epochs must be >= 0, got -1"):
        TrainerConfig(ema_epochs=-1)
    with pytest.raises(ConfigError, match=r"trainer.ema_max_steps must be > 0 or None, got 0"):
        TrainerConfig(ema_max_steps=0)
    with pytest.raises(ConfigError, match=r"trainer.ema_epochs needs a train loader with a len"):
        build_average(nn.Linear(2, 2), TrainerConfig(ema_epochs=1.0), None)


def test_a_horizon_over_ema_max_steps_turns_averaging_off_and_says_so(caplog):
    config = TrainerConfig(ema_epochs=1.0, ema_max_steps=250)
    with caplog.at_level(logging.INFO, logger="rnnkit.training"):
        assert build_average(nn.Linear(2, 2), config, 251) is None  # a long epoch: off
    assert "weight averaging off: its horizon, 1 epochs of 251 steps, is over " in caplog.text
    assert "trainer.ema_max_steps=250" in caplog.text
    kept = build_average(nn.Linear(2, 2), config, 250)  # at the limit: kept, not capped
    assert kept is not None and kept.multi_avg_fn is not None
    half = build_average(nn.Linear(2, 2), dataclasses.replace(config, ema_epochs=0.5), 500)
    assert half is not None  # the horizon, not the epoch, is compared: 0.5 x 500 = 250
    unlimited = TrainerConfig(ema_epochs=1.0, ema_max_steps=None)
    assert build_average(nn.Linear(2, 2), unlimited, 100_000) is not None
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="rnnkit.training"):
        assert build_average(nn.Linear(2, 2), config, 1053, log=False) is None
    assert caplog.text == ""  # other ranks stay quiet


def test_the_average_is_what_is_evaluated_and_saved(tmp_path):
    trainer = make_trainer(tmp_path, TrainerConfig(epochs=2, ema_epochs=1.0, **FAST))
    evaluated = []
    evaluate = trainer.evaluate_fn
    trainer.evaluate_fn = lambda model: evaluated.append(model) or evaluate(model)
    trainer.fit(train_loader(FAST["seed"]))
    assert all(model is trainer.average.module for model in evaluated) and len(evaluated) == 2
    saved = weights(tmp_path / "model.safetensors")
    assert same_weights(saved, snapshot(trainer.average.module))
    assert not same_weights(saved, snapshot(trainer.model))  # not the raw last weights
    state = tmp_path / "checkpoints/step-16"
    assert int(weights(state / "average.safetensors")["n_averaged"]) == 16


# 8 steps an epoch: a horizon of 1 epoch is over ema_max_steps=7, so averaging is off.
@pytest.mark.parametrize("averaging", [{}, {"ema_epochs": 1.0, "ema_max_steps": 7}])
def test_without_averaging_the_trained_weights_are_saved(tmp_path, averaging):
    trainer = make_trainer(tmp_path, TrainerConfig(epochs=1, **averaging, **FAST))
    trainer.fit(train_loader(FAST["seed"]))
    assert trainer.average is None
    assert same_weights(weights(tmp_path / "model.safetensors"), snapshot(trainer.model))
    assert not (tmp_path / "checkpoints/step-8/average.safetensors").exists()


@pytest.mark.slow
def test_resume_after_kill_restores_the_average(tmp_path: Path):
    args = ["--epochs", "3", "--checkpoint-every", "5", "--ema-epochs", "0.5"]
    reference = tmp_path / "reference"
    toy_main([str(reference), *args])
    log = tmp_path / "killed.txt"
    exit_code = run_in_child([str(tmp_path / "run"), *args, "--kill-at-step", "7"], log)
    assert exit_code == -9, log.read_text()
    toy_main([str(tmp_path / "run"), *args, "--resume"])
    assert_same_run(tmp_path / "run", reference)
    final = "checkpoints/step-24/average.safetensors"
    assert same_weights(weights(tmp_path / "run" / final), weights(reference / final))
