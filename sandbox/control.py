"""Control endpoints under ``/sandbox/`` (JSON in, JSON out, no authentication): what a test, a demo
or an ISV's CI uses to drive the sandbox — time, customers' phones, faults, fixtures, inspection.

See ``sandbox/README.md`` for the request and response shapes.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a2p import constants as c

from . import addresses, brands, messaging, scenarios, trusthub
from .clock import iso
from .config import AccountConfig
from .core import Sandbox
from .faults import FaultConfig
from .fixtures import LegacyFixture, legacy_customer
from .store import INDEXES, KINDS

SERIALIZERS: dict[str, Callable[[Sandbox, dict], dict]] = {
    "customer_profiles": lambda sb, r: trusthub.bundle_json(sb, r, trusthub.CP),
    "trust_products": lambda sb, r: trusthub.bundle_json(sb, r, trusthub.TP),
    "end_users": trusthub.end_user_json,
    "supporting_documents": trusthub.document_json,
    "entity_assignments": trusthub.assignment_json,
    "evaluations": trusthub.evaluation_json,
    "addresses": addresses.address_json,
    "brands": brands.brand_json,
    "services": messaging.service_json,
    "campaigns": messaging.campaign_json,
}


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


Handler = Callable[[Sandbox, dict, Request], Any]


def control(fn: Handler) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        sb: Sandbox = request.app.state.sandbox
        sb.started()
        body: dict = {}
        raw = await request.body()
        if raw.strip():
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                return JSONResponse({"error": "the body must be JSON"}, status_code=400)
            if not isinstance(body, dict):
                return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
        try:
            result = fn(sb, body, request)
            status = 200
            if isinstance(result, tuple):
                status, result = result
            return JSONResponse(result, status_code=status)
        except ControlError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        except ValidationError as exc:
            return JSONResponse({"error": "invalid request", "details": json.loads(exc.json())}, status_code=400)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        finally:
            sb.store.commit()

    endpoint.__name__ = fn.__name__
    return endpoint


def _account(sb: Sandbox, account_sid: str | None) -> str:
    account_sid = account_sid or sb.parent_sid
    if sb.store.get("accounts", account_sid) is None:
        raise ControlError(404, f"unknown account {account_sid}")
    return account_sid


# ---- endpoints -----------------------------------------------------------------------------
def health(sb: Sandbox, body: dict, request: Request) -> dict:
    return {"status": "ok", "now": iso(sb.now()), "parent_account_sid": sb.parent_sid}


def get_config(sb: Sandbox, body: dict, request: Request) -> dict:
    return sb.config.model_dump()


def set_config(sb: Sandbox, body: dict, request: Request) -> dict:
    return sb.update_config(body).model_dump()


def _clock(sb: Sandbox) -> dict:
    next_due = sb.scheduler.next_due()
    return {"now": iso(sb.now()), "epoch": sb.now(), "offset_seconds": sb.clock.offset,
            "pending_events": sb.store.count("events"), "next_due": iso(next_due)}


def get_clock(sb: Sandbox, body: dict, request: Request) -> dict:
    return _clock(sb)


class Advance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(..., ge=0)


def advance_clock(sb: Sandbox, body: dict, request: Request) -> dict:
    ran = sb.advance(Advance.model_validate(body).seconds)
    return {**_clock(sb), "events_run": ran}


class Subaccount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    friendly_name: str | None = None
    parent_sid: str | None = None


def create_subaccount(sb: Sandbox, body: dict, request: Request) -> tuple[int, dict]:
    spec = Subaccount.model_validate(body)
    account = sb.create_subaccount(spec.friendly_name, spec.parent_sid)
    return 201, {k: account[k] for k in ("sid", "auth_token", "friendly_name", "parent_sid")}


class ApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_sid: str | None = None
    friendly_name: str | None = None


def create_api_key(sb: Sandbox, body: dict, request: Request) -> tuple[int, dict]:
    spec = ApiKey.model_validate(body)
    key = sb.create_api_key(_account(sb, spec.account_sid), spec.friendly_name)
    return 201, {k: key[k] for k in ("sid", "secret", "account_sid", "friendly_name")}


class PhoneNumber(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_sid: str | None = None
    phone_number: str | None = None


def create_phone_number(sb: Sandbox, body: dict, request: Request) -> tuple[int, dict]:
    spec = PhoneNumber.model_validate(body)
    number = messaging.create_incoming_number(sb, _account(sb, spec.account_sid), spec.phone_number)
    return 201, {"sid": number["sid"], "phone_number": number["phone_number"], "account_sid": number["account_sid"]}


def _sms_json(sb: Sandbox, message: dict) -> dict:
    expires = message.get("expires_at")
    return {**{k: message.get(k) for k in ("sid", "direction", "kind", "to", "from", "body", "brand_sid",
                                           "account_sid", "status", "reason")},
            "sent_at": iso(message["sent_at"]), "expires_at": iso(expires),
            "expired": bool(expires is not None and (message["status"] == "expired" or sb.now() >= expires))}


def otp_messages(sb: Sandbox, body: dict, request: Request) -> dict:
    q = request.query_params
    to, brand_sid, direction = q.get("to"), q.get("brand_sid"), q.get("direction", "outbound")
    if to:
        candidates = sb.store.find("sms", "to", to)
    elif brand_sid:
        candidates = sb.store.find("sms", "brand_sid", brand_sid)
    else:
        candidates = list(sb.store.all("sms"))
    messages = [m for m in candidates if (brand_sid is None or m.get("brand_sid") == brand_sid)
                and (direction == "all" or m["direction"] == direction)]
    messages.sort(key=lambda m: (m["sent_at"], m["_seq"]))
    return {"messages": [_sms_json(sb, m) for m in messages]}


class OtpReply(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(..., alias="from")
    body: str = "YES"


def otp_reply(sb: Sandbox, body: dict, request: Request) -> dict:
    spec = OtpReply.model_validate(body)
    return brands.reply_otp(sb, spec.from_, spec.body)


def get_faults(sb: Sandbox, body: dict, request: Request) -> dict:
    return {"config": sb.faults.config.model_dump(), "counts": dict(sb.faults.counts),
            "accounts": {sid: cfg.model_dump() for sid, cfg in sb.faults.by_account.items()}}


def set_faults(sb: Sandbox, body: dict, request: Request) -> dict:
    sb.faults.set(FaultConfig.model_validate(body))
    return get_faults(sb, body, request)


def stats(sb: Sandbox, body: dict, request: Request) -> dict:
    """``?account_sid=AC...``: the requests that account authenticated (a test customer's own)."""
    return {
        "requests": sb.stats.snapshot(request.query_params.get("account_sid")),
        "resources": {k: n for k, n in sb.store.counts().items()},
        "faults": dict(sb.faults.counts),
        "webhooks": dict(sb.webhooks.counts),
        "scheduler": {"runs": sb.scheduler.runs, "failures": sb.scheduler.failures,
                      "pending": sb.store.count("events")},
    }


def requests_log(sb: Sandbox, body: dict, request: Request) -> dict:
    """``?account_sid=AC...``: the requests that account authenticated, in the order they were answered."""
    account_sid = request.query_params.get("account_sid")
    if not account_sid:
        raise ValueError("give account_sid: the requests are kept per authenticating account")
    return {"account_sid": account_sid, "requests": sb.stats.log(account_sid)}


def get_account_config(sb: Sandbox, body: dict, request: Request) -> dict:
    return sb.account_config(_account(sb, request.path_params["sid"]))


def set_account_config(sb: Sandbox, body: dict, request: Request) -> dict:
    """The account's own review delays and campaign-update switch (null: the sandbox's again)."""
    account_sid = _account(sb, request.path_params["sid"])
    return sb.update_account_config(account_sid, AccountConfig.model_validate(body).changes())


def resources(sb: Sandbox, body: dict, request: Request) -> dict:
    kind = request.path_params["kind"]
    if kind not in KINDS:
        raise ControlError(404, f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    filters = dict(request.query_params)
    account_sid = filters.get("account_sid")
    if account_sid and "account_sid" in INDEXES[kind]:
        records = sb.store.find(kind, "account_sid", account_sid)
    else:
        records = list(sb.store.all(kind))
    records = [r for r in records if all(str(r.get(k)) == v for k, v in filters.items())]
    serialize = SERIALIZERS.get(kind)
    items = []
    for rec in records:
        item = serialize(sb, rec) if serialize else {}
        extras = {k: v for k, v in rec.items() if k not in item and not k.startswith("_")}
        items.append({**item, "sandbox": extras} if serialize else extras)
    return {"kind": kind, "count": len(items), "resources": items}


class EventSink(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None
    account_sid: str | None = None


def set_event_sink(sb: Sandbox, body: dict, request: Request) -> dict:
    spec = EventSink.model_validate(body)
    if spec.url is not None and not spec.url.startswith(("http://", "https://")):
        raise ValueError("url must be an http(s) URL")
    if spec.account_sid is None:
        sb.update_config({"event_sink_url": spec.url})
    else:
        sinks = dict(sb.store.get_meta("event_sinks", {}))
        sinks[_account(sb, spec.account_sid)] = spec.url
        sb.store.set_meta("event_sinks", sinks)
    return {"url": spec.url, "account_sid": spec.account_sid or sb.parent_sid}


def legacy_fixture(sb: Sandbox, body: dict, request: Request) -> tuple[int, dict]:
    return 201, legacy_customer(sb, LegacyFixture.model_validate(body))


class TcrUses(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mobile_number: str | None = None
    email: str | None = None
    address: dict | None = None
    uses: int = Field(1, ge=1)


def add_tcr_uses(sb: Sandbox, body: dict, request: Request) -> dict:
    """Record brands registered elsewhere (other vendors) so that caps are reached sooner."""
    spec = TcrUses.model_validate(body)
    result = {}
    if spec.mobile_number:
        result["mobile_number"] = sb.tcr.add_external("mobile", scenarios.mobile_key(spec.mobile_number), spec.uses)
    if spec.email:
        result["email"] = sb.tcr.add_external("email", scenarios.email_key(spec.email), spec.uses)
    if spec.address:
        result["address"] = sb.tcr.add_external("address", scenarios.address_key(spec.address), spec.uses)
    if not result:
        raise ValueError("give mobile_number, email and/or address")
    return {"uses": result}


class BrandProblem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: int
    message: str = Field(..., min_length=1)


class BrandStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal[c.BRAND_STATUSES]  # type: ignore[valid-type]
    identity_status: Literal[c.IDENTITY_STATUSES] | None = None  # type: ignore[valid-type]
    errors: list[BrandProblem] | None = None
    update_count: int | None = Field(None, ge=0, description="updates made so far (e.g. in the Console)")


def set_brand_status(sb: Sandbox, body: dict, request: Request) -> dict:
    """Force a brand's status (any account's brand); sends the matching Event Streams event."""
    spec = BrandStatus.model_validate(body)
    rec = sb.store.get("brands", request.path_params["sid"])
    if rec is None:
        raise ControlError(404, f"unknown brand {request.path_params['sid']}")
    if spec.update_count is not None:
        rec["update_count"] = spec.update_count
    brands.set_status(sb, rec, spec.status, spec.identity_status,
                      [(e.code, e.message) for e in spec.errors or []])
    return brands.brand_json(sb, rec)


class CampaignProblem(BrandProblem):
    fields: list[str] = Field(default_factory=list)


class CampaignStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal[c.CAMPAIGN_STATUSES]  # type: ignore[valid-type]
    errors: list[CampaignProblem] | None = None


def set_campaign_status(sb: Sandbox, body: dict, request: Request) -> dict:
    """Force a campaign's status (any account's campaign); sends the matching Event Streams event."""
    spec = CampaignStatus.model_validate(body)
    rec = sb.store.get("campaigns", request.path_params["sid"])
    if rec is None:
        raise ControlError(404, f"unknown campaign {request.path_params['sid']}")
    messaging.set_status(sb, rec, spec.status, [(e.code, e.message, e.fields) for e in spec.errors or []])
    return messaging.campaign_json(sb, rec)


def _bundle(sb: Sandbox, sid: str) -> tuple[str, dict]:
    for kind in (trusthub.CP, trusthub.TP):
        rec = sb.store.get(kind, sid)
        if rec is not None:
            return kind, rec
    raise ControlError(404, f"unknown bundle {sid}")


def review_bundle(sb: Sandbox, body: dict, request: Request) -> dict:
    """Run the bundle's pending review now (it decides as it would have later), callback and all."""
    kind, rec = _bundle(sb, request.path_params["sid"])
    if sb.store.get("events", rec.get("review_event")) is None:
        raise ControlError(409, f"bundle {rec['sid']} has no review pending (it is {rec['status']})")
    trusthub.finish_pending_review(sb, kind, rec)
    return trusthub.bundle_json(sb, sb.store.get(kind, rec["sid"]), kind)


class ReviewerRejection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    failure_reason: str | None = Field(..., min_length=1)


def set_bundle_rejection(sb: Sandbox, body: dict, request: Request) -> dict:
    """Twilio's reviewers reject the bundle at each of its reviews from now on, with this reason
    (besides the scenarios'); null: the scenarios alone decide again."""
    spec = ReviewerRejection.model_validate(body)
    kind, rec = _bundle(sb, request.path_params["sid"])
    rec["reviewer_rejection"] = spec.failure_reason
    sb.store.put(kind, rec)
    return trusthub.bundle_json(sb, rec, kind)


def webhook_attempts(sb: Sandbox, body: dict, request: Request) -> dict:
    return {"attempts": list(sb.webhooks.attempts), "counts": dict(sb.webhooks.counts),
            "pending": [e["payload"] | {"due": iso(e["due"])} for e in sb.scheduler.pending("webhook")]}


def reset(sb: Sandbox, body: dict, request: Request) -> dict:
    sb.reset()
    return {"status": "reset", **_clock(sb)}


def _r(path: str, fn: Handler, *methods: str) -> Route:
    return Route("/sandbox" + path, control(fn), methods=list(methods))


routes = [
    _r("/health", health, "GET"),
    _r("/config", get_config, "GET"),
    _r("/config", set_config, "POST"),
    _r("/clock", get_clock, "GET"),
    _r("/clock/advance", advance_clock, "POST"),
    _r("/subaccounts", create_subaccount, "POST"),
    _r("/api-keys", create_api_key, "POST"),
    _r("/phone-numbers", create_phone_number, "POST"),
    _r("/otp/messages", otp_messages, "GET"),
    _r("/otp/reply", otp_reply, "POST"),
    _r("/faults", get_faults, "GET"),
    _r("/faults", set_faults, "POST"),
    _r("/stats", stats, "GET"),
    _r("/requests", requests_log, "GET"),
    _r("/accounts/{sid}/config", get_account_config, "GET"),
    _r("/accounts/{sid}/config", set_account_config, "POST"),
    _r("/resources/{kind}", resources, "GET"),
    _r("/event-sink", set_event_sink, "POST"),
    _r("/fixtures/legacy", legacy_fixture, "POST"),
    _r("/tcr/uses", add_tcr_uses, "POST"),
    _r("/brands/{sid}/status", set_brand_status, "POST"),
    _r("/campaigns/{sid}/status", set_campaign_status, "POST"),
    _r("/bundles/{sid}/review", review_bundle, "POST"),
    _r("/bundles/{sid}/rejection", set_bundle_rejection, "POST"),
    _r("/webhooks", webhook_attempts, "GET"),
    _r("/reset", reset, "POST"),
]
