"""A2P brand registrations (``messaging.twilio.com/v1/a2p/BrandRegistrations``), the SMS OTP and the
TCR-wide reuse caps.

Life cycle (FACTS.md, seeds 000 §3 and 001 §2):

* create -> ``PENDING`` (``identity_status`` null); ``brand_review_seconds`` later the review runs
  (after any still-pending review of its two bundles) and the brand becomes ``FAILED`` with
  ``errors[]`` or ``APPROVED`` + ``UNVERIFIED`` with a ``tcr_id``; a non-mock approval "sends" the
  first OTP to the trust bundle's mobile number (``GET /sandbox/otp/messages``);
* the customer's ``YES`` (``POST /sandbox/otp/reply``) to the latest unexpired OTP makes it
  ``VERIFIED`` and both bundles ``twilio-approved``;
* ``POST .../SmsOtp`` re-sends (supersedes) the OTP: APPROVED, unverified, non-mock brands only,
  ``smsotp_rate_per_second`` per account (else 429 / 20429 with ``Retry-After``);
* ``POST /v1/a2p/BrandRegistrations/{BN}`` (no body, 202) resubmits a ``FAILED`` brand (21725
  otherwise), at most 3 times (21724 "Brand update count exceeded"), only once the failing input was
  fixed: no bundle ``twilio-rejected``/``draft`` and a bundle resubmitted since the failure (60723);
* the control API (``POST /sandbox/brands/{BN}/status``, :func:`set_status`) forces any status, e.g.
  SUSPENDED / EXPIRED / DELETION_*, which refuse updates (21725) and SmsOtp (30752);
* optional (``enforce_otp_deadline``): APPROVED + UNVERIFIED brands older than ``otp_deadline_days``
  become ``EXPIRED``.

Reuse caps are counted across ALL accounts of the sandbox (TCR is shared by every vendor): a brand
uses its mobile number, email and address when it is APPROVED at TCR (mock brands never count);
:mod:`sandbox.scenarios` adds the reserved "already used elsewhere" values.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, defaultdict, deque
from functools import partial
from typing import TYPE_CHECKING

from a2p import constants as c

from . import errors, scenarios, trusthub
from .clock import iso
from .core import new_sid
from .errors import more_info
from .web import Ctx, Reply, route

if TYPE_CHECKING:
    from .core import Sandbox

CP, TP = trusthub.CP, trusthub.TP
BASE = "/v1/a2p/BrandRegistrations"
CAPS = {"mobile": c.MAX_BRANDS_PER_MOBILE, "email": c.MAX_BRANDS_PER_EMAIL, "address": c.MAX_BRANDS_PER_ADDRESS}
CP_UNAVAILABLE = ("Unable to fetch Customer Profile Bundle details, please check if the correct bundle sid was "
                  "provided for registration and the bundle is compliant.")
TP_UNAVAILABLE = ("Unable to fetch A2P Bundle Details, please check if the correct bundle sid was provided for "
                  "registration and the bundle is compliant.")


class TcrRegistry:
    """How many registered brands used each mobile number / email / address (all accounts)."""

    def __init__(self, sb: "Sandbox"):
        self.sb = sb
        self.uses: dict[str, Counter[str]] = {}
        self.rebuild()

    def rebuild(self) -> None:
        self.uses = {kind: Counter() for kind in CAPS}
        for brand in self.sb.store.all("brands"):
            for kind, keys in (brand.get("tcr_keys") or {}).items():
                self.uses[kind].update(keys)
        for kind, extra in self.sb.store.get_meta("tcr_extra", {}).items():
            self.uses[kind].update(extra)

    def count(self, kind: str, key: str) -> int:
        return self.uses[kind][key] + scenarios.external_uses(kind, key)

    def register(self, brand: dict, keys: dict[str, str]) -> None:
        counted = brand.setdefault("tcr_keys", {})
        for kind, key in keys.items():
            if key not in counted.setdefault(kind, []):
                counted[kind].append(key)
                self.uses[kind][key] += 1

    def add_external(self, kind: str, key: str, uses: int) -> int:
        extra = self.sb.store.get_meta("tcr_extra", {})
        extra.setdefault(kind, {})[key] = extra.get(kind, {}).get(key, 0) + uses
        self.sb.store.set_meta("tcr_extra", extra)
        self.uses[kind][key] += uses
        return self.count(kind, key)


class RateLimiter:
    """At most N calls per (real) second per key; answers the seconds to wait when over."""

    def __init__(self) -> None:
        self.calls: dict[str, deque[float]] = defaultdict(deque)

    def hit(self, key: str, rate: int) -> float | None:
        now = time.monotonic()
        window = self.calls[key]
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= rate:
            return 1.0 - (now - window[0])
        window.append(now)
        return None

    def clear(self) -> None:
        self.calls.clear()


# ---- serializers ---------------------------------------------------------------------------
def brand_json(sb: "Sandbox", rec: dict) -> dict:
    check_deadline(sb, rec)
    url = f"{sb.base_url}{BASE}/{rec['sid']}"
    return {
        "sid": rec["sid"], "account_sid": rec["account_sid"],
        "customer_profile_bundle_sid": rec["customer_profile_bundle_sid"],
        "a2p_profile_bundle_sid": rec["a2p_profile_bundle_sid"],
        "date_created": iso(rec["date_created"]), "date_updated": iso(rec["date_updated"]),
        "brand_type": rec["brand_type"], "status": rec["status"], "tcr_id": rec.get("tcr_id"),
        "failure_reason": rec.get("failure_reason"), "errors": rec.get("errors") or [], "url": url,
        "brand_score": rec.get("brand_score"), "brand_feedback": rec.get("brand_feedback"),
        "identity_status": rec.get("identity_status"), "russell_3000": rec.get("russell_3000"),
        "government_entity": rec.get("government_entity"), "tax_exempt_status": rec.get("tax_exempt_status"),
        "skip_automatic_sec_vet": rec.get("skip_automatic_sec_vet", False), "mock": rec.get("mock", False),
        "links": {"brand_vettings": f"{url}/Vettings", "brand_registration_otps": f"{url}/SmsOtp"},
    }


def brand_error(code: int, message: str, fields: list[str] | None = None) -> dict:
    """Brand ``errors[]`` item: ``code``/``message`` plus the spec example's ``error_code``/``description``."""
    return {"code": code, "message": message, "error_code": code, "description": message,
            "fields": fields or [], "url": more_info(code)}


def _brand_event(sb: "Sandbox", rec: dict, event_type: str, schema: str) -> None:
    sb.webhooks.cloud_event(rec["account_sid"], f"brand-registration.{event_type}", schema,
                            f"{BASE}/{rec['sid']}", {
                                "accountsid": rec["account_sid"], "brandsid": rec["sid"],
                                "brandstatus": rec["status"], "identitystatus": rec.get("identity_status"),
                                "brandregistrationerrors": [{"code": e["code"], "message": e["message"]}
                                                            for e in rec.get("errors") or []],
                                "createddate": iso(rec["date_created"]), "externalbrandid": rec.get("tcr_id"),
                                "brandtype": rec["brand_type"], "mock": rec.get("mock", False),
                            })


# ---- state machine -------------------------------------------------------------------------
def new_brand(sb: "Sandbox", account_sid: str, cp_sid: str, tp_sid: str, *, brand_type: str, mock: bool = False,
              skip_automatic_sec_vet: bool = False, **extra) -> dict:
    now = sb.now()
    rec = {
        "sid": new_sid("BN"), "account_sid": account_sid, "customer_profile_bundle_sid": cp_sid,
        "a2p_profile_bundle_sid": tp_sid, "brand_type": brand_type, "status": "PENDING", "identity_status": None,
        "tcr_id": None, "failure_reason": None, "errors": [], "brand_score": None, "brand_feedback": None,
        "russell_3000": None, "government_entity": None, "tax_exempt_status": None,
        "skip_automatic_sec_vet": skip_automatic_sec_vet, "mock": mock, "date_created": now, "date_updated": now,
        "update_count": 0, "review_seq": 0, "review_event": None, "failed_marker": None, "mobile_number": None,
        "tcr_keys": {}, "legacy": False,
    }
    rec.update(extra)
    return sb.store.put("brands", rec)


# Event Streams type for a status set through the control API (sandbox choice where Twilio documents none).
def brand_event_for(status: str, identity_status: str | None) -> tuple[str, str]:
    if status == "FAILED":
        return "brand-failure", "BrandRegistrationFailure"
    if status == "APPROVED" and identity_status == "VERIFIED":
        return "brand-verified", "BrandRegistrationVerified"
    if status == "APPROVED" and identity_status == "VETTED_VERIFIED":
        return "brand-vetted-verified", "BrandRegistrationVettedVerified"
    if status == "APPROVED":
        return "brand-registered", "BrandRegistrationSuccess"
    # PENDING, IN_REVIEW, SUSPENDED, EXPIRED, DELETION_PENDING, DELETION_FAILED: no documented type; the
    # sandbox already announces EXPIRED as brand-unverified, and brandstatus carries the real status.
    return "brand-unverified", "BrandRegistrationUnverified"


def set_status(sb: "Sandbox", rec: dict, status: str, identity_status: str | None = None,
               problems: list[tuple[int, str]] | None = None) -> dict:
    """Force a status (control API): cancels any pending review, sets ``errors[]`` (``(code, message)``
    pairs, in the brand's error item shape) and sends the matching Event Streams event. Nothing is
    scheduled afterwards: the next change comes from the control API or the brand's own API."""
    sb.scheduler.cancel(rec.get("review_event"))
    rec["review_event"] = None
    rec["review_seq"] = rec.get("review_seq", 0) + 1  # a review already due for this brand is now stale
    found = [brand_error(code, message) for code, message in problems or []]
    rec.update(status=status, errors=found, failure_reason=found[0]["message"] if found else None,
               date_updated=sb.now())
    if identity_status is not None:
        rec["identity_status"] = identity_status
    if status == "FAILED":
        cp = sb.store.get(CP, rec["customer_profile_bundle_sid"]) or {}
        tp = sb.store.get(TP, rec["a2p_profile_bundle_sid"]) or {}
        # as after a review: an update needs a bundle resubmitted from now on (60723)
        rec["failed_marker"] = {"cp": cp.get("submissions", 0), "tp": tp.get("submissions", 0)}
    if status == "APPROVED":
        rec["tcr_id"] = rec.get("tcr_id") or "B" + hashlib.sha1(rec["sid"].encode()).hexdigest()[:6].upper()
        if not rec.get("mobile_number") and not rec.get("mock"):
            tp = sb.store.get(TP, rec["a2p_profile_bundle_sid"])
            sole_prop = trusthub.end_user_of(sb, tp["sid"], c.SOLE_PROPRIETOR_END_USER_TYPE) if tp else None
            mobile = str(((sole_prop or {}).get("attributes") or {}).get("mobile_phone_number") or "").strip()
            rec["mobile_number"] = scenarios.mobile_key(mobile) if mobile else None
    sb.store.put("brands", rec)
    _brand_event(sb, rec, *brand_event_for(status, rec.get("identity_status")))
    return rec


def schedule_review(sb: "Sandbox", rec: dict) -> None:
    sb.scheduler.cancel(rec.get("review_event"))
    rec["review_seq"] = rec.get("review_seq", 0) + 1
    rec["review_event"] = sb.scheduler.schedule("brand_review", sb.setting("brand_review_seconds", rec["account_sid"]),
                                                {"sid": rec["sid"], "seq": rec["review_seq"]})
    sb.store.put("brands", rec)


def _registration_data(sb: "Sandbox", cp: dict, tp: dict) -> tuple[dict, list[dict]]:
    """What Twilio sends to TCR: (data, errors for missing pieces)."""
    problems = []
    sole_prop = trusthub.end_user_of(sb, tp["sid"], c.SOLE_PROPRIETOR_END_USER_TYPE)
    attributes = (sole_prop or {}).get("attributes") or {}
    mobile = str(attributes.get("mobile_phone_number") or "").strip()
    if not mobile:
        problems.append(brand_error(errors.BRAND_INVALID_INPUT,
                                    f"{TP_UNAVAILABLE} The A2P bundle {tp['sid']} has no sole_proprietor_information "
                                    "end user with a mobile_phone_number.", ["mobile_phone_number"]))
    starter = trusthub.end_user_of(sb, cp["sid"], c.STARTER_PROFILE_END_USER_TYPE)
    email = str(((starter or {}).get("attributes") or {}).get("email") or cp.get("email") or "")
    addresses = [a for _, a in trusthub.addresses_of(sb, cp) if a]
    return {"mobile": mobile, "email": email, "address": addresses[0] if addresses else None}, problems


def _failures(sb: "Sandbox", rec: dict, cp: dict | None, tp: dict | None) -> tuple[list[dict], dict]:
    found = []
    for bundle, unavailable, field in ((cp, CP_UNAVAILABLE, "customer_profile_bundle_sid"),
                                       (tp, TP_UNAVAILABLE, "a2p_profile_bundle_sid")):
        if bundle is None:
            found.append(brand_error(errors.BRAND_WRONG_BUNDLES, unavailable, [field]))
        elif bundle["status"] == "twilio-rejected":
            detail = f" Bundle {bundle['sid']} is twilio-rejected: {bundle.get('failure_reason') or 'see its errors'}"
            found.append(brand_error(errors.BRAND_INVALID_INPUT, unavailable + detail, [field]))
        elif bundle["status"] == "draft":
            found.append(brand_error(errors.BRAND_INVALID_INPUT,
                                     unavailable + f" Bundle {bundle['sid']} was never submitted.", [field]))
    if found:
        return found, {}
    data, found = _registration_data(sb, cp, tp)  # type: ignore[arg-type]
    if found or rec.get("mock"):
        return found, data
    mobile = scenarios.mobile_key(data["mobile"])
    if scenarios.mobile_unsupported(mobile):
        found.append(brand_error(errors.BRAND_UNSUPPORTED_MOBILE,
                                 f"Unsupported mobile number {data['mobile']}: it must be a US or Canadian mobile "
                                 "number where the customer can be reached, not a CPaaS number.",
                                 ["mobile_phone_number"]))
        return found, data
    keys = {"mobile": mobile, "email": scenarios.email_key(data["email"])}
    if data["address"]:
        keys["address"] = scenarios.address_key(data["address"])
    counted = dict(keys) if sb.config.count_email_and_address_reuse else {"mobile": mobile}
    labels = {"mobile": f"mobile number {data['mobile']}", "email": f"email {data['email']}",
              "address": "address " + ", ".join(filter(None, [(data["address"] or {}).get(k) for k in
                                                              ("street", "city", "region", "postal_code")]))}
    for kind, key in keys.items():
        uses = sb.tcr.count(kind, key)
        if uses >= CAPS[kind]:
            found.append(brand_error(
                errors.BRAND_MAX_REGISTRATIONS,
                f"Maximum registrations reached: the {labels[kind]} has already been used for {uses} brands at "
                f"TCR; the cap is {CAPS[kind]} per {kind}.", ["mobile_phone_number" if kind == "mobile" else kind]))
    return found, {**data, "keys": counted}


def review_brand(sb: "Sandbox", payload: dict) -> None:
    rec = sb.store.get("brands", payload["sid"])
    if rec is None or rec["status"] != "PENDING" or rec.get("review_seq") != payload["seq"]:
        return
    rec["review_event"] = None
    cp = sb.store.get(CP, rec["customer_profile_bundle_sid"])
    tp = sb.store.get(TP, rec["a2p_profile_bundle_sid"])
    for kind, bundle in ((CP, cp), (TP, tp)):
        if bundle is not None:
            trusthub.finish_pending_review(sb, kind, bundle)
    failures, data = _failures(sb, rec, cp, tp)
    now = sb.now()
    if failures:
        rec.update(status="FAILED", identity_status="UNVERIFIED", errors=failures, date_updated=now,
                   failure_reason=failures[0]["message"],
                   failed_marker={"cp": (cp or {}).get("submissions", 0), "tp": (tp or {}).get("submissions", 0)})
        sb.store.put("brands", rec)
        _brand_event(sb, rec, "brand-failure", "BrandRegistrationFailure")
        return
    rec.update(status="APPROVED", identity_status="UNVERIFIED", errors=[], failure_reason=None, date_updated=now,
               tcr_id=rec.get("tcr_id") or "B" + hashlib.sha1(rec["sid"].encode()).hexdigest()[:6].upper())
    if not rec.get("mock"):
        rec["mobile_number"] = data["keys"]["mobile"]
        sb.tcr.register(rec, data["keys"])
    sb.store.put("brands", rec)
    _brand_event(sb, rec, "brand-registered", "BrandRegistrationSuccess")
    if not rec.get("mock"):
        send_otp(sb, rec)
        deadline = rec["date_created"] + sb.config.otp_deadline_days * 86400
        sb.scheduler.schedule_at("otp_deadline", deadline, {"sid": rec["sid"]})


def send_otp(sb: "Sandbox", rec: dict) -> dict:
    for message in sb.store.find("sms", "brand_sid", rec["sid"]):
        if message["kind"] == "otp" and message["status"] == "active":
            message["status"] = "superseded"
            sb.store.put("sms", message)
    now = sb.now()
    message = sb.store.put("sms", {
        "sid": new_sid("SM"), "direction": "outbound", "kind": "otp", "to": rec["mobile_number"],
        "from": c.OTP_SENDER, "body": c.OTP_MESSAGE, "sent_at": now,
        "expires_at": now + sb.config.otp_validity_seconds, "brand_sid": rec["sid"],
        "account_sid": rec["account_sid"], "status": "active",
    })
    sb.scheduler.schedule("otp_expire", sb.config.otp_validity_seconds, {"sms_sid": message["sid"]})
    return message


def expire_otp(sb: "Sandbox", payload: dict) -> None:
    message = sb.store.get("sms", payload["sms_sid"])
    if message is None or message["status"] != "active":
        return
    message["status"] = "expired"
    sb.store.put("sms", message)
    brand = sb.store.get("brands", message["brand_sid"])
    if brand and brand["status"] == "APPROVED" and brand.get("identity_status") == "UNVERIFIED":
        _brand_event(sb, brand, "brand-unverified", "BrandRegistrationUnverified")


def check_deadline(sb: "Sandbox", rec: dict) -> None:
    """EXPIRED if the (optional) 30-day verification deadline has passed unverified."""
    if (sb.config.enforce_otp_deadline and rec["status"] == "APPROVED" and not rec.get("mock")
            and rec.get("identity_status") == "UNVERIFIED"
            and sb.now() >= rec["date_created"] + sb.config.otp_deadline_days * 86400):
        rec.update(status="EXPIRED", date_updated=sb.now())
        sb.store.put("brands", rec)
        _brand_event(sb, rec, "brand-unverified", "BrandRegistrationUnverified")


def _deadline_due(sb: "Sandbox", payload: dict) -> None:
    rec = sb.store.get("brands", payload["sid"])
    if rec is not None:
        check_deadline(sb, rec)


def reply_otp(sb: "Sandbox", sender: str, body: str) -> dict:
    """The customer's phone answers the OTP SMS. Returns ``{accepted, brand_sid, reason, expired}``."""
    now = sb.now()
    inbound = sb.store.put("sms", {
        "sid": new_sid("SM"), "direction": "inbound", "kind": "reply", "to": c.OTP_SENDER, "from": sender,
        "body": body, "sent_at": now, "expires_at": None, "brand_sid": None, "account_sid": None, "status": "received",
    })

    def answer(accepted: bool, reason: str | None, brand: dict | None = None, expired: bool = False) -> dict:
        inbound.update(status="accepted" if accepted else "refused", reason=reason,
                       brand_sid=brand and brand["sid"], account_sid=brand and brand["account_sid"])
        sb.store.put("sms", inbound)
        return {"accepted": accepted, "brand_sid": brand and brand["sid"], "reason": reason, "expired": expired,
                "identity_status": brand and brand.get("identity_status")}

    otps = [m for m in sb.store.find("sms", "to", sender) if m["kind"] == "otp"]
    if not otps:
        return answer(False, f"no OTP was sent to {sender}")
    latest = max(otps, key=lambda m: m["sent_at"])
    brand = sb.store.get("brands", latest["brand_sid"])
    if brand is None:
        return answer(False, "the brand of this OTP no longer exists")
    check_deadline(sb, brand)
    if body.strip().upper() != "YES":
        return answer(False, "the reply was not YES", brand)
    if latest["status"] == "expired" or now >= latest["expires_at"]:
        if latest["status"] == "active":
            expire_otp(sb, {"sms_sid": latest["sid"]})
        return answer(False, f"the OTP expired (error {errors.OTP_INVALID_OR_EXPIRED}): request a new one with "
                             "SmsOtp", brand, expired=True)
    if latest["status"] != "active":
        return answer(False, f"the latest OTP is {latest['status']}", brand)
    if brand["status"] != "APPROVED" or brand.get("identity_status") != "UNVERIFIED":
        return answer(False, f"the brand is {brand['status']}/{brand.get('identity_status')}", brand)
    latest["status"] = "confirmed"
    sb.store.put("sms", latest)
    brand.update(identity_status="VERIFIED", date_updated=now)
    sb.store.put("brands", brand)
    sb.store.put("sms", {
        "sid": new_sid("SM"), "direction": "outbound", "kind": "confirmation", "to": sender, "from": c.OTP_SENDER,
        "body": c.OTP_CONFIRMATION, "sent_at": now, "expires_at": None, "brand_sid": brand["sid"],
        "account_sid": brand["account_sid"], "status": "delivered",
    })
    trusthub.approve_bundle(sb, CP, brand["customer_profile_bundle_sid"])
    trusthub.approve_bundle(sb, TP, brand["a2p_profile_bundle_sid"])
    _brand_event(sb, brand, "brand-verified", "BrandRegistrationVerified")
    return answer(True, None, brand)


def register_events(sb: "Sandbox") -> None:
    sb.scheduler.register("brand_review", partial(review_brand, sb))
    sb.scheduler.register("otp_expire", partial(expire_otp, sb))
    sb.scheduler.register("otp_deadline", partial(_deadline_due, sb))


# ---- endpoints -----------------------------------------------------------------------------
def create_brand(ctx: Ctx) -> Reply:
    cp_sid = ctx.sid("CustomerProfileBundleSid", "BU")
    tp_sid = ctx.sid("A2PProfileBundleSid", "BU")
    brand_type = ctx.text("BrandType") or "STANDARD"
    mock = ctx.flag("Mock", default=False)
    skip = ctx.flag("SkipAutomaticSecVet", default=False)
    cp, tp = ctx.sb.store.get(CP, cp_sid), ctx.sb.store.get(TP, tp_sid)
    if (cp is None or tp is None or cp["account_sid"] != ctx.account_sid or tp["account_sid"] != ctx.account_sid
            or cp["policy_sid"] != c.STARTER_PROFILE_POLICY_SID):
        raise errors.bad_request(
            f"Wrong or transposed bundle SIDs: CustomerProfileBundleSid ({cp_sid}) must be a Starter Customer "
            f"Profile and A2PProfileBundleSid ({tp_sid}) a Sole Proprietor Trust Product of account "
            f"{ctx.account_sid}", errors.BRAND_WRONG_BUNDLES)
    if brand_type != c.BRAND_TYPE_SOLE_PROPRIETOR:
        raise errors.invalid("BrandType", f"{brand_type!r}: with a Starter profile and a Sole Proprietor trust "
                                          f"product the brand type must be {c.BRAND_TYPE_SOLE_PROPRIETOR}")
    rec = new_brand(ctx.sb, ctx.account_sid, cp_sid, tp_sid, brand_type=brand_type, mock=bool(mock),
                    skip_automatic_sec_vet=bool(skip))
    schedule_review(ctx.sb, rec)
    return Reply(201, brand_json(ctx.sb, rec))


def fetch_brand(ctx: Ctx, sid: str) -> Reply:
    return Reply(200, brand_json(ctx.sb, ctx.owned("brands", sid)))


def list_brands(ctx: Ctx) -> Reply:
    return ctx.page(ctx.sb.store.find("brands", "account_sid", ctx.account_sid), "data",
                    lambda r: brand_json(ctx.sb, r))


def _fix_missing(sb: "Sandbox", rec: dict) -> str | None:
    marker = rec.get("failed_marker") or {}
    cp = sb.store.get(CP, rec["customer_profile_bundle_sid"]) or {}
    tp = sb.store.get(TP, rec["a2p_profile_bundle_sid"]) or {}
    for name, bundle in (("customer profile", cp), ("trust product", tp)):
        if bundle.get("status") in ("twilio-rejected", "draft"):
            return (f"The {name} {bundle.get('sid')} is {bundle.get('status')}: fix it and resubmit it before "
                    "updating the brand")
    if cp.get("submissions", 0) <= marker.get("cp", 0) and tp.get("submissions", 0) <= marker.get("tp", 0):
        return ("Neither the customer profile nor the trust product was resubmitted since the brand failed: fix the "
                "failing information and resubmit before updating the brand")
    return None


_NEEDS_A_PERSON = {
    "SUSPENDED": " (a SUSPENDED brand needs the Console or Support)",
    "EXPIRED": " (an EXPIRED brand cannot be verified any more: delete it and register again)",
    "DELETION_PENDING": " (the brand is being deleted)",
    "DELETION_FAILED": " (the brand's deletion failed: contact Support)",
}


def update_brand(ctx: Ctx, sid: str) -> Reply:
    rec = ctx.owned("brands", sid)
    check_deadline(ctx.sb, rec)
    if rec["status"] != "FAILED":
        raise errors.bad_request(f"Brand {sid} is {rec['status']}: only a FAILED brand can be updated"
                                 + _NEEDS_A_PERSON.get(rec["status"], ""), errors.BRAND_UPDATE_NOT_FAILED)
    if rec.get("update_count", 0) >= c.MAX_BRAND_UPDATES:
        raise errors.bad_request(f"Brand update count exceeded: brand {sid} was already updated "
                                 f"{rec['update_count']} times, the limit is {c.MAX_BRAND_UPDATES} (contact Support)",
                                 errors.BRAND_TOO_MANY_UPDATES)
    problem = _fix_missing(ctx.sb, rec)
    if problem:
        raise errors.bad_request(problem, errors.BRAND_FIX_FIRST)
    rec.update(status="PENDING", identity_status=None, errors=[], failure_reason=None,
               update_count=rec.get("update_count", 0) + 1, date_updated=ctx.sb.now())
    schedule_review(ctx.sb, rec)
    return Reply(202, brand_json(ctx.sb, rec))


def create_otp(ctx: Ctx, sid: str) -> Reply:
    wait = ctx.sb.otp_limiter.hit(ctx.account_sid, ctx.sb.config.smsotp_rate_per_second)
    if wait is not None:
        raise errors.too_many_requests(
            f"SmsOtp is limited to {ctx.sb.config.smsotp_rate_per_second} requests per second per account", wait)
    rec = ctx.owned("brands", sid)
    check_deadline(ctx.sb, rec)
    if rec.get("mock"):
        raise errors.bad_request(f"Brand {sid} is a mock brand: mock brands get no OTP")
    if rec["status"] != "APPROVED":
        raise errors.bad_request(f"Brand {sid} is {rec['status']}: an OTP can only be sent for an APPROVED brand"
                                 + _NEEDS_A_PERSON.get(rec["status"], ""), errors.OTP_INVALID_OR_EXPIRED)
    if rec.get("identity_status") == "VERIFIED":
        raise errors.bad_request(f"Brand {sid} is already VERIFIED: no OTP needed")
    send_otp(ctx.sb, rec)
    return Reply(201, {"account_sid": rec["account_sid"], "brand_registration_sid": rec["sid"]})


routes = [
    route(BASE, create_brand, "POST"),
    route(BASE, list_brands, "GET"),
    route(BASE + "/{sid}", fetch_brand, "GET"),
    route(BASE + "/{sid}", update_brand, "POST"),
    route(BASE + "/{sid}/SmsOtp", create_otp, "POST"),
]
