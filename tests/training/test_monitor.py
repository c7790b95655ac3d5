"""The gradient monitor: exploding norms, vanishing gradient flow, and no side effects."""

from __future__ import annotations

import json
import logging

import torch
from toy import loss_fn, make_trainer, train_loader

from rnnkit.training import TrainerConfig

FAST = {"lr": 0.01, "patience": None, "seed": 5}


def records(out_dir) -> list[dict]:
    return [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]


def test_an_exploding_step_is_counted_and_warned_once(tmp_path, caplog):
    def exploding_loss(model, batch, calls=[0]):  # noqa: B006 - a call counter
        calls[0] += 1
        return loss_fn(model, batch) * (1e4 if calls[0] in (25, 27) else 1.0)

    config = TrainerConfig(epochs=4, flow_check_every=0, **FAST)  # 8 steps an epoch
    with caplog.at_level(logging.WARNING, logger="rnnkit.training"):
        make_trainer(tmp_path, config, loss_fn=exploding_loss).fit(train_loader())
    warnings = [r.getMessage() for r in caplog.records if "exploding gradient" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith("step 25: exploding gradient, norm")
    assert "clipped to trainer.max_grad_norm=5.0" in warnings[0]
    assert [record["grad_explosions"] for record in records(tmp_path)] == [0, 0, 0, 2]


def test_vanishing_flow_is_measured_and_warned(tmp_path, caplog):
    trainer = make_trainer(tmp_path, TrainerConfig(epochs=1, flow_check_every=4, **FAST))
    rnn = trainer.model.rnn
    with torch.no_grad():  # update gate shut (h_t = n_t) and a tiny W_hh: ∂L/∂h_t vanishes
        rnn.weight_hh_l0.mul_(0.001)
        rnn.bias_ih_l0[rnn.hidden_size : 2 * rnn.hidden_size] = -30.0
    with caplog.at_level(logging.WARNING, logger="rnnkit.training"):
        trainer.fit(train_loader())
    flow = records(tmp_path)[0]["gradient_flow"]
    assert flow["step"] == 8 and flow["verdict"] == "vanishing" and flow["ratio"] < 1e-3
    assert flow["direction"] == "rnn/l0"  # the layer and direction that gave the verdict
    assert flow["distance"] > 0  # a model with no task adapter: over the whole sequence
    messages = [
        r.getMessage() for r in caplog.records if "gradient flow vanishes" in r.getMessage()
    ]
    assert len(messages) == 1 and messages[0].startswith("step 4:")


def test_flow_checks_do_not_change_training(tmp_path):
    runs = []
    for every in (0, 2):
        out = tmp_path / f"every-{every}"
        trainer = make_trainer(out, TrainerConfig(epochs=2, flow_check_every=every, **FAST))
        trainer.fit(train_loader())
        runs.append({name: p.detach().clone() for name, p in trainer.model.named_parameters()})
        assert ("gradient_flow" in records(out)[-1]) == bool(every)
    for name, value in runs[0].items():
        torch.testing.assert_close(runs[1][name], value, rtol=0, atol=0)
