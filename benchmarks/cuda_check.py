"""The recurrent layers on a CUDA GPU (cuDNN): parity with torch.nn and training-step speed.

For every cell x {uni, bi} x {1, 2 layers}, with variable lengths, both routes of the fused
backend (training: padded + holding gates; inference: packed) and the loop backend are
compared on the GPU with ``torch.nn`` run on each sequence alone (outputs, final states and
parameter gradients). Then a training step at B=64, T=50, E=128, H=256 with lengths in
[5, 50] is timed for rnnkit fused against ``torch.nn`` + ``pack_padded_sequence``.

    PYTHONPATH=src python benchmarks/cuda_check.py     # needs a CUDA device; writes JSON
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit.nn import get_layer_class

TORCH_LAYERS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


def twin(layer, kind):
    module = TORCH_LAYERS[kind](
        layer.input_size, layer.hidden_size, num_layers=layer.num_layers,
        bidirectional=layer.bidirectional, batch_first=True,
    ).to(layer.weight_ih_l0.device)  # fmt: skip
    module.load_state_dict(layer.state_dict())
    return module


def reference(module, x, lengths):
    outputs, hs = [], []
    for b in range(x.size(0)):
        out, state = module(x[b : b + 1, : int(lengths[b])])
        outputs.append(torch.nn.functional.pad(out, (0, 0, 0, x.size(1) - out.size(1))))
        hs.append(state[0] if isinstance(state, tuple) else state)
    return torch.cat(outputs), torch.cat(hs, dim=1)


def parity(device) -> list[dict]:
    rows = []
    for kind, bidirectional, layers, backend in itertools.product(
        ["rnn", "lstm", "gru"], [False, True], [1, 2], ["fused", "loop"]
    ):
        torch.manual_seed(0)
        layer = get_layer_class(kind)(
            8, 16, num_layers=layers, bidirectional=bidirectional, backend=backend
        ).to(device)
        module = twin(layer, kind)
        x = torch.randn(6, 11, 8, device=device)
        lengths = torch.tensor([11, 3, 1, 7, 11, 5])
        out, state = layer(x, lengths=lengths)
        ref_out, ref_h = reference(module, x, lengths)
        (out.sum() + state.h.sum()).backward()
        (ref_out.sum() + ref_h.sum()).backward()
        grads = dict(module.named_parameters())
        grad_error = max(
            (p.grad - grads[n].grad).abs().max().item() for n, p in layer.named_parameters()
        )
        with torch.no_grad():
            packed_out, packed_state = layer(x, lengths=lengths)
        rows.append({
            "cell": kind, "bidirectional": bidirectional, "layers": layers, "backend": backend,
            "train_output_error": (out - ref_out).abs().max().item(),
            "train_state_error": (state.h - ref_h).abs().max().item(),
            "gradient_error": grad_error,
            "inference_output_error": (packed_out - ref_out).abs().max().item(),
            "inference_state_error": (packed_state.h - ref_h).abs().max().item(),
        })  # fmt: skip
    return rows


def timing(device) -> list[dict]:
    rows = []
    x = torch.randn(64, 50, 128, device=device)
    lengths = torch.randint(5, 51, (64,), generator=torch.Generator().manual_seed(0))
    for kind, bidirectional in itertools.product(["lstm", "gru", "rnn"], [False, True]):
        torch.manual_seed(0)
        layer = get_layer_class(kind)(128, 256, bidirectional=bidirectional).to(device)
        module = twin(layer, kind)

        def ours(layer=layer):
            layer(x, lengths=lengths)[0].sum().backward()

        def theirs(module=module):
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            pad_packed_sequence(module(packed)[0], batch_first=True)[0].sum().backward()

        times = {}
        for name, step in (("rnnkit-fused", ours), ("torch.nn+pack", theirs)):
            for _ in range(5):
                step()
            torch.cuda.synchronize()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(50):
                step()
            end.record()
            torch.cuda.synchronize()
            times[name] = start.elapsed_time(end) / 50
        milliseconds = {f"{name}_ms": value for name, value in times.items()}
        speedup = times["torch.nn+pack"] / times["rnnkit-fused"]
        rows.append(
            {"cell": kind, "bidirectional": bidirectional, **milliseconds, "speedup": speedup}
        )
    return rows


def main() -> None:
    if not torch.cuda.is_available():
        sys.exit("cuda_check: no CUDA device")
    device = torch.device("cuda")
    # Parity is checked in true fp32: cuDNN's RNNs use TF32 by default on Ampere and newer,
    # which alone moves results by ~1e-3. The timings below keep that default.
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    parity_rows = parity(device)
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    result = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
              "parity": parity_rows, "timing": timing(device)}  # fmt: skip
    worst = {
        key: max(row[key] for row in result["parity"])
        for key in result["parity"][0]
        if key.endswith("error")
    }
    print(
        json.dumps({"device": result["device"], "torch": result["torch"], "worst": worst}, indent=1)
    )
    for row in result["timing"]:
        print(row)
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/results/cuda_check.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
