"""ONNX Runtime sessions, and the base of the models that stand in for PyTorch ones.

Legend: B batch, T time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit.errors import ConfigError

# ONNX Runtime's input type names → the torch dtype a feed is cast to.
INPUT_DTYPES = {
    "tensor(int64)": torch.int64,
    "tensor(float)": torch.float32,
    "tensor(bool)": torch.bool,
}


def create_session(source: Path | bytes) -> Any:
    """An ONNX Runtime CPU session for a file or serialized model, using as many threads as
    torch does (so ``OMP_NUM_THREADS=1`` makes both single-threaded)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    source = source if isinstance(source, bytes) else str(source)
    return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def run_session(
    session: Any, inputs: dict[str, Tensor], names: list[str] | None = None
) -> dict[str, Tensor]:
    """Runs ``session`` on the ``inputs`` it declares (cast to the declared int64, float or
    bool); returns outputs by name (all of them, or ``names``)."""
    feeds = {}
    for node in session.get_inputs():
        value, dtype = inputs[node.name], INPUT_DTYPES[node.type]
        # cast only where needed: a no-op `.to` still costs µs, of a batch-1 call's ~300
        feeds[node.name] = (value if value.dtype == dtype else value.to(dtype)).numpy()
    names = names or [output.name for output in session.get_outputs()]
    values = session.run(names, feeds)
    return {
        name: torch.from_numpy(np.asarray(value)) for name, value in zip(names, values, strict=True)
    }


class OnnxRuntimeModel:
    """What every ONNX stand-in shares: the session, the PyTorch model's ``config``, and
    ``eval``/``train``/``training`` so a predictor's batching code runs unchanged."""

    training = False

    def __init__(self, session: Any, config: Any) -> None:
        self.session, self.config = session, config

    def eval(self) -> OnnxRuntimeModel:
        return self

    def train(self, mode: bool = True) -> OnnxRuntimeModel:
        if mode:
            raise ConfigError("train: an ONNX Runtime model is inference-only, got mode=True")
        return self

    def run(self, names: list[str] | None = None, **inputs: Tensor | None) -> dict[str, Tensor]:
        return run_session(
            self.session, {key: value for key, value in inputs.items() if value is not None}, names
        )
