"""Seed 001: converting a legacy Starter brand, from the legacy fixture, through the real SDK."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from a2p import constants as c


async def test_seed_001_legacy_conversion(account, control, mobile):
    client = account.client
    th, msg = client.trusthub.v1, client.messaging.v1
    legacy = await control.legacy_fixture(account_sid=account.sid, first_name="John", last_name="Doe",
                                          email="john.doe@example.com", phone_number="+14155550111",
                                          address={"street": "1 Jersey St", "city": "Boston", "region": "MA",
                                                   "postal_code": "02215", "iso_country": "US"})
    assert th.customer_profiles(legacy["customer_profile_sid"]).fetch().status == "twilio-approved"

    # 1.1 the converted trust bundle is twilio-rejected
    trust = th.trust_products(legacy["trust_product_sid"]).fetch()
    assert trust.status == "twilio-rejected" and trust.policy_sid == c.SOLE_PROPRIETOR_TRUST_POLICY_SID
    # 1.2 its assignments: only the starter profile
    assignments = th.trust_products(trust.sid).trust_products_entity_assignments.list()
    assert [a.object_sid for a in assignments] == [legacy["customer_profile_sid"]]
    brand = msg.brand_registrations(legacy["brand_sid"]).fetch()
    assert brand.status == "FAILED" and brand.brand_type == "SOLE_PROPRIETOR"
    # updating before the bundle is fixed is refused
    with pytest.raises(TwilioRestException) as err:
        msg.brand_registrations(brand.sid).update()
    assert err.value.code == 60723

    # 1.3 - 1.6 the sole_proprietor_information end user, assignment, evaluation, submission
    sole_prop = th.end_users.create(friendly_name="John Doe Sole Proprietor", type=c.SOLE_PROPRIETOR_END_USER_TYPE,
                                    attributes={"brand_name": "John Doe", "vertical": "COMMUNICATION",
                                                "mobile_phone_number": mobile})
    th.trust_products(trust.sid).trust_products_entity_assignments.create(object_sid=sole_prop.sid)
    evaluation = th.trust_products(trust.sid).trust_products_evaluations.create(
        policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID)
    assert evaluation.status == "compliant"
    assert th.trust_products(trust.sid).update(status="pending-review").status == "in-review"

    # 2.1 - 2.3 fetch the brand, update it (202), PENDING -> APPROVED + OTP
    assert msg.brand_registrations(brand.sid).fetch().status == "FAILED"
    updated = msg.brand_registrations(brand.sid).update()
    assert client.http_client._test_only_last_response.status_code == 202
    assert updated.status == "PENDING" and updated.sid == legacy["brand_sid"]
    await control.advance_clock(4)
    approved = msg.brand_registrations(brand.sid).fetch()
    assert (approved.status, approved.identity_status) == ("APPROVED", "UNVERIFIED")
    otp = (await control.otp_messages(to=mobile))["messages"]
    assert [m["body"] for m in otp] == [c.OTP_MESSAGE]
    assert (await control.reply_otp(mobile, "yes"))["accepted"] is True
    assert msg.brand_registrations(brand.sid).fetch().identity_status == "VERIFIED"
    assert th.trust_products(trust.sid).fetch().status == "twilio-approved"


async def test_legacy_fixture_with_sole_proprietor_end_user_in_parent(client, control, mobile):
    legacy = await control.legacy_fixture(with_sole_proprietor_end_user=True, mobile_phone_number=mobile,
                                          brand_name="Ann Lee", trust_bundle_status="in-review")
    assert legacy["account_sid"] == client.username
    assert legacy["sole_proprietor_end_user_sid"]
    trust = client.trusthub.v1.trust_products(legacy["trust_product_sid"]).fetch()
    assert trust.status == "in-review"
    assert len(client.trusthub.v1.trust_products(trust.sid).trust_products_entity_assignments.list(
        object_type=c.SOLE_PROPRIETOR_END_USER_TYPE)) == 1
