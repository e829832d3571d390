"""NewRegistration on the time-skipping server with fake Twilio: the production timings, in seconds."""

from __future__ import annotations

from datetime import timedelta

from a2p.calls import Call
from a2p.progress import Phase
from starter import registrations
from tests.factories import wait_phase
from tests.workflows.conftest import new_request


async def start(client, settings, queue, fake, **changes):
    request = new_request(**changes)
    account = fake.account(request.workflow_id)
    return request, account


async def test_happy_path_completes_with_production_timings(client, ts_settings, ts_queue, fake):
    request = new_request()
    account = fake.account(request.workflow_id)
    account.verify_after_resends = 2  # the customer replies YES to the third OTP, two days later

    await registrations.start_registration(client, ts_settings, request, task_queue=ts_queue)
    final = await registrations.final_status(client, request.workflow_id)

    assert final.phase == Phase.COMPLETED, final.problem
    assert final.statuses.brand == "APPROVED" and final.statuses.identity == "VERIFIED"
    assert final.statuses.campaign == "VERIFIED"
    assert final.otp.resends == 2 and account.otp_resends == 2
    # Virtual time: two 24 h re-send intervals passed between the first OTP and the verification.
    assert final.finished_at - final.started_at > timedelta(days=2)
    assert account.count(Call.CREATE_CAMPAIGN) == 1
    assert account.services and list(account.services.values())[0] == [request.messaging_service.phone_number_sid]
