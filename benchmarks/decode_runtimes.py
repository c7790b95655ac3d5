"""Decoding over ONNX Runtime vs eager PyTorch for a trained translator and language model.

Exports a copy of each model directory (`rnnkit export`), then decodes the same inputs with
both runtimes, interleaved round by round: a translator translates the first ``--sentences``
dev sentences (greedy and beam 5, in the predictor's batches); a language model generates
``--texts`` texts (greedy and beam 5, one condition). Reports the median seconds per round,
the ONNX/torch ratio, and whether both runtimes produced the same outputs.

    OMP_NUM_THREADS=1 python benchmarks/decode_runtimes.py \
        --translator results/translate-runs/cmn-eng-bilstm-dot-e6 \
        --dev ../../shared/data/cmn-eng/dev.txt \
        --generator results/generate-runs/names-lstm --condition Russian
    # --results-dir DIR writes the JSON record elsewhere (a trial run)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import rnnkit
from record import add_results_dir, write_json
from rnnkit.export import export_onnx
from rnnkit.tasks.translation import read_pairs
from timing import interleaved_medians


def exported_copy(directory: Path, workdir: Path) -> Path:
    copy = shutil.copytree(directory, workdir / directory.name)
    export_onnx(copy)
    return copy


def compare(calls: dict[str, dict], rounds: int) -> dict:
    """``calls[name] = {"torch": f, "onnx": g}``: medians, ratio and whether outputs agree."""
    rows = {}
    for name, pair in calls.items():
        same = pair["torch"]() == pair["onnx"]()
        medians = interleaved_medians(pair, rounds, warm_up_seconds=0.0)
        rows[name] = {
            "torch_s": round(medians["torch"], 4),
            "onnx_s": round(medians["onnx"], 4),
            "onnx_over_torch": round(medians["onnx"] / medians["torch"], 3),
            "same_outputs": same,
        }
    return rows


def translator_calls(directory: Path, dev: str, sentences: int) -> dict[str, dict]:
    predictors = {runtime: rnnkit.load(directory, runtime=runtime) for runtime in ("torch", "onnx")}
    data = predictors["torch"].data
    texts = [example.source for example in read_pairs(dev, data)[:sentences]]

    def translate(runtime: str, beam: int):
        return lambda: [t.best for t in predictors[runtime].translate(texts, beam=beam)]

    return {
        f"translate {len(texts)} sentences, beam {beam}": {
            runtime: translate(runtime, beam) for runtime in predictors
        }
        for beam in (1, 5)
    }


def generator_calls(directory: Path, condition: str | None, texts: int) -> dict[str, dict]:
    predictors = {runtime: rnnkit.load(directory, runtime=runtime) for runtime in ("torch", "onnx")}

    def generate(runtime: str, strategy: str):
        options = {"beam_size": 5} if strategy == "beam" else {}
        n = min(texts, 5) if strategy == "beam" else texts
        return lambda: [
            g.text for g in predictors[runtime].generate(n, condition, strategy=strategy, **options)
        ]

    return {
        f"generate ({strategy})": {runtime: generate(runtime, strategy) for runtime in predictors}
        for strategy in ("greedy", "beam")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--translator", type=Path)
    parser.add_argument("--dev", help="The translator's dev file (or file-pair prefix).")
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--generator", type=Path)
    parser.add_argument("--condition", default=None)
    parser.add_argument("--texts", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    add_results_dir(parser)
    args = parser.parse_args()
    report = {"command": " ".join(["python", *sys.argv]), "rows": {}}
    with tempfile.TemporaryDirectory() as folder:
        if args.translator is not None:
            copy = exported_copy(args.translator, Path(folder))
            report["rows"] |= compare(translator_calls(copy, args.dev, args.sentences), args.rounds)
        if args.generator is not None:
            copy = exported_copy(args.generator, Path(folder))
            calls = generator_calls(copy, args.condition, args.texts)
            report["rows"] |= compare(calls, args.rounds)
    for name, row in report["rows"].items():
        times = f"torch {row['torch_s']:8.3f} s  onnx {row['onnx_s']:8.3f} s"
        print(f"{name:45s} {times}  ratio {row['onnx_over_torch']:.2f}  "
              f"same outputs: {row['same_outputs']}")  # fmt: skip
    print(f"wrote {write_json('decode_runtimes', report, results=args.results_dir)}")


if __name__ == "__main__":
    main()
