"""Where registrations stand at a glance, for people: how many are in each phase (a visibility count
grouped by ``A2PPhase``), and one registration's status merged with what Temporal says of the
Twilio call it is on (pending activity: attempt, last failure, how long retries go on).

Used by the CLI (`a2p list --counts`, `a2p status`) and the service (`GET /`,
`GET /v1/registrations/counts`; :func:`router`)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from a2p import search_attributes as sa
from infra.codec import PayloadKeyMissing
from a2p.progress import Phase, RegistrationStatus
from starter.registrations import describe, get_status, visibility_query

SERVICE_NAME = "a2p-registrar"


def version() -> str:
    try:
        return metadata.version(SERVICE_NAME)
    except metadata.PackageNotFoundError:
        return "unknown"


# ---- counts per phase ------------------------------------------------------------------------------


class PhaseCounts(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{
        "counts": {"STARTED": 0, "CUSTOMER_PROFILE": 2, "TRUST_BUNDLE": 1, "BRAND_REVIEW": 4, "OTP_VERIFICATION": 7,
                   "CAMPAIGN": 3, "NEEDS_ATTENTION": 1, "OTP_EXPIRED": 0, "COMPLETED": 120, "FAILED": 2,
                   "CANCELLED": 1}, "total": 141}]}}

    counts: dict[str, int] = Field(description="registrations (and conversions) per A2PPhase; every phase is listed")
    total: int


async def count_by_phase(client: Client) -> PhaseCounts:
    """One visibility count grouped by A2PPhase; servers whose visibility store cannot group by a
    custom search attribute get one count per phase instead."""
    base = visibility_query()
    counts = {p.value: 0 for p in Phase}
    try:
        result = await client.count_workflows(f"{base} GROUP BY {sa.PHASE.name}")
        for group in result.groups:
            value = group.group_values[0] if group.group_values else None
            counts[str(value) if value is not None else "UNKNOWN"] = group.count
    except RPCError as err:
        if err.status not in (RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.UNIMPLEMENTED):
            raise
        phases = list(Phase)
        results = await asyncio.gather(*(client.count_workflows(f"{base} AND {sa.PHASE.name} = '{p.value}'")
                                         for p in phases))
        counts = {p.value: r.count for p, r in zip(phases, results, strict=True)}
    return PhaseCounts(counts=counts, total=sum(counts.values()))


def render_counts(counts: PhaseCounts) -> str:
    width = max(len(k) for k in counts.counts)
    lines = [f"{phase:<{width}}  {n:>6}" for phase, n in counts.counts.items()]
    return "\n".join(lines + [f"{'total':<{width}}  {counts.total:>6}"])


# ---- one registration: its status Query and its pending Twilio call ------------------------------


class PendingCall(BaseModel):
    """A Twilio call (activity) the registration is on, as Temporal's describe() shows it."""

    call: str = Field(description="the activity: the Twilio call's name")
    state: str
    attempt: int
    last_failure: str | None = Field(None, description="why the last attempt failed (Twilio's status and code)")
    last_failure_type: str | None = None
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    retries_until: datetime | None = Field(None, description="retries stop (and a person is asked) at this time")


class StatusView(BaseModel):
    status: RegistrationStatus
    running: bool
    workflow_status: str
    pending_calls: list[PendingCall] = Field(default_factory=list)


def _time(ts: Any) -> datetime | None:
    if ts is None or not ts.seconds:
        return None
    return ts.ToDatetime(tzinfo=timezone.utc)


def pending_calls(description: Any) -> list[PendingCall]:
    """The pending activities of a ``WorkflowExecutionDescription``."""
    from temporalio.api.enums.v1 import PendingActivityState

    out = []
    for pa in description.raw_description.pending_activities:
        failure = pa.last_failure if pa.HasField("last_failure") else None
        out.append(PendingCall(
            call=pa.activity_type.name,
            state=PendingActivityState.Name(pa.state).removeprefix("PENDING_ACTIVITY_STATE_"),
            attempt=pa.attempt,
            last_failure=failure.message if failure is not None else None,
            last_failure_type=(failure.application_failure_info.type or None) if failure is not None else None,
            last_attempt_at=_time(pa.last_started_time if pa.HasField("last_started_time") else None),
            next_attempt_at=_time(pa.next_attempt_schedule_time if pa.HasField("next_attempt_schedule_time")
                                  else None),
            retries_until=_time(pa.expiration_time if pa.HasField("expiration_time") else None),
        ))
    return out


async def status_view(client: Client, workflow_id: str) -> StatusView:
    status, desc = await asyncio.gather(get_status(client, workflow_id), describe(client, workflow_id))
    name = desc.status.name if desc.status is not None else "UNKNOWN"
    return StatusView(status=status, running=name == "RUNNING", workflow_status=name,
                      pending_calls=pending_calls(desc))


def _ago(t: datetime | None, now: datetime) -> str:
    if t is None:
        return ""
    s = int((t - now).total_seconds())
    word = "in" if s >= 0 else "ago"
    s = abs(s)
    span = f"{s}s" if s < 120 else f"{s // 60}m" if s < 7200 else f"{s // 3600}h" if s < 172800 else f"{s // 86400}d"
    return f"in {span}" if word == "in" else f"{span} ago"


def render_status(view: StatusView, web_ui: str | None = None, now: datetime | None = None) -> str:
    """A compact view for a person (the whole document: ``--json``)."""
    now = now or datetime.now(timezone.utc)
    s = view.status
    lines = [f"{s.workflow_id}  ({s.flow}, ISV customer {s.isv_customer_id})",
             f"  phase      {s.phase.value}" + ("" if view.running else f"  (workflow {view.workflow_status})")]
    if s.waiting_for:
        timer = f" — next check {_ago(s.next_timer_at, now)}" if s.next_timer_at else ""
        lines.append(f"  waiting    {s.waiting_for}{timer}")
    statuses = [f"{k.replace('_', ' ')} {v}" for k, v in s.statuses.model_dump().items() if v]
    if statuses:
        lines.append("  statuses   " + ", ".join(statuses))
    sids = [f"{k.replace('_', ' ')} {v}" for k, v in s.sids.model_dump().items()
            if v and k in ("customer_profile", "trust_bundle", "brand", "messaging_service", "campaign")]
    if sids:
        lines.append("  SIDs       " + ", ".join(sids))
    if s.otp.sent:
        otp = f"  OTP        sent {s.otp.sent}x"
        if s.otp.verified_at:
            otp += ", verified"
        elif s.otp.deadline_at:
            otp += f", deadline {_ago(s.otp.deadline_at, now)}"
        lines.append(otp)
    for call in view.pending_calls:
        line = f"  calling    {call.call} (attempt {call.attempt}"
        line += f", next {_ago(call.next_attempt_at, now)}" if call.next_attempt_at else ""
        line += f", retried for up to {_ago(call.retries_until, now).removeprefix('in ')} more)" \
            if call.retries_until and call.retries_until > now else ")"
        lines.append(line)
        if call.last_failure:
            lines.append(f"             last failure: {call.last_failure}")
    if s.problem:
        lines.append(f"  problem    {s.problem.summary}")
        lines += [f"             {e}" for e in s.problem.explanations]
        if s.problem.remedy:
            lines.append(f"  remedy     {s.problem.remedy}")
        if view.running and s.problem.accepts:
            fields = f" ({', '.join(s.problem.correction_fields)})" if s.problem.correction_fields else ""
            lines.append("  accepts    " + ", ".join(f"{a}{fields}" if a == "correction" else a
                                                     for a in s.problem.accepts))
    if s.timeline:
        last = s.timeline[-1]
        lines.append(f"  latest     {last.note} ({_ago(last.at, now)})")
    if web_ui:
        lines.append(f"  Web UI     {web_ui}")
    return "\n".join(lines)


# ---- the service's routes --------------------------------------------------------------------------


def install(app: FastAPI, api_dependencies: list[Any]) -> None:
    """What this module adds to the service: its routes (before ``/v1/registrations/{workflow_id}``,
    so that "counts" is not taken for a workflow id), and a payload it cannot decrypt answered
    with what to set instead of a bare 500."""
    app.include_router(router(api_dependencies))

    @app.exception_handler(PayloadKeyMissing)
    async def _undecryptable(request: Request, exc: PayloadKeyMissing) -> JSONResponse:
        return JSONResponse(status_code=500, content={"error": "cannot decrypt the registration's payloads",
                                                      "reason": str(exc)})


def router(api_dependencies: list[Any]) -> APIRouter:
    """``GET /`` (name, version, links; no key needed) and ``GET /v1/registrations/counts``.
    Include it before the ``/v1/registrations/{workflow_id}`` route, so that "counts" is not taken
    for a workflow id."""
    r = APIRouter()

    @r.get("/", include_in_schema=False)
    async def root(request: Request) -> dict[str, Any]:
        base = str(request.base_url).rstrip("/")
        return {"name": SERVICE_NAME, "version": version(),
                "links": {"docs": f"{base}/docs", "redoc": f"{base}/redoc", "openapi": f"{base}/openapi.json",
                          "registrations": f"{base}/v1/registrations", "counts": f"{base}/v1/registrations/counts",
                          "health": f"{base}/healthz"}}

    @r.get("/v1/registrations/counts", response_model=PhaseCounts, dependencies=api_dependencies,
           summary="Count registrations per phase")
    async def counts(request: Request) -> PhaseCounts:
        """How many registrations (and legacy conversions) are in each phase, from Temporal's
        visibility store (search attribute `A2PPhase`); every phase is listed, with 0 where none is."""
        from starter.api import _api
        from starter.registrations import RPC_TIMEOUT, bounded

        return await _api(bounded(count_by_phase(request.app.state.client), RPC_TIMEOUT * 2))

    return r
