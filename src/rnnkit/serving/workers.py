"""``rnnkit serve --workers N``: N processes on one port, each with its own copy of the model.

Each worker process gets its settings from ``RNNKIT_SERVE_SETTINGS`` (`worker_settings`),
loads the model once and builds its app (`worker_app`, uvicorn's factory).

On Linux every worker binds a listening socket of its own to the port (``SO_REUSEPORT``) and
the kernel spreads new connections over the workers by a hash of the client's address. With
one listening socket shared by all workers (uvicorn's own ``--workers``), the worker that wakes
first can accept every connection waiting, so a burst of keep-alive connections could all land
on one worker, which then served alone while the others idled. The processes themselves are
run by uvicorn's supervisor (`Supervisor`): it forwards SIGINT and SIGTERM and replaces a
worker that dies or stops answering. Elsewhere the workers share one socket.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from rnnkit import api
from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.serving.access import ServeAccess
from rnnkit.serving.app import create_app
from rnnkit.serving.schemas import ServeLimits

SETTINGS_VARIABLE = "RNNKIT_SERVE_SETTINGS"
WORKER_APP = "rnnkit.serving.workers:worker_app"  # uvicorn's factory, imported in each worker
# No per-request access log or proxy-header rewriting: both cost more than a prediction.
SERVER_OPTIONS: dict[str, Any] = {"log_level": "warning", "access_log": False,
                                  "proxy_headers": False}  # fmt: skip


class WorkerError(RnnkitError, RuntimeError):
    """A worker process of ``rnnkit serve --workers N`` could not start."""


def worker_settings(
    model_dir: str,
    runtime: str,
    limits: ServeLimits,
    workers: int,
    access: ServeAccess | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """What `worker_app` reads from ``RNNKIT_SERVE_SETTINGS`` (as JSON, in the environment of
    this process and its workers only); each worker gets an equal share of torch's (and so
    ONNX Runtime's) threads."""
    import torch

    access = access or ServeAccess()
    return {
        "model_dir": model_dir, "runtime": runtime, "device": device, "limits": limits.__dict__,
        "threads": max(1, torch.get_num_threads() // workers),
        "api_key": access.api_key, "cors_origins": list(access.cors_origins),
    }  # fmt: skip


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn's factory): each worker loads the model once,
    with the settings of ``RNNKIT_SERVE_SETTINGS``; one that cannot ends with `fail_startup`."""
    import torch

    settings = json.loads(os.environ[SETTINGS_VARIABLE])
    torch.set_num_threads(settings["threads"])
    try:
        predictor = api.load(
            settings["model_dir"], runtime=settings["runtime"], device=settings.get("device", "cpu")
        )
    except (RnnkitError, OSError) as error:
        fail_startup(str(error))
    access = ServeAccess(settings.get("api_key"), tuple(settings.get("cors_origins", ())))
    return create_app(predictor, settings["runtime"], ServeLimits(**settings["limits"]), access)


def fail_startup(reason: str) -> NoReturn:
    """Ends a worker process that cannot serve, with uvicorn's exit code for a worker that
    failed to start (its supervisor then stops rather than start it again). The one-line
    reason goes to the settings' ``failure_file`` for the parent to report (the first worker's
    reason is kept), else to stderr."""
    path = json.loads(os.environ.get(SETTINGS_VARIABLE, "{}")).get("failure_file")
    if path is None:
        print(f"error: {reason}", file=sys.stderr)
    else:
        with contextlib.suppress(FileExistsError), open(path, "x", encoding="utf-8") as file:
            file.write(reason)
    sys.exit(STARTUP_FAILURE)


# One listening socket per worker (SO_REUSEPORT) ----------------------------------------------


def reuse_port_supported() -> bool:
    """Whether the workers can each have their own socket: Linux (3.9 and later) spreads the
    connections over ``SO_REUSEPORT`` listeners; the BSDs and macOS accept the option but do
    not balance connections over the listeners with it."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def address_family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn binds


def claim_port(host: str, port: int) -> int:
    """``port`` (a free one when it is 0), once a socket bound without ``SO_REUSEPORT`` shows
    that nothing listens there: otherwise a second service of the same user would silently
    join the first one's listeners and take a share of its connections."""
    with socket.socket(address_family(host)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no listener
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"--port {port}: already in use on {host}; stop what listens there or "
                    "choose another port"
                ) from None
            raise ConfigError(f"--host {host}: cannot listen there ({error.strerror})") from None
        return probe.getsockname()[1]


def bind_worker_socket(host: str, port: int) -> socket.socket:
    """A socket of this worker's own, bound to ``host:port`` beside the other workers'."""
    listener = socket.socket(address_family(host))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        fail_startup(f"cannot listen on {host}:{port} ({error.strerror})")
    return listener


@dataclass(frozen=True)
class WorkerSocket:
    """Stands in uvicorn's list of listening sockets for a socket of each worker's own:
    uvicorn hands the list to every worker process it starts by pickling it, and unpickling
    this binds a new socket in that worker (`bind_worker_socket`)."""

    host: str  # the address to bind, as given to --host
    port: int  # the port every worker binds, checked free by `claim_port`

    def __reduce__(self) -> tuple[Callable[[str, int], socket.socket], tuple[str, int]]:
        return bind_worker_socket, (self.host, self.port)


class Supervisor(Multiprocess):
    """uvicorn's supervisor of the worker processes, each with its own socket: it forwards
    signals and replaces a worker that dies or stops answering; a worker that fails to start
    (exit code 3, e.g. `fail_startup`) ends the service instead, as it would fail again.
    ``announce`` is called once every worker serves."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        # a WorkerSocket, not a socket: each worker binds its own when it unpickles it
        super().__init__(config, sockets=[WorkerSocket(config.host, config.port)])  # type: ignore[list-item]
        self.announce = announce
        self.serving = False  # every worker has loaded its model and listens
        self.failed: int | None = None  # the process id of a worker that failed to start

    def keep_subprocess_alive(self) -> None:  # run() calls it every half second
        for index, process in enumerate(self.processes):
            code = process.exitcode  # None while it runs
            if code == STARTUP_FAILURE:  # it would fail again: stop (uvicorn does so too)
                self.failed = process.pid
                self.should_exit.set()
                return
            if code is not None and not self.serving:  # killed while it loaded: start another
                process.join()
                self.processes[index] = Process(self.config, self.sockets)
                self.processes[index].start()
        if self.serving:
            super().keep_subprocess_alive()  # replaces a worker that died or hangs
        elif all(process.is_ready() for process in self.processes):
            self.serving = True
            self.announce()


def run_workers(
    settings: dict[str, Any],
    host: str,
    port: int,
    workers: int,
    announce: Callable[[int], None],
) -> None:
    """Serves with ``workers`` processes until SIGINT or SIGTERM; ``announce(port)`` is called
    once every worker serves (at once where they share a socket).

    Raises:
        ConfigError: ``port`` is in use, or ``host`` cannot be bound.
        WorkerError: a worker could not start (its reason in one line).
    """
    if not reuse_port_supported():
        os.environ[SETTINGS_VARIABLE] = json.dumps(settings)
        announce(port)
        uvicorn.run(WORKER_APP, host=host, port=port, factory=True, workers=workers,
                    **SERVER_OPTIONS)  # fmt: skip
        return
    port = claim_port(host, port)
    with tempfile.TemporaryDirectory(prefix="rnnkit-serve-") as folder:
        failure_file = Path(folder) / "failure"
        os.environ[SETTINGS_VARIABLE] = json.dumps({**settings, "failure_file": str(failure_file)})
        config = uvicorn.Config(WORKER_APP, host=host, port=port, factory=True, workers=workers,
                                **SERVER_OPTIONS)  # fmt: skip
        supervisor = Supervisor(config, lambda: announce(port))
        supervisor.run()
        reason = failure_file.read_text(encoding="utf-8") if failure_file.exists() else None
    if reason or supervisor.failed is not None:
        reason = reason or f"process {supervisor.failed} exited with code {STARTUP_FAILURE}"
        raise WorkerError(f"--workers: a worker process could not start: {reason}")
