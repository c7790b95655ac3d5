"""A damaged resume state is passed over for the previous good one, with a warning saying so,
and the resumed run still ends bit-identical to an uninterrupted one."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import safetensors.torch
import torch

from rnnkit.errors import TrainingError
from tests.training.toy import main as toy_main

ARGS = ["--epochs", "3", "--checkpoint-every", "5"]  # 24 steps; states step-20 and step-24 kept


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """An uninterrupted toy run: its final weights are what every resumed run must reach."""
    out = tmp_path_factory.mktemp("finished")
    toy_main([str(out), *ARGS])
    return out


def same_file_tensors(a: Path, b: Path) -> bool:
    first, second = safetensors.torch.load_file(a), safetensors.torch.load_file(b)
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


FELL_BACK = "resuming from the previous good one"
POINTER = "which is not a resume state; trying every resume state on disk"
DAMAGES = {  # name → (damage to OUT/checkpoints, the warning it gets)
    "truncated weights": (lambda states: truncate(states / "step-24/model.safetensors"), FELL_BACK),
    "truncated optimizer": (
        lambda states: truncate(states / "step-24/optimizer.safetensors"),
        FELL_BACK,
    ),
    "invalid state.json": (
        lambda states: (states / "step-24/state.json").write_text("{"),
        FELL_BACK,
    ),
    "pointer to nothing": (lambda states: (states / "latest").write_text("step-99\n"), POINTER),
    "random pointer": (lambda states: (states / "latest").write_bytes(b"\xff\xfe\x00"), POINTER),
}


@pytest.mark.parametrize(("damage", "warning"), DAMAGES.values(), ids=DAMAGES.keys())
def test_damaged_state_falls_back_to_the_previous_one(damage, warning, finished, tmp_path, caplog):
    out = shutil.copytree(finished, tmp_path / "run")
    damage(out / "checkpoints")
    with caplog.at_level(logging.INFO, logger="rnnkit"):
        toy_main([str(out), *ARGS, "--resume"])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warning in warnings[0], warnings
    if warning == FELL_BACK:  # names the damaged file and the state resumed instead
        assert "checkpoints/step-24" in warnings[0] and warnings[0].endswith("step-20")
    for name in ("model.safetensors", "checkpoints/step-24/model.safetensors"):
        assert same_file_tensors(out / name, finished / name), name
    assert (out / "checkpoints/latest").read_text() == "step-24\n"


def test_no_loadable_state_is_a_clear_error(finished, tmp_path):
    out = shutil.copytree(finished, tmp_path / "run")
    for state in ("step-20", "step-24"):
        truncate(out / "checkpoints" / state / "model.safetensors")
    with pytest.raises(TrainingError, match=r"checkpoints: no resume state loads \(.*step-24.*"):
        toy_main([str(out), *ARGS, "--resume"])
