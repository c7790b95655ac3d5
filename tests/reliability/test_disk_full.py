"""A full disk (ENOSPC injected into a checkpoint write) stops training with a clear error,
and the previous checkpoint stays intact and loadable."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import pytest
import safetensors.torch
import torch

from rnnkit.errors import TrainingError
from rnnkit.training import TrainerConfig
from rnnkit.training.checkpoint import latest_resume_state, load_resume_state
from tests.training.toy import ToyClassifier, make_trainer, train_loader

CONFIG = TrainerConfig(epochs=3, lr=0.01, checkpoint_every=5, patience=None)
KEPT = ("model.safetensors", "checkpoints/latest")  # what must survive the failed write


def fill_disk(monkeypatch, out: Path, when: Callable[[Path], bool]) -> dict[str, bytes]:
    """Makes the first safetensors write to a path for which ``when`` holds fail with ENOSPC;
    returns the `KEPT` files as they were on disk at that moment."""
    save_file, before = safetensors.torch.save_file, {}

    def full_disk(tensors, filename, metadata=None):
        if when(Path(filename)) and not before:
            before.update({name: (out / name).read_bytes() for name in KEPT})
            raise OSError(errno.ENOSPC, "No space left on device")
        return save_file(tensors, filename, metadata)

    monkeypatch.setattr(safetensors.torch, "save_file", full_disk)
    return before


def nth_write(n: int, name: str) -> Callable[[Path], bool]:
    """True at the ``n``-th atomic write of the file ``name`` (a ``.NAME.tmp-PID`` path)."""
    seen = []

    def when(path: Path) -> bool:
        if path.name.startswith(f".{name}.tmp-"):
            seen.append(path)
        return len(seen) == n and path.name.startswith(f".{name}.tmp-")

    return when


WRITES = {  # the write that meets a full disk → the path its error names
    "resume state step-10": (lambda path: path.parent.name == ".tmp-step-10", ".tmp-step-10"),
    "second best model": (nth_write(2, "model.safetensors"), "/model.safetensors:"),
}


@pytest.mark.parametrize(("when", "named"), WRITES.values(), ids=WRITES.keys())
def test_full_disk_keeps_the_previous_checkpoint(when, named, tmp_path, monkeypatch):
    out = tmp_path / "run"
    trainer = make_trainer(out, CONFIG)
    before = fill_disk(monkeypatch, out, when)
    with pytest.raises(TrainingError) as raised:
        trainer.fit(train_loader())
    message = str(raised.value)
    assert named in message and "No space left on device" in message, message
    assert "the previous version is kept" in message
    monkeypatch.undo()
    for name in KEPT:  # untouched, and loadable
        assert (out / name).read_bytes() == before[name], name
    ToyClassifier().load_state_dict(safetensors.torch.load_file(out / "model.safetensors"))
    state = latest_resume_state(out)
    fresh = make_trainer(tmp_path / "other", CONFIG)
    fresh.fit(train_loader())  # builds an optimizer and scheduler to load the state into
    load_resume_state(state, fresh.model, fresh.optimizer, fresh.scheduler)
    assert not list((out / "checkpoints").glob(".tmp-*")) and not list(out.glob(".*.tmp-*"))
    assert torch.equal(
        safetensors.torch.load_file(state / "model.safetensors")["output.weight"],
        fresh.model.state_dict()["output.weight"],
    )
