"""The worker's Prometheus endpoint exposes Temporal's metrics and a2p's counters."""

from __future__ import annotations

import httpx

from a2p.progress import Phase
from infra.temporal_client import connect
from starter import registrations
from local_stack.stack import free_port
from tests.factories import answer_otp, wait_phase
from worker import running_worker


async def test_metrics_endpoint_counts_registrations_and_twilio_calls(settings, customer, control):
    bind = f"127.0.0.1:{free_port()}"
    with_metrics = settings.model_copy(update={"a2p_metrics_bind": bind})
    client = await connect(with_metrics)
    request = customer.request()
    async with running_worker(client, with_metrics, task_queue="metrics"):
        started = await registrations.start_registration(client, with_metrics, request, task_queue="metrics")
        await wait_phase(client, started.workflow_id, Phase.OTP_VERIFICATION)
        await answer_otp(control, request.customer.mobile_number)
        assert (await registrations.final_status(client, started.workflow_id)).phase == Phase.COMPLETED
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://{bind}/metrics")).text

    def value(line_start: str) -> float:
        lines = [ln for ln in text.splitlines() if ln.startswith(line_start)]
        assert lines, f"no {line_start!r} in metrics"
        return sum(float(ln.rsplit(" ", 1)[1]) for ln in lines)

    assert value('a2p_registrations_started{') >= 1
    assert value('a2p_registrations_ended{') >= 1 and 'outcome="COMPLETED"' in text
    assert value('a2p_twilio_calls{') >= 19
    assert 'endpoint="POST /v1/a2p/BrandRegistrations"' in text and 'status="201"' in text
    assert "temporal_workflow_completed" in text or "temporal_request" in text  # the SDK's own metrics
