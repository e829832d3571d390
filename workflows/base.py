"""What every registration workflow shares: its state (carried into a new run when the history
grows long), the Twilio events it is signalled with, and the primitives every step is built from —
one Twilio call, one wait, one stop for a person. The operator's actions are in
`workflows.actions`.

Deterministic: no I/O, no `twilio`, no wall clock. Twilio is reached only through activities,
scheduled by name (`a2p.calls.Call`) with the options of `workflows.policies`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from a2p import metrics
    from a2p.calls import BundleRef, BundleState, Call, ErrorType, MayRepeat, TwilioError
    from a2p.progress import (
        BrandEvent, BundleEvent, CampaignEvent, RegistrationState, OperatorDecision, Phase, Problem,
        RegistrationStatus, Resume,
    )
    from a2p.requests import CampaignDetails, Correction
    from a2p.timings import Timings

# Our own workflow code is imported inside the sandbox, which guards it (clock, I/O, randomness).
from workflows import visibility
from workflows.actions import OperatorActions
from workflows.patches import (
    BUNDLE_CALLBACKS_CONFIRMED, CONTINUE_AS_NEW, CONTINUE_AS_NEW_IN_EVERY_LONG_WAIT, FAST_ANSWERS,
)
from workflows.remedies import DEFAULT_REMEDY, REMEDY_BY_CODE, explanations, twilio_error_of
from workflows.policies import CALL_OPTIONS, OTP_TASK_QUEUE_SUFFIX

T = TypeVar("T", bound=BaseModel)

MAX_SEEN_EVENTS = 64
CONFIRM_TIMEOUT = timedelta(minutes=10)  # a status callback's bundle read; then the next read tells


class Cancelled(Exception):
    """An operator cancelled the registration."""


class Ended(Exception):
    """An operator decided to end a registration that cannot go on by itself."""


class Refused(Exception):
    """Twilio refused a call (a 4xx) in a way the caller handles itself."""

    def __init__(self, error: TwilioError) -> None:
        super().__init__(error.message)
        self.error = error


class RegistrationBase(OperatorActions):
    """Not a workflow by itself: `NewRegistration` and `LegacyConversion` extend it."""

    # Set by the subclass's __init__ before anything else.
    state: RegistrationState
    timings: Timings
    subaccount_sid: str | None

    def _init_state(self, *, workflow_id: str, isv_customer_id: str, flow: str, details: dict[str, Any],
                    timings: Timings, subaccount_sid: str | None,
                    campaign: CampaignDetails | None = None, events_per_run: int = 5000,
                    carried: RegistrationState | None = None) -> None:
        # The registration's state: one model (a continued run starts from the one carried).
        self.state = carried.model_copy(deep=True) if carried is not None else RegistrationState(
            status=RegistrationStatus(
                workflow_id=workflow_id, isv_customer_id=isv_customer_id, flow=flow,  # type: ignore[arg-type]
                started_at=workflow.now(),
            ),
            details=details, campaign=campaign,
        )
        self.carried = carried
        self.timings = timings
        self.subaccount_sid = subaccount_sid
        self._events_per_run = events_per_run
        # The bookkeeping of this run: empty whenever it continues as new.
        # Operator actions: at most one pending (accepted, not yet taken by the workflow) or in
        # effect (taken, the workflow not waiting again yet). Counters order them.
        self._pending: Correction | OperatorDecision | None = None
        self._accepted = self._taken = self._answered = 0
        self._fast_answers = True  # decided in _run_to_end, by patch
        self._confirm_callbacks = False  # decided in _run_to_end, by patch
        self._callback_claims: dict[str, BundleEvent] = {}  # bundle kind -> the latest callback to confirm
        self._confirming: set[str] = set()       # kinds whose bundle is being read for a callback
        self._confirm_again: set[str] = set()    # ... and read again after that (a callback came meanwhile)
        self._bundle_reads: dict[str, int] = {}  # kind -> the flow's own submissions and reads so far
        self._resend_requested = False
        self._refusals: dict[int, ApplicationError] = {}
        self._cancel_reason: str | None = None
        self._nudged = False
        self._published: dict[str, str | None] = {}

    # ---- one state, carried from run to run ---------------------------------------------------

    def _carry(self, resume: Resume) -> RegistrationState:
        return self.state.model_copy(update={"resume": resume, "runs": self.state.runs + 1})

    def _next_run_input(self, carried: RegistrationState) -> BaseModel:
        """This run's input with the carried state: the next run resumes from it."""
        raise NotImplementedError

    def _continue_as_new_if_due(self, resume: Resume = "otp", patch: str = CONTINUE_AS_NEW) -> None:
        """At a quiescent point (no action pending or being applied) of a long wait that the next
        run can resume (``resume``): once the history is long (``events_per_run``, or Temporal
        suggests it), continue as a new run carrying everything. The registration keeps its
        workflow id and search attributes; its Query answers as before. Returns if not due, not
        quiet, not yet registered with TCR, or the registration started before ``patch``."""
        if self.state.registered_at is not None and self._continue_due() and workflow.patched(patch):
            info = workflow.info()
            self._note(f"continuing as run {self.state.runs + 1} after {info.get_current_history_length()} history events")
            workflow.continue_as_new(self._next_run_input(self._carry(resume)))

    def _continue_due(self) -> bool:
        info = workflow.info()
        due = info.is_continue_as_new_suggested() or info.get_current_history_length() >= self._events_per_run
        quiet = (self._pending is None and self._accepted == self._answered and workflow.all_handlers_finished()
                 and not self._confirming)
        return due and quiet

    # ---- Query and signals --------------------------------------------------------------------

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
        if self._confirm_callbacks:
            self._confirm_bundle_callback(kind, event)
            return
        if event.event_id is not None and (not self._first_sight(event.event_id) or (
                event.status == getattr(self.status.statuses, kind)
                and (event.status != "twilio-rejected" or event.failure_reason in (None, self.state.bundle_failure.get(kind))))):
            return  # a replayed delivery, or one that tells nothing new (events without an id: as before)
        setattr(self.status.statuses, kind, event.status)
        if event.status == "twilio-rejected" and event.failure_reason:
            self.state.bundle_failure[kind] = event.failure_reason
        self._note(f"{kind.replace('_', ' ')} is {event.status} (webhook)")
        self._nudged = True
        self._publish()

    def _confirm_bundle_callback(self, kind: str, event: BundleEvent) -> None:
        """A bundle status callback is a nudge, not the truth: it carries no time and its delivery
        token is not signed, so a stale one (an earlier submission's rejection, an in-review
        after the approval) may come at any time, replayed with a fresh token. One that tells
        something new has the bundle read from Twilio, and what Twilio says now is applied — only
        its detailed rejection reason, which a read does not give, is taken from the callback
        when Twilio agrees the bundle is rejected. One read per bundle at a time; callbacks that
        come during it are confirmed by one more read."""
        if event.event_id is not None and not self._first_sight(event.event_id):
            return  # a replayed delivery
        if event.status == getattr(self.status.statuses, kind) and (
                event.status != "twilio-rejected" or event.failure_reason in (None, self.state.bundle_failure.get(kind))):
            return  # it tells nothing new
        self._callback_claims[kind] = event
        if kind in self._confirming:
            self._confirm_again.add(kind)
            return
        self._confirming.add(kind)
        asyncio.create_task(self._read_bundle_for_callbacks(kind))

    async def _read_bundle_for_callbacks(self, kind: str) -> None:
        try:
            while True:
                self._confirm_again.discard(kind)
                claim = self._callback_claims[kind]
                sids = self.status.sids
                if claim.bundle_sid != (sids.customer_profile if kind == "customer_profile" else sids.trust_bundle):
                    return
                reads = self._bundle_reads.get(kind, 0)
                try:
                    state = await workflow.execute_activity(
                        str(Call.FETCH_BUNDLE), BundleRef(subaccount_sid=self.subaccount_sid, kind=kind,  # type: ignore[arg-type]
                                                          bundle_sid=claim.bundle_sid),
                        result_type=BundleState, start_to_close_timeout=self.timings.call_timeout,
                        schedule_to_close_timeout=CONFIRM_TIMEOUT, retry_policy=CALL_OPTIONS[Call.FETCH_BUNDLE].retry,
                        summary=f"fetch {kind.replace('_', ' ')} status (a status callback says {claim.status})",
                    )
                except ActivityError:
                    state = None  # Twilio unreachable for long: the flow's next read of the bundle tells
                # Applied unless the flow itself submitted or read the bundle meanwhile (it knows better).
                if state is not None and reads == self._bundle_reads.get(kind, 0):
                    self._apply_confirmed(kind, state, claim)
                if kind not in self._confirm_again:
                    return
        finally:
            self._confirming.discard(kind)

    def _apply_confirmed(self, kind: str, state: BundleState, claim: BundleEvent) -> None:
        before = (getattr(self.status.statuses, kind), self.state.bundle_failure.get(kind))
        setattr(self.status.statuses, kind, state.status)
        if state.status == "twilio-rejected":
            if claim.status == "twilio-rejected" and claim.failure_reason:
                self.state.bundle_failure[kind] = claim.failure_reason
            elif kind not in self.state.bundle_failure and state.errors:
                self.state.bundle_failure[kind] = "; ".join(e.message for e in state.errors)
        if (state.status, self.state.bundle_failure.get(kind)) == before:
            return  # the callback was stale: Twilio says what the registration knew
        self._note(f"{kind.replace('_', ' ')} is {state.status} (webhook)")
        self._nudged = True
        self._publish()

    async def _callbacks_confirmed(self) -> None:
        """Right before the brand is registered or updated: a status callback whose bundle is being
        read is news not yet known; wait for the read, so the brand call sees the newest status."""
        if self._confirming:
            await workflow.wait_condition(lambda: not self._confirming)

    def _bundle_read(self, kind: str) -> None:
        """The flow submitted or read the bundle ``kind``: a callback's read begun before is older."""
        self._bundle_reads[kind] = self._bundle_reads.get(kind, 0) + 1

    @workflow.signal(name="brand_event")
    def on_brand_event(self, event: BrandEvent) -> None:
        if event.brand_sid != self.status.sids.brand or not self._first_sight(event.event_id):
            return
        if self.state.brand_event_at and event.occurred_at < self.state.brand_event_at:
            return  # stale: a newer event was applied already
        self.state.brand_event_at = event.occurred_at
        st = self.status.statuses
        st.brand = event.status or st.brand
        st.identity = event.identity_status or st.identity
        if event.errors:
            self.state.brand_errors = list(event.errors)
        self._nudged = True
        self._publish()

    @workflow.signal(name="campaign_event")
    def on_campaign_event(self, event: CampaignEvent) -> None:
        if event.campaign_sid != self.status.sids.campaign or not self._first_sight(event.event_id):
            return
        if self.state.campaign_event_at and event.occurred_at < self.state.campaign_event_at:
            return
        self.state.campaign_event_at = event.occurred_at
        self.status.statuses.campaign = event.status or self.status.statuses.campaign
        if event.errors:
            self.state.campaign_errors = list(event.errors)
        self._nudged = True
        self._publish()

    def _first_sight(self, event_id: str) -> bool:
        if event_id in self.state.seen_events:
            return False
        self.state.seen_events = (self.state.seen_events + [event_id])[-MAX_SEEN_EVENTS:]
        return True

    # ---- visible state --------------------------------------------------------------------

    def _note(self, note: str) -> None:
        visibility.note(self.status, workflow.now(), note)

    def _enter(self, phase: Phase, note: str) -> None:
        self.status.phase = phase
        self._note(note)
        self._publish()

    def _publish(self) -> None:
        self._published = visibility.publish(self.status, self._published)

    # ---- Twilio calls -------------------------------------------------------------------

    async def _call(self, call: Call, arg: BaseModel, result_type: type[T] | Any, summary: str,
                    refusable: Callable[[TwilioError], bool] | None = None) -> T:
        """Run one Twilio call; a cancel cancels it (its retries included). A refusal (4xx) that
        ``refusable`` accepts raises `Refused` for the caller; any other parks the registration
        for a person, who may retry (after fixing the cause outside) or end it."""
        opts = CALL_OPTIONS[call]
        info = workflow.info()
        queue = info.task_queue + OTP_TASK_QUEUE_SUFFIX if opts.rate_limited_queue else None
        # A reset (or continued) run may repeat what an earlier run made: its creates look first.
        repeated = not (info.run_id == info.first_execution_run_id == info.original_execution_run_id)
        while True:
            self._check_cancelled()
            if repeated and isinstance(arg, MayRepeat):
                arg = arg.model_copy(update={"maybe_repeated": True, "since": self.status.started_at})
            handle = workflow.start_activity(
                str(call), arg, result_type=result_type, task_queue=queue,
                start_to_close_timeout=self.timings.call_timeout * opts.call_timeout_factor,
                schedule_to_close_timeout=opts.schedule_to_close, heartbeat_timeout=opts.heartbeat_timeout,
                retry_policy=opts.retry, summary=summary,
                # Ends CANCELLED at once; the worker learns of the cancel from its next heartbeat.
                cancellation_type=workflow.ActivityCancellationType.TRY_CANCEL,
            )
            await workflow.wait_condition(self._done_or_cancelled(handle))
            if not handle.done():
                handle.cancel()
                try:
                    await handle
                except (ActivityError, asyncio.CancelledError):
                    pass
                raise Cancelled(self._cancel_reason)
            try:
                return await handle
            except ActivityError as err:
                cause = err.cause
                rejected = isinstance(cause, ApplicationError) and cause.type == ErrorType.REJECTED
                twilio_error = twilio_error_of(cause)
                if rejected and twilio_error and refusable and refusable(twilio_error):
                    raise Refused(twilio_error) from None
                problem = Problem(
                    source=str(call),
                    summary=f"{summary}: " + (twilio_error.message if twilio_error else str(cause or err)),
                    errors=[twilio_error] if twilio_error else [],
                    explanations=explanations([twilio_error] if twilio_error else []),
                    remedy=REMEDY_BY_CODE.get(twilio_error.code if twilio_error else None, DEFAULT_REMEDY),
                )
                if not rejected:
                    problem.summary = f"{summary}: Twilio unavailable for too long ({cause})"
                    problem.remedy = "check Twilio's status page, then `decide retry`; or `decide end`"
                self.status.last_error = problem
                await self._attention(problem)  # returns on "retry"
                repeated = True  # the failed call may have reached Twilio before it timed out

    def _done_or_cancelled(self, handle: asyncio.Future[Any]) -> Callable[[], bool]:
        return lambda: handle.done() or self._cancel_reason is not None

    # ---- waiting ----------------------------------------------------------------------

    def _check_cancelled(self) -> None:
        if self._cancel_reason is not None:
            raise Cancelled(self._cancel_reason)

    async def _wait(self, condition: Callable[[], bool], timeout: timedelta | None, summary: str) -> bool:
        """Wait for ``condition`` (or a cancel) at most ``timeout``; True if the condition holds.
        Waiting again answers the action taken before it."""
        if self._fast_answers:
            self._answered = self._taken
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
        self.status.waiting_for, summary = visibility.settle(what, self.timings.settle_wait)
        await self._wait(lambda: False, self.timings.settle_wait, summary)
        self.status.waiting_for = None

    async def _follow(self, waiting_for: str, done: Callable[[], bool], poll: Callable[[], Any],
                      poll_summary: str, resume: Resume | None = None) -> None:
        """Wait until ``done()``: webhook signals first, status polls as the fallback, with
        delays growing from poll_initial to poll_max (never a tight loop). A wait the next run can
        resume (``resume``) continues as new when the history is long."""
        delays = self.timings.poll_delays()
        self.status.waiting_for = waiting_for
        while not done():
            if resume is not None:
                self._continue_as_new_if_due(resume, CONTINUE_AS_NEW_IN_EVERY_LONG_WAIT)
            self._nudged = False
            delay = next(delays)
            if await self._wait(lambda: done() or self._nudged, delay, f"next {poll_summary} poll"):
                continue  # done, or a webhook told us something (not necessarily the end): check again
            if not self._nudged:
                await poll()
        self.status.waiting_for = None

    async def _wait_for_person(self, condition: Callable[[], bool], summary: str, resume: Resume | None) -> None:
        """Wait without a timeout until ``condition()`` (a person acted). Parked where the next run
        resumes (``resume``: it parks again on the same problem), the registration continues as
        new when the history is long (webhooks and refused actions keep arriving)."""
        if resume is not None and self.state.registered_at is not None:
            await self._wait(lambda: condition() or self._continue_due(), None, summary)
            if condition():
                return
            self._continue_as_new_if_due(resume, CONTINUE_AS_NEW_IN_EVERY_LONG_WAIT)
            # Still here: started before continuing here, it waits as it did.
        await self._wait(condition, None, summary)

    async def _attention(self, problem: Problem, resume: Resume | None = None) -> Correction | None:
        """Park in NEEDS_ATTENTION until a person acts: a correction is returned, 'retry' returns
        None, 'end' raises Ended. ``resume``: the step a next run would park again from (then the
        wait may continue as new)."""
        problem.at = workflow.now()
        previous = self.status.phase
        self.status.problem = problem
        self.status.waiting_for = visibility.what_to_send(problem)
        self._enter(Phase.NEEDS_ATTENTION, problem.summary)
        self._answer_requested_resend(problem)
        await self._wait_for_person(lambda: self._pending is not None, "wait for a person", resume)
        action = self._take()
        self.status.problem = None
        self.status.waiting_for = None
        if isinstance(action, OperatorDecision):
            if action.action == "end":
                raise Ended(action.reason or problem.summary)
            self._enter(previous, "operator asked to retry")
            return None
        assert isinstance(action, Correction)
        self._enter(previous, "correction received: " + ", ".join(action.fields()))
        return action

    # ---- the end ----------------------------------------------------------------------------

    async def _run_to_end(self, body: Callable[[], Any]) -> RegistrationStatus:
        """Run the flow; whatever happens, end with a status that says how it ended."""
        self._fast_answers = workflow.patched(FAST_ANSWERS)
        self._confirm_callbacks = workflow.patched(BUNDLE_CALLBACKS_CONFIRMED)
        self._publish()
        if self.carried is None:
            self._count(metrics.REGISTRATIONS_STARTED)
        try:
            await body()
            self.status.problem = None
            self._finish(Phase.COMPLETED, "registration complete: brand verified, campaign verified")
        except Cancelled as c:
            self._finish(Phase.CANCELLED, f"cancelled: {c}")
        except Ended as e:
            if self.status.problem is None:
                self.status.problem = Problem(source="operator", summary=str(e), at=workflow.now(), accepts=[])
            self._finish(Phase.FAILED, f"ended: {e}")
        # Let pending update handlers answer before the workflow completes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    def _count(self, name: str, **labels: str) -> None:
        workflow.metric_meter().create_counter(name).add(1, {"flow": self.status.flow, **labels})

    def _finish(self, phase: Phase, note: str) -> None:
        self._count(metrics.REGISTRATIONS_ENDED, outcome=phase.value, phase=self.status.phase.value)
        self.status.waiting_for = None
        self.status.finished_at = workflow.now()
        self._pending = None
        self._taken = self._answered = self._accepted
        self._enter(phase, note)
