"""A reset is safe: an operator who resets a registration to a point before its brand registration
(``temporal workflow reset``) gets the registration back, not a second brand (a second fee and a
second of the mobile number's three uses) — and an ordinary first run still makes no lookups."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client

from a2p.calls import Call
from a2p.progress import Phase
from starter import registrations
from local_stack.stack import sandbox_settings
from tests.factories import answer_otp, wait_phase
from tests.reliability.test_faults import own_sandbox, request_for
from worker import running_worker

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def reset_before(client: Client, workflow_id: str, activity: Call) -> str:
    """Reset the registration to the workflow task that scheduled ``activity`` (what
    ``temporal workflow reset --event-id`` does): the new run makes that call again. Its run id."""
    handle = client.get_workflow_handle(workflow_id)
    last_completed_task = None
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            last_completed_task = event.event_id
        elif (event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
              and event.activity_task_scheduled_event_attributes.activity_type.name == str(activity)):
            break
    else:
        raise AssertionError(f"{workflow_id} never scheduled {activity}")
    response = await client.workflow_service.reset_workflow_execution(ResetWorkflowExecutionRequest(
        namespace=client.namespace, workflow_execution=WorkflowExecution(workflow_id=workflow_id),
        reason="test: reset to before the brand registration", workflow_task_finish_event_id=last_completed_task,
        request_id=str(uuid.uuid4())))
    return response.run_id


def lookups(before: dict, after: dict, endpoint: str) -> int:
    return sum(after["requests"].get(endpoint, {}).values()) - sum(before["requests"].get(endpoint, {}).values())


async def test_reset_to_before_the_brand_registration_makes_no_second_brand(temporal_env):
    client = temporal_env.client
    async with own_sandbox() as (proc, control):
        settings = sandbox_settings(proc.base_url, client.service_client.config.target_host)
        sub = (await control.create_subaccount())["sid"]
        number = await control.create_phone_number(account_sid=sub)
        request = request_for(f"reset-{uuid.uuid4().hex[:6]}", sub, number["sid"], 7)
        queue = f"reset-{uuid.uuid4().hex[:6]}"
        before = await control.stats()
        async with running_worker(client, settings, task_queue=queue):
            await registrations.start_registration(client, settings, request, task_queue=queue)
            first = await wait_phase(client, request.workflow_id, Phase.OTP_VERIFICATION, timeout=60)
            brand = first.sids.brand
            assert brand and len((await control.resources("brands", account_sid=sub))["resources"]) == 1

            # An ordinary first run looks for nothing it has not made — except a brand, always.
            stats = await control.stats()
            assert lookups(before, stats, "GET /v1/EndUsers") == 0
            assert lookups(before, stats, "GET /v1/SupportingDocuments") == 0
            assert lookups(before, stats, "GET /v1/CustomerProfiles") == 0
            assert lookups(before, stats, "GET /v1/a2p/BrandRegistrations") == 1

            new_run = await reset_before(client, request.workflow_id, Call.REGISTER_BRAND)
            assert new_run != first.workflow_id
            await answer_otp(control, request.customer.mobile_number, timeout=60)
            final = await asyncio.wait_for(registrations.final_status(client, request.workflow_id), 90)

            assert final.phase == Phase.COMPLETED, final.problem
            brands = (await control.resources("brands", account_sid=sub))["resources"]
            assert [b["sid"] for b in brands] == [brand], brands  # the reset run found it, made none
            assert final.sids.brand == brand
            # What the reset run's creates look back to: the registration's start, not the reset's.
            assert final.started_at == first.started_at

            # A completed registration reset to before its messaging service: the service, its
            # number and the campaign are found again, none is made twice.
            await reset_before(client, request.workflow_id, Call.CREATE_MESSAGING_SERVICE)
            try:
                again = await asyncio.wait_for(registrations.final_status(client, request.workflow_id), 90)
            except TimeoutError:
                stuck = await registrations.get_status(client, request.workflow_id)
                raise AssertionError(f"the reset run did not complete: {stuck.phase}, {stuck.problem}") from None

        assert again.phase == Phase.COMPLETED, again.problem
        assert (again.sids.messaging_service, again.sids.campaign) == (final.sids.messaging_service, final.sids.campaign)
        for kind in ("brands", "services", "campaigns", "customer_profiles", "trust_products"):
            assert len((await control.resources(kind, account_sid=sub))["resources"]) == 1, kind
        print(f"\ntwo resets (before the brand, before the service): one brand ({brand}), one service, one campaign")
