"""The registration service: the HTTP API the ISV's signup service calls to start, inspect and
correct registrations, and the endpoints where Twilio's webhooks become workflow signals.

FastAPI (on Starlette + uvicorn, the same stack as the sandbox): pydantic models are the request
bodies, so the `a2p` validation and its error messages are the API's, and the OpenAPI document
comes for free at /openapi.json (docs at /docs).

Run: `a2p service` (settings from the environment). Embedded (the demo, the tests):
``async with serving(create_app(settings, client), sock=bind()) as url: ...``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import socket
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, TypeVar

import structlog
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode
from twilio.request_validator import RequestValidator

from a2p import metrics
from a2p import search_attributes as sa
from a2p.metrics import runtime_for
from starter.stalls import watch_stalls
from a2p.calls import TwilioError
from a2p.progress import BrandEvent, BundleEvent, CampaignEvent, OperatorDecision, RegistrationStatus
from a2p.requests import Correction, LegacyConversionRequest, RegistrationRequest, format_validation_error
from a2p.settings import Settings
from a2p.temporal_client import connect, web_ui_link
from starter import batch, registrations

log = structlog.get_logger("a2p.service")

T = TypeVar("T")

EVENT_PREFIX = "com.twilio.messaging.compliance."
WEBHOOK_BUDGET_SECONDS = 4.0  # Twilio gives a sink 5 s: answer (503 at worst) before that
ROUTE_CACHE_SIZE = 10_000     # brand/campaign SID -> workflow id, most recently used kept


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


API_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "missing or wrong API key"},
    422: {"model": ErrorBody, "description": "invalid request (every invalid field named) or refused"},
    503: {"model": ErrorBody, "description": "Temporal is unreachable: try again"},
}
WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    204: {"description": "accepted (also for events about unknown registrations: they are logged)"},
    403: {"description": "not signed by Twilio (X-Twilio-Signature) nor with the sink's Basic credentials"},
    503: {"description": "Temporal is unreachable: Twilio re-delivers"},
}


def create_app(settings: Settings, client: Client | None = None, *,
               webhook_budget_seconds: float = WEBHOOK_BUDGET_SECONDS) -> FastAPI:
    """The app; connects to Temporal at start-up unless given a client (tests, the demo)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.client = client or await _connect(settings)
        stall_watch = asyncio.create_task(watch_stalls(app.state.client, settings, meter))  # starter/stalls.py
        if settings.a2p_service_api_key is None:
            log.warning("service_api_disabled", reason="A2P_SERVICE_API_KEY is not set: every API call is refused")
        if settings.twilio_auth_token is None and settings.a2p_event_sink_username is None:
            log.warning("webhooks_refused", reason="no TWILIO_AUTH_TOKEN to check signatures with and no "
                                                   "Event Streams Basic credentials: every webhook is refused")
        yield
        stall_watch.cancel()

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
    app.state.routes = OrderedDict()  # SID -> workflow id (LRU)
    bearer = HTTPBearer(auto_error=False, description="A2P_SERVICE_API_KEY")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"error": "invalid request", "fields": _fields(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = exc.detail if isinstance(exc.detail, dict) else {"error": str(exc.detail)}
        return JSONResponse(status_code=exc.status_code, content=body, headers=getattr(exc, "headers", None))

    def temporal(request: Request) -> Client:
        return request.app.state.client

    def api_key(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        expected = settings.a2p_service_api_key
        given = credentials.credentials if credentials is not None else ""
        if expected is None or not given or not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
            raise HTTPException(status_code=401,
                                detail="a valid 'Authorization: Bearer <A2P_SERVICE_API_KEY>' is required",
                                headers={"WWW-Authenticate": "Bearer"})

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
        status = await _found(registrations.get_status(c, workflow_id), workflow_id)
        desc = await _found(c.get_workflow_handle(workflow_id).describe(), workflow_id)
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
        try:
            token = base64.b64decode(page_token.encode(), altchars=b"-_", validate=True) if page_token else None
        except (binascii.Error, ValueError):
            raise HTTPException(status_code=422, detail="page_token: not a token this API returned") from None
        it = c.list_workflows(query, page_size=page_size, next_page_token=token)
        try:
            await _api(it.fetch_next_page(page_size=page_size))
        except RPCError as err:
            if err.status == RPCStatusCode.INVALID_ARGUMENT:
                raise HTTPException(status_code=422, detail=f"invalid listing: {err.message}") from None
            raise
        rows = [registrations.row(wf) for wf in it.current_page or []]
        next_token = base64.urlsafe_b64encode(it.next_page_token).decode() if it.next_page_token else None
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

    @app.post("/webhooks/trusthub", status_code=204, response_class=Response, responses=WEBHOOK_RESPONSES)
    async def trusthub_callback(request: Request, workflow_id: str | None = None,
                                c: Client = Depends(temporal)) -> Response:
        """A bundle's `status_callback` (form POST), set per bundle to
        `<A2P_PUBLIC_BASE_URL>/webhooks/trusthub?workflow_id=...`; checked against that exact URL
        and the auth token, then signalled to the registration as `bundle_event`."""
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not _valid_signature(settings, request, form):
            log.warning("webhook_refused", kind="trusthub", reason="bad or missing X-Twilio-Signature",
                        workflow_id=workflow_id)
            return Response(status_code=403)
        bundle_sid, status = form.get("BundleSid", ""), form.get("Status", "")
        if not (workflow_id and bundle_sid and status):
            log.warning("webhook_ignored", kind="trusthub", reason="no workflow_id, BundleSid or Status",
                        workflow_id=workflow_id, bundle_sid=bundle_sid)
            return Response(status_code=204)
        event = BundleEvent(bundle_sid=bundle_sid, status=status, failure_reason=form.get("FailureReason") or None)
        await _within(_signal(c, workflow_id, "bundle_event", event), webhook_budget_seconds, "trusthub")
        return Response(status_code=204)

    @app.post("/webhooks/events", status_code=204, response_class=Response, responses=WEBHOOK_RESPONSES)
    async def event_streams(request: Request, c: Client = Depends(temporal)) -> Response:
        """The Event Streams sink (`<A2P_PUBLIC_BASE_URL>/webhooks/events`): a JSON array of
        CloudEvents about brands and campaigns, each signalled to the registration owning the SID
        (found by search attribute). Unknown types and SIDs are acknowledged and logged."""
        body = await request.body()
        if not (_valid_json_signature(settings, request, body) or _valid_basic(settings, request)):
            log.warning("webhook_refused", kind="event_streams", reason="bad or missing signature / credentials")
            return Response(status_code=403)
        try:
            events = json.loads(body)
        except ValueError:
            log.warning("webhook_ignored", kind="event_streams", reason="body is not JSON")
            return Response(status_code=400)
        if isinstance(events, dict):
            events = [events]
        if not isinstance(events, list):
            log.warning("webhook_ignored", kind="event_streams", reason="not a JSON array of events")
            return Response(status_code=204)
        routes = request.app.state.routes
        await _within(asyncio.gather(*(_route_event(c, routes, e) for e in events)),
                      webhook_budget_seconds, "event_streams")
        return Response(status_code=204)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # ---- the Web UI's codec server: decrypted payloads for authorised operators ---------------

    codec = _codec(settings)

    def codec_key(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        expected = settings.a2p_codec_api_key
        given = credentials.credentials if credentials else ""
        if expected is None or not given or not hmac.compare_digest(given, expected.get_secret_value()):
            raise HTTPException(status_code=401, detail={"error": "a valid 'Authorization: Bearer <A2P_CODEC_API_KEY>' "
                                                                  "is required"}, headers={"WWW-Authenticate": "Bearer"})

    @app.post("/codec/decode", dependencies=[Depends(codec_key)], tags=["codec"])
    async def codec_decode(request: Request) -> JSONResponse:
        """Temporal's remote codec protocol: `{"payloads": [...]}` decrypted, for the Web UI/CLI."""
        return JSONResponse(await _run_codec(codec.decode if codec else None, await request.body()))

    @app.post("/codec/encode", dependencies=[Depends(codec_key)], tags=["codec"])
    async def codec_encode(request: Request) -> JSONResponse:
        """Temporal's remote codec protocol: `{"payloads": [...]}` encrypted."""
        return JSONResponse(await _run_codec(codec.encode if codec else None, await request.body()))

    origins = [o.strip() for o in settings.a2p_codec_cors_origins.split(",") if o.strip()]
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["POST", "OPTIONS"],
                       allow_headers=["Authorization", "Content-Type", "X-Namespace"], allow_credentials=True)

    meter = (runtime_for(settings.a2p_metrics_bind) or Runtime.default()).metric_meter
    webhooks_counter = meter.create_counter(metrics.WEBHOOKS, "Twilio webhook deliveries by kind and outcome")

    @app.middleware("http")
    async def count_webhooks(request: Request, call_next):
        response = await call_next(request)
        if request.url.path.startswith("/webhooks/"):
            code = response.status_code
            outcome = ("accepted" if code < 300 else "refused" if code in (401, 403) else
                       "unavailable" if code == 503 else "rejected")
            webhooks_counter.add(1, {"kind": request.url.path.rsplit("/", 1)[-1], "outcome": outcome})
        return response

    return app


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
    except Exception as err:
        if _unreachable(err):
            log.warning("temporal_unavailable", error=str(err))
            raise HTTPException(status_code=503, detail="Temporal is unavailable; try again",
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
        desc = await _found(client.get_workflow_handle(workflow_id).describe(), workflow_id)
        status = desc.status.name if desc.status is not None else "CLOSED"
        raise HTTPException(status_code=422, detail={
            "error": "refused by the registration", "reason": f"the registration has ended (workflow {status})",
        }) from None


# ---- webhooks --------------------------------------------------------------------------------


async def _within(awaitable: Awaitable[Any], budget: float, kind: str) -> None:
    """Run the webhook's Temporal work within Twilio's budget; when Temporal cannot be reached
    (the client retries UNAVAILABLE for longer than Twilio waits), answer 503 so Twilio
    re-delivers — re-deliveries are harmless (signals are idempotent)."""
    try:
        await asyncio.wait_for(awaitable, budget)
    except HTTPException:
        raise
    except Exception as err:  # noqa: BLE001 - anything not delivered must be re-delivered
        transient = _unreachable(err)
        log.warning("webhook_not_delivered", kind=kind, error=str(err) or type(err).__name__,
                    reason="Temporal unreachable" if transient else "unexpected error", exc_info=not transient)
        raise HTTPException(status_code=503, detail="could not reach the registrations; re-deliver",
                            headers={"Retry-After": "5"}) from None


def _public_url(settings: Settings, request: Request) -> str:
    """The URL Twilio signed: the public base URL the callback was registered with, not the one
    this process sees behind a proxy; the query string exactly as received."""
    base = settings.a2p_public_base_url or str(request.base_url).rstrip("/")
    query = request.url.query
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


def _validator(settings: Settings) -> RequestValidator | None:
    token = settings.twilio_auth_token
    return RequestValidator(token.get_secret_value()) if token else None


def _valid_signature(settings: Settings, request: Request, form: dict[str, str]) -> bool:
    validator, signature = _validator(settings), request.headers.get("X-Twilio-Signature")
    return bool(validator and signature and validator.validate(_public_url(settings, request), form, signature))


def _valid_json_signature(settings: Settings, request: Request, body: bytes) -> bool:
    """JSON bodies: the signature covers the URL including `bodySHA256`, which must be the
    body's hash (RequestValidator checks both)."""
    validator, signature = _validator(settings), request.headers.get("X-Twilio-Signature")
    if not (validator and signature and "bodySHA256" in request.query_params):
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(validator.validate(_public_url(settings, request), text, signature))


def _valid_basic(settings: Settings, request: Request) -> bool:
    """Basic credentials in the Event Streams sink URL (https://user:password@host/webhooks/events)."""
    user, password = settings.a2p_event_sink_username, settings.a2p_event_sink_password
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if not (user and password and scheme.lower() == "basic" and value):
        return False
    try:
        given_user, _, given_password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(given_user.encode(), user.encode()) and hmac.compare_digest(
        given_password.encode(), password.get_secret_value().encode())


def _codec(settings: Settings):
    if settings.a2p_payload_keys is None:
        return None
    from a2p.codec import EncryptionCodec, parse_keys

    return EncryptionCodec(parse_keys(settings.a2p_payload_keys.get_secret_value()))


async def _run_codec(transform, body: bytes) -> dict[str, Any]:
    from google.protobuf import json_format
    from temporalio.api.common.v1 import Payloads

    try:
        payloads = json_format.Parse(body or b"{}", Payloads())
    except json_format.ParseError as err:
        raise HTTPException(status_code=400, detail={"error": f"not Temporal payloads JSON: {err}"}) from None
    out = list(payloads.payloads) if transform is None else await transform(list(payloads.payloads))
    return json_format.MessageToDict(Payloads(payloads=out))


async def _signal(client: Client, workflow_id: str, name: str, event: BaseModel) -> None:
    """Signal the registration. An unknown or ended one is acknowledged and logged (never a
    re-delivery loop); other failures propagate (-> 503, Twilio re-delivers)."""
    try:
        await client.get_workflow_handle(workflow_id).signal(name, event)
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            log.info("webhook_for_unknown_registration", workflow_id=workflow_id, signal=name, error=err.message)
            return
        raise
    log.info("webhook_signalled", workflow_id=workflow_id, signal=name,
             **{k: v for k, v in event.model_dump(include={"bundle_sid", "brand_sid", "campaign_sid", "status",
                                                           "identity_status"}).items() if v is not None})


BRAND_TYPES: dict[str, tuple[str | None, str | None]] = {  # event -> (brand status, identity status) if data lacks them
    "brand-registered": ("APPROVED", None), "brand-failure": ("FAILED", None),
    "brand-verified": (None, "VERIFIED"), "brand-unverified": (None, "UNVERIFIED"),
    "brand-vetted-verified": (None, "VETTED_VERIFIED"), "brand-secondary-vetting-failure": (None, None),
}
CAMPAIGN_TYPES: dict[str, str] = {
    "campaign-submitted": "IN_PROGRESS", "campaign-approved": "VERIFIED", "campaign-failure": "FAILED",
}


async def _route_event(client: Client, routes: OrderedDict[str, str], event: Any) -> None:
    """One CloudEvent -> a signal to the registration owning its brand or campaign SID (found by
    search attribute, then remembered). Unknown types, malformed events and unknown SIDs are
    acknowledged and logged. Parsed defensively: Twilio's schema versions vary, so field names
    are matched case- and underscore-insensitively and unknown fields are ignored."""
    if not isinstance(event, dict):
        log.info("event_ignored", reason="not a JSON object")
        return
    etype = str(event.get("type") or "")
    data = _normalized(event.get("data"))
    event_id = str(event.get("id") or "") or f"{etype}/{event.get('time')}/{json.dumps(data, sort_keys=True, default=str)}"
    occurred = _time(event.get("time"))
    kind, _, name = etype.removeprefix(EVENT_PREFIX).partition(".")
    if not etype.startswith(EVENT_PREFIX):
        kind = ""
    signal: BaseModel
    if kind == "brand-registration" and name in BRAND_TYPES:
        sid = _text(data.get("brandsid"))
        status, identity = BRAND_TYPES[name]
        signal = BrandEvent(event_id=event_id, occurred_at=occurred, brand_sid=sid,
                            status=_status(data.get("brandstatus")) or status,
                            identity_status=_upper(data.get("identitystatus")) or identity,
                            errors=_errors(data.get("brandregistrationerrors") or data.get("errors")))
        lookups = [(sa.BRAND_SID, sid)]
        signal_name = "brand_event"
    elif kind == "campaign-registration" and name in CAMPAIGN_TYPES:
        sid = _text(data.get("campaignsid"))
        signal = CampaignEvent(event_id=event_id, occurred_at=occurred, campaign_sid=sid,
                               status=_status(data.get("campaignregistrationstatus")) or CAMPAIGN_TYPES[name],
                               errors=_errors(data.get("campaignregistrationerrors") or data.get("errors")))
        # The campaign SID is published when the campaign is created; its brand's long before.
        lookups = [(sa.CAMPAIGN_SID, sid), (sa.BRAND_SID, _text(data.get("brandsid")))]
        signal_name = "campaign_event"
    else:
        log.info("event_ignored", type=etype, event_id=event_id, reason="unknown event type")
        return
    if not sid:
        log.info("event_ignored", type=etype, event_id=event_id, reason="no SID in the event")
        return
    workflow_id = routes.get(sid)
    for key, value in lookups:
        if workflow_id is not None:
            break
        workflow_id = await _find_workflow(client, key, value)
    if workflow_id is None:
        log.info("event_ignored", type=etype, event_id=event_id, sid=sid, reason="no registration owns this SID")
        return
    routes[sid] = workflow_id
    routes.move_to_end(sid)
    while len(routes) > ROUTE_CACHE_SIZE:
        routes.popitem(last=False)
    await _signal(client, workflow_id, signal_name, signal)


async def _find_workflow(client: Client, key: SearchAttributeKey[str], sid: str) -> str | None:
    """The registration whose search attribute ``key`` is ``sid`` (no scan: a visibility query)."""
    if not (sid and sid.isascii() and sid.isalnum()):
        return None
    async for wf in client.list_workflows(f"{key.name} = '{sid}'", limit=1):
        return wf.id
    return None


def _normalized(data: Any) -> dict[str, Any]:
    if isinstance(data, str):
        with contextlib.suppress(ValueError):
            data = json.loads(data)
    if not isinstance(data, dict):
        return {}
    return {str(k).lower().replace("_", "").replace("-", ""): v for k, v in data.items()}


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, (str, int)) else ""


def _upper(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip().upper() or None


def _errors(raw: Any) -> list[TwilioError]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = [raw] if raw.strip() else []
    if isinstance(raw, dict):
        raw = [raw]
    out = []
    for e in raw if isinstance(raw, list) else []:
        if isinstance(e, dict):
            e = _normalized(e)
            code = e.get("code") or e.get("errorcode")
            message = e.get("message") or e.get("description") or e.get("errormessage") or json.dumps(e, default=str)
            out.append(TwilioError(code=int(code) if str(code or "").isdigit() else None, message=str(message)))
        elif e not in (None, ""):
            out.append(TwilioError(message=str(e)))
    return out


def _status(value: Any) -> str | None:
    value = _upper(value)
    return {"REGISTERED": "APPROVED", "REGISTRATION_FAILED": "FAILED"}.get(value, value) if value else None


def _time(value: Any) -> datetime:
    """The event's time, timezone-aware (a naive time is UTC); now when missing or unreadable."""
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(timezone.utc)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


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


# ---- serving ---------------------------------------------------------------------------------


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket for :func:`serving` (port 0: a free one) — bound first, so its URL can
    go into the settings (A2P_PUBLIC_BASE_URL) before the app is made."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _embedded_server(config: Any) -> Any:
    """uvicorn without its signal handlers: the embedding program owns SIGINT/SIGTERM."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # type: ignore[override]
            yield

    return Server(config)


@contextlib.asynccontextmanager
async def serving(app: FastAPI, host: str = "127.0.0.1", port: int = 0, *,
                  sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn inside this event loop until the context exits; yields its base
    URL. ``sock``: an already bound socket (see :func:`bind`), else ``host``/``port`` (0: free)."""
    import uvicorn

    sock = sock or bind(host, port)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = _embedded_server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the service stopped while starting")
            await asyncio.sleep(0.02)
        yield url_of(sock)
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task
        sock.close()


async def run_service(settings: Settings) -> None:
    """`a2p service`: serve until SIGINT/SIGTERM."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sock = bind(settings.a2p_service_host, settings.a2p_service_port)
    async with serving(create_app(settings), sock=sock) as url:
        public = settings.a2p_public_base_url or url
        log.info("service_started", url=url, docs=f"{url}/docs", openapi=f"{url}/openapi.json",
                 trusthub_status_callback=f"{public}/webhooks/trusthub?workflow_id=... (set per bundle)"
                 if settings.a2p_public_base_url else "none (A2P_PUBLIC_BASE_URL unset)",
                 event_streams_sink=f"{public}/webhooks/events")
        await stop.wait()
        log.info("service_stopping")
