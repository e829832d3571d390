"""A registration that waits long keeps a bounded history: at a quiescent point of its long waits
(the OTP, a review, a wait for a person) it continues as a new run, carrying its whole state, with
the same workflow id, search attributes and status — on the time-skipping server with fake Twilio:
twenty operator cycles of a day each in the OTP wait; a dozen campaign correction cycles."""

from __future__ import annotations

from datetime import timedelta

from a2p import search_attributes as sa
from a2p.calls import Call
from a2p.progress import BrandEvent, OperatorDecision, Phase
from a2p.requests import Correction
from a2p.timings import Timings
from starter import registrations
from tests.factories import record_history, wait_until
from tests.workflows.conftest import new_request
from tests.workflows.fake_twilio import campaign_failed

CYCLES = 20

# An OTP that expires a day after it was sent, with one automatic re-send half-way, and status
# polls rarer than that: a cycle is two timers (the re-send, the deadline) and two re-sends.
DAILY_EXPIRY = Timings(otp_resend_interval=timedelta(hours=12), otp_deadline=timedelta(days=1),
                       poll_initial=timedelta(days=30), poll_max=timedelta(days=30))


async def test_twenty_operator_cycles_continue_as_new_with_bounded_histories(client, ts_settings, ts_queue, fake):
    request = new_request(timings=DAILY_EXPIRY)
    wid = request.workflow_id
    account = fake.account(wid)
    account.verify_after_resends = None  # the customer does not answer while the cycles go on
    short_runs = ts_settings.model_copy(update={"a2p_events_per_run": 150})  # the input's events_per_run
    await registrations.start_registration(client, short_runs, request, task_queue=ts_queue)

    for cycle in range(1, CYCLES + 1):
        await wait_until(client, wid, lambda s: s.phase == Phase.OTP_EXPIRED, what=f"OTP expired ({cycle})")
        status = await registrations.decide(client, wid, OperatorDecision(action="resend_otp_and_wait"))
        assert status.phase == Phase.OTP_VERIFICATION, status.phase
    # The customer replies YES; Twilio's Event Streams says so.
    await registrations.signal(client, wid, "brand_event", BrandEvent(
        event_id="verified-1", occurred_at=status.otp.last_sent_at, brand_sid=status.sids.brand,
        identity_status="VERIFIED"))
    final = await registrations.final_status(client, wid)

    assert final.phase == Phase.COMPLETED and final.workflow_id == wid, final.problem
    assert final.isv_customer_id == request.isv_customer_id and final.sids.brand and final.sids.campaign
    assert final.otp.resends >= CYCLES and final.started_at == status.started_at
    assert account.count(Call.REGISTER_BRAND) == 1 and account.count(Call.CREATE_CAMPAIGN) == 1
    assert any(e.note.startswith("continuing as run") for e in final.timeline)

    runs = [r async for r in client.list_workflows(f"WorkflowId = '{wid}'")]
    assert len(runs) > 1, "the registration never continued as new"
    for run in runs:
        history = await client.get_workflow_handle(wid, run_id=run.run_id).fetch_history()
        assert len(history.events) < 2000, (run.run_id, len(history.events))
    latest = await client.get_workflow_handle(wid).describe()
    attrs = latest.typed_search_attributes
    assert attrs.get(sa.ISV_CUSTOMER_ID) == request.isv_customer_id and attrs.get(sa.PHASE) == "COMPLETED"
    assert attrs.get(sa.BRAND_SID) == final.sids.brand


CAMPAIGN_CYCLES = 12
EVENTS_PER_RUN = 150
FLOW_WITH_OPT_IN = ("Customers opt in by texting JOIN to the number on the bakery's counter sign; "
                    "consent is recorded at sign up.")


async def test_campaign_correction_cycles_continue_as_new_with_bounded_histories(client, ts_settings, ts_queue, fake):
    request = new_request()  # the production timings: 30 s settle waits, polls from 5 min
    wid = request.workflow_id
    account = fake.account(wid)
    # Campaign vetting fails again after each correction, a dozen times; then it passes.
    account.campaign_reviews = [campaign_failed(30896, "Opt-in information is missing")] * CAMPAIGN_CYCLES
    short_runs = ts_settings.model_copy(update={"a2p_events_per_run": EVENTS_PER_RUN})
    await registrations.start_registration(client, short_runs, request, task_queue=ts_queue)

    for cycle in range(1, CAMPAIGN_CYCLES + 1):
        parked = await wait_until(client, wid, lambda s: s.phase == Phase.NEEDS_ATTENTION,
                                  what=f"campaign FAILED ({cycle})")
        assert parked.problem.source == "campaign" and parked.problem.accepts == ["correction", "retry", "end"], \
            parked.problem
        status = await registrations.correct(client, wid, Correction(campaign={
            "message_flow": f"{FLOW_WITH_OPT_IN} Correction {cycle}."}))
        assert status.phase == Phase.CAMPAIGN and status.problem is None, status.model_dump_json(indent=1)
    final = await registrations.final_status(client, wid)

    assert final.phase == Phase.COMPLETED and final.workflow_id == wid, final.problem
    assert final.statuses.campaign == "VERIFIED" and final.started_at == parked.started_at
    assert account.count(Call.CREATE_CAMPAIGN) == 1 and account.count(Call.UPDATE_CAMPAIGN) == CAMPAIGN_CYCLES
    assert account.args(Call.UPDATE_CAMPAIGN)[-1].campaign["message_flow"].endswith(f"Correction {CAMPAIGN_CYCLES}.")
    notes = [e.note for e in final.timeline]
    assert sum(n.startswith("continuing as run") for n in notes) >= 2, notes

    runs = sorted([r async for r in client.list_workflows(f"WorkflowId = '{wid}'")], key=lambda r: r.start_time)
    assert len(runs) >= 3, "the registration did not continue as new in its campaign cycles"
    for run in runs:
        history = await client.get_workflow_handle(wid, run_id=run.run_id).fetch_history()
        # Continued at the first quiet point after EVENTS_PER_RUN: within a cycle (~30 events) of it.
        assert len(history.events) < EVENTS_PER_RUN + 60, (run.run_id, len(history.events))
    attrs = (await client.get_workflow_handle(wid).describe()).typed_search_attributes
    assert attrs.get(sa.ISV_CUSTOMER_ID) == request.isv_customer_id and attrs.get(sa.PHASE) == "COMPLETED"
    assert attrs.get(sa.CAMPAIGN_SID) == final.sids.campaign and attrs.get(sa.CAMPAIGN_STATUS) == "VERIFIED"
    await record_history(client, wid, "new_registration_campaign_cycles_first_run", run_id=runs[0].run_id)
    await record_history(client, wid, "new_registration_campaign_cycles_continued_run", run_id=runs[1].run_id)
