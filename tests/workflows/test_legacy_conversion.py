"""LegacyConversion on the time-skipping server with fake Twilio, at the production timings."""

from __future__ import annotations

import json

import pytest

from a2p.calls import Call
from a2p.progress import OperatorDecision, Phase
from a2p.requests import Correction
from starter import registrations
from tests.factories import EXAMPLE, wait_phase
from tests.workflows.conftest import conversion_request
from tests.workflows.fake_twilio import Account, Review, rejected

WRITES = {Call.CREATE_END_USER, Call.UPDATE_END_USER, Call.ASSIGN_ENTITY, Call.SUBMIT_BUNDLE, Call.UPDATE_BRAND}


async def test_conversion_completes_the_bundle_updates_the_brand_and_creates_the_campaign(
        client, ts_settings, ts_queue, fake):
    example = json.loads(EXAMPLE.read_text())
    account = Account()  # the customer's Twilio, with the legacy brand and bundle in it
    bundle_sid, brand_sid = account.legacy()
    request = conversion_request(bundle_sid, brand_sid, campaign=example["campaign"],
                                 messaging_service={"friendly_name": "John Doe Photography"})
    fake.accounts[request.workflow_id] = account
    account.verify_after_resends = 1

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    assert final.timeline[-1].note == "conversion complete: brand verified, campaign verified"
    assert account.brands[brand_sid].updates == 1 and final.brand_updates_used == 1
    [end_user] = [sid for sid in account.bundles[bundle_sid].entities]
    assert account.end_users[end_user]["attributes"] == {
        "brand_name": "John Doe Photography", "mobile_phone_number": "+14155550124", "vertical": "PROFESSIONAL"}
    assert account.bundles[bundle_sid].submissions == 1
    assert (final.statuses.identity, final.statuses.campaign) == ("VERIFIED", "VERIFIED")
    assert account.count(Call.REGISTER_BRAND) == 0 and account.count(Call.CREATE_BUNDLE) == 0


async def test_an_approved_bundle_ends_the_conversion_before_any_write(client, ts_settings, ts_queue, fake):
    account = Account()
    bundle_sid, brand_sid = account.legacy(bundle_status="twilio-approved")
    request = conversion_request(bundle_sid, brand_sid)
    fake.accounts[request.workflow_id] = account

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.FAILED
    assert "not twilio-rejected" in final.problem.summary and "already twilio-approved" in final.problem.remedy
    assert not WRITES & {call for call, _ in account.calls}


async def test_an_approved_brand_is_not_updated_blindly(client, ts_settings, ts_queue, fake):
    account = Account()
    bundle_sid, brand_sid = account.legacy(brand=Review("APPROVED", identity_status="UNVERIFIED"),
                                         sole_proprietor_end_user=True)
    request = conversion_request(bundle_sid, brand_sid)
    fake.accounts[request.workflow_id] = account
    account.verify_after_resends = None  # approved, never OTP-verified

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    parked = await wait_phase(client, request.workflow_id, Phase.NEEDS_ATTENTION)
    assert parked.problem.source == "brand" and "21725" in parked.problem.summary
    assert "ask Twilio Support to set the legacy brand to FAILED" in parked.problem.remedy
    assert not WRITES & {call for call, _ in account.calls}

    await registrations.decide(client, request.workflow_id, OperatorDecision(action="end"))
    final = await registrations.final_status(client, request.workflow_id)
    assert final.phase == Phase.FAILED
    assert account.count(Call.UPDATE_BRAND) == 0


async def test_a_rejected_trust_bundle_is_corrected_before_the_brand_is_updated(client, ts_settings, ts_queue, fake):
    account = Account()
    bundle_sid, brand_sid = account.legacy()
    account.bundle_reviews["trust_bundle"] = [rejected("The mobile number is not valid")]
    request = conversion_request(bundle_sid, brand_sid)
    fake.accounts[request.workflow_id] = account

    await registrations.start_conversion(client, ts_settings, request, task_queue=ts_queue)
    parked = await wait_phase(client, request.workflow_id, Phase.NEEDS_ATTENTION)
    assert parked.problem.source == "trust_bundle" and "mobile number is not valid" in parked.problem.summary
    assert account.count(Call.UPDATE_BRAND) == 0

    with pytest.raises(registrations.UpdateRefused, match="changes only the sole proprietor's details"):
        await registrations.correct(client, request.workflow_id, Correction(email="john@doephotography.example.com"))
    await registrations.correct(client, request.workflow_id, Correction(mobile_number="+14155550177"))
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    assert account.bundles[bundle_sid].submissions == 2
    end_user = final.sids.sole_proprietor_end_user
    assert account.end_users[end_user]["attributes"]["mobile_phone_number"] == "+14155550177"
    calls = [c for c, _ in account.calls]
    assert calls.index(Call.UPDATE_BRAND) > max(i for i, c in enumerate(calls) if c == Call.SUBMIT_BUNDLE)
