"""The client side of registrations: start (idempotently), inspect, correct, decide, cancel and
list them. The CLI, the HTTP service, the demo and the tests all go through here."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from a2p import search_attributes as sa
from a2p.progress import OperatorDecision, Phase, RegistrationStatus
from a2p.requests import Correction, LegacyConversionRequest, RegistrationRequest
from a2p.settings import Settings
from workflows import ConversionInput, LegacyConversion, NewRegistration, RegistrationInput


@dataclass(frozen=True)
class Started:
    workflow_id: str
    run_id: str | None
    created: bool  # False: the customer already had a registration, which is returned


async def start_registration(client: Client, settings: Settings, request: RegistrationRequest,
                             task_queue: str | None = None) -> Started:
    """Start the customer's registration, or return the one they already have."""
    inp = RegistrationInput(
        request=request,
        primary_customer_profile_sid=settings.a2p_primary_customer_profile_sid,
        status_callback_url=settings.status_callback_url(request.workflow_id),
        events_per_run=settings.a2p_events_per_run,
    )
    return await _start(client, NewRegistration.run, inp, request.workflow_id, request.isv_customer_id, "new",
                        task_queue or settings.temporal_task_queue,
                        f"A2P sole proprietor registration of ISV customer {request.isv_customer_id}")


async def start_conversion(client: Client, settings: Settings, request: LegacyConversionRequest,
                           task_queue: str | None = None) -> Started:
    """Start the conversion of the customer's legacy Starter brand, or return the one they have."""
    inp = ConversionInput(request=request, status_callback_url=settings.status_callback_url(request.workflow_id),
                          events_per_run=settings.a2p_events_per_run)
    return await _start(client, LegacyConversion.run, inp, request.workflow_id, request.isv_customer_id, "legacy",
                        task_queue or settings.temporal_task_queue,
                        f"Legacy Starter brand conversion of ISV customer {request.isv_customer_id}")


async def _start(client: Client, run, inp, workflow_id: str, isv_customer_id: str, flow: str,
                 task_queue: str, summary: str) -> Started:
    """The workflow id is derived from the ISV customer id: a second start never makes a second
    registration, whether the first is running or has ended."""
    try:
        handle = await client.start_workflow(
            run, inp, id=workflow_id, task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=_initial_search_attributes(isv_customer_id, flow),
            static_summary=summary,
        )
    except WorkflowAlreadyStartedError as err:
        return Started(workflow_id=workflow_id, run_id=err.run_id, created=False)
    return Started(workflow_id=workflow_id, run_id=handle.result_run_id, created=True)


def _initial_search_attributes(isv_customer_id: str, flow: str) -> TypedSearchAttributes:
    return TypedSearchAttributes([
        SearchAttributePair(sa.ISV_CUSTOMER_ID, isv_customer_id), SearchAttributePair(sa.FLOW, flow),
        SearchAttributePair(sa.PHASE, Phase.STARTED.value),
    ])


async def get_status(client: Client, workflow_id: str) -> RegistrationStatus:
    return await client.get_workflow_handle(workflow_id).query("status", result_type=RegistrationStatus)


async def final_status(client: Client, workflow_id: str) -> RegistrationStatus:
    """Wait for the registration to end; its result is its last status."""
    return await client.get_workflow_handle(workflow_id, result_type=RegistrationStatus).result()


class UpdateRefused(Exception):
    """The registration refused a correction or an action (its validator said why); nothing changed."""


async def _update(client: Client, workflow_id: str, name: str, *args: object) -> RegistrationStatus:
    try:
        return await client.get_workflow_handle(workflow_id).execute_update(
            name, *args, result_type=RegistrationStatus)
    except WorkflowUpdateFailedError as err:
        raise UpdateRefused(getattr(err.cause, "message", None) or str(err.cause or err)) from None


async def correct(client: Client, workflow_id: str, correction: Correction) -> RegistrationStatus:
    return await _update(client, workflow_id, "correct", correction)


async def decide(client: Client, workflow_id: str, decision: OperatorDecision) -> RegistrationStatus:
    return await _update(client, workflow_id, "decide", decision)


async def resend_otp(client: Client, workflow_id: str) -> RegistrationStatus:
    return await _update(client, workflow_id, "resend_otp")


async def cancel(client: Client, workflow_id: str, reason: str) -> RegistrationStatus:
    return await _update(client, workflow_id, "cancel", reason)


def visibility_query(phase: str | None = None, brand_status: str | None = None,
                     campaign_status: str | None = None, flow: str | None = None) -> str:
    clauses = ["WorkflowType IN ('NewRegistration', 'LegacyConversion')"]
    for key, value in ((sa.PHASE, phase), (sa.BRAND_STATUS, brand_status),
                       (sa.CAMPAIGN_STATUS, campaign_status), (sa.FLOW, flow)):
        if value:
            if not value.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"{key.name}: not a status: {value!r}")
            clauses.append(f"{key.name} = '{value}'")
    return " AND ".join(clauses)


def row(wf) -> dict:
    """One registration of a visibility listing: ids, phase and statuses (no PII)."""
    attrs = wf.typed_search_attributes
    return {
        "workflow_id": wf.id, "workflow_status": wf.status.name if wf.status else None,
        "flow": attrs.get(sa.FLOW), "isv_customer_id": attrs.get(sa.ISV_CUSTOMER_ID), "phase": attrs.get(sa.PHASE),
        "brand_status": attrs.get(sa.BRAND_STATUS), "identity_status": attrs.get(sa.IDENTITY_STATUS),
        "campaign_status": attrs.get(sa.CAMPAIGN_STATUS), "started_at": wf.start_time,
    }


async def list_registrations(client: Client, *, phase: str | None = None, brand_status: str | None = None,
                             campaign_status: str | None = None, flow: str | None = None,
                             limit: int = 100) -> list[dict]:
    query = visibility_query(phase, brand_status, campaign_status, flow)
    return [row(wf) async for wf in client.list_workflows(query, limit=limit)]
