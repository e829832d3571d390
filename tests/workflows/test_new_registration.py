"""NewRegistration on the time-skipping server with fake Twilio, at the production timings (30 s
settle waits, polls up to 6 h, OTP re-sent every 24 h, a 30-day deadline): each test takes seconds
of wall time for days of virtual time. Driven as an operator drives it: starter.registrations."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest

from a2p.calls import Call, FieldFailure, RequirementFailure
from a2p.progress import OperatorDecision, Phase
from a2p.requests import Correction
from a2p.timings import Timings
from starter import registrations
from tests.factories import wait_phase, wait_until, wait_until_listed
from tests.workflows.conftest import new_request
from tests.workflows.fake_twilio import brand_failed, campaign_failed, rejected

DAY = timedelta(days=1)


# A month of OTP waiting with status polls every 6 h is ~200 timers: daily polls keep these tests
# at seconds on a loaded machine (re-sends and the deadline are what they are about).
OTP_MONTH = Timings(poll_initial=timedelta(hours=6), poll_max=DAY)


async def test_happy_path_completes_with_production_timings(client, ts_settings, ts_queue, fake):
    request = new_request()
    account = fake.account(request.workflow_id)
    account.verify_after_resends = 2  # the customer replies YES to the third OTP, two days later

    await registrations.start_registration(client, ts_settings, request, task_queue=ts_queue)
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    assert (final.statuses.brand, final.statuses.identity, final.statuses.campaign) == ("APPROVED", "VERIFIED",
                                                                                      "VERIFIED")
    assert final.otp.resends == 2 and account.otp_resends == 2 and final.otp.sent == 3
    assert final.finished_at - final.started_at > 2 * DAY  # two 24 h re-send intervals, in virtual time
    assert account.count(Call.CREATE_CAMPAIGN) == 1 and account.count(Call.REGISTER_BRAND) == 1
    assert list(account.services.values()) == [[request.messaging_service.phone_number_sid]]
    [profile] = [b for b in account.bundles.values() if b.kind == "customer_profile"]
    assert profile.email == request.customer.email and profile.submissions == 1


async def test_rejected_profile_is_corrected_resubmitted_and_completes(client, ts_settings, ts_queue, fake):
    request = new_request()
    account = fake.account(request.workflow_id)
    account.bundle_reviews["customer_profile"] = [rejected("The email address is not valid")]
    await registrations.start_registration(client, ts_settings, request, task_queue=ts_queue)

    parked = await wait_phase(client, request.workflow_id, Phase.NEEDS_ATTENTION)
    assert parked.problem.source == "customer_profile"
    assert "email address is not valid" in parked.problem.summary
    assert account.count(Call.REGISTER_BRAND) == 0  # nothing goes on before the profile is fixed

    await registrations.correct(client, request.workflow_id, Correction(email="john@doephotography.example.com"))
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    starter_user = account.end_users[final.sids.starter_end_user]
    assert starter_user["attributes"]["email"] == "john@doephotography.example.com"
    assert account.bundles[final.sids.customer_profile].submissions == 2


async def test_noncompliant_profile_is_not_submitted_until_corrected(client, ts_settings, ts_queue, fake):
    request = new_request()
    account = fake.account(request.workflow_id)
    account.evaluations["customer_profile"] = [[RequirementFailure(
        requirement="starter_customer_profile_information", object_type="end_user",
        fields=[FieldFailure(field="email", reason="not a valid email")])]]
    await registrations.start_registration(client, ts_settings, request, task_queue=ts_queue)

    parked = await wait_phase(client, request.workflow_id, Phase.NEEDS_ATTENTION)
    assert "noncompliant: starter_customer_profile_information" in parked.problem.summary
    assert parked.problem.failed_requirements[0].fields[0].field == "email"
    assert account.count(Call.SUBMIT_BUNDLE) == 0

    await registrations.correct(client, request.workflow_id, Correction(email="john@doephotography.example.com"))
    final = await registrations.final_status(client, request.workflow_id)
    assert final.phase == Phase.COMPLETED, final.problem
    assert account.count(Call.EVALUATE_BUNDLE) == 3  # profile twice (before and after), trust bundle once


async def test_failed_brand_is_corrected_then_updated(client, ts_settings, ts_queue, fake):
    request = new_request()
    account = fake.account(request.workflow_id)
    account.brand_reviews = [brand_failed(30712, "mobile number has reached its brand limit")]
    await registrations.start_registration(client, ts_settings, request, task_queue=ts_queue)

    parked = await wait_phase(client, request.workflow_id, Phase.NEEDS_ATTENTION)
    assert parked.problem.source == "brand" and parked.problem.errors[0].code == 30712
    assert any(e.startswith("30712:") for e in parked.problem.explanations)
    assert "3 of 3 updates left" in parked.problem.remedy and "mobile_number" in parked.problem.correction_fields

    await registrations.correct(client, request.workflow_id, Correction(mobile_number="+14155550199"))
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    assert final.brand_updates_used == 1 and account.brands[final.sids.brand].updates == 1
    assert account.end_users[final.sids.sole_proprietor_end_user]["attributes"]["mobile_phone_number"] == "+14155550199"
    # The changed trust bundle was resubmitted before the brand was updated.
    assert account.bundles[final.sids.trust_bundle].submissions == 2
    calls = [c for c, _ in account.calls]
    assert calls.index(Call.UPDATE_BRAND) > max(i for i, c in enumerate(calls) if c == Call.SUBMIT_BUNDLE)


async def test_otp_resent_every_24_h_until_the_30_day_deadline_then_the_operator_decides(
        client, ts_settings, ts_queue, fake):
    # Two customers who never answer, side by side (a month each): one re-sent and waited for, one ended.
    waited, ended = new_request(timings=OTP_MONTH), new_request(timings=OTP_MONTH)
    accounts = {}
    for request in (waited, ended):
        accounts[request.workflow_id] = account = fake.account(request.workflow_id)
        account.verify_after_resends = None
        await registrations.start_registration(client, ts_settings, request, task_queue=ts_queue)

    for request in (waited, ended):
        expired = await wait_phase(client, request.workflow_id, Phase.OTP_EXPIRED, timeout=90)
        resent_at = [e.at for e in expired.timeline if e.note.startswith("OTP re-sent")]
        gaps = [b - a for a, b in pairwise(resent_at)]
        assert len(resent_at) == expired.otp.resends == accounts[request.workflow_id].otp_resends == 29
        assert all(DAY <= gap < DAY + timedelta(minutes=1) for gap in gaps), gaps
        registered = next(e.at for e in expired.timeline if e.note.startswith("brand registered"))
        assert expired.otp.deadline_at == registered + timedelta(days=30)
        assert "did not verify the OTP within 30 days" in expired.problem.summary
        assert expired.problem.source == "otp" and expired.problem.accepts == ["resend_otp_and_wait", "end"]
        listed = await wait_until_listed(client, request.workflow_id, "OTP_EXPIRED")
        assert listed["identity_status"] == "UNVERIFIED"

    accounts[waited.workflow_id].verify_after_resends = 30  # the customer answers the next one
    await registrations.decide(client, waited.workflow_id, OperatorDecision(action="resend_otp_and_wait"))
    final = await registrations.final_status(client, waited.workflow_id)
    assert final.phase == Phase.COMPLETED, final.problem
    assert final.otp.resends == 30

    with pytest.raises(registrations.UpdateRefused, match="it accepts resend_otp_and_wait, end or cancel"):
        await registrations.decide(client, ended.workflow_id, OperatorDecision(action="retry"))
    await registrations.decide(client, ended.workflow_id, OperatorDecision(action="end", reason="customer left"))
    final = await registrations.final_status(client, ended.workflow_id)
    assert final.phase == Phase.FAILED and final.problem.source == "otp" and final.statuses.identity == "UNVERIFIED"
    assert accounts[ended.workflow_id].count(Call.CREATE_CAMPAIGN) == 0


async def test_operator_cancels_while_waiting_for_the_otp(client, ts_settings, ts_queue, fake):
    request = new_request(timings=OTP_MONTH)
    account = fake.account(request.workflow_id)
    account.verify_after_resends = None
    await registrations.start_registration(client, ts_settings, request, task_queue=ts_queue)
    await wait_until(client, request.workflow_id, lambda s: s.phase == Phase.OTP_VERIFICATION, what="OTP wait")

    with pytest.raises(registrations.UpdateRefused, match="nothing to correct"):
        await registrations.correct(client, request.workflow_id, Correction(email="john@doephotography.example.com"))
    await registrations.cancel(client, request.workflow_id, "customer withdrew")
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.CANCELLED
    assert "customer withdrew" in final.timeline[-1].note
    assert account.count(Call.CREATE_CAMPAIGN) == 0


async def test_a_refused_call_waits_for_the_operator_and_retry_goes_on(client, ts_settings, ts_queue, fake):
    request = new_request()
    account = fake.account(request.workflow_id)
    account.refuse[Call.CREATE_ADDRESS] = (21615, "Address could not be validated")
    await registrations.start_registration(client, ts_settings, request, task_queue=ts_queue)

    parked = await wait_phase(client, request.workflow_id, Phase.NEEDS_ATTENTION)
    assert parked.problem.source == str(Call.CREATE_ADDRESS)
    assert parked.problem.errors[0].code == 21615
    assert account.count(Call.CREATE_ADDRESS) == 1  # a 4xx is not retried by Temporal

    del account.refuse[Call.CREATE_ADDRESS]
    await registrations.decide(client, request.workflow_id, OperatorDecision(action="retry"))
    final = await registrations.final_status(client, request.workflow_id)
    assert final.phase == Phase.COMPLETED, final.problem
    assert account.count(Call.CREATE_ADDRESS) == 2


async def test_failed_campaign_surfaces_twilios_error(client, ts_settings, ts_queue, fake):
    request = new_request()
    account = fake.account(request.workflow_id)
    account.campaign_reviews = [campaign_failed(30896, "Opt-in information is missing")]
    await registrations.start_registration(client, ts_settings, request, task_queue=ts_queue)

    status = await wait_until(client, request.workflow_id,
                              lambda s: s.phase in (Phase.FAILED, Phase.NEEDS_ATTENTION), what="campaign failure")
    assert status.problem.source == "campaign"
    assert status.problem.errors[0].code == 30896 and "Opt-in information is missing" in status.problem.summary
    assert any(e.startswith("30896:") for e in status.problem.explanations)
