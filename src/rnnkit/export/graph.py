"""An ONNX graph written node by node from an rnnkit model's weights.

Why not ``torch.onnx.export``: the fused backend calls ``torch._VF`` kernels on packed or
index-gathered sequences, which neither exporter maps to one ONNX recurrent node, and the
dynamo exporter needs ``onnxscript`` and seconds per export. ONNX's own ``LSTM``/``GRU``/``RNN``
operators take ``sequence_lens``, which is exactly rnnkit's contract: the reverse direction
starts at each sequence's last token and ``Y_h`` is each sequence's state at its own length.
So the graph here is the model's equations written once more with those operators, and the
parity tests check it against PyTorch.

Gate orders differ: torch's LSTM is i, f, g, o and ONNX's i, o, f, c; torch's GRU is r, z, n
and ONNX's z, r, h (with ``linear_before_reset=1``, torch's ``r * (W_hn h + b_hn)``).

Legend: B batch, T time, E embedding, H hidden per direction, D directions, F features (D*H),
G gates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from rnnkit.errors import ConfigError, ExportError

OPSET = 17
# Per torch kernel mode: the ONNX operator, and the row blocks of torch's gate-stacked
# weights in the order that operator wants them. (ReLU RNNs would need activations=["Relu"].)
ONNX_OPS = {"LSTM": ("LSTM", (0, 3, 1, 2)), "GRU": ("GRU", (1, 0, 2)), "RNN_TANH": ("RNN", (0,))}


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().float().numpy()


class GraphBuilder:
    """Collects nodes, initializers, inputs and outputs; ``model()`` returns the ONNX model.

    Inputs are ``tokens (B, T)`` and ``lengths (B,)`` (int64) with symbolic batch and time,
    unless ``token_inputs=False`` (a step graph declares its own with `add_input`).
    """

    def __init__(self, token_inputs: bool = True) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, onnx.TensorProto] = {}
        self.outputs: list[onnx.ValueInfoProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        if token_inputs:
            self.add_input("tokens", ["batch", "time"])
            self.add_input("lengths", ["batch"])
        self._count = 0

    def constant(self, name: str, value: np.ndarray | torch.Tensor) -> str:
        """An initializer; a name already added is reused (shared axes and scalars)."""
        if name not in self.initializers:
            array = to_numpy(value) if isinstance(value, torch.Tensor) else np.asarray(value)
            self.initializers[name] = numpy_helper.from_array(array, name)
        return name

    def axis(self, axis: int) -> str:
        """The int64 tensor ``[axis]`` that Unsqueeze, Squeeze and ReduceSum take."""
        return self.constant(f"axis_{axis}", np.array([axis], np.int64))

    def op(self, op_type: str, *inputs: str, outputs: int = 1, **attributes) -> list[str]:
        """Adds one node, named ``<op>_<n>`` (so tools such as the quantizer can name it);
        returns its output names (fresh, numbered)."""
        self._count += 1
        node = f"{op_type.lower()}_{self._count}"
        names = [f"{node}_{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, name=node, **attributes))
        return names

    def op1(self, op_type: str, *inputs: str, **attributes) -> str:
        return self.op(op_type, *inputs, **attributes)[0]

    def output(self, name: str, value: str, shape: list[str | int]) -> None:
        """Exposes ``value`` as the float graph output ``name``."""
        self.nodes.append(helper.make_node("Identity", [value], [name]))
        self.outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))

    def add_input(
        self, name: str, shape: list[str | int], elem_type: int = TensorProto.INT64
    ) -> str:
        """Declares one more graph input (int64 unless ``elem_type`` says otherwise)."""
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, shape))
        return name

    def model(self, metadata: dict[str, str]) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, "rnnkit", self.inputs, self.outputs, list(self.initializers.values())
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rnnkit"
        )
        model.ir_version = min(model.ir_version, 10)  # what onnxruntime releases accept
        helper.set_model_props(model, metadata)
        onnx.checker.check_model(model)
        return model

    # Building blocks -------------------------------------------------------------------------

    def linear(self, x: str, layer: nn.Linear, prefix: str) -> str:
        """``x @ W^T + b`` over the last axis of any-rank ``x``."""
        weight = self.constant(f"{prefix}.weight_t", layer.weight.t().contiguous())
        product = self.op1("MatMul", x, weight)
        if layer.bias is None:
            return product
        return self.op1("Add", product, self.constant(f"{prefix}.bias", layer.bias))

    def valid_mask(self, lengths: str, time_of: str) -> str:
        """``(B, T)`` bool, True on valid steps; ``time_of`` is any ``(B, T, ...)`` tensor."""
        shape = self.op1("Shape", time_of)
        time = self.op1("Gather", shape, self.constant("one_index", np.array(1, np.int64)))
        steps = self.op1(
            "Range",
            self.constant("zero_scalar", np.array(0, np.int64)),
            time,
            self.constant("one_scalar", np.array(1, np.int64)),
        )  # (T,)
        return self.op1("Less", steps, self.op1("Unsqueeze", lengths, self.axis(1)))  # (B, T)

    def embedding(self, tokens: str, layer: nn.Embedding, prefix: str) -> str:
        return self.op1("Gather", self.constant(f"{prefix}.weight", layer.weight), tokens)


@dataclass(frozen=True)
class RecurrentLayers:
    """The graph values of `recurrent_layers`: time-major top outputs ``sequence (T, B, D*H)``
    and each layer's final ``h (D, B, H)`` and, for an LSTM, ``c`` (empty list otherwise)."""

    sequence: str
    h: list[str]
    c: list[str]

    def final_state(self, builder: GraphBuilder) -> tuple[str, str | None]:
        """Every layer's final state stacked as rnnkit's ``RNNState``: ``h (L*D, B, H)``, c."""
        h = builder.op1("Concat", *self.h, axis=0)
        return h, builder.op1("Concat", *self.c, axis=0) if self.c else None


def recurrent_stack(
    builder: GraphBuilder, x: str, lengths: str, rnn: nn.Module, prefix: str
) -> tuple[str, RecurrentLayers]:
    """rnnkit's recurrent layer ``rnn`` as one ONNX recurrent node per layer.

    Shape:
        x: (B, T, E) float; lengths: (B,) int64.
        Returns ``outputs (B, T, D*H)`` (zero past each length) and the layers' final states.
    """
    layers = recurrent_layers(builder, x, lengths, rnn, prefix)
    outputs = builder.op1("Transpose", layers.sequence, perm=[1, 0, 2])  # (B, T, D*H)
    mask = builder.op1("Unsqueeze", builder.valid_mask(lengths, outputs), builder.axis(2))
    # Padding must read zero, as the PyTorch encoder returns it.
    outputs = builder.op1("Mul", outputs, builder.op1("Cast", mask, to=TensorProto.FLOAT))
    return outputs, layers


def recurrent_layers(
    builder: GraphBuilder,
    x: str,
    lengths: str | None,
    rnn: nn.Module,
    prefix: str,
    initial: tuple[str, str | None] | None = None,
) -> RecurrentLayers:
    """The layers of `recurrent_stack`; ``sequence_lens`` makes each direction stop (or start)
    at each length (``lengths=None``: every sequence is full length).

    Shape: ``x (B, T, E)``; ``initial``: ``h (L*D, B, H)`` and, for an LSTM, ``c`` to start
    from (None: zeros).
    """
    mode = rnn.spec.mode
    if mode not in ONNX_OPS:
        raise ConfigError(f"cell: expected lstm, gru or rnn (tanh) for export, got {rnn.cell!r}")
    check_exportable_cells(rnn, prefix)
    op_type, order = ONNX_OPS[mode]
    sequence_lens = "" if lengths is None else builder.op1("Cast", lengths, to=TensorProto.INT32)
    sequence = builder.op1("Transpose", x, perm=[1, 0, 2])  # (T, B, E): ONNX is time-major
    merge = builder.constant("merge_last_two", np.array([0, 0, -1], np.int64))
    directions = rnn.num_directions
    attributes = {
        "hidden_size": rnn.hidden_size,
        "direction": "bidirectional" if directions == 2 else "forward",
    }
    if op_type == "GRU":
        attributes["linear_before_reset"] = 1
    outputs = 3 if op_type == "LSTM" else 2
    hs: list[str] = []
    cs: list[str] = []
    for layer in range(rnn.num_layers):
        weights = zip("WRB", direction_tensors(rnn, layer, order), strict=True)
        inputs = [builder.constant(f"{prefix}.l{layer}.{kind}", value) for kind, value in weights]
        if initial is not None:
            rows = (layer * directions, (layer + 1) * directions)
            states = [layer_rows(builder, state, *rows) for state in initial if state is not None]
            inputs += [sequence_lens, *states]
        elif sequence_lens:
            inputs.append(sequence_lens)
        y, *final = builder.op(op_type, sequence, *inputs, outputs=outputs, **attributes)
        # y: (T, D, B, H); final h and (LSTM) c: (D, B, H)
        hs.append(final[0])
        cs.extend(final[1:])
        y = builder.op1("Transpose", y, perm=[0, 2, 1, 3])  # (T, B, D, H)
        sequence = builder.op1("Reshape", y, merge)  # (T, B, D*H)
    return RecurrentLayers(sequence, hs, cs)


def check_exportable_cells(rnn: nn.Module, prefix: str) -> None:
    """ONNX's recurrent operators compute the plain cells only: a layer-normalised LSTM, or
    zoneout's evaluation-time average of old and new states, is an `ExportError`."""
    if rnn.layer_norm:
        raise ExportError(
            f"{prefix}: layer_norm=True (--layer-norm) has no ONNX recurrent operator; "
            "export a model trained without it"
        )
    if rnn.regularisation.zoneout > 0:
        raise ExportError(
            f"{prefix}: zoneout={rnn.regularisation.zoneout} (--zoneout) averages old and new "
            "states at inference, which no ONNX recurrent operator computes; export a model "
            "trained without it"
        )


def layer_rows(builder: GraphBuilder, state: str, start: int, end: int) -> str:
    """Rows ``start:end`` of a stacked state ``(L*D, B, H)``: one layer's ``(D, B, H)``."""
    return builder.op1(
        "Slice",
        state,
        builder.constant(f"row_{start}", np.array([start], np.int64)),
        builder.constant(f"row_{end}", np.array([end], np.int64)),
        builder.axis(0),
    )


def direction_tensors(
    rnn: nn.Module, layer: int, order: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ONNX's ``W (D, G*H, I)``, ``R (D, G*H, H)`` and ``B (D, 2*G*H)`` for one layer, gate
    blocks taken in ``order``."""
    hidden = rnn.hidden_size

    def reorder(tensor: torch.Tensor) -> np.ndarray:
        blocks = to_numpy(tensor).reshape(len(order), hidden, *tensor.shape[1:])
        return np.concatenate([blocks[gate] for gate in order])

    ws, rs, bs = [], [], []
    for direction in range(rnn.num_directions):
        weight_ih, weight_hh, bias_ih, bias_hh = rnn.direction_weights(layer, direction)
        ws.append(reorder(weight_ih))
        rs.append(reorder(weight_hh))
        gates = weight_ih.size(0)
        zeros = torch.zeros(gates)
        biases = [zeros if bias is None else bias for bias in (bias_ih, bias_hh)]
        bs.append(np.concatenate([reorder(bias) for bias in biases]))
    return np.stack(ws), np.stack(rs), np.stack(bs)


def final_features(builder: GraphBuilder, final_h: str) -> str:
    """``h (D, B, H)`` → ``(B, D*H)``, directions concatenated (as the encoder's
    ``final_features``)."""
    batch_major = builder.op1("Transpose", final_h, perm=[1, 0, 2])  # (B, D, H)
    shape = builder.constant("flatten_shape", np.array([0, -1], np.int64))
    return builder.op1("Reshape", batch_major, shape)


def char_features(builder: GraphBuilder, module: nn.Module) -> str:
    """`rnnkit.models.char_features.CharFeatures` over the inputs ``char_ids (B, T, W)`` and
    ``char_lengths (B, T)``: ``(B, T, 2*H)``, zero for words of length 0.

    Every word runs through the character Bi-LSTM; a padding word (length 0) runs with length
    1 and its features are then zeroed, which PyTorch gets by skipping it.
    """
    char_ids = builder.add_input("char_ids", ["batch", "time", "word"])
    char_lengths = builder.add_input("char_lengths", ["batch", "time"])
    words = builder.op1("Flatten", char_ids, axis=2)  # (N, W), N = B*T
    flat = builder.constant("flat", np.array([-1], np.int64))
    lengths = builder.op1("Reshape", char_lengths, flat)  # (N,)
    one = builder.constant("one_vector", np.array([1], np.int64))
    embedded = builder.embedding(words, module.embedding, "chars.embedding")  # (N, W, E)
    layers = recurrent_layers(
        builder, embedded, builder.op1("Max", lengths, one), module.rnn, "chars.rnn"
    )
    features = final_features(builder, layers.h[-1])  # (N, 2*H)
    has_chars = builder.op1("Cast", builder.op1("Greater", lengths, builder.constant(
        "zero_vector", np.array([0], np.int64))), to=TensorProto.FLOAT)  # fmt: skip
    features = builder.op1("Mul", features, builder.op1("Unsqueeze", has_chars, builder.axis(1)))
    shape = builder.op1("Concat", builder.op1("Shape", char_lengths), builder.constant(
        "minus_one_vector", np.array([-1], np.int64)), axis=0)  # fmt: skip
    return builder.op1("Reshape", features, shape)  # (B, T, 2*H)


def pooling(
    builder: GraphBuilder,
    kind: str,
    module: nn.Module,
    outputs: str,
    lengths: str,
    final_h: str,
) -> tuple[str, str | None]:
    """The classifier's pooling (``rnnkit.models.pooling``): pooled ``(B, F)`` (``(B, 3*F)``
    for concat) and, for attention, its weights ``(B, T)``."""
    if kind == "concat":
        parts = [pooling(builder, part, module, outputs, lengths, final_h)[0] for part in (
            "last", "max", "mean")]  # fmt: skip
        return builder.op1("Concat", *parts, axis=1), None
    if kind == "last":
        return final_features(builder, final_h), None
    mask = builder.valid_mask(lengths, outputs)  # (B, T)
    mask_3d = builder.op1("Unsqueeze", mask, builder.axis(2))  # (B, T, 1)
    minus_inf = builder.constant("minus_inf", np.array(-np.inf, np.float32))
    if kind == "mean":  # outputs are zero past each length already
        total = builder.op1("ReduceSum", outputs, builder.axis(1), keepdims=0)  # (B, F)
        count = builder.op1("Cast", lengths, to=TensorProto.FLOAT)
        return builder.op1("Div", total, builder.op1("Unsqueeze", count, builder.axis(1))), None
    if kind == "max":
        masked = builder.op1("Where", mask_3d, outputs, minus_inf)
        return builder.op1("ReduceMax", masked, axes=[1], keepdims=0), None
    if kind == "attention":
        hidden = builder.op1("Tanh", builder.linear(outputs, module.projection, "pool.projection"))
        scores = builder.linear(hidden, module.score, "pool.score")  # (B, T, 1)
        scores = builder.op1("Squeeze", scores, builder.axis(2))  # (B, T)
        weights = builder.op1("Softmax", builder.op1("Where", mask, scores, minus_inf), axis=-1)
        context = builder.op1("MatMul", builder.op1("Unsqueeze", weights, builder.axis(1)), outputs)
        return builder.op1("Squeeze", context, builder.axis(1)), weights
    raise ConfigError(f"pooling: expected one of last, mean, max, attention, concat, got {kind!r}")
