"""Which kernel each recurrent layer of a model trains on, in one line ("fast path" report).

On CPU, torch runs an LSTM on oneDNN (``aten::mkldnn_rnn_layer``) for padded float32 input,
which is how the fused backend trains (see ``rnnkit.nn.fused`` and BENCHMARKS.md); GRU and RNN
run ATen's own per-step kernels; zoneout, layer normalisation and ``backend="loop"`` run the
Python loop of ``rnnkit.nn.loop``, slower than oneDNN (BENCHMARKS.md, "loop / fused").
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from rnnkit.nn.layers import RecurrentLayer

KIND = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}
ONEDNN_DTYPES = (torch.float32, torch.bfloat16)


def kernel_name(layer: RecurrentLayer) -> str:
    """``"oneDNN LSTM"``, ``"ATen LSTM"``, ``"ATen GRU"``, ``"ATen RNN"`` or ``"Python loop"``:
    what a training step of ``layer`` runs on (rnnkit trains on the CPU)."""
    if layer.loop_reason() is not None:
        return "Python loop"
    kind = KIND[layer.spec.mode]
    weight = layer.flat_weights[0]
    onednn = torch.backends.mkldnn.is_available() and torch._C._get_mkldnn_enabled()
    if kind == "LSTM" and onednn and weight.dtype in ONEDNN_DTYPES:
        return "oneDNN LSTM"
    return f"ATen {kind}"


def describe_fast_path(model: nn.Module, config_prefixes: Mapping[str, str] | None = None) -> str:
    """One line naming every recurrent layer inside ``model``, its kernel, and the setting
    that forced the Python loop, e.g.
    ``fast path: encoder.rnn LSTM → Python loop (forced by model.zoneout=0.1)``.

    ``config_prefixes`` maps a module-name prefix to the config section of its settings
    (first match wins; default ``"model."``), e.g. ``{"encoder.": "model.encoder."}``.
    """
    parts = []
    for name, module in model.named_modules():
        if not isinstance(module, RecurrentLayer):
            continue
        part = f"{name or type(module).__name__} {KIND[module.spec.mode]} → {kernel_name(module)}"
        reason = module.loop_reason()
        if reason is not None:
            if "=" in reason:  # a setting, not a context such as record_steps
                reason = config_prefix(name, config_prefixes or {}) + reason
            part += f" (forced by {reason})"
        parts.append(part)
    return "fast path: " + ("; ".join(parts) if parts else "no recurrent layer")


def config_prefix(name: str, config_prefixes: Mapping[str, str]) -> str:
    """The config section of the module called ``name`` (``"model."`` unless mapped)."""
    for module_prefix, section in config_prefixes.items():
        if name.startswith(module_prefix):
            return section
    return "model."
