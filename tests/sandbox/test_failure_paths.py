"""What a registration's failure paths need from the sandbox: campaign update (and its 405 when
unsupported), delete and recreate, forced brand and campaign statuses with their events, a bundle
Email fixed and resubmitted, and a subaccount's token read by its parent. (The brand update limit,
21724, is in test_brands.py.)"""

from __future__ import annotations

import itertools
import json

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from sandbox.testing import SandboxControlError, twilio_client, wait_until

from .flows import (CAMPAIGN, Customer, brand, last_json, service_with_number, starter_profile, trust_product,
                    verified)

PREFIX = "com.twilio.messaging.compliance."
NO_OPT_IN_FLOW = "Customers give us their number at the front desk of the studio when they book."
_paths = itertools.count()

# UpdateUsAppToPerson's arguments (the SDK makes AgeGated and DirectLending required)
UPDATE = {"has_embedded_links": False, "has_embedded_phone": False, "message_samples": CAMPAIGN["message_samples"],
          "message_flow": CAMPAIGN["message_flow"], "description": CAMPAIGN["description"], "age_gated": False,
          "direct_lending": False}


async def _campaign(account, control, mobile, **changes):
    """A verified brand, a service with its number, and a new campaign (PENDING)."""
    customer = await verified(account, control, mobile)
    service = service_with_number(account, (await control.create_phone_number(account.sid))["sid"])
    campaigns = account.client.messaging.v1.services(service.sid).us_app_to_person
    campaign = campaigns.create(brand_registration_sid=customer.brand_sid, **{**CAMPAIGN, **changes})
    return customer, service, campaigns, campaign


async def _reviewed(control, campaigns, sid: str) -> str:
    """Run the campaign's review (PENDING -> IN_PROGRESS -> VERIFIED/FAILED); answer the status."""
    await control.advance_clock(1.5)
    assert campaigns(sid).fetch().campaign_status == "IN_PROGRESS"
    await control.advance_clock(3.5)
    return campaigns(sid).fetch().campaign_status


async def _sink(control, receiver, account) -> str:
    path = f"/failure-paths/{next(_paths)}"
    await control.set_event_sink(receiver.url(path), account_sid=account.sid)
    return path


def _event(receiver, path: str, kind: str, sid_key: str, sid: str, status_key: str, status: str) -> dict:
    """The first event on ``path`` of type ``kind`` about ``sid`` in ``status`` (waits for it)."""
    def find() -> dict | None:
        for request in receiver.matching(path):
            for event in json.loads(request["body"]):
                data = event["data"]
                if event["type"] == PREFIX + kind and data[sid_key] == sid and data[status_key] == status:
                    return event
        return None
    return wait_until(find, timeout=10, message=f"{kind} event for {sid} in {status}")


# ---- campaign update -----------------------------------------------------------------------
async def test_failed_campaign_updated_goes_back_to_review(account, control, mobile):
    _, service, campaigns, campaign = await _campaign(account, control, mobile, message_flow=NO_OPT_IN_FLOW)
    assert await _reviewed(control, campaigns, campaign.sid) == "FAILED"

    # still no opt-in words: reviewed again, FAILED again with 30896
    updated = campaigns(campaign.sid).update(**{**UPDATE, "message_flow": NO_OPT_IN_FLOW})
    assert account.client.http_client._test_only_last_response.status_code == 200
    assert (updated.campaign_status, updated.errors) == ("PENDING", [])
    assert last_json(account.client)["sid"] == campaign.sid
    assert await _reviewed(control, campaigns, campaign.sid) == "FAILED"
    assert campaigns(campaign.sid).fetch().errors[0]["error_code"] == 30896

    # fixed: VERIFIED, the service registered, the new content kept
    flow = "Clients opt in by ticking the SMS consent box when they book at janedoe.example.com/book."
    updated = campaigns(campaign.sid).update(**{**UPDATE, "message_flow": flow, "age_gated": True,
                                                "privacy_policy_url": "https://janedoe.example.com/privacy"})
    assert updated.campaign_status == "PENDING" and updated.errors == []
    assert await _reviewed(control, campaigns, campaign.sid) == "VERIFIED"
    verified = campaigns(campaign.sid).fetch()
    assert (verified.message_flow, verified.age_gated, verified.privacy_policy_url) == (
        flow, True, "https://janedoe.example.com/privacy")
    assert verified.campaign_id == updated.campaign_id and verified.campaign_id.startswith("C")
    assert account.client.messaging.v1.services(service.sid).fetch().us_app_to_person_registered is True


async def test_campaign_update_validates_like_create(account, control, mobile, sandbox):
    _, service, campaigns, campaign = await _campaign(account, control, mobile, message_flow=NO_OPT_IN_FLOW)
    assert await _reviewed(control, campaigns, campaign.sid) == "FAILED"
    for change, field in [({"description": "too short"}, "Description"),
                          ({"message_flow": "short opt-in"}, "MessageFlow"),
                          ({"message_samples": ["Jane Doe Hair Studio: only one sample here."]}, "MessageSamples"),
                          ({"terms_and_conditions_url": "not a url"}, "TermsAndConditionsUrl")]:
        with pytest.raises(TwilioRestException) as err:
            campaigns(campaign.sid).update(**{**UPDATE, **change})
        assert (err.value.status, err.value.code) == (400, 20001) and field in err.value.msg, (change, err.value.msg)

    form = {"HasEmbeddedLinks": "false", "HasEmbeddedPhone": "false", "MessageSamples": CAMPAIGN["message_samples"],
            "MessageFlow": CAMPAIGN["message_flow"], "Description": CAMPAIGN["description"], "AgeGated": "false"}
    url = f"{sandbox.base_url}/v1/Services/{service.sid}/Compliance/Usa2p/{campaign.sid}"
    with httpx.Client(auth=(account.sid, account.auth_token)) as http:
        missing = http.post(url, data=form)  # DirectLending is required by UpdateUsAppToPerson
        assert missing.status_code == 400 and "DirectLending" in missing.json()["message"]
        unknown = http.post(url, data={**form, "DirectLending": "false", "OptInMessage": "x" * 30})
        assert unknown.status_code == 400 and "OptInMessage" in unknown.json()["message"]
    assert campaigns(campaign.sid).fetch().campaign_status == "FAILED"  # nothing was changed


async def test_campaign_update_refused_unless_failed(account, control, mobile):
    _, _, campaigns, campaign = await _campaign(account, control, mobile)

    def refused() -> TwilioRestException:
        with pytest.raises(TwilioRestException) as err:
            campaigns(campaign.sid).update(**UPDATE)
        assert (err.value.status, err.value.code) == (400, 21727), err.value
        return err.value

    assert "PENDING" in refused().msg
    await control.advance_clock(1.5)
    assert "IN_PROGRESS" in refused().msg
    await control.advance_clock(3.5)
    assert "VERIFIED" in refused().msg
    await control.set_campaign_status(campaign.sid, "SUSPENDED")
    assert "SUSPENDED" in refused().msg
    with pytest.raises(TwilioRestException) as err:  # another service's path: 404
        account.client.messaging.v1.services(account.client.messaging.v1.services.create(
            friendly_name="other").sid).us_app_to_person(campaign.sid).update(**UPDATE)
    assert err.value.status == 404


async def test_without_campaign_updates_the_client_deletes_and_creates(account, control, mobile):
    customer, service, campaigns, campaign = await _campaign(account, control, mobile, message_flow=NO_OPT_IN_FLOW)
    assert await _reviewed(control, campaigns, campaign.sid) == "FAILED"
    await control.set_config(campaign_updates_supported=False)
    try:
        with pytest.raises(TwilioRestException) as err:
            campaigns(campaign.sid).update(**UPDATE)
        assert (err.value.status, err.value.code) == (405, 20004) and err.value.msg.endswith("Method not allowed")
    finally:
        await control.set_config(campaign_updates_supported=True)
    # The same switch for one account only: its updates refused, while the sandbox's are supported.
    settings = await control.set_account_config(account.sid, campaign_updates_supported=False)
    assert settings["campaign_updates_supported"] is False and (await control.get_config())["campaign_updates_supported"]
    with pytest.raises(TwilioRestException) as err:
        campaigns(campaign.sid).update(**UPDATE)
    assert (err.value.status, err.value.code) == (405, 20004)
    assert (await control.set_account_config(account.sid, campaign_updates_supported=None))["campaign_updates_supported"]
    assert campaigns(campaign.sid).fetch().campaign_status == "FAILED"

    # the fallback: delete, then a new campaign for the same brand on the same service
    assert campaigns(campaign.sid).delete() is True
    again = campaigns.create(brand_registration_sid=customer.brand_sid, **CAMPAIGN)
    assert again.sid != campaign.sid and again.campaign_status == "PENDING"
    assert [c.sid for c in campaigns.list()] == [again.sid]
    assert await _reviewed(control, campaigns, again.sid) == "VERIFIED"
    with pytest.raises(TwilioRestException) as err:
        campaigns(campaign.sid).fetch()
    assert err.value.status == 404


async def test_deleted_campaign_frees_brand_and_service(account, control, mobile):
    customer, service, campaigns, campaign = await _campaign(account, control, mobile)
    msg = account.client.messaging.v1
    assert await _reviewed(control, campaigns, campaign.sid) == "VERIFIED"
    assert campaigns(campaign.sid).delete() is True
    assert account.client.http_client._test_only_last_response.status_code == 204
    assert msg.services(service.sid).fetch().us_app_to_person_registered is False
    # the brand takes a campaign on another service; once that one is deleted too, the first service again
    other = msg.services.create(friendly_name="Second service")
    moved = msg.services(other.sid).us_app_to_person.create(brand_registration_sid=customer.brand_sid, **CAMPAIGN)
    assert moved.campaign_status == "PENDING"
    with pytest.raises(TwilioRestException) as err:  # one live campaign per Sole Proprietor brand still holds
        campaigns.create(brand_registration_sid=customer.brand_sid, **CAMPAIGN)
    assert (err.value.status, err.value.code) == (400, 21711) and "only one" in err.value.msg
    assert msg.services(other.sid).us_app_to_person(moved.sid).delete() is True
    assert campaigns.create(brand_registration_sid=customer.brand_sid, **CAMPAIGN).campaign_status == "PENDING"


# ---- forced statuses -----------------------------------------------------------------------
@pytest.mark.parametrize("status", ["SUSPENDED", "EXPIRED", "DELETION_PENDING", "DELETION_FAILED"])
async def test_brand_forced_out_of_service_refuses_otp_and_update(account, control, receiver, mobile, status):
    path = await _sink(control, receiver, account)
    customer = Customer()
    starter_profile(account.client, customer)
    trust_product(account.client, customer, mobile=mobile)
    brand(account.client, customer)
    await control.advance_clock(4)
    brands = account.client.messaging.v1.brand_registrations
    assert brands(customer.brand_sid).fetch().status == "APPROVED"

    answer = await control.set_brand_status(customer.brand_sid, status)
    assert (answer["sid"], answer["status"], answer["identity_status"]) == (customer.brand_sid, status, "UNVERIFIED")
    assert brands(customer.brand_sid).fetch().status == status
    event = _event(receiver, path, "brand-registration.brand-unverified", "brandsid", customer.brand_sid,
                   "brandstatus", status)
    assert event["data"]["identitystatus"] == "UNVERIFIED"
    with pytest.raises(TwilioRestException) as err:
        brands(customer.brand_sid).brand_registration_otps.create()
    assert (err.value.status, err.value.code) == (400, 30752) and status in err.value.msg
    with pytest.raises(TwilioRestException) as err:
        brands(customer.brand_sid).update()
    assert (err.value.status, err.value.code) == (400, 21725) and status in err.value.msg
    await control.set_event_sink(None, account_sid=account.sid)


async def test_brand_forced_failed_then_fixed_and_updated(account, control, receiver, mobile):
    path = await _sink(control, receiver, account)
    client = account.client
    customer = Customer()
    starter_profile(client, customer)
    trust_product(client, customer, mobile=mobile)
    brand(client, customer)
    brands = client.messaging.v1.brand_registrations
    # forced while PENDING: the review that was due does not run any more
    failed = await control.set_brand_status(customer.brand_sid, "FAILED", identity_status="UNVERIFIED",
                                            errors=[{"code": 30794, "message": "Brand name mismatch."}])
    assert failed["status"] == "FAILED" and failed["failure_reason"] == "Brand name mismatch."
    await control.advance_clock(4)
    fetched = brands(customer.brand_sid).fetch()
    assert fetched.status == "FAILED"
    assert fetched.errors == [{"code": 30794, "message": "Brand name mismatch.", "error_code": 30794,
                               "description": "Brand name mismatch.", "fields": [],
                               "url": "https://www.twilio.com/docs/errors/30794"}]
    event = _event(receiver, path, "brand-registration.brand-failure", "brandsid", customer.brand_sid,
                   "brandstatus", "FAILED")
    assert event["data"]["brandregistrationerrors"] == [{"code": 30794, "message": "Brand name mismatch."}]

    # as after a real failure: fix (resubmit a bundle) first, then the update's review approves it
    with pytest.raises(TwilioRestException) as err:
        brands(customer.brand_sid).update()
    assert err.value.code == 60723
    client.trusthub.v1.trust_products(customer.trust_sid).update(status="pending-review")
    assert brands(customer.brand_sid).update().status == "PENDING"
    await control.advance_clock(4)
    assert brands(customer.brand_sid).fetch().status == "APPROVED"
    assert (await control.reply_otp(mobile))["accepted"]

    # forced back to APPROVED + VERIFIED announces brand-verified
    await control.set_brand_status(customer.brand_sid, "IN_REVIEW")
    answer = await control.set_brand_status(customer.brand_sid, "APPROVED", identity_status="VERIFIED")
    assert (answer["status"], answer["identity_status"], answer["errors"]) == ("APPROVED", "VERIFIED", [])
    _event(receiver, path, "brand-registration.brand-verified", "brandsid", customer.brand_sid, "brandstatus",
           "APPROVED")
    _event(receiver, path, "brand-registration.brand-unverified", "brandsid", customer.brand_sid, "brandstatus",
           "IN_REVIEW")
    await control.set_event_sink(None, account_sid=account.sid)


async def test_status_control_rejects_bad_input(sandbox, control, account, mobile):
    with pytest.raises(SandboxControlError) as err:
        await control.set_brand_status("BN" + "0" * 32, "FAILED")
    assert err.value.status == 404
    with pytest.raises(SandboxControlError) as err:
        await control.set_campaign_status("QE" + "0" * 32, "FAILED")
    assert err.value.status == 404
    customer = Customer()
    starter_profile(account.client, customer)
    trust_product(account.client, customer, mobile=mobile)
    brand(account.client, customer)
    for status, errors in (("ACTIVE", None), ("FAILED", [{"code": "x", "message": "m"}]),
                           ("FAILED", [{"code": 1, "message": "m", "fields": ["F"]}])):
        with pytest.raises(SandboxControlError) as err:
            await control.set_brand_status(customer.brand_sid, status, errors=errors)
        assert err.value.status == 400, (status, errors)
    assert (await control.set_brand_status(customer.brand_sid, "PENDING"))["status"] == "PENDING"
    with sandbox.sync_control() as sync:  # the blocking client has the same methods
        assert sync.set_brand_status(customer.brand_sid, "IN_REVIEW")["status"] == "IN_REVIEW"
        with pytest.raises(SandboxControlError) as err:
            sync.set_campaign_status("QE" + "0" * 32, "VERIFIED")
        assert err.value.status == 404


async def test_campaign_forced_statuses_and_events(account, control, receiver, mobile):
    path = await _sink(control, receiver, account)
    _, service, campaigns, campaign = await _campaign(account, control, mobile)
    msg = account.client.messaging.v1

    complaint = {"code": 30909, "message": "Spam complaints.", "fields": ["MESSAGE_SAMPLES"]}
    suspended = await control.set_campaign_status(campaign.sid, "SUSPENDED", errors=[complaint])
    assert suspended["campaign_status"] == "SUSPENDED" and suspended["campaign_id"].startswith("C")
    await control.advance_clock(5)  # the review that was scheduled does not run any more
    fetched = campaigns(campaign.sid).fetch()
    assert fetched.campaign_status == "SUSPENDED"
    assert fetched.errors == [{"error_code": 30909, "fields": ["MESSAGE_SAMPLES"],
                               "url": "https://www.twilio.com/docs/errors/30909", "description": "Spam complaints."}]
    event = _event(receiver, path, "campaign-registration.campaign-failure", "campaignsid", campaign.sid,
                   "campaignregistrationstatus", "SUSPENDED")
    assert event["data"]["campaignregistrationerrors"] == fetched.errors

    await control.set_campaign_status(campaign.sid, "VERIFIED")
    assert msg.services(service.sid).fetch().us_app_to_person_registered is True
    _event(receiver, path, "campaign-registration.campaign-approved", "campaignsid", campaign.sid,
           "campaignregistrationstatus", "VERIFIED")
    await control.set_campaign_status(campaign.sid, "IN_PROGRESS")
    assert msg.services(service.sid).fetch().us_app_to_person_registered is False
    _event(receiver, path, "campaign-registration.campaign-submitted", "campaignsid", campaign.sid,
           "campaignregistrationstatus", "IN_PROGRESS")

    # forced FAILED: the API's update takes it back to the normal review
    await control.set_campaign_status(campaign.sid, "FAILED", errors=[{"code": 30896, "message": "No opt-in."}])
    assert campaigns(campaign.sid).update(**UPDATE).campaign_status == "PENDING"
    assert await _reviewed(control, campaigns, campaign.sid) == "VERIFIED"
    await control.set_event_sink(None, account_sid=account.sid)


# ---- Trust Hub: the bundle's own Email ----------------------------------------------------
async def test_rejected_bundle_email_fixed_by_update_passes_review(account, control, mobile):
    """The end user's email is fine; only the bundle's Email is bad. Fixing it on the bundle and
    resubmitting gets the profile through review, and the brand approved."""
    client = account.client
    th = client.trusthub.v1
    customer = starter_profile(client, Customer(), submit=False)
    assert th.customer_profiles(customer.profile_sid).update(email="jane@disposable.test").email == \
        "jane@disposable.test"
    assert th.customer_profiles(customer.profile_sid).update(status="pending-review").status == "in-review"
    await control.advance_clock(3)
    rejected = th.customer_profiles(customer.profile_sid).fetch()
    assert rejected.status == "twilio-rejected"
    assert rejected.errors == [{"code": 30701, "message": "Email is a suspected disposable address."}]

    assert th.customer_profiles(customer.profile_sid).update(email="jane.fixed@example.com").email == \
        "jane.fixed@example.com"
    assert th.customer_profiles(customer.profile_sid).update(status="pending-review").status == "in-review"
    await control.advance_clock(3)
    assert th.customer_profiles(customer.profile_sid).fetch().status == "in-review"  # passed: awaits the brand
    trust_product(client, customer, mobile=mobile)
    brand(client, customer)
    await control.advance_clock(4)
    assert client.messaging.v1.brand_registrations(customer.brand_sid).fetch().status == "APPROVED"


# ---- Trust Hub: one customer's reviews held, run now, or rejected by the reviewer ----------
async def test_a_bundle_review_held_for_one_account_runs_when_told(sandbox, account, control, receiver):
    """One account's profile review waits an hour while another account's runs on time; told to,
    the held review runs now and decides as it would have (the status callback goes out)."""
    held = await control.set_account_config(account.sid, profile_review_seconds=3600)
    assert held["profile_review_seconds"] == 3600 and held["brand_review_seconds"] == 3  # the rest: the sandbox's
    other = await control.create_subaccount()
    other_client = twilio_client(sandbox.base_url, other["sid"], other["auth_token"])
    path = f"/failure-paths/{next(_paths)}"
    customer = starter_profile(account.client, Customer(), email="jane@disposable.test",
                               status_callback=receiver.url(path))
    elsewhere = starter_profile(other_client, Customer(), email="jane@disposable.test")
    profiles = account.client.trusthub.v1.customer_profiles
    await control.advance_clock(3)
    assert other_client.trusthub.v1.customer_profiles(elsewhere.profile_sid).fetch().status == "twilio-rejected"
    assert profiles(customer.profile_sid).fetch().status == "in-review"

    reviewed = await control.review_bundle(customer.profile_sid)
    assert (reviewed["status"], reviewed["errors"]) == (
        "twilio-rejected", [{"code": 30701, "message": "Email is a suspected disposable address."}])
    callback = receiver.wait_for(lambda r: r["path"].split("?")[0] == path and b"twilio-rejected" in r["body"])
    assert b"FailureReason=Email+is+a+suspected+disposable+address." in callback["body"]
    with pytest.raises(SandboxControlError) as err:  # nothing left to review
        await control.review_bundle(customer.profile_sid)
    assert err.value.status == 409
    await control.set_account_config(account.sid, profile_review_seconds=None)
    assert (await control.account_config(account.sid))["profile_review_seconds"] == 2


async def test_reviewer_rejects_a_bundle_with_the_reason_given(account, control, mobile):
    """A rejection no scenario produces (a reviewer's own reason), at each review until withdrawn."""
    customer = starter_profile(account.client, Customer())
    trust_product(account.client, customer, mobile=mobile, submit=False)
    reason = "The brand name does not match the name on the customer profile."
    armed = await control.reject_bundle_reviews(customer.trust_sid, reason)
    assert armed["status"] == "draft"  # nothing happens before a review
    trusts = account.client.trusthub.v1.trust_products
    assert trusts(customer.trust_sid).update(status="pending-review").status == "in-review"
    await control.advance_clock(3)
    rejected = trusts(customer.trust_sid).fetch()
    assert (rejected.status, rejected.errors) == ("twilio-rejected", [{"code": 30701, "message": reason}])

    await control.reject_bundle_reviews(customer.trust_sid, None)
    assert trusts(customer.trust_sid).update(status="pending-review").status == "in-review"
    await control.advance_clock(3)
    assert trusts(customer.trust_sid).fetch().status == "in-review"  # passed: awaits the brand
    with pytest.raises(SandboxControlError) as err:
        await control.reject_bundle_reviews("BU" + "0" * 32, reason)
    assert err.value.status == 404


# ---- API v2010: a subaccount's auth token -------------------------------------------------
async def test_parent_reads_subaccount_with_its_token(sandbox, client, control, account):
    fetched = client.api.v2010.accounts(account.sid).fetch()
    assert (fetched.sid, fetched.auth_token, fetched.owner_account_sid, fetched.status) == (
        account.sid, account.auth_token, client.account_sid, "active")
    assert last_json(client)["uri"] == f"/2010-04-01/Accounts/{account.sid}.json"
    # the token read works as the subaccount's own credentials
    as_sub = twilio_client(sandbox.base_url, account.sid, fetched.auth_token)
    assert as_sub.api.v2010.accounts(account.sid).fetch().auth_token == account.auth_token
    assert client.api.v2010.accounts(client.account_sid).fetch().owner_account_sid == client.account_sid

    other = await control.create_subaccount()
    for sid in (client.account_sid, other["sid"], "AC" + "0" * 32):  # the parent, a sibling, nobody
        with pytest.raises(TwilioRestException) as err:
            as_sub.api.v2010.accounts(sid).fetch()
        assert (err.value.status, err.value.code) == (404, 20404), sid
