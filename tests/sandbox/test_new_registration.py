"""Seed 000 sections 1-4, end to end through the real twilio SDK: every call, every status transition,
the status callbacks. (That every response matches Twilio's OpenAPI specs is
tests/contract/test_sandbox_contract.py's job.)"""

from __future__ import annotations

from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from a2p import constants as c
from sandbox import defaults

from .flows import CAMPAIGN, last_json, registered


async def test_seed_000_new_sole_proprietor_registration(sandbox, control, account, mobile, receiver):
    client = account.client
    th, msg = client.trusthub.v1, client.messaging.v1
    callback = receiver.url(f"/profile/{account.sid}")
    trust_callback = receiver.url(f"/trust/{account.sid}")

    # 1.1 / 2.1 policies
    starter_policy = th.policies(c.STARTER_PROFILE_POLICY_SID).fetch()
    assert starter_policy.requirements["end_user"][0]["fields"] == ["first_name", "last_name", "email", "phone_number"]
    assert starter_policy.requirements["supporting_customer_profiles"][0]["type"] == \
        "primary_customer_profile_type_business"
    sp_policy = th.policies(c.SOLE_PROPRIETOR_TRUST_POLICY_SID).fetch()
    assert sp_policy.friendly_name == "Sole Proprietor TrustProduct"
    assert {p["requirement_name"] for p in sp_policy.requirements["supporting_customer_profiles"]} == {"customer_profile"}

    # 1.2 starter customer profile
    profile = th.customer_profiles.create(friendly_name="Jane Doe Starter Customer Profile Bundle",
                                          email="jane.doe@example.com", policy_sid=c.STARTER_PROFILE_POLICY_SID,
                                          status_callback=callback)
    assert profile.status == "draft" and profile.account_sid == account.sid
    assert profile.url == f"{sandbox.base_url}/v1/CustomerProfiles/{profile.sid}"
    assert profile.errors is None

    # 1.3 end user, 1.4 address, 1.5 supporting document
    end_user = th.end_users.create(friendly_name="Starter Profile End User", type=c.STARTER_PROFILE_END_USER_TYPE,
                                   attributes={"email": "jane.doe@example.com", "first_name": "Jane",
                                               "last_name": "Doe", "phone_number": "+14155550100"})
    assert end_user.attributes["first_name"] == "Jane"
    address = client.addresses.create(customer_name="Jane Doe", street="1 Jersey St", city="Boston", region="MA",
                                      postal_code="02215", iso_country="US", street_secondary="Apt B")
    assert last_json(client)["date_created"].endswith("+0000")
    assert address.uri == f"/2010-04-01/Accounts/{account.sid}/Addresses/{address.sid}.json"
    document = th.supporting_documents.create(friendly_name="SP Document Address", type=c.ADDRESS_DOCUMENT_TYPE,
                                              attributes={"address_sids": address.sid})

    # 1.6 / 1.7 three assignments (the primary profile lives in the parent account)
    assignments = th.customer_profiles(profile.sid).customer_profiles_entity_assignments
    for object_sid in (end_user.sid, document.sid, defaults.PRIMARY_CUSTOMER_PROFILE_SID):
        assignment = assignments.create(object_sid=object_sid)
        assert assignment.customer_profile_sid == profile.sid and assignment.object_sid == object_sid
    assert len(assignments.list()) == 3
    assert [a.object_sid for a in assignments.list(object_type=c.STARTER_PROFILE_END_USER_TYPE)] == [end_user.sid]

    # 1.7 evaluation, 1.8 submission
    evaluation = th.customer_profiles(profile.sid).customer_profiles_evaluations.create(
        policy_sid=c.STARTER_PROFILE_POLICY_SID)
    assert evaluation.status == "compliant"
    assert [r["requirement_name"] for r in evaluation.results] == [
        "starter_customer_profile_information", "customer_profile_address", "primary_customer_profile"]
    assert all(r["passed"] for r in evaluation.results)
    assert th.customer_profiles(profile.sid).update(status="pending-review").status == "in-review"

    # 2.2 - 2.6 trust product
    trust = th.trust_products.create(friendly_name="Jane Doe Sole Proprietor A2P Trust Bundle",
                                     email="jane.doe@example.com", policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID,
                                     status_callback=trust_callback)
    assert trust.status == "draft"
    sole_prop = th.end_users.create(friendly_name="Sole Proprietor A2P Trust Bundle End User",
                                    type=c.SOLE_PROPRIETOR_END_USER_TYPE,
                                    attributes={"brand_name": "Jane Doe", "vertical": "RETAIL",
                                                "mobile_phone_number": mobile})
    for object_sid in (sole_prop.sid, profile.sid):
        th.trust_products(trust.sid).trust_products_entity_assignments.create(object_sid=object_sid)
    evaluation = th.trust_products(trust.sid).trust_products_evaluations.create(
        policy_sid=c.SOLE_PROPRIETOR_TRUST_POLICY_SID)
    assert evaluation.status == "compliant"
    assert th.trust_products(trust.sid).update(status="pending-review").status == "in-review"

    # 3 brand: PENDING -> APPROVED + UNVERIFIED
    brand = msg.brand_registrations.create(customer_profile_bundle_sid=profile.sid, a2p_profile_bundle_sid=trust.sid,
                                           brand_type=c.BRAND_TYPE_SOLE_PROPRIETOR)
    assert (brand.status, brand.identity_status, brand.tcr_id) == ("PENDING", None, None)
    await control.advance_clock(5)
    brand = msg.brand_registrations(brand.sid).fetch()
    assert (brand.status, brand.identity_status) == ("APPROVED", "UNVERIFIED")
    assert brand.tcr_id.startswith("B") and len(brand.tcr_id) == 7
    assert th.customer_profiles(profile.sid).fetch().status == "in-review"
    assert th.trust_products(trust.sid).fetch().status == "in-review"

    # 3.1 the OTP reaches the customer's phone; YES verifies the brand and approves both bundles
    otps = (await control.otp_messages(to=mobile))["messages"]
    assert len(otps) == 1
    assert (otps[0]["from"], otps[0]["body"], otps[0]["brand_sid"]) == (c.OTP_SENDER, c.OTP_MESSAGE, brand.sid)
    reply = await control.reply_otp(mobile, "YES")
    assert reply["accepted"] and reply["brand_sid"] == brand.sid
    brand = msg.brand_registrations(brand.sid).fetch()
    assert (brand.status, brand.identity_status) == ("APPROVED", "VERIFIED")
    assert th.customer_profiles(profile.sid).fetch().status == "twilio-approved"
    assert th.trust_products(trust.sid).fetch().status == "twilio-approved"
    confirmation = (await control.otp_messages(to=mobile))["messages"][-1]
    assert confirmation["body"] == c.OTP_CONFIRMATION

    # 4.1 messaging service + number, 4.2 campaign PENDING -> IN_PROGRESS -> VERIFIED
    service = msg.services.create(friendly_name="Jane Doe Hair Studio")
    number = await control.create_phone_number(account.sid)
    added = msg.services(service.sid).phone_numbers.create(phone_number_sid=number["sid"])
    assert client.http_client._test_only_last_response.status_code == 201
    assert added.phone_number == number["phone_number"]
    campaign = msg.services(service.sid).us_app_to_person.create(brand_registration_sid=brand.sid, **CAMPAIGN)
    assert campaign.campaign_status == "PENDING"
    await control.advance_clock(1.5)
    campaign = msg.services(service.sid).us_app_to_person(campaign.sid).fetch()
    assert campaign.campaign_status == "IN_PROGRESS" and campaign.campaign_id.startswith("C")
    await control.advance_clock(3.5)
    campaign = msg.services(service.sid).us_app_to_person(campaign.sid).fetch()
    assert campaign.campaign_status == "VERIFIED" and campaign.errors == []
    assert msg.services(service.sid).fetch().us_app_to_person_registered is True
    assert [x.sid for x in msg.services(service.sid).us_app_to_person.list()] == [campaign.sid]

    # every status change of the profile reached its status callback, signed with the account's token
    def statuses(path: str) -> list[str]:
        return [dict(parse_qsl(r["body"].decode()))["Status"] for r in receiver.matching(path)]

    receiver.wait_for(lambda r: r["path"] == f"/profile/{account.sid}" and b"twilio-approved" in r["body"])
    assert statuses(f"/profile/{account.sid}") == ["in-review", "twilio-approved"]
    receiver.wait_for(lambda r: r["path"] == f"/trust/{account.sid}" and b"twilio-approved" in r["body"])
    validator = RequestValidator(account.auth_token)
    for request in receiver.matching(f"/profile/{account.sid}"):
        params = dict(parse_qsl(request["body"].decode(), keep_blank_values=True))
        assert set(params) == {"AccountSid", "BundleSid", "Status", "FailureReason"}
        assert params["BundleSid"] == profile.sid and params["AccountSid"] == account.sid
        assert validator.validate(request["url"], params, request["headers"]["X-Twilio-Signature"])


async def test_parent_account_lists_and_otp_resend(client, control, mobile):
    """The same flow in the parent account: its lists find the customer's resources; SmsOtp re-sends.
    (The responses' shapes are checked in tests/contract/test_sandbox_contract.py.)"""
    customer = registered(client, mobile)
    th, msg = client.trusthub.v1, client.messaging.v1
    profiles = th.customer_profiles.list(policy_sid=c.STARTER_PROFILE_POLICY_SID, status="in-review")
    assert customer.profile_sid in [p.sid for p in profiles]
    assert customer.trust_sid in [t.sid for t in th.trust_products.list(status="in-review")]
    assert customer.brand_sid in [b.sid for b in msg.brand_registrations.list()]
    addresses = client.addresses.list(customer_name="Jane Doe")
    assert customer.address_sid in [a.sid for a in addresses]
    assert last_json(client)["uri"].startswith(f"/2010-04-01/Accounts/{client.username}/Addresses.json?")
    services = msg.services.list()
    assert isinstance(services, list)
    otp = msg.brand_registrations(customer.brand_sid)
    assert otp.fetch().status == "PENDING"
    await control.advance_clock(5)
    created = otp.brand_registration_otps.create()
    assert created.brand_registration_sid == customer.brand_sid
    assert len((await control.otp_messages(brand_sid=customer.brand_sid))["messages"]) == 2
