"""Brand reviews, TCR reuse caps, update rules, OTP expiry and re-send, the SmsOtp rate limit, mock brands."""

from __future__ import annotations

import time

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from sandbox import scenarios

from .flows import CAMPAIGN, GOOD_ADDRESS, Customer, brand, registered, starter_profile, trust_product


def _fetch(client, customer: Customer):
    return client.messaging.v1.brand_registrations(customer.brand_sid).fetch()


async def _reviewed(client, control, customer: Customer):
    await control.advance_clock(4)
    return _fetch(client, customer)


async def test_mobile_used_three_times_then_update_rules(account, control):
    client = account.client
    th = client.trusthub.v1
    customer = registered(client, scenarios.MOBILE_USED_THREE_TIMES)
    failed = await _reviewed(client, control, customer)
    assert failed.status == "FAILED"
    assert [e["code"] for e in failed.errors] == [30712]
    assert "mobile number +12025550199" in failed.errors[0]["message"] and "cap is 3" in failed.errors[0]["message"]
    assert failed.failure_reason == failed.errors[0]["message"]
    assert (await control.otp_messages(brand_sid=customer.brand_sid))["messages"] == []

    update = client.messaging.v1.brand_registrations(customer.brand_sid).update
    # 60723: nothing was fixed and resubmitted since the failure
    with pytest.raises(TwilioRestException) as err:
        update()
    assert (err.value.status, err.value.code) == (400, 60723)

    for attempt in range(1, 4):
        th.trust_products(customer.trust_sid).update(status="pending-review")  # "fixed" (still the bad mobile)
        updated = update()
        assert client.http_client._test_only_last_response.status_code == 202
        assert updated.status == "PENDING"
        with pytest.raises(TwilioRestException) as err:  # 21725: only a FAILED brand can be updated
            update()
        assert err.value.code == 21725
        assert (await _reviewed(client, control, customer)).status == "FAILED"
        assert _fetch(client, customer).errors[0]["code"] == 30712

    th.trust_products(customer.trust_sid).update(status="pending-review")
    with pytest.raises(TwilioRestException) as err:  # three updates already: "Brand update count exceeded"
        update()
    assert (err.value.status, err.value.code) == (400, 21724)
    assert "Brand update count exceeded" in err.value.msg


async def test_fixing_the_mobile_number_and_updating_approves(account, control, mobile):
    client = account.client
    th = client.trusthub.v1
    customer = registered(client, scenarios.MOBILE_UNSUPPORTED)
    failed = await _reviewed(client, control, customer)
    assert failed.status == "FAILED" and failed.errors[0]["code"] == 30751
    th.end_users(customer.sole_prop_sid).update(attributes={"brand_name": "Jane Doe", "mobile_phone_number": mobile})
    th.trust_products(customer.trust_sid).update(status="pending-review")
    assert client.messaging.v1.brand_registrations(customer.brand_sid).update().status == "PENDING"
    approved = await _reviewed(client, control, customer)
    assert (approved.status, approved.identity_status) == ("APPROVED", "UNVERIFIED")
    assert (await control.otp_messages(to=mobile))["messages"][0]["brand_sid"] == customer.brand_sid


@pytest.mark.parametrize("kwargs,needle", [
    ({"email": "jane@ten-brands.test"}, "email jane@ten-brands.test"),
    ({"address": {**GOOD_ADDRESS, "street": "999 Overused Ave"}}, "address 999 Overused Ave"),
], ids=["email", "address"])
async def test_email_and_address_caps(account, control, mobile, kwargs, needle):
    customer = registered(account.client, mobile, **kwargs)
    failed = await _reviewed(account.client, control, customer)
    assert failed.status == "FAILED" and failed.errors[0]["code"] == 30712
    assert needle in failed.errors[0]["message"] and "cap is 10" in failed.errors[0]["message"]


async def test_mobile_cap_counts_brands_of_all_accounts(control, sandbox, mobile):
    from sandbox.testing import twilio_client

    customers = []
    for _ in range(4):
        sub = await control.create_subaccount()
        sub_client = twilio_client(sandbox.base_url, sub["sid"], sub["auth_token"])
        customers.append((sub_client, registered(sub_client, mobile)))
        await control.advance_clock(4)
    statuses = [_fetch(cl, cu).status for cl, cu in customers]
    assert statuses == ["APPROVED", "APPROVED", "APPROVED", "FAILED"]
    assert len((await control.resources("brands", status="APPROVED"))["resources"]) >= 3


async def test_rejected_profile_fails_the_brand_with_30701(account, control, mobile):
    customer = registered(account.client, mobile, email="jane@disposable.test")
    failed = await _reviewed(account.client, control, customer)
    assert failed.status == "FAILED" and failed.errors[0]["code"] == 30701
    assert "Email is a suspected disposable address." in failed.errors[0]["message"]
    assert failed.errors[0]["fields"] == ["customer_profile_bundle_sid"]


async def test_wrong_or_transposed_bundle_sids(account, mobile):
    client = account.client
    customer = trust_product(client, starter_profile(client, Customer()), mobile=mobile)
    with pytest.raises(TwilioRestException) as err:
        client.messaging.v1.brand_registrations.create(customer_profile_bundle_sid=customer.trust_sid,
                                                       a2p_profile_bundle_sid=customer.profile_sid,
                                                       brand_type="SOLE_PROPRIETOR")
    assert (err.value.status, err.value.code) == (400, 30793)


async def test_otp_expires_after_24h_and_is_resent(account, control, mobile):
    client = account.client
    customer = registered(client, mobile)
    assert (await _reviewed(client, control, customer)).identity_status == "UNVERIFIED"
    await control.advance_clock(24 * 3600 + 1)
    refused = await control.reply_otp(mobile, "YES")
    assert (refused["accepted"], refused["expired"]) == (False, True)
    assert "expired" in refused["reason"]
    assert _fetch(client, customer).identity_status == "UNVERIFIED"
    inbound = (await control.otp_messages(brand_sid=customer.brand_sid, direction="inbound"))["messages"]
    assert inbound[-1]["status"] == "refused"

    resent = client.messaging.v1.brand_registrations(customer.brand_sid).brand_registration_otps.create()
    assert resent.account_sid == account.sid
    messages = (await control.otp_messages(to=mobile))["messages"]
    assert [m["status"] for m in messages] == ["expired", "active"]
    assert (await control.reply_otp(mobile, "YES"))["accepted"] is True
    assert _fetch(client, customer).identity_status == "VERIFIED"
    with pytest.raises(TwilioRestException) as err:  # no OTP for a verified brand
        client.messaging.v1.brand_registrations(customer.brand_sid).brand_registration_otps.create()
    assert err.value.status == 400


async def test_smsotp_is_rate_limited(account, control, mobile, sandbox):
    customer = registered(account.client, mobile)
    await _reviewed(account.client, control, customer)
    url = f"{sandbox.base_url}/v1/a2p/BrandRegistrations/{customer.brand_sid}/SmsOtp"
    with httpx.Client(auth=(account.sid, account.auth_token)) as http:
        start = time.monotonic()
        codes = [http.post(url) for _ in range(12)]
        elapsed = time.monotonic() - start
    assert elapsed < 1, "the burst must fit in one second"
    assert [r.status_code for r in codes[:10]] == [201] * 10
    limited = codes[10]
    assert limited.status_code == 429 and limited.json()["code"] == 20429 and int(limited.headers["Retry-After"]) >= 1
    # a superseded OTP is no longer the one a YES answers; the latest is
    assert (await control.reply_otp(mobile))["accepted"] is True


async def test_pending_brand_gets_no_otp(account, mobile):
    customer = registered(account.client, mobile)
    with pytest.raises(TwilioRestException) as err:
        account.client.messaging.v1.brand_registrations(customer.brand_sid).brand_registration_otps.create()
    assert err.value.status == 400 and "APPROVED" in err.value.msg


async def test_mock_brand(account, control, mobile):
    client = account.client
    customer = trust_product(client, starter_profile(client, Customer()), mobile=mobile)
    brand(client, customer, mock=True)
    approved = await _reviewed(client, control, customer)
    assert (approved.status, approved.mock) == ("APPROVED", True)
    assert (await control.otp_messages(to=mobile))["messages"] == []
    with pytest.raises(TwilioRestException):
        client.messaging.v1.brand_registrations(customer.brand_sid).brand_registration_otps.create()
    service = client.messaging.v1.services.create(friendly_name="Mock")
    with pytest.raises(TwilioRestException) as err:
        client.messaging.v1.services(service.sid).us_app_to_person.create(brand_registration_sid=customer.brand_sid,
                                                                           **CAMPAIGN)
    assert err.value.status == 400 and "mock" in err.value.msg
    # mock brands do not use up the mobile number: three real brands still pass
    brands = (await control.resources("brands", sid=customer.brand_sid))["resources"]
    assert brands[0]["sandbox"]["tcr_keys"] == {}


async def test_otp_deadline_expires_unverified_brands_when_enforced(account, control, mobile):
    customer = registered(account.client, mobile)
    await _reviewed(account.client, control, customer)
    await control.set_config(enforce_otp_deadline=True)
    try:
        await control.advance_clock(30 * 86400)
        assert _fetch(account.client, customer).status == "EXPIRED"
    finally:
        await control.set_config(enforce_otp_deadline=False)
    assert (await control.reply_otp(mobile))["accepted"] is False


async def test_brand_type_must_be_sole_proprietor(account, mobile):
    client = account.client
    customer = trust_product(client, starter_profile(client, Customer()), mobile=mobile)
    with pytest.raises(TwilioRestException) as err:
        client.messaging.v1.brand_registrations.create(customer_profile_bundle_sid=customer.profile_sid,
                                                       a2p_profile_bundle_sid=customer.trust_sid)
    assert err.value.status == 400 and "BrandType" in err.value.msg


async def test_uses_registered_elsewhere_count_toward_the_cap(account, control, mobile):
    assert (await control.add_tcr_uses(mobile_number=mobile, uses=3))["uses"]["mobile_number"] == 3
    customer = registered(account.client, mobile)
    failed = await _reviewed(account.client, control, customer)
    assert failed.status == "FAILED" and failed.errors[0]["code"] == 30712
