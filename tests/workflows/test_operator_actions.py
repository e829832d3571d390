"""Operator actions (the workflow's Updates) on the time-skipping server with fake Twilio, at the
production timings (30 s settle waits): a parked registration says what it takes
(``Problem.accepts``, ``correction_fields``) and the validators hold to it; one action at a time —
a second one sent while the first is being applied is refused, never accepted and dropped; every
action answers once its effect is done, with the status that shows it. Driven as an operator
drives it: starter.registrations.

"While the first is being applied" is made certain by holding the answer to the first action's
Twilio write (`FakeTwilio.hold`) until the second one has been answered. A cancel while Twilio fails or holds
a real call stays end to end (tests/integration/test_operator_actions.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from a2p.calls import Call
from temporalio.api.enums.v1 import EventType

from a2p.progress import OperatorDecision, Phase, RegistrationStatus
from a2p.requests import Correction
from a2p.timings import Timings
from starter import registrations
from tests.factories import eventually, wait_phase, wait_until
from tests.workflows.conftest import new_request
from tests.workflows.fake_twilio import Account, Hold, Review, rejected

REJECTED_STREET = "1 Jersey Str"
BUSY = "another action is being applied"
SETTLE = timedelta(seconds=30)  # the production settle wait (Timings())


async def parked_on_rejected_address(client, settings, queue, fake) -> tuple[str, Account, RegistrationStatus]:
    """A registration whose customer profile Twilio rejected for its address, parked for a person."""
    request = new_request(customer__address__street=REJECTED_STREET)
    account = fake.account(request.workflow_id)
    account.bundle_reviews["customer_profile"] = [rejected("Invalid Street: the address could not be validated")]
    await registrations.start_registration(client, settings, request, task_queue=queue)
    status = await wait_phase(client, request.workflow_id, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "customer_profile" and "Invalid Street" in status.problem.summary, status.problem
    assert "correction" in status.problem.accepts and "address" in status.problem.correction_fields
    return request.workflow_id, account, status


def streets(account: Account) -> list[str]:
    return [a["street"] for a in account.addresses.values()]


async def answered_in_turn(hold: Hold, *actions):
    """Send the actions together; the first answer (the refusal) lets the held Twilio write go on."""
    async def send(action):
        try:
            return await action
        finally:
            hold.release()
    return await asyncio.gather(*(send(a) for a in actions), return_exceptions=True)


async def cancelled(client, wid: str) -> RegistrationStatus:
    status = await registrations.cancel(client, wid, "test done")
    assert status.phase == Phase.CANCELLED, status.model_dump_json(indent=1)
    return status


# ---- one action at a time ------------------------------------------------------------------------


async def test_two_concurrent_corrections_one_is_applied_the_other_refused_none_lost(
        client, ts_settings, ts_queue, fake):
    wid, account, _ = await parked_on_rejected_address(client, ts_settings, ts_queue, fake)
    one, other = Correction(address={"street": "1 Jersey St"}), Correction(address={"street": "2 Jersey St"})

    hold = fake.hold(wid, Call.UPDATE_ADDRESS)
    outcomes = await answered_in_turn(hold, registrations.correct(client, wid, one),
                                      registrations.correct(client, wid, other))

    applied = [(c, o) for c, o in zip((one, other), outcomes, strict=True) if isinstance(o, RegistrationStatus)]
    refused = [o for o in outcomes if isinstance(o, registrations.UpdateRefused)]
    assert len(applied) == 1 and len(refused) == 1, outcomes
    [(winner, answer)], [refusal] = applied, refused
    assert BUSY in str(refusal), str(refusal)
    assert answer.phase != Phase.NEEDS_ATTENTION, answer.model_dump_json(indent=1)

    # The applied one is not lost: the registration completes with it, and only with it.
    final = await registrations.final_status(client, wid)
    assert final.phase == Phase.COMPLETED, final.problem
    assert streets(account) == [winner.address.street] and account.count(Call.UPDATE_ADDRESS) == 1
    notes = [e.note for e in final.timeline]
    assert sum(n.startswith("correction received") for n in notes) == 1, notes


async def test_a_correction_and_a_retry_together_one_is_refused(client, ts_settings, ts_queue, fake):
    wid, account, parked = await parked_on_rejected_address(client, ts_settings, ts_queue, fake)

    hold = fake.hold(wid, Call.UPDATE_ADDRESS, Call.FETCH_BUNDLE)  # the correction's write, the retry's re-read
    outcomes = await answered_in_turn(
        hold, registrations.correct(client, wid, Correction(address={"street": "1 Jersey St"})),
        registrations.decide(client, wid, OperatorDecision(action="retry")))

    refused = [o for o in outcomes if isinstance(o, registrations.UpdateRefused)]
    answered = [o for o in outcomes if isinstance(o, RegistrationStatus)]
    assert len(refused) == 1 and len(answered) == 1, outcomes
    assert BUSY in str(refused[0]), str(refused[0])
    if isinstance(outcomes[0], registrations.UpdateRefused):
        # The retry was applied: the bundles re-read, parked again, the address untouched.
        assert streets(account) == [REJECTED_STREET] and account.count(Call.UPDATE_ADDRESS) == 0
        assert answered[0].phase == Phase.NEEDS_ATTENTION and answered[0].problem.at > parked.problem.at
        await cancelled(client, wid)
    else:
        assert streets(account) == ["1 Jersey St"]
        assert answered[0].phase == Phase.CUSTOMER_PROFILE, answered[0].model_dump_json(indent=1)
        assert (await registrations.final_status(client, wid)).phase == Phase.COMPLETED


# ---- answered once the effect is done --------------------------------------------------------------


async def test_a_correction_answers_before_its_30s_settle_wait(client, ts_settings, ts_queue, fake):
    wid, account, _ = await parked_on_rejected_address(client, ts_settings, ts_queue, fake)

    status = await registrations.correct(client, wid, Correction(address={"street": "1 Jersey St"}))

    # What it answers with: the correction's writes made, the profile resubmitted (its review not
    # come out: nothing was fetched since), and the 30 s settle wait begun, not over.
    assert status.phase == Phase.CUSTOMER_PROFILE and status.problem is None, status.model_dump_json(indent=1)
    assert "30 s settle wait" in (status.waiting_for or ""), status.waiting_for
    assert status.statuses.customer_profile == "pending-review"
    received = next(e.at for e in reversed(status.timeline) if e.note.startswith("correction received"))
    assert status.next_timer_at is not None
    assert SETTLE <= status.next_timer_at - received < SETTLE + timedelta(seconds=5), (received, status.next_timer_at)
    assert status.timeline[-1].note == "customer profile submitted, pending-review"

    final = await registrations.final_status(client, wid)
    assert final.phase == Phase.COMPLETED, final.problem
    assert streets(account) == ["1 Jersey St"] and account.bundles[final.sids.customer_profile].submissions == 2


async def test_every_action_answers_with_the_status_after_its_effect(client, ts_settings, ts_queue, fake):
    # decide retry: the bundles are re-read (still rejected) and the registration parks again.
    wid, account, parked = await parked_on_rejected_address(client, ts_settings, ts_queue, fake)
    fetches = account.count(Call.FETCH_BUNDLE)
    retried = await registrations.decide(client, wid, OperatorDecision(action="retry"))
    assert account.count(Call.FETCH_BUNDLE) == fetches + 1  # the re-check, made before the answer
    assert retried.phase == Phase.NEEDS_ATTENTION and retried.problem.at > parked.problem.at, \
        retried.model_dump_json(indent=1)
    assert "operator asked to retry" in [e.note for e in retried.timeline]

    # cancel: answers with the registration CANCELLED.
    status = await cancelled(client, wid)
    assert status.finished_at is not None
    assert (await registrations.final_status(client, wid)).phase == Phase.CANCELLED


async def started_with_only_operator_resends(client, ts_settings, ts_queue, fake):
    """A registration that makes no automatic OTP re-send within the test's (virtual) days, and
    whose customer never answers: only the operator's re-sends go out. (workflow id, its account)"""
    timings = Timings(otp_resend_interval=timedelta(days=1000), otp_deadline=timedelta(days=1001),
                      poll_initial=timedelta(hours=6), poll_max=timedelta(days=1))
    request = new_request(timings=timings)
    account = fake.account(request.workflow_id)
    account.verify_after_resends = None
    await registrations.start_registration(client, ts_settings, request, task_queue=ts_queue)
    return request.workflow_id, account


async def test_resend_otp_answers_once_the_otp_went_out(client, ts_settings, ts_queue, fake):
    wid, account = await started_with_only_operator_resends(client, ts_settings, ts_queue, fake)
    before = await wait_phase(client, wid, Phase.OTP_VERIFICATION)

    status = await registrations.resend_otp(client, wid)

    assert status.phase == Phase.OTP_VERIFICATION
    assert status.otp.resends == before.otp.resends + 1 == account.otp_resends, (status.otp, account.otp_resends)
    assert status.otp.sent == before.otp.sent + 1
    assert status.timeline[-1].note == f"OTP re-sent ({status.otp.resends})"
    await cancelled(client, wid)


async def test_cancel_during_a_correction_answers_both(client, ts_settings, ts_queue, fake):
    wid, _, _ = await parked_on_rejected_address(client, ts_settings, ts_queue, fake)
    hold = fake.hold(wid, Call.UPDATE_ADDRESS)
    try:
        correcting = asyncio.create_task(
            registrations.correct(client, wid, Correction(address={"street": "1 Jersey St"})))
        await eventually(lambda: hold.reached, 30, "the correction being applied", interval=0.02)

        status = await registrations.cancel(client, wid, "customer left")
        # The correction in effect is not left hanging: it answers too, with the end it came to.
        corrected = await asyncio.wait_for(correcting, timeout=10)
    finally:
        hold.release()
    assert status.phase == Phase.CANCELLED, status.model_dump_json(indent=1)
    assert corrected.phase == Phase.CANCELLED, corrected.model_dump_json(indent=1)
    final = await registrations.final_status(client, wid)
    assert final.phase == Phase.CANCELLED and "customer left" in final.timeline[-1].note


async def test_an_action_still_being_applied_when_the_bound_runs_out_says_so_with_the_status_so_far(
        client, ts_settings, ts_queue, fake):
    wid, account, parked = await parked_on_rejected_address(client, ts_settings, ts_queue, fake)
    hold = fake.hold(wid, Call.FETCH_BUNDLE, bound=40)  # Twilio slow to answer the retry's re-check
    try:
        with pytest.raises(registrations.BeingApplied) as applying:
            await registrations.decide(client, wid, OperatorDecision(action="retry"),
                                       applied_within=timedelta(seconds=2))
        assert hold.reached
    finally:
        hold.release()
    # Accepted, not "no answer": the status so far shows the retry taken, its re-check under way.
    status = applying.value.status
    assert status is not None and status.phase == Phase.CUSTOMER_PROFILE and status.problem is None, status
    assert status.timeline[-1].note == "operator asked to retry"
    assert "accepted" in str(applying.value) and "do not send it again" in str(applying.value)

    # And it is applied: the bundles re-read, still rejected, parked again.
    again = await wait_until(client, wid, lambda s: s.phase == Phase.NEEDS_ATTENTION
                             and s.problem.at > parked.problem.at, what="parked again after the retry")
    assert again.problem.source == "customer_profile"
    await cancelled(client, wid)


# ---- what a parked registration takes, as data ---------------------------------------------------------


async def test_decisions_and_corrections_are_checked_against_what_the_problem_accepts(
        client, ts_settings, ts_queue, fake):
    wid, account, parked = await parked_on_rejected_address(client, ts_settings, ts_queue, fake)
    problem = parked.problem
    assert "resend_otp_and_wait" not in problem.accepts and "campaign" not in problem.correction_fields

    # Every refusal names what the registration accepts, in words and as data.
    accepts_text = f"it accepts correction (of {', '.join(problem.correction_fields)}), retry, end or cancel"
    with pytest.raises(registrations.UpdateRefused) as refused:
        await registrations.decide(client, wid, OperatorDecision(action="resend_otp_and_wait"))
    message = str(refused.value)
    assert "resend_otp_and_wait" in message and accepts_text in message, message
    assert refused.value.accepts == problem.accepts and refused.value.correction_fields == problem.correction_fields

    with pytest.raises(registrations.UpdateRefused) as refused:
        await registrations.correct(client, wid, Correction(
            campaign={"description": "Order-ready and pickup reminders for the bakery's customers."}))
    message = str(refused.value)
    assert "not of campaign" in message and accepts_text in message, message
    assert refused.value.accepts == problem.accepts

    with pytest.raises(registrations.UpdateRefused, match="only while waiting for verification") as refused:
        await registrations.resend_otp(client, wid)
    assert accepts_text in str(refused.value) and refused.value.accepts == problem.accepts

    # Refusals change nothing: still parked on the same problem.
    status = await registrations.get_status(client, wid)
    assert status.phase == Phase.NEEDS_ATTENTION and status.problem == problem
    assert streets(account) == [REJECTED_STREET] and account.count(Call.UPDATE_ADDRESS) == 0

    # What it does accept, it takes: `end` ends it as FAILED.
    ended = await registrations.decide(client, wid, OperatorDecision(action="end", reason="customer gave up"))
    assert ended.phase == Phase.FAILED, ended.model_dump_json(indent=1)
    final = await registrations.final_status(client, wid)
    assert final.phase == Phase.FAILED and final.problem.summary == "customer gave up"



# ---- an OTP re-send requested as the registration parks -----------------------------------------------


async def updates_accepted(client, wid: str) -> int:
    history = await client.get_workflow_handle(wid).fetch_history()
    return sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED for e in history.events)


async def test_a_resend_requested_as_the_brand_turns_out_suspended_is_refused_and_blocks_nothing(
        client, ts_settings, ts_queue, fake):
    wid, account = await started_with_only_operator_resends(client, ts_settings, ts_queue, fake)
    await wait_phase(client, wid, Phase.OTP_VERIFICATION)

    # Twilio Support suspends the brand; the next status poll finds it. While that poll is in
    # flight, an operator asks for an OTP re-send: it is accepted (the registration still waits for
    # the OTP), then the registration parks for a person instead.
    account.approved_brand_changes = [Review("SUSPENDED", identity_status="UNVERIFIED")]
    hold = fake.hold(wid, Call.FETCH_BRAND, bound=40)
    try:
        await eventually(lambda: hold.reached, 30, "a status poll in flight", interval=0.02)
        before = await updates_accepted(client, wid)
        resend = asyncio.create_task(registrations.resend_otp(client, wid))

        async def accepted() -> bool:
            return await updates_accepted(client, wid) > before
        await eventually(accepted, 20, "the re-send accepted")
    finally:
        hold.release()

    # The re-send is answered — refused, saying why and what the registration accepts — and nothing
    # is left "being applied": a decision is taken at once.
    with pytest.raises(registrations.UpdateRefused) as refused:
        await asyncio.wait_for(resend, timeout=20)
    message = str(refused.value)
    assert "OTP was not re-sent" in message and "SUSPENDED" in message and "retry, end or cancel" in message, message
    assert refused.value.accepts == ["retry", "end"]
    assert account.otp_resends == 0
    parked = await registrations.get_status(client, wid)
    assert parked.phase == Phase.NEEDS_ATTENTION and parked.problem.summary == "brand is SUSPENDED", parked.problem

    ended = await registrations.decide(client, wid, OperatorDecision(action="end", reason="brand suspended"))
    assert ended.phase == Phase.FAILED, ended.model_dump_json(indent=1)

