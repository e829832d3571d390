"""Twilio's webhooks, the I/O side: ``/webhooks/trusthub`` (bundle status callbacks) and
``/webhooks/events`` (the Event Streams sink) become workflow signals. Who signed a delivery,
what it says and whether it was seen before is decided by starter/webhooks.py; this module
reads subaccount tokens, finds the registration and signals it, within Twilio's budget.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from typing import Any
from urllib.parse import parse_qsl

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel
from starlette.datastructures import Headers
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from a2p.constants import BUNDLE_STATUSES
from infra.settings import Settings
from starter import registrations
from starter import webhooks as wh
from starter.api import temporal, unreachable
from starter.gate import Peek
from starter.subaccounts import SubaccountTokens

log = structlog.get_logger("a2p.service")

WEBHOOK_BUDGET_SECONDS = 4.0  # Twilio gives a sink 5 s: answer (503 at worst) before that
WEBHOOK_CONCURRENCY = 16      # route lookups and signals in flight per service

WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    204: {"description": "accepted (also replays, and events about unknown registrations: they are logged)"},
    400: {"description": "signed, but not a body Twilio sends"},
    403: {"description": "not signed by Twilio (X-Twilio-Signature) nor with the sink's Basic credentials, or "
                         "a status callback whose URL token does not match its workflow id"},
    409: {"description": "the same delivery is being handled right now: re-deliver later"},
    413: {"description": "the body is larger than Twilio sends"},
    503: {"description": "Temporal is unreachable: Twilio re-delivers"},
}

# The bodies Twilio sends, as the OpenAPI document describes them (the routes read them raw: the
# signature covers the exact form pairs, or the exact JSON text through its SHA-256).
TRUSTHUB_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": ["AccountSid", "BundleSid", "Status"],
        "properties": {"AccountSid": {"type": "string"}, "BundleSid": {"type": "string"},
                       "Status": {"type": "string", "enum": list(BUNDLE_STATUSES)},
                       "FailureReason": {"type": "string"}}}}}}}
EVENTS_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "array", "items": {
        "type": "object", "required": ["id", "type", "time", "data"],
        "properties": {
            "specversion": {"type": "string"}, "id": {"type": "string"}, "source": {"type": "string"},
            "time": {"type": "string", "format": "date-time"},
            "type": {"type": "string", "enum": [f"{wh.EVENT_PREFIX}brand-registration.{t}" for t in wh.BRAND_TYPES]
                     + [f"{wh.EVENT_PREFIX}campaign-registration.{t}" for t in wh.CAMPAIGN_TYPES]},
            "data": {"type": "object", "properties": {
                "accountsid": {"type": "string"}, "brandsid": {"type": "string"},
                "campaignsid": {"type": "string"}, "brandstatus": {"type": "string"},
                "identitystatus": {"type": "string"}, "campaignregistrationstatus": {"type": "string"}}}}}}}}}}


def router(settings: Settings, subaccounts: SubaccountTokens, refusals: wh.RateLimitedLog, *,
           budget: float = WEBHOOK_BUDGET_SECONDS) -> APIRouter:
    """The ``/webhooks`` routes. ``refusals``: where refusals are logged (at a bounded rate)."""
    api = APIRouter()
    slots = asyncio.Semaphore(WEBHOOK_CONCURRENCY)

    def refused(kind: str, reason: str, status: int = 403, **fields: Any) -> Response:
        refusals.warning("webhook_refused", kind=kind, reason=reason, **fields)
        return Response(status_code=status)

    async def signed(request: Request, form: dict[str, str], account: str | None) -> bool:
        """Signed with the parent's auth token, or with the token of the subaccount it names."""
        url, signature = _public_url(settings, request), request.headers.get("X-Twilio-Signature")
        if wh.signed_by(_parent_token(settings), url, form, signature):
            return True
        return account is not None and wh.signed_by(await subaccounts.token(account), url, form, signature)

    @api.post("/webhooks/trusthub", status_code=204, response_class=Response, responses=WEBHOOK_RESPONSES,
              openapi_extra=TRUSTHUB_BODY)
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
        if workflow_id and (reason := _url_token_refusal(settings, workflow_id, token)):
            return refused("trusthub", reason, workflow_id=workflow_id)  # (the gate checked it first)
        # A subaccount's token is looked up only for a URL that names a registration (and, unless
        # untokened callbacks are accepted, carries its token: checked above).
        if not await signed(request, form, wh.callback_account(form) if workflow_id else None):
            return refused("trusthub", "bad or missing X-Twilio-Signature", workflow_id=workflow_id)
        if not workflow_id:
            log.info("webhook_ignored", kind="trusthub", reason="no workflow_id in the callback URL")
            return Response(status_code=204)
        delivery = request.headers.get(wh.IDEMPOTENCY_HEADER) or None
        event = wh.bundle_event(form, delivery or f"received/{time.time_ns()}")
        if event is None:
            log.info("webhook_ignored", kind="trusthub", reason="no BundleSid or Status", workflow_id=workflow_id)
            return Response(status_code=204)
        keys = wh.callback_keys(workflow_id, form, delivery)
        seen: wh.Seen = request.app.state.seen
        states = {seen.state(key) for key in keys}
        if "done" in states:
            log.debug("webhook_replayed", kind="trusthub", workflow_id=workflow_id)
            return Response(status_code=204)
        if "busy" in states or not seen.claim_all(list(keys)):
            return Response(status_code=409, headers={"Retry-After": "1"})
        ok = False
        try:
            await _within(_signal(c, workflow_id, "bundle_event", event), budget, "trusthub")
            ok = True
        finally:
            for key, ttl in keys.items():
                seen.done(key, ok, ttl=ttl)
        return Response(status_code=204)

    @api.post("/webhooks/events", status_code=204, response_class=Response, responses=WEBHOOK_RESPONSES,
              openapi_extra=EVENTS_BODY)
    async def event_streams(request: Request, c: Client = Depends(temporal)) -> Response:
        """The Event Streams sink (`<A2P_PUBLIC_BASE_URL>/webhooks/events`): a JSON array of
        CloudEvents about brands and campaigns, each signalled to the registration owning the SID
        (found by search attribute). Unknown types and SIDs are acknowledged and logged; events
        seen before are acknowledged and not signalled again."""
        signer = getattr(request.state, "webhook_signer", None)  # who signed the URL, as the gate found
        if signer is None:
            return refused("event_streams", "bad or missing signature / credentials")
        body = await request.body()
        if signer != "basic" and not wh.body_matches(body, request.query_params.get("bodySHA256")):
            return refused("event_streams", "the body is not the one the signature covers (bodySHA256)")
        try:
            events = json.loads(body)
        except (ValueError, RecursionError):
            log.warning("webhook_ignored", kind="event_streams", reason="body is not JSON")
            return Response(status_code=400)
        if isinstance(events, dict):
            events = [events]
        if not isinstance(events, list):
            log.info("webhook_ignored", kind="event_streams", reason="not a JSON array of events")
            return Response(status_code=204)
        await _within(_deliver_events(c, request.app.state.routes, request.app.state.seen, slots, events),
                      budget, "event_streams")
        return Response(status_code=204)

    return api


PEEK_BYTES = 64 * 1024  # of an Event Streams body not signed by the parent: where its account SIDs are looked for


def gate_checks(settings: Settings, refusals: wh.RateLimitedLog, subaccounts: SubaccountTokens):
    """What starter/gate.py checks before a webhook's body is read: (trusthub check, events check).

    A bundle callback needs a signature header and, when its URL names a workflow id, the URL's
    token for it (a stranger's callback never gets to a subaccount lookup). An Event Streams
    delivery needs the sink's Basic credentials or a signature of its URL — which carries the
    body's SHA-256 — by the parent account; failing that, by a subaccount named in the first
    PEEK_BYTES of the body (found by a bounded scan, never a parse): the rest of a forged body is
    never read. Who signed is left in ``request.state.webhook_signer`` for the route, which checks
    the body against its SHA-256 before parsing it."""

    def refusal(kind: str, reason: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        refusals.warning("webhook_refused", kind=kind, reason=reason)
        return 403, {"error": "not signed"}, {}

    def trusthub_check(request: Request):
        if not request.headers.get("X-Twilio-Signature"):
            return refusal("trusthub", "no X-Twilio-Signature")
        workflow_id = request.query_params.get("workflow_id")
        if workflow_id and (reason := _url_token_refusal(settings, workflow_id, request.query_params.get("token"))):
            return refusal("trusthub", reason)
        return None

    def events_check(request: Request):
        if _valid_basic(settings, request.headers):
            request.state.webhook_signer = "basic"
            return None
        signature = request.headers.get("X-Twilio-Signature")
        if not (signature and request.query_params.get("bodySHA256")):
            return refusal("event_streams", "no signature or valid Basic credentials")
        url = _public_url(settings, request)
        if wh.signed_by(_parent_token(settings), url, {}, signature):
            request.state.webhook_signer = "parent"
            return None

        async def by_a_subaccount(prefix: bytes):
            for account in wh.account_sids_in(prefix, settings.twilio_account_sid):
                if wh.signed_by(await subaccounts.token(account, bucket="events"), url, {}, signature):
                    request.state.webhook_signer = account
                    return None
            return refusal("event_streams", "bad signature")

        return Peek(PEEK_BYTES, by_a_subaccount)

    return trusthub_check, events_check


def _url_token_refusal(settings: Settings, workflow_id: str, token: str | None) -> str | None:
    """Why a callback URL's token does not bind it to ``workflow_id``, or None when it does."""
    if token is None:
        if settings.a2p_accept_untokened_callbacks:
            return None
        return "callback URL without its token (A2P_ACCEPT_UNTOKENED_CALLBACKS is off)"
    if not wh.same_secret(token, settings.callback_token(workflow_id)):
        return "the URL's token is not this workflow id's"
    return None


def _parent_token(settings: Settings) -> str | None:
    return settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None


# ---- webhooks --------------------------------------------------------------------------------


async def _within(awaitable: Awaitable[Any], budget: float, kind: str) -> None:
    """Run the webhook's Temporal work within Twilio's budget; when Temporal cannot be reached
    (the client retries UNAVAILABLE for longer than Twilio waits), answer 503 so Twilio
    re-delivers — what was done is remembered, so a re-delivery only does the rest."""
    try:
        await asyncio.wait_for(awaitable, budget)
    except HTTPException:
        raise
    except Exception as err:  # anything not delivered must be re-delivered
        transient = unreachable(err)
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

    claimed: list[tuple[wh.Routed, list[str]]] = []
    for r in wh.fold(routed):
        ids = [i for i in r.event_ids if seen.claim(i)]
        if ids:
            claimed.append((r, ids))

    async def one(r: wh.Routed) -> None:
        workflow_id = routes.get(r.sid)
        if not isinstance(workflow_id, str):  # None: nobody's; False: not looked up (cannot be, after _look_up)
            log.info("event_ignored", type=r.signal, event_id=r.event.event_id, sid=r.sid,
                     reason="no registration owns this SID")
            return
        async with slots:
            await _signal(client, workflow_id, r.signal, r.event)

    async def part(items: list[tuple[wh.Routed, list[str]]]) -> None:
        """Up to LOOKUP_CHUNK SIDs: one lookup, their signals; remembered as soon as done, so
        that a delivery cut off by the budget keeps what it did."""
        ok = False
        try:
            await _look_up(client, routes, slots, [r for r, _ in items if routes.get(r.sid) is False])
            await asyncio.gather(*(one(r) for r, _ in items))
            ok = True
        finally:
            for _, ids in items:
                for i in ids:
                    seen.done(i, ok)

    await asyncio.gather(*(part(claimed[n:n + LOOKUP_CHUNK]) for n in range(0, len(claimed), LOOKUP_CHUNK)))


LOOKUP_CHUNK = 100  # SIDs per visibility query


async def _look_up(client: Client, routes: wh.Routes, slots: asyncio.Semaphore, routed: list[wh.Routed]) -> None:
    """Find the registrations owning these SIDs — a visibility query per attribute for up to
    LOOKUP_CHUNK SIDs at once (``A2PBrandSid IN (...)``), never a scan — and remember the answers,
    owners and strangers alike (see wh.Routes). A campaign SID not found yet is looked up by its
    brand SID next."""
    pending = {r.sid: r for r in routed}
    for step in range(max((len(r.lookups) for r in routed), default=0)):
        wanted: dict[str, dict[str, list[str]]] = {}  # attribute -> value -> SIDs of the events
        for sid, r in pending.items():
            if step < len(r.lookups):
                attribute, value = r.lookups[step]
                if value and value.isascii() and value.isalnum():
                    wanted.setdefault(attribute, {}).setdefault(value, []).append(sid)
        queries = [(attribute, values[n:n + LOOKUP_CHUNK]) for attribute, by_value in wanted.items()
                   for values in [list(by_value)] for n in range(0, len(values), LOOKUP_CHUNK)]
        for (attribute, _), owners in zip(queries, await asyncio.gather(
                *(_owners(client, slots, attribute, values) for attribute, values in queries)), strict=True):
            for value, workflow_id in owners.items():
                for sid in wanted[attribute].get(value, []):
                    routes.put(sid, workflow_id)
                    pending.pop(sid, None)
    for sid in pending:
        routes.put(sid, None)


async def _owners(client: Client, slots: asyncio.Semaphore, attribute: str, values: list[str]) -> dict[str, str]:
    """value -> id of the workflow whose keyword search attribute ``attribute`` holds it."""
    key = SearchAttributeKey.for_keyword(attribute)
    quoted = ", ".join(f"'{v}'" for v in values)  # values are ASCII alphanumerics: nothing to escape

    async def listing() -> dict[str, str]:
        found: dict[str, str] = {}
        async for wf in client.list_workflows(f"{attribute} IN ({quoted})", page_size=len(values) * 2,
                                              limit=len(values) * 4, rpc_timeout=registrations.RPC_TIMEOUT):
            value = wf.typed_search_attributes.get(key)
            if value is not None:
                found.setdefault(value, wf.id)
        return found

    async with slots:
        return await registrations.bounded(listing())

