"""The HTTP service of ``rnnkit serve``: one loaded predictor behind a FastAPI app.

Routes: ``POST /predict`` (task-shaped JSON, see `rnnkit.serving.tasks`), ``POST /trace``
(the token-by-token walk-through, for tasks that have one), ``GET /health``, ``GET /info``,
``GET /`` (a page to try the model), and FastAPI's ``/docs`` and ``/openapi.json``.

Handlers are ``async`` and the model runs on the event loop, not in a thread pool: one
prediction takes about a millisecond, and requests arriving together are predicted as one
batch (`rnnkit.serving.batching`), which a pool of threads each running one would prevent.
"""

# No ``from __future__ import annotations`` here: the handlers' request types are built per
# task in `create_app`, and FastAPI reads them from the annotations, which must therefore be
# the classes themselves rather than names it would look up in this module.

import platform
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, create_model

from rnnkit.errors import InputTooLongError, RnnkitError
from rnnkit.serving.access import API_KEY_HEADER, ApiKeyCheck, ServeAccess
from rnnkit.serving.batching import MicroBatcher
from rnnkit.serving.schemas import (
    PredictRequest,
    RequestTooLargeError,
    ServeLimits,
    error_responses,
)
from rnnkit.serving.tasks import ServedTask, get_served_task
from rnnkit.tasks import TASKS
from rnnkit.tasks.token_limit import TokenLimit, set_token_limit
from rnnkit.version import __version__


def check_limits(texts: list[str], limits: ServeLimits) -> None:
    if len(texts) > limits.max_batch_size:
        raise RequestTooLargeError(
            f"texts: expected at most {limits.max_batch_size} texts (max_batch_size), "
            f"got {len(texts)}"
        )
    for index, text in enumerate(texts):
        if len(text) > limits.max_text_length:
            raise RequestTooLargeError(
                f"text {index + 1}: expected at most {limits.max_text_length} characters "
                f"(max_text_length), got {len(text)}"
            )


class BodySizeLimit:
    """ASGI middleware: a declared ``Content-Length`` over ``max_bytes`` is answered 413
    before the body is read (a plain ASGI class: no per-request task, unlike
    ``BaseHTTPMiddleware``)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                    detail = (
                        f"request body: expected at most {self.max_bytes} bytes, got {int(value)}"
                    )
                    await JSONResponse({"detail": detail}, 413)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def check_field_lengths(request: BaseModel, limits: ServeLimits) -> None:
    """Every text field of a ``POST /trace`` request is within ``max_text_length``."""
    for name, value in request:
        if isinstance(value, str) and len(value) > limits.max_text_length:
            raise RequestTooLargeError(
                f"{name}: expected at most {limits.max_text_length} characters "
                f"(max_text_length), got {len(value)}"
            )


def service_info(predictor: Any, runtime: str, limits: ServeLimits) -> dict[str, Any]:
    """What ``GET /info`` answers: task, its service shape, the task's own fields (labels and
    intents for classifiers, taggers and joint models; vocabularies for translators; conditions
    for language models), the default decoding options, the saved config, limits and
    versions."""
    import fastapi
    import torch

    versions = {
        "rnnkit": __version__,
        "torch": torch.__version__,
        "fastapi": fastapi.__version__,
        "python": platform.python_version(),
    }
    if runtime != "torch":  # onnx or onnx-int8
        import onnxruntime

        versions["onnxruntime"] = onnxruntime.__version__
    served = get_served_task(predictor.task)
    return {
        "task": predictor.task,
        "shape": TASKS.get(predictor.task).serving,  # the page shows answers by their shape
        "runtime": runtime,
        **served.info(predictor, limits),
        "options": None if served.options is None else served.options().model_dump(mode="json"),
        "config": predictor.config,
        "limits": {
            "max_text_length": limits.max_text_length,
            "max_batch_size": limits.max_batch_size,
            "max_tokens": limits.max_tokens,
            "over_length": limits.over_length,
        },
        "trace": served.trace is not None,
        "versions": versions,
    }


async def too_large(request: Any, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=413)


async def bad_input(request: Any, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=422)


def new_app(task: str, limits: ServeLimits, access: ServeAccess) -> FastAPI:
    """A FastAPI app whose errors are JSON ``{"detail": ...}``: 413 for a request over the
    limits (checked, or a body too large to read), 422 for any other `RnnkitError` (a text
    with no tokens, say) as for FastAPI's own validation errors, and 401 without the API key
    when ``access`` sets one (`rnnkit.serving.access`)."""
    app = FastAPI(
        title=f"rnnkit {task} service",
        version=__version__,
        description="A trained rnnkit model. Try it at `/`; `POST /predict` answers JSON.",
    )
    app.add_middleware(BodySizeLimit, max_bytes=limits.max_body_bytes)
    if access.api_key is not None:
        app.add_middleware(ApiKeyCheck, api_key=access.api_key)
    if access.cors_origins:  # added last, so it runs first: preflights need no key
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(access.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", API_KEY_HEADER],
        )
    app.add_exception_handler(RequestTooLargeError, too_large)
    app.add_exception_handler(InputTooLongError, too_large)
    app.add_exception_handler(RnnkitError, bad_input)
    return app


def predict_request_model(task: str, served: ServedTask) -> type[PredictRequest]:
    """`PredictRequest`, with the task's ``options`` object when it takes options."""
    if served.options is None:
        return PredictRequest  # an ``options`` field is then an extra input: 422
    return create_model(
        f"{task.capitalize()}Request",
        __base__=PredictRequest,
        options=(served.options | None, None),
    )


def create_app(
    predictor: Any,
    runtime: str = "torch",
    limits: ServeLimits | None = None,
    access: ServeAccess | None = None,
) -> FastAPI:
    """The service for ``predictor`` (what `rnnkit.load` returned, with ``runtime``); the
    model is loaded once, by the caller, and shared by every request (and given the limits'
    ``max_tokens``). ``access`` (default: open, no cross-origin callers) says who may call it."""
    limits = limits or ServeLimits()
    set_token_limit(predictor, TokenLimit(limits.max_tokens, limits.over_length))
    served = get_served_task(predictor.task)
    info = service_info(predictor, runtime, limits)
    page = (files("rnnkit") / "serving" / "static" / "index.html").read_text(encoding="utf-8")
    response_model = create_model(
        f"{predictor.task.capitalize()}Response",
        task=(str, ...),
        predictions=(list[served.schema], ...),
    )
    request_model = predict_request_model(predictor.task, served)
    batcher = MicroBatcher(
        lambda texts, options: served.predict(predictor, texts, options), limits.max_batch_size
    )
    app = new_app(predictor.task, limits, access or ServeAccess())

    locked = (401,) if access is not None and access.api_key is not None else ()
    posted = error_responses(400, *locked, 413, 422)

    @app.post(
        "/predict",
        response_model=response_model,
        summary="Predict for one or more texts",
        responses=posted,
    )
    async def predict(request: request_model) -> dict[str, Any]:
        texts = request.all_texts()
        check_limits(texts, limits)
        options = getattr(request, "options", None)
        if served.apply_limits is not None:
            options = served.apply_limits(texts, options, limits)
        # the options are the batch key: a request is only batched with same-option requests
        return {"task": predictor.task, "predictions": await batcher.submit(texts, options)}

    if served.trace is not None:

        @app.post(
            "/trace",
            response_model=served.trace_schema,
            responses=posted,
            summary="Walk through one text: token by token (O1 … On), or a translation's attention",
            description="The token-by-token walk-through is the lesson of docs/rnn-tutorial.md.",
        )
        async def trace(request: served.trace_request) -> dict[str, Any]:
            check_field_lengths(request, limits)
            return served.trace(predictor, request)

    @app.get("/health", summary="Liveness: the model is loaded")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/info",
        summary="Task, labels or vocabularies, options, config, limits, versions",
        responses=error_responses(*locked),
    )
    async def get_info() -> dict[str, Any]:
        return info

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        return page

    return app
