"""The recurrent core: cells (one step) and layers (sequences), on a loop or a fused backend."""

from rnnkit.nn.cells import GRUCell, LSTMCell, RecurrentCell, RNNCell, get_cell_spec
from rnnkit.nn.dropout import LockedDropout, Regularisation
from rnnkit.nn.fast_path import describe_fast_path
from rnnkit.nn.layer_norm import LayerNormGRUCell, LayerNormLSTMCell
from rnnkit.nn.layers import (
    GRU,
    LSTM,
    RNN,
    RecurrentLayer,
    StepRecord,
    get_layer_class,
    record_steps,
)
from rnnkit.nn.state import RNNState

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "GRUCell",
    "LSTMCell",
    "LayerNormGRUCell",
    "LayerNormLSTMCell",
    "LockedDropout",
    "RNNCell",
    "RNNState",
    "RecurrentCell",
    "RecurrentLayer",
    "Regularisation",
    "StepRecord",
    "describe_fast_path",
    "get_cell_spec",
    "get_layer_class",
    "record_steps",
]
