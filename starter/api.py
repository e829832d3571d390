"""The signup API (``/v1``): start, inspect, list, correct and steer registrations, for the
ISV's signup service, with ``Authorization: Bearer <A2P_SERVICE_API_KEY>``.

Every call to Temporal goes through starter/registrations.py, bounded in time; what cannot be
done is answered with the reason: **422** refused (nothing changed; ``accepts`` says what the
registration takes instead), **404** no such registration, **503** with ``Retry-After`` when
Temporal is unreachable or no worker answers (``may_apply_later`` says whether an Update that
reached Temporal may still be applied), **202** when the registration accepted an action whose
effect is still being applied (with the status so far).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
from collections.abc import Awaitable
from typing import Annotated, Any, Literal, TypeVar

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from a2p.progress import OperatorDecision, RegistrationStatus
from a2p.requests import Correction, LegacyConversionRequest, RegistrationRequest
from infra.settings import Settings
from infra.temporal_client import web_ui_link
from starter import batch, overview, registrations
from starter.webhooks import same_secret

log = structlog.get_logger("a2p.service")

T = TypeVar("T")

RETRY_AFTER_NO_WORKER = "10"

class Started(BaseModel):
    workflow_id: str
    created: bool = Field(description="false: the customer already had this registration, which is returned")
    status_url: str
    web_ui: str


class RegistrationView(BaseModel):
    status: RegistrationStatus
    web_ui: str = Field(description="the workflow in the Temporal Web UI")
    running: bool
    pending_calls: list[overview.PendingCall] = Field(
        default_factory=list, description="the Twilio call it is on: attempt, last failure, how long retries go on")


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
    accepts: list[str] | None = Field(None, description="422 refused by the registration: what it accepts now "
                                                        "besides cancel (its problem's `accepts`; `resend_otp` "
                                                        "while it waits for the OTP; [] once it has ended)")
    correction_fields: list[str] | None = Field(None, description="422 refused by the registration: the fields "
                                                                  "a correction may change now")
    may_apply_later: bool | None = Field(None, description="503 after an Update: it reached Temporal and may "
                                                           "still be applied when a worker runs again")


class BeingApplied(BaseModel):
    accepted: bool = True
    state: Literal["being applied"] = "being applied"
    reason: str
    status: RegistrationStatus | None = Field(None, description="the registration's status so far")


ACTION_ANSWERS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody},
    202: {"model": BeingApplied, "description": "accepted by the registration, still being applied (e.g. its "
                                                "Twilio call is retried): do not send it again; its status "
                                                "shows when it is done"},
}

API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "the body is not JSON, or nested too deeply"},
    401: {"model": ErrorBody, "description": "missing or wrong API key"},
    413: {"model": ErrorBody, "description": "the body is larger than this endpoint accepts"},
    422: {"model": ErrorBody, "description": "invalid request (every invalid field named) or refused"},
    503: {"model": ErrorBody, "description": "Temporal is unreachable, or no worker answered: try again "
                                             "after Retry-After"},
}

def temporal(request: Request) -> Client:
    return request.app.state.client


def authed(settings: Settings) -> Any:
    """The dependency of every ``/v1`` route: the bearer key (also described in the OpenAPI
    document). starter/gate.py has checked it already, before the body was read."""
    bearer = HTTPBearer(auto_error=False, description="A2P_SERVICE_API_KEY")

    def api_key(request: Request, _: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        refusal = api_key_refusal(settings, request.headers)
        if refusal is not None:
            status, body, headers = refusal
            raise HTTPException(status_code=status, detail=body, headers=headers)

    return Depends(api_key)


def router(settings: Settings, Authed: Any) -> APIRouter:  # noqa: N803 - reads as the dependency it is
    """The ``/v1`` routes; ``Authed``: :func:`authed`'s dependency."""
    api = APIRouter()
    page_key = hashlib.sha256(b"a2p page token\0" + settings.callback_token("page tokens").encode()).digest()

    def started_view(request: Request, s: registrations.Started) -> Started:
        path = request.app.url_path_for("get_registration", workflow_id=s.workflow_id)
        base = settings.a2p_public_base_url or str(request.base_url).rstrip("/")
        return Started(workflow_id=s.workflow_id, created=s.created, status_url=f"{base}{path}",
                       web_ui=web_ui_link(settings, s.workflow_id))

    # ---- the signup API ------------------------------------------------------------------------

    @api.post("/v1/registrations", status_code=201, response_model=Started, dependencies=[Authed],
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

    @api.post("/v1/conversions", status_code=201, response_model=Started, dependencies=[Authed],
              responses={200: {"model": Started, "description": "the customer already has a conversion"},
                         **API_ERRORS})
    async def start_conversion(body: LegacyConversionRequest, request: Request, response: Response,
                               c: Client = Depends(temporal)) -> Started:
        """Start converting a customer's legacy Starter brand (idempotent per ISV customer id)."""
        s = await _api(registrations.start_conversion(c, settings, body))
        response.status_code = 201 if s.created else 200
        return started_view(request, s)

    @api.post("/v1/conversions/batch", response_model=BatchResult, dependencies=[Authed], responses=API_ERRORS)
    async def start_conversions(body: list[dict[str, Any]], request: Request,
                                c: Client = Depends(temporal)) -> BatchResult:
        """Start many conversions: one workflow per customer (a customer's existing one is given
        back); invalid items are listed with their field errors and not started."""
        result = await _api(batch.start_conversions(c, settings, body, raise_on_error=True))
        invalid = [{"index": o.index, "isv_customer_id": o.isv_customer_id, "fields": o.fields}
                   for o in result.items if o.outcome == "invalid"]
        views = [started_view(request, registrations.Started(o.workflow_id, o.run_id, o.outcome == "created"))
                 for o in result.items if o.outcome in ("created", "existing") and o.workflow_id]
        return BatchResult(total=result.total, created=result.created, existing=result.existing,
                           invalid=invalid, started=views)

    @api.get("/v1/registrations/{workflow_id}", response_model=RegistrationView, dependencies=[Authed],
             name="get_registration", responses={404: {"model": ErrorBody}, **API_ERRORS})
    async def get_registration(workflow_id: str, c: Client = Depends(temporal)) -> RegistrationView:
        """Where a registration stands: phase, SIDs, statuses, what it waits for, errors with
        Twilio's codes explained, OTP attempts and deadline, timeline; and its Web UI link."""
        desc = await _found(registrations.describe(c, workflow_id), workflow_id)
        status = await _found(registrations.get_status(c, workflow_id), workflow_id)
        return RegistrationView(status=status, web_ui=web_ui_link(settings, workflow_id),
                                running=desc.status is not None and desc.status.name == "RUNNING",
                                pending_calls=overview.pending_calls(desc))

    @api.get("/v1/registrations", response_model=RegistrationList, dependencies=[Authed], responses=API_ERRORS)
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

    @api.post("/v1/registrations/{workflow_id}/corrections", response_model=RegistrationStatus,
              dependencies=[Authed], responses={**ACTION_ANSWERS, **API_ERRORS})
    async def correct(workflow_id: str, body: Correction, c: Client = Depends(temporal)) -> RegistrationStatus | JSONResponse:
        """Fix what Twilio rejected (the workflow's `correct` Update). Answers once the fix is
        applied; refused with 422 and the reason (nothing changed) when it cannot apply."""
        return await _update(c, registrations.correct(c, workflow_id, body), workflow_id)

    @api.post("/v1/registrations/{workflow_id}/actions/resend-otp", response_model=RegistrationStatus,
              dependencies=[Authed], responses={**ACTION_ANSWERS, **API_ERRORS})
    async def resend_otp(workflow_id: str, c: Client = Depends(temporal)) -> RegistrationStatus | JSONResponse:
        """Re-send the OTP to the customer's mobile number now (while waiting for the OTP)."""
        return await _update(c, registrations.resend_otp(c, workflow_id), workflow_id)

    @api.post("/v1/registrations/{workflow_id}/actions/decide", response_model=RegistrationStatus,
              dependencies=[Authed], responses={**ACTION_ANSWERS, **API_ERRORS})
    async def decide(workflow_id: str, body: OperatorDecision,
                     c: Client = Depends(temporal)) -> RegistrationStatus | JSONResponse:
        """An operator's decision for a parked registration: `retry` or `end` (NEEDS_ATTENTION),
        `resend_otp_and_wait` or `end` (OTP_EXPIRED)."""
        return await _update(c, registrations.decide(c, workflow_id, body), workflow_id)

    @api.post("/v1/registrations/{workflow_id}/actions/cancel", response_model=RegistrationStatus,
              dependencies=[Authed], responses={**ACTION_ANSWERS, **API_ERRORS})
    async def cancel(workflow_id: str, c: Client = Depends(temporal),
                     body: CancelBody | None = None) -> RegistrationStatus | JSONResponse:
        """Cancel a registration (refused once it has ended)."""
        reason = (body or CancelBody()).reason
        return await _update(c, registrations.cancel(c, workflow_id, reason), workflow_id)

    return api

def api_key_refusal(settings: Settings, headers: Headers):
    """None when the request carries ``Authorization: Bearer <A2P_SERVICE_API_KEY>``, else the 401."""
    expected = settings.a2p_service_api_key
    scheme, _, given = headers.get("Authorization", "").partition(" ")
    if expected is not None and scheme.lower() == "bearer" and same_secret(given.strip(),
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


# ---- Temporal's answers -----------------------------------------------------------------------

_TRANSIENT = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED,
              RPCStatusCode.ABORTED, RPCStatusCode.CANCELLED, RPCStatusCode.INTERNAL, RPCStatusCode.UNKNOWN}


def unreachable(err: BaseException) -> bool:
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
        if unreachable(err):
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


async def _update(client: Client, awaitable: Awaitable[RegistrationStatus],
                  workflow_id: str) -> RegistrationStatus | JSONResponse:
    """A workflow Update: its refusal is a 422 with the reason and what the registration accepts
    (nothing changed); an update of a registration that has ended is refused the same way; one
    accepted but still being applied when the bound runs out is a 202 with the status so far."""
    try:
        return await _found(awaitable, workflow_id)
    except registrations.UpdateRefused as err:
        raise HTTPException(status_code=422, detail=ErrorBody(
            error="refused by the registration", reason=str(err), accepts=err.accepts,
            correction_fields=err.correction_fields).model_dump(exclude_none=True)) from None
    except registrations.BeingApplied as err:
        log.info("update_being_applied", workflow_id=workflow_id)
        return JSONResponse(status_code=202, content=BeingApplied(reason=str(err), status=err.status)
                            .model_dump(mode="json"))
    except HTTPException as err:
        if err.status_code != 404:
            raise
        desc = await _found(registrations.describe(client, workflow_id), workflow_id)
        status = desc.status.name if desc.status is not None else "CLOSED"
        raise HTTPException(status_code=422, detail={
            "error": "refused by the registration", "accepts": [], "correction_fields": [],
            "reason": f"the registration has ended (workflow {status}) and accepts nothing more",
        }) from None
