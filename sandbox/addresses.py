"""API v2010 Addresses (``api.twilio.com/2010-04-01/Accounts/{AC}/Addresses``).

The account in the path must be the authenticated account or one of its subaccounts. Addresses are
stored exactly as given (no auto-correction); whether they pass is decided by the profile review
(:mod:`sandbox.scenarios`). Dates are RFC 2822; the list is v2010-shaped (``addresses`` plus
``*_page_uri`` fields).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors
from .clock import rfc2822
from .core import new_sid
from .web import Ctx, Reply, route

if TYPE_CHECKING:
    from .core import Sandbox

CREATE_FIELDS = {"CustomerName": "customer_name", "Street": "street", "City": "city", "Region": "region",
                 "PostalCode": "postal_code", "IsoCountry": "iso_country"}
OPTIONAL_TEXT = {"FriendlyName": "friendly_name", "StreetSecondary": "street_secondary"}
FLAGS = {"EmergencyEnabled": "emergency_enabled", "AutoCorrectAddress": "auto_correct_address"}


def address_json(sb: "Sandbox", rec: dict) -> dict:
    return {
        "account_sid": rec["account_sid"], "city": rec["city"], "customer_name": rec["customer_name"],
        "date_created": rfc2822(rec["date_created"]), "date_updated": rfc2822(rec["date_updated"]),
        "friendly_name": rec.get("friendly_name"), "iso_country": rec["iso_country"],
        "postal_code": rec["postal_code"], "region": rec["region"], "sid": rec["sid"], "street": rec["street"],
        "uri": f"/2010-04-01/Accounts/{rec['account_sid']}/Addresses/{rec['sid']}.json",
        "emergency_enabled": rec.get("emergency_enabled", False), "validated": False, "verified": False,
        "street_secondary": rec.get("street_secondary"),
    }


def _account(ctx: Ctx, account_sid: str) -> str:
    if not ctx.sb.can_act_on(ctx.account_sid, account_sid):
        raise errors.not_found(ctx.path)
    return account_sid


def _owned(ctx: Ctx, account_sid: str, sid: str) -> dict:
    rec = ctx.sb.store.get("addresses", sid)
    if rec is None or rec["account_sid"] != _account(ctx, account_sid):
        raise errors.not_found(ctx.path)
    return rec


def create_address(ctx: Ctx, account_sid: str) -> Reply:
    account_sid = _account(ctx, account_sid)
    rec: dict = {"sid": new_sid("AD"), "account_sid": account_sid}
    for param, key in CREATE_FIELDS.items():
        rec[key] = ctx.text(param, required=True)
    if len(rec["iso_country"]) != 2 or not rec["iso_country"].isalpha():
        raise errors.invalid("IsoCountry", f"{rec['iso_country']!r} is not an ISO 3166-1 alpha-2 country code")
    rec["iso_country"] = rec["iso_country"].upper()
    rec["friendly_name"] = ctx.text("FriendlyName", max_len=64)
    rec["street_secondary"] = ctx.text("StreetSecondary")
    rec["emergency_enabled"] = ctx.flag("EmergencyEnabled", default=False)
    rec["auto_correct_address"] = ctx.flag("AutoCorrectAddress", default=True)
    rec["date_created"] = rec["date_updated"] = ctx.sb.now()
    ctx.sb.store.put("addresses", rec)
    return Reply(201, address_json(ctx.sb, rec))


def fetch_address(ctx: Ctx, account_sid: str, sid: str) -> Reply:
    return Reply(200, address_json(ctx.sb, _owned(ctx, account_sid, sid)))


def update_address(ctx: Ctx, account_sid: str, sid: str) -> Reply:
    """Only the fields sent change (FACTS.md: update the address with the changed fields only)."""
    rec = _owned(ctx, account_sid, sid)
    if "IsoCountry" in ctx.form:
        raise errors.invalid("IsoCountry", "cannot be updated; create a new address instead")
    for param, key in {**{k: v for k, v in CREATE_FIELDS.items() if k != "IsoCountry"}, **OPTIONAL_TEXT}.items():
        value = ctx.text(param, max_len=64 if param == "FriendlyName" else None)
        if value is not None:
            if value == "" and param in CREATE_FIELDS:
                raise errors.invalid(param, "cannot be empty")
            rec[key] = value
    for param, key in FLAGS.items():
        value = ctx.flag(param)
        if value is not None:
            rec[key] = value
    rec["date_updated"] = ctx.sb.now()
    ctx.sb.store.put("addresses", rec)
    return Reply(200, address_json(ctx.sb, rec))


def list_addresses(ctx: Ctx, account_sid: str) -> Reply:
    account_sid = _account(ctx, account_sid)
    filters = {"FriendlyName": ctx.query.get("FriendlyName"), "CustomerName": ctx.query.get("CustomerName"),
               "IsoCountry": ctx.query.get("IsoCountry")}
    keys = {"FriendlyName": "friendly_name", "CustomerName": "customer_name", "IsoCountry": "iso_country"}
    records = [r for r in ctx.sb.store.find("addresses", "account_sid", account_sid)
               if all(v is None or r.get(keys[k]) == v for k, v in filters.items())]
    return ctx.page_v2010(records, "addresses", lambda r: address_json(ctx.sb, r), filters)


BASE = "/2010-04-01/Accounts/{account_sid}/Addresses"
routes = [
    route(BASE + ".json", create_address, "POST"),
    route(BASE + ".json", list_addresses, "GET"),
    route(BASE + "/{sid}.json", fetch_address, "GET"),
    route(BASE + "/{sid}.json", update_address, "POST"),
]
