"""Soak: ``rnnkit serve`` under a long stream of requests, one in ten of them malformed.

Sends ``--requests`` (20,000) ``POST /predict`` requests over ``--concurrency`` keep-alive
connections to ``rnnkit serve`` in its own process; every tenth is one of the malformed or
oversize requests of ``serve.py`` (bad JSON, wrong fields, too long, too many texts, a body
over the byte limit), each on a connection of its own. It checks three things:

- every valid request answered 200 (0 errors);
- every malformed request answered 4xx (the status ``serve.py`` expects);
- the server's resident memory (RSS, workers included) grew less than 10 % from the first
  thousand requests to the last (the largest RSS sampled in each).

The model is the Bi-LSTM intent classifier of ``serve.py`` (trained briefly on ATIS; ``--model-dir``
reuses a trained classifier, copied). The tests run a short version (1,000 requests) against a
tiny model: tests/reliability/test_serving_faults.py. From ``benchmarks/``:

    OMP_NUM_THREADS=1 python soak.py            # 20,000 requests, writes results/soak.json
    OMP_NUM_THREADS=1 python soak.py --requests 2000 --model-dir ../runs/intent
    python soak.py --requests 200 --results-dir /tmp/soak-trial   # a trial, the record left alone
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from record import add_results_dir, write_json
from serve import REJECTIONS, free_port, http_request, read_response, wait_for_health

MALFORMED_EVERY = 10  # request i is malformed when i % 10 == 9: exactly 10 %
MAX_RSS_GROWTH = 0.10  # the target: < 10 % from the first thousand requests to the last


def rss_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` and its live children (``--workers N``)."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return rss * 1024 + sum(rss_bytes(int(child)) for child in children)


@dataclass
class SoakTally:
    """What the soak saw: statuses, wrong answers, RSS samples ``(request index, bytes)``."""

    valid_errors: int = 0  # valid requests not answered 200 (or not answered at all)
    malformed_wrong: int = 0  # malformed requests not answered with their 4xx
    statuses: Counter = field(default_factory=Counter)
    rss: list[tuple[int, int]] = field(default_factory=list)


async def send_malformed(port: int, index: int, tally: SoakTally) -> None:
    """Malformed request ``index`` on a connection of its own (a 413 may leave its body
    unread, so the connection is not reused)."""
    _, body, expected = REJECTIONS[(index // MALFORMED_EVERY) % len(REJECTIONS)]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(http_request("/predict", body))
        status, _ = await read_response(reader)
    except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
        status = 0
    writer.close()
    tally.statuses[status] += 1
    tally.malformed_wrong += status != expected


async def soak(
    port: int, pid: int, texts: list[str], requests: int, concurrency: int, sample_every: int
) -> SoakTally:
    """Sends ``requests`` requests (every tenth malformed); samples the RSS of ``pid`` after
    every ``sample_every``-th request."""
    tally = SoakTally()
    counter = itertools.count()
    bodies = [json.dumps({"text": text}).encode() for text in texts]

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (index := next(counter)) < requests:
            if index % MALFORMED_EVERY == MALFORMED_EVERY - 1:
                await send_malformed(port, index, tally)
            else:
                try:
                    writer.write(http_request("/predict", bodies[index % len(bodies)]))
                    status, _ = await read_response(reader)
                except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                    status = 0
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                tally.statuses[status] += 1
                tally.valid_errors += status != 200
            if index % sample_every == 0:
                tally.rss.append((index, rss_bytes(pid)))
        writer.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return tally


def summarize(tally: SoakTally, requests: int, window: int) -> dict:
    """The soak's result: counts, and the RSS growth from the first ``window`` requests to
    the last."""
    first = max(rss for index, rss in tally.rss if index < window)
    last = max(rss for index, rss in tally.rss if index >= requests - window)
    malformed = requests // MALFORMED_EVERY
    growth = last / first - 1
    return {
        "requests": requests,
        "valid": requests - malformed,
        "malformed": malformed,
        "valid_errors": tally.valid_errors,
        "malformed_not_4xx": tally.malformed_wrong,
        "statuses": {str(code): count for code, count in sorted(tally.statuses.items())},
        "rss_first_mb": round(first / 2**20, 1),
        "rss_last_mb": round(last / 2**20, 1),
        "rss_growth": round(growth, 4),
        "passed": tally.valid_errors == 0 and tally.malformed_wrong == 0
        and growth < MAX_RSS_GROWTH,
    }  # fmt: skip


def run_soak(
    model_dir: Path,
    texts: list[str],
    requests: int,
    concurrency: int = 8,
    runtime: str = "onnx",
    workers: int = 1,
) -> dict:
    """Starts ``rnnkit serve`` on ``model_dir``, soaks it and stops it; returns `summarize`'s
    result (windows of 1,000 requests, or a tenth of a shorter run)."""
    window = min(1000, requests // 10)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "rnnkit", "serve", str(model_dir), "--runtime", runtime,
         "--port", str(port), "--workers", str(workers)],
        env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")},
    )  # fmt: skip
    try:
        wait_for_health(server, port)
        sample_every = max(1, window // 10)
        tally = asyncio.run(soak(port, server.pid, texts, requests, concurrency, sample_every))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return summarize(tally, requests, window)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, help="A trained classifier (copied).")
    parser.add_argument("--epochs", type=int, default=1, help="ATIS training epochs.")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=8, help="Keep-alive connections.")
    parser.add_argument("--runtime", default="onnx")
    parser.add_argument("--workers", type=int, default=1, help="rnnkit serve --workers.")
    parser.add_argument("--output", default="soak", help="JSON name under results/.")
    add_results_dir(parser)
    args = parser.parse_args()
    from serve import benchmark_sentences, prepare_model

    with tempfile.TemporaryDirectory() as folder:
        model_dir = prepare_model(args, Path(folder))
        result = run_soak(model_dir, benchmark_sentences(model_dir), args.requests,
                          args.concurrency, args.runtime, args.workers)  # fmt: skip
    report = {
        "command": " ".join(["python", *sys.argv]),
        "threads": os.environ.get("OMP_NUM_THREADS"),
        "concurrency": args.concurrency,
        "runtime": args.runtime,
        "workers": args.workers,
        **result,
    }
    print(json.dumps(report, indent=2))
    print(f"wrote {write_json(args.output, report, results=args.results_dir)}")
    if not result["passed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
