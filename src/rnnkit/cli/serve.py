"""``rnnkit serve DIR``: answer predictions over HTTP (FastAPI + uvicorn), with a page to try."""

from __future__ import annotations

from pathlib import Path

import typer

from rnnkit.cli.options import InferenceDevice, MaxTokens, OverLength

EXAMPLE = "Example: rnnkit serve runs/intent --port 8000 --runtime onnx --workers 2"


def serve(
    model_dir: Path = typer.Argument(..., help="A model directory written by rnnkit train."),
    host: str = typer.Option(
        "127.0.0.1", help="Address to bind; the default answers this machine only."
    ),
    port: int = typer.Option(8000, min=0, max=65535, help="TCP port."),
    runtime: str = typer.Option(
        "onnx",
        help="onnx (needs `rnnkit export DIR` first; about 2x faster: an ATIS Bi-LSTM's model "
        "call took 0.49x the time of eager torch at its best, 1 thread, in BENCHMARKS.md's "
        "`OMP_NUM_THREADS=1 python benchmarks/serve.py --runtimes onnx --requests 500 "
        "--concurrency 1`), onnx-int8 (needs `rnnkit export DIR --quantize int8`) or torch.",
    ),
    max_text_length: int = typer.Option(1000, min=1, help="Characters per text; more → 413."),
    max_batch_size: int = typer.Option(64, min=1, help="Texts per request; more → 413."),
    max_generate_length: int = typer.Option(
        100, min=1, help="Language models: tokens generated per text at most; more → 413."
    ),
    max_tokens: MaxTokens = None,
    over_length: OverLength = "truncate",
    workers: int = typer.Option(
        1,
        min=1,
        help="Server processes on the port (e.g. one per core), each with its own copy of "
        "the model, an equal share of the threads and, on Linux, its own listening socket, "
        "so the kernel spreads the connections over them.",
    ),
    api_key_file: Path = typer.Option(
        None,
        help="A file whose first line is the API key every request but /health and / must "
        "send in the X-API-Key header (default: $RNNKIT_API_KEY, else no key).",
    ),
    device: InferenceDevice = "cpu",
    cors_origin: list[str] = typer.Option(
        None,
        help="An origin (e.g. https://app.example.com) whose pages may call the service; "
        "repeat for more. Default: none, so browsers refuse cross-origin calls.",
    ),
) -> None:
    """Serve a trained model: POST /predict, POST /trace, GET /health, /info, /docs, and a
    page to try it at /."""
    import uvicorn

    from rnnkit import api
    from rnnkit.serving.access import ServeAccess, is_loopback, read_api_key
    from rnnkit.serving.app import create_app
    from rnnkit.serving.schemas import ServeLimits
    from rnnkit.serving.workers import SERVER_OPTIONS, run_workers, worker_settings

    access = ServeAccess(read_api_key(api_key_file), tuple(cors_origin or ()))
    if access.api_key is None and not is_loopback(host):
        typer.echo(
            f"warning: serving on {host} without an API key: anyone who can reach this "
            "address can call the model; set --api-key-file or RNNKIT_API_KEY",
            err=True,
        )
    limits = ServeLimits(
        max_text_length=max_text_length,
        max_batch_size=max_batch_size,
        max_generate_length=max_generate_length,
        max_tokens=max_tokens,
        over_length=over_length,
    )
    # A bad directory (or a device that is not there) fails here, once.
    predictor = api.load(model_dir, runtime=runtime, device=device)
    task = predictor.task

    def announce(bound: int) -> None:
        typer.echo(f"serving {model_dir} ({task}, {runtime}, {workers} worker(s)) on "
                   f"http://{host}:{bound}/")  # fmt: skip

    if workers == 1:
        app = create_app(predictor, runtime=runtime, limits=limits, access=access)
        announce(port)
        uvicorn.run(app, host=host, port=port, **SERVER_OPTIONS)
    else:  # each worker process loads the model and builds its app
        del predictor
        settings = worker_settings(str(model_dir), runtime, limits, workers, access, device)
        run_workers(settings, host, port, workers, announce)
