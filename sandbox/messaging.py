"""Messaging v1 (``messaging.twilio.com``): Services, their PhoneNumbers and their Usa2p campaigns.

* Services: create (``FriendlyName`` required, at most 64 characters) / fetch / list / delete
  (deleting a service deletes its campaign and frees its numbers).
* PhoneNumbers: add a ``PN`` of the same account (created with ``POST /sandbox/phone-numbers``);
  a number belongs to one service; a service whose campaign is SOLE_PROPRIETOR holds one number.
* Usa2p campaigns: create / fetch / list / update / delete. The documented limits are enforced (400 naming
  the field); the brand must be an APPROVED + VERIFIED, non-mock SOLE_PROPRIETOR brand of the
  account with no other campaign, the use case SOLE_PROPRIETOR, the service without another
  campaign and with at most one number. Status ``PENDING`` -> ``IN_PROGRESS``
  (``campaign_in_progress_seconds``) -> ``VERIFIED`` or ``FAILED`` (``campaign_review_seconds`` later;
  see :mod:`sandbox.scenarios`). Update (UpdateUsAppToPerson, 200): only a FAILED campaign (else 400
  21727), same field rules, back to ``PENDING`` with ``errors[]`` cleared and reviewed again; with
  ``campaign_updates_supported`` false it answers 405 / 20004. Only existing campaigns count for the
  one-campaign-per-brand and per-service rules, so after a delete both take a new one.
"""

from __future__ import annotations

import hashlib
import re
from functools import partial
from typing import TYPE_CHECKING

from a2p import constants as c

from . import errors, scenarios
from .clock import iso
from .core import new_sid
from .errors import more_info
from .web import Ctx, Reply, route

if TYPE_CHECKING:
    from .core import Sandbox

SERVICES = "/v1/Services"
KEYWORD_RE = re.compile(r"^[A-Za-z0-9]+$")
SP_RATE_LIMITS = {"att": {"mps": 0.25, "msg_class": "A"}, "tmobile": {"brand_tier": "LOW"}}


# ---- serializers ---------------------------------------------------------------------------
def service_json(sb: "Sandbox", rec: dict) -> dict:
    url = f"{sb.base_url}{SERVICES}/{rec['sid']}"
    body = {k: rec[k] for k in (
        "sid", "account_sid", "friendly_name", "inbound_request_url", "inbound_method", "fallback_url",
        "fallback_method", "status_callback", "sticky_sender", "mms_converter", "smart_encoding",
        "scan_message_content", "fallback_to_long_code", "area_code_geomatch", "synchronous_validation",
        "validity_period", "usecase", "us_app_to_person_registered", "use_inbound_webhook_on_number")}
    body.update(date_created=iso(rec["date_created"]), date_updated=iso(rec["date_updated"]), url=url, links={
        "channel_senders": f"{url}/ChannelSenders", "phone_numbers": f"{url}/PhoneNumbers",
        "short_codes": f"{url}/ShortCodes", "alpha_senders": f"{url}/AlphaSenders",
        "messages": f"{url}/Messages", "us_app_to_person": f"{url}/Compliance/Usa2p",
        "us_app_to_person_usecases": f"{url}/Compliance/Usa2p/Usecases",
        "destination_alpha_senders": f"{url}/DestinationAlphaSenders",
    })
    return body


def number_json(sb: "Sandbox", rec: dict) -> dict:
    return {"sid": rec["sid"], "account_sid": rec["account_sid"], "service_sid": rec["service_sid"],
            "date_created": iso(rec["service_added_at"] or rec["date_created"]),
            "date_updated": iso(rec["date_updated"]), "phone_number": rec["phone_number"], "country_code": "US",
            "capabilities": ["SMS", "MMS", "Voice"],
            "url": f"{sb.base_url}{SERVICES}/{rec['service_sid']}/PhoneNumbers/{rec['sid']}"}


CAMPAIGN_FIELDS = (
    "sid", "account_sid", "brand_registration_sid", "messaging_service_sid", "description", "message_samples",
    "us_app_to_person_usecase", "has_embedded_links", "has_embedded_phone", "subscriber_opt_in", "age_gated",
    "direct_lending", "campaign_status", "campaign_id", "is_externally_registered", "rate_limits", "message_flow",
    "opt_in_message", "opt_out_message", "help_message", "opt_in_keywords", "opt_out_keywords", "help_keywords",
    "mock", "errors", "privacy_policy_url", "terms_and_conditions_url",
)


def campaign_json(sb: "Sandbox", rec: dict) -> dict:
    body = {k: rec.get(k) for k in CAMPAIGN_FIELDS}
    body.update(date_created=iso(rec["date_created"]), date_updated=iso(rec["date_updated"]),
                url=f"{sb.base_url}{SERVICES}/{rec['messaging_service_sid']}/Compliance/Usa2p/{rec['sid']}")
    return body


# ---- phone numbers the account "owns" (control endpoint) ------------------------------------
def create_incoming_number(sb: "Sandbox", account_sid: str, phone_number: str | None = None) -> dict:
    if phone_number is None:
        serial = sb.store.get_meta("number_serial", 0) + 1
        sb.store.set_meta("number_serial", serial)
        phone_number = f"+1628{2000000 + serial:07d}"   # 628: a real 10DLC area code; fictional numbers
    now = sb.now()
    return sb.store.put("phone_numbers", {
        "sid": new_sid("PN"), "account_sid": account_sid, "phone_number": phone_number, "service_sid": None,
        "service_added_at": None, "date_created": now, "date_updated": now,
    })


# ---- services ------------------------------------------------------------------------------
SERVICE_TEXT = {"InboundRequestUrl": "inbound_request_url", "FallbackUrl": "fallback_url",
                "StatusCallback": "status_callback", "Usecase": "usecase"}
SERVICE_FLAGS = {"StickySender": ("sticky_sender", True), "MmsConverter": ("mms_converter", True),
                 "SmartEncoding": ("smart_encoding", True), "FallbackToLongCode": ("fallback_to_long_code", True),
                 "AreaCodeGeomatch": ("area_code_geomatch", True),
                 "SynchronousValidation": ("synchronous_validation", False),
                 "UseInboundWebhookOnNumber": ("use_inbound_webhook_on_number", False)}


def create_service(ctx: Ctx) -> Reply:
    now = ctx.sb.now()
    rec: dict = {"sid": new_sid("MG"), "account_sid": ctx.account_sid,
                 "friendly_name": ctx.text("FriendlyName", required=True, max_len=64),
                 "date_created": now, "date_updated": now, "us_app_to_person_registered": False}
    for param, key in SERVICE_TEXT.items():
        rec[key] = ctx.url_param(param) if param.endswith(("Url", "Callback")) else ctx.text(param)
    rec["usecase"] = rec["usecase"] or "undeclared"
    for param in ("InboundMethod", "FallbackMethod"):
        method = (ctx.text(param) or "POST").upper()
        if method not in ("GET", "POST"):
            raise errors.invalid(param, f"must be GET or POST (got {method!r})")
        rec["inbound_method" if param == "InboundMethod" else "fallback_method"] = method
    for param, (key, default) in SERVICE_FLAGS.items():
        rec[key] = ctx.flag(param, default=default)
    scan = ctx.text("ScanMessageContent") or "inherit"
    if scan not in ("inherit", "enable", "disable"):
        raise errors.invalid("ScanMessageContent", f"must be inherit, enable or disable (got {scan!r})")
    rec["scan_message_content"] = scan
    rec["validity_period"] = ctx.integer("ValidityPeriod", lo=1, hi=36000) or 36000
    ctx.sb.store.put("services", rec)
    return Reply(201, service_json(ctx.sb, rec))


def fetch_service(ctx: Ctx, sid: str) -> Reply:
    return Reply(200, service_json(ctx.sb, ctx.owned("services", sid)))


def list_services(ctx: Ctx) -> Reply:
    return ctx.page(ctx.sb.store.find("services", "account_sid", ctx.account_sid), "services",
                    lambda r: service_json(ctx.sb, r))


def delete_service(ctx: Ctx, sid: str) -> Reply:
    rec = ctx.owned("services", sid)
    for campaign in ctx.sb.store.find("campaigns", "messaging_service_sid", sid):
        _delete_campaign(ctx.sb, campaign)
    for number in ctx.sb.store.find("phone_numbers", "service_sid", sid):
        number.update(service_sid=None, service_added_at=None, date_updated=ctx.sb.now())
        ctx.sb.store.put("phone_numbers", number)
    ctx.sb.store.delete("services", rec["sid"])
    return Reply(204)


# ---- service phone numbers -----------------------------------------------------------------
def _campaign_of(sb: "Sandbox", service_sid: str) -> dict | None:
    campaigns = sb.store.find("campaigns", "messaging_service_sid", service_sid)
    return campaigns[0] if campaigns else None


def add_number(ctx: Ctx, service_sid: str) -> Reply:
    service = ctx.owned("services", service_sid)
    number_sid = ctx.sid("PhoneNumberSid", "PN")
    number = ctx.sb.store.get("phone_numbers", number_sid)
    if number is None or number["account_sid"] != ctx.account_sid:
        raise errors.invalid("PhoneNumberSid", f"{number_sid} is not a phone number of account {ctx.account_sid}")
    if number["service_sid"] == service_sid:
        raise errors.bad_request(f"Phone Number {number['phone_number']} is already in this Messaging Service",
                                 errors.NUMBER_ALREADY_IN_SERVICE)
    if number["service_sid"] is not None:
        raise errors.bad_request(f"Phone Number {number['phone_number']} already belongs to Messaging Service "
                                 f"{number['service_sid']}", errors.NUMBER_ALREADY_IN_SERVICE)
    campaign = _campaign_of(ctx.sb, service_sid)
    current = ctx.sb.store.find("phone_numbers", "service_sid", service_sid)
    if current and campaign and campaign["us_app_to_person_usecase"] == c.CAMPAIGN_USECASE_SOLE_PROPRIETOR:
        raise errors.bad_request(
            f"Messaging Service {service_sid} has a SOLE_PROPRIETOR campaign and already holds "
            f"{current[0]['phone_number']}: a Sole Proprietor campaign can use only one 10DLC number",
            errors.SOLE_PROP_ONE_NUMBER)
    now = ctx.sb.now()
    number.update(service_sid=service["sid"], service_added_at=now, date_updated=now)
    ctx.sb.store.put("phone_numbers", number)
    return Reply(201, number_json(ctx.sb, number))


def _owned_number(ctx: Ctx, service_sid: str, sid: str) -> dict:
    ctx.owned("services", service_sid)
    number = ctx.sb.store.get("phone_numbers", sid)
    if number is None or number["service_sid"] != service_sid:
        raise errors.not_found(ctx.path)
    return number


def list_numbers(ctx: Ctx, service_sid: str) -> Reply:
    ctx.owned("services", service_sid)
    return ctx.page(ctx.sb.store.find("phone_numbers", "service_sid", service_sid), "phone_numbers",
                    lambda r: number_json(ctx.sb, r))


def fetch_number(ctx: Ctx, service_sid: str, sid: str) -> Reply:
    return Reply(200, number_json(ctx.sb, _owned_number(ctx, service_sid, sid)))


def remove_number(ctx: Ctx, service_sid: str, sid: str) -> Reply:
    number = _owned_number(ctx, service_sid, sid)
    number.update(service_sid=None, service_added_at=None, date_updated=ctx.sb.now())
    ctx.sb.store.put("phone_numbers", number)
    return Reply(204)


# ---- campaigns -----------------------------------------------------------------------------
def _length(name: str, value: str | None, lo: int, hi: int) -> None:
    if value is not None and not lo <= len(value) <= hi:
        raise errors.invalid(name, f"must be {lo} to {hi} characters long (got {len(value)})")


def _keywords(ctx: Ctx, name: str) -> list[str] | None:
    values = ctx.values(name)
    if not values:
        return None
    for keyword in values:
        if not KEYWORD_RE.match(keyword):
            raise errors.invalid(name, f"keyword {keyword!r} must be alphanumeric")
    if len(",".join(values)) > 255:
        raise errors.invalid(name, "the keywords must total at most 255 characters")
    return values


def _content_input(ctx: Ctx) -> dict:
    """The fields create and update share, with the same rules (FACTS.md campaign limits)."""
    data = {
        "description": ctx.text("Description", required=True),
        "message_flow": ctx.text("MessageFlow", required=True),
        "has_embedded_links": ctx.flag("HasEmbeddedLinks", required=True),
        "has_embedded_phone": ctx.flag("HasEmbeddedPhone", required=True),
    }
    samples = ctx.values("MessageSamples")
    if not samples:
        raise errors.missing("MessageSamples")
    _length("Description", data["description"], 40, 4096)
    _length("MessageFlow", data["message_flow"], 40, 2048)
    if not 2 <= len(samples) <= 5:
        raise errors.invalid("MessageSamples", f"give 2 to 5 samples (got {len(samples)})")
    for i, sample in enumerate(samples):
        _length(f"MessageSamples[{i}]", sample, 20, 1024)
    data["message_samples"] = samples
    data["privacy_policy_url"] = ctx.url_param("PrivacyPolicyUrl")
    data["terms_and_conditions_url"] = ctx.url_param("TermsAndConditionsUrl")
    return data


def _campaign_input(ctx: Ctx) -> dict:
    """Read and validate the create form (ENDPOINTS.md 3.6, FACTS.md campaign limits)."""
    data = {
        "brand_registration_sid": ctx.sid("BrandRegistrationSid", "BN"),
        **_content_input(ctx),
        "us_app_to_person_usecase": ctx.text("UsAppToPersonUsecase", required=True),
    }
    for param, key in (("OptInMessage", "opt_in_message"), ("OptOutMessage", "opt_out_message"),
                       ("HelpMessage", "help_message")):
        data[key] = ctx.text(param)
        _length(param, data[key], 20, 320)
    for param, key in (("OptInKeywords", "opt_in_keywords"), ("OptOutKeywords", "opt_out_keywords"),
                       ("HelpKeywords", "help_keywords")):
        data[key] = _keywords(ctx, param)
    for param, key in (("SubscriberOptIn", "subscriber_opt_in"), ("AgeGated", "age_gated"),
                       ("DirectLending", "direct_lending")):
        data[key] = ctx.flag(param, default=False)
    return data


# UpdateUsAppToPerson's form (messaging spec): no use case, brand, opt-in/out/help messages or keywords.
UPDATE_PARAMS = ("HasEmbeddedLinks", "HasEmbeddedPhone", "MessageSamples", "MessageFlow", "Description", "AgeGated",
                 "DirectLending", "PrivacyPolicyUrl", "TermsAndConditionsUrl")


def _eligible(ctx: Ctx, service_sid: str, data: dict) -> dict:
    sb, brand_sid = ctx.sb, data["brand_registration_sid"]
    brand = sb.store.get("brands", brand_sid)
    if brand is None or brand["account_sid"] != ctx.account_sid:
        raise errors.invalid("BrandRegistrationSid", f"{brand_sid} is not a brand of account {ctx.account_sid}")

    def refuse(why: str) -> errors.ApiError:
        return errors.bad_request(why, errors.CAMPAIGN_NOT_ALLOWED)

    if brand.get("mock"):
        raise refuse(f"Brand {brand_sid} is a mock brand: mock brands cannot have campaigns")
    if brand["brand_type"] == c.BRAND_TYPE_SOLE_PROPRIETOR:
        if data["us_app_to_person_usecase"] != c.CAMPAIGN_USECASE_SOLE_PROPRIETOR:
            raise errors.invalid("UsAppToPersonUsecase", f"a SOLE_PROPRIETOR brand only allows the "
                                                         f"{c.CAMPAIGN_USECASE_SOLE_PROPRIETOR} use case")
        if brand["status"] != "APPROVED" or brand.get("identity_status") != "VERIFIED":
            raise refuse(f"Brand {brand_sid} is {brand['status']} with identity_status "
                         f"{brand.get('identity_status')}: a Sole Proprietor brand must be APPROVED and VERIFIED "
                         "(OTP confirmed) before its campaign is created")
        if sb.store.find("campaigns", "brand_registration_sid", brand_sid):
            raise refuse(f"Brand {brand_sid} already has a campaign: a Sole Proprietor brand can have only one")
        numbers = sb.store.find("phone_numbers", "service_sid", service_sid)
        if len(numbers) > 1:
            raise refuse(f"Messaging Service {service_sid} holds {len(numbers)} numbers: a Sole Proprietor campaign "
                         "can use only one")
    elif brand["status"] != "APPROVED":
        raise refuse(f"Brand {brand_sid} is {brand['status']}: it must be APPROVED")
    if _campaign_of(sb, service_sid):
        raise refuse(f"Messaging Service {service_sid} already has an A2P campaign")
    return brand


def create_campaign(ctx: Ctx, service_sid: str) -> Reply:
    ctx.owned("services", service_sid)
    data = _campaign_input(ctx)
    _eligible(ctx, service_sid, data)
    now = ctx.sb.now()
    rec = {**data, "sid": new_sid("QE"), "account_sid": ctx.account_sid, "messaging_service_sid": service_sid,
           "campaign_status": "PENDING", "campaign_id": None, "is_externally_registered": False,
           "rate_limits": SP_RATE_LIMITS, "mock": False, "errors": [], "date_created": now, "date_updated": now,
           "events": []}
    _schedule_review(ctx.sb, rec)
    ctx.sb.store.put("campaigns", rec)
    return Reply(201, campaign_json(ctx.sb, rec))


def _schedule_review(sb: "Sandbox", rec: dict) -> None:
    """(Re)start the campaign's review: PENDING now, IN_PROGRESS and VERIFIED/FAILED later."""
    _cancel_events(sb, rec)
    rec["events"] = [sb.scheduler.schedule("campaign_in_progress",
                                           sb.setting("campaign_in_progress_seconds", rec["account_sid"]),
                                           {"sid": rec["sid"]})]


def _cancel_events(sb: "Sandbox", rec: dict) -> None:
    for event_id in rec.get("events", []):
        sb.scheduler.cancel(event_id)
    rec["events"] = []


def update_campaign(ctx: Ctx, service_sid: str, sid: str) -> Reply:
    """UpdateUsAppToPerson: a FAILED campaign, edited, goes back to review (the create's scenarios apply)."""
    if not ctx.sb.setting("campaign_updates_supported", ctx.account_sid):
        raise errors.method_not_allowed()
    rec = _owned_campaign(ctx, service_sid, sid)
    ctx.only(*UPDATE_PARAMS)
    data = _content_input(ctx)
    data["age_gated"] = ctx.flag("AgeGated", required=True)
    data["direct_lending"] = ctx.flag("DirectLending", required=True)
    if rec["campaign_status"] != "FAILED":
        raise errors.bad_request(
            f"Campaign {sid} is {rec['campaign_status']}: only a FAILED campaign can be updated (delete it and "
            "create a new one to change anything else)", errors.CAMPAIGN_UPDATE_NOT_FAILED)
    rec.update(data, campaign_status="PENDING", errors=[], date_updated=ctx.sb.now())
    _schedule_review(ctx.sb, rec)
    ctx.sb.store.put("campaigns", rec)
    return Reply(200, campaign_json(ctx.sb, rec))


def _owned_campaign(ctx: Ctx, service_sid: str, sid: str) -> dict:
    ctx.owned("services", service_sid)
    rec = ctx.sb.store.get("campaigns", sid)
    if rec is None or rec["messaging_service_sid"] != service_sid:
        raise errors.not_found(ctx.path)
    return rec


def fetch_campaign(ctx: Ctx, service_sid: str, sid: str) -> Reply:
    return Reply(200, campaign_json(ctx.sb, _owned_campaign(ctx, service_sid, sid)))


def list_campaigns(ctx: Ctx, service_sid: str) -> Reply:
    ctx.owned("services", service_sid)
    return ctx.page(ctx.sb.store.find("campaigns", "messaging_service_sid", service_sid), "compliance",
                    lambda r: campaign_json(ctx.sb, r))


def _delete_campaign(sb: "Sandbox", rec: dict) -> None:
    _cancel_events(sb, rec)
    sb.store.delete("campaigns", rec["sid"])
    service = sb.store.get("services", rec["messaging_service_sid"])
    if service is not None:
        service.update(us_app_to_person_registered=False, date_updated=sb.now())
        sb.store.put("services", service)


def delete_campaign(ctx: Ctx, service_sid: str, sid: str) -> Reply:
    _delete_campaign(ctx.sb, _owned_campaign(ctx, service_sid, sid))
    return Reply(204)


def _campaign_event(sb: "Sandbox", rec: dict, event_type: str, schema: str) -> None:
    sb.webhooks.cloud_event(rec["account_sid"], f"campaign-registration.{event_type}", schema,
                            f"{SERVICES}/{rec['messaging_service_sid']}/Compliance/Usa2p/{rec['sid']}", {
                                "accountsid": rec["account_sid"], "brandsid": rec["brand_registration_sid"],
                                "campaignsid": rec["sid"], "messagingservicesid": rec["messaging_service_sid"],
                                "campaignregistrationstatus": rec["campaign_status"],
                                "campaignregistrationerrors": rec.get("errors") or [],
                                "createddate": iso(rec["date_created"]), "externalcampaignid": rec.get("campaign_id"),
                                "usecase": rec["us_app_to_person_usecase"],
                            })


def _set_registered(sb: "Sandbox", rec: dict) -> None:
    """The service is A2P-registered exactly while its campaign is VERIFIED."""
    service = sb.store.get("services", rec["messaging_service_sid"])
    registered = rec["campaign_status"] == "VERIFIED"
    if service is not None and service["us_app_to_person_registered"] != registered:
        service.update(us_app_to_person_registered=registered, date_updated=sb.now())
        sb.store.put("services", service)


def _campaign_id(rec: dict) -> str:
    return rec.get("campaign_id") or "C" + hashlib.sha1(rec["sid"].encode()).hexdigest()[:6].upper()


# Event Streams type for each status (SUSPENDED and PENDING have no documented type: sandbox choice).
CAMPAIGN_EVENTS = {
    "PENDING": ("campaign-submitted", "CampaignRegistrationSubmitted"),
    "IN_PROGRESS": ("campaign-submitted", "CampaignRegistrationSubmitted"),
    "VERIFIED": ("campaign-approved", "CampaignRegistrationApproved"),
    "FAILED": ("campaign-failure", "CampaignRegistrationFailure"),
    "SUSPENDED": ("campaign-failure", "CampaignRegistrationFailure"),
}


def campaign_error(code: int, description: str, fields: list[str] | None = None) -> dict:
    """Campaign ``errors[]`` item (the shape of the spec's example)."""
    return {"error_code": code, "fields": fields or [], "url": more_info(code), "description": description}


def set_status(sb: "Sandbox", rec: dict, status: str, problems: list[tuple[int, str, list[str]]] | None = None) -> dict:
    """Force a status (control API): cancels the pending review steps, sets ``errors[]``
    (``(code, description, fields)``) and sends the matching Event Streams event. Nothing is
    scheduled afterwards."""
    _cancel_events(sb, rec)
    rec.update(campaign_status=status, errors=[campaign_error(*p) for p in problems or []], date_updated=sb.now())
    if status != "PENDING":
        rec["campaign_id"] = _campaign_id(rec)
    sb.store.put("campaigns", rec)
    _set_registered(sb, rec)
    _campaign_event(sb, rec, *CAMPAIGN_EVENTS.get(status, CAMPAIGN_EVENTS["FAILED"]))
    return rec


def campaign_in_progress(sb: "Sandbox", payload: dict) -> None:
    rec = sb.store.get("campaigns", payload["sid"])
    if rec is None or rec["campaign_status"] != "PENDING":
        return
    rec.update(campaign_status="IN_PROGRESS", date_updated=sb.now(), campaign_id=_campaign_id(rec))
    rec["events"] = [sb.scheduler.schedule("campaign_review", sb.setting("campaign_review_seconds", rec["account_sid"]),
                                           {"sid": rec["sid"]})]
    sb.store.put("campaigns", rec)
    _campaign_event(sb, rec, "campaign-submitted", "CampaignRegistrationSubmitted")


def campaign_review(sb: "Sandbox", payload: dict) -> None:
    rec = sb.store.get("campaigns", payload["sid"])
    if rec is None or rec["campaign_status"] != "IN_PROGRESS":
        return
    rec["events"] = []
    if scenarios.message_flow_lacks_opt_in(rec["message_flow"]):
        rec.update(campaign_status="FAILED", date_updated=sb.now(), errors=[campaign_error(
            errors.CAMPAIGN_OPT_IN_MISSING,
            "Opt-in information is missing: the message flow must describe how end users opt in and give consent "
            "to receive messages.", ["MESSAGE_FLOW"])])
        sb.store.put("campaigns", rec)
        _campaign_event(sb, rec, "campaign-failure", "CampaignRegistrationFailure")
        return
    rec.update(campaign_status="VERIFIED", date_updated=sb.now())
    sb.store.put("campaigns", rec)
    _set_registered(sb, rec)
    _campaign_event(sb, rec, "campaign-approved", "CampaignRegistrationApproved")


def register_events(sb: "Sandbox") -> None:
    sb.scheduler.register("campaign_in_progress", partial(campaign_in_progress, sb))
    sb.scheduler.register("campaign_review", partial(campaign_review, sb))


USA2P = SERVICES + "/{service_sid}/Compliance/Usa2p"
routes = [
    route(SERVICES, create_service, "POST"),
    route(SERVICES, list_services, "GET"),
    route(SERVICES + "/{sid}", fetch_service, "GET"),
    route(SERVICES + "/{sid}", delete_service, "DELETE"),
    route(SERVICES + "/{service_sid}/PhoneNumbers", add_number, "POST"),
    route(SERVICES + "/{service_sid}/PhoneNumbers", list_numbers, "GET"),
    route(SERVICES + "/{service_sid}/PhoneNumbers/{sid}", fetch_number, "GET"),
    route(SERVICES + "/{service_sid}/PhoneNumbers/{sid}", remove_number, "DELETE"),
    route(USA2P, create_campaign, "POST"),
    route(USA2P, list_campaigns, "GET"),
    route(USA2P + "/{sid}", fetch_campaign, "GET"),
    route(USA2P + "/{sid}", update_campaign, "POST"),
    route(USA2P + "/{sid}", delete_campaign, "DELETE"),
]
