"""Messaging services, their number, and Sole Proprietor campaigns: validation, eligibility, FAILED."""

from __future__ import annotations

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from .flows import CAMPAIGN, registered, service_with_number, verified


INVALID = [
    ({"description": "too short"}, "Description"),
    ({"message_flow": "short opt-in"}, "MessageFlow"),
    ({"message_samples": ["Jane Doe Hair Studio: only one sample here."]}, "MessageSamples"),
    ({"message_samples": ["short", "Jane Doe Hair Studio: second sample is long enough."]}, "MessageSamples[0]"),
    ({"message_samples": ["Jane Doe Hair Studio: sample number [n] is long."] * 6}, "MessageSamples"),
    ({"opt_in_message": "too short"}, "OptInMessage"),
    ({"opt_out_keywords": ["STOP", "no-way"]}, "OptOutKeywords"),
    ({"us_app_to_person_usecase": "MARKETING"}, "UsAppToPersonUsecase"),
    ({"privacy_policy_url": "not a url"}, "PrivacyPolicyUrl"),
]


async def test_campaign_validation_and_eligibility(account, control, mobile, sandbox):
    client = account.client
    msg = client.messaging.v1
    customer = registered(client, mobile)
    number = await control.create_phone_number(account.sid)
    service = service_with_number(account, number["sid"])
    campaigns = msg.services(service.sid).us_app_to_person

    # the brand is not approved + verified yet
    with pytest.raises(TwilioRestException) as err:
        campaigns.create(brand_registration_sid=customer.brand_sid, **CAMPAIGN)
    assert err.value.status == 400 and "VERIFIED" in err.value.msg
    await control.advance_clock(4)
    with pytest.raises(TwilioRestException) as err:
        campaigns.create(brand_registration_sid=customer.brand_sid, **CAMPAIGN)
    assert "UNVERIFIED" in err.value.msg
    assert (await control.reply_otp(mobile))["accepted"]

    for change, field in INVALID:
        with pytest.raises(TwilioRestException) as err:
            campaigns.create(brand_registration_sid=customer.brand_sid, **{**CAMPAIGN, **change})
        assert err.value.status == 400 and field in err.value.msg, (change, err.value.msg)

    # HasEmbeddedLinks / HasEmbeddedPhone are required booleans
    form = {"BrandRegistrationSid": customer.brand_sid, "Description": CAMPAIGN["description"],
            "MessageFlow": CAMPAIGN["message_flow"], "MessageSamples": CAMPAIGN["message_samples"],
            "UsAppToPersonUsecase": "SOLE_PROPRIETOR", "HasEmbeddedPhone": "false"}
    url = f"{sandbox.base_url}/v1/Services/{service.sid}/Compliance/Usa2p"
    with httpx.Client(auth=(account.sid, account.auth_token)) as http:
        missing = http.post(url, data=form)
        assert missing.status_code == 400 and "HasEmbeddedLinks" in missing.json()["message"]
        wrong = http.post(url, data={**form, "HasEmbeddedLinks": "maybe"})
        assert wrong.status_code == 400 and "HasEmbeddedLinks" in wrong.json()["message"]

    campaign = campaigns.create(brand_registration_sid=customer.brand_sid, **CAMPAIGN)
    assert campaign.campaign_status == "PENDING"
    with pytest.raises(TwilioRestException) as err:  # one campaign per Sole Proprietor brand
        msg.services(msg.services.create(friendly_name="second").sid).us_app_to_person.create(
            brand_registration_sid=customer.brand_sid, **CAMPAIGN)
    assert "only one" in err.value.msg
    # one number in a service with a Sole Proprietor campaign
    second = await control.create_phone_number(account.sid)
    with pytest.raises(TwilioRestException) as err:
        msg.services(service.sid).phone_numbers.create(phone_number_sid=second["sid"])
    assert err.value.status == 400 and "only one" in err.value.msg
    # a number of another account is refused
    foreign = await control.create_phone_number()
    with pytest.raises(TwilioRestException) as err:
        msg.services(msg.services.create(friendly_name="third").sid).phone_numbers.create(
            phone_number_sid=foreign["sid"])
    assert "PhoneNumberSid" in err.value.msg


async def test_campaign_without_opt_in_language_fails(account, control, mobile):
    customer = await verified(account, control, mobile)
    service = service_with_number(account, (await control.create_phone_number(account.sid))["sid"])
    flow = "Customers give us their number at the front desk of the studio when they book."
    campaigns = account.client.messaging.v1.services(service.sid).us_app_to_person
    campaign = campaigns.create(brand_registration_sid=customer.brand_sid, **{**CAMPAIGN, "message_flow": flow})
    await control.advance_clock(1.5)
    assert campaigns(campaign.sid).fetch().campaign_status == "IN_PROGRESS"
    await control.advance_clock(3.5)
    failed = campaigns(campaign.sid).fetch()
    assert failed.campaign_status == "FAILED"
    assert failed.errors[0]["error_code"] == 30896 and failed.errors[0]["fields"] == ["MESSAGE_FLOW"]
    assert set(failed.errors[0]) == {"error_code", "fields", "url", "description"}
    # deleting it frees the brand for a new campaign
    assert campaigns(campaign.sid).delete() is True
    assert campaigns.list() == []


async def test_deleting_the_service_deletes_its_campaign(account, control, mobile):
    customer = await verified(account, control, mobile)
    number = await control.create_phone_number(account.sid)
    service = service_with_number(account, number["sid"])
    msg = account.client.messaging.v1
    campaign = msg.services(service.sid).us_app_to_person.create(brand_registration_sid=customer.brand_sid, **CAMPAIGN)
    assert msg.services(service.sid).delete() is True
    assert (await control.resources("campaigns", sid=campaign.sid))["count"] == 0
    with pytest.raises(TwilioRestException) as err:
        msg.services(service.sid).fetch()
    assert err.value.status == 404
    # the number is free again
    msg.services(msg.services.create(friendly_name="again").sid).phone_numbers.create(phone_number_sid=number["sid"])


async def test_service_name_is_required_and_limited(account):
    msg = account.client.messaging.v1
    with pytest.raises(TwilioRestException) as err:
        msg.services.create(friendly_name="x" * 65)
    assert err.value.status == 400 and "FriendlyName" in err.value.msg
