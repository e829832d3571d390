"""API v2010 Accounts (``api.twilio.com/2010-04-01/Accounts/{AC}.json``): fetch only.

An account can read itself, and a parent its subaccounts (``Client(parent_sid, parent_token)
.api.v2010.accounts(sub_sid).fetch()``): the answer carries the account's ``auth_token``, which is how
an ISV gets a subaccount's token. Any other account's SID answers 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors
from .clock import rfc2822
from .web import Ctx, Reply, route

if TYPE_CHECKING:
    from .core import Sandbox

BASE = "/2010-04-01/Accounts"
SUBRESOURCES = {
    "available_phone_numbers": "AvailablePhoneNumbers", "calls": "Calls", "conferences": "Conferences",
    "incoming_phone_numbers": "IncomingPhoneNumbers", "notifications": "Notifications",
    "outgoing_caller_ids": "OutgoingCallerIds", "recordings": "Recordings", "transcriptions": "Transcriptions",
    "addresses": "Addresses", "signing_keys": "SigningKeys", "connect_apps": "ConnectApps", "sip": "SIP",
    "authorized_connect_apps": "AuthorizedConnectApps", "usage": "Usage", "keys": "Keys",
    "applications": "Applications", "short_codes": "SMS/ShortCodes", "queues": "Queues", "messages": "Messages",
    "balance": "Balance",
}


def account_json(sb: "Sandbox", rec: dict) -> dict:
    uri = f"{BASE}/{rec['sid']}"
    return {
        "auth_token": rec["auth_token"], "date_created": rfc2822(rec["date_created"]),
        "date_updated": rfc2822(rec.get("date_updated") or rec["date_created"]),
        "friendly_name": rec["friendly_name"], "owner_account_sid": rec.get("parent_sid") or rec["sid"],
        "sid": rec["sid"], "status": "active", "type": "Full", "uri": f"{uri}.json",
        "subresource_uris": {name: f"{uri}/{path}.json" for name, path in SUBRESOURCES.items()},
    }


def fetch_account(ctx: Ctx, sid: str) -> Reply:
    rec = ctx.sb.store.get("accounts", sid)
    if rec is None or not ctx.sb.can_act_on(ctx.account_sid, sid):
        raise errors.not_found(ctx.path)
    return Reply(200, account_json(ctx.sb, rec))


routes = [route(BASE + "/{sid}.json", fetch_account, "GET")]
