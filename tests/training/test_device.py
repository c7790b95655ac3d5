"""``trainer.device`` / ``trainer.precision``: choosing the device, refusing what is not there,
moving batches, and weights that load whatever device wrote them (CPU-only tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import pytest
import torch
from toy import make_trainer, train_loader

from rnnkit.errors import ConfigError
from rnnkit.training import TrainerConfig, load_model_weights
from rnnkit.training.device import check_precision, grad_scaler, move_to, resolve_device


@pytest.fixture
def gpus(monkeypatch):
    """``gpus(n)``: torch sees ``n`` GPUs (0: no CUDA at all)."""

    def see(count: int) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count)

    return see


def test_auto_is_the_cpu_without_a_gpu_and_the_gpu_with_one(gpus, monkeypatch):
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    gpus(0)
    assert resolve_device("auto") == torch.device("cpu")
    gpus(2)
    assert resolve_device("auto") == torch.device("cuda:0")
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    assert resolve_device("cpu") == torch.device("cpu")


def test_under_torchrun_cuda_is_this_ranks_gpu(gpus, monkeypatch):
    gpus(2)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert resolve_device("cuda") == torch.device("cuda:1")


def test_cuda_without_a_gpu_is_a_clear_error(gpus):
    gpus(0)
    with pytest.raises(
        ConfigError,
        match=r"device: 'cuda:0' requested but torch sees no GPU \(torch .*\); use --device cpu",
    ):
        resolve_device("cuda")


def test_a_gpu_index_past_the_last_names_the_count(gpus):
    gpus(1)
    with pytest.raises(ConfigError, match=r"'cuda:3' requested but torch sees 1 GPU\(s\)"):
        resolve_device("cuda:3")


def test_an_unknown_device_lists_the_choices():
    expected = r"device: expected one of \['auto', 'cpu', 'cuda', 'cuda:N'\], got 'tpu'"
    with pytest.raises(ConfigError, match=expected):
        resolve_device("tpu")
    with pytest.raises(ConfigError, match=expected):
        TrainerConfig(device="tpu")


def test_mixed_precision_is_refused_on_the_cpu_and_allowed_on_cuda():
    cpu, cuda = torch.device("cpu"), torch.device("cuda:0")
    with pytest.raises(ConfigError, match=r"precision: fp16 \(mixed precision\) runs on CUDA"):
        check_precision("fp16", cpu)
    with pytest.raises(ConfigError, match=r"precision: bf16 .* use --precision fp32"):
        check_precision("bf16", cpu)
    assert check_precision("bf16", cuda) == torch.bfloat16
    assert check_precision("fp16", cuda) == torch.float16
    assert check_precision("fp32", cpu) == torch.float32
    with pytest.raises(ConfigError, match=r"trainer.precision must be one of fp32, bf16, fp16"):
        TrainerConfig(precision="fp8")


def test_only_fp16_scales_the_loss():
    assert not grad_scaler("fp32", torch.device("cpu")).is_enabled()


@dataclass(frozen=True)
class Batch:
    ids: torch.Tensor
    lengths: torch.Tensor
    texts: list[str]


class Pair(NamedTuple):
    x: torch.Tensor
    y: torch.Tensor


def test_move_to_moves_every_tensor_of_a_batch_and_keeps_the_rest():
    batch = {
        "batch": Batch(torch.ones(2, 3), torch.tensor([3, 1]), ["a", "b"]),
        "pair": Pair(torch.zeros(1), torch.zeros(2)),
        "list": [torch.zeros(1), 7],
    }
    moved = move_to(batch, torch.device("meta"))  # a device every torch build has
    assert isinstance(moved["batch"], Batch) and isinstance(moved["pair"], Pair)
    assert moved["batch"].ids.device.type == "meta"
    assert moved["batch"].lengths.device.type == "meta"
    assert moved["batch"].texts == ["a", "b"]
    assert [t.device.type for t in moved["pair"]] == ["meta", "meta"]
    assert moved["list"][0].device.type == "meta" and moved["list"][1] == 7
    assert batch["batch"].ids.device.type == "cpu"  # the original is untouched


def test_training_on_cuda_without_a_gpu_stops_before_training(tmp_path, gpus):
    gpus(0)
    trainer = make_trainer(tmp_path, TrainerConfig(epochs=1, device="cuda"))
    with pytest.raises(ConfigError, match="torch sees no GPU"):
        trainer.fit(train_loader())
    assert not (tmp_path / "model.safetensors").exists()


def test_bf16_on_the_cpu_is_refused_at_fit(tmp_path):
    trainer = make_trainer(tmp_path, TrainerConfig(epochs=1, device="cpu", precision="bf16"))
    with pytest.raises(ConfigError, match="runs on CUDA only"):
        trainer.fit(train_loader())


def test_cpu_training_saves_torch_names_that_load_into_a_model_anywhere(tmp_path):
    trainer = make_trainer(tmp_path, TrainerConfig(epochs=1, device="cpu"))
    trainer.fit(train_loader())
    names = set(trainer.model.state_dict())
    assert {"rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0"} <= names
    # safetensors records no device: the weights go onto whatever device the model is on.
    other = make_trainer(tmp_path / "other", TrainerConfig(epochs=1), model_seed=5).model
    other = other.to(torch.float64)  # another placement than the writer's
    load_model_weights(other, tmp_path)
    for name, value in trainer.model.state_dict().items():
        assert other.state_dict()[name].dtype == torch.float64
        torch.testing.assert_close(other.state_dict()[name].float(), value)
