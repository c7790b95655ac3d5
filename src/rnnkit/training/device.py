"""Where training runs and in which precision: ``--device`` and ``--precision``.

``resolve_device("auto")`` is CUDA when torch sees a GPU, else the CPU; under ``torchrun`` a
bare ``cuda`` (or ``auto``) means this rank's GPU, ``cuda:$LOCAL_RANK``. Mixed precision is for
CUDA only: ``bf16`` autocasts to bfloat16, ``fp16`` to float16 with a ``GradScaler`` (float16's
range underflows small gradients, so the loss is scaled up before backward and the gradients
down before the update). On the CPU both are refused rather than emulated: torch's CPU
recurrent kernels gain nothing from bfloat16 autocast and fp16 has no CPU autocast at all.

Model directories hold safetensors, which record no device: a checkpoint written on a GPU
loads on a CPU and the other way round (``load_state_dict`` copies each tensor onto the
parameter's device); `move_to` puts a batch beside the model.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from collections.abc import Iterator
from typing import Any

import torch

from rnnkit.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda", "cuda:N")
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
CUDA_INDEX = re.compile(r"cuda:(\d+)")


def check_device_name(spec: str) -> None:
    """A `ConfigError` unless ``spec`` is ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (whether
    that device is there is `resolve_device`'s question, asked on the machine that trains)."""
    if spec not in ("auto", "cpu", "cuda") and CUDA_INDEX.fullmatch(spec) is None:
        raise ConfigError(f"device: expected one of {list(DEVICES)}, got {spec!r}")


def resolve_device(spec: str) -> torch.device:
    """The ``torch.device`` of ``auto``, ``cpu``, ``cuda`` or ``cuda:N``; a GPU that is not
    there is a `ConfigError` saying what torch sees."""
    check_device_name(spec)
    if spec == "cpu":
        return torch.device("cpu")
    available = torch.cuda.is_available()
    if spec == "auto" and not available:
        return torch.device("cpu")
    if spec in ("auto", "cuda"):
        spec = f"cuda:{os.environ.get('LOCAL_RANK', '0')}"  # this rank's GPU under torchrun
    match = CUDA_INDEX.fullmatch(spec)
    assert match is not None  # check_device_name let only cuda:N through to here
    count = torch.cuda.device_count() if available else 0
    if int(match.group(1)) >= count:
        seen = f"{count} GPU(s)" if available else f"no GPU (torch {torch.__version__})"
        raise ConfigError(
            f"device: {spec!r} requested but torch sees {seen}; use --device cpu or auto"
        )
    return torch.device(spec)


def check_precision(precision: str, device: torch.device) -> torch.dtype:
    """The autocast dtype of ``precision``; bf16 and fp16 need a CUDA ``device``."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision: expected one of {list(PRECISIONS)}, got {precision!r}")
    if precision != "fp32" and device.type != "cuda":
        raise ConfigError(
            f"precision: {precision} (mixed precision) runs on CUDA only, got device "
            f"{str(device)!r}; use --precision fp32 on the CPU"
        )
    return PRECISIONS[precision]


@contextlib.contextmanager
def autocast(precision: str, device: torch.device) -> Iterator[None]:
    """The forward pass's autocast region (nothing for fp32)."""
    dtype = check_precision(precision, device)
    if dtype == torch.float32:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler:
    """A loss scaler, enabled for fp16 only (for other precisions its calls pass through)."""
    return torch.amp.GradScaler(device.type, enabled=check_precision(precision, device) == (
        torch.float16))  # fmt: skip


def move_to(value: Any, device: torch.device) -> Any:
    """``value`` with every tensor in it on ``device``: tensors, dataclasses (batches),
    tuples, lists and dicts, recursively; anything else as is."""
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [field.name for field in dataclasses.fields(value) if field.init]
        changes = {name: move_to(getattr(value, name), device) for name in fields}
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple
        return type(value)(*(move_to(item, device) for item in value))
    if isinstance(value, (list, tuple)):
        return type(value)(move_to(item, device) for item in value)
    if isinstance(value, dict):
        return {key: move_to(item, device) for key, item in value.items()}
    return value


class DeviceModel:
    """A PyTorch model on ``device`` behind the inference contract predictors use.

    Every method (and ``__call__``) gets its tensor arguments moved onto the device and
    returns its tensors on the CPU; submodules come back wrapped alike, plain attributes
    (``config``, ``training``) as they are. So a predictor's CPU-side tokenizing, batching and
    decoding run unchanged, as they do over the ONNX Runtime stand-ins. Tensors that go
    round-trip between calls (a decoder's state) are copied each way.
    """

    def __init__(self, module: torch.nn.Module, device: torch.device) -> None:
        self.module, self.device = module.to(device), device

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._run(self.module, args, kwargs)

    def __getattr__(self, name: str) -> Any:  # only names this class does not define
        value = getattr(self.module, name)
        if isinstance(value, torch.nn.Module):
            return DeviceModel(value, self.device)
        if callable(value):
            return lambda *args, **kwargs: self._run(value, args, kwargs)
        return value

    def eval(self) -> DeviceModel:
        self.module.eval()
        return self

    def train(self, mode: bool = True) -> DeviceModel:
        self.module.train(mode)
        return self

    def _run(self, function: Any, args: tuple, kwargs: dict) -> Any:
        result = function(*move_to(args, self.device), **move_to(kwargs, self.device))
        return move_to(result, torch.device("cpu"))
