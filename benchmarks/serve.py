"""Serving a Bi-LSTM intent classifier: single-sentence latency and an HTTP load test.

1. Latency in one process: ONNX Runtime vs eager torch on one sentence at a time (the model
   call alone, and the whole ``predict``), interleaved so both see the same machine noise.
2. Load: ``rnnkit serve`` on 127.0.0.1 in its own process, per runtime; a client process
   sends a bounded number of ``POST /predict`` requests at each concurrency over keep-alive
   connections and reports throughput, p50/p99 latency and errors; then malformed and
   oversize requests, which must all be rejected with the right status while the worker
   keeps answering.

The model is a Bi-LSTM (E=128, H=256) trained briefly on ATIS (``--model-dir`` reuses a
trained classifier directory instead; it is copied, never written to). The copy is exported
to ONNX; with ``onnx-int8`` among ``--runtimes`` it is also quantized, as ``rnnkit export DIR
--quantize int8 --data ATIS/valid`` does, and the record keeps its ``quantization.json``.

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/serve.py
    OMP_NUM_THREADS=1 python benchmarks/serve.py --requests 2000 --concurrency 1,8  # quick
    python benchmarks/serve.py --runtimes onnx,onnx-int8 --concurrency 32 --workers 2 \
        --results-dir /tmp/serve-trial                    # a trial run, the record left alone
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paths import SHARED_DATA
from record import add_results_dir, write_json

RUNTIMES = ("onnx", "onnx-int8", "torch")  # rnnkit serve --runtime
TARGETS = {"latency_ratio": 0.4, "throughput_at_32": 1000.0, "p99_ms_at_32": 50.0}


# The load-generating client (runs in its own process: --client) -----------------------------


def http_request(path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def run_load(port: int, bodies: list[bytes], requests: int, concurrency: int) -> dict:
    """``requests`` POSTs over ``concurrency`` keep-alive connections; latencies in ms."""
    counter = itertools.count()
    latencies: list[float] = []
    errors = {"status": 0, "exception": 0}

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (index := next(counter)) < requests:
            start = time.perf_counter()
            try:
                writer.write(http_request("/predict", bodies[index % len(bodies)]))
                status, _ = await read_response(reader)
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                errors["exception"] += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            latencies.append((time.perf_counter() - start) * 1000)
            errors["status"] += status != 200
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "concurrency": concurrency,
        "requests": requests,
        "seconds": round(elapsed, 3),
        "throughput": round(requests / elapsed, 1),
        "p50_ms": round(ordered[len(ordered) // 2], 3) if ordered else None,
        "p99_ms": round(ordered[int(len(ordered) * 0.99)], 3) if ordered else None,
        "errors": errors["status"] + errors["exception"],
    }


# Malformed and oversize requests: (what, body bytes, expected status).
REJECTIONS = [
    ("malformed JSON", b'{"text": "what time', 422),
    ("both text and texts", b'{"text": "a", "texts": ["b"]}', 422),
    ("no text", b"{}", 422),
    ("text is a number", b'{"text": 3}', 422),
    ("unknown field", b'{"text": "a", "lang": "en"}', 422),
    ("text without tokens", b'{"text": "   "}', 422),
    ("text over max_text_length", json.dumps({"text": "a " * 600}).encode(), 413),
    ("more texts than max_batch_size", json.dumps({"texts": ["hi"] * 65}).encode(), 413),
    ("body over the byte limit", b'{"text": "' + b"a" * 500_000 + b'"}', 413),
]


async def run_rejections(port: int, rounds: int = 20) -> dict:
    """Sends every kind of bad request ``rounds`` times; counts wrong answers, then checks
    that a good request is still answered."""
    wrong: dict[str, int] = {}
    for _ in range(rounds):
        for what, body, expected in REJECTIONS:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(http_request("/predict", body))
            status, payload = await read_response(reader)
            writer.close()
            if status != expected or "detail" not in json.loads(payload):
                wrong[what] = wrong.get(what, 0) + 1
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(http_request("/predict", b'{"text": "what time is it"}'))
    alive = (await read_response(reader))[0] == 200
    writer.close()
    return {"sent": rounds * len(REJECTIONS), "wrongly_answered": wrong, "alive_after": alive}


def client_main(port: int, sentences_file: Path, requests: int, level: int | None) -> None:
    """Prints one JSON result: the load test at ``level``, or the rejections (level None)."""
    if level is None:
        print(json.dumps(asyncio.run(run_rejections(port))))
        return
    sentences = sentences_file.read_text(encoding="utf-8").splitlines()
    bodies = [json.dumps({"text": text}).encode() for text in sentences]
    print(json.dumps(asyncio.run(run_load(port, bodies, requests, level))))


# The orchestrator -------------------------------------------------------------------------


def prepare_model(args: argparse.Namespace, workdir: Path) -> Path:
    """A Bi-LSTM classifier directory in ``workdir``, exported to ONNX."""
    from rnnkit.export import export_onnx

    out = workdir / "model"
    if args.model_dir:
        shutil.copytree(args.model_dir, out, ignore=shutil.ignore_patterns("checkpoints"))
    else:
        train_atis(out, args.epochs)
    result = export_onnx(out)
    print(f"exported {result.path} (max |ONNX - torch| {result.max_abs_difference:.2e})")
    return out


def quantize_model(model_dir: Path, max_drop: float) -> dict:
    """``rnnkit export --quantize int8 --max-drop``, scored on the ATIS validation split when
    present (refused, as the command refuses it, when accuracy drops by more than
    ``max_drop`` points)."""
    from rnnkit.export.quantize import REPORT_FILE, QuantizeSettings, quantize_int8

    valid = SHARED_DATA / "atis" / "valid"
    data = str(valid) if valid.is_dir() else None
    report = quantize_int8(model_dir, data, QuantizeSettings(max_drop=max_drop))
    print(f"quantized: int8/fp32 model p50 {report.latency_ratio:.2f}x, drop {report.drop}")
    return json.loads((model_dir / REPORT_FILE).read_text(encoding="utf-8"))


def train_atis(out: Path, epochs: int) -> None:
    from rnnkit.models import ClassifierConfig
    from rnnkit.tasks.classification import ClassifyConfig, train_classifier
    from rnnkit.tasks.common import DataSettings
    from rnnkit.training import TrainerConfig

    atis = SHARED_DATA / "atis"
    if not atis.is_dir():
        sys.exit(f"ATIS not found at {atis}; pass --model-dir with a trained classifier")
    config = ClassifyConfig(
        data=DataSettings(train=str(atis / "train"), dev=str(atis / "valid"),
                          tokenizer="whitespace"),
        model=ClassifierConfig(embedding_dim=128, hidden_size=256, cell="lstm",
                               bidirectional=True),
        trainer=TrainerConfig(epochs=epochs, lr=2e-3, monitor="accuracy", mode="max"),
    )  # fmt: skip
    print(f"training a Bi-LSTM on ATIS for {epochs} epochs ...")
    train_classifier(config, out, progress=False)


def benchmark_sentences(model_dir: Path) -> list[str]:
    valid = SHARED_DATA / "atis" / "valid" / "seq.in"
    if valid.is_file():
        return valid.read_text(encoding="utf-8").splitlines()
    from rnnkit.tasks.demo import demo_data

    return [line.split("\t")[0] for line in demo_data()[1].read_text().splitlines()[1:]]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def single_sentence_latency(model_dir: Path, sentences: list[str], rounds: int) -> dict:
    """p50/p99 (ms) of one sentence at a time: the model call and the whole ``predict``,
    ONNX Runtime and eager torch interleaved call by call."""
    import torch

    import rnnkit
    from rnnkit.data.batching import pad_words

    predictors = {"torch": rnnkit.load(model_dir), "onnx": rnnkit.load(model_dir, "onnx")}
    encoded = [pad_words(predictors["torch"].encode([text]), 0) for text in sentences]
    calls = {}
    for runtime, predictor in predictors.items():
        calls[f"{runtime} model"] = lambda i, p=predictor: p.model(encoded[i % len(encoded)])
        calls[f"{runtime} predict"] = lambda i, p=predictor: p.predict(
            [sentences[i % len(sentences)]]
        )
    samples: dict[str, list[float]] = {name: [] for name in calls}
    with torch.no_grad():
        for index in range(rounds + 200):  # the first 200 rounds warm up
            for name, call in calls.items():
                start = time.perf_counter()
                call(index)
                if index >= 200:
                    samples[name].append((time.perf_counter() - start) * 1000)
    result = {
        name: {"p50_ms": round(statistics.median(values), 4),
               "p99_ms": round(percentile(values, 0.99), 4)}
        for name, values in samples.items()
    }  # fmt: skip
    for part in ("model", "predict"):
        ratio = result[f"onnx {part}"]["p50_ms"] / result[f"torch {part}"]["p50_ms"]
        result[f"onnx/torch {part} p50"] = round(ratio, 3)
    return result


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU time of process ``pid`` and of each of its live descendants, e.g.
    the worker processes of ``--workers N``, by process id (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    found = {pid: (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found.update(process_cpu_seconds(int(child)))
    return found


def cpu_seconds(pid: int) -> float:
    """The CPU time of process ``pid`` and its live descendants together."""
    return sum(process_cpu_seconds(pid).values())


def load_test(model_dir: Path, runtime: str, args: argparse.Namespace, sentences: Path) -> dict:
    """Starts ``rnnkit serve`` for ``runtime``; runs a client process per concurrency level
    against it, recording the server's CPU time per request (robust to a busy machine)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "rnnkit", "serve", str(model_dir), "--runtime", runtime,
         "--port", str(port), "--workers", str(args.workers)],
        env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")},
    )  # fmt: skip
    try:
        wait_for_health(server, port)
        wait_until_settled(server.pid)
        rows = []
        for level in [int(level) for level in args.concurrency.split(",")]:
            before = process_cpu_seconds(server.pid)
            row = run_client(port, sentences, args.requests, level)
            spent = [
                seconds - before.get(pid, 0.0)
                for pid, seconds in process_cpu_seconds(server.pid).items()
            ]
            row["server_cpu_ms_per_request"] = round(sum(spent) * 1000 / args.requests, 3)
            # how the work fell on the server's processes (with --workers N: is it shared?)
            row["process_cpu_seconds"] = sorted((round(value, 2) for value in spent), reverse=True)
            rows.append(row)
        return {"load": rows, "rejections": run_client(port, sentences, 0, None)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_for_health(server: subprocess.Popen, port: int) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("rnnkit serve did not start") from None
            time.sleep(0.2)


def wait_until_settled(pid: int, timeout: float = 120.0) -> None:
    """Waits until the server's processes use under 5 % of a CPU over a second, i.e. every
    worker has loaded its model. ``/health`` answers as soon as the first worker is up, and a
    load started then opens every keep-alive connection on that worker, which then serves the
    whole run alone."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - before < 0.05:
            return
        before = now
    raise RuntimeError(f"rnnkit serve still busy {timeout:.0f} s after it first answered")


def run_client(port: int, sentences: Path, requests: int, level: int | None) -> dict:
    """The client in its own process (so it never shares an interpreter with the server)."""
    command = [sys.executable, __file__, "--client", str(port), "--sentences", str(sentences),
               "--requests", str(requests)]  # fmt: skip
    command += ["--concurrency", "none" if level is None else str(level)]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def print_tables(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    latency = Table(title="Single-sentence latency (ms), one process, interleaved")
    for column in ("call", "p50", "p99"):
        latency.add_column(column)
    for name, value in report["latency"].items():
        if isinstance(value, dict):
            latency.add_row(name, f"{value['p50_ms']:.3f}", f"{value['p99_ms']:.3f}")
        else:
            latency.add_row(name, f"{value:.3f}", "")
    console.print(latency)
    console.print(f"fp32 GEMM at {report['threads']} thread(s), GFLOP/s: {report['gemm_gflops']}")
    load = Table(title=f"POST /predict load test ({report['requests']} requests per row, "
                       f"{report.get('workers', 1)} server worker(s))")  # fmt: skip
    columns = ("runtime", "concurrency", "req/s", "p50 ms", "p99 ms", "errors",
               "server CPU ms/req", "CPU s per process")  # fmt: skip
    for column in columns:
        load.add_column(column)
    for runtime, result in report["load"].items():
        for row in result["load"]:
            load.add_row(runtime, str(row["concurrency"]), f"{row['throughput']:.0f}",
                         f"{row['p50_ms']:.2f}", f"{row['p99_ms']:.2f}", str(row["errors"]),
                         f"{row['server_cpu_ms_per_request']:.3f}",
                         " / ".join(map(str, row["process_cpu_seconds"])))  # fmt: skip
    console.print(load)
    for runtime, result in report["load"].items():
        console.print(f"{runtime} rejections: {result['rejections']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, help="A trained classifier (copied).")
    parser.add_argument("--epochs", type=int, default=2, help="ATIS training epochs.")
    parser.add_argument("--requests", type=int, default=20_000, help="Per concurrency level.")
    parser.add_argument("--concurrency", default="1,8,32", help="Comma-separated levels.")
    parser.add_argument(
        "--runtimes", default="onnx,torch", help=f"Comma-separated, of {', '.join(RUNTIMES)}."
    )
    parser.add_argument(
        "--max-drop", type=float, default=0.5, help="onnx-int8: accuracy points it may lose."
    )
    parser.add_argument("--workers", type=int, default=1, help="rnnkit serve --workers.")
    parser.add_argument("--output", help="JSON name (default serve, or serve-workersN).")
    parser.add_argument("--latency-rounds", type=int, default=3000)
    add_results_dir(parser)
    parser.add_argument("--client", type=int, help=argparse.SUPPRESS)  # internal: the port
    parser.add_argument("--sentences", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    unknown = set(args.runtimes.split(",")) - set(RUNTIMES)
    if unknown:
        parser.error(f"--runtimes: expected some of {list(RUNTIMES)}, got {sorted(unknown)}")
    if args.client is not None:
        level = int(args.concurrency) if args.concurrency != "none" else None
        client_main(args.client, args.sentences, args.requests, level)
        return

    from timing import gemm_peak_gflops

    # The machine's state: fp32 GEMM at torch's thread count, before and after (about
    # 129 GFLOP/s with 1 thread on an idle machine of this kind).
    gemm_before = gemm_peak_gflops()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        model_dir = prepare_model(args, workdir)
        int8 = "onnx-int8" in args.runtimes.split(",")
        quantization = quantize_model(model_dir, args.max_drop) if int8 else None
        sentences = benchmark_sentences(model_dir)
        sentences_file = workdir / "sentences.txt"
        sentences_file.write_text("\n".join(sentences), encoding="utf-8")
        report = {
            "command": " ".join(["python", *sys.argv]),
            "threads": os.environ.get("OMP_NUM_THREADS"),
            "requests": args.requests,
            "workers": args.workers,
            "gemm_gflops": {"before": round(gemm_before, 1)},
            "targets": TARGETS,
            "quantization": quantization,
            "latency": single_sentence_latency(model_dir, sentences, args.latency_rounds),
            "load": {
                runtime: load_test(model_dir, runtime, args, sentences_file)
                for runtime in args.runtimes.split(",")
            },
        }
    report["gemm_gflops"]["after"] = round(gemm_peak_gflops(), 1)
    print_tables(report)
    name = args.output or ("serve" if args.workers == 1 else f"serve-workers{args.workers}")
    print(f"wrote {write_json(name, report, results=args.results_dir)}")


if __name__ == "__main__":
    main()
