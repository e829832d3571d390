"""The registration service: the HTTP API the ISV's signup service calls to start, inspect and
correct registrations, and the endpoints where Twilio's webhooks become workflow signals.

FastAPI (on Starlette + uvicorn, the same stack as the sandbox): pydantic models are the request
bodies, so the `a2p` validation and its error messages are the API's, and the OpenAPI document
comes for free at /openapi.json (docs at /docs).

Run: `a2p service` (settings from the environment).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

import structlog
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from twilio.request_validator import RequestValidator

from a2p import search_attributes as sa
from a2p.calls import TwilioError
from a2p.progress import BrandEvent, BundleEvent, CampaignEvent, OperatorDecision, RegistrationStatus
from a2p.requests import Correction, LegacyConversionRequest, RegistrationRequest, format_validation_error
from a2p.settings import Settings
from a2p.temporal_client import connect, web_ui_link
from starter import registrations

log = structlog.get_logger("a2p.service")

EVENT_PREFIX = "com.twilio.messaging.compliance."
WEBHOOK_BUDGET_SECONDS = 4.0  # Twilio gives a sink 5 s


class Started(BaseModel):
    workflow_id: str
    created: bool
    status_url: str
    web_ui: str


class RegistrationView(BaseModel):
    status: RegistrationStatus
    web_ui: str
    running: bool


class RegistrationList(BaseModel):
    registrations: list[dict[str, Any]]
    next_page_token: str | None = None


class CancelBody(BaseModel):
    reason: str = Field("cancelled through the API", max_length=500)


class BatchResult(BaseModel):
    total: int
    created: int
    existing: int
    invalid: list[dict[str, Any]]
    started: list[Started]


def create_app(settings: Settings, client: Client | None = None) -> FastAPI:
    """The app; connects to Temporal at start-up unless given a client (tests, the demo)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.client = client or await connect(settings)
        yield

    app = FastAPI(
        title="a2p-registrar", version="1",
        description="Start, inspect and correct A2P 10DLC sole proprietor registrations; receive Twilio webhooks.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.brand_routes = {}

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"error": "invalid request", "fields": _fields(exc)})

    def temporal(request: Request) -> Client:
        return request.app.state.client

    def api_key(authorization: Annotated[str | None, Header()] = None) -> None:
        expected = settings.a2p_service_api_key
        given = (authorization or "").removeprefix("Bearer ").strip()
        if expected is None or not given or not hmac.compare_digest(given, expected.get_secret_value()):
            raise HTTPException(status_code=401, detail="a valid 'Authorization: Bearer <A2P_SERVICE_API_KEY>' is required",
                                headers={"WWW-Authenticate": "Bearer"})

    Authed = Depends(api_key)

    def started_view(request: Request, s: registrations.Started) -> Started:
        return Started(workflow_id=s.workflow_id, created=s.created,
                       status_url=str(request.url_for("get_registration", workflow_id=s.workflow_id)),
                       web_ui=web_ui_link(settings, s.workflow_id))

    # ---- the signup API ------------------------------------------------------------------------

    @app.post("/v1/registrations", status_code=201, response_model=Started, dependencies=[Authed],
              responses={200: {"model": Started, "description": "the customer already has a registration"}})
    async def start_registration(body: RegistrationRequest, request: Request, response: Response,
                                 c: Client = Depends(temporal)) -> Started:
        """Start a new customer's registration (idempotent per ISV customer id)."""
        s = await _unavailable_as_503(registrations.start_registration(c, settings, body))
        response.status_code = 201 if s.created else 200
        return started_view(request, s)

    @app.post("/v1/conversions", status_code=201, response_model=Started, dependencies=[Authed],
              responses={200: {"model": Started, "description": "the customer already has a conversion"}})
    async def start_conversion(body: LegacyConversionRequest, request: Request, response: Response,
                               c: Client = Depends(temporal)) -> Started:
        """Start converting a customer's legacy Starter brand (idempotent per ISV customer id)."""
        s = await _unavailable_as_503(registrations.start_conversion(c, settings, body))
        response.status_code = 201 if s.created else 200
        return started_view(request, s)

    @app.post("/v1/conversions/batch", response_model=BatchResult, dependencies=[Authed])
    async def start_conversions(body: list[dict[str, Any]], request: Request,
                                c: Client = Depends(temporal)) -> BatchResult:
        """Start many conversions: one workflow per customer; invalid items are listed, not started."""
        invalid, valid = [], []
        for i, item in enumerate(body):
            try:
                valid.append(LegacyConversionRequest.model_validate(item))
            except ValidationError as err:
                invalid.append({"index": i, "isv_customer_id": item.get("isv_customer_id"),
                                "fields": format_validation_error(err)})
        results = await _unavailable_as_503(
            asyncio.gather(*(registrations.start_conversion(c, settings, r) for r in valid)))
        views = [started_view(request, s) for s in results]
        created = sum(1 for s in results if s.created)
        return BatchResult(total=len(body), created=created, existing=len(results) - created,
                           invalid=invalid, started=views)

    @app.get("/v1/registrations/{workflow_id}", response_model=RegistrationView, dependencies=[Authed],
             name="get_registration")
    async def get_registration(workflow_id: str, c: Client = Depends(temporal)) -> RegistrationView:
        """Where a registration stands: phase, SIDs, statuses, what it waits for, errors explained."""
        status = await _or_404(registrations.get_status(c, workflow_id), workflow_id)
        desc = await _or_404(c.get_workflow_handle(workflow_id).describe(), workflow_id)
        return RegistrationView(status=status, web_ui=web_ui_link(settings, workflow_id),
                                running=desc.status is not None and desc.status.name == "RUNNING")

    @app.get("/v1/registrations", response_model=RegistrationList, dependencies=[Authed])
    async def list_registrations(
        c: Client = Depends(temporal),
        phase: str | None = None, brand_status: str | None = None, campaign_status: str | None = None,
        flow: Literal["new", "legacy"] | None = None,
        page_size: Annotated[int, Query(ge=1, le=1000)] = 100, page_token: str | None = None,
    ) -> RegistrationList:
        """Registrations filtered by phase / brand status / campaign status (search attributes)."""
        try:
            query = registrations.visibility_query(phase, brand_status, campaign_status, flow)
        except ValueError as err:
            raise HTTPException(status_code=422, detail=str(err)) from None
        token = base64.urlsafe_b64decode(page_token) if page_token else None
        it = c.list_workflows(query, page_size=page_size, next_page_token=token)
        await _unavailable_as_503(it.fetch_next_page(page_size=page_size))
        rows = [registrations.row(wf) for wf in it.current_page or []]
        next_token = base64.urlsafe_b64encode(it.next_page_token).decode() if it.next_page_token else None
        return RegistrationList(registrations=rows, next_page_token=next_token)

    @app.post("/v1/registrations/{workflow_id}/corrections", response_model=RegistrationStatus, dependencies=[Authed])
    async def correct(workflow_id: str, body: Correction, c: Client = Depends(temporal)) -> RegistrationStatus:
        """Fix what Twilio rejected; refused with 422 (and nothing changed) when it cannot apply."""
        return await _update(registrations.correct(c, workflow_id, body), workflow_id)

    @app.post("/v1/registrations/{workflow_id}/actions/resend-otp", response_model=RegistrationStatus,
              dependencies=[Authed])
    async def resend_otp(workflow_id: str, c: Client = Depends(temporal)) -> RegistrationStatus:
        """Re-send the OTP to the customer's mobile number now."""
        return await _update(registrations.resend_otp(c, workflow_id), workflow_id)

    @app.post("/v1/registrations/{workflow_id}/actions/decide", response_model=RegistrationStatus,
              dependencies=[Authed])
    async def decide(workflow_id: str, body: OperatorDecision, c: Client = Depends(temporal)) -> RegistrationStatus:
        """An operator's decision for a parked registration: retry, end, or resend_otp_and_wait."""
        return await _update(registrations.decide(c, workflow_id, body), workflow_id)

    @app.post("/v1/registrations/{workflow_id}/actions/cancel", response_model=RegistrationStatus,
              dependencies=[Authed])
    async def cancel(workflow_id: str, body: CancelBody, c: Client = Depends(temporal)) -> RegistrationStatus:
        """Cancel a registration."""
        return await _update(registrations.cancel(c, workflow_id, body.reason), workflow_id)

    # ---- Twilio webhooks (signed by Twilio, no API key) --------------------------------------

    @app.post("/webhooks/trusthub", status_code=204, response_class=Response)
    async def trusthub_callback(request: Request, workflow_id: str, c: Client = Depends(temporal)) -> Response:
        """A bundle's status_callback: validated against the exact public URL, then signalled."""
        form = dict((await request.form()).items())
        if not _valid_signature(settings, request, form):
            log.warning("webhook_refused", kind="trusthub", reason="bad signature", workflow_id=workflow_id)
            return Response(status_code=403)
        event = BundleEvent(bundle_sid=str(form.get("BundleSid", "")), status=str(form.get("Status", "")),
                            failure_reason=str(form.get("FailureReason") or "") or None)
        await _signal(c, workflow_id, "bundle_event", event)
        return Response(status_code=204)

    @app.post("/webhooks/events", status_code=204, response_class=Response)
    async def event_streams(request: Request, c: Client = Depends(temporal)) -> Response:
        """Event Streams sink: a JSON array of CloudEvents about brands and campaigns."""
        body = await request.body()
        if not (_valid_json_signature(settings, request, body) or _valid_basic(settings, request)):
            log.warning("webhook_refused", kind="event_streams", reason="bad signature")
            return Response(status_code=403)
        try:
            events = json.loads(body)
        except ValueError:
            return Response(status_code=400)
        if isinstance(events, dict):
            events = [events]
        try:
            await asyncio.wait_for(
                asyncio.gather(*(_route_event(c, app.state.brand_routes, e) for e in events if isinstance(e, dict))),
                WEBHOOK_BUDGET_SECONDS)
        except asyncio.TimeoutError:
            return Response(status_code=503)  # Twilio re-delivers
        return Response(status_code=204)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


# ---- helpers ---------------------------------------------------------------------------------


def _fields(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p != "body"]
        msg = str(e.get("msg", "")).removeprefix("Value error, ")
        if e.get("type") == "missing":
            msg = "is required"
        elif e.get("type") == "extra_forbidden":
            msg = "is not a known field (check the spelling)"
        out.append({"field": ".".join(loc), "message": msg})
    return out


async def _unavailable_as_503(awaitable):
    try:
        return await awaitable
    except RPCError as err:
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise HTTPException(status_code=503, detail="Temporal is unavailable; try again",
                                headers={"Retry-After": "5"}) from None
        raise


async def _or_404(awaitable, workflow_id: str):
    try:
        return await _unavailable_as_503(awaitable)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(status_code=404, detail=f"no registration {workflow_id}") from None
        raise


async def _update(awaitable, workflow_id: str) -> RegistrationStatus:
    try:
        return await _or_404(awaitable, workflow_id)
    except registrations.UpdateRefused as err:
        raise HTTPException(status_code=422, detail={"error": "refused by the registration", "reason": str(err)}) from None


def _public_url(settings: Settings, request: Request) -> str:
    """The URL Twilio signed: the public base URL the callback was registered with, not the one
    this process sees behind a proxy."""
    base = settings.a2p_public_base_url or str(request.base_url).rstrip("/")
    query = request.url.query
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


def _validator(settings: Settings) -> RequestValidator | None:
    token = settings.twilio_auth_token
    return RequestValidator(token.get_secret_value()) if token else None


def _valid_signature(settings: Settings, request: Request, form: dict[str, Any]) -> bool:
    validator, signature = _validator(settings), request.headers.get("X-Twilio-Signature")
    return bool(validator and signature and validator.validate(_public_url(settings, request), form, signature))


def _valid_json_signature(settings: Settings, request: Request, body: bytes) -> bool:
    validator, signature = _validator(settings), request.headers.get("X-Twilio-Signature")
    if not (validator and signature and "bodySHA256" in request.query_params):
        return False
    return bool(validator.validate(_public_url(settings, request), body.decode("utf-8", "replace"), signature))


def _valid_basic(settings: Settings, request: Request) -> bool:
    user, password = settings.a2p_event_sink_username, settings.a2p_event_sink_password
    header = request.headers.get("Authorization", "")
    if not (user and password and header.startswith("Basic ")):
        return False
    try:
        given_user, _, given_password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    return hmac.compare_digest(given_user, user) and hmac.compare_digest(given_password, password.get_secret_value())


async def _signal(client: Client, workflow_id: str, name: str, event: BaseModel) -> None:
    """Signal the registration. An unknown or ended one is acknowledged and logged (never a
    re-delivery loop); Temporal being unreachable answers 503 so that Twilio re-delivers."""
    try:
        await client.get_workflow_handle(workflow_id).signal(name, event, rpc_timeout=_timeout())
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            log.info("webhook_for_unknown_registration", workflow_id=workflow_id, signal=name)
            return
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise HTTPException(status_code=503, detail="Temporal is unavailable; re-deliver") from None
        raise


def _timeout():
    from datetime import timedelta

    return timedelta(seconds=WEBHOOK_BUDGET_SECONDS)


def _errors(raw: Any) -> list[TwilioError]:
    out = []
    for e in raw or []:
        if isinstance(e, dict):
            code = e.get("code") or e.get("error_code") or e.get("errorcode")
            message = e.get("message") or e.get("description") or e.get("errormessage") or json.dumps(e)
            out.append(TwilioError(code=int(code) if str(code or "").isdigit() else None, message=str(message)))
        else:
            out.append(TwilioError(message=str(e)))
    return out


BRAND_TYPES = {
    "brand-registered": ("APPROVED", None), "brand-failure": ("FAILED", None),
    "brand-verified": (None, "VERIFIED"), "brand-unverified": (None, "UNVERIFIED"),
    "brand-vetted-verified": (None, "VETTED_VERIFIED"), "brand-secondary-vetting-failure": (None, None),
}
CAMPAIGN_TYPES = {"campaign-submitted": "PENDING", "campaign-approved": "VERIFIED", "campaign-failure": "FAILED"}


async def _route_event(client: Client, routes: dict[str, str], event: dict[str, Any]) -> None:
    """One CloudEvent -> a signal to the registration owning the brand or campaign SID (found by
    search attribute, remembered). Unknown types and SIDs are acknowledged and logged."""
    etype = str(event.get("type", ""))
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    event_id = str(event.get("id") or "")
    occurred = _time(event.get("time"))
    kind, _, name = etype.removeprefix(EVENT_PREFIX).partition(".")
    if kind == "brand-registration" and name in BRAND_TYPES:
        sid = str(data.get("brandsid") or "")
        status, identity = BRAND_TYPES[name]
        status = _status(data.get("brandstatus")) or status
        identity = data.get("identitystatus") or identity
        signal = BrandEvent(event_id=event_id, occurred_at=occurred, brand_sid=sid, status=status,
                            identity_status=identity, errors=_errors(data.get("brandregistrationerrors")))
        key, name_ = sa.BRAND_SID, "brand_event"
    elif kind == "campaign-registration" and name in CAMPAIGN_TYPES:
        sid = str(data.get("campaignsid") or "")
        status = data.get("campaignregistrationstatus") or CAMPAIGN_TYPES[name]
        signal = CampaignEvent(event_id=event_id, occurred_at=occurred, campaign_sid=sid, status=_status(status),
                               errors=_errors(data.get("campaignregistrationerrors")))
        key, name_ = sa.CAMPAIGN_SID, "campaign_event"
    else:
        log.info("event_ignored", type=etype, reason="unknown event type")
        return
    workflow_id = routes.get(sid) or await _find_workflow(client, key, sid)
    if workflow_id is None:
        log.info("event_ignored", type=etype, sid=sid, reason="no registration owns this SID")
        return
    routes[sid] = workflow_id
    await _signal(client, workflow_id, name_, signal)


async def _find_workflow(client: Client, key, sid: str) -> str | None:
    if not sid.isalnum():
        return None
    async for wf in client.list_workflows(f"{key.name} = '{sid}'", limit=1):
        return wf.id
    return None


def _status(value: Any) -> str | None:
    if not value:
        return None
    value = str(value).upper()
    return {"REGISTERED": "APPROVED", "REGISTRATION_FAILED": "FAILED"}.get(value, value)


def _time(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(timezone.utc)



@contextlib.asynccontextmanager
async def serving(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn inside this event loop until the context exits; yields its base
    URL (port 0: a free port)."""
    import socket

    import uvicorn

    sock = socket.socket()
    sock.bind((host, port))
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def run_service(settings: Settings) -> None:
    """`a2p service`: serve until SIGINT/SIGTERM."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with serving(create_app(settings), settings.a2p_service_host, settings.a2p_service_port) as url:
        log.info("service_started", url=url, openapi=f"{url}/openapi.json")
        await stop.wait()
