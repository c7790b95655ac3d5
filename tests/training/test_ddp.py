"""Two processes under torch.distributed.run (gloo, CPU) end with identical weights."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from test_trainer import read_metrics, same_weights, weights

TOY = Path(__file__).with_name("toy.py")


@pytest.mark.slow
def test_two_ranks_train_to_identical_weights(tmp_path):
    out, weights_dir = tmp_path / "out", tmp_path / "weights"
    weights_dir.mkdir()
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command += [str(TOY), str(out), "--epochs", "2", "--weights-dir", str(weights_dir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rank0, rank1 = (weights(weights_dir / f"rank{r}.safetensors") for r in (0, 1))
    assert same_weights(rank0, rank1)
    # Each rank saw half of the 64 examples: 4 batches of 8 per epoch, logged once (rank 0).
    assert [(r["epoch"], r["step"]) for r in read_metrics(out)] == [(1, 4), (2, 8)]
    best = weights(out / "model.safetensors")
    assert best.keys() == rank0.keys() and all(torch.isfinite(t).all() for t in best.values())
