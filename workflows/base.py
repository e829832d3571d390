"""What every registration workflow shares: its visible state (Query, search attributes, current
details, timeline), the Twilio events it is signalled with, the operator's updates, and the
phases both flows end with — brand review, OTP verification, campaign.

Deterministic: no I/O, no `twilio`, no wall clock. Twilio is reached only through activities,
scheduled by name (`a2p.calls.Call`) with the options of `workflows.policies`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from a2p import metrics
    from a2p import search_attributes as sa
    from a2p.calls import (
        BrandRef, BrandState, Call, CampaignRef, CampaignState, CreateCampaign,
        CreateMessagingService, AddPhoneNumber, Created, ErrorType, MayRepeat, TwilioError, friendly_name,
    )
    from a2p.constants import explain
    from a2p.progress import (
        BrandEvent, BundleEvent, CampaignEvent, OperatorDecision, Phase, Problem,
        RegistrationStatus, TERMINAL_PHASES, TimelineEntry,
    )
    from a2p.requests import CampaignDetails, Correction, MessagingServiceSpec
    from a2p.timings import Timings, human_duration
    from workflows.policies import CALL_OPTIONS, OTP_TASK_QUEUE_SUFFIX

T = TypeVar("T", bound=BaseModel)

MAX_TIMELINE = 200
MAX_SEEN_EVENTS = 64


class Cancelled(Exception):
    """An operator cancelled the registration."""


class Ended(Exception):
    """An operator decided to end a registration that cannot go on by itself."""


class RegistrationBase:
    """Not a workflow by itself: `NewRegistration` and `LegacyConversion` extend it."""

    # Set by the subclass's run() before anything else.
    status: RegistrationStatus
    timings: Timings
    subaccount_sid: str | None

    def _init_state(self, *, workflow_id: str, isv_customer_id: str, flow: str,
                    timings: Timings, subaccount_sid: str | None) -> None:
        self.status = RegistrationStatus(
            workflow_id=workflow_id, isv_customer_id=isv_customer_id, flow=flow,  # type: ignore[arg-type]
            started_at=workflow.now(),
        )
        self.timings = timings
        self.subaccount_sid = subaccount_sid
        self._corrections: list[Correction] = []
        self._decisions: list[OperatorDecision] = []
        self._resend_requested = False
        self._cancel_reason: str | None = None
        self._seen_events: list[str] = []
        self._brand_event_at: datetime | None = None
        self._campaign_event_at: datetime | None = None
        self._nudged = False
        self._published: dict[str, str | None] = {}
        self._bundle_failure: dict[str, str] = {}
        self._brand_errors: list[TwilioError] = []
        self._campaign_errors: list[TwilioError] = []

    # ---- Query, signals, updates ------------------------------------------------------------

    @workflow.query(name="status")
    def get_status(self) -> RegistrationStatus:
        return self.status

    @workflow.signal(name="bundle_event")
    def on_bundle_event(self, event: BundleEvent) -> None:
        """Trust Hub status_callback. Only this carries the detailed failure reason."""
        sids = self.status.sids
        if event.bundle_sid == sids.customer_profile:
            kind = "customer_profile"
        elif event.bundle_sid == sids.trust_bundle:
            kind = "trust_bundle"
        else:
            return
        setattr(self.status.statuses, kind, event.status)
        if event.status == "twilio-rejected" and event.failure_reason:
            self._bundle_failure[kind] = event.failure_reason
        self._note(f"{kind.replace('_', ' ')} is {event.status} (webhook)")
        self._nudged = True
        self._publish()

    @workflow.signal(name="brand_event")
    def on_brand_event(self, event: BrandEvent) -> None:
        if event.brand_sid != self.status.sids.brand or not self._first_sight(event.event_id):
            return
        if self._brand_event_at and event.occurred_at < self._brand_event_at:
            return  # stale: a newer event was applied already
        self._brand_event_at = event.occurred_at
        st = self.status.statuses
        st.brand = event.status or st.brand
        st.identity = event.identity_status or st.identity
        if event.errors:
            self._brand_errors = list(event.errors)
        self._nudged = True
        self._publish()

    @workflow.signal(name="campaign_event")
    def on_campaign_event(self, event: CampaignEvent) -> None:
        if event.campaign_sid != self.status.sids.campaign or not self._first_sight(event.event_id):
            return
        if self._campaign_event_at and event.occurred_at < self._campaign_event_at:
            return
        self._campaign_event_at = event.occurred_at
        self.status.statuses.campaign = event.status or self.status.statuses.campaign
        if event.errors:
            self._campaign_errors = list(event.errors)
        self._nudged = True
        self._publish()

    @workflow.update(name="correct")
    async def correct(self, correction: Correction) -> RegistrationStatus:
        """Fix what Twilio rejected. Applied by the workflow right after it is accepted."""
        self._corrections.append(correction)
        await workflow.wait_condition(lambda: not self._corrections)
        return self.status

    @correct.validator
    def _validate_correction(self, correction: Correction) -> None:
        problem = self.status.problem
        if self.status.phase != Phase.NEEDS_ATTENTION or problem is None or not problem.remedy.startswith("correction"):
            raise ApplicationError(
                f"nothing to correct: the registration is {self.status.phase}"
                + (f" ({problem.summary})" if problem else ""),
                non_retryable=True,
            )
        self._check_correction(correction)

    def _check_correction(self, correction: Correction) -> None:
        """Subclasses refuse corrections that cannot apply to them (raise ApplicationError)."""

    @workflow.update(name="decide")
    def decide(self, decision: OperatorDecision) -> RegistrationStatus:
        self._decisions.append(decision)
        return self.status

    @decide.validator
    def _validate_decision(self, decision: OperatorDecision) -> None:
        phase = self.status.phase
        allowed = {
            Phase.OTP_EXPIRED: {"resend_otp_and_wait", "end"},
            Phase.NEEDS_ATTENTION: {"retry", "end"},
        }.get(phase, set())
        if decision.action not in allowed:
            raise ApplicationError(
                f"'{decision.action}' is not possible while the registration is {phase}"
                + (f"; possible: {', '.join(sorted(allowed))}" if allowed else ""),
                non_retryable=True,
            )

    @workflow.update(name="resend_otp")
    def request_otp_resend(self) -> RegistrationStatus:
        self._resend_requested = True
        return self.status

    @request_otp_resend.validator
    def _validate_resend(self) -> None:
        if self.status.phase not in (Phase.OTP_VERIFICATION, Phase.OTP_EXPIRED):
            raise ApplicationError(
                f"an OTP can be re-sent only while waiting for verification, not in {self.status.phase}",
                non_retryable=True,
            )

    @workflow.update(name="cancel")
    def cancel(self, reason: str) -> RegistrationStatus:
        self._cancel_reason = reason or "cancelled by an operator"
        return self.status

    @cancel.validator
    def _validate_cancel(self, reason: str) -> None:
        if self.status.phase in TERMINAL_PHASES:
            raise ApplicationError(f"the registration has already ended ({self.status.phase})", non_retryable=True)

    # ---- visible state --------------------------------------------------------------------

    def _first_sight(self, event_id: str) -> bool:
        if event_id in self._seen_events:
            return False
        self._seen_events = (self._seen_events + [event_id])[-MAX_SEEN_EVENTS:]
        return True

    def _note(self, note: str) -> None:
        entries = self.status.timeline
        entries.append(TimelineEntry(at=workflow.now(), phase=self.status.phase, note=note))
        if len(entries) > MAX_TIMELINE:
            del entries[: len(entries) - MAX_TIMELINE]

    def _enter(self, phase: Phase, note: str) -> None:
        if phase != self.status.phase:
            self.status.phase = phase
        self._note(note)
        self._publish()

    def _publish(self) -> None:
        """Search attributes and current details, upserted only when they change."""
        st, sids = self.status.statuses, self.status.sids
        wanted: dict[str, str | None] = {
            sa.PHASE.name: self.status.phase.value,
            sa.FLOW.name: self.status.flow,
            sa.ISV_CUSTOMER_ID.name: self.status.isv_customer_id,
            sa.BRAND_STATUS.name: st.brand,
            sa.IDENTITY_STATUS.name: st.identity,
            sa.CAMPAIGN_STATUS.name: st.campaign,
            sa.BRAND_SID.name: sids.brand,
            sa.CAMPAIGN_SID.name: sids.campaign,
        }
        keys = {k.name: k for k in sa.ALL}
        updates = [
            keys[name].value_set(value) if value is not None else keys[name].value_unset()
            for name, value in wanted.items()
            if self._published.get(name) != value
        ]
        if updates:
            workflow.upsert_search_attributes(updates)
            self._published = wanted
        workflow.set_current_details(self._details())

    def _details(self) -> str:
        s = self.status
        lines = [f"**{s.phase.value}**" + (f" — waiting for {s.waiting_for}" if s.waiting_for else "")]
        if s.next_timer_at:
            lines.append(f"next check: {s.next_timer_at.isoformat()}")
        st = s.statuses
        lines.append(
            f"profile: {st.customer_profile or '-'} · trust bundle: {st.trust_bundle or '-'} · "
            f"brand: {st.brand or '-'}/{st.identity or '-'} · campaign: {st.campaign or '-'}"
        )
        if s.otp.sent:
            lines.append(f"OTP sent {s.otp.sent}x, deadline {s.otp.deadline_at.isoformat() if s.otp.deadline_at else '-'}")
        if s.problem:
            lines.append(f"problem: {s.problem.summary}; remedy: {s.problem.remedy}")
        return "\n\n".join(lines)

    # ---- Twilio calls -------------------------------------------------------------------

    async def _call(self, call: Call, arg: BaseModel, result_type: type[T] | Any, summary: str) -> T:
        """Run one Twilio call. A rejection (4xx) parks the registration for a person, who may
        retry (after fixing something outside, e.g. the ISV's primary profile) or end it."""
        opts = CALL_OPTIONS[call]
        info = workflow.info()
        queue = info.task_queue + OTP_TASK_QUEUE_SUFFIX if opts.rate_limited_queue else None
        # A reset (or continued) run may repeat what an earlier run made: its creates look first.
        repeated = not (info.run_id == info.first_execution_run_id == info.original_execution_run_id)
        while True:
            self._check_cancelled()
            if repeated and isinstance(arg, MayRepeat):
                arg = arg.model_copy(update={"maybe_repeated": True, "since": self.status.started_at})
            try:
                return await workflow.execute_activity(
                    str(call), arg, result_type=result_type, task_queue=queue,
                    start_to_close_timeout=self.timings.call_timeout * opts.call_timeout_factor,
                    schedule_to_close_timeout=opts.schedule_to_close,
                    retry_policy=opts.retry, summary=summary,
                )
            except ActivityError as err:
                cause = err.cause
                rejected = isinstance(cause, ApplicationError) and cause.type == ErrorType.REJECTED
                twilio_error = _twilio_error(cause)
                problem = Problem(
                    source=str(call),
                    summary=f"{summary}: " + (twilio_error.message if twilio_error else str(cause or err)),
                    errors=[twilio_error] if twilio_error else [],
                    explanations=_explanations([twilio_error] if twilio_error else []),
                    remedy="operator decision: retry or end",
                )
                self.status.last_error = problem
                if not rejected:
                    problem.summary = f"{summary}: Twilio unavailable for too long ({cause})"
                await self._attention(problem)  # returns on "retry"
                repeated = True  # the failed call may have reached Twilio before it timed out

    # ---- waiting ----------------------------------------------------------------------

    def _check_cancelled(self) -> None:
        if self._cancel_reason is not None:
            raise Cancelled(self._cancel_reason)

    async def _wait(self, condition: Callable[[], bool], timeout: timedelta | None, summary: str) -> bool:
        """Wait for ``condition`` (or a cancel) at most ``timeout``; True if the condition holds."""
        self.status.next_timer_at = workflow.now() + timeout if timeout is not None else None
        self._publish()
        try:
            await workflow.wait_condition(
                lambda: condition() or self._cancel_reason is not None,
                timeout=timeout, timeout_summary=summary,
            )
        except asyncio.TimeoutError:
            pass
        finally:
            self.status.next_timer_at = None
        self._check_cancelled()
        return condition()

    async def _settle(self, what: str) -> None:
        """The seed's 30 s wait after a submission, for synchronous validation errors to surface."""
        secs = int(self.timings.settle_wait.total_seconds())
        self.status.waiting_for = f"{what} validation ({secs} s settle wait)"
        await self._wait(lambda: False, self.timings.settle_wait, f"wait {secs} s for {what} validation")
        self.status.waiting_for = None

    async def _follow(self, waiting_for: str, done: Callable[[], bool], poll: Callable[[], Any],
                      poll_summary: str) -> None:
        """Wait until ``done()``: webhook signals first, status polls as the fallback, with
        delays growing from poll_initial to poll_max (never a tight loop, bounded history)."""
        delays = self.timings.poll_delays()
        self.status.waiting_for = waiting_for
        while not done():
            self._nudged = False
            delay = next(delays)
            if await self._wait(lambda: done() or self._nudged, delay, f"next {poll_summary} poll"):
                continue  # done, or a webhook told us something (not necessarily the end): check again
            if not self._nudged:
                await poll()
        self.status.waiting_for = None

    async def _attention(self, problem: Problem) -> Correction | None:
        """Park in NEEDS_ATTENTION until a correction (returned) or an operator decision arrives:
        'retry' returns None, 'end' raises Ended."""
        problem.at = workflow.now()
        previous = self.status.phase
        self.status.problem = problem
        self.status.waiting_for = problem.remedy
        self._enter(Phase.NEEDS_ATTENTION, problem.summary)
        self._corrections.clear()
        self._decisions.clear()
        await self._wait(lambda: bool(self._corrections or self._decisions), None, "wait for a person")
        self.status.problem = None
        self.status.waiting_for = None
        if self._decisions:
            decision = self._decisions.pop(0)
            if decision.action == "end":
                raise Ended(decision.reason or problem.summary)
            self._enter(previous, "operator asked to retry")
            return None
        correction = self._corrections[0]
        self._enter(previous, "correction received")
        return correction

    def _correction_applied(self) -> None:
        """Completes the pending `correct` update."""
        self._corrections.clear()

    # ---- brand review -------------------------------------------------------------------

    async def _fetch_brand(self) -> BrandState:
        brand = await self._call(
            Call.FETCH_BRAND, BrandRef(subaccount_sid=self.subaccount_sid, brand_sid=self.status.sids.brand),
            BrandState, "fetch brand status",
        )
        self._apply_brand(brand)
        return brand

    def _apply_brand(self, brand: BrandState) -> None:
        self.status.statuses.brand = brand.status
        self.status.statuses.identity = brand.identity_status
        if brand.errors:
            self._brand_errors = list(brand.errors)
        self._publish()

    async def _brand_approved(self, remediate: Callable[[Correction | None], Any]) -> None:
        """Follow the brand until APPROVED; a FAILED brand waits for a correction, which
        ``remediate`` applies before the brand is updated (at most 3 times)."""
        while True:
            self._enter(Phase.BRAND_REVIEW, "waiting for the brand review")
            await self._follow(
                "brand review (APPROVED or FAILED)",
                lambda: self.status.statuses.brand not in (None, "PENDING", "IN_REVIEW"),
                self._fetch_brand, "brand status",
            )
            brand_status = self.status.statuses.brand
            if brand_status == "APPROVED":
                self._note("brand APPROVED")
                return
            if brand_status == "FAILED":
                await self._brand_failed(remediate)
                continue
            # SUSPENDED, DELETION_*, EXPIRED or a status we don't know: a person must look.
            correction = await self._attention(Problem(
                source="brand", summary=f"brand is {brand_status}",
                errors=list(self._brand_errors), explanations=_explanations(self._brand_errors),
                remedy="operator decision: retry (re-check the brand) or end; SUSPENDED needs Twilio Support",
            ))
            if correction is None:
                await self._fetch_brand()

    async def _brand_failed(self, remediate: Callable[[Correction | None], Any]) -> None:
        errors = list(self._brand_errors)
        updates_left = 3 - self.status.brand_updates_used
        reasons = [f"{k.replace('_', ' ')} rejected: {r}" for k, r in self._bundle_failure.items()]
        summary = "brand FAILED: " + "; ".join([e.message for e in errors] + reasons or ["no reason given"])
        if updates_left <= 0:
            raise_ended = await self._attention(Problem(
                source="brand", summary=summary + " — no self-service brand updates left (3 used)",
                errors=errors, explanations=_explanations(errors),
                remedy="operator decision: end (contact Twilio Support), or retry after Support fixed it",
            ))
            if raise_ended is None:
                await self._fetch_brand()
            return
        correction = await self._attention(Problem(
            source="brand", summary=summary, errors=errors, explanations=_explanations(errors),
            remedy=f"correction of the customer's details, then the brand is updated ({updates_left} update(s) left)",
        ))
        await remediate(correction)
        brand = await self._call(
            Call.UPDATE_BRAND, BrandRef(subaccount_sid=self.subaccount_sid, brand_sid=self.status.sids.brand),
            BrandState, f"update brand ({self.status.brand_updates_used + 1} of 3)",
        )
        self.status.brand_updates_used += 1
        self._brand_errors = []
        self._bundle_failure.clear()
        self._apply_brand(brand)
        self._note(f"brand updated, now {brand.status}")
        self._correction_applied()
        await self._settle("brand update")

    # ---- OTP --------------------------------------------------------------------------------

    async def _otp_verified(self, registered_at: datetime) -> None:
        """The customer must reply YES to the OTP: re-send every otp_resend_interval, watch the
        otp_deadline from brand registration, let an operator decide when it passes."""
        otp = self.status.otp
        if self.status.statuses.identity in ("VERIFIED", "VETTED_VERIFIED"):
            # The customer answered (the webhook said so) before the workflow got here.
            otp.sent = max(otp.sent, 1)  # the first OTP goes out when the brand is approved
            otp.verified_at = otp.verified_at or workflow.now()
            self._note("OTP verified: brand is VERIFIED")
            return
        self._enter(Phase.OTP_VERIFICATION, "brand approved: OTP sent to the customer's mobile number")
        now = workflow.now()
        otp.sent, otp.last_sent_at = max(otp.sent, 1), otp.last_sent_at or now
        otp.deadline_at = otp.deadline_at or registered_at + self.timings.otp_deadline
        delays = self.timings.poll_delays()
        next_poll = now + next(delays)
        self.status.waiting_for = "the customer to reply YES to the OTP"

        def verified() -> bool:
            return self.status.statuses.identity in ("VERIFIED", "VETTED_VERIFIED")

        while not verified():
            otp.next_resend_at = otp.last_sent_at + self.timings.otp_resend_interval
            if self.status.statuses.brand == "EXPIRED" or workflow.now() >= otp.deadline_at:
                await self._otp_expired()
                continue
            wake = min(next_poll, otp.next_resend_at, otp.deadline_at)
            self._nudged = False
            await self._wait(
                lambda: verified() or self._resend_requested or self._nudged,
                max(wake - workflow.now(), timedelta(0)), "OTP: next re-send, poll or deadline",
            )
            if verified():
                break
            now = workflow.now()
            if self._resend_requested or now >= otp.next_resend_at:
                await self._resend_otp()
            if now >= next_poll and not self._nudged:
                await self._fetch_brand()
                next_poll = workflow.now() + next(delays)
        otp.verified_at, otp.next_resend_at = workflow.now(), None
        self.status.waiting_for = None
        self._note("OTP verified: brand is VERIFIED")

    async def _resend_otp(self) -> None:
        otp = self.status.otp
        self._resend_requested = False
        await self._call(
            Call.RESEND_OTP, BrandRef(subaccount_sid=self.subaccount_sid, brand_sid=self.status.sids.brand),
            Created, f"OTP re-send {otp.resends + 1}",
        )
        otp.resends += 1
        otp.sent += 1
        self._count(metrics.OTP_RESENDS)
        otp.last_sent_at = workflow.now()
        self._note(f"OTP re-sent ({otp.resends})")

    async def _otp_expired(self) -> None:
        otp = self.status.otp
        expired_by_tcr = self.status.statuses.brand == "EXPIRED"
        self.status.problem = Problem(
            source="otp", at=workflow.now(),
            summary=("TCR expired the brand: it must be deleted and registered again" if expired_by_tcr else
                     f"the customer did not verify the OTP within {human_duration(self.timings.otp_deadline)}"),
            remedy="operator decision: resend_otp_and_wait or end",
        )
        self.status.waiting_for = "an operator's decision (OTP expired)"
        self._enter(Phase.OTP_EXPIRED, self.status.problem.summary)
        self._decisions.clear()
        await self._wait(lambda: bool(self._decisions) or self._resend_requested, None, "wait for an operator")
        decision = self._decisions.pop(0) if self._decisions else OperatorDecision(action="resend_otp_and_wait")
        if decision.action == "end":
            raise Ended(self.status.problem.summary)
        self.status.problem = None
        otp.deadline_at = workflow.now() + self.timings.otp_deadline
        self._enter(Phase.OTP_VERIFICATION, "operator: re-send the OTP and keep waiting")
        self.status.waiting_for = "the customer to reply YES to the OTP"
        await self._resend_otp()

    # ---- campaign ---------------------------------------------------------------------------

    async def _campaign(self, campaign: CampaignDetails, service: MessagingServiceSpec) -> None:
        self._enter(Phase.CAMPAIGN, "creating the campaign")
        sids, acct = self.status.sids, self.subaccount_sid
        if sids.messaging_service is None:
            if service.existing_sid:
                sids.messaging_service = service.existing_sid
            else:
                name = friendly_name(self.status.isv_customer_id, f"({service.friendly_name})")
                created = await self._call(
                    Call.CREATE_MESSAGING_SERVICE, CreateMessagingService(subaccount_sid=acct, friendly_name=name),
                    Created, "create messaging service",
                )
                sids.messaging_service = created.sid
        if service.phone_number_sid and sids.phone_number is None:
            await self._call(
                Call.ADD_PHONE_NUMBER,
                AddPhoneNumber(subaccount_sid=acct, messaging_service_sid=sids.messaging_service,
                               phone_number_sid=service.phone_number_sid),
                Created, "add the 10DLC number to the messaging service",
            )
            sids.phone_number = service.phone_number_sid
        if sids.campaign is None:
            await self._settle("messaging service")
            created_campaign = await self._call(
                Call.CREATE_CAMPAIGN,
                CreateCampaign(subaccount_sid=acct, messaging_service_sid=sids.messaging_service,
                               brand_sid=sids.brand, campaign=campaign.to_twilio_kwargs()),
                CampaignState, "create the sole proprietor campaign",
            )
            sids.campaign = created_campaign.sid
            self._apply_campaign(created_campaign)
            self._note(f"campaign created, {created_campaign.status}")

        async def poll() -> None:
            self._apply_campaign(await self._call(
                Call.FETCH_CAMPAIGN,
                CampaignRef(subaccount_sid=acct, messaging_service_sid=sids.messaging_service, campaign_sid=sids.campaign),
                CampaignState, "fetch campaign status",
            ))

        await self._follow(
            "campaign vetting (VERIFIED or FAILED)",
            lambda: self.status.statuses.campaign in ("VERIFIED", "FAILED", "SUSPENDED"),
            poll, "campaign status",
        )
        if self.status.statuses.campaign != "VERIFIED":
            errors = list(self._campaign_errors)
            self.status.problem = Problem(
                source="campaign", at=workflow.now(),
                summary=f"campaign {self.status.statuses.campaign}: "
                        + ("; ".join(e.message for e in errors) or "no reason given"),
                errors=errors, explanations=_explanations(errors),
                remedy="fix the campaign details and register a new campaign for this brand",
            )
            raise Ended(self.status.problem.summary)
        self._note("campaign VERIFIED")

    def _apply_campaign(self, campaign: CampaignState) -> None:
        self.status.statuses.campaign = campaign.status
        if campaign.errors:
            self._campaign_errors = list(campaign.errors)
        self._publish()

    # ---- the end ----------------------------------------------------------------------------

    async def _run_to_end(self, body: Callable[[], Any]) -> RegistrationStatus:
        """Run the flow; whatever happens, end with a status that says how it ended."""
        self._publish()
        self._count(metrics.REGISTRATIONS_STARTED)
        try:
            await body()
            self.status.problem = None
            self._finish(Phase.COMPLETED, "registration complete: brand verified, campaign verified")
        except Cancelled as c:
            self._finish(Phase.CANCELLED, f"cancelled: {c}")
        except Ended as e:
            if self.status.problem is None:
                self.status.problem = Problem(source="operator", summary=str(e), at=workflow.now())
            self._finish(Phase.FAILED, f"ended: {e}")
        # Let pending update handlers finish before the workflow completes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    def _count(self, name: str, **labels: str) -> None:
        workflow.metric_meter().create_counter(name).add(1, {"flow": self.status.flow, **labels})

    def _finish(self, phase: Phase, note: str) -> None:
        self._count(metrics.REGISTRATIONS_ENDED, outcome=phase.value, phase=self.status.phase.value)
        self.status.waiting_for = None
        self.status.finished_at = workflow.now()
        self._corrections.clear()
        self._enter(phase, note)


def _twilio_error(cause: BaseException | None) -> TwilioError | None:
    details = getattr(cause, "details", None)
    if details:
        try:
            return TwilioError.model_validate(details[0])
        except Exception:  # noqa: BLE001 - an unexpected shape only loses the explanation
            return None
    return None


def _explanations(errors: list[TwilioError]) -> list[str]:
    out = []
    for e in errors:
        hint = explain(e.code)
        if hint:
            out.append(f"{e.code}: {hint}")
    return out
