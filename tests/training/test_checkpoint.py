"""Atomic writes: a crash in the middle of a save leaves the previous checkpoint loadable."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import safetensors.torch
import torch
from test_trainer import same_weights, snapshot
from toy import ToyClassifier

from rnnkit.errors import TrainingError
from rnnkit.training import checkpoint, load_model_weights, save_model_dir


class CrashError(Exception):
    """Stands for the process dying in the middle of a write."""


def half_write_then_crash(model, path, *args, **kwargs):
    Path(path).write_bytes(b"\x00" * 10)  # a truncated file under the temporary name
    raise CrashError


def test_crash_while_writing_weights_keeps_previous_model(tmp_path, monkeypatch):
    old = ToyClassifier()
    save_model_dir(tmp_path, old, {"config.json": {"version": 1}})
    monkeypatch.setattr(safetensors.torch, "save_model", half_write_then_crash)
    with pytest.raises(CrashError):
        save_model_dir(tmp_path, ToyClassifier(), {"config.json": {"version": 1}})
    loaded = ToyClassifier()
    load_model_weights(loaded, tmp_path)
    assert same_weights(snapshot(loaded), snapshot(old))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]


def test_crash_while_writing_a_resume_state_keeps_the_published_one(tmp_path, monkeypatch):
    model = ToyClassifier()
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(2, 3, dtype=torch.long)).sum().backward()
    optimizer.step()
    checkpoint.save_resume_state(tmp_path, 1, model, optimizer, None, {"step": 1})
    expected = snapshot(model)

    def crash(directory, *args):
        (directory / "model.safetensors").write_bytes(b"partial")
        raise CrashError

    monkeypatch.setattr(checkpoint, "_write_state_files", crash)
    with torch.no_grad():
        model.output.bias.add_(1.0)
    with pytest.raises(CrashError):
        checkpoint.save_resume_state(tmp_path, 2, model, optimizer, None, {"step": 2})
    latest = checkpoint.latest_resume_state(tmp_path)
    assert latest.name == "step-1"
    fresh = ToyClassifier()
    fresh_optimizer = torch.optim.AdamW(fresh.parameters())
    assert checkpoint.load_resume_state(latest, fresh, fresh_optimizer, None) == {"step": 1}
    assert same_weights(snapshot(fresh), expected)
    assert fresh_optimizer.state_dict()["state"][0]["exp_avg"].abs().sum() > 0
    checkpoint.prune_resume_states(tmp_path, keep=2)
    assert not list((tmp_path / "checkpoints").glob(".tmp-*"))


def test_optimizer_state_round_trips_without_pickle():
    model = ToyClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1, betas=(0.8, 0.9))
    model(torch.ones(2, 3, dtype=torch.long)).sum().backward()
    optimizer.step()
    tensors, meta = checkpoint.flatten_optimizer(optimizer.state_dict())
    assert all(key.startswith("state.") for key in tensors)
    restored = checkpoint.unflatten_optimizer(tensors, json.loads(json.dumps(meta)))
    original = optimizer.state_dict()
    assert restored["param_groups"][0]["lr"] == 0.1
    for param_id, values in original["state"].items():
        for name, value in values.items():
            assert torch.equal(restored["state"][param_id][name], value)


def test_pointer_to_a_missing_state_is_a_clear_error(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints/latest").write_text("step-9\n")
    with pytest.raises(
        TrainingError, match=r"latest: points to 'step-9', which is not a resume state"
    ):
        checkpoint.latest_resume_state(tmp_path)


def test_loading_weights_checks_names_and_presence(tmp_path):
    with pytest.raises(TrainingError, match=re.escape("missing model.safetensors")):
        load_model_weights(ToyClassifier(), tmp_path)
    save_model_dir(tmp_path, torch.nn.Linear(2, 2))
    with pytest.raises(TrainingError, match="weights do not match the model"):
        load_model_weights(ToyClassifier(), tmp_path)


def test_resuming_another_model_is_a_clear_error(tmp_path):
    model = ToyClassifier()
    checkpoint.save_resume_state(
        tmp_path, 1, model, torch.optim.AdamW(model.parameters()), None, {}
    )
    other = torch.nn.Linear(2, 2)
    with pytest.raises(TrainingError, match="step-1: cannot resume from this state"):
        checkpoint.load_resume_state(
            tmp_path / "checkpoints/step-1", other, torch.optim.AdamW(other.parameters()), None
        )


def test_keeps_only_the_newest_states(tmp_path):
    model = ToyClassifier()
    optimizer = torch.optim.AdamW(model.parameters())
    for step in (1, 2, 3, 4):
        checkpoint.save_resume_state(tmp_path, step, model, optimizer, None, {}, keep=2)
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["latest", "step-3", "step-4"]


def test_library_versions_name_rnnkit_and_torch():
    import rnnkit

    assert checkpoint.library_versions() == {
        "rnnkit": rnnkit.__version__,
        "torch": torch.__version__,
    }
