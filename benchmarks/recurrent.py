"""Speed of the recurrent layers: rnnkit fused, rnnkit loop and raw torch.nn, side by side.

Training step (forward + backward) and inference throughput in tokens/s for LSTM, GRU and
RNN at B=64, T=50, E=128, H=256, uni- and bidirectional, with uniform lengths and with
lengths uniform in [5, 50]. For variable lengths torch.nn gets ``pack_padded_sequence``,
the standard way to make it respect lengths; rnnkit gets the padded batch plus ``lengths``.

    python benchmarks/recurrent.py            # full table, writes benchmarks/results/recurrent.json
    python benchmarks/recurrent.py --quick    # fewer rounds
"""

from __future__ import annotations

import argparse
import itertools
import platform
from dataclasses import asdict, dataclass

import torch
from rich.console import Console
from rich.table import Table
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnkit
from record import write_json
from rnnkit.nn import get_layer_class
from timing import gemm_peak_gflops, interleaved_medians

BATCH, TIME, EMBEDDING, HIDDEN = 64, 50, 128, 256
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
TORCH_LAYERS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


@dataclass
class Row:
    cell: str
    bidirectional: bool
    lengths: str  # "uniform" or "variable"
    mode: str  # "train" or "infer"
    implementation: str  # "rnnkit-fused", "rnnkit-loop", "torch.nn" (+pack for variable)
    milliseconds: float
    tokens_per_second: float
    ratio_to_torch: float  # this time / torch.nn's time in the same run
    gflops: float  # useful matrix-multiply FLOPs (valid tokens only) / time
    percent_of_peak: float = 0.0  # gflops / the measured fp32 GEMM peak


def useful_flops(cell: str, bidirectional: bool, tokens: int, mode: str) -> float:
    """Matrix-multiply FLOPs on valid tokens; training counts backward as twice forward."""
    forward = 2 * tokens * (EMBEDDING + HIDDEN) * GATES[cell] * HIDDEN * (2 if bidirectional else 1)
    return forward * (3 if mode == "train" else 1)


def build(cell: str, bidirectional: bool):
    torch.manual_seed(0)
    fused = get_layer_class(cell)(EMBEDDING, HIDDEN, bidirectional=bidirectional, backend="fused")
    loop = get_layer_class(cell)(EMBEDDING, HIDDEN, bidirectional=bidirectional, backend="loop")
    loop.load_state_dict(fused.state_dict())
    reference = TORCH_LAYERS[cell](EMBEDDING, HIDDEN, bidirectional=bidirectional, batch_first=True)
    reference.load_state_dict(fused.state_dict())
    return fused, loop, reference


def torch_forward(reference, x, lengths):
    if lengths is None:
        return reference(x)[0]
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    return pad_packed_sequence(reference(packed)[0], batch_first=True, total_length=x.size(1))[0]


def check_training_route(cell, fused, reference, forwards) -> None:
    """Fails unless rnnkit's fused layer and torch.nn agree, with gradients enabled, on the
    outputs and on every weight's gradient: the route the training rows time (with lengths,
    the LSTM holds its gates on padding), not the packed route taken under ``no_grad``."""
    found, expected = forwards["rnnkit-fused"](), forwards["torch.nn"]()
    difference = (found - expected).abs().max().item()
    (found.sum() + expected.sum()).backward()
    gradients = dict(reference.named_parameters())
    grad_difference = max(  # relative to the largest entry: these sums run over B*T outputs
        (
            (parameter.grad - gradients[name].grad).abs().max() / gradients[name].grad.abs().max()
        ).item()
        for name, parameter in fused.named_parameters()
    )
    fused.zero_grad(set_to_none=True)
    reference.zero_grad(set_to_none=True)
    assert difference < 1e-4, f"{cell}: fused and torch.nn outputs differ by {difference}"
    assert grad_difference < 1e-4, (
        f"{cell}: weight gradients differ by {grad_difference} (relative)"
    )


def step_functions(cell, bidirectional, x, lengths):
    fused, loop, reference = build(cell, bidirectional)
    forwards = {
        "rnnkit-fused": lambda: fused(x, lengths=lengths)[0],
        "rnnkit-loop": lambda: loop(x, lengths=lengths)[0],
        "torch.nn": lambda: torch_forward(reference, x, lengths),
    }
    if lengths is not None:  # same valid outputs and gradients, or the timing means nothing
        check_training_route(cell, fused, reference, forwards)
    modules = (fused, loop, reference)

    def train(forward):
        def run():
            for module in modules:
                module.zero_grad(set_to_none=True)
            forward().sum().backward()

        return run

    def infer(forward):
        def run():
            with torch.inference_mode():
                forward()

        return run

    return {
        "train": {name: train(forward) for name, forward in forwards.items()},
        "infer": {name: infer(forward) for name, forward in forwards.items()},
    }


def run(rounds: int) -> tuple[list[Row], float]:
    peak = gemm_peak_gflops()  # measured again at the end; the larger is the peak
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, TIME, EMBEDDING, generator=generator)
    variable = torch.randint(5, TIME + 1, (BATCH,), generator=generator)
    rows = []
    for cell, bidirectional, lengths_name in itertools.product(
        ["lstm", "gru", "rnn"], [False, True], ["uniform", "variable"]
    ):
        lengths = None if lengths_name == "uniform" else variable
        tokens = BATCH * TIME if lengths is None else int(variable.sum())
        for mode, functions in step_functions(cell, bidirectional, x, lengths).items():
            seconds = interleaved_medians(functions, rounds)
            for name, value in seconds.items():
                packed = name == "torch.nn" and lengths is not None
                implementation = name + ("+pack" if packed else "")
                flops = useful_flops(cell, bidirectional, tokens, mode)
                rows.append(
                    Row(
                        cell,
                        bidirectional,
                        lengths_name,
                        mode,
                        implementation,
                        milliseconds=value * 1e3,
                        tokens_per_second=tokens / value,
                        ratio_to_torch=value / seconds["torch.nn"],
                        gflops=flops / value / 1e9,
                    )
                )
    peak = max(peak, gemm_peak_gflops())
    for row in rows:
        row.percent_of_peak = 100 * row.gflops / peak
    return rows, peak


def show(rows: list[Row], peak: float) -> None:
    title = f"Recurrent layers, B={BATCH} T={TIME} E={EMBEDDING} H={HIDDEN}"
    table = Table(title=f"{title}; fp32 GEMM peak {peak:.0f} GFLOP/s")
    for column in ("cell", "dir", "lengths", "mode", "implementation"):
        table.add_column(column)
    for column in ("ms", "tokens/s", "/ torch.nn", "% peak"):
        table.add_column(column, justify="right")
    for row in rows:
        direction = "bi" if row.bidirectional else "uni"
        table.add_row(
            *(row.cell, direction, row.lengths, row.mode, row.implementation),
            *(f"{row.milliseconds:.1f}", f"{row.tokens_per_second:,.0f}"),
            *(f"{row.ratio_to_torch:.2f}", f"{row.percent_of_peak:.0f}"),
        )
    Console(width=120).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="5 rounds instead of 15")
    arguments = parser.parse_args()
    rows, peak = run(rounds=5 if arguments.quick else 15)
    show(rows, peak)
    path = write_json(
        "recurrent",
        {
            "shape": {"batch": BATCH, "time": TIME, "embedding": EMBEDDING, "hidden": HIDDEN},
            "gemm_peak_gflops": peak,
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "rnnkit": rnnkit.__version__,
            "machine": platform.processor() or platform.machine(),
            "rows": [asdict(row) for row in rows],
        },
        key=("cell", "bidirectional", "lengths", "mode", "implementation"),
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
