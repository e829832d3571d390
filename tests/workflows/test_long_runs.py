"""A registration that waits long for its OTP keeps a bounded history: at a quiescent point it
continues as a new run, carrying its whole state, with the same workflow id, search attributes and
status — on the time-skipping server with fake Twilio: twenty operator cycles of a day each."""

from __future__ import annotations

from datetime import timedelta

from a2p import search_attributes as sa
from a2p.calls import Call
from a2p.progress import BrandEvent, OperatorDecision, Phase
from a2p.timings import Timings
from starter import registrations
from tests.factories import wait_until
from tests.workflows.conftest import new_request

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
