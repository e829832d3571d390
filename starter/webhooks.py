"""Twilio's webhooks, the pure part: who signed a delivery, what it says, whether it was seen
before, and which registration it is for. No Temporal, no HTTP framework: the service
(starter/service.py) does the I/O around these, and they are unit-tested on their own.

* Signatures: ``X-Twilio-Signature`` (HMAC-SHA1 of the URL Twilio called and the sorted form
  pairs; for JSON bodies the URL carries ``bodySHA256``), checked with the parent account's auth
  token or, for a customer's subaccount, with that subaccount's token; or the Event Streams
  sink's Basic credentials.
* Bundle status callbacks are bound to their registration: the URL carries
  ``token=HMAC(A2P_CALLBACK_SECRET, workflow id)`` (infra.settings), so a signed callback cannot be
  re-aimed at another workflow id, even by moving characters between the URL and the form keys
  (Twilio's signature string has no separators).
* Deliveries are remembered for a while (:class:`Seen`): a replay is acknowledged and changes
  nothing, and costs no Temporal call. A bundle callback is known by what it says (all of it
  signed) as well as by Twilio's idempotency token (not signed), so a replay with a made-up token
  is a replay too.
* Events are parsed defensively (Twilio's schema versions vary) and folded per SID, so that a
  batch of a thousand events costs one route lookup and one signal per brand or campaign.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from twilio.request_validator import RequestValidator

from a2p import search_attributes as sa
from a2p.calls import TwilioError
from a2p.progress import BrandEvent, BundleEvent, CampaignEvent

EVENT_PREFIX = "com.twilio.messaging.compliance."
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


# ---- who sent it ---------------------------------------------------------------------------------


def signed_by(token: str | None, url: str, params: Mapping[str, str] | str, signature: str | None) -> bool:
    """Whether ``signature`` is Twilio's for ``url`` and the form ``params`` (or, for a JSON body,
    its text: the URL must then carry its ``bodySHA256``) with the auth token ``token``."""
    if not (token and signature):
        return False
    try:
        return bool(RequestValidator(token).validate(url, params, signature))
    except (ValueError, TypeError, UnicodeError):
        return False


def basic_credentials(header: str | None) -> tuple[bytes, bytes] | None:
    """(user, password) of an ``Authorization: Basic ...`` header, as bytes; None if not one."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).partition(b":")
    except (binascii.Error, ValueError):
        return None
    return (user, password) if sep else None


def same_secret(given: str | bytes, expected: str | bytes) -> bool:
    """Constant-time comparison of secrets as bytes (any text, ASCII or not, compares safely)."""
    given = given.encode("utf-8", "surrogateescape") if isinstance(given, str) else given
    expected = expected.encode("utf-8") if isinstance(expected, str) else expected
    return bool(given) and hmac.compare_digest(given, expected)


def callback_account(form: Mapping[str, str]) -> str | None:
    """The account a status callback belongs to (``AccountSid``), if it looks like one."""
    sid = form.get("AccountSid", "")
    return sid if _is_account_sid(sid) else None


_ACCOUNT_SID = re.compile(rb"AC[0-9a-fA-F]{32}")


def account_sids_in(prefix: bytes, parent: str | None, most: int = 3) -> list[str]:
    """The accounts an Event Streams delivery may be about, found without parsing it (the body
    is not authenticated yet): the first ``most`` distinct account SIDs in ``prefix`` (a bounded
    start of the body; every event's ``data.accountsid`` holds one, the first near the start),
    the parent's own left out."""
    out: list[str] = []
    for found in _ACCOUNT_SID.finditer(prefix):
        sid = found.group().decode("ascii")
        if sid != parent and sid not in out:
            out.append(sid)
            if len(out) == most:
                break
    return out


def body_matches(body: bytes, body_sha256: str | None) -> bool:
    """Whether ``body`` is the one whose SHA-256 (hex) the signed URL carries."""
    return bool(body_sha256) and hmac.compare_digest(hashlib.sha256(body).hexdigest().encode(),
                                                     (body_sha256 or "").encode("utf-8", "surrogateescape"))


def _is_account_sid(sid: str) -> bool:
    return len(sid) == 34 and sid.startswith("AC") and all(c in "0123456789abcdefABCDEF" for c in sid[2:])


# ---- what it is about ----------------------------------------------------------------------------


def bundle_event(form: Mapping[str, str], delivery_id: str | None) -> BundleEvent | None:
    """The bundle status callback's event, or None when it lacks the bundle or the status."""
    bundle_sid, status = form.get("BundleSid", "").strip(), form.get("Status", "").strip()
    if not (bundle_sid and status):
        return None
    return BundleEvent(bundle_sid=bundle_sid, status=status, failure_reason=form.get("FailureReason") or None,
                       event_id=delivery_id)


CONTENT_KEY_TTL = 600.0  # a callback is known by what it says for 10 minutes (the same status may come again)
TOKEN_KEY_TTL = 24 * 3600.0  # and by Twilio's idempotency token for a day


def callback_keys(workflow_id: str, form: Mapping[str, str], idempotency_token: str | None) -> dict[str, float]:
    """What identifies one bundle status callback delivery, each key with how long it is
    remembered: what it says — registration, bundle, status, reason: all covered by Twilio's
    signature — for CONTENT_KEY_TTL, whatever its idempotency token (which the signature does not
    cover: a replay can carry a fresh one); and that token, when there is one, for TOKEN_KEY_TTL."""
    content = json.dumps([workflow_id, form.get("BundleSid"), form.get("Status"), form.get("FailureReason")])
    keys = {"trusthub/content/" + hashlib.sha256(content.encode()).hexdigest(): CONTENT_KEY_TTL}
    if idempotency_token:
        keys[f"trusthub/token/{idempotency_token}"] = TOKEN_KEY_TTL
    return keys


@dataclass(frozen=True)
class Routed:
    """One signal to send: to the registration owning ``sid`` (found by the search attribute
    ``lookups`` name, in order), the newest of a delivery's events about that SID folded in."""

    sid: str
    signal: str                       # brand_event | campaign_event
    event: BrandEvent | CampaignEvent
    lookups: tuple[tuple[str, str], ...]  # (search attribute name, value)
    event_ids: tuple[str, ...]        # every event folded into this one


@dataclass(frozen=True)
class Ignored:
    event_id: str
    type: str
    reason: str


BRAND_TYPES: dict[str, tuple[str | None, str | None]] = {  # event -> (brand status, identity status) if data lacks them
    "brand-registered": ("APPROVED", None), "brand-failure": ("FAILED", None),
    "brand-verified": (None, "VERIFIED"), "brand-unverified": (None, "UNVERIFIED"),
    "brand-vetted-verified": (None, "VETTED_VERIFIED"), "brand-secondary-vetting-failure": (None, None),
}
CAMPAIGN_TYPES: dict[str, str] = {
    "campaign-submitted": "IN_PROGRESS", "campaign-approved": "VERIFIED", "campaign-failure": "FAILED",
}


def parse_event(event: Any, now: datetime | None = None) -> Routed | Ignored:
    """One CloudEvent -> what to signal, or why it is ignored. Field names are matched case- and
    underscore-insensitively; unknown fields are ignored."""
    if not isinstance(event, dict):
        return Ignored("", "", "not a JSON object")
    etype = _text(event.get("type"))
    data = _normalized(event.get("data"))
    event_id = _text(event.get("id")) or "content/" + hashlib.sha256(
        json.dumps([etype, _text(event.get("time")), data], sort_keys=True, default=str).encode()).hexdigest()
    occurred = _time(event.get("time"), now)
    kind, _, name = etype.removeprefix(EVENT_PREFIX).partition(".")
    if not etype.startswith(EVENT_PREFIX):
        kind = ""
    if kind == "brand-registration" and name in BRAND_TYPES:
        sid = _text(data.get("brandsid"))
        status, identity = BRAND_TYPES[name]
        routed: BrandEvent | CampaignEvent = BrandEvent(
            event_id=event_id, occurred_at=occurred, brand_sid=sid,
            status=_status(data.get("brandstatus")) or status,
            identity_status=_upper(data.get("identitystatus")) or identity,
            errors=_errors(data.get("brandregistrationerrors") or data.get("errors")))
        lookups: tuple[tuple[str, str], ...] = ((sa.BRAND_SID.name, sid),)
        signal = "brand_event"
    elif kind == "campaign-registration" and name in CAMPAIGN_TYPES:
        sid = _text(data.get("campaignsid"))
        routed = CampaignEvent(
            event_id=event_id, occurred_at=occurred, campaign_sid=sid,
            status=_status(data.get("campaignregistrationstatus")) or CAMPAIGN_TYPES[name],
            errors=_errors(data.get("campaignregistrationerrors") or data.get("errors")))
        # The campaign SID is published when the campaign is created; its brand's long before.
        lookups = ((sa.CAMPAIGN_SID.name, sid), (sa.BRAND_SID.name, _text(data.get("brandsid"))))
        signal = "campaign_event"
    else:
        return Ignored(event_id, etype, "unknown event type")
    if not sid:
        return Ignored(event_id, etype, "no SID in the event")
    return Routed(sid=sid, signal=signal, event=routed, lookups=lookups, event_ids=(event_id,))


def fold(routed: list[Routed]) -> list[Routed]:
    """One signal per SID: the events about it applied in the order they happened (the workflow
    keeps a field's last value and drops what is older than what it applied), as one event with
    the newest's id and time. A thousand events about one brand cost one signal."""
    by_sid: dict[tuple[str, str], list[Routed]] = {}
    for r in routed:
        by_sid.setdefault((r.signal, r.sid), []).append(r)
    out = []
    for group in by_sid.values():
        group.sort(key=lambda r: r.event.occurred_at)  # stable: same time keeps delivery order
        newest = group[-1]
        if len(group) == 1:
            out.append(newest)
            continue
        status = next((r.event.status for r in reversed(group) if r.event.status), None)
        errors = next((r.event.errors for r in reversed(group) if r.event.errors), [])
        update: dict[str, Any] = {"status": status, "errors": errors}
        if isinstance(newest.event, BrandEvent):
            update["identity_status"] = next(
                (r.event.identity_status for r in reversed(group) if isinstance(r.event, BrandEvent)
                 and r.event.identity_status), None)
        out.append(Routed(sid=newest.sid, signal=newest.signal, event=newest.event.model_copy(update=update),
                          lookups=newest.lookups, event_ids=tuple(i for r in group for i in r.event_ids)))
    return out


def _normalized(data: Any) -> dict[str, Any]:
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            return {}
    if not isinstance(data, dict):
        return {}
    return {str(k).lower().replace("_", "").replace("-", ""): v for k, v in data.items()}


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _upper(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip().upper() or None


def _errors(raw: Any) -> list[TwilioError]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raw = [raw] if raw.strip() else []
    if isinstance(raw, dict):
        raw = [raw]
    out = []
    for e in raw if isinstance(raw, list) else []:
        if isinstance(e, dict):
            e = _normalized(e)
            code = e.get("code") or e.get("errorcode")
            message = e.get("message") or e.get("description") or e.get("errormessage") or json.dumps(e, default=str)
            digits = str(code or "")
            out.append(TwilioError(code=int(digits) if digits.isdecimal() and digits.isascii() else None,
                                   message=str(message)))
        elif e not in (None, ""):
            out.append(TwilioError(message=str(e)))
    return out


def _status(value: Any) -> str | None:
    value = _upper(value)
    return {"REGISTERED": "APPROVED", "REGISTRATION_FAILED": "FAILED"}.get(value, value) if value else None


def _time(value: Any, now: datetime | None = None) -> datetime:
    """The event's time, timezone-aware (a naive time is UTC); now when missing or unreadable."""
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return now or datetime.now(timezone.utc)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# ---- seen before ---------------------------------------------------------------------------------


class Seen:
    """Deliveries handled lately (bounded, each kept ``ttl`` seconds), and those being handled.

    ``claim`` a key before the work; ``done(key, ok)`` after it — only what was handled (signalled
    or deliberately ignored) is remembered, so a delivery that failed is handled again when Twilio
    re-delivers it."""

    def __init__(self, ttl: float = 24 * 3600, max_size: int = 100_000, clock=time.monotonic) -> None:
        self.ttl, self.max_size, self._clock = ttl, max_size, clock
        self._done: OrderedDict[str, float] = OrderedDict()
        self._busy: set[str] = set()

    def state(self, key: str) -> str:
        """``done``, ``busy`` or ``new``."""
        self._expire()
        until = self._done.get(key)
        if until is not None and until <= self._clock():
            del self._done[key]
            until = None
        return "done" if until is not None else "busy" if key in self._busy else "new"

    def claim(self, key: str) -> bool:
        if self.state(key) != "new":
            return False
        self._busy.add(key)
        return True

    def claim_all(self, keys: list[str]) -> bool:
        """Claim every key, or none (when one is not new)."""
        claimed = [k for k in keys if self.claim(k)]
        if len(claimed) == len(keys):
            return True
        for k in claimed:
            self.done(k, ok=False)
        return False

    def done(self, key: str, ok: bool = True, ttl: float | None = None) -> None:
        self._busy.discard(key)
        if ok:
            self.remember(key, ttl)

    def remember(self, key: str, ttl: float | None = None) -> None:
        """``ttl``: shorter than the default for keys that may legitimately come back."""
        self._done[key] = self._clock() + (self.ttl if ttl is None else ttl)
        self._done.move_to_end(key)
        while len(self._done) > self.max_size:
            self._done.popitem(last=False)

    def _expire(self) -> None:
        now = self._clock()
        while self._done:
            key, until = next(iter(self._done.items()))
            if until > now:
                break
            self._done.popitem(last=False)

    def __len__(self) -> int:
        return len(self._done)


class Routes:
    """SID -> workflow id, most recently used kept (``max_size``); SIDs that no registration owns
    are remembered for ``miss_ttl`` seconds only (a new brand's search attribute becomes visible a
    moment after it is set)."""

    def __init__(self, max_size: int = 10_000, miss_ttl: float = 5.0, clock=time.monotonic) -> None:
        self.max_size, self.miss_ttl, self._clock = max_size, miss_ttl, clock
        self._hits: OrderedDict[str, str] = OrderedDict()
        self._misses: OrderedDict[str, float] = OrderedDict()

    def get(self, sid: str) -> str | None | bool:
        """The workflow id; None: known to be nobody's (lately); False: not known."""
        if sid in self._hits:
            self._hits.move_to_end(sid)
            return self._hits[sid]
        until = self._misses.get(sid)
        if until is not None and until > self._clock():
            return None
        self._misses.pop(sid, None)
        return False

    def put(self, sid: str, workflow_id: str | None) -> None:
        if workflow_id is None:
            self._misses[sid] = self._clock() + self.miss_ttl
            while len(self._misses) > self.max_size:
                self._misses.popitem(last=False)
            return
        self._misses.pop(sid, None)
        self._hits[sid] = workflow_id
        self._hits.move_to_end(sid)
        while len(self._hits) > self.max_size:
            self._hits.popitem(last=False)


class RateLimitedLog:
    """At most one log line per ``interval`` seconds per (event, kind, reason), saying how many
    were suppressed since the last one: refused webhooks cannot flood the logs."""

    def __init__(self, logger: Any, interval: float = 10.0, clock=time.monotonic) -> None:
        self._log, self.interval, self._clock = logger, interval, clock
        self._last: dict[tuple, tuple[float, int]] = {}

    def warning(self, event: str, **fields: Any) -> bool:
        key = (event, fields.get("kind"), fields.get("reason"))
        now = self._clock()
        last, suppressed = self._last.get(key, (float("-inf"), 0))
        if now - last < self.interval:
            self._last[key] = (last, suppressed + 1)
            return False
        if len(self._last) > 1000:
            self._last.clear()
        self._last[key] = (now, 0)
        self._log.warning(event, **fields, **({"suppressed_since_last": suppressed} if suppressed else {}))
        return True
