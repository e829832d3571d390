"""The registration service: the HTTP API the ISV's signup service calls to start, inspect and
correct registrations, and the endpoints where Twilio's webhooks become workflow signals.

FastAPI (on Starlette + uvicorn, the same stack as the sandbox): pydantic models are the request
bodies, so the `a2p` validation and its error messages are the API's, and the OpenAPI document
comes for free at /openapi.json (docs at /docs).

Split by concern: starter/gate.py (body limits and credentials before any work, CORS of /codec),
starter/webhooks.py (Twilio's webhooks, pure: signatures, parsing, deduplication, routing),
starter/codec_server.py (the Web UI's codec), starter/serving.py (uvicorn), this module (the
routes and their Temporal calls, through starter/registrations.py).

Run: `a2p service` (settings from the environment). Embedded (the demo, the tests):
``async with serving(create_app(settings, client), sock=bind()) as url: ...``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qsl

import structlog
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from a2p import metrics
from a2p.metrics import runtime_for
from a2p.progress import OperatorDecision, RegistrationStatus
from a2p.requests import Correction, LegacyConversionRequest, RegistrationRequest, format_validation_error
from a2p.settings import Settings
from a2p.temporal_client import connect, web_ui_link
from starter import batch, codec_server, registrations
from starter import webhooks as wh
from starter.gate import KiB, MiB, Gate, Rule
from starter.serving import bind, run_service, serving, url_of  # noqa: F401 - the service's public names
from starter.subaccounts import SubaccountTokens

log = structlog.get_logger("a2p.service")

T = TypeVar("T")

WEBHOOK_BUDGET_SECONDS = 4.0  # Twilio gives a sink 5 s: answer (503 at worst) before that
WEBHOOK_CONCURRENCY = 16      # route lookups and signals in flight per service
RETRY_AFTER_NO_WORKER = "10"

# The largest legitimate bodies: a registration request with every campaign text at its longest
# is under 60 KB; a conversions batch of a few thousand customers; an Event Streams delivery of a
# few thousand events; the Web UI's payloads (Temporal's own limit is 2 MB per payload).
LIMITS = {"api": 128 * KiB, "batch": 8 * MiB, "trusthub": 64 * KiB, "events": 4 * MiB, "codec": 4 * MiB}


class Started(BaseModel):
    workflow_id: str
    created: bool = Field(description="false: the customer already had this registration, which is returned")
    status_url: str
    web_ui: str


class RegistrationView(BaseModel):
    status: RegistrationStatus
    web_ui: str = Field(description="the workflow in the Temporal Web UI")
    running: bool


class RegistrationList(BaseModel):
    registrations: list[dict[str, Any]]
    next_page_token: str | None = Field(None, description="pass as page_token for the next page; null: last page")


class CancelBody(BaseModel):
    reason: str = Field("cancelled through the API", max_length=500)


class BatchResult(BaseModel):
    total: int
    created: int
    existing: int
    invalid: list[dict[str, Any]]
    started: list[Started]


class ErrorBody(BaseModel):
    error: str
    reason: str | None = None
    fields: list[dict[str, str]] | None = None
    may_apply_later: bool | None = Field(None, description="503 after an Update: it reached Temporal and may "
                                                           "still be applied when a worker runs again")


API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "the body is not JSON, or nested too deeply"},
    401: {"model": ErrorBody, "description": "missing or wrong API key"},
    413: {"model": ErrorBody, "description": "the body is larger than this endpoint accepts"},
    422: {"model": ErrorBody, "description": "invalid request (every invalid field named) or refused"},
    503: {"model": ErrorBody, "description": "Temporal is unreachable, or no worker answered: try again "
                                             "after Retry-After"},
}
WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    204: {"description": "accepted (also replays, and events about unknown registrations: they are logged)"},
    400: {"description": "signed, but not a body Twilio sends"},
    403: {"description": "not signed by Twilio (X-Twilio-Signature) nor with the sink's Basic credentials, or "
                         "a status callback whose URL token does not match its workflow id"},
    409: {"description": "the same delivery is being handled right now: re-deliver later"},
    413: {"description": "the body is larger than Twilio sends"},
    503: {"description": "Temporal is unreachable: Twilio re-delivers"},
}


def create_app(settings: Settings, client: Client | None = None, *,
               webhook_budget_seconds: float = WEBHOOK_BUDGET_SECONDS) -> FastAPI:
    """The app; connects to Temporal at start-up unless given a client (tests, the demo)."""
    subaccounts = SubaccountTokens(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.client = client or await _connect(settings)
        if settings.a2p_service_api_key is None:
            log.warning("service_api_disabled", reason="A2P_SERVICE_API_KEY is not set: every API call is refused")
        if settings.twilio_auth_token is None and settings.a2p_event_sink_username is None:
            log.warning("webhooks_refused", reason="no TWILIO_AUTH_TOKEN to check signatures with and no "
                                                   "Event Streams Basic credentials: every webhook is refused")
        try:
            yield
        finally:
            await subaccounts.close()

    app = FastAPI(
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
    app.state.settings = settings
    app.state.routes = wh.Routes()
    app.state.seen = wh.Seen()
    refusals = wh.RateLimitedLog(log)
    slots = asyncio.Semaphore(WEBHOOK_CONCURRENCY)
    bearer = HTTPBearer(auto_error=False, description="A2P_SERVICE_API_KEY")
    page_key = hashlib.sha256(b"a2p page token\0" + settings.callback_token("page tokens").encode()).digest()

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

    def temporal(request: Request) -> Client:
        return request.app.state.client

    def api_key(request: Request, _: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        refusal = _api_key_refusal(settings, request.headers)
        if refusal is not None:
            status, body, headers = refusal
            raise HTTPException(status_code=status, detail=body, headers=headers)

    Authed = Depends(api_key)

    def started_view(request: Request, s: registrations.Started) -> Started:
        path = request.app.url_path_for("get_registration", workflow_id=s.workflow_id)
        base = settings.a2p_public_base_url or str(request.base_url).rstrip("/")
        return Started(workflow_id=s.workflow_id, created=s.created, status_url=f"{base}{path}",
                       web_ui=web_ui_link(settings, s.workflow_id))

    # ---- the signup API ------------------------------------------------------------------------

    @app.post("/v1/registrations", status_code=201, response_model=Started, dependencies=[Authed],
              responses={200: {"model": Started, "description": "the customer already has a registration"},
                         **API_ERRORS})
    async def start_registration(body: RegistrationRequest, request: Request, response: Response,
                                 c: Client = Depends(temporal)) -> Started:
        """Start a new customer's registration (idempotent per ISV customer id: 201 when started,
        200 with the existing registration when the customer already has one)."""
        s = await _api(registrations.start_registration(c, settings, body))
        response.status_code = 201 if s.created else 200
        log.info("registration_started" if s.created else "registration_exists", workflow_id=s.workflow_id)
        return started_view(request, s)

    @app.post("/v1/conversions", status_code=201, response_model=Started, dependencies=[Authed],
              responses={200: {"model": Started, "description": "the customer already has a conversion"},
                         **API_ERRORS})
    async def start_conversion(body: LegacyConversionRequest, request: Request, response: Response,
                               c: Client = Depends(temporal)) -> Started:
        """Start converting a customer's legacy Starter brand (idempotent per ISV customer id)."""
        s = await _api(registrations.start_conversion(c, settings, body))
        response.status_code = 201 if s.created else 200
        return started_view(request, s)

    @app.post("/v1/conversions/batch", response_model=BatchResult, dependencies=[Authed], responses=API_ERRORS)
    async def start_conversions(body: list[dict[str, Any]], request: Request,
                                c: Client = Depends(temporal)) -> BatchResult:
        """Start many conversions: one workflow per customer (a customer's existing one is given
        back); invalid items are listed with their field errors and not started."""
        result = await _api(batch.start_conversions(c, settings, body, raise_on_error=True))
        invalid = [{"index": o.index, "isv_customer_id": o.isv_customer_id, "fields": o.fields}
                   for o in result.items if o.outcome == "invalid"]
        views = [started_view(request, registrations.Started(o.workflow_id, o.run_id, o.outcome == "created"))
                 for o in result.items if o.outcome in ("created", "existing")]
        return BatchResult(total=result.total, created=result.created, existing=result.existing,
                           invalid=invalid, started=views)

    @app.get("/v1/registrations/{workflow_id}", response_model=RegistrationView, dependencies=[Authed],
             name="get_registration", responses={404: {"model": ErrorBody}, **API_ERRORS})
    async def get_registration(workflow_id: str, c: Client = Depends(temporal)) -> RegistrationView:
        """Where a registration stands: phase, SIDs, statuses, what it waits for, errors with
        Twilio's codes explained, OTP attempts and deadline, timeline; and its Web UI link."""
        desc = await _found(registrations.describe(c, workflow_id), workflow_id)
        status = await _found(registrations.get_status(c, workflow_id), workflow_id)
        return RegistrationView(status=status, web_ui=web_ui_link(settings, workflow_id),
                                running=desc.status is not None and desc.status.name == "RUNNING")

    @app.get("/v1/registrations", response_model=RegistrationList, dependencies=[Authed], responses=API_ERRORS)
    async def list_registrations(
        c: Client = Depends(temporal),
        phase: str | None = None, brand_status: str | None = None, campaign_status: str | None = None,
        flow: Literal["new", "legacy"] | None = None,
        page_size: Annotated[int, Query(ge=1, le=1000)] = 100, page_token: str | None = None,
    ) -> RegistrationList:
        """Registrations filtered by phase / brand status / campaign status (search attributes),
        newest first, a page at a time."""
        try:
            query = registrations.visibility_query(phase, brand_status, campaign_status, flow)
        except ValueError as err:
            raise HTTPException(status_code=422, detail=str(err)) from None
        token = _open_page_token(page_key, page_token) if page_token else None
        it = c.list_workflows(query, page_size=page_size, next_page_token=token, rpc_timeout=registrations.RPC_TIMEOUT)
        try:
            await _api(registrations.bounded(it.fetch_next_page(page_size=page_size)))
        except RPCError as err:
            if err.status == RPCStatusCode.INVALID_ARGUMENT:
                raise HTTPException(status_code=422, detail=f"invalid listing: {err.message}") from None
            raise
        rows = [registrations.row(wf) for wf in it.current_page or []]
        next_token = _seal_page_token(page_key, it.next_page_token) if it.next_page_token else None
        return RegistrationList(registrations=rows, next_page_token=next_token)

    @app.post("/v1/registrations/{workflow_id}/corrections", response_model=RegistrationStatus,
              dependencies=[Authed], responses={404: {"model": ErrorBody}, **API_ERRORS})
    async def correct(workflow_id: str, body: Correction, c: Client = Depends(temporal)) -> RegistrationStatus:
        """Fix what Twilio rejected (the workflow's `correct` Update). Answers once the fix is
        applied; refused with 422 and the reason (nothing changed) when it cannot apply."""
        return await _update(c, registrations.correct(c, workflow_id, body), workflow_id)

    @app.post("/v1/registrations/{workflow_id}/actions/resend-otp", response_model=RegistrationStatus,
              dependencies=[Authed], responses={404: {"model": ErrorBody}, **API_ERRORS})
    async def resend_otp(workflow_id: str, c: Client = Depends(temporal)) -> RegistrationStatus:
        """Re-send the OTP to the customer's mobile number now (while waiting for the OTP)."""
        return await _update(c, registrations.resend_otp(c, workflow_id), workflow_id)

    @app.post("/v1/registrations/{workflow_id}/actions/decide", response_model=RegistrationStatus,
              dependencies=[Authed], responses={404: {"model": ErrorBody}, **API_ERRORS})
    async def decide(workflow_id: str, body: OperatorDecision, c: Client = Depends(temporal)) -> RegistrationStatus:
        """An operator's decision for a parked registration: `retry` or `end` (NEEDS_ATTENTION),
        `resend_otp_and_wait` or `end` (OTP_EXPIRED)."""
        return await _update(c, registrations.decide(c, workflow_id, body), workflow_id)

    @app.post("/v1/registrations/{workflow_id}/actions/cancel", response_model=RegistrationStatus,
              dependencies=[Authed], responses={404: {"model": ErrorBody}, **API_ERRORS})
    async def cancel(workflow_id: str, c: Client = Depends(temporal),
                     body: CancelBody | None = None) -> RegistrationStatus:
        """Cancel a registration (refused once it has ended)."""
        reason = (body or CancelBody()).reason
        return await _update(c, registrations.cancel(c, workflow_id, reason), workflow_id)

    # ---- Twilio webhooks (signed by Twilio, no API key) --------------------------------------

    def refused(kind: str, reason: str, status: int = 403, **fields: Any) -> Response:
        refusals.warning("webhook_refused", kind=kind, reason=reason, **fields)
        return Response(status_code=status)

    async def signed(request: Request, params: dict[str, str] | str, accounts: list[str]) -> bool:
        """Signed with the parent's auth token, or with the token of the subaccount it names."""
        url, signature = _public_url(settings, request), request.headers.get("X-Twilio-Signature")
        parent = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
        if wh.signed_by(parent, url, params, signature):
            return True
        for account in accounts[:3]:
            if wh.signed_by(await subaccounts.token(account), url, params, signature):
                return True
        return False

    @app.post("/webhooks/trusthub", status_code=204, response_class=Response, responses=WEBHOOK_RESPONSES)
    async def trusthub_callback(request: Request, workflow_id: str | None = None, token: str | None = None,
                                c: Client = Depends(temporal)) -> Response:
        """A bundle's `status_callback` (form POST), set per bundle to
        `<A2P_PUBLIC_BASE_URL>/webhooks/trusthub?workflow_id=...&token=...`; checked against that
        exact URL and the account's auth token, and the token against the workflow id; then
        signalled to the registration as `bundle_event`, once per delivery."""
        try:
            form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True,
                                  max_num_fields=100, strict_parsing=False))
        except (UnicodeDecodeError, ValueError):
            return refused("trusthub", "body is not a form", status=400)
        account = wh.callback_account(form)
        if not await signed(request, form, [account] if account else []):
            return refused("trusthub", "bad or missing X-Twilio-Signature", workflow_id=workflow_id)
        if not workflow_id:
            log.info("webhook_ignored", kind="trusthub", reason="no workflow_id in the callback URL")
            return Response(status_code=204)
        if token is None and not settings.a2p_accept_untokened_callbacks:
            return refused("trusthub", "callback URL without its token (A2P_ACCEPT_UNTOKENED_CALLBACKS is off)",
                           workflow_id=workflow_id)
        if token is not None and not wh.same_secret(token, settings.callback_token(workflow_id)):
            return refused("trusthub", "the URL's token is not this workflow id's", workflow_id=workflow_id)
        delivery = request.headers.get(wh.IDEMPOTENCY_HEADER) or None
        event = wh.bundle_event(form, delivery or f"received/{time.time_ns()}")
        if event is None:
            log.info("webhook_ignored", kind="trusthub", reason="no BundleSid or Status", workflow_id=workflow_id)
            return Response(status_code=204)
        key = wh.callback_key(workflow_id, form, delivery)
        seen: wh.Seen = request.app.state.seen
        state = seen.state(key)
        if state == "done":
            log.debug("webhook_replayed", kind="trusthub", workflow_id=workflow_id)
            return Response(status_code=204)
        if state == "busy" or not seen.claim(key):
            return Response(status_code=409, headers={"Retry-After": "1"})
        ok = False
        try:
            await _within(_signal(c, workflow_id, "bundle_event", event), webhook_budget_seconds, "trusthub")
            ok = True
        finally:
            seen.done(key, ok)
        return Response(status_code=204)

    @app.post("/webhooks/events", status_code=204, response_class=Response, responses=WEBHOOK_RESPONSES)
    async def event_streams(request: Request, c: Client = Depends(temporal)) -> Response:
        """The Event Streams sink (`<A2P_PUBLIC_BASE_URL>/webhooks/events`): a JSON array of
        CloudEvents about brands and campaigns, each signalled to the registration owning the SID
        (found by search attribute). Unknown types and SIDs are acknowledged and logged; events
        seen before are acknowledged and not signalled again."""
        body = await request.body()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        events: Any = None
        parsed = False
        if text is not None:
            with contextlib.suppress(ValueError, RecursionError):
                events, parsed = json.loads(text), True
        has_signature = "X-Twilio-Signature" in request.headers and "bodySHA256" in request.query_params
        authentic = _valid_basic(settings, request.headers) or (has_signature and text is not None and await signed(
            request, text, wh.event_accounts(events if isinstance(events, list) else [events]) if parsed else []))
        if not authentic:
            return refused("event_streams", "bad or missing signature / credentials")
        if not parsed:
            log.warning("webhook_ignored", kind="event_streams", reason="body is not JSON")
            return Response(status_code=400)
        if isinstance(events, dict):
            events = [events]
        if not isinstance(events, list):
            log.info("webhook_ignored", kind="event_streams", reason="not a JSON array of events")
            return Response(status_code=204)
        await _within(_deliver_events(c, request.app.state.routes, request.app.state.seen, slots, events),
                      webhook_budget_seconds, "event_streams")
        return Response(status_code=204)

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

    def api_check(headers: Headers, _query: str):
        return _api_key_refusal(settings, headers)

    def codec_check(headers: Headers, _query: str):
        body = codec_server.codec_key_refusal(settings, headers.get("Authorization"))
        return None if body is None else (401, body, {"WWW-Authenticate": "Bearer"})

    def trusthub_check(headers: Headers, _query: str):
        if headers.get("X-Twilio-Signature"):
            return None
        refusals.warning("webhook_refused", kind="trusthub", reason="no X-Twilio-Signature")
        return 403, {"error": "not signed"}, {}

    def events_check(headers: Headers, query: str):
        if (headers.get("X-Twilio-Signature") and "bodySHA256=" in query) or _valid_basic(settings, headers):
            return None
        refusals.warning("webhook_refused", kind="event_streams", reason="no signature or valid Basic credentials")
        return 403, {"error": "not signed"}, {}

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


def _api_key_refusal(settings: Settings, headers: Headers):
    """None when the request carries ``Authorization: Bearer <A2P_SERVICE_API_KEY>``, else the 401."""
    expected = settings.a2p_service_api_key
    scheme, _, given = headers.get("Authorization", "").partition(" ")
    if expected is not None and scheme.lower() == "bearer" and wh.same_secret(given.strip(),
                                                                              expected.get_secret_value()):
        return None
    return (401, {"error": "a valid 'Authorization: Bearer <A2P_SERVICE_API_KEY>' is required"},
            {"WWW-Authenticate": "Bearer"})


# ---- page tokens: Temporal's, sealed, so that only tokens this API gave out reach Temporal --------


def _seal_page_token(key: bytes, raw: bytes) -> str:
    tag = hmac.new(key, raw, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(tag + raw).decode().rstrip("=")


def _open_page_token(key: bytes, token: str) -> bytes:
    try:
        sealed = base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        sealed = b""
    tag, raw = sealed[:16], sealed[16:]
    if not raw or not hmac.compare_digest(tag, hmac.new(key, raw, hashlib.sha256).digest()[:16]):
        raise HTTPException(status_code=422, detail={"error": "invalid request", "fields": [
            {"field": "page_token", "message": "is not a token this API returned (pass next_page_token as it was "
                                               "given)"}]})
    return raw


# ---- Temporal --------------------------------------------------------------------------------


async def _connect(settings: Settings) -> Client:
    """Connect as the worker and the CLI do (a2p.temporal_client: data converter, payload
    encryption, TLS / API key); the service does not start without Temporal."""
    try:
        return await connect(settings)
    except RuntimeError as err:
        log.error("temporal_unreachable", address=settings.temporal_address, error=str(err))
        raise


_TRANSIENT = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED,
              RPCStatusCode.ABORTED, RPCStatusCode.CANCELLED, RPCStatusCode.INTERNAL, RPCStatusCode.UNKNOWN}


def _unreachable(err: BaseException) -> bool:
    """Temporal down, unreachable or overloaded (a lazy client that cannot connect raises a
    RuntimeError "Failed client connect")."""
    if isinstance(err, RPCError):
        return err.status in _TRANSIENT
    return isinstance(err, (ConnectionError, asyncio.TimeoutError)) or (
        isinstance(err, RuntimeError) and "client connect" in str(err))


async def _api(awaitable: Awaitable[T]) -> T:
    try:
        return await awaitable
    except registrations.NotAnswered as err:
        log.warning("temporal_not_answered", reason=str(err))
        raise HTTPException(status_code=503, headers={"Retry-After": RETRY_AFTER_NO_WORKER}, detail={
            "error": "no worker is running" if err.no_worker else "no answer from the registration in time",
            "reason": str(err), "may_apply_later": err.may_apply_later}) from None
    except Exception as err:
        if _unreachable(err):
            log.warning("temporal_unavailable", error=str(err))
            raise HTTPException(status_code=503, detail={"error": "Temporal is unavailable; try again",
                                                         "may_apply_later": False},
                                headers={"Retry-After": "5"}) from None
        raise


async def _found(awaitable: Awaitable[T], workflow_id: str) -> T:
    try:
        return await _api(awaitable)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(status_code=404, detail=f"no registration {workflow_id}") from None
        raise


async def _update(client: Client, awaitable: Awaitable[RegistrationStatus], workflow_id: str) -> RegistrationStatus:
    """A workflow Update: its validator's refusal is a 422 with the reason (nothing changed); an
    update of a registration that has ended is refused the same way."""
    try:
        return await _found(awaitable, workflow_id)
    except registrations.UpdateRefused as err:
        raise HTTPException(status_code=422, detail={"error": "refused by the registration",
                                                     "reason": str(err)}) from None
    except HTTPException as err:
        if err.status_code != 404:
            raise
        desc = await _found(registrations.describe(client, workflow_id), workflow_id)
        status = desc.status.name if desc.status is not None else "CLOSED"
        raise HTTPException(status_code=422, detail={
            "error": "refused by the registration", "reason": f"the registration has ended (workflow {status})",
        }) from None


# ---- webhooks --------------------------------------------------------------------------------


async def _within(awaitable: Awaitable[Any], budget: float, kind: str) -> None:
    """Run the webhook's Temporal work within Twilio's budget; when Temporal cannot be reached
    (the client retries UNAVAILABLE for longer than Twilio waits), answer 503 so Twilio
    re-delivers — what was done is remembered, so a re-delivery only does the rest."""
    try:
        await asyncio.wait_for(awaitable, budget)
    except HTTPException:
        raise
    except Exception as err:  # noqa: BLE001 - anything not delivered must be re-delivered
        transient = _unreachable(err)
        log.warning("webhook_not_delivered", kind=kind, error=str(err) or type(err).__name__,
                    reason="Temporal unreachable or slow" if transient else "unexpected error", exc_info=not transient)
        raise HTTPException(status_code=503, detail="could not reach the registrations; re-deliver",
                            headers={"Retry-After": "5"}) from None


def _public_url(settings: Settings, request: Request) -> str:
    """The URL Twilio signed: the public base URL the callback was registered with, not the one
    this process sees behind a proxy; the query string exactly as received."""
    base = settings.a2p_public_base_url or str(request.base_url).rstrip("/")
    query = request.url.query
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


def _valid_basic(settings: Settings, headers: Headers) -> bool:
    """Basic credentials in the Event Streams sink URL (https://user:password@host/webhooks/events)."""
    user, password = settings.a2p_event_sink_username, settings.a2p_event_sink_password
    given = wh.basic_credentials(headers.get("Authorization"))
    if not (user and password and given):
        return False
    return wh.same_secret(given[0], user.encode()) & wh.same_secret(given[1], password.get_secret_value().encode())


async def _signal(client: Client, workflow_id: str, name: str, event: BaseModel) -> None:
    """Signal the registration. An unknown or ended one is acknowledged and logged (never a
    re-delivery loop); other failures propagate (-> 503, Twilio re-delivers)."""
    try:
        await registrations.signal(client, workflow_id, name, event)
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            log.info("webhook_for_unknown_registration", workflow_id=workflow_id, signal=name, error=err.message)
            return
        raise
    log.info("webhook_signalled", workflow_id=workflow_id, signal=name,
             **{k: v for k, v in event.model_dump(include={"bundle_sid", "brand_sid", "campaign_sid", "status",
                                                           "identity_status"}).items() if v is not None})


async def _deliver_events(client: Client, routes: wh.Routes, seen: wh.Seen, slots: asyncio.Semaphore,
                          events: list[Any]) -> None:
    """A delivery's events: those seen before dropped, the rest folded into one signal per SID,
    routed and signalled with bounded concurrency. What was handled is remembered as it completes,
    so a re-delivery after a timeout only does what is left."""
    routed: list[wh.Routed] = []
    for event in events:
        r = wh.parse_event(event)
        if isinstance(r, wh.Ignored):
            log.info("event_ignored", type=r.type or None, event_id=r.event_id or None, reason=r.reason)
            if r.event_id:
                seen.remember(r.event_id)
        elif seen.state(r.event.event_id) == "new":
            routed.append(r)
        else:
            log.debug("event_replayed", event_id=r.event.event_id)

    async def one(r: wh.Routed) -> None:
        ids = [i for i in r.event_ids if seen.claim(i)]
        if not ids:
            return
        ok = False
        try:
            async with slots:
                workflow_id = await _route(client, routes, r)
                if workflow_id is None:
                    log.info("event_ignored", type=r.signal, event_id=r.event.event_id, sid=r.sid,
                             reason="no registration owns this SID")
                else:
                    await _signal(client, workflow_id, r.signal, r.event)
            ok = True
        finally:
            for i in ids:
                seen.done(i, ok)

    await asyncio.gather(*(one(r) for r in wh.fold(routed)))


async def _route(client: Client, routes: wh.Routes, r: wh.Routed) -> str | None:
    known = routes.get(r.sid)
    if known is not False:
        return known  # type: ignore[return-value]
    workflow_id = None
    for attribute, value in r.lookups:
        workflow_id = await _find_workflow(client, attribute, value)
        if workflow_id is not None:
            break
    routes.put(r.sid, workflow_id)
    return workflow_id


async def _find_workflow(client: Client, attribute: str, sid: str) -> str | None:
    """The registration whose search attribute ``attribute`` is ``sid`` (no scan: a visibility query)."""
    if not (sid and sid.isascii() and sid.isalnum()):
        return None

    async def first() -> str | None:
        async for wf in client.list_workflows(f"{attribute} = '{sid}'", limit=1, page_size=1,
                                              rpc_timeout=registrations.RPC_TIMEOUT):
            return wf.id
        return None

    return await registrations.bounded(first())


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
