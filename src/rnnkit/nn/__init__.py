"""The recurrent core: cells (one step) and layers (sequences), on a loop or a fused backend."""

from rnnkit.nn.cells import GRUCell, LSTMCell, RecurrentCell, RNNCell, get_cell_spec
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
    "RNNCell",
    "RNNState",
    "RecurrentCell",
    "RecurrentLayer",
    "StepRecord",
    "get_cell_spec",
    "get_layer_class",
    "record_steps",
]
