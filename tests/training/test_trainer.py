"""The training loop: determinism, NaN handling, early stopping, best checkpoint, schedules."""

from __future__ import annotations

import copy
import json
import logging
import math
import re

import pytest
import torch
from safetensors.torch import load_file
from toy import ToyClassifier, loss_fn, make_trainer, train_loader

from rnnkit.errors import ConfigError, TrainingError
from rnnkit.training import TrainerConfig, load_model_weights, save_model_dir
from rnnkit.training.epochs import planned_epochs
from rnnkit.training.schedule import build_optimizer

FAST = {"lr": 0.01, "patience": None, "seed": 5}


def read_metrics(out_dir) -> list[dict]:
    """metrics.jsonl without the wall-clock fields."""
    lines = (out_dir / "metrics.jsonl").read_text().splitlines()
    return [
        {k: v for k, v in json.loads(line).items() if k not in ("seconds", "tokens_per_s")}
        for line in lines
    ]


def weights(path) -> dict[str, torch.Tensor]:
    return load_file(path)


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def snapshot(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_same_seed_same_run_and_another_seed_differs(tmp_path):
    results = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        config = TrainerConfig(epochs=2, **{**FAST, "seed": seed})
        results.append(make_trainer(tmp_path / name, config).fit(train_loader(seed)))
    assert read_metrics(tmp_path / "a") == read_metrics(tmp_path / "b")
    assert results[0].best_metrics == results[1].best_metrics
    assert same_weights(
        weights(tmp_path / "a/model.safetensors"), weights(tmp_path / "b/model.safetensors")
    )
    assert (
        read_metrics(tmp_path / "a")[0]["train_loss"]
        != read_metrics(tmp_path / "c")[0]["train_loss"]
    )


def test_fit_writes_model_dir_metrics_curves_and_resume_state(tmp_path, caplog):
    trainer = make_trainer(tmp_path, TrainerConfig(epochs=2, **FAST))
    with caplog.at_level(logging.INFO, logger="rnnkit.training"):
        result = trainer.fit(train_loader())
    assert result.stop_reason == "completed" and result.epochs_run == 2 and result.steps == 16
    [line] = kept_lines(caplog)
    assert line.startswith(f"kept epoch {result.best_epoch} of 2 (dev loss ")
    assert line.endswith("; ran all 2 epochs (trainer.epochs)")
    curves = (tmp_path / "curves.png").read_bytes()
    assert curves[:8] == b"\x89PNG\r\n\x1a\n" and len(curves) > 1000
    assert not list(tmp_path.glob(".*tmp-*"))  # written under a temporary name, then renamed
    assert json.loads((tmp_path / "labels.json").read_text()) == ["a", "b", "c"]
    assert json.loads((tmp_path / "config.json").read_text()) == {"model": {"hidden_size": 8}}
    records = read_metrics(tmp_path)
    assert [r["epoch"] for r in records] == [1, 2] and [r["step"] for r in records] == [8, 16]
    assert {
        "train_loss",
        "dev_loss",
        "dev_accuracy",
        "lr",
        "grad_norm_mean",
        "grad_norm_max",
    } <= records[0].keys()
    assert (tmp_path / "checkpoints/latest").read_text().strip() == "step-16"
    fresh = ToyClassifier()
    load_model_weights(fresh, tmp_path)
    fresh.eval()
    trainer.model.eval()
    x = torch.randint(1, 12, (4, 6))
    assert torch.equal(fresh(x), trainer.model(x))
    assert result.best_metrics["loss"] == min(r["dev_loss"] for r in records)


def test_a_fresh_run_discards_an_earlier_runs_states_log_and_curves(tmp_path):
    make_trainer(tmp_path, TrainerConfig(epochs=2, **FAST)).fit(train_loader())
    assert (tmp_path / "curves.png").is_file()
    trainer = make_trainer(tmp_path, TrainerConfig(epochs=1, **FAST))

    def crash(trainer):
        if trainer.state.step == 3:
            raise KeyboardInterrupt

    trainer.add_callback("step_end", crash)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(train_loader())
    # A resume now must not pick up the earlier run's step-16 state or its log.
    assert not (tmp_path / "checkpoints").exists()
    assert not (tmp_path / "metrics.jsonl").exists()
    assert not (tmp_path / "curves.png").exists()  # a failed run draws none


def scripted_evaluate(values):
    calls = iter(values)

    def evaluate(model):
        return {"accuracy": next(calls), "loss": 0.0}

    return evaluate


def kept_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("kept ")]


def test_early_stopping_keeps_best_epoch_weights_and_says_which(tmp_path, caplog):
    config = TrainerConfig(epochs=10, lr=0.01, monitor="accuracy", mode="max", patience=2)
    trainer = make_trainer(tmp_path, config)
    trainer.evaluate_fn = scripted_evaluate([0.5, 0.7, 0.6, 0.7, 0.9])
    per_epoch = []
    trainer.add_callback("epoch_end", lambda t: per_epoch.append(snapshot(t.model)))
    with caplog.at_level(logging.INFO, logger="rnnkit.training"):
        result = trainer.fit(train_loader())
    assert kept_lines(caplog) == [
        "kept epoch 2 of 4 (dev accuracy 0.7000); stopped early: no improvement for 2 epochs "
        "(trainer.patience)"
    ]
    assert result.stop_reason == "early_stopping"
    assert result.epochs_run == 4 and result.best_epoch == 2  # 0.7 at epoch 4 is no improvement
    assert result.best_metrics == {"accuracy": 0.7, "loss": 0.0}
    best = weights(tmp_path / "model.safetensors")
    assert same_weights(best, per_epoch[1])
    assert not same_weights(best, per_epoch[3])


def test_time_budget_stops_at_the_epoch_end_and_resume_goes_on(tmp_path, caplog):
    # a budget of a microsecond is spent by the end of the first epoch, whatever the machine
    config = TrainerConfig(epochs=3, max_minutes=1e-8, **FAST)
    with caplog.at_level(logging.INFO, logger="rnnkit.training"):
        result = make_trainer(tmp_path, config).fit(train_loader())
    assert result.stop_reason == "time_budget" and result.epochs_run == 1
    [line] = kept_lines(caplog)
    assert re.fullmatch(
        r"kept epoch 1 of 1 \(dev loss \d\.\d{4}\); stopped at the time budget, 1e-08 minutes "
        r"\(trainer.max_minutes\)",
        line,
    )
    assert [record["epoch"] for record in read_metrics(tmp_path)] == [1]
    resumed = make_trainer(tmp_path, config).fit(train_loader(), resume=True)
    assert resumed.stop_reason == "time_budget" and resumed.epochs_run == 2
    unlimited = TrainerConfig(epochs=3, **FAST)
    finished = make_trainer(tmp_path, unlimited).fit(train_loader(), resume=True)
    assert finished.stop_reason == "completed" and finished.epochs_run == 3


def test_a_step_end_callback_that_stops_cuts_the_epoch_and_ends_the_run(tmp_path, caplog):
    """A stop set at a step (a search's deadline, say) ends that epoch there: it is evaluated
    and logged like a whole one, and the run, not resumable, ends after it."""
    config = TrainerConfig(epochs=3, **FAST)
    trainer = make_trainer(tmp_path, config)
    steps_per_epoch = len(train_loader())
    assert steps_per_epoch > 2

    def stop_at_step_2(t) -> None:
        if t.state.step == 2:
            t.state.stop_reason = "deadline"

    trainer.add_callback("step_end", stop_at_step_2)
    with caplog.at_level(logging.INFO, logger="rnnkit.training"):
        result = trainer.fit(train_loader())
    assert (result.stop_reason, result.epochs_run, result.steps) == ("deadline", 1, 2)
    assert result.best_epoch == 1 and (tmp_path / "model.safetensors").exists()
    assert [(r["epoch"], r["step"]) for r in read_metrics(tmp_path)] == [(1, 2)]
    [line] = kept_lines(caplog)
    assert line.endswith("stopped by a callback: deadline")
    resumed = make_trainer(tmp_path, config).fit(train_loader(), resume=True)
    assert (resumed.stop_reason, resumed.epochs_run, resumed.steps) == ("deadline", 1, 2)


def test_plateau_scheduler_lowers_lr_when_metric_stalls(tmp_path):
    config = TrainerConfig(
        epochs=3,
        lr=0.01,
        monitor="accuracy",
        mode="max",
        patience=None,
        scheduler="plateau",
        plateau_factor=0.5,
        plateau_patience=0,
    )
    trainer = make_trainer(tmp_path, config)
    trainer.evaluate_fn = scripted_evaluate([0.5, 0.4, 0.6])
    trainer.fit(train_loader())
    assert [r["lr"] for r in read_metrics(tmp_path)] == pytest.approx([0.01, 0.005, 0.005])


def test_warmup_linear_rises_then_decays(tmp_path):
    config = TrainerConfig(epochs=2, lr=0.01, patience=None, warmup_steps=4)
    trainer = make_trainer(tmp_path, config)
    lrs = []
    trainer.add_callback("step_end", lambda t: lrs.append(t.last_step.lr))
    trainer.fit(train_loader())
    # 16 steps in all: 4 of warm-up, then a linear decay to 0 over the remaining 12.
    assert lrs[:5] == pytest.approx([0.0025, 0.005, 0.0075, 0.01, 0.01])
    assert lrs[5] == pytest.approx(0.01 * 11 / 12) and lrs[-1] == pytest.approx(0.01 / 12)


def nan_loss_at(calls_with_nan, hook_inf=()):
    """loss_fn returning NaN at the given 1-based calls, or an inf gradient at ``hook_inf``."""
    calls = [0]

    def loss(model, batch):
        calls[0] += 1
        value = loss_fn(model, batch)
        if calls[0] in calls_with_nan:
            return value * float("nan")
        if calls[0] in hook_inf:
            value.register_hook(lambda grad: grad * float("inf"))
        return value

    return loss


def test_nan_loss_or_inf_gradient_skips_the_update(tmp_path, caplog):
    config = TrainerConfig(epochs=1, **FAST)
    trainer = make_trainer(tmp_path, config, loss_fn=nan_loss_at({3}, hook_inf={5}))
    before = {}
    trainer.add_callback("step_end", lambda t: before.__setitem__(t.state.step, snapshot(t.model)))
    with caplog.at_level(logging.WARNING, logger="rnnkit.training"):
        trainer.fit(train_loader())
    assert same_weights(before[2], before[3]) and same_weights(before[4], before[5])
    assert not same_weights(before[3], before[4])
    assert all(torch.isfinite(t).all() for t in before[8].values())
    assert read_metrics(tmp_path)[0]["skipped_steps"] == 2
    assert math.isfinite(read_metrics(tmp_path)[0]["train_loss"])
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        m.startswith("step 3: non-finite loss and gradient norm (loss nan") for m in messages
    )
    assert any(m.startswith("step 5: non-finite gradient norm (loss 0.") for m in messages)
    assert all("skipped the update (1 in a row" in m for m in messages)


def test_repeated_nan_steps_stop_with_training_error(tmp_path):
    config = TrainerConfig(epochs=1, max_bad_steps=3, **FAST)
    trainer = make_trainer(tmp_path, config, loss_fn=nan_loss_at({2, 3, 4}))
    with pytest.raises(
        TrainingError, match="training stopped: 3 non-finite steps in a row"
    ) as error:
        trainer.fit(train_loader())
    assert "trainer.max_bad_steps=3" in str(error.value)
    assert not (tmp_path / "model.safetensors").exists()
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())


def test_nan_weights_are_never_saved(tmp_path):
    model = ToyClassifier()
    with torch.no_grad():
        model.output.bias[0] = float("nan")
    with pytest.raises(
        TrainingError, match=re.escape("refusing to save non-finite weights: output.bias")
    ):
        save_model_dir(tmp_path, model, {"config.json": {}})
    assert not (tmp_path / "model.safetensors").exists()


def test_unknown_monitor_and_event_are_rejected(tmp_path):
    trainer = make_trainer(tmp_path, TrainerConfig(epochs=1, monitor="f1", **FAST))
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "trainer.monitor='f1' is not among the dev metrics; "
            "evaluate_fn returned: accuracy, loss"
        ),
    ):
        trainer.fit(train_loader())
    with pytest.raises(
        ConfigError, match="unknown trainer event 'on_step'; valid events: fit_start"
    ):
        trainer.add_callback("on_step", print)


def test_loss_fn_must_return_a_differentiable_scalar(tmp_path):
    trainer = make_trainer(tmp_path, TrainerConfig(epochs=1, **FAST), loss_fn=lambda m, b: 1.0)
    with pytest.raises(
        TrainingError, match="loss_fn must return a scalar tensor that requires grad, got float"
    ):
        trainer.fit(train_loader())


def test_trainer_config_rejects_bad_values():
    with pytest.raises(
        ConfigError, match=re.escape("trainer.max_grad_norm must be > 0 or None, got 0")
    ):
        TrainerConfig(max_grad_norm=0)
    with pytest.raises(
        ConfigError,
        match=re.escape("trainer.scheduler must be one of none, warmup-linear, plateau, got 'cos'"),
    ):
        TrainerConfig(scheduler="cos")
    with pytest.raises(ConfigError, match=re.escape("trainer.max_minutes must be > 0, got 0")):
        TrainerConfig(max_minutes=0)


def test_progress_bar_and_missing_tensorboard_do_not_break_training(tmp_path, caplog, capsys):
    trainer = make_trainer(tmp_path, TrainerConfig(epochs=1, tensorboard=True, log_every=2, **FAST))
    trainer.show_progress = True
    from rnnkit.training.callbacks import ProgressBar

    ProgressBar().attach(trainer)
    with caplog.at_level(logging.WARNING, logger="rnnkit.training"):
        result = trainer.fit(train_loader())
    assert result.stop_reason == "completed"
    assert "epoch 1/1" in capsys.readouterr().err
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        assert any("tensorboard is not installed" in r.getMessage() for r in caplog.records)
    else:
        assert any((tmp_path / "tensorboard").iterdir())


def test_max_steps_caps_the_epochs_and_the_schedule_decays_over_them(tmp_path, caplog):
    # 8 steps an epoch: 20 steps are reached in the 3rd epoch, so 3 of the 10 epochs run.
    config = TrainerConfig(epochs=10, max_steps=20, lr=0.01, patience=None, warmup_steps=4)
    trainer = make_trainer(tmp_path, config)
    lrs = []
    trainer.add_callback("step_end", lambda t: lrs.append(t.last_step.lr))
    with caplog.at_level(logging.INFO, logger="rnnkit.training"):
        result = trainer.fit(train_loader())
    assert result.epochs_run == 3 and result.steps == 24 and result.stop_reason == "completed"
    assert lrs[-1] == pytest.approx(0.01 / 20)  # the decay ends at step 24, not 80
    messages = [r.getMessage() for r in caplog.records]
    assert "3 epochs, not 10: 8 steps an epoch reach trainer.max_steps=20 in 3" in messages[0]
    assert kept_lines(caplog)[0].endswith(
        "ran 3 epochs, the first to reach 20 steps (trainer.max_steps)"
    )


def test_max_steps_above_the_epochs_changes_nothing():
    assert planned_epochs(TrainerConfig(epochs=20, max_steps=10_000), 225) == 20
    assert planned_epochs(TrainerConfig(epochs=20, max_steps=10_000), 1053) == 10
    assert planned_epochs(TrainerConfig(epochs=20), 1053) == 20
    assert planned_epochs(TrainerConfig(epochs=20, max_steps=10), None) == 20  # no len()
    with pytest.raises(ConfigError, match=r"trainer.max_steps must be > 0 or None, got 0"):
        TrainerConfig(max_steps=0)


def test_the_optimizer_is_fused_adamw_with_the_foreach_update():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Embedding(50, 8), torch.nn.LSTM(8, 6, batch_first=True))
    config = TrainerConfig(lr=1e-2, weight_decay=0.1)
    fused = build_optimizer(model, config)
    assert fused.defaults["fused"] is True
    twin = copy.deepcopy(model)
    reference = torch.optim.AdamW(twin.parameters(), lr=1e-2, weight_decay=0.1, foreach=True)
    tokens = torch.randint(0, 50, (4, 7))
    for _ in range(5):
        for net, optimizer in ((model, fused), (twin, reference)):
            optimizer.zero_grad()
            net(tokens)[0].square().mean().backward()
            optimizer.step()
    for mine, theirs in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)
