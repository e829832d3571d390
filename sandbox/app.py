"""The ASGI app: Twilio's paths of all three API hosts (Trust Hub, API v2010, Messaging) on one port,
plus the control endpoints under ``/sandbox/``.

Point the real twilio SDK at it with ``client.trusthub.base_url = client.messaging.base_url =
client.api.base_url = "http://127.0.0.1:PORT"`` (see :func:`sandbox.testing.twilio_client`).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse

from . import accounts, addresses, brands, control, errors, messaging, trusthub
from .config import SandboxConfig
from .core import Sandbox
from .faults import FaultMiddleware


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if request.url.path.startswith("/sandbox"):
        return JSONResponse({"error": getattr(exc, "detail", "error")}, status_code=status)
    if status == 404:
        return errors.not_found(request.url.path).response()
    code = errors.BAD_REQUEST if status < 500 else errors.INTERNAL
    return errors.ApiError(status, code, f"{request.method} is not supported on {request.url.path}"
                           if status == 405 else "Internal Server Error").response()


def create_app(config: SandboxConfig | None = None, db_path: str | None = None) -> Starlette:
    sandbox = Sandbox(config or SandboxConfig(), db_path)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sandbox.started()
        try:
            yield
        finally:
            await sandbox.stop()

    app = Starlette(
        routes=[*control.routes, *trusthub.routes, *accounts.routes, *addresses.routes, *brands.routes,
                *messaging.routes],
        middleware=[Middleware(FaultMiddleware, sandbox=sandbox)],
        exception_handlers={404: _http_error, 405: _http_error},
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    return app
