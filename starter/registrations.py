"""The client side of registrations: start (idempotently), inspect, correct, decide, cancel and
list them. The CLI, the HTTP service, the demo and the tests all go through here."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import (
    Client, RPCTimeoutOrCancelledError, WorkflowUpdateFailedError, WorkflowUpdateStage,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.common import (
    SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from a2p import search_attributes as sa
from a2p.progress import OperatorDecision, Phase, RegistrationStatus
from a2p.requests import Correction, LegacyConversionRequest, RegistrationRequest
from infra.settings import Settings
from workflows import ConversionInput, LegacyConversion, NewRegistration, RegistrationInput


T = TypeVar("T")

# Every call to Temporal is bounded: an answer, or an error saying why not, within these. With no
# worker running, a Query or an Update is answered within QUERY_TIMEOUT (or ADMISSION_TIMEOUT) plus
# WORKER_CHECK_TIMEOUT: at most 9 s, by construction.
RPC_TIMEOUT = timedelta(seconds=8)          # one call that needs no worker: start, describe, list, signal
QUERY_TIMEOUT = timedelta(seconds=6)        # a Query (a worker answers in milliseconds)
ADMISSION_TIMEOUT = timedelta(seconds=6)    # an Update accepted or refused by its validator (on a worker)
WORKER_CHECK_TIMEOUT = timedelta(seconds=3)  # then: is any worker polling the registration's task queue?
UPDATE_TIMEOUT = timedelta(seconds=20)      # an accepted Update applied; later: "accepted, being applied"


class NotAnswered(Exception):
    """Temporal took the call but nobody answered in time — usually because no worker is running.

    ``may_apply_later``: an Update or Signal that reached Temporal may still be applied when a
    worker comes back (a Query never is)."""

    def __init__(self, what: str, *, no_worker: bool | None, may_apply_later: bool) -> None:
        self.no_worker, self.may_apply_later = no_worker, may_apply_later
        who = ("no worker is running (no worker polls the registration's task queue)" if no_worker else
               "the registration's worker did not answer in time")
        later = (f"; the {what} was sent and may still be applied when a worker runs again" if may_apply_later
                 else "; nothing was changed")
        super().__init__(who + later)


async def bounded(awaitable: Awaitable[T], timeout: timedelta = RPC_TIMEOUT) -> T:
    """``awaitable`` within ``timeout`` (the SDK's own retries of an unreachable frontend included):
    a DEADLINE_EXCEEDED :class:`RPCError` otherwise."""
    try:
        return await asyncio.wait_for(awaitable, timeout.total_seconds())
    except asyncio.TimeoutError:
        raise RPCError("no answer from Temporal in time", RPCStatusCode.DEADLINE_EXCEEDED, b"") from None


async def _no_worker(client: Client, workflow_id: str) -> bool | None:
    """Whether the workflow's task queue has no worker polling it (None: could not tell)."""
    async def check() -> bool:
        desc = await client.get_workflow_handle(workflow_id).describe(rpc_timeout=WORKER_CHECK_TIMEOUT)
        resp = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=desc.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW), timeout=WORKER_CHECK_TIMEOUT)
        return not resp.pollers

    try:
        return await bounded(check(), WORKER_CHECK_TIMEOUT)
    except Exception:  # noqa: BLE001 - only the wording of the answer depends on it
        return None


def _timed_out(err: BaseException) -> bool:
    """Out of time: our own bound or the server's (DEADLINE_EXCEEDED), or the call's rpc_timeout,
    which the SDK's core reports as CANCELLED "Timeout expired" (the SDK reads it so for Updates too)."""
    return isinstance(err, RPCTimeoutOrCancelledError) or (
        isinstance(err, RPCError) and err.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED))


def _no_poller(err: BaseException) -> bool:
    """The server's own "no worker" answer to a Query (no poller seen lately on the task queue)."""
    return isinstance(err, RPCError) and err.status == RPCStatusCode.FAILED_PRECONDITION and "poller" in err.message


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
        handle = await bounded(client.start_workflow(
            run, inp, id=workflow_id, task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=_initial_search_attributes(isv_customer_id, flow),
            static_summary=summary, rpc_timeout=RPC_TIMEOUT,
        ))
    except WorkflowAlreadyStartedError as err:
        return Started(workflow_id=workflow_id, run_id=err.run_id, created=False)
    return Started(workflow_id=workflow_id, run_id=handle.result_run_id, created=True)


def _initial_search_attributes(isv_customer_id: str, flow: str) -> TypedSearchAttributes:
    return TypedSearchAttributes([
        SearchAttributePair(sa.ISV_CUSTOMER_ID, isv_customer_id), SearchAttributePair(sa.FLOW, flow),
        SearchAttributePair(sa.PHASE, Phase.STARTED.value),
    ])


async def get_status(client: Client, workflow_id: str) -> RegistrationStatus:
    """The ``status`` Query; :class:`NotAnswered` when no worker answers it in time."""
    try:
        return await bounded(client.get_workflow_handle(workflow_id).query(
            "status", result_type=RegistrationStatus, rpc_timeout=QUERY_TIMEOUT), QUERY_TIMEOUT)
    except (RPCError, RPCTimeoutOrCancelledError) as err:
        if _no_poller(err):
            raise NotAnswered("query", no_worker=True, may_apply_later=False) from None
        if _timed_out(err):
            raise NotAnswered("query", no_worker=await _no_worker(client, workflow_id), may_apply_later=False) from None
        raise


async def describe(client: Client, workflow_id: str):
    return await bounded(client.get_workflow_handle(workflow_id).describe(rpc_timeout=RPC_TIMEOUT))


async def signal(client: Client, workflow_id: str, name: str, arg: object) -> None:
    """A Signal: recorded by Temporal (no worker needed), applied when the worker next runs."""
    await bounded(client.get_workflow_handle(workflow_id).signal(name, arg, rpc_timeout=RPC_TIMEOUT))


async def final_status(client: Client, workflow_id: str) -> RegistrationStatus:
    """Wait for the registration to end; its result is its last status."""
    return await client.get_workflow_handle(workflow_id, result_type=RegistrationStatus).result()


# How long an Update is re-sent while Temporal answers "workflow not ready" (the workflow task that
# was to take it failed or timed out, e.g. on an overloaded worker): nothing was applied, so it is safe.
UPDATE_ADMISSION_BUDGET = timedelta(seconds=20)


def _not_ready(err: RPCError) -> bool:
    """Temporal's retryable answer to an Update whose workflow task failed before accepting it."""
    try:
        details = [d.type_url for d in err.grpc_status.details]
    except Exception:  # noqa: BLE001 - an unparsable status falls back to the message
        details = []
    return any(d.endswith("WorkflowNotReadyFailure") for d in details) or "workflow task failure" in err.message


class UpdateRefused(Exception):
    """The registration refused a correction or an action (its validator said why); nothing changed.
    ``accepts`` / ``correction_fields``: what it accepts instead (besides cancel), when it said so."""

    def __init__(self, reason: str, accepts: list[str] | None = None,
                 correction_fields: list[str] | None = None) -> None:
        super().__init__(reason)
        self.accepts, self.correction_fields = accepts, correction_fields


class BeingApplied(Exception):
    """The registration accepted the action, whose effect was still being applied when the bound
    ran out (e.g. its Twilio call retried while Twilio answers 5xx): it will be applied, nothing to
    send again. ``status``: the registration's status so far (None if it could not be read)."""

    def __init__(self, what: str, status: RegistrationStatus | None) -> None:
        super().__init__(f"the {what} was accepted by the registration and is still being applied; "
                         "its status shows when it is done (do not send it again)")
        self.status = status


def _refused(err: WorkflowUpdateFailedError) -> UpdateRefused:
    cause = err.cause
    details = cause.details[0] if isinstance(cause, ApplicationError) and cause.details else None
    said = details if isinstance(details, dict) else {}
    return UpdateRefused(getattr(cause, "message", None) or str(cause or err),
                         said.get("accepts"), said.get("correction_fields"))


async def _update(client: Client, workflow_id: str, name: str, *args: object,
                  applied_within: timedelta = UPDATE_TIMEOUT) -> RegistrationStatus:
    """An Update: accepted (its validator ran on a worker) within ADMISSION_TIMEOUT, then applied
    within ``applied_within``. :class:`UpdateRefused` when the registration refuses it,
    :class:`NotAnswered` when no worker accepts it in time (it may still be applied later),
    :class:`BeingApplied` when it was accepted but its effect is not done in time."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        loop = asyncio.get_running_loop()
        give_up_at, delay = loop.time() + UPDATE_ADMISSION_BUDGET.total_seconds(), 0.2
        while True:
            try:
                update = await bounded(handle.start_update(
                    name, *args, wait_for_stage=WorkflowUpdateStage.ACCEPTED, result_type=RegistrationStatus,
                    rpc_timeout=ADMISSION_TIMEOUT), ADMISSION_TIMEOUT)
                break
            except RPCError as err:
                if not _not_ready(err) or loop.time() + delay > give_up_at:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 3.0)
    except WorkflowUpdateFailedError as err:
        raise _refused(err) from None
    except (RPCError, RPCTimeoutOrCancelledError) as err:
        if _timed_out(err):
            raise NotAnswered("update", no_worker=await _no_worker(client, workflow_id),
                              may_apply_later=True) from None
        raise
    try:  # accepted: from here on it is applied, whatever the caller hears
        return await bounded(update.result(rpc_timeout=applied_within), applied_within)
    except WorkflowUpdateFailedError as err:
        raise _refused(err) from None
    except (RPCError, RPCTimeoutOrCancelledError) as err:
        if not _timed_out(err):
            raise
    try:
        status: RegistrationStatus | None = await get_status(client, workflow_id)
    except Exception:  # noqa: BLE001 - the answer says it was accepted either way
        status = None
    raise BeingApplied(_ACTIONS.get(name, name), status) from None


_ACTIONS = {"correct": "correction", "decide": "decision", "resend_otp": "OTP re-send", "cancel": "cancel"}


async def correct(client: Client, workflow_id: str, correction: Correction, *,
                  applied_within: timedelta = UPDATE_TIMEOUT) -> RegistrationStatus:
    return await _update(client, workflow_id, "correct", correction, applied_within=applied_within)


async def decide(client: Client, workflow_id: str, decision: OperatorDecision, *,
                 applied_within: timedelta = UPDATE_TIMEOUT) -> RegistrationStatus:
    return await _update(client, workflow_id, "decide", decision, applied_within=applied_within)


async def resend_otp(client: Client, workflow_id: str, *,
                     applied_within: timedelta = UPDATE_TIMEOUT) -> RegistrationStatus:
    return await _update(client, workflow_id, "resend_otp", applied_within=applied_within)


async def cancel(client: Client, workflow_id: str, reason: str, *,
                 applied_within: timedelta = UPDATE_TIMEOUT) -> RegistrationStatus:
    return await _update(client, workflow_id, "cancel", reason, applied_within=applied_within)


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

    async def rows() -> list[dict]:
        return [row(wf) async for wf in client.list_workflows(query, limit=limit, rpc_timeout=RPC_TIMEOUT)]

    return await bounded(rows(), RPC_TIMEOUT * 3)
