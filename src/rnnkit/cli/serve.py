"""``rnnkit serve DIR``: answer predictions over HTTP (FastAPI + uvicorn), with a page to try."""

from __future__ import annotations

from pathlib import Path

import typer

EXAMPLE = "Example: rnnkit serve runs/intent --port 8000 --runtime onnx"


def serve(
    model_dir: Path = typer.Argument(..., help="A model directory written by rnnkit train."),
    host: str = typer.Option(
        "127.0.0.1", help="Address to bind; the default answers this machine only."
    ),
    port: int = typer.Option(8000, min=0, max=65535, help="TCP port."),
    runtime: str = typer.Option(
        "onnx", help="onnx (needs `rnnkit export DIR` first; about 3x faster) or torch."
    ),
    max_text_length: int = typer.Option(1000, min=1, help="Characters per text; more → 413."),
    max_batch_size: int = typer.Option(64, min=1, help="Texts per request; more → 413."),
    max_generate_length: int = typer.Option(
        100, min=1, help="Language models: tokens generated per text at most; more → 413."
    ),
) -> None:
    """Serve a trained model: POST /predict, POST /trace, GET /health, /info, /docs, and a
    page to try it at /."""
    import uvicorn

    import rnnkit
    from rnnkit.serving.app import create_app
    from rnnkit.serving.schemas import ServeLimits

    limits = ServeLimits(
        max_text_length=max_text_length,
        max_batch_size=max_batch_size,
        max_generate_length=max_generate_length,
    )
    predictor = rnnkit.load(model_dir, runtime=runtime)
    app = create_app(predictor, runtime=runtime, limits=limits)
    typer.echo(f"serving {model_dir} ({predictor.task}, {runtime}) on http://{host}:{port}/")
    # No per-request access log or proxy-header rewriting: both cost more than a prediction.
    uvicorn.run(
        app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False
    )
