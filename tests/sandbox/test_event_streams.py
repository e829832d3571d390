"""Event Streams: brand and campaign status changes as signed CloudEvents arrays."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qs, urlsplit

from twilio.request_validator import RequestValidator

from sandbox import defaults


from .flows import CAMPAIGN, registered

PREFIX = "com.twilio.messaging.compliance."


def _events(receiver, path: str) -> list[dict]:
    return [event for r in receiver.matching(path) for event in json.loads(r["body"])]


async def test_brand_and_campaign_events(account, control, receiver, mobile):
    path = f"/events/{account.sid}"
    await control.set_event_sink(receiver.url(path), account_sid=account.sid)
    client = account.client
    customer = registered(client, mobile)
    await control.advance_clock(4)
    receiver.wait_for(lambda r: r["path"].startswith(path) and b"brand-registered" in r["body"])
    await control.reply_otp(mobile)
    msg = client.messaging.v1
    service = msg.services.create(friendly_name="Events")
    msg.services(service.sid).phone_numbers.create(
        phone_number_sid=(await control.create_phone_number(account.sid))["sid"])
    campaign = msg.services(service.sid).us_app_to_person.create(brand_registration_sid=customer.brand_sid, **CAMPAIGN)
    await control.advance_clock(1.5)
    await control.advance_clock(3.5)
    receiver.wait_for(lambda r: r["path"].startswith(path) and b"campaign-approved" in r["body"])

    events = _events(receiver, path)
    types = [e["type"].removeprefix(PREFIX) for e in events]
    assert types == ["brand-registration.brand-registered", "brand-registration.brand-verified",
                     "campaign-registration.campaign-submitted", "campaign-registration.campaign-approved"]
    assert len({e["id"] for e in events}) == len(events)
    for event in events:
        assert event["specversion"] == "1.0" and event["datacontenttype"] == "application/json"
        assert {"source", "time", "dataschema", "data"} <= set(event)
    registered_event, verified = events[0]["data"], events[1]["data"]
    assert registered_event["brandsid"] == customer.brand_sid and registered_event["accountsid"] == account.sid
    assert (registered_event["brandstatus"], registered_event["identitystatus"]) == ("APPROVED", "UNVERIFIED")
    assert registered_event["brandregistrationerrors"] == [] and registered_event["externalbrandid"].startswith("B")
    assert verified["identitystatus"] == "VERIFIED"
    approved = events[3]["data"]
    assert approved["campaignsid"] == campaign.sid and approved["messagingservicesid"] == service.sid
    assert approved["campaignregistrationstatus"] == "VERIFIED" and approved["brandsid"] == customer.brand_sid

    # signed like Twilio's JSON webhooks: bodySHA256 in the URL, signature over the full URL
    validator = RequestValidator(account.auth_token)
    for request in receiver.matching(path):
        query = parse_qs(urlsplit(request["url"]).query)
        assert query["bodySHA256"] == [hashlib.sha256(request["body"]).hexdigest()]
        assert validator.validate(request["url"], request["body"].decode(), request["headers"]["X-Twilio-Signature"])
        assert not RequestValidator("wrong").validate(request["url"], request["body"].decode(),
                                                      request["headers"]["X-Twilio-Signature"])
    await control.set_event_sink(None, account_sid=account.sid)


async def test_brand_failure_event_on_the_sandbox_wide_sink(client, control, receiver, mobile):
    """The sandbox-wide sink (config/CLI) belongs to the parent account and is signed with its token."""
    path = "/events/parent"
    await control.set_event_sink(receiver.url(path))
    try:
        customer = registered(client, mobile, email="jane@bad-mailbox.test")
        await control.advance_clock(4)
        request = receiver.wait_for(lambda r: r["path"].startswith(path) and b"brand-failure" in r["body"])
    finally:
        await control.set_event_sink(None)
    event = json.loads(request["body"])[0]
    assert event["data"]["brandsid"] == customer.brand_sid and event["data"]["brandstatus"] == "FAILED"
    assert event["data"]["brandregistrationerrors"][0]["code"] == 30701
    assert RequestValidator(defaults.PARENT_AUTH_TOKEN).validate(
        request["url"], request["body"].decode(), request["headers"]["X-Twilio-Signature"])
