"""A registration that waits long for its OTP keeps a bounded history: at a quiescent point it
continues as a new run, carrying its whole state, with the same workflow id, search attributes and
status — on the real dev server against the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest

from a2p import search_attributes as sa
from a2p.progress import OperatorDecision, Phase
from starter import registrations
from tests.factories import answer_otp, wait_until
from tests.integration.conftest import FAST

pytestmark = pytest.mark.asyncio(loop_scope="session")

CYCLES = 20


async def test_twenty_operator_cycles_continue_as_new_with_bounded_histories(
        client, settings, task_queue, customer, control):
    timings = FAST.model_copy(update={"otp_resend_interval": timedelta(seconds=1), "otp_deadline": timedelta(seconds=2)})
    request = customer.request(timings=timings)
    short_runs = settings.model_copy(update={"a2p_events_per_run": 150})
    started = await registrations.start_registration(client, short_runs, request, task_queue=task_queue)
    wid = started.workflow_id

    for cycle in range(1, CYCLES + 1):
        await wait_until(client, wid, lambda s: s.phase == Phase.OTP_EXPIRED, timeout=40, what=f"OTP expired ({cycle})")
        status = await registrations.decide(client, wid, OperatorDecision(action="resend_otp_and_wait"))
        assert status.phase == Phase.OTP_VERIFICATION, status.phase
    await answer_otp(control, request.customer.mobile_number)
    final = await registrations.final_status(client, wid)

    assert final.phase == Phase.COMPLETED and final.workflow_id == wid
    assert final.isv_customer_id == request.isv_customer_id and final.sids.brand and final.sids.campaign
    assert final.otp.resends >= CYCLES and final.started_at == status.started_at
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
