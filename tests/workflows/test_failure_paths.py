"""Every Twilio failure of a NEW registration has a way forward: NewRegistration on the time-skipping
server with fake Twilio, at the production timings. Each test asserts where the registration ends
and which Twilio calls were made — no brand update spent in vain, nothing sent to TCR on data Twilio
already rejected, never two live campaigns, and states only a person can resolve parked once with
the action to take. (The same paths end to end on the dev server and the sandbox, side by side:
tests/integration/test_failure_paths.py.)"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateStage

from a2p.calls import Call, TwilioError
from a2p.progress import TERMINAL_PHASES, BundleEvent, OperatorDecision, Phase, RegistrationStatus
from a2p.requests import Correction, RegistrationRequest
from a2p.timings import Timings
from starter import registrations
from tests.factories import eventually, record_history, wait_phase, wait_until
from tests.workflows.conftest import new_request
from tests.workflows.fake_twilio import (
    APPROVED_BRAND, Account, Hold, Review, brand_failed, campaign_failed, rejected,
)

DISPOSABLE = "The email address jane@disposable.test is from a disposable email provider"
FLOW_WITH_OPT_IN = ("Customers opt in by texting JOIN to the number on the bakery's counter sign; "
                    "consent is recorded at sign up.")


def prepare(fake, **changes) -> tuple[RegistrationRequest, Account]:
    """A new customer and its Twilio account, for the test to script before it starts."""
    request = new_request(**changes)
    return request, fake.account(request.workflow_id)


async def start(client, ts_settings, ts_queue, request: RegistrationRequest) -> str:
    started = await registrations.start_registration(client, ts_settings, request, task_queue=ts_queue)
    assert started.created
    return started.workflow_id


def profile_sid(status: RegistrationStatus) -> str:
    assert status.sids.customer_profile is not None
    return status.sids.customer_profile


async def ended(client, workflow_id: str) -> RegistrationStatus:
    """The registration's last status; a registration stuck (parked) fails the test with its status."""
    await wait_until(client, workflow_id, lambda s: s.phase in TERMINAL_PHASES, what="the registration's end")
    return await registrations.final_status(client, workflow_id)


async def completed(client, workflow_id: str) -> RegistrationStatus:
    final = await ended(client, workflow_id)
    assert final.phase == Phase.COMPLETED, final.model_dump_json(indent=1)
    return final


async def until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Wait until the fake's state says ``condition`` (no sleep-and-hope)."""
    await eventually(condition, timeout, what, interval=0.02)


def parked_twice(status: RegistrationStatus) -> bool:
    return sum(e.phase == Phase.NEEDS_ATTENTION for e in status.timeline) >= 2


# ---- customer profile ------------------------------------------------------------------------


async def test_rejected_email_is_fixed_on_the_bundle_and_no_brand_update_is_spent(
        client, ts_settings, ts_queue, fake):
    # The profile's review comes out within the 30 s settle wait: seen before the brand is registered.
    request, account = prepare(fake, customer__email="jane@disposable.test")
    # Two reasons, each ending in ";" as the seed's do.
    account.bundle_reviews["customer_profile"] = [Review("twilio-rejected", (
        TwilioError(message=DISPOSABLE + ";"), TwilioError(message="Address suggestion -> Country: US;")))]
    wid = await start(client, ts_settings, ts_queue, request)

    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "customer_profile"
    assert status.problem.summary == f"customer profile rejected by Twilio: {DISPOSABLE}; Address suggestion -> Country: US"
    assert "email" in status.problem.correction_fields and "correction" in status.problem.accepts
    assert account.count(Call.REGISTER_BRAND) == 0
    # The Web UI's current details: what moves it on first, the reasons readable.
    details = (await client.get_workflow_handle(wid).query("__temporal_workflow_metadata")).current_details
    head = details.split("\n")[0]
    assert head.startswith("**NEEDS_ATTENTION** — waiting for a correction (") and f"`a2p correct {wid} FILE.json`" in head
    assert f"Twilio: {DISPOSABLE}; Address suggestion -> Country: US\n" in details, details

    await registrations.correct(client, wid, Correction(email="jane.doe@example.com"))
    final = await completed(client, wid)
    assert final.brand_updates_used == 0
    profile = account.bundles[final.sids.customer_profile]
    assert profile.email == "jane.doe@example.com"  # where Twilio's email check runs
    assert account.count(Call.REGISTER_BRAND) == 1 and account.count(Call.UPDATE_BRAND) == 0
    # submit, email update, resubmit
    assert profile.submissions == 2 and [a.bundle_sid for a in account.args(Call.UPDATE_BUNDLE)] == [profile_sid(final)]


async def profile_rejected_by_webhook(client, workflow_id: str, account: Account) -> None:
    """Twilio rejects the customer profile; its status callback, as the registration service signals it."""
    profile_sid_ = profile_sid(await registrations.get_status(client, workflow_id))
    profile = account.bundles[profile_sid_]
    profile.status, profile.errors = "twilio-rejected", (TwilioError(message=DISPOSABLE),)
    await client.get_workflow_handle(workflow_id).signal("bundle_event", BundleEvent(
        bundle_sid=profile_sid_, status="twilio-rejected", failure_reason=DISPOSABLE))


async def profile_rejection_parked(client, workflow_id: str) -> RegistrationStatus:
    status = await wait_until(client, workflow_id, lambda s: s.phase == Phase.NEEDS_ATTENTION and s.problem is not None
                              and s.problem.source == "customer_profile", what="the profile's rejection parked")
    assert "disposable" in status.problem.summary and "email" in status.problem.correction_fields
    return status


def hold_at(fake, workflow_id: str, point: str) -> Hold:
    """Hold the answer of the trust bundle's call at ``point`` (for the settle wait: its submission's)."""
    return fake.hold(workflow_id, POINTS[point] or Call.SUBMIT_BUNDLE, kind="trust_bundle")


async def rejected_at(ts_env, client, account: Account, workflow_id: str, hold: Hold, point: str) -> None:
    """The profile's rejection arrives while the trust bundle step is at ``point``: while the
    answer of its call there is held, or — "during-the-settle-wait" — while the registration waits
    out the settle time after the submission, its clock running at wall-clock pace meanwhile (not
    skipped), then skipped past the wait."""
    settle = point == "during-the-settle-wait"
    await until(lambda: hold.reached, f"the trust bundle {point}")
    if not settle:
        await profile_rejected_by_webhook(client, workflow_id, account)
        hold.release()
        return
    handle = client.get_workflow_handle(workflow_id)
    await ts_env.fast_forward(handle, timedelta(milliseconds=1))  # skipping stops once this is reached
    hold.release()
    await wait_until(client, workflow_id, lambda s: "trust bundle validation" in (s.waiting_for or ""),
                     what="the trust bundle's settle wait")
    await profile_rejected_by_webhook(client, workflow_id, account)
    status = await wait_until(client, workflow_id, lambda s: s.statuses.customer_profile == "twilio-rejected",
                              what="the webhook applied")
    assert "trust bundle validation" in status.waiting_for  # still in the settle wait: it came during it
    await ts_env.fast_forward(handle, Timings().settle_wait + timedelta(seconds=1))


async def skipping_to_the_end(ts_env, client, workflow_id: str) -> asyncio.Task:
    """The registration's clock skipped again (after ``rejected_at``'s settle wait), until it ends."""
    return asyncio.create_task(ts_env.fast_forward(client.get_workflow_handle(workflow_id), None))


# Where the trust bundle step is when the profile's rejection arrives (the answer held there).
POINTS = {
    "after-create": Call.CREATE_BUNDLE,
    "during-evaluation": Call.EVALUATE_BUNDLE,
    "after-submission": Call.SUBMIT_BUNDLE,
    "during-the-settle-wait": None,
    "during-the-check-after-the-settle-wait": Call.FETCH_BUNDLE,
}


@pytest.mark.parametrize("point", list(POINTS))
async def test_no_brand_is_registered_while_the_profile_is_known_rejected(
        ts_env, client, ts_settings, ts_queue, fake, point):
    request, account = prepare(fake, customer__email="jane@disposable.test")
    hold = hold_at(fake, request.workflow_id, point)
    wid = await start(client, ts_settings, ts_queue, request)
    await rejected_at(ts_env, client, account, wid, hold, point)

    status = await profile_rejection_parked(client, wid)
    assert status.sids.trust_bundle is not None and status.sids.brand is None
    assert account.count(Call.REGISTER_BRAND) == 0

    skipping = await skipping_to_the_end(ts_env, client, wid)
    await registrations.correct(client, wid, Correction(email="jane.doe@example.com"))
    final = await completed(client, wid)
    await skipping
    assert final.brand_updates_used == 0 and account.count(Call.REGISTER_BRAND) == 1
    assert account.count(Call.UPDATE_BRAND) == 0
    assert account.bundles[final.sids.customer_profile].submissions == 2


async def test_stale_bundle_callbacks_never_move_a_bundle_backwards(client, ts_settings, ts_queue, fake):
    """A status callback carries no time and its delivery token is not signed: an earlier
    submission's rejection, or an in-review after the approval, may come late or be replayed with
    a fresh token. The registration reads the bundle and applies what Twilio says now."""
    request, account = prepare(fake, customer__email="jane@disposable.test")
    account.bundle_reviews["customer_profile"] = [rejected(DISPOSABLE)]
    wid = await start(client, ts_settings, ts_queue, request)
    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    profile = account.bundles[profile_sid(status)]
    handle = client.get_workflow_handle(wid)

    def profile_reads() -> int:
        return sum(1 for a in account.args(Call.FETCH_BUNDLE) if a.kind == "customer_profile")

    async def callback(status: str, reason: str | None = None) -> None:
        """Signal a callback (each with a fresh delivery token) and wait until it is handled: the
        Query answers once the signal is processed, then nothing is pending but the held read."""
        await handle.signal("bundle_event", BundleEvent(bundle_sid=profile_sid(status_now), status=status,
                                                        failure_reason=reason, event_id=f"WH{uuid.uuid4().hex}"))
        await registrations.get_status(client, wid)
        await eventually(lambda: _pending_activities(handle), 30, "the callback handled",
                         until=lambda pending: pending == ["fetch_bundle"])

    # The correction resubmits both bundles; the registration is held at its read of the trust bundle.
    account.hold = lambda call, req: call == Call.FETCH_BUNDLE and req.kind == "trust_bundle"
    correcting = asyncio.create_task(registrations.correct(client, wid, Correction(email="jane.doe@example.com")))
    await until(lambda: Call.FETCH_BUNDLE in account.holding, "the trust bundle's read after the resubmission")
    status_now = await registrations.get_status(client, wid)
    assert status_now.statuses.customer_profile == "in-review" and profile.submissions == 2
    reads = profile_reads()

    # The first submission's rejection, replayed: Twilio says in-review, so in-review it stays.
    await callback("twilio-rejected", DISPOSABLE)
    assert (await registrations.get_status(client, wid)).statuses.customer_profile == "in-review"
    # Approved: applied (Twilio agrees). Then a stale in-review and the stale rejection: nothing moves.
    profile.status = "twilio-approved"
    await callback("twilio-approved")
    assert (await registrations.get_status(client, wid)).statuses.customer_profile == "twilio-approved"
    for stale in (("in-review", None), ("twilio-rejected", DISPOSABLE)):
        await callback(*stale)
        assert (await registrations.get_status(client, wid)).statuses.customer_profile == "twilio-approved", stale
    assert profile_reads() == reads + 4  # each callback that said something new: Twilio asked

    account.hold = None
    await correcting
    final = await completed(client, wid)
    assert sum(e.phase == Phase.NEEDS_ATTENTION for e in final.timeline) == 1  # never parked again
    assert final.statuses.customer_profile == "twilio-approved" and account.count(Call.REGISTER_BRAND) == 1


async def _pending_activities(handle) -> list[str]:
    return [a.activity_type.name for a in (await handle.describe()).raw_description.pending_activities]


@pytest.mark.parametrize("point", ["after-submission", "during-the-settle-wait", "during-the-check-after-the-settle-wait"])
async def test_no_brand_update_while_the_profile_is_known_rejected(
        ts_env, client, ts_settings, ts_queue, fake, point):
    request, account = prepare(fake)
    account.brand_reviews = [brand_failed(30751, "mobile number is not a supported mobile")]
    wid = await start(client, ts_settings, ts_queue, request)
    await wait_phase(client, wid, Phase.NEEDS_ATTENTION)

    # The correction resubmits the trust bundle; the profile's rejection arrives meanwhile.
    hold = hold_at(fake, wid, point)
    update = await client.get_workflow_handle(wid).start_update(
        "correct", Correction(mobile_number="+14155550199"), wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        result_type=RegistrationStatus)
    await rejected_at(ts_env, client, account, wid, hold, point)
    await update.result()

    await profile_rejection_parked(client, wid)
    assert account.count(Call.UPDATE_BRAND) == 0 and account.bundles[
        (await registrations.get_status(client, wid)).sids.trust_bundle].submissions == 2

    skipping = await skipping_to_the_end(ts_env, client, wid)
    await registrations.correct(client, wid, Correction(email="jane.doe@example.com"))
    final = await completed(client, wid)
    await skipping
    assert account.count(Call.UPDATE_BRAND) == 1 and final.brand_updates_used == 1
    assert account.count(Call.REGISTER_BRAND) == 1


async def test_starter_profile_correction_resubmits_profile_then_trust_bundle_then_updates_the_brand(
        client, ts_settings, ts_queue, fake):
    # The profile's rejection surfaces only after the brand was registered (its review longer than
    # the settle wait, no callback): the brand FAILS on the rejected profile.
    request, account = prepare(fake, customer__email="jane@disposable.test")
    account.brand_reviews = [brand_failed(30701, "Bundle is twilio-rejected: " + DISPOSABLE)]
    wid = await start(client, ts_settings, ts_queue, request)
    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "brand" and status.statuses.brand == "FAILED"
    assert any(e.code == 30701 for e in status.problem.errors)
    profile = account.bundles[profile_sid(status)]
    profile.status, profile.errors = "twilio-rejected", (TwilioError(message=DISPOSABLE),)  # as Twilio has it by now

    await registrations.correct(client, wid, Correction(email="jane.doe@example.com"))
    final = await completed(client, wid)
    assert final.brand_updates_used == 1 and account.brands[final.sids.brand].updates == 1
    notes = [e.note for e in final.timeline]
    order = [next(i for i, n in enumerate(notes) if n.startswith(prefix) and i > notes.index("correction applied"))
             for prefix in ("customer profile submitted", "trust bundle submitted", "brand updated")]
    assert order == sorted(order), notes
    assert profile.email == "jane.doe@example.com"
    assert account.end_users[final.sids.starter_end_user]["attributes"]["email"] == "jane.doe@example.com"
    assert profile.submissions == 2 and account.bundles[final.sids.trust_bundle].submissions == 2
    assert account.count(Call.REGISTER_BRAND) == 1 and account.count(Call.UPDATE_BRAND) == 1


def bundle_calls(account: Account) -> list[str]:
    """The Trust Hub and brand calls in order, each as "call kind" (e.g. "submit_bundle trust_bundle")."""
    return [f"{c} {a.kind}" if hasattr(a, "kind") else str(c) for c, a in account.calls
            if c in (Call.SUBMIT_BUNDLE, Call.FETCH_BUNDLE, Call.REGISTER_BRAND, Call.UPDATE_BRAND)]


async def brand_failed_on_the_rejected_profile(client, ts_settings, ts_queue, fake) -> tuple[str, Account]:
    """A customer whose profile's rejection surfaced only after the brand was registered (no
    callback, the review longer than the settle wait): the brand FAILED and waits for a correction."""
    request, account = prepare(fake, customer__email="jane@disposable.test")
    account.brand_reviews = [brand_failed(30701, "Bundle is twilio-rejected: " + DISPOSABLE)]
    wid = await start(client, ts_settings, ts_queue, request)
    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "brand"
    profile = account.bundles[profile_sid(status)]
    profile.status, profile.errors = "twilio-rejected", (TwilioError(message=DISPOSABLE),)  # as Twilio has it by now
    return wid, account


async def test_each_bundle_is_resubmitted_only_once_the_one_before_is_accepted(client, ts_settings, ts_queue, fake):
    wid, account = await brand_failed_on_the_rejected_profile(client, ts_settings, ts_queue, fake)
    # Twilio takes the resubmitted profile up only at the third look (pending-review twice).
    account.bundle_reviews["customer_profile"] = [Review("pending-review"), Review("pending-review")]
    before = len(bundle_calls(account))

    await registrations.correct(client, wid, Correction(email="jane.doe@example.com"))
    final = await completed(client, wid)
    assert bundle_calls(account)[before:before + 7] == [
        "submit_bundle customer_profile",
        "fetch_bundle customer_profile", "fetch_bundle customer_profile", "fetch_bundle customer_profile",  # in-review
        "submit_bundle trust_bundle", "fetch_bundle trust_bundle",                                        # in-review
        "update_brand",
    ]
    assert final.brand_updates_used == 1 and account.count(Call.REGISTER_BRAND) == 1


async def test_a_resubmitted_profile_rejected_again_stops_before_the_trust_bundle_and_the_brand(
        client, ts_settings, ts_queue, fake):
    wid, account = await brand_failed_on_the_rejected_profile(client, ts_settings, ts_queue, fake)
    account.bundle_reviews["customer_profile"] = [rejected(DISPOSABLE)]  # the corrected email is refused too

    await registrations.correct(client, wid, Correction(email="jane@disposable-too.test"))
    status = await wait_until(client, wid, lambda s: s.phase == Phase.NEEDS_ATTENTION and s.problem is not None
                              and s.problem.source == "customer_profile", what="the profile's rejection parked")
    assert "disposable" in status.problem.summary and "email" in status.problem.correction_fields
    trust_bundle = account.bundles[status.sids.trust_bundle]
    assert trust_bundle.submissions == 1 and account.count(Call.UPDATE_BRAND) == 0  # neither went on

    await registrations.correct(client, wid, Correction(email="jane.doe@example.com"))
    final = await completed(client, wid)
    assert account.bundles[final.sids.customer_profile].submissions == 3 and trust_bundle.submissions == 2
    assert account.count(Call.UPDATE_BRAND) == 1 and final.brand_updates_used == 1
    calls = bundle_calls(account)
    assert calls.index("update_brand") > max(i for i, c in enumerate(calls) if c == "submit_bundle trust_bundle")
    await record_history(client, wid, "new_registration_profile_rejected_again_after_brand_failed")


# ---- campaign --------------------------------------------------------------------------------


async def test_campaign_twilio_will_not_edit_is_deleted_and_created_again(client, ts_settings, ts_queue, fake):
    request, account = prepare(fake)
    account.campaign_reviews = [campaign_failed(30896, "Opt-in information is missing")]
    wid = await start(client, ts_settings, ts_queue, request)
    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "campaign" and status.problem.correction_fields == ["campaign"]
    first = status.sids.campaign

    account.refuse[Call.UPDATE_CAMPAIGN], account.refuse_status[Call.UPDATE_CAMPAIGN] = (20004, "Method not allowed"), 405
    await registrations.correct(client, wid, Correction(campaign={"message_flow": FLOW_WITH_OPT_IN}))
    final = await completed(client, wid)
    assert final.statuses.campaign == "VERIFIED" and final.sids.campaign != first
    assert list(account.campaigns) == [final.sids.campaign]  # never two live campaigns
    assert account.count(Call.UPDATE_CAMPAIGN) == 1 and account.count(Call.DELETE_CAMPAIGN) == 1
    assert account.count(Call.CREATE_CAMPAIGN) == 2
    assert account.args(Call.CREATE_CAMPAIGN)[-1].campaign["message_flow"] == FLOW_WITH_OPT_IN
    calls = [c for c, _ in account.calls]
    assert calls.index(Call.DELETE_CAMPAIGN) < max(i for i, c in enumerate(calls) if c == Call.CREATE_CAMPAIGN)


async def test_campaign_correction_an_update_cannot_carry_deletes_then_creates_it(client, ts_settings, ts_queue, fake):
    request, account = prepare(fake)
    account.campaign_reviews = [campaign_failed(30896, "Opt-in information is missing")]
    wid = await start(client, ts_settings, ts_queue, request)
    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    first = status.sids.campaign

    # An opt-in keyword and its auto-reply: UpdateUsAppToPerson carries neither.
    opt_in = {"opt_in_keywords": ["JOIN"],
              "opt_in_message": "John Doe Photography: you are subscribed. Reply HELP for help, STOP to opt out."}
    await registrations.correct(client, wid, Correction(campaign={"message_flow": FLOW_WITH_OPT_IN, **opt_in}))
    final = await completed(client, wid)
    assert final.statuses.campaign == "VERIFIED" and final.sids.campaign != first
    assert list(account.campaigns) == [final.sids.campaign]  # exactly one live campaign
    assert account.count(Call.UPDATE_CAMPAIGN) == 0
    assert [a.campaign_sid for a in account.args(Call.DELETE_CAMPAIGN)] == [first]
    campaign_calls = [c for c, _ in account.calls if c in (Call.CREATE_CAMPAIGN, Call.DELETE_CAMPAIGN)]
    assert campaign_calls == [Call.CREATE_CAMPAIGN, Call.DELETE_CAMPAIGN, Call.CREATE_CAMPAIGN]  # delete, then create
    created = account.args(Call.CREATE_CAMPAIGN)[-1].campaign
    assert created["message_flow"] == FLOW_WITH_OPT_IN and created["opt_in_keywords"] == ["JOIN"]
    assert created["opt_in_message"] == opt_in["opt_in_message"]
    assert created["description"] == request.campaign.description  # the rest of the campaign as it was


async def test_campaign_suspended_waits_for_a_person(client, ts_settings, ts_queue, fake):
    request, account = prepare(fake)
    account.campaign_reviews = [Review("SUSPENDED")]
    wid = await start(client, ts_settings, ts_queue, request)
    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "campaign" and status.problem.accepts == ["retry", "end"]
    assert "Support" in status.problem.remedy and "SUSPENDED" in status.problem.summary
    fetched = account.count(Call.FETCH_CAMPAIGN)

    # 'retry' re-reads the campaign once; still SUSPENDED, it is parked again.
    status = await registrations.decide(client, wid, OperatorDecision(action="retry"))
    assert status.phase == Phase.NEEDS_ATTENTION and account.count(Call.FETCH_CAMPAIGN) == fetched + 1
    await registrations.decide(client, wid, OperatorDecision(action="end"))
    final = await ended(client, wid)
    assert final.phase == Phase.FAILED and final.statuses.campaign == "SUSPENDED"
    assert account.count(Call.CREATE_CAMPAIGN) == 1


# ---- brand states a person must resolve ----------------------------------------------------------


@pytest.mark.parametrize("brand_status, remedy", [
    ("SUSPENDED", "Twilio Support"),
    ("EXPIRED", "deleted"),
    ("DELETION_PENDING", "being deleted"),
    ("DELETION_FAILED", "Twilio Support"),
])
async def test_brand_state_only_a_person_can_resolve_is_parked_once(
        client, ts_settings, ts_queue, fake, brand_status, remedy):
    request, account = prepare(fake)
    account.verify_after_resends = None
    # While the registration waits for the OTP, the brand changes (Support, TCR, a deletion in the Console).
    account.approved_brand_changes = [Review(brand_status, identity_status="UNVERIFIED")]
    wid = await start(client, ts_settings, ts_queue, request)

    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "brand" and status.problem.accepts == ["retry", "end"]
    assert remedy in status.problem.remedy and brand_status in status.problem.summary
    fetched = account.count(Call.FETCH_BRAND)
    # 'retry' re-reads the brand once; still in that state, it is parked again — no loop.
    status = await registrations.decide(client, wid, OperatorDecision(action="retry"))
    assert status.phase == Phase.NEEDS_ATTENTION and parked_twice(status)
    assert account.count(Call.FETCH_BRAND) == fetched + 1 and account.count(Call.RESEND_OTP) == 0
    await registrations.decide(client, wid, OperatorDecision(action="end"))
    final = await ended(client, wid)
    assert final.phase == Phase.FAILED and final.statuses.brand == brand_status
    assert account.count(Call.CREATE_CAMPAIGN) == 0


async def test_suspended_brand_carries_on_once_support_reinstated_it(client, ts_settings, ts_queue, fake):
    request, account = prepare(fake)
    account.verify_after_resends = 1  # the customer answers the OTP re-sent after the suspension
    account.approved_brand_changes = [Review("SUSPENDED", identity_status="UNVERIFIED")]
    wid = await start(client, ts_settings, ts_queue, request)
    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    brand = account.brands[status.sids.brand]
    brand.status, brand.identity_status = APPROVED_BRAND.status, APPROVED_BRAND.identity_status  # Support reinstated it

    status = await registrations.decide(client, wid, OperatorDecision(action="retry"))
    assert status.phase == Phase.OTP_VERIFICATION  # answered with the status after its effect
    final = await completed(client, wid)
    assert final.otp.resends == 1 and final.brand_updates_used == 0
    await record_history(client, wid, "new_registration_brand_suspended_then_reinstated")


async def test_brand_in_review_is_still_a_review(client, ts_settings, ts_queue, fake):
    request, account = prepare(fake)
    account.brand_reviews = [Review("IN_REVIEW")]  # stays IN_REVIEW until the test approves it
    wid = await start(client, ts_settings, ts_queue, request)
    status = await wait_until(client, wid, lambda s: s.statuses.brand == "IN_REVIEW" and s.phase == Phase.BRAND_REVIEW,
                              what="brand IN_REVIEW")
    await until(lambda: account.count(Call.FETCH_BRAND) >= 3, "polls of the brand IN_REVIEW")
    brand = account.brands[status.sids.brand]
    brand.status, brand.identity_status = APPROVED_BRAND.status, APPROVED_BRAND.identity_status

    final = await completed(client, wid)
    assert final.brand_updates_used == 0 and account.count(Call.UPDATE_BRAND) == 0
    assert not any(e.phase == Phase.NEEDS_ATTENTION for e in final.timeline)


async def test_update_limit_reached_at_twilio_is_parked_for_support(client, ts_settings, ts_queue, fake):
    request, account = prepare(fake)
    account.brand_reviews = [brand_failed(30712, "mobile number has reached its brand limit")]
    wid = await start(client, ts_settings, ts_queue, request)
    await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    # Updates made outside this registration (the Console) used up the brand's three.
    account.refuse[Call.UPDATE_BRAND] = (21724, "Brand update count exceeded")

    await registrations.correct(client, wid, Correction(mobile_number="+14155550199"))
    status = await wait_until(client, wid, lambda s: s.phase == Phase.NEEDS_ATTENTION and s.problem is not None
                              and any(e.code == 21724 for e in s.problem.errors), what="21724 parked")
    assert status.problem.accepts == ["retry", "end"] and "Twilio Support" in status.problem.remedy
    assert any(x.startswith("21724") for x in status.problem.explanations)
    assert status.brand_updates_used == 3 and account.count(Call.UPDATE_BRAND) == 1
    await registrations.decide(client, wid, OperatorDecision(action="end"))
    assert (await ended(client, wid)).phase == Phase.FAILED
    assert account.count(Call.UPDATE_BRAND) == 1 and account.count(Call.REGISTER_BRAND) == 1


# ---- OTP ------------------------------------------------------------------------------------------


async def test_brand_failed_during_the_otp_wait_is_corrected_and_updated_not_sent_otps(
        client, ts_settings, ts_queue, fake):
    request, account = prepare(fake)
    account.verify_after_resends = None
    # While the registration waits for the OTP, TCR fails the brand (a vetting found the mobile number unusable).
    account.approved_brand_changes = [brand_failed(30751, "mobile number is not a supported mobile")]
    wid = await start(client, ts_settings, ts_queue, request)

    status = await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    assert status.problem.source == "brand" and "correction" in status.problem.accepts
    assert "mobile_number" in status.problem.correction_fields and any(e.code == 30751 for e in status.problem.errors)
    assert account.count(Call.RESEND_OTP) == 0  # Twilio would refuse them: none is tried

    account.verify_after_resends = 0  # the customer answers the OTP of the brand approved again
    await registrations.correct(client, wid, Correction(mobile_number="+14155550199"))
    final = await completed(client, wid)
    assert final.brand_updates_used == 1 and account.count(Call.UPDATE_BRAND) == 1
    assert account.count(Call.RESEND_OTP) == 0 and account.count(Call.REGISTER_BRAND) == 1
    assert "brand APPROVED again: still waiting for the OTP" in [e.note for e in final.timeline]
    await record_history(client, wid, "new_registration_brand_failed_during_the_otp_wait")


async def test_brand_back_in_review_during_the_otp_wait_is_followed_not_sent_otps(client, ts_settings, ts_queue, fake):
    request, account = prepare(fake)
    account.verify_after_resends = None
    account.approved_brand_changes = [Review("IN_REVIEW", identity_status="UNVERIFIED")]  # until the test approves it
    wid = await start(client, ts_settings, ts_queue, request)

    status = await wait_until(client, wid, lambda s: s.statuses.brand == "IN_REVIEW" and s.phase == Phase.BRAND_REVIEW,
                              what="the brand followed in review again")
    polls = account.count(Call.FETCH_BRAND)
    await until(lambda: account.count(Call.FETCH_BRAND) >= polls + 3, "polls of the brand IN_REVIEW")
    assert account.count(Call.RESEND_OTP) == 0
    brand = account.brands[status.sids.brand]
    account.verify_after_resends = 0
    brand.status, brand.identity_status = APPROVED_BRAND.status, APPROVED_BRAND.identity_status

    final = await completed(client, wid)
    assert account.count(Call.RESEND_OTP) == 0 and account.count(Call.UPDATE_BRAND) == 0
    assert not any(e.phase == Phase.NEEDS_ATTENTION for e in final.timeline)


async def test_otp_resend_refused_because_the_customer_answered_meanwhile_carries_on(
        client, ts_settings, ts_queue, fake):
    request, account = prepare(fake)
    account.verify_after_resends = None
    # The first status poll of the OTP wait is slow to come back (its answer, UNVERIFIED, on its
    # way): the registration waits there, its clock stopped, while the customer replies YES.
    account.hold = lambda call, req: call == Call.FETCH_BRAND and account.count(Call.FETCH_BRAND) == 2
    wid = await start(client, ts_settings, ts_queue, request)
    await until(lambda: Call.FETCH_BRAND in account.holding, "the first poll of the OTP wait")
    brand = account.brands[(await registrations.get_status(client, wid)).sids.brand]
    brand.identity_status = "VERIFIED"
    account.refuse[Call.RESEND_OTP] = (20001, "Brand is already VERIFIED: no OTP needed")

    # The operator's re-send is on its way while the customer said YES (what registrations.resend_otp
    # does, in two steps: the answer to the poll goes once the re-send is accepted).
    update = await client.get_workflow_handle(wid).start_update(
        "resend_otp", wait_for_stage=WorkflowUpdateStage.ACCEPTED, result_type=RegistrationStatus)
    account.hold = None
    status = await update.result()
    assert status.statuses.identity == "VERIFIED" and status.phase != Phase.NEEDS_ATTENTION

    final = await completed(client, wid)
    assert final.otp.resends == 0 and final.otp.verified_at is not None
    assert any(e.note.startswith("OTP re-send refused") for e in final.timeline)
    assert not any(e.phase == Phase.NEEDS_ATTENTION for e in final.timeline)
    assert account.count(Call.RESEND_OTP) == 1 and account.count(Call.CREATE_CAMPAIGN) == 1


async def test_otp_resend_requested_as_a_poll_finds_the_brand_verified_is_answered(client, ts_settings, ts_queue, fake):
    # The poll's answer (VERIFIED: the customer replied YES) is on its way when an operator asks
    # for a re-send: nothing is re-sent, the request is answered, and later actions are taken.
    request, account = prepare(fake)
    account.hold = lambda call, req: call == Call.FETCH_BRAND and account.count(Call.FETCH_BRAND) == 2
    account.campaign_reviews = [Review("SUSPENDED")]  # then a person is needed again
    wid = await start(client, ts_settings, ts_queue, request)
    await until(lambda: Call.FETCH_BRAND in account.holding, "the first poll of the OTP wait")

    update = await client.get_workflow_handle(wid).start_update(
        "resend_otp", wait_for_stage=WorkflowUpdateStage.ACCEPTED, result_type=RegistrationStatus)
    account.hold = None
    status = await asyncio.wait_for(update.result(), 30)
    assert status.statuses.identity == "VERIFIED" and status.otp.resends == 0
    assert account.count(Call.RESEND_OTP) == 0

    await wait_phase(client, wid, Phase.NEEDS_ATTENTION)
    await registrations.decide(client, wid, OperatorDecision(action="end"))  # not refused as "being applied"
    assert (await ended(client, wid)).phase == Phase.FAILED
