"""The registration service: the HTTP API the ISV's signup service calls to start, inspect and
correct registrations, and the endpoints where Twilio's webhooks become workflow signals.

FastAPI (on Starlette + uvicorn, the same stack as the sandbox): pydantic models are the request
bodies, so the `a2p` validation and its error messages are the API's, and the OpenAPI document
comes for free at /openapi.json (docs at /docs).

Split by concern; this module puts the app together:
* starter/gate.py — the front door: body limits and credentials before any work, CORS of /codec;
* starter/api.py — the signup API (``/v1``);
* starter/webhook_routes.py and starter/webhooks.py — Twilio's webhooks: the I/O, and the pure
  part (signatures, parsing, deduplication, folding), unit-tested on its own;
* starter/codec_server.py — the Web UI's codec; starter/serving.py — uvicorn.

Run: `a2p service` (settings from the environment). Embedded (the demo, the tests):
``async with serving(create_app(settings, client), sock=bind()) as url: ...``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client
from temporalio.runtime import Runtime

from a2p import metrics
from a2p.requests import format_validation_error
from starter.stalls import watch_stalls
from infra.settings import Settings
from infra.temporal_client import connect, runtime_for
from starter import api, codec_server, overview, registrations, webhook_routes
from starter import webhooks as wh
from starter.gate import KiB, MiB, Gate, Rule
from starter.serving import bind, run_service, serving, url_of  # the service's public names

__all__ = ["LIMITS", "bind", "create_app", "run_service", "serving", "url_of"]
from starter.subaccounts import SubaccountTokens
from starter.webhook_routes import WEBHOOK_BUDGET_SECONDS

log = structlog.get_logger("a2p.service")

# The largest legitimate bodies: a registration request with every campaign text at its longest
# is under 60 KB; a conversions batch of a few thousand customers; an Event Streams delivery of a
# few thousand events; the Web UI's payloads (Temporal's own limit is 2 MB per payload).
LIMITS = {"api": 128 * KiB, "batch": 8 * MiB, "trusthub": 64 * KiB, "events": 4 * MiB, "codec": 4 * MiB}


def create_app(settings: Settings, client: Client | None = None, *,
               webhook_budget_seconds: float = WEBHOOK_BUDGET_SECONDS) -> FastAPI:
    """The app; connects to Temporal at start-up unless given a client (tests, the demo)."""
    subaccounts = SubaccountTokens(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.client = client or await _connect(settings)
        stall_watch = asyncio.create_task(watch_stalls(app.state.client, settings, meter))  # starter/stalls.py
        if settings.a2p_service_api_key is None:
            log.warning("service_api_disabled", reason="A2P_SERVICE_API_KEY is not set: every API call is refused")
        if settings.twilio_auth_token is None and settings.a2p_event_sink_username is None:
            log.warning("webhooks_refused", reason="no TWILIO_AUTH_TOKEN to check signatures with and no "
                                                   "Event Streams Basic credentials: every webhook is refused")
        try:
            yield
        finally:
            stall_watch.cancel()
            await subaccounts.close()

    app = FastAPIOffline(  # /docs and /redoc with their assets served here, not from a CDN
        title="a2p-registrar", version="1",
        description=(
            "Start, inspect and correct A2P 10DLC Sole Proprietor registrations (one Temporal workflow per "
            "ISV customer), and receive Twilio's webhooks.\n\n"
            "The `/v1` API needs `Authorization: Bearer <A2P_SERVICE_API_KEY>`. The `/webhooks` endpoints "
            "are for Twilio: they accept only requests signed with the account's auth token "
            "(`X-Twilio-Signature`), or, for the Event Streams sink, the sink URL's Basic credentials."
        ),
        lifespan=lifespan,
    )
    app.add_middleware(_DocsImagesServedHere)
    app.state.settings = settings
    app.state.routes = wh.Routes()
    app.state.seen = wh.Seen()
    refusals = wh.RateLimitedLog(log)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return JSONResponse(status_code=400, content={"error": "the body is not valid JSON",
                                                          "fields": _fields(exc)})
        return JSONResponse(status_code=422, content={"error": "invalid request", "fields": _fields(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = exc.detail if isinstance(exc.detail, dict) else {"error": str(exc.detail)}
        return JSONResponse(status_code=exc.status_code, content=body, headers=getattr(exc, "headers", None))

    Authed = api.authed(settings)
    overview.install(app, [Authed])  # GET /, GET /v1/registrations/counts, undecryptable payloads named
    app.include_router(api.router(settings, Authed))
    app.include_router(webhook_routes.router(settings, subaccounts, refusals, budget=webhook_budget_seconds))

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Liveness: the process serves requests (whatever Temporal's state)."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: Temporal answers (a health check within 3 s)."""
        try:
            ok = await registrations.bounded(request.app.state.client.service_client.check_health(
                timeout=timedelta(seconds=2)), timedelta(seconds=3))
        except Exception as err:  # noqa: BLE001 - any failure means not ready
            log.info("not_ready", error=str(err) or type(err).__name__)
            ok = False
        if not ok:
            return JSONResponse(status_code=503, content={"status": "Temporal unreachable"},
                                headers={"Retry-After": "5"})
        return JSONResponse({"status": "ready"})

    # ---- the Web UI's codec server: decrypted payloads for authorised operators ---------------

    app.include_router(codec_server.router(settings))

    # ---- the front door: limits and credentials before any work; CORS of /codec; metrics --------

    meter = (runtime_for(settings.a2p_metrics_bind) or Runtime.default()).metric_meter
    webhooks_counter = meter.create_counter(metrics.WEBHOOKS, "Twilio webhook deliveries by kind and outcome")

    def count(path: str, code: int) -> None:
        if path.startswith("/webhooks/"):
            outcome = ("accepted" if code < 300 else "refused" if code in (401, 403) else
                       "too_large" if code == 413 else "unavailable" if code == 503 else "rejected")
            kind = {"/webhooks/trusthub": "trusthub", "/webhooks/events": "event_streams"}.get(path, "other")
            webhooks_counter.add(1, {"kind": kind, "outcome": outcome})

    def api_check(request: Request):
        return api.api_key_refusal(settings, request.headers)

    def codec_check(request: Request):
        body = codec_server.codec_key_refusal(settings, request.headers.get("Authorization"))
        return None if body is None else (401, body, {"WWW-Authenticate": "Bearer"})

    trusthub_check, events_check = webhook_routes.gate_checks(settings, refusals, subaccounts)

    origins = [o.strip() for o in settings.a2p_codec_cors_origins.split(",") if o.strip()]
    app.add_middleware(
        Gate,
        rules=[Rule("/v1/conversions/batch", LIMITS["batch"], api_check, json=True),
               Rule("/v1/", LIMITS["api"], api_check, json=True),
               Rule("/webhooks/trusthub", LIMITS["trusthub"], trusthub_check),
               Rule("/webhooks/events", LIMITS["events"], events_check, json=True),
               Rule("/codec/", LIMITS["codec"], codec_check, json=True)],
        cors_prefix=codec_server.PREFIX + "/",
        cors={"allow_origins": origins, "allow_methods": ["POST", "OPTIONS"],
              "allow_headers": ["Authorization", "Content-Type", "X-Namespace"], "allow_credentials": True},
        on_response=count,
    )
    return app


class _DocsImagesServedHere:
    """ReDoc's sidebar shows Redocly's logo from cdn.redoc.ly (its bundle has no option to leave it
    out): /redoc's Content-Security-Policy allows images from this service only, so the browser
    never asks the network for it (the logo is left out). Every other response passes untouched."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/redoc":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"content-security-policy", b"img-src 'self' data:")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_policy)


async def _connect(settings: Settings) -> Client:
    """Connect as the worker and the CLI do (infra.temporal_client: data converter, payload
    encryption, TLS / API key); the service does not start without Temporal."""
    try:
        return await connect(settings)
    except RuntimeError as err:
        log.error("temporal_unreachable", address=settings.temporal_address, error=str(err))
        raise


def _fields(exc: RequestValidationError) -> list[dict[str, str]]:
    """FastAPI's validation errors in the a2p format: ``customer.address.postal_code`` (the
    ``body`` prefix dropped), the rule in words."""

    class _Errors:  # what format_validation_error reads of a pydantic ValidationError
        def errors(self, include_url: bool = False) -> list[dict[str, Any]]:
            out = []
            for e in exc.errors():
                loc = tuple(e.get("loc", ()))
                out.append({**e, "loc": loc[1:] if loc[:1] == ("body",) else loc})
            return out

    return format_validation_error(_Errors())  # type: ignore[arg-type]

