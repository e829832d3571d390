"""Operating the worker: structured JSON logs with no customer data or secrets, and a clean,
bounded stop on SIGTERM (as a container runtime sends it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from a2p.progress import Phase
from starter import registrations
from tests.factories import answer_otp, eventually, wait_phase

ROOT = Path(__file__).resolve().parents[2]


async def test_worker_logs_are_masked_json_and_sigterm_stops_it_cleanly(settings, customer, control, client, tmp_path):
    env = dict(os.environ, TEMPORAL_ADDRESS=settings.temporal_address, TEMPORAL_TASK_QUEUE="ops",
               TWILIO_ACCOUNT_SID=settings.twilio_account_sid,
               TWILIO_AUTH_TOKEN=settings.twilio_auth_token.get_secret_value(),
               A2P_PRIMARY_CUSTOMER_PROFILE_SID=settings.a2p_primary_customer_profile_sid,
               TWILIO_API_BASE_URL=settings.twilio_api_base_url, LOG_LEVEL="DEBUG", LOG_FORMAT="json")
    log_file = tmp_path / "worker.log"
    with log_file.open("wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "worker"], cwd=ROOT, env=env, stdout=out, stderr=out)
    request = customer.request()
    try:
        # Make the customer's address creation fail twice (500s), so that failures get logged.
        await control.set_faults(rate_500=1.0, path_regex=f"{customer.subaccount_sid}/Addresses", seed=1)
        started = await registrations.start_registration(client, settings, request, task_queue="ops")
        await eventually(lambda: b'"twilio_call_failed"' in log_file.read_bytes()
                         and b'"create_address"' in log_file.read_bytes(),
                         timeout=60, what="the worker logging the address creation's 500")
        await control.clear_faults()
        await wait_phase(client, started.workflow_id, Phase.OTP_VERIFICATION)
        await answer_otp(control, request.customer.mobile_number)
        assert (await registrations.final_status(client, started.workflow_id)).phase == Phase.COMPLETED
    finally:
        await control.clear_faults()
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=60)
    assert code == 0, (code, log_file.read_text()[-2000:])

    text = log_file.read_text()
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    events = {r.get("event") for r in records}
    assert {"worker_started", "twilio_call_failed", "worker_stopped"} <= events, events
    failure = next(r for r in records if r.get("event") == "twilio_call_failed")
    assert failure["workflow_id"] == started.workflow_id and failure["activity"] == "create_address"
    assert failure["attempt"] >= 1 and failure["isv_customer_id"] == request.isv_customer_id and failure["run_id"]
    c = request.customer
    for secret in (c.email, c.mobile_number, c.business_phone, settings.twilio_auth_token.get_secret_value()):
        assert secret not in text, f"{secret!r} in the worker's logs"


async def test_service_stops_cleanly_on_sigterm(settings):
    import httpx

    from local_stack.stack import free_port

    port = free_port()
    env = dict(os.environ, TEMPORAL_ADDRESS=settings.temporal_address, TWILIO_ACCOUNT_SID=settings.twilio_account_sid,
               TWILIO_AUTH_TOKEN=settings.twilio_auth_token.get_secret_value(),
               A2P_PRIMARY_CUSTOMER_PROFILE_SID=settings.a2p_primary_customer_profile_sid,
               A2P_SERVICE_PORT=str(port), LOG_FORMAT="json")
    service = subprocess.Popen([sys.executable, "-m", "starter.cli", "service"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        async with httpx.AsyncClient() as http:
            async def healthy() -> bool:
                return (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200

            await eventually(healthy, timeout=60, what="the service answering /healthz")
    finally:
        service.send_signal(signal.SIGTERM)
        code = service.wait(timeout=20)
    assert code == 0, service.stderr.read().decode()[-2000:]
