"""kill -9 at 20 seeded random moments of a small training run, each followed by --resume:
every checkpoint left on disk loads, and every run ends bit-identical to an uninterrupted one.

A moment is a step end, or just before or after one of the run's ``os.replace`` calls (12:
JSON files, best weights, `latest` pointers) or ``os.rename`` calls (7: resume states
moved into place), where a kill is most likely to tear a write.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import safetensors.torch
import torch

from tests.training.toy import main as toy_main
from tests.training.toy import run_in_child

ARGS = ["--epochs", "3", "--checkpoint-every", "5"]  # 24 steps, 12 replaces, 7 renames


def moments(count: int, seed: int = 18) -> list[list[str]]:
    """``count`` distinct kill moments, as toy.py options, drawn with a seeded generator."""
    choices = [["--kill-at-step", str(step)] for step in range(1, 25)]
    for name, calls in (("replace", 12), ("rename", 7)):
        for n in range(1, calls + 1):
            choices += [["--kill-at-call", f"{name}:{n}:{when}"] for when in ("before", "after")]
    return random.Random(seed).sample(choices, count)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted")
    toy_main([str(out), *ARGS])
    return out


def tensors_of(directory: Path) -> dict[str, torch.Tensor]:
    """Every tensor of every safetensors file under ``directory``, keyed by file and name."""
    return {
        f"{path.relative_to(directory)}:{name}": tensor
        for path in sorted(directory.rglob("*.safetensors"))
        for name, tensor in safetensors.torch.load_file(path).items()
    }


def check_loadable(out: Path) -> None:
    """Every checkpoint a killed run left (not its temporaries) reads completely."""
    for path in out.rglob("*"):
        if any(part.startswith(".") for part in path.relative_to(out).parts):
            continue  # a temporary: never published, removed on resume
        if path.suffix == ".safetensors":
            safetensors.torch.load_file(path)
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize("moment", moments(20), ids=lambda moment: moment[-1])
def test_kill_then_resume_is_bit_identical(moment, uninterrupted, tmp_path):
    run, log = tmp_path / "run", tmp_path / "killed.txt"
    exit_code = run_in_child([str(run), *ARGS, *moment], log)
    assert exit_code == -9, log.read_text()[-2000:]  # SIGKILL, not a clean exit
    check_loadable(run)
    toy_main([str(run), *ARGS, "--resume"])
    resumed, expected = tensors_of(run), tensors_of(uninterrupted)
    assert resumed.keys() == expected.keys()
    assert all(torch.equal(resumed[key], expected[key]) for key in expected)
