"""Who may call the service: an optional API key, and the origins allowed to call from a page.

With a key set, every request except ``GET /health`` (liveness probes) and ``GET /`` (the page,
which holds no model data and asks for the key) must carry it in the ``X-API-Key`` header;
the comparison takes constant time (`hmac.compare_digest`), a missing or wrong key is
answered 401, and the key is never logged or echoed. Cross-origin requests from a browser get
no CORS headers, so browsers refuse them, unless ``cors_origins`` names the origin.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.responses import JSONResponse

from rnnkit.errors import ConfigError

API_KEY_HEADER = "X-API-Key"
API_KEY_VARIABLE = "RNNKIT_API_KEY"
OPEN_PATHS = ("/health", "/")  # answered without a key


@dataclass(frozen=True)
class ServeAccess:
    """Who may call the service."""

    api_key: str | None = None  # required in X-API-Key on every request but OPEN_PATHS; None: open
    cors_origins: tuple[str, ...] = ()  # origins whose pages may call the service; (): none

    def __repr__(self) -> str:  # never show the key, e.g. in a traceback or a log line
        key = "set" if self.api_key else None
        return f"ServeAccess(api_key={key}, cors_origins={self.cors_origins!r})"


def read_api_key(path: Path | None) -> str | None:
    """The key in ``path`` (its first line), else in ``$RNNKIT_API_KEY``, else None."""
    if path is None:
        key = os.environ.get(API_KEY_VARIABLE)
        if key is not None and not key.strip():
            raise ConfigError(f"{API_KEY_VARIABLE}: set but empty; unset it or give a key")
        return key.strip() if key else None
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"--api-key-file {path}: cannot read it ({error})") from None
    key = lines[0].strip() if lines else ""
    if not key:
        raise ConfigError(f"--api-key-file {path}: empty; expected the key on its first line")
    return key


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` answers this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


class ApiKeyCheck:
    """ASGI middleware: 401 for a request without the right ``X-API-Key`` (see module doc)."""

    def __init__(self, app: Any, api_key: str) -> None:
        self.app, self.key = app, api_key.encode("utf-8")

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            name = API_KEY_HEADER.lower().encode("latin-1")
            given = next((value for key, value in scope["headers"] if key == name), b"")
            if not hmac.compare_digest(given, self.key):
                detail = f"missing or wrong API key: send it in the {API_KEY_HEADER} header"
                response = JSONResponse(
                    {"detail": detail}, 401, headers={"WWW-Authenticate": API_KEY_HEADER}
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
