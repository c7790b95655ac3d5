"""int8 against fp32 ONNX: the model call's latency at batch 1 and the task metric's change.

For each model directory: exports it (`rnnkit export`), quantizes it (`rnnkit export --quantize
int8`, i.e. `rnnkit.export.quantize.quantize_int8`) and reads what that measured: the p50 of
the model call (``model.onnx``) at batch 1 on a ``--length``-token input, fp32 and int8 timed
in alternating blocks of 20 calls, and the dev metric of both. By default it trains the two
models of the targets briefly on the data sets in ``$RNNKIT_DATA`` (default
``../shared/data``): an ATIS intent
classifier and a CoNLL-2003 tagger, the tasks' default models; ``--model DIR=DEV`` measures
a trained model directory instead (on a copy).

Targets: int8 p50 <= 0.6x fp32 ONNX; the metric drops by at most 0.5 point.

    python benchmarks/quantize.py                   # train both briefly, time on 1 thread
    python benchmarks/quantize.py --model runs/intent=../shared/data/atis/valid
    python benchmarks/quantize.py --atis-epochs 1 --conll-epochs 1 --rounds 20 \
        --results-dir /tmp/quantize-trial          # a trial run, the record left alone
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import shutil
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

import rnnkit
from paths import SHARED_DATA
from record import add_results_dir, write_json
from rnnkit.export import export_onnx
from rnnkit.export.quantize import TASK_METRICS, QuantizeSettings, quantize_int8
from rnnkit.tasks.classification import ClassifyConfig, train_classifier
from rnnkit.tasks.tagging_train import TagConfig, TagDataSettings, train_tagger

TARGET_RATIO, TARGET_DROP = 0.6, 0.5


def train_atis(epochs: int, runs: Path) -> tuple[Path, str]:
    """The default classifier on ATIS intents without character features (the model this
    table was measured on, before they became the default), ``epochs`` epochs, in ``runs``."""
    config = ClassifyConfig()
    config = dataclasses.replace(
        config, model=dataclasses.replace(config.model, char_features=False)
    )
    dev = str(SHARED_DATA / "atis" / "valid")
    data = dataclasses.replace(config.data, train=str(SHARED_DATA / "atis" / "train"), dev=dev)
    trainer = dataclasses.replace(config.trainer, epochs=epochs)
    out = runs / "atis-intent"
    train_classifier(dataclasses.replace(config, data=data, trainer=trainer), out, progress=False)
    return out, dev


def train_conll(epochs: int, runs: Path) -> tuple[Path, str]:
    """The default tagger on CoNLL-2003 English NER, ``epochs`` epochs, in ``runs``."""
    config = TagConfig()
    dev = str(SHARED_DATA / "conll2003" / "dev.bio.tsv")
    data = TagDataSettings(train=str(SHARED_DATA / "conll2003" / "train.bio.tsv"), dev=dev)
    trainer = dataclasses.replace(config.trainer, epochs=epochs)
    out = runs / "conll-ner"
    train_tagger(dataclasses.replace(config, data=data, trainer=trainer), out, progress=False)
    return out, dev


def measure(name: str, directory: Path, dev: str, settings: QuantizeSettings, runs: Path) -> dict:
    """Exports and quantizes a copy of ``directory`` (made in ``runs``); the row of the table."""
    copy = runs / f"{name}-measured"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(directory, copy)
    export_onnx(copy)
    report = quantize_int8(copy, dev, settings)
    metric = TASK_METRICS[report.task]
    drop = max(report.drop.values())
    return {
        "model": name,
        "task": report.task,
        "source": str(directory),
        "dev": dev,
        "fp32_p50_ms": report.latency["model"].fp32_ms,
        "int8_p50_ms": report.latency["model"].int8_ms,
        "ratio": report.latency_ratio,
        "metric_keys": list(metric.keys),
        "metric_fp32": report.metric_fp32,
        "metric_int8": report.metric_int8,
        "drop_points": report.drop,
        "float_recurrent_nodes": report.float_recurrent_nodes,
        "float_matmul_nodes": report.float_matmul_nodes,
        "ratio_met": report.latency_ratio <= TARGET_RATIO,
        "drop_met": drop <= TARGET_DROP,
    }


def show(rows: list[dict], settings: QuantizeSettings) -> None:
    table = Table(
        title=f"int8 vs fp32 ONNX: model call at batch 1 ({settings.length} tokens, "
        f"p50 of {settings.rounds}), dev metric"
    )
    columns = ("model", "fp32 ms", "int8 ms", "int8/fp32", "metric", "fp32", "int8", "drop")
    for column in columns:
        table.add_column(column, justify="left" if column in ("model", "metric") else "right")
    for row in rows:
        for index, key in enumerate(row["metric_keys"]):
            scale = 100 if TASK_METRICS[row["task"]].points == 100 else 1
            timing = (
                [f"{row['fp32_p50_ms']:.3f}", f"{row['int8_p50_ms']:.3f}", f"{row['ratio']:.2f}x"]
                if index == 0
                else ["", "", ""]
            )
            table.add_row(
                row["model"] if index == 0 else "", *timing, key,
                f"{scale * row['metric_fp32'][key]:.2f}", f"{scale * row['metric_int8'][key]:.2f}",
                f"{row['drop_points'][key]:+.2f}",
            )  # fmt: skip
    Console(width=140).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", action="append", default=[], help="DIR=DEV: a trained model and its dev data"
    )
    parser.add_argument("--atis-epochs", type=int, default=3, help="brief ATIS training")
    parser.add_argument("--conll-epochs", type=int, default=1, help="brief CoNLL training")
    parser.add_argument("--length", type=int, default=12, help="tokens in the timed input")
    parser.add_argument("--rounds", type=int, default=500, help="timed calls per precision")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads while timing (serving: 1 per worker)"
    )
    parser.add_argument("--name", default="quantize", help="results/<name>.json")
    add_results_dir(parser)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # Measure, never refuse (no accuracy or F1 drops 100 points): the table reports a drop over
    # the target as missed.
    settings = QuantizeSettings(max_drop=100.0, length=arguments.length,
                                rounds=arguments.rounds)  # fmt: skip
    runs = arguments.results_dir / "quantize-runs"
    models: dict[str, tuple[Path, str]] = {}
    for given in arguments.model:
        directory, _, dev = given.partition("=")
        models[Path(directory).name] = (Path(directory), dev)
    if not models:
        started = time.perf_counter()
        models["atis-intent"] = train_atis(arguments.atis_epochs, runs)
        models["conll-ner"] = train_conll(arguments.conll_epochs, runs)
        print(f"trained both in {time.perf_counter() - started:.0f} s")
    torch.set_num_threads(arguments.threads)  # ONNX Runtime sessions take torch's count
    rows = [measure(name, *source, settings, runs) for name, source in models.items()]
    show(rows, settings)
    path = write_json(arguments.name, {
        "torch": torch.__version__, "rnnkit": rnnkit.__version__,
        "threads": torch.get_num_threads(), "settings": dataclasses.asdict(settings),
        "epochs": {"atis": arguments.atis_epochs, "conll": arguments.conll_epochs},
        "targets": {"ratio": TARGET_RATIO, "drop_points": TARGET_DROP}, "rows": rows,
    }, key=("model",), results=arguments.results_dir)  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
